#!/usr/bin/env bash
# The fuzzers (scripts/fuzz) for ten seconds each from their seed corpora,
# as part of the suite; scripts/fuzz SECONDS runs them for longer. Only
# under scripts/check (which installs clang and names the build): a make
# check elsewhere, such as a package build, skips them.
if [ -z "${EMULATOR_BUILD:-}" ]; then
	echo "no scripts/check build (EMULATOR_BUILD unset): skipped"
	exit 77
fi
# The fuzzers are built with their own sanitizers, whatever the pass: the
# ASan pass of scripts/check has them run once already.
if [ "${EMULATOR_FUZZ_DONE:-0}" = 1 ]; then
	echo "the fuzzers ran in this scripts/check's plain pass (the same builds): skipped"
	exit 77
fi
exec "$ABS_TOP_SRCDIR/scripts/fuzz" --check
