#!/usr/bin/env bash
# The settings beyond the service, on a second stack: its own responders
# behind its own lighttpd, sharing the suite's database and store, with
# [retrieve] transcoding = all and bulkdata_uri = true. e2e_transcode runs
# against it, and against the suite's stack (the service's behaviour) for
# the same requests.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD

tmp=$(mktemp -d "$VAR/extended.XXXXXX")
chmod 755 "$tmp"
cleanup() {
	side_stack_stop "$tmp"
	rm -rf "$tmp"
}
trap cleanup EXIT

# the suite's settings, then these (a key read again takes the later value)
{ cat "$VAR/conf/dicom.ini"; printf '\n[retrieve]\ntranscoding = all\nbulkdata_uri = true\n'; } > "$tmp/dicom.ini"
if side_stack_start "$tmp" "$VAR/store"; then
	ok "a second stack with transcoding = all answers"
else
	not_ok "the second stack did not answer"; finish; exit 1
fi

if EMULATOR_AZURE_URL="$EMULATOR_URL" EMULATOR_URL="$SIDE_URL" "$BUILD/tests/e2e/e2e_transcode" >"$tmp/e2e_transcode.log" 2>&1; then
	ok "e2e_transcode ($(grep -o '[0-9]* test(s)' "$tmp/e2e_transcode.log" | head -1))"
else
	not_ok "e2e_transcode"
	grep -E '^\[  (ERROR|FAILED)|LINE|differ|status|error' "$tmp/e2e_transcode.log" | head -20
fi
finish
