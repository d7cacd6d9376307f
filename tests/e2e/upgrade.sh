#!/usr/bin/env bash
# Upgrade: a database made by release 0.1.0's schema (tests/fixtures/
# schema-0.1.0.sql), holding an instance written by that release's own
# store function, is migrated by this build's responders and then served:
# the instance is retrieved byte for byte, found by QIDO, given its head by
# outbox-relay, its change feed entry is intact, and stores and deletes go
# on from there.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR

db="dicom_upgrade_$$"
up="${EMULATOR_DB_CONNINFO/dbname=dicom/dbname=$db}"
uq() { psql "$up" -Atc "$1"; }
tmp=$(mktemp -d "$VAR/upgrade.XXXXXX")
chmod 755 "$tmp"
study="2.25.$$$RANDOM$RANDOM"
cleanup() {
	side_stack_stop "$tmp"
	q "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
	curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"
	rm -rf "$tmp"
}
trap cleanup EXIT

q "CREATE DATABASE $db" >/dev/null
psql "$up" -q -v ON_ERROR_STOP=1 -f "$ABS_TOP_SRCDIR/tests/fixtures/schema-0.1.0.sql" >/dev/null 2>"$tmp/restore.err" ||
	{ not_ok "the 0.1.0 schema loads"; cat "$tmp/restore.err"; finish; exit 1; }
check "$(uq 'SELECT max(version) FROM schema_version')" 6 "the fixture is the 0.1.0 schema (step 6)"

# The instance's rows as 0.1.0 wrote them: its own functions, fed with what
# the suite's stack made of a real file (metadata, attributes, the file).
"$MKDCM" -o "$tmp/a.dcm" --study "$study" --series "$study.1" --sop "$study.1.1" \
	--set "0010,0010=PN:Upgrade^Patient" --set "0010,0020=LO:UPG-$$" --set "0008,0060=CS:MR" \
	--set "0008,002A=DT:20230105101500+0100" --set "0008,0032=TM:101530"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/a.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "the instance is stored on the suite's stack"
IFS='|' read -r wm ts size < <(q "SELECT watermark, transfer_syntax, file_size FROM instance WHERE study_uid = '$study'")
q "SELECT metadata FROM instance WHERE watermark = $wm" > "$tmp/meta.json"
q "SELECT metadata FROM instance_bulk WHERE watermark = $wm" > "$tmp/bulk.json"
mkdir -p "$tmp/store/tmp" "$tmp/store/$(printf '%02x' $((wm & 255)))"
stored="$(printf '%s/%02x/%s.dcm' "$tmp/store" $((wm & 255)) "$wm")"
cp "$EMULATOR_STORE_DIR/$(printf '%02x' $((wm & 255)))/$wm.dcm" "$stored"
psql "$up" -q -v ON_ERROR_STOP=1 >"$tmp/old.out" 2>&1 <<SQL
\\set meta \`cat $tmp/meta.json\`
\\set bulk \`cat $tmp/bulk.json\`
SELECT setval('watermark_seq', $wm);
SELECT dicom_store_bulk(dicom_store_instance('Microsoft.Default', '$study', '$study.1', '$study.1.1',
    '1.2.840.10008.5.1.4.1.1.4', '$ts', $wm, $size, :'meta', 'UPG-$$', 'Upgrade^Patient', NULL, NULL, NULL,
    NULL, NULL, 'MR', NULL, NULL, 'localhost', 'topic'), $wm, :'bulk');
-- extended query tags of VR DT and TM, their values kept as 0.1.0 kept them: the text
WITH t AS (INSERT INTO extended_query_tag (path, vr, level, status)
           VALUES ('0008002A', 'DT', 'instance', 'ready'), ('00080032', 'TM', 'instance', 'ready')
           RETURNING tag_key, vr)
INSERT INTO extended_query_tag_value (tag_key, watermark, partition_key, study_uid, series_key, text_value)
SELECT t.tag_key, i.watermark, i.partition_key, i.study_uid, i.series_key,
       CASE t.vr WHEN 'DT' THEN '20230105101500+0100' ELSE '101530' END
  FROM t, instance i WHERE i.watermark = $wm;
SQL
check "$?" 0 "0.1.0's dicom_store_instance stores it in the old database"

# this build's responders migrate the old database as they start
{ cat "$VAR/conf/dicom.ini"; printf '\n[database]\ndbname = %s\n[store]\ndir = %s\n' "$db" "$tmp/store"; } > "$tmp/dicom.ini"
if side_stack_start "$tmp" "$tmp/store"; then
	ok "this build serves the old database"
else
	not_ok "this build does not start on the old database"; tail -20 "$tmp/log/dicom-fcgi.log"; finish; exit 1
fi
S=$SIDE_URL/v2
check "$(uq 'SELECT max(version) FROM schema_version')" "$(ls "$ABS_TOP_SRCDIR"/sql/[0-9]*.sql | wc -l)" "migrated to the last step"
check "$(uq "SELECT attrs -> '00100020' -> 'Value' ->> 0 FROM study WHERE study_uid = '$study'")" "UPG-$$" \
	"the study keeps its attributes' latest values (008)"
check "$(uq "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE proname LIKE 'dicom_store%'")" \
	dicom_store "the old store functions are gone, dicom_store is there"

curl -s -o "$tmp/got.dcm" -H 'Accept: application/dicom; transfer-syntax=*' "$S/studies/$study/series/$study.1/instances/$study.1.1"
cmp -s "$tmp/got.dcm" "$stored" && ok "the old instance is retrieved byte for byte" || not_ok "the old instance differs"
check "$(curl -s "$S/studies/$study/metadata")" "[$(cat "$tmp/meta.json")]" "its metadata is as stored"
check "$(curl -s "$S/studies?PatientID=UPG-$$" | grep -o "\"$study\"" | head -1)" "\"$study\"" "QIDO finds it"
check "$(uq "SELECT string_agg(text_value, ' ' ORDER BY text_value) FROM extended_query_tag_value")" \
	"101530.000000 20230105101500.000000" "DT and TM extended query tags' values are kept as times (023)"
check "$(curl -s -o /dev/null -w '%{http_code}' "$S/studies/$study/instances?AcquisitionDateTime=202301051015")" 200 \
	"  and found by a date-time of fewer digits"
check "$(curl -s -o /dev/null -w '%{http_code}' "$S/studies/$study/instances?AcquisitionTime=10:15:30")" 200 \
	"  and by a time written with colons"
# the old instance has no head (017); outbox-relay gives it one (024), the
# same as a store gives a new one; a relay without subscriptions, so that
# the old database's events go nowhere
check "$(uq "SELECT count(*) FROM instance WHERE head IS NULL")" 1 "the old instance has no head after the migration"
{
	awk '/^\[(database|store|events)\]/{on=1; print; next} /^\[/{on=0} on' "$VAR/conf/dicom.ini"
	printf '[database]\ndbname = %s\n[store]\ndir = %s\n' "$db" "$tmp/store"
} > "$tmp/relay.ini"
"$EMULATOR_BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay.log" 2>&1 &
relay=$!
for _ in $(seq 1 100); do [ "$(uq "SELECT count(*) FROM instance WHERE head IS NULL")" = 0 ] && break; sleep 0.1; done
kill "$relay"; wait "$relay" 2>/dev/null
check "$(uq "SELECT count(*) FROM instance i WHERE head IS NOT DISTINCT FROM (SELECT COALESCE(jsonb_object_agg(k, v), '{}')
        FROM jsonb_each(i.metadata::jsonb) e(k, v) WHERE k = ANY (dicom_head_tags()))")" 1 \
	"  outbox-relay gives it the head a store would have given it"
grep -q "gave 1 instances stored before schema step 017 their head" "$tmp/relay.log" && ok "  and says so" ||
	not_ok "  the relay's log does not say so: $(tail -3 "$tmp/relay.log")"
check "$(curl -s "$S/instances?PatientID=UPG-$$" | grep -o '"Upgrade^Patient"' | head -1)" '"Upgrade^Patient"' \
	"  an instance search returns it with its head"
feed=$(curl -s "$S/changefeed?includeMetadata=false" | tr -d " ")
check "$(echo "$feed" | grep -o '"sequence":[0-9]*,' | head -1)" '"sequence":1,' "the change feed starts at its entry"
check "$(echo "$feed" | grep -o '"state":"[A-Za-z]*"' | head -1)" '"state":"Current"' "its change feed entry is current"

"$MKDCM" -o "$tmp/b.dcm" --study "$study" --series "$study.1" --sop "$study.1.2" --set "0010,0020=LO:" --drop 0010,0010
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/b.dcm" "$S/studies")" \
	202 "a new instance (empty PatientID: a warning) is stored after the upgrade"
check "$(curl -s "$S/studies?PatientID=UPG-$$" | grep -o "Upgrade^Patient" | head -1)" "Upgrade^Patient" \
	"the study keeps the old instance's PatientID and PatientName"
check "$(uq "SELECT count(*) FROM instance i JOIN instance_bulk b USING (watermark) WHERE study_uid = '$study'")" 2 \
	"both have their bulk data metadata"
check "$(uq "SELECT string_agg(action::text || ':' || sequence, ',' ORDER BY sequence) FROM changefeed")" "0:1,0:2" \
	"the change feed goes on from the old entry"
check "$(uq "SELECT count(*) FROM outbox")" 2 "each store has its event"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$S/studies/$study")" 204 "the study is deleted"
check "$(uq "SELECT count(*) FROM changefeed WHERE action = 1")" 2 "with a delete entry per instance"
[ -e "$stored" ] && not_ok "the old file is still there" || ok "the old file is removed"
finish
