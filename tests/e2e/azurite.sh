#!/usr/bin/env bash
# End-to-end: outbox-relay's azure_storage_queue provider against a real
# Azurite (npm azurite@3.35.0, the last to run on Node 20), read back with
# Microsoft's @azure/storage-queue client: base64 messages in the Event Grid
# schema, and plain XML-escaped text in CloudEvents.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"

npm_packages

tmp=$(mktemp -d)
svc_dir "$tmp"   # its relays run as the stack's do (they share the store)
pids=()
cleanup() {
	{ for p in "${pids[@]}"; do kill -KILL "$p"; wait "$p"; done; } 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

azurite_start queue "$tmp/azurite.log"
pids+=("$AZURITE_PID")
qport=$AZURITE_PORT
key=$AZURITE_KEY
export ADE_AZ_CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;QueueEndpoint=http://127.0.0.1:$qport/devstoreaccount1;"

p="az$$"
{
	awk '/^\[database\]/{on=1; print; next} /^\[/{on=0} on' "$EMULATOR_VAR/conf/dicom.ini"
	# no store: not even the packages' default (/var/lib/azure-dicom-emulator/store), which
	# a machine with the package has and whose files this relay must not touch
	printf '[store]\ndir = %s/no-store\n' "$tmp"
	cat <<INI
[relay]
poll_interval_ms = 200
retry_scale = 0.01

[subscription:$p-b64]
provider = azure_storage_queue
connection_string_env = ADE_AZ_CONN
queue_name = dicom-events

[subscription:$p-text]
provider = azure_storage_queue
connection_string_env = ADE_AZ_CONN
queue_name = dicom-events-text
message_encoding = none
schema = cloudevents
INI
} > "$tmp/relay.ini"
"$EMULATOR_BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q ready "$tmp/relay.log" && break; sleep 0.05; done

st="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/x.dcm" --study "$st" --series "$st.1" --sop "$st.1.1"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' -H 'Accept: application/dicom+json' \
	--data-binary @"$tmp/x.dcm" "$EMULATOR_URL/v2/studies")" 200 "stored an instance"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$EMULATOR_URL/v2/studies/$st")" 204 "deleted it"
for _ in $(seq 1 200); do
	[ "$(q "SELECT (SELECT count(*) FROM outbox WHERE NOT fanned_out) + (SELECT count(*) FROM delivery WHERE subscription LIKE '$p-%' AND status = 'pending')")" = 0 ] && break
	sleep 0.1
done
check "$(q "SELECT string_agg(DISTINCT status, ',') FROM delivery WHERE subscription LIKE '$p-%'")" delivered "both queues accepted the messages (201)"

consume() { NODE_PATH="$NPMDIR/node_modules" node "$ABS_TOP_SRCDIR/tests/e2e/queue-consumer.js" "$ADE_AZ_CONN" "$1" "$2"; }
consume dicom-events base64 > "$tmp/b64.jsonl" 2>"$tmp/consumer.err" || { not_ok "the consumer failed: $(cat "$tmp/consumer.err")"; }
expected=$(q "SELECT event_id || ' ' || event_type || ' ' || sequence FROM outbox WHERE payload->'data'->>'imageStudyInstanceUid' = '$st' ORDER BY sequence")
got=$(node -e 'const fs=require("fs");for (const l of fs.readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean)){const e=JSON.parse(l);console.log(e.id+" "+e.eventType+" "+e.data.sequenceNumber)}' "$tmp/b64.jsonl" | sort -k3 -n)
check "$got" "$expected" "base64 messages decode to the Event Grid events, ids and sequence numbers intact"
keys=$(node -e 'const fs=require("fs");const l=fs.readFileSync(process.argv[1],"utf8").split("\n")[0];console.log(Object.keys(JSON.parse(l)).join(","))' "$tmp/b64.jsonl")
check "$keys" "id,topic,subject,data,eventType,dataVersion,metadataVersion,eventTime" "with Azure's fields in Azure's order"

consume dicom-events-text none > "$tmp/text.jsonl" 2>"$tmp/consumer.err" || { not_ok "the consumer failed: $(cat "$tmp/consumer.err")"; }
got=$(node -e 'const fs=require("fs");for (const l of fs.readFileSync(process.argv[1],"utf8").split("\n").filter(Boolean)){const e=JSON.parse(l);console.log(e.specversion+" "+e.type+" "+e.data.sequenceNumber)}' "$tmp/text.jsonl" | sort -k3 -n)
want=$(q "SELECT '1.0 ' || event_type || ' ' || sequence FROM outbox WHERE payload->'data'->>'imageStudyInstanceUid' = '$st' ORDER BY sequence")
check "$got" "$want" "plain-text messages carry the CloudEvents form"

finish
