#!/usr/bin/env bash
# The stack's relay is supervised (scripts/up and scripts/check start it
# under multiwatch): killed with -9, it is running again within 2 s and
# delivers the events stored meanwhile. So are the responders (below).
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

# The responders too: killed, new ones start (multiwatch) and warm up
# before their first request (api/warm.c), which stores made-up instances
# in a transaction rolled back; the change feed's sequence goes on without
# a gap all the same.
seq_of() { q "SELECT max(sequence) FROM changefeed WHERE study_uid = '$1'"; }
study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/b.dcm" --study "$study"
"$MKDCM" -o "$tmp/c.dcm" --study "$study"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/b.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "an instance is stored before the responders are killed"
before=$(seq_of "$study")
warmed=$(grep -c ' warmed up in ' "$VAR/log/dicom-fcgi.log")
old=$(responder_pids | tr '\n' ' ')
# the responders, not their kept children (which share their command line)
n=0
for p in $old; do
	[ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')")" = dicom-fcgi ] || n=$((n + 1))
done
# shellcheck disable=SC2086
kill -KILL $old
for _ in $(seq 1 100); do
	[ "$(grep -c ' warmed up in ' "$VAR/log/dicom-fcgi.log")" -ge $((warmed + n)) ] && break
	sleep 0.1
done
check "$(grep -c ' warmed up in ' "$VAR/log/dicom-fcgi.log")" "$((warmed + n))" "each of the $n new responders warmed up"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/c.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "an instance is stored by the new responders"
check "$(seq_of "$study")" "$((before + 1))" "its change feed sequence follows the one before (no gap)"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"

# A kept child lost in a request is replaced, and warmed up, after that
# request's answer, not in the next request: the children of every
# responder are stopped, a STOW is sent (its responder waits for its
# parser), and they are killed; the responder that served it logs the
# renewal without another request.
children=""
for p in $(responder_pids); do
	[ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')")" = dicom-fcgi ] && children="$children $p"
done
renewed=$(grep -c ' kept children renewed and warmed up in ' "$VAR/log/dicom-fcgi.log")
study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/d.dcm" --study "$study"
# shellcheck disable=SC2086
kill -STOP $children
curl -s -o "$tmp/d.json" -w '%{http_code}' --max-time 60 -H 'Content-Type: application/dicom' \
	--data-binary @"$tmp/d.dcm" "$EMULATOR_URL/v2/studies" > "$tmp/d.code" &
client=$!
sleep 1
# shellcheck disable=SC2086
kill -KILL $children
wait "$client"
check "$(cat "$tmp/d.code")" 409 "the STOW in flight is answered as for a parser that crashed (409)"
grep -q 43264 "$tmp/d.json" && ok "with the failure reason 43264" ||
	not_ok "no failure reason 43264: $(cat "$tmp/d.json")"
for _ in $(seq 1 50); do
	[ "$(grep -c ' kept children renewed and warmed up in ' "$VAR/log/dicom-fcgi.log")" -gt "$renewed" ] && break
	sleep 0.1
done
check "$(grep -c ' kept children renewed and warmed up in ' "$VAR/log/dicom-fcgi.log")" "$((renewed + 1))" \
	"its responder renewed its kept children after the answer"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/d.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "the same instance is stored afterwards"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"
finish
