#!/usr/bin/env bash
# Every environment variable dicom-fcgi reads (the keys' table in
# src/common/config.c) is named by `dicom-fcgi --help`, by dicom-fcgi(8)
# and by README: a setting added without them fails here.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
envs=$(grep -o '"DICOM_[A-Z0-9_]*"' "$ABS_TOP_SRCDIR/src/common/config.c" | tr -d '"' | sort -u)
help=$("$EMULATOR_BUILD/dicom-fcgi" --help 2>&1)
check "$([ -n "$envs" ] && echo found)" found "the keys' table names environment variables"
for e in $envs; do
	missing=""
	grep -qw "$e" <<<"$help" || missing="$missing --help"
	grep -qw "$e" "$ABS_TOP_SRCDIR/man/dicom-fcgi.8" || missing="$missing dicom-fcgi(8)"
	grep -q "\`$e\`" "$ABS_TOP_SRCDIR/README.md" || missing="$missing README"
	check "${missing:-none}" none "$e is documented"
done
finish
