#!/usr/bin/env bash
# outbox-relay removes the upload temp files that requests left behind
# (a responder killed mid-upload) once they are [relay]
# temp_max_age_seconds old, and leaves younger ones alone; likewise stored
# files no row points at (a crash between rename and commit) once they are
# [relay] orphan_max_age_seconds old.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
tmp=$(mktemp -d)
svc_dir "$tmp"   # its relays run as the stack's do (they share the store)
pid=""
cleanup() {
	[ -n "$pid" ] && { kill -TERM "$pid"; wait "$pid"; } 2>/dev/null
	rm -f "$VAR/store/tmp/part-sweeptest-$$-"* "$young_orphan"
	rm -rf "$tmp"
}
trap cleanup EXIT

{
	awk '/^\[(database|store)\]/{on=1; print; next} /^\[/{on=0} on' "$VAR/conf/dicom.ini"
	printf '[relay]\ntemp_max_age_seconds = 5\norphan_max_age_seconds = 3600\n'
} > "$tmp/relay.ini"
# orphans: watermarks no row has, one two hours old and one fresh; and a
# stored instance's file made as old
orphan() { echo "$VAR/store/$(printf '%02x' $(($1 & 255)))/$1.dcm"; }
big=$(( $(q "SELECT coalesce(max(watermark), 0) FROM instance") + 1000000 + $$ ))
old_orphan=$(orphan "$big") young_orphan=$(orphan $((big + 1)))
echo orphan > "$old_orphan"
touch -d '-2 hours' "$old_orphan"
echo orphan > "$young_orphan"
st=2.25.$$$RANDOM
"$MKDCM" -o "$tmp/a.dcm" --study "$st" --series "$st.1" --sop "$st.1.1"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/a.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "an instance stored"
kept=$(orphan "$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.1'")")
touch -d '-2 hours' "$kept"
old="$VAR/store/tmp/part-sweeptest-$$-old" young="$VAR/store/tmp/part-sweeptest-$$-young"
echo left-behind > "$old"
touch -d '-1 hour' "$old"
echo in-progress > "$young"
"$BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay.log" 2>&1 &
pid=$!
gone=0
for _ in $(seq 1 40); do
	[ -e "$old" ] || { gone=1; break; }
	sleep 0.1
done
check "$gone" 1 "a temp file an hour old is removed"
[ -e "$young" ] && ok "a fresh one stays" || not_ok "a fresh temp file was removed"
for _ in $(seq 1 40); do
	[ -e "$old_orphan" ] || break
	sleep 0.1
done
[ -e "$old_orphan" ] && not_ok "a stored file without a row, two hours old, stays" || ok "a stored file without a row, two hours old, is removed"
[ -e "$young_orphan" ] && ok "  a fresh one stays" || not_ok "a fresh file without a row was removed"
[ -e "$kept" ] && ok "  an instance's file as old stays" || not_ok "an instance's file was removed"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/dicom; transfer-syntax=*' \
	"$EMULATOR_URL/v2/studies/$st/series/$st.1/instances/$st.1.1")" 200 "  and it is retrieved"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st"
finish
