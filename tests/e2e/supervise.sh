#!/usr/bin/env bash
# The stack's relay is supervised (scripts/up and scripts/check start it
# under multiwatch): killed with -9, it is running again within 2 s and
# delivers the events stored meanwhile.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

old=$(relay_pids)
[ -n "$old" ] && ok "the stack's relay runs (pid $old)" || { not_ok "no relay runs"; finish; exit 1; }
kill -KILL $old
back=""
for _ in $(seq 1 20); do
	back=$(relay_pids)
	[ -n "$back" ] && [ "$back" != "$old" ] && break
	sleep 0.1
done
if [ -n "$back" ] && [ "$back" != "$old" ]; then ok "a new relay runs within 2 s (pid $back)"; else not_ok "the relay stayed dead"; fi

study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/a.dcm" --study "$study"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/a.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "an instance is stored after the kill"
# the stack's file subscription receives the event
delivered=0
for _ in $(seq 1 50); do
	grep -q "\"imageStudyInstanceUid\" *: *\"$study\"" "$VAR/log/events.jsonl" 2>/dev/null && { delivered=1; break; }
	sleep 0.1
done
check "$delivered" 1 "its event is delivered by the new relay"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"
finish
