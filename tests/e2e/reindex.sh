#!/usr/bin/env bash
# End-to-end: a reindex over 300 instances is killed mid-way (kill -9 of
# the relay carrying it out) and resumes in another relay from where it
# stopped: every instance indexed once, the operation succeeded.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
tmp=$(mktemp -d)
svc_dir "$tmp"   # its relays run as the stack's do (they share the store)
pids=()
cleanup() {
	{ for p in "${pids[@]}"; do kill -KILL "$p"; wait "$p"; done; } 2>/dev/null
	start_relay   # the stack's own relay, stopped for the test
	rm -rf "$tmp"
}
trap cleanup EXIT
stop_relay

study="2.25.$$$RANDOM"
n=300
boundary=reindex-test
for i in $(seq 1 $n); do
	echo "-o $tmp/x$i.dcm --study $study --series $study.1 --sop $study.1.$i --set 0018,1030=LO:protocol-$i"
done | "$MKDCM" --batch || exit 1
mapfile -t files < <(for i in $(seq 1 $n); do echo "$tmp/x$i.dcm"; done)
multipart_body "$boundary" "${files[@]}" > "$tmp/body"
check "$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: multipart/related; type=\"application/dicom\"; boundary=$boundary" \
	-H 'Accept: application/dicom+json' --data-binary @"$tmp/body" "$EMULATOR_URL/v2/studies")" 200 "$n instances stored"

{
	awk '/^\[database\]/{on=1; print; next} /^\[/{on=0} on' "$VAR/conf/dicom.ini"
	# no store: not even the packages' default (/var/lib/azure-dicom-emulator/store), which
	# a machine with the package has and whose files this relay must not touch
	printf '[store]\ndir = %s/no-store\n' "$tmp"
	printf '[relay]\nlease_seconds = 5\noperation_batch = 10\noperation_pause_ms = 30\n'
} > "$tmp/relay.ini"

out=$(curl -s -X POST -H 'Content-Type: application/json' -d '[{"Path":"ProtocolName","Level":"Instance"}]' "$EMULATOR_URL/v2/extendedquerytags")
op=$(echo "$out" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$op" ] && ok "the tag was added (operation $op)" || not_ok "adding the tag: $out"

"$BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay1.log" 2>&1 &
pids+=($!)
# other tests' instances come first in watermark order: wait for this study's
for _ in $(seq 1 1500); do
	[ "$(q "SELECT count(*) FROM extended_query_tag_value v JOIN instance i USING (watermark) WHERE i.study_uid = '$study'")" -ge 20 ] && break
	sleep 0.02
done
{ kill -KILL "${pids[0]}"; wait "${pids[0]}"; } 2>/dev/null
pids=()
done_before=$(q "SELECT count(*) FROM extended_query_tag_value v JOIN instance i USING (watermark) WHERE i.study_uid = '$study'")
status=$(q "SELECT status FROM operation WHERE id = '$op'::uuid")
if [ "$done_before" -gt 0 ] && [ "$done_before" -lt "$n" ] && [ "$status" = running ]; then
	ok "the kill came mid-way: $done_before of $n indexed, the operation still running"
else
	not_ok "the kill did not land mid-way ($done_before of $n, status $status)"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$EMULATOR_URL/v2/operations/$op")
check "$code" 202 "the operation answers 202 while unfinished"

"$BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay2.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
	[ "$(q "SELECT status FROM operation WHERE id = '$op'::uuid")" = succeeded ] && break
	sleep 0.1
done
check "$(q "SELECT status || '/' || percent_complete FROM operation WHERE id = '$op'::uuid")" "succeeded/100" "another relay took over after the lease and finished"
grep -q "reindex tags=1 from=[1-9]" "$tmp/relay2.log" && ok "the second relay resumed from the cursor" || not_ok "the second relay did not resume from the cursor"
check "$(q "SELECT count(*), count(DISTINCT v.watermark) FROM extended_query_tag_value v JOIN instance i USING (watermark) WHERE i.study_uid = '$study'" | tr '|' ' ')" "$n $n" "every instance indexed, none twice"
check "$(q "SELECT status FROM extended_query_tag WHERE path = '00181030'")" ready "the tag is ready"
body=$(curl -s -H 'Accept: application/dicom+json' "$EMULATOR_URL/v2/studies/$study/instances?ProtocolName=protocol-150")
echo "$body" | grep -q "$study.1.150\"" && ok "QIDO finds an instance by the new tag" || not_ok "QIDO by the new tag: $body"

curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/extendedquerytags/ProtocolName"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"
finish
