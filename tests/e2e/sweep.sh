#!/usr/bin/env bash
# outbox-relay removes the upload temp files that requests left behind
# (a responder killed mid-upload) once they are [relay]
# temp_max_age_seconds old, and leaves younger ones alone.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && { kill -TERM "$pid"; wait "$pid"; } 2>/dev/null
	rm -f "$VAR/store/tmp/part-sweeptest-$$-"*
	rm -rf "$tmp"
}
trap cleanup EXIT

{
	awk '/^\[(database|store)\]/{on=1; print; next} /^\[/{on=0} on' "$VAR/conf/dicom.ini"
	printf '[relay]\ntemp_max_age_seconds = 5\n'
} > "$tmp/relay.ini"
old="$VAR/store/tmp/part-sweeptest-$$-old" young="$VAR/store/tmp/part-sweeptest-$$-young"
echo left-behind > "$old"
touch -d '-1 hour' "$old"
echo in-progress > "$young"
"$BUILD/outbox-relay" -c "$tmp/relay.ini" >"$tmp/relay.log" 2>&1 &
pid=$!
gone=0
for _ in $(seq 1 40); do
	[ -e "$old" ] || { gone=1; break; }
	sleep 0.1
done
check "$gone" 1 "a temp file an hour old is removed"
[ -e "$young" ] && ok "a fresh one stays" || not_ok "a fresh temp file was removed"
finish
