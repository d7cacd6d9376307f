# Shared by the shell end-to-end tests. Sourced, not run: skips (exit 77)
# without a stack, fails without one when EMULATOR_REQUIRE_STACK=1, loads
# scripts/lib.sh, and gives the TAP-like helpers and a database query.
# shellcheck shell=bash
if [ -z "${EMULATOR_URL:-}" ] || [ -z "${EMULATOR_VAR:-}" ]; then
	[ "${EMULATOR_REQUIRE_STACK:-0}" = 1 ] && { echo "no stack configured"; exit 1; }
	echo "no stack (EMULATOR_URL unset): skipped"; exit 77
fi
. "$ABS_TOP_SRCDIR/scripts/lib.sh"
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); }
check() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', expected '$2')"; fi; }
q() { psql "$EMULATOR_DB_CONNINFO" -Atc "$1"; }
# the closing line, and the exit status
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
