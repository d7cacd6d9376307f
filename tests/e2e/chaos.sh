#!/usr/bin/env bash
# Chaos: for CHAOS_SECONDS (default 40; bench/chaos runs it longer) two
# clients store instances and delete some of them while responders and the
# relay are killed with -9 at random and PostgreSQL is restarted. Then:
# every acknowledged store that no acknowledged delete removed is retrieved
# byte for byte, every acknowledged delete is gone; no index row without
# its file and, after dicom-fcgi --sweep, no file without its row; change
# feed = outbox, and every event of the outbox delivered by the file
# provider (more than once only as at-least-once allows).
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
SECS=${CHAOS_SECONDS:-40}
tmp=$(mktemp -d)
cleanup() {
	kill "${clients[@]}" 2>/dev/null
	pg_start >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
prefix="2.25.$$$RANDOM"

# one client: stores its own instances (each its own study), deletes every
# third one it stored; each acknowledged answer goes to its log
client() { # N
	local n=$1 i=0 code
	while [ ! -e "$tmp/stop" ]; do
		i=$((i + 1))
		local st="$prefix.$n.$i" f="$tmp/$n.$i.dcm"
		"$MKDCM" -o "$f" --study "$st" --series "$st.1" --sop "$st.1.1" --rows 64 --cols 64 || continue
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/dicom' \
			--data-binary @"$f" "$EMULATOR_URL/v2/studies")
		[ "$code" = 200 ] && echo "$st" >> "$tmp/stored.$n"
		[ "$code" = 200 ] || { echo "$st" >> "$tmp/unsure.$n"; continue; }
		if [ $((i % 3)) = 0 ]; then
			code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X DELETE "$EMULATOR_URL/v2/studies/$st")
			[ "$code" = 204 ] && echo "$st" >> "$tmp/deleted.$n"
			[ "$code" = 204 ] || echo "$st" >> "$tmp/unsure.$n"
		fi
	done
}
clients=()
for n in 1 2; do
	client "$n" &
	clients+=($!)
done

# the chaos: a responder every 2 s, the relay every 5 s, PostgreSQL once
kills=0 relay_kills=0 restarts=0
end=$((SECONDS + SECS))
t=0
while [ "$SECONDS" -lt "$end" ]; do
	sleep 1
	t=$((t + 1))
	if [ $((t % 2)) = 0 ]; then
		mapfile -t rs < <(responder_pids)
		[ ${#rs[@]} -gt 0 ] && kill -KILL "${rs[RANDOM % ${#rs[@]}]}" 2>/dev/null && kills=$((kills + 1))
	fi
	if [ $((t % 5)) = 0 ]; then
		# shellcheck disable=SC2046
		kill -KILL $(relay_pids) 2>/dev/null && relay_kills=$((relay_kills + 1))
	fi
	if [ "$t" = $((SECS / 2)) ]; then
		pg_stop >/dev/null 2>&1
		sleep 1
		pg_start >/dev/null 2>&1 && restarts=$((restarts + 1))
	fi
done
touch "$tmp/stop"
wait "${clients[@]}"
clients=()
cat "$tmp"/stored.* > "$tmp/stored" 2>/dev/null
cat "$tmp"/deleted.* > "$tmp/deleted" 2>/dev/null
cat "$tmp"/unsure.* > "$tmp/unsure" 2>/dev/null
touch "$tmp/stored" "$tmp/deleted" "$tmp/unsure"
acked=$(wc -l < "$tmp/stored") deleted=$(wc -l < "$tmp/deleted")
[ "$kills" -ge 3 ] && [ "$relay_kills" -ge 1 ] && [ "$restarts" = 1 ] &&
	ok "chaos for $SECS s: $kills responders and $relay_kills relays killed, PostgreSQL restarted once" ||
	not_ok "the chaos did not happen ($kills responder kills, $relay_kills relay kills, $restarts restarts)"
[ "$acked" -ge 20 ] && ok "$acked stores and $deleted deletes acknowledged meanwhile" ||
	not_ok "only $acked stores acknowledged"

healthy=0
for _ in $(seq 1 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$EMULATOR_URL/health")" = 200 ] && { healthy=1; break; }
	sleep 0.1
done
check "$healthy" 1 "the stack answers after the chaos"

# every acknowledged store is there, byte for byte, unless acknowledged deleted
lost=0 back=0
while read -r st; do
	n=${st#"$prefix".}
	f="$tmp/${n%%.*}.${n#*.}.dcm"
	code=$(curl -s -o "$tmp/got" -w '%{http_code}' -H 'Accept: application/dicom; transfer-syntax=*' \
		"$EMULATOR_URL/v2/studies/$st/series/$st.1/instances/$st.1.1")
	if grep -qx "$st" "$tmp/deleted"; then
		[ "$code" = 404 ] || { back=$((back + 1)); echo "# deleted $st answers $code"; }
	elif grep -qx "$st" "$tmp/unsure"; then
		: # a delete without an answer may or may not have happened
	elif [ "$code" != 200 ] || ! cmp -s "$tmp/got" "$f"; then
		lost=$((lost + 1))
		echo "# lost $st: HTTP $code"
	fi
done < "$tmp/stored"
check "$lost" 0 "no acknowledged instance lost (every one retrieved byte for byte)"
check "$back" 0 "no acknowledged delete undone"

missing=0
for wm in $(q "SELECT watermark FROM instance WHERE study_uid LIKE '$prefix.%'"); do
	[ "$(stored_files "$wm")" = 1 ] || missing=$((missing + 1))
done
check "$missing" 0 "every index row has its file"
check "$(sweep_orphans)" 0 "after dicom-fcgi --sweep every stored file has its row"

mine="c.study_uid LIKE '$prefix.%'"
check "$(q "SELECT count(*) FROM changefeed c WHERE $mine AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.sequence = c.sequence)")" 0 \
	"every change feed row has its event"
check "$(q "SELECT count(*) FROM outbox o WHERE o.payload->'data'->>'imageStudyInstanceUid' LIKE '$prefix.%' AND NOT EXISTS (SELECT 1 FROM changefeed c WHERE c.sequence = o.sequence)")" 0 \
	"every event has its change feed row"
# the file provider's deliveries: every event of the outbox, waiting up to
# 75 s: a relay killed while it held claims keeps them until their lease
# ([relay] lease_seconds, 60) runs out, and only then does another deliver them
q "SELECT o.event_id FROM outbox o JOIN changefeed c ON c.sequence = o.sequence WHERE $mine" | sort -u > "$tmp/events"
undelivered=-1
for _ in $(seq 1 150); do
	grep -o "\"id\":\"[0-9a-f-]*\",\"topic\"[^}]*studies/$prefix\." "$EMULATOR_VAR/log/events.jsonl" 2>/dev/null |
		cut -d'"' -f4 | sort -u > "$tmp/delivered"
	undelivered=$(comm -23 "$tmp/events" "$tmp/delivered" | wc -l)
	[ "$undelivered" = 0 ] && break
	sleep 0.5
done
check "$undelivered" 0 "every one of the $(wc -l < "$tmp/events") events delivered by the file provider"
finish
