#!/usr/bin/env bash
# End-to-end crash test: kill -9 the responders in the middle of a
# multi-instance STOW. Afterwards: no index row without its file, no change
# feed row without its event (and the reverse), and the stack still serves.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"


tmp=$(mktemp -d)
study="2.25.$$$RANDOM$RANDOM"
# The rows of a request's instances are committed after its body is read,
# 16 at a time, within a fraction of a second: for the kill to land among
# those commits, each of this study's instance rows waits 20 ms (a trigger
# of this test's own, on this study only, dropped right after the kill).
slow_off() { q "SET client_min_messages = warning; DROP TRIGGER IF EXISTS crash_test_slow ON instance; DROP FUNCTION IF EXISTS crash_test_slow()" >/dev/null; }
trap 'slow_off; rm -rf "$tmp"' EXIT
q "CREATE FUNCTION crash_test_slow() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END \$\$;
   CREATE TRIGGER crash_test_slow AFTER INSERT ON instance FOR EACH ROW
   WHEN (NEW.study_uid = '$study') EXECUTE FUNCTION crash_test_slow()" >/dev/null
count=150
boundary=crash-test-boundary
for i in $(seq 1 $count); do
	echo "-o $tmp/$i.dcm --study $study --rows 512 --cols 1024"
done | "$MKDCM" --batch || exit 1
mapfile -t files < <(for i in $(seq 1 $count); do echo "$tmp/$i.dcm"; done)
multipart_body "$boundary" "${files[@]}" > "$tmp/body"
post() {
	curl -s -o "$tmp/resp" -D "$tmp/hdrs" -w '%{http_code}' --max-time 300 \
		-H "Content-Type: multipart/related; type=\"application/dicom\"; boundary=$boundary" \
		-H 'Accept: application/dicom+json' --data-binary @"$tmp/body" "$EMULATOR_URL/v2/studies"
}

post > "$tmp/code" &
client=$!
stored=0
for _ in $(seq 1 600); do
	stored=$(q "SELECT count(*) FROM instance WHERE study_uid = '$study'")
	[ "$stored" -ge 5 ] && break
	sleep 0.02
done
# stopped first, so that none of them takes lighttpd's error-handler request
# in the instant before its own kill; the restarted pool answers it
# shellcheck disable=SC2046
kill -STOP $(responder_pids) 2>/dev/null
# shellcheck disable=SC2046
kill -KILL $(responder_pids) 2>/dev/null
wait "$client"
slow_off
code=$(cat "$tmp/code")
# a statement in flight when its responder died may still commit (the
# backend finishes it; its file was durable first): count once that is over
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%dicom_store(%' AND state = 'active' AND pid <> pg_backend_pid()")" = 0 ] && break
	sleep 0.05
done
stored=$(q "SELECT count(*) FROM instance WHERE study_uid = '$study'")
if [ "$stored" -ge 5 ] && [ "$stored" -lt "$count" ]; then
	ok "the kill came mid-way: $stored of $count instances committed"
else
	not_ok "the kill did not land mid-way ($stored of $count committed)"
fi
# a responder that died is not the client's fault: lighttpd's error
# handler answers 503 in the service's plain-text form, retryable
check "$code $(grep -ci '^Retry-After:' "$tmp/hdrs")" "503 1" "the interrupted request is answered 503 with Retry-After"
check "$(cat "$tmp/resp")" "The server is temporarily unable to answer; the request can be tried again." \
	"  in the service's plain-text form, not lighttpd's HTML"

missing=0
for wm in $(q "SELECT watermark FROM instance"); do
	f="$EMULATOR_STORE_DIR/$(printf '%02x' $((wm & 255)))/$wm.dcm"
	[ -f "$f" ] || missing=$((missing + 1))
done
[ "$missing" = 0 ] && ok "every index row has its file" || not_ok "$missing index rows without a file"
# (scoped to this test's study: the debug view may have cleared delivered events of others)
n=$(q "SELECT count(*) FROM changefeed c WHERE c.study_uid = '$study' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.sequence = c.sequence)")
[ "$n" = 0 ] && ok "every change feed row has its event" || not_ok "$n change feed rows without an event"
n=$(q "SELECT count(*) FROM outbox o WHERE o.payload->'data'->>'imageStudyInstanceUid' = '$study' AND NOT EXISTS (SELECT 1 FROM changefeed c WHERE c.sequence = o.sequence)")
[ "$n" = 0 ] && ok "every event has its change feed row" || not_ok "$n events without a change feed row"
# an updated instance's version has an Update row (action 2) instead
n=$(q "SELECT count(*) FROM instance i WHERE NOT EXISTS (SELECT 1 FROM changefeed c WHERE c.sop_uid = i.sop_uid AND c.original_watermark = i.watermark AND c.action IN (0, 2))")
[ "$n" = 0 ] && ok "every instance has its create row" || not_ok "$n instances without a create row"

# files without rows (a crash between rename and commit) are what the sweep removes
check "$(sweep_orphans)" 0 "after dicom-fcgi --sweep every stored file has its row"

# the pool comes back (multiwatch restarts responders) and serves
healthy=0
for _ in $(seq 1 100); do
	if [ "$(curl -s -o /dev/null -w '%{http_code}' "$EMULATOR_URL/health")" = 200 ]; then healthy=1; break; fi
	sleep 0.1
done
[ "$healthy" = 1 ] && ok "the stack answers after the kill" || not_ok "the stack does not answer after the kill"

# sending the same study again stores the rest; what was committed is a duplicate
code=$(post)
stored_after=$(q "SELECT count(*) FROM instance WHERE study_uid = '$study'")
dups=$(grep -o '"00081197":{"vr":"US","Value":\[45070\]}' "$tmp/resp" | wc -l)
if [ "$code" = 202 ] && [ "$stored_after" = "$count" ] && [ "$dups" = "$stored" ]; then
	ok "the retry stored the other $((count - stored)) instances and refused $stored as duplicates"
else
	not_ok "retry: HTTP $code, $stored_after stored, $dups duplicates (expected 202, $count, $stored)"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*' \
	"$EMULATOR_URL/v2/studies/$study")
[ "$code" = 200 ] && ok "the study is retrievable" || not_ok "study retrieve answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$EMULATOR_URL/v2/studies/$study")
[ "$code" = 204 ] && ok "the study deletes" || not_ok "delete answered $code"

finish
