#!/usr/bin/env bash
# End-to-end: outbox-relay with real receivers. A Node.js webhook receiver
# answering 200, 500, 400, slow, and the validation handshake; the file
# provider's JSON Lines. Checks the exact envelopes and headers, sequence
# numbers against the change feed, filters, retries then success,
# non-retried codes, dead-lettering after the last attempt, two relays
# without double deliveries, kill -9 of a relay mid-batch, a PostgreSQL
# restart under a running relay, and [relay] gather_ms (events that come
# together go out in one round). A subscription's name holds a quote and a
# backslash (the relay's statements carry the names as SQL literals).
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"

tmp=$(mktemp -d)
svc_dir "$tmp"   # its relays run as the stack's do (they share the store)
relays=()
cleanup() {
	{
		for p in "${relays[@]}" ${hook_pid:-}; do kill -KILL "$p"; wait "$p"; done
	} 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

hport=$(free_port)
node "$ABS_TOP_SRCDIR/tests/e2e/hook-receiver.js" "$hport" "$tmp/hooks.log" &
hook_pid=$!
for _ in $(seq 1 100); do [ -f "$tmp/hooks.log.ready" ] && break; sleep 0.05; done
H="http://127.0.0.1:$hport"
hooks() { node "$ABS_TOP_SRCDIR/tests/e2e/hook-log.js" "$tmp/hooks.log" "$1"; }

p="t$$"   # subscription names unique to this run
st="2.25.$$$RANDOM" se="$st.1"
{
	awk '/^\[database\]/{on=1; print; next} /^\[/{on=0} on' "$EMULATOR_VAR/conf/dicom.ini"
	# no store: not even the packages' default (/var/lib/azure-dicom-emulator/store), which
	# a machine with the package has and whose files this relay must not touch
	printf '[store]\ndir = %s/no-store\n' "$tmp"
	cat <<INI
[relay]
poll_interval_ms = 200
retry_scale = 0.01
lease_seconds = 5

[subscription:$p-ok]
provider = webhook
url = $H/ok
header = Authorization: Bearer test-token
validation_handshake = true

[subscription:$p-ce]
provider = webhook
url = $H/ce
schema = cloudevents

[subscription:$p-flaky]
provider = webhook
url = $H/flaky
max_attempts = 5

[subscription:$p-bad]
provider = webhook
url = $H/bad

[subscription:$p-down]
provider = webhook
url = $H/down
max_attempts = 3

[subscription:$p-o'file\\x]
provider = file
path = $tmp/events.jsonl

[subscription:$p-deletes]
provider = file
path = $tmp/deletes.jsonl
event_types = Microsoft.HealthcareApis.DicomImageDeleted

[subscription:$p-study]
provider = file
path = $tmp/study.jsonl
subject_begins_with = LOCALHOST/V1/PARTITIONS/MICROSOFT.DEFAULT/STUDIES/$st/

[subscription:$p-one]
provider = file
path = $tmp/one.jsonl
subject_ends_with = /instances/$st.1.1
subject_case_sensitive = true
INI
} > "$tmp/relay.ini"

start_relay_test() { # config file, log file
	"$EMULATOR_BUILD/outbox-relay" -c "$1" $(svc_opt) >>"$2" 2>&1 &
	relays+=($!)
}
settled() { # every event fanned out, and no delivery of this run's subscriptions pending
	[ "$(q "SELECT (SELECT count(*) FROM outbox WHERE NOT fanned_out) + (SELECT count(*) FROM delivery WHERE subscription LIKE '$p-%' AND status = 'pending')")" = 0 ]
}
wait_settled() {
	for _ in $(seq 1 300); do settled && return 0; sleep 0.1; done
	return 1
}
store() { # study series sop
	"$MKDCM" -o "$tmp/x.dcm" --study "$1" --series "$2" --sop "$3" &&
	curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' -H 'Accept: application/dicom+json' \
		--data-binary @"$tmp/x.dcm" "$EMULATOR_URL/v2/studies"
}

# --- deliveries that no relay serves any more: a subscription unseen for
# an hour (gone from every configuration) with a pending delivery of an
# event two days old, past Event Grid's longest time to live, and one of
# an event just written. And events older than a week ([relay]
# event_max_age_hours, 168 by default), one delivered (removed) and one
# pending for a subscription another relay serves (kept), and one
# delivered two hours ago (kept). Written fanned out in one transaction,
# so that no running relay hands these events to its own subscriptions.
# One more as old and delivered is being replayed (/debug/events/replay's
# statement, its transaction still open) while the relay starts and
# prunes: it stays, with the replay's pending delivery.
gone="gone$$" here="here$$" s1=$((-$$ * 10 - 1)) s2=$((-$$ * 10 - 2))
s3=$((-$$ * 10 - 3)) s4=$((-$$ * 10 - 4)) s5=$((-$$ * 10 - 5)) s6=$((-$$ * 10 - 6))
all="$s1, $s2, $s3, $s4, $s5, $s6"
q "BEGIN;
INSERT INTO subscription (name, provider, seen_at) VALUES ('$gone', 'webhook', now() - interval '1 hour'),
                                                          ('$here', 'webhook', now());
SELECT dicom_event('Microsoft.HealthcareApis.DicomImageCreated', 'Microsoft.Default', '1.2.3', '1.2.3.4',
                   '1.2.3.4.' || g, g, clock_timestamp(), 'localhost', '/test') FROM unnest(ARRAY[$all]::bigint[]) g;
UPDATE outbox SET fanned_out = true WHERE sequence IN ($all);
UPDATE outbox SET created_at = now() - interval '2 days' WHERE sequence = $s1;
-- (their ids go first too, as an old event's do: the relay looks at the oldest ids)
UPDATE outbox SET created_at = now() - interval '200 hours', id = -id WHERE sequence IN ($s3, $s4, $s6);
UPDATE outbox SET created_at = now() - interval '2 hours' WHERE sequence = $s5;
INSERT INTO delivery (outbox_id, subscription) SELECT id, '$gone' FROM outbox WHERE sequence IN ($s1, $s2);
INSERT INTO delivery (outbox_id, subscription, status) SELECT id, '$gone', 'delivered' FROM outbox WHERE sequence IN ($s3, $s5, $s6);
INSERT INTO delivery (outbox_id, subscription) SELECT id, '$here' FROM outbox WHERE sequence = $s4;
COMMIT;" >/dev/null
kept() { q "SELECT count(*) FROM outbox WHERE sequence = $1"; }
gone_state() { q "SELECT d.status || ' ' || coalesce(d.dead_letter_reason, '-') FROM delivery d JOIN outbox o ON o.id = d.outbox_id
                  WHERE d.subscription = '$gone' AND o.sequence = $1"; }

psql "$EMULATOR_DB_CONNINFO" -Atq >"$tmp/replay.out" 2>&1 <<SQL &
BEGIN;
INSERT INTO delivery (outbox_id, subscription) SELECT o.id, '$here' FROM outbox o WHERE o.sequence = $s6 FOR KEY SHARE
ON CONFLICT (outbox_id, subscription) DO UPDATE SET status = 'pending';
SELECT pg_sleep(2);
COMMIT;
SQL
replay=$!
# the relay starts once the replay holds its lock (its INSERT done, its
# sleep begun): a fixed pause lost that race on a busy machine
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active'
	        AND query LIKE 'SELECT pg_sleep(2)%'")" = 1 ] && break
	sleep 0.05
done
start_relay_test "$tmp/relay.ini" "$tmp/relay1.log"
for _ in $(seq 1 100); do grep -q "ready" "$tmp/relay1.log" 2>/dev/null && break; sleep 0.05; done
grep -q "ready" "$tmp/relay1.log" && ok "the relay starts (its webhook passed the validation handshake)" ||
	{ not_ok "the relay did not start"; cat "$tmp/relay1.log"; }
check "$(hooks /ok | awk -F'\t' '$1 == "SubscriptionValidation"' | wc -l)" 1 "the handshake reached the receiver once"
for _ in $(seq 1 100); do [ "$(gone_state $s1)" = "pending -" ] || break; sleep 0.05; done
check "$(gone_state $s1)" "dropped TimeToLiveExceeded" \
	"a pending delivery no relay serves is dropped once its event is past 24 hours"
check "$(gone_state $s2)" "pending -" "  a recent one of that subscription waits (its relay may come back)"
for _ in $(seq 1 100); do [ "$(kept $s3)" = 1 ] || break; sleep 0.05; done
check "$(kept $s3)/$(q "SELECT count(*) FROM delivery d WHERE d.subscription = '$gone' AND d.status = 'delivered'")" "0/2" \
	"an event older than a week and delivered leaves the outbox with its delivery record (the two delivered records left are those of kept events)"
check "$(kept $s4)$(kept $s5)" "11" "  one as old with a delivery pending stays, and so does a delivered one of two hours"
wait "$replay"
check "$(kept $s6)/$(q "SELECT string_agg(d.status, ' ') FROM delivery d JOIN outbox o ON o.id = d.outbox_id
                       WHERE d.subscription = '$here' AND o.sequence = $s6")" "1/pending" \
	"  one as old being replayed as the relay prunes stays, with the replay's pending delivery"
listed() { # the sequence numbers /debug/events lists for subscription $1, highest first
	curl -s "$EMULATOR_URL/debug/events?subscription=$1&limit=100" |
		node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).events.map(e=>e.sequence).sort((a,b)=>b-a).join(" ")))'
}
check "$(listed "$gone")/$(listed "$here")" "$s1 $s2 $s5 $s6/$s4 $s6" "  what the debug view lists: the removed event no more, the kept ones still"
q "DELETE FROM subscription WHERE name IN ('$gone', '$here'); DELETE FROM outbox WHERE sequence IN ($all)" >/dev/null

check "$(store "$st" "$se" "$st.1.1")$(store "$st" "$se" "$st.1.2")" "200200" "two instances stored"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$EMULATOR_URL/v2/studies/$st/series/$se/instances/$st.1.2")" 204 "one deleted"
wait_settled && ok "every delivery settled" || not_ok "deliveries still pending"

# --- Event Grid schema over a webhook: headers and body as Azure sends them
n=$(hooks /ok | awk -F'\t' '$1 == "Notification"' | wc -l)
check "$n" 3 "the ok webhook got the 3 events, once each"
bad_lines=$(hooks /ok | awk -F'\t' '$1 == "Notification" && !($2 == "0" && $3 == toupper("'"$p"'-ok") && $4 == "1" && $5 == "1" &&
	$6 == "application/json; charset=utf-8" && $7 == "Bearer test-token" && $8 == "array1" &&
	$12 == "id,topic,subject,data,eventType,dataVersion,metadataVersion,eventTime")' | wc -l)
check "$bad_lines" 0 "Event Grid headers, custom header, a one-event array with Azure's keys in order"
# ids and sequence numbers are those the store and delete wrote
expected=$(q "SELECT event_id || ' ' || event_type || ' ' || sequence FROM outbox WHERE payload->'data'->>'imageStudyInstanceUid' = '$st' ORDER BY 1")
got=$(hooks /ok | awk -F'\t' '$1 == "Notification" { print $9 " " $10 " " $11 }' | sort)
check "$got" "$expected" "event ids, types and sequence numbers match the outbox"
cf=$(q "SELECT string_agg(sequence::text, ',' ORDER BY sequence) FROM changefeed WHERE study_uid = '$st'")
seqs=$(hooks /ok | awk -F'\t' '$1 == "Notification" { print $11 }' | sort -n | paste -sd,)
check "$seqs" "$cf" "data.sequenceNumber is the change feed sequence"

# --- CloudEvents 1.0
bad_lines=$(hooks /ce | awk -F'\t' '!($6 == "application/cloudevents+json; charset=utf-8" && $8 == "object" && $5 == "1.0" && $4 == "-" &&
	$12 == "source,subject,type,time,id,data,specversion")' | wc -l)
check "$(hooks /ce | wc -l)/$bad_lines" "3/0" "CloudEvents: one object each, its attributes, its content type"

# --- retries then success; non-retried codes; the last attempt
check "$(hooks /flaky | wc -l)" 9 "flaky endpoint: 3 attempts for each of 3 events"
check "$(hooks /flaky | awk -F'\t' '{ print $2 }' | sort | uniq -c | awk '{ print $1 "x" $2 }' | paste -sd' ')" "3x0 3x1 3x2" "aeg-delivery-count counts the earlier attempts"
check "$(q "SELECT string_agg(DISTINCT status || '/' || attempts, ',') FROM delivery WHERE subscription = '$p-flaky'")" "delivered/3" "flaky deliveries end delivered after 3 attempts"
check "$(hooks /bad | wc -l)" 3 "400 is not retried: one request per event"
check "$(q "SELECT string_agg(DISTINCT status || '/' || dead_letter_reason || '/' || last_status, ',') FROM delivery WHERE subscription = '$p-bad'")" "dead/BadRequest/400" "400 dead-letters at once"
check "$(hooks /down | wc -l)" 9 "a failing endpoint gets max_attempts (3) tries per event"
check "$(q "SELECT string_agg(DISTINCT status || '/' || dead_letter_reason, ',') FROM delivery WHERE subscription = '$p-down'")" "dead/MaxDeliveryAttemptsExceeded" "then the event is dead-lettered"

# --- the file provider and a filter
check "$(wc -l < "$tmp/events.jsonl")" 3 "the file provider wrote one line per event"
check "$(node -e 'const fs=require("fs");let ok=0;for (const l of fs.readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean)){const e=JSON.parse(l);if(e.id&&e.eventType&&e.data&&typeof e.data.sequenceNumber==="number")ok++;}console.log(ok)' "$tmp/events.jsonl")" 3 "each line is a whole event"
check "$(grep -c DicomImageDeleted "$tmp/deletes.jsonl")/$(wc -l < "$tmp/deletes.jsonl")" "1/1" "an event-type filter lets only deletes through"
check "$(grep -c "studies/$st/" "$tmp/study.jsonl")/$(wc -l < "$tmp/study.jsonl")" "3/3" "subject_begins_with (case-insensitive by default) keeps the study's events"
check "$(grep -c "instances/$st.1.1\"" "$tmp/one.jsonl")/$(wc -l < "$tmp/one.jsonl")" "1/1" "subject_ends_with keeps one instance's event"

# --- a bulk update's DicomImageUpdated reaches the webhook in Azure's shape
# (the stack's relay, which has the store, carries the update out)
out=$(curl -s -X POST -H 'Content-Type: application/json' \
	-d "{\"studyInstanceUids\":[\"$st\"],\"changeDataset\":{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"PID-UPDATED\"]}}}" \
	"$EMULATOR_URL/v2/studies/\$bulkUpdate")
op=$(echo "$out" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
# up to a minute: on a loaded machine the update can take longer than the
# 10 s this waited before, and the checks below then ran before its event
for _ in $(seq 1 600); do
	[ "$(q "SELECT status FROM operation WHERE id = '$op'::uuid")" = succeeded ] && break
	sleep 0.1
done
check "$(q "SELECT status FROM operation WHERE id = '$op'::uuid")" succeeded "the bulk update finished"
wait_settled || not_ok "after the update: deliveries still pending"
useq=$(q "SELECT sequence FROM changefeed WHERE study_uid = '$st' AND action = 2")
check "$(hooks /ok | awk -F'\t' '$1 == "Notification" && $10 == "Microsoft.HealthcareApis.DicomImageUpdated" { print $11 }')" "$useq" \
	"the update's DicomImageUpdated reached the webhook once, with its change feed sequence"
check "$(hooks /ok | awk -F'\t' '$10 == "Microsoft.HealthcareApis.DicomImageUpdated" && $12 != "id,topic,subject,data,eventType,dataVersion,metadataVersion,eventTime"' | wc -l)" \
	0 "  as an Event Grid event with Azure's keys in order"
check "$(grep -c DicomImageUpdated "$tmp/events.jsonl")" 1 "  and the file provider's line"

# --- two relays share the work without delivering one event twice
sed -e '/validation_handshake/d' "$tmp/relay.ini" > "$tmp/relay2.ini"
start_relay_test "$tmp/relay2.ini" "$tmp/relay2.log"
sleep 0.5
before=$(hooks /ok | awk -F'\t' '$1 == "Notification"' | wc -l)
st2="2.25.$$$RANDOM.2"
for i in $(seq 1 20); do store "$st2" "$st2.1" "$st2.1.$i" >/dev/null; done
wait_settled || not_ok "two relays: deliveries still pending"
after=$(hooks /ok | awk -F'\t' '$1 == "Notification"' | wc -l)
dups=$(hooks /ok | awk -F'\t' '$1 == "Notification" { print $9 }' | sort | uniq -d | wc -l)
check "$((after - before))/$dups" "20/0" "two relays: 20 events, each delivered once"
owners=$(grep -h "delivery subscription='$p-ok'" "$tmp/relay1.log" "$tmp/relay2.log" | grep -c "outcome=Success")
[ "$owners" -ge 20 ] && ok "both relays' logs account for the deliveries" || not_ok "deliveries in logs: $owners"

# --- kill -9 a relay in the middle of a batch: nothing is lost
for r in "${relays[@]}"; do kill -TERM "$r" 2>/dev/null; done
wait "${relays[@]}" 2>/dev/null
relays=()
sed -e '/validation_handshake/d' -e "s|url = $H/ok|url = $H/slow|" "$tmp/relay.ini" > "$tmp/relay3.ini"
start_relay_test "$tmp/relay3.ini" "$tmp/relay3.log"
sleep 0.3
st3="2.25.$$$RANDOM.3"
for i in $(seq 1 5); do store "$st3" "$st3.1" "$st3.1.$i" >/dev/null; done
for _ in $(seq 1 100); do [ "$(hooks /slow | wc -l)" -ge 1 ] && break; sleep 0.05; done
{ kill -KILL "${relays[0]}"; wait "${relays[0]}"; } 2>/dev/null
relays=()
# deliveries recorded before the kill (the receiver's count is no measure:
# a batch's requests are all sent before any is recorded, and /slow answers
# after 800 ms, so the last event, stored just before the kill, cannot be)
partial=$(q "SELECT count(*) FROM delivery d JOIN outbox o ON o.id = d.outbox_id WHERE d.subscription = '$p-ok'
             AND d.status = 'delivered' AND o.payload->'data'->>'imageStudyInstanceUid' = '$st3'")
start_relay_test "$tmp/relay3.ini" "$tmp/relay4.log"
wait_settled || not_ok "after the kill: deliveries still pending"
ids=$(q "SELECT event_id FROM outbox WHERE payload->'data'->>'imageStudyInstanceUid' = '$st3' ORDER BY 1")
got=$(hooks /slow | awk -F'\t' '{ print $9 }' | sort -u)
[ "$partial" -lt 5 ] && ok "the kill came mid-batch ($partial of 5 recorded as delivered)" ||
	not_ok "the kill came too late ($partial of 5 recorded)"
check "$got" "$ids" "after a restart every event arrived at least once"

# --- PostgreSQL restarts under a running relay
bin=$(pg_bindir)
pgdata="$(readlink -f "$EMULATOR_VAR/pg")/data"
# (with the options it was started with, which pg_ctl keeps, and its log:
# the suite's later tests use this server too)
pg_run "$bin/pg_ctl" -D "$pgdata" -l "$(readlink -f "$EMULATOR_VAR/pg")/postgresql.log" -m fast -w restart >/dev/null 2>&1 &&
	ok "PostgreSQL restarted" || not_ok "PostgreSQL did not restart"
sleep 0.5
st4="2.25.$$$RANDOM.4"
# every responder's first query after the restart reconnects and succeeds
codes=""
for i in 1 2 3 4 5 6; do codes="$codes$(curl -s -o /dev/null -w '%{http_code}' "$EMULATOR_URL/health/check")"; done
check "$codes" "200200200200200200" "the responders answer at once after the restart"
check "$(store "$st4" "$st4.1" "$st4.1.1")" 200 "the stack stores after the restart"
wait_settled || not_ok "after the database restart: events still waiting"

wait_settled
id=$(q "SELECT event_id FROM outbox WHERE payload->'data'->>'imageStudyInstanceUid' = '$st4'")
if [ -n "$id" ] && hooks /slow | grep -q "$id"; then ok "the relay reconnected and delivered the new event"; else not_ok "the event after the restart was not delivered"; tail -n 15 "$tmp/relay4.log"; fi

# --- [relay] gather_ms: the first event after a quiet spell goes at once;
# events that come less than gather_ms after the wake before go out
# together, in one claim and one record of outcomes (one delivered_at)
st5="2.25.$$$RANDOM.5"
{
	awk '/^\[database\]/{on=1; print; next} /^\[/{on=0} on' "$EMULATOR_VAR/conf/dicom.ini"
	printf '[store]\ndir = %s/no-store\n' "$tmp"
	cat <<INI
[relay]
gather_ms = 3000

[subscription:$p-gather]
provider = file
path = $tmp/gather.jsonl
subject_begins_with = LOCALHOST/V1/PARTITIONS/MICROSOFT.DEFAULT/STUDIES/$st5/
INI
} > "$tmp/relay5.ini"
start_relay_test "$tmp/relay5.ini" "$tmp/relay5.log"
for _ in $(seq 1 100); do grep -q "ready" "$tmp/relay5.log" 2>/dev/null && break; sleep 0.05; done
gathered() { if [ -f "$tmp/gather.jsonl" ]; then wc -l < "$tmp/gather.jsonl"; else echo 0; fi; }
t0=$(date +%s%N)
store "$st5" "$st5.1" "$st5.1.1" >/dev/null
for _ in $(seq 1 300); do [ "$(gathered)" -ge 1 ] && break; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(gathered)" = 1 ] && [ "$ms" -lt 2500 ] && ok "gather_ms: the first event after a quiet spell went at once (${ms} ms)" ||
	not_ok "gather_ms: the first event: $(gathered) lines after $ms ms"
for i in 2 3 4; do store "$st5" "$st5.1" "$st5.1.$i" >/dev/null; done
for _ in $(seq 1 300); do [ "$(gathered)" -ge 4 ] && break; sleep 0.1; done
check "$(gathered)" 4 "gather_ms: all four events delivered"
rounds() { # delivered_at values of the gather subscription's deliveries, but for the SOP instance $1
	q "SELECT count(DISTINCT d.delivered_at) FROM delivery d JOIN outbox o ON o.id = d.outbox_id
	   WHERE d.subscription = '$p-gather' AND o.payload->'data'->>'imageSopInstanceUid' <> '$1'"
}
check "$(rounds "$st5.1.1")/$(rounds none)" "1/2" \
	"gather_ms: the three events stored within the gather time went out in one round, the first in its own"

curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st2"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st3"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st4"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st5"
finish
