#!/usr/bin/env bash
# End-to-end: several hosts over one PostgreSQL and one store directory, on
# one machine. Two web front ends (lighttpd and responders each, on their
# own ports, as two hosts would run them) and two outbox-relays: instances
# stored through one are retrieved, searched, updated, reindexed, exported
# and deleted through the other while both relays run; every event is
# delivered once, every operation's work is done once; one host's store
# sweep leaves the other's upload alone; a responder refuses to start on a
# store whose [store] require_mount is not mounted, and keeps no lookups
# ([retrieve] lookup_cache) on one that is.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
npm_packages
tmp=$(mktemp -d)
svc_dir "$tmp"   # its relays run as the stack's do (they share the store)
trap 'test_cleanup TERM "$tmp/a" "$tmp/b"' EXIT
blob() { NODE_PATH="$NPMDIR/node_modules" node "$ABS_TOP_SRCDIR/tests/e2e/blob-tool.js" "$@"; }

# ---- two hosts, two relays ---------------------------------------------------
for h in a b; do
	mkdir -p "$tmp/$h"
	cp "$EMULATOR_VAR/conf/dicom.ini" "$tmp/$h/dicom.ini"
	side_stack_start "$tmp/$h" "$EMULATOR_STORE_DIR" || { not_ok "host $h"; finish; exit 1; }
	eval "URL_$h=\$SIDE_URL/v2"
done
ok "two front ends: $URL_a and $URL_b"
stop_relay
relay_stopped=1
sub="hosts-$$"
{
	awk '/^\[(database|store|events)\]/{on=1; print; next} /^\[/{on=0} on' "$EMULATOR_VAR/conf/dicom.ini"
	printf '[relay]\nlease_seconds = 30\npoll_interval_ms = 200\noperation_batch = 5\n'
	printf '[subscription:%s]\nprovider = file\npath = %s\n' "$sub" "$tmp/events.jsonl"
} > "$tmp/relay.ini"
for i in 1 2; do
	"$BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay$i.log" 2>&1 &
	pids+=($!)
done
for _ in $(seq 1 100); do grep -q ready "$tmp/relay2.log" && break; sleep 0.05; done
ok "two relays run"

st="2.25.$$$RANDOM" n=20 boundary=hosts
for i in $(seq 1 $n); do
	echo "-o $tmp/x$i.dcm --study $st --series $st.1 --sop $st.1.$i --set 0018,1030=LO:protocol-$i"
done | "$MKDCM" --batch || exit 1
mapfile -t files < <(for i in $(seq 1 $n); do echo "$tmp/x$i.dcm"; done)
multipart_body "$boundary" "${files[@]}" > "$tmp/body"
check "$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: multipart/related; type=\"application/dicom\"; boundary=$boundary" \
	--data-binary @"$tmp/body" "$URL_a/studies")" 200 "$n instances stored through host a"
curl -s -o "$tmp/got.dcm" -H 'Accept: application/dicom; transfer-syntax=*' "$URL_b/studies/$st/series/$st.1/instances/$st.1.7"
cmp -s "$tmp/got.dcm" "$tmp/x7.dcm" && ok "host b retrieves one byte for byte" || not_ok "host b's copy differs"
check "$(curl -s "$URL_b/studies/$st/instances" | jget 'len(d)')" "$n" "host b finds all $n"

# reindex through b, bulk update through a, export through b: both relays running
curl -s -o /dev/null -X DELETE "$URL_b/extendedquerytags/ProtocolName"
op_r=$(curl -s -X POST -H 'Content-Type: application/json' -d '[{"Path":"ProtocolName","Level":"Instance"}]' \
	"$URL_b/extendedquerytags" | jget 'd["id"]')
op_u=$(curl -s -X POST -H 'Content-Type: application/json' \
	-d "{\"studyInstanceUids\":[\"$st\"],\"changeDataset\":{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Two^Hosts\"}]}}}" \
	"$URL_a/studies/\$bulkUpdate" | jget 'd["id"]')
azurite_start blob "$tmp/azurite.log" && pids+=("$AZURITE_PID")
CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;"
blob create "$CONN" hosts
op_e=$(curl -s -X POST -H 'Content-Type: application/json' \
	-d "{\"source\":{\"type\":\"identifiers\",\"settings\":{\"values\":[\"$st\"]}},\"destination\":{\"type\":\"azureblob\",\"settings\":{\"blobContainerName\":\"hosts\",\"connectionString\":\"$CONN\"}}}" \
	"$URL_b/export" | jget 'd["id"]')
check "$(op_wait "$URL_a" "$op_r" | jget 'd["status"]')" succeeded "the reindex (asked of b) succeeded"
check "$(q "SELECT count(*) FROM extended_query_tag_value v JOIN extended_query_tag t USING (tag_key) JOIN instance i USING (watermark) WHERE t.path = '00181030' AND i.study_uid = '$st'")" \
	"$n" "  every instance indexed once"
check "$(op_wait "$URL_b" "$op_u" | jget 'd["status"], d["results"]["instanceUpdated"]')" "('succeeded', $n)" \
	"the bulk update (asked of a) succeeded, $n instances"
check "$(q "SELECT count(*) FROM changefeed WHERE study_uid = '$st' AND action = 2")" "$n" "  each updated once"
check "$(curl -s "$URL_b/instances?StudyInstanceUID=$st&ProtocolName=protocol-3" | jget 'd[0]["00100010"]["Value"][0]["Alphabetic"]' 2>/dev/null)" \
	"Two^Hosts" "host b finds the updated study by the reindexed tag"
check "$(op_wait "$URL_a" "$op_e" | jget 'd["status"], d["results"]["exported"]')" "('succeeded', $n)" \
	"the export (asked of b) succeeded, $n instances"
check "$(blob list "$CONN" hosts "$op_e/results/" | wc -l)" "$n" "  $n blobs, each once"
mine=$(grep -c "operation id=" "$tmp/relay1.log")/$(grep -c "operation id=" "$tmp/relay2.log")
ok "operations by relay 1 / relay 2 (log lines): $mine"

# ---- one host's sweep during the other's upload --------------------------------
"$MKDCM" -o "$tmp/big.dcm" --study "$st" --series "$st.2" --sop "$st.2.1" --rows 700 --cols 700
curl -s -o "$tmp/slow.out" -w '%{http_code}' --limit-rate 300k -H 'Content-Type: application/dicom' \
	--data-binary @"$tmp/big.dcm" "$URL_a/studies" > "$tmp/slow.code" &
slow=$!
sleep 0.5
"$BUILD/dicom-fcgi" -c "$tmp/b/dicom.ini" --sweep > "$tmp/sweep.out" 2>&1
wait "$slow"
check "$(cat "$tmp/slow.code")" 200 "host a's slow upload succeeds while host b sweeps ($(cat "$tmp/sweep.out"))"
curl -s -o "$tmp/big.got" -H 'Accept: application/dicom; transfer-syntax=*' "$URL_b/studies/$st/series/$st.2/instances/$st.2.1"
cmp -s "$tmp/big.got" "$tmp/big.dcm" && ok "  and host b serves it whole" || not_ok "  the upload's file was damaged"

# ---- delete through a; every event delivered once -------------------------------
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL_a/studies/$st")" 204 "the study deleted through host a"
want=$(q "SELECT count(*) FROM outbox WHERE payload->'data'->>'imageStudyInstanceUid' = '$st'")
# up to 30 s (a loaded machine has been seen to need more than 10)
for _ in $(seq 1 300); do
	[ "$(grep -c "studies/$st/" "$tmp/events.jsonl" 2>/dev/null)" -ge "$want" ] && break
	sleep 0.1
done
check "$want" "$((3 * n + 2))" "the outbox holds $n created, $n updated, $n + 1 deleted and 1 more created events"
ids() { "$PY" -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]'; }
check "$(grep "studies/$st/" "$tmp/events.jsonl" | ids | sort | uniq -d | wc -l)/$(grep -c "studies/$st/" "$tmp/events.jsonl")" \
	"0/$want" "the two relays delivered each event once"
curl -s -o /dev/null -X DELETE "$URL_b/extendedquerytags/ProtocolName"

# ---- a store that must be mounted ------------------------------------------------
mkdir -p "$tmp/notmounted"
DICOM_STORE_REQUIRE_MOUNT="$tmp/notmounted" DICOM_LISTEN="127.0.0.1:$(free_port)" timeout 5 \
	"$BUILD/dicom-fcgi" -c "$tmp/a/dicom.ini" > "$tmp/mount.log" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "is not mounted" "$tmp/mount.log" && ok "a responder refuses an unmounted store: $(grep -o "'[^']*' is not mounted[^)]*)" "$tmp/mount.log")" ||
	not_ok "require_mount: rc $rc, $(tail -2 "$tmp/mount.log")"
DICOM_STORE_REQUIRE_MOUNT=/ DICOM_LISTEN="127.0.0.1:$(free_port)" timeout 3 "$BUILD/dicom-fcgi" -c "$tmp/a/dicom.ini" \
	> "$tmp/mount2.log" 2>&1
check "$?" 124 "  and starts (serving until stopped) when it is mounted"
grep -q "lookup_cache: off" "$tmp/mount2.log" && ok "  keeping no lookups there (other hosts' changes are not counted here)" ||
	not_ok "  lookups kept on a store that require_mount says is shared: $(tail -2 "$tmp/mount2.log")"
grep -q "lookup_cache: off" "$tmp/a/log/dicom-fcgi.log" && not_ok "host a (its own machine's store) keeps no lookups" ||
	ok "  while host a, on this machine's store, keeps them"
finish
