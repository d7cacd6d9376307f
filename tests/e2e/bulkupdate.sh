#!/usr/bin/env bash
# End-to-end: POST /v2/studies/$bulkUpdate (§9.3). The request checked with
# the service's messages; the suite's relay updates a study: new versions
# (changed attributes, pixel data equal, the service's implementation UID
# in the file meta), the original kept (msdicom-request-original), QIDO and
# an extended query tag on the new values, Update change feed entries,
# DicomImageUpdated events delivered; a second update keeps the first
# original; an unknown study succeeds with zeros; an instance whose file is
# gone fails the study; DELETE removes both versions; one update at a time
# (409); and a relay killed (-9) mid-way leaves the rest to another.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
U=$EMULATOR_URL/v2
tmp=$(mktemp -d)
svc_dir "$tmp"   # its relays write the store as the stack's own does
trap 'curl -s -o /dev/null -X DELETE "$U/extendedquerytags/PatientAge"; test_cleanup KILL' EXIT

post_update() { # BODY [URL] -> status; body in $tmp/out, headers in $tmp/hdr
	curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d "$1" \
		"${2:-$U/studies/\$bulkUpdate}"
}
name_change='"changeDataset":{"00100010":{"vr":"PN","Value":[{"Alphabetic":"New^Name"}]},"00101010":{"vr":"AS","Value":["054Y"]},"00081030":{"vr":"LO","Value":["Updated description"]}}'
wait_op() { op_wait "$U" "$1"; }

# ---- the request checked as the service checks it ----------------------
ops_before=$(q "SELECT count(*) FROM operation WHERE type = 'update'")
s0="2.25.$$${RANDOM}0"
while IFS='|' read -r body want text; do
	code=$(post_update "$body")
	check "$code" "$want" "refused: $body"
	grep -qF -- "$text" "$tmp/out" && ok "  saying: $text" || not_ok "  message: $(cat "$tmp/out")"
done <<CASES
{"changeDataset":{"00100010":{"vr":"PN","Value":[{"Alphabetic":"A"}]}}}|400|The required field 'StudyInstanceUids' is missing or empty.
{"studyInstanceUids":[],$name_change}|400|The required field 'StudyInstanceUids' is missing or empty.
{"studyInstanceUids":[$(seq -s, 1 51 | sed 's/[0-9]*/"1.2.&"/g')],$name_change}|400|StudyInstanceUids count exceeded maximum length '50'
{"studyInstanceUids":["1.2.abc"],$name_change}|400|failed validation for VR 'UI'
{"studyInstanceUids":["$s0"]}|400|The required field 'ChangeDataset' is missing or empty.
{"studyInstanceUids":["$s0"],"changeDataset":{"00080060":{"vr":"CS","Value":["MR"]}}}|400|DICOM100: (0008,0060) - Updating the tag is not supported
{"studyInstanceUids":["$s0"],"changeDataset":{"00100030":{"vr":"DA","Value":["yesterday"]}}}|400|DICOM100: (0010,0030) -
{"studyInstanceUids":["$s0"],"changeDataset":{"00100010":{"vr":"PN"}}}|400|DICOM100: (0010,0010) - Updating an attribute to no value is not supported
{"studyInstanceUids":["$s0"],"changeDataset":{"00100020":{"vr":"LO","Value":["A","B"]}}}|400|DICOM100: (0010,0020) - Content \"(0010,0020) LO Patient ID\" does not validate VR LO: Number of items 2 does not match ValueMultiplicity 1
{"studyInstanceUids":["$s0"],"changeDataset":{"00080090":{"vr":"PN","Value":[{"Alphabetic":"A"},{"Alphabetic":"B"},{"Alphabetic":"C"}]}}}|400|DICOM100: (0008,0090) - Content \"(0008,0090) PN Referring Physician's Name\" does not validate VR PN: Number of items 3 does not match ValueMultiplicity 1
not json|400|The syntax of the request body is invalid.
{"studyInstanceUids":["1.2.abc"],"changeDataset":{"00101020":{"vr":"DS","Value":["tall"]}}}|400|The syntax of the request body is invalid.
{"studyInstanceUids":["$s0"],"changeDataset":{"00100010":{"vr":"PN","Value":["Doe^John"]}}}|400|The syntax of the request body is invalid.
{"studyInstanceUids":["$s0"],"changeDataset":{"00100020":{"vr":"LO","Value":[123]}}}|400|DICOM100: (0010,0020) - Updating an attribute to no value is not supported
{"studyInstanceUids":["$s0"],"changeDataset":{"00104000":{"vr":"LT","Value":["a","b"]}}}|400|Sequence contains more than one element
{"studyInstanceUids":["1.2.abc"],"changeDataset":{"00100010":{"vr":"PN","Value":[{"Alphabetic":"A"}]},"00081030":{"vr":"SQ","Value":[{"00104000":{"vr":"UT","Value":["a","b"]}}]}}}|400|Sequence contains more than one element
CASES
check "$(grep -i '^content-type' "$tmp/hdr" | tr -d '\r' | cut -d' ' -f2-)" "text/plain; charset=utf-8" \
	"  the last as the service's exception handler answers: plain text"
post_update "{\"studyInstanceUids\":[\"$s0\"],\"changeDataset\":{\"00080060\":{\"vr\":\"CS\",\"Value\":[\"MR\"]}}}" >/dev/null
check "$(grep -i '^content-type' "$tmp/hdr" | tr -d '\r' | cut -d' ' -f2-)" "application/dicom+json" \
	"a refused changeDataset is answered as a DICOM JSON dataset"
check "$(jget 'd["00741048"]["vr"]' < "$tmp/out")" SQ "  with a FailedAttributesSequence"
check "$(post_update "{\"studyInstanceUids\":[\"$s0\"],$name_change}" "$EMULATOR_URL/v1/studies/\$bulkUpdate")" 404 "v1 has no bulk update (404)"
check "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' -d '{}' "$U/studies/\$bulkupdate")" 415 \
	"a body that is not application/json: 415 (the route is case-insensitive)"
# many values are checked and joined in one pass: an arena copy of the join
# so far for each value once made 100,000 values 20 GB and minutes
"$PY" -c "import json; print(json.dumps({'studyInstanceUids': ['$s0'], 'changeDataset': {
	'00101000': {'vr': 'LO', 'Value': ['ID'] * 100000}, '00080060': {'vr': 'CS', 'Value': ['MR']}}}))" > "$tmp/many.json"
check "$(curl -s -o "$tmp/out" -w '%{http_code}' --max-time 60 -X POST -H 'Content-Type: application/json' \
	--data-binary @"$tmp/many.json" "$U/studies/\$bulkUpdate")" 400 "100,000 values of OtherPatientIDs beside a refused tag: 400"
check "$(jget '[i["00000902"]["Value"][0] for i in d["00741048"]["Value"]]' < "$tmp/out")" \
	"['DICOM100: (0008,0060) - Updating the tag is not supported']" "  naming only the refused tag"
check "$(q "SELECT count(*) FROM operation WHERE type = 'update'")" "$ops_before" "no refused request made an operation"

# ---- a study updated by the suite's relay --------------------------------
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '[{"Path":"PatientAge","Level":"Study"}]' \
	"$U/extendedquerytags"
for _ in $(seq 1 100); do
	[ "$(q "SELECT status FROM extended_query_tag WHERE path = '00101010'")" = ready ] && break
	sleep 0.1
done
s1="2.25.$$${RANDOM}1"
for i in 1 2 3; do
	"$MKDCM" -o "$tmp/a$i.dcm" --study "$s1" --series "$s1.1" --sop "$s1.1.$i" --rows 32 --cols 32 \
		--set "0010,0010=PN:Old^Name" --set "0010,1010=AS:035Y"
	curl -s -o /dev/null -H 'Content-Type: application/dicom' --data-binary @"$tmp/a$i.dcm" "$U/studies"
done
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies?00101010=035Y&StudyInstanceUID=$s1")" 200 \
	"the extended query tag finds the study by its old value"
etag_before=$(curl -s -D - -o /dev/null "$U/studies/$s1/metadata" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
check "$(post_update "{\"studyInstanceUids\":[\"$s1\"],$name_change}")" 202 "the update is accepted (202)"
op=$(jget 'd["id"]' < "$tmp/out")
check "$(jget 'd["href"]' < "$tmp/out")" "$U/operations/$op" "  with the operation's reference"
grep -qi '^location:' "$tmp/hdr" && not_ok "  a Location header was sent" || ok "  and no Location header, as the service"
res=$(wait_op "$op")
check "$(echo "$res" | jget 'd["type"], d["status"], d["percentComplete"]')" "('update', 'succeeded', 100)" "the operation succeeded"
check "$(echo "$res" | jget 'sorted(d["results"].items())')" \
	"[('instanceUpdated', 3), ('studyFailed', 0), ('studyProcessed', 1), ('studyUpdated', 1)]" "  results: 1 study, 3 instances"

curl -s "$U/studies/$s1/metadata" > "$tmp/meta.json"
check "$(jget 'sorted(set(m["00100010"]["Value"][0]["Alphabetic"] for m in d))' < "$tmp/meta.json")" "['New^Name']" \
	"the metadata has the new name"
check "$(jget 'sorted(set(m["00101010"]["Value"][0] for m in d))' < "$tmp/meta.json")" "['054Y']" "  and the new age"
etag_after=$(curl -s -D - -o /dev/null "$U/studies/$s1/metadata" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
[ -n "$etag_after" ] && [ "$etag_after" != "$etag_before" ] && ok "  and another ETag" || not_ok "ETag $etag_before -> $etag_after"
curl -s -H 'msdicom-request-original: true' "$U/studies/$s1/metadata" > "$tmp/orig.json"
check "$(jget 'sorted(set(m["00100010"]["Value"][0]["Alphabetic"] for m in d))' < "$tmp/orig.json")" "['Old^Name']" \
	"msdicom-request-original: the original metadata"
inst="$U/studies/$s1/series/$s1.1/instances/$s1.1.1"
curl -s -o "$tmp/orig.dcm" -H 'msdicom-request-original: true' -H 'Accept: application/dicom; transfer-syntax=*' "$inst"
cmp -s "$tmp/orig.dcm" "$tmp/a1.dcm" && ok "the original file is retrieved byte for byte" || not_ok "the original differs"
curl -s -o "$tmp/new.dcm" -H 'Accept: application/dicom; transfer-syntax=*' "$inst"
check "$("$PY" - "$tmp/new.dcm" "$tmp/a1.dcm" <<'PY'
import sys, pydicom
n, o = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
print(n.PixelData == o.PixelData, str(n.PatientName), n.StudyDescription, n.file_meta.ImplementationClassUID,
      n.SOPInstanceUID == o.SOPInstanceUID, n.Rows)
PY
)" "True New^Name Updated description 1.3.6.1.4.1.311.129 True 32" \
	"the latest file: new attributes, the same pixel data, the service's implementation class UID"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/octet-stream' "$inst/frames/1")" 200 "its frame is served"
check "$(curl -s "$U/studies?PatientName=New^Name&StudyInstanceUID=$s1" | grep -c "$s1")" 1 "QIDO finds it by the new name"
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies?PatientName=Old^Name&StudyInstanceUID=$s1")" 204 "  and not by the old"
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies?00101010=054Y&StudyInstanceUID=$s1")" 200 \
	"the extended query tag has the new value"
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies?00101010=035Y&StudyInstanceUID=$s1")" 204 "  and not the old"
check "$(q "SELECT string_agg(action || ':' || (current_watermark = original_watermark)::text, ',' ORDER BY sequence) FROM changefeed WHERE study_uid = '$s1'")" \
	"0:false,0:false,0:false,2:true,2:true,2:true" "change feed: an Update entry each, the Create entries Replaced"
check "$(events_delivered "$s1" DicomImageUpdated 3)" 3 "three DicomImageUpdated events reach the file provider"
check "$(q "SELECT count(*) FROM outbox o JOIN changefeed c ON c.sequence = o.sequence WHERE o.event_type = 'Microsoft.HealthcareApis.DicomImageUpdated' AND c.study_uid = '$s1' AND c.action = 2")" \
	3 "  each with the sequence number of its Update entry"

# a second update keeps the first original, and drops the intermediate file
mid=$(q "SELECT watermark FROM instance WHERE sop_uid = '$s1.1.1'")
post_update "{\"studyInstanceUids\":[\"$s1\"],\"changeDataset\":{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Third^Name\"}]}}}" >/dev/null
op2=$(jget 'd["id"]' < "$tmp/out")
check "$(wait_op "$op2" | jget 'd["status"]')" succeeded "a second update succeeds"
curl -s -o "$tmp/orig2.dcm" -H 'msdicom-request-original: true' -H 'Accept: application/dicom; transfer-syntax=*' "$inst"
cmp -s "$tmp/orig2.dcm" "$tmp/a1.dcm" && ok "  the original is still the first version" || not_ok "the original changed"
check "$(stored_files "$mid")" 0 "  the intermediate version's file is removed"
# the orphan sweep knows the original's file as one a row points at
sweep_orphans >/dev/null
curl -s -o "$tmp/orig3.dcm" -H 'msdicom-request-original: true' -H 'Accept: application/dicom; transfer-syntax=*' "$inst"
cmp -s "$tmp/orig3.dcm" "$tmp/a1.dcm" && ok "  dicom-fcgi --sweep leaves the original's file" ||
	not_ok "dicom-fcgi --sweep removed the original's file"

# an unknown study: succeeded, nothing updated
post_update "{\"studyInstanceUids\":[\"$s0\"],$name_change}" >/dev/null
check "$(wait_op "$(jget 'd["id"]' < "$tmp/out")" | jget 'd["status"], sorted(d["results"].items())')" \
	"('succeeded', [('instanceUpdated', 0), ('studyFailed', 0), ('studyProcessed', 1), ('studyUpdated', 0)])" \
	"an unknown study: succeeded with zeros"

# PUT of an updated instance replaces both its versions
both=$(q "SELECT watermark || ' ' || original_watermark FROM instance WHERE sop_uid = '$s1.1.1'")
check "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/dicom' --data-binary @"$tmp/a1.dcm" "$U/studies")" \
	200 "PUT replaces an updated instance"
# shellcheck disable=SC2086
check "$(stored_files $both)" 0 "  both its versions' files are gone"
check "$(q "SELECT original_watermark IS NULL FROM instance WHERE sop_uid = '$s1.1.1'")" t "  it has no original any more"

# DELETE removes both versions
files=$(q "SELECT watermark || ' ' || original_watermark FROM instance WHERE study_uid = '$s1'")
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$s1")" 204 "the updated study is deleted"
# shellcheck disable=SC2086
check "$(stored_files $files)" 0 "  both versions' files are gone"

# ---- an instance whose file is gone fails its study ----------------------
s2="2.25.$$${RANDOM}2"
for i in 1 2; do
	"$MKDCM" -o "$tmp/b$i.dcm" --study "$s2" --series "$s2.1" --sop "$s2.1.$i"
	curl -s -o /dev/null -H 'Content-Type: application/dicom' --data-binary @"$tmp/b$i.dcm" "$U/studies"
done
w=$(q "SELECT watermark FROM instance WHERE sop_uid = '$s2.1.2'")
rm -f "$EMULATOR_STORE_DIR/$(printf '%02x' $((w & 255)))/$w.dcm"
post_update "{\"studyInstanceUids\":[\"$s2\"],$name_change}" >/dev/null
res=$(wait_op "$(jget 'd["id"]' < "$tmp/out")")
check "$(echo "$res" | jget 'd["status"], d["results"]["studyFailed"], d["results"]["studyUpdated"], d["results"]["instanceUpdated"]')" \
	"('failed', 1, 0, 1)" "an instance that cannot be read fails its study (status failed)"
check "$(echo "$res" | jget 'd["results"]["errors"][0]')" "Failed to update instances for study $s2" "  errors name the study"
echo "$res" | jget 'd["results"]["errors"][1]' | grep -q "SOPInstanceUID: $s2.1.2" && ok "  and the instance" ||
	not_ok "  instance error: $res"
curl -s -o /dev/null -X DELETE "$U/studies/$s2"

# ---- text beyond ASCII: a file that declares no character set is made UTF-8;
# one in another character set fails with the reason
s4="2.25.$$${RANDOM}4"
"$MKDCM" -o "$tmp/n1.dcm" --study "$s4" --series "$s4.1" --sop "$s4.1.1" --rows 8 --cols 8 --drop 0008,0005
"$MKDCM" -o "$tmp/n2.dcm" --study "$s4" --series "$s4.1" --sop "$s4.1.2" --rows 8 --cols 8 --set "0008,0005=CS:ISO_IR 100"
for f in n1 n2; do curl -s -o /dev/null -H 'Content-Type: application/dicom' --data-binary @"$tmp/$f.dcm" "$U/studies"; done
check "$(post_update "{\"studyInstanceUids\":[\"$s4\"],\"changeDataset\":{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"M\\u00fcller^Jos\\u00e9\"}]}}}")" \
	202 "an update to a name beyond ASCII is accepted"
res=$(wait_op "$(jget 'd["id"]' < "$tmp/out")")
check "$(echo "$res" | jget 'd["status"], d["results"]["instanceUpdated"], d["results"]["studyFailed"]')" "('failed', 1, 1)" \
	"  one instance updated, the study failed for the other"
echo "$res" | jget 'd["results"]["errors"][1]' | grep -q "SOPInstanceUID: $s4.1.2: the instance's SpecificCharacterSet cannot hold the new non-ASCII values" &&
	ok "  naming the instance in ISO_IR 100 and why" || not_ok "  errors: $res"
curl -s -o "$tmp/n1u.dcm" -H 'Accept: application/dicom; transfer-syntax=*' "$U/studies/$s4/series/$s4.1/instances/$s4.1.1"
check "$(dcmdump +U8 "$tmp/n1u.dcm" 2>/dev/null | grep -E '\((0008,0005|0010,0010)\)' | sed 's/ *#.*//')" \
	"$(printf '(0008,0005) CS [ISO_IR 192]\n(0010,0010) PN [M\303\274ller^Jos\303\251]')" \
	"  the undeclared file now declares ISO_IR 192 and holds the name in UTF-8"
check "$(curl -s "$U/studies/$s4/series/$s4.1/instances/$s4.1.1/metadata" | jget 'd[0]["00100010"]["Value"][0]["Alphabetic"]')" \
	"$(printf 'M\303\274ller^Jos\303\251')" "  and its metadata has it"
curl -s -o /dev/null -X DELETE "$U/studies/$s4"

# ---- one update at a time; a relay killed mid-way -------------------------
stop_relay
relay_stopped=1
s3="2.25.$$${RANDOM}3"
n=10
for i in $(seq 1 $n); do
	echo "-o $tmp/c$i.dcm --study $s3 --series $s3.1 --sop $s3.1.$i"
done | "$MKDCM" --batch || exit 1
for i in $(seq 1 $n); do
	curl -s -o /dev/null -H 'Content-Type: application/dicom' --data-binary @"$tmp/c$i.dcm" "$U/studies"
done
check "$(post_update "{\"studyInstanceUids\":[\"$s3\"],$name_change}")" 202 "an update of $n instances is accepted"
op3=$(jget 'd["id"]' < "$tmp/out")
check "$(post_update "{\"studyInstanceUids\":[\"$s3\"],$name_change}")" 409 "another while it is not finished: 409"
check "$(cat "$tmp/out")" "There is already an active update operation with ID '$op3'." "  naming it"
check "$(grep -i '^location:' "$tmp/hdr" | tr -d '\r' | cut -d' ' -f2)" "$U/operations/$op3" "  with its Location"
slow_relay_config "$tmp/relay.ini" 150
"$BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay1.log" 2>&1 &
pids+=($!)
items_wait "$op3" updated 3 >/dev/null
{ kill -KILL "${pids[0]}"; wait "${pids[0]}"; } 2>/dev/null
pids=()
done_before=$(items_wait "$op3" updated 0)
if [ "$done_before" -gt 0 ] && [ "$done_before" -lt "$n" ]; then
	ok "the kill came mid-way: $done_before of $n updated"
else
	not_ok "the kill did not land mid-way ($done_before of $n)"
fi
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/operations/$op3")" 202 "the operation answers 202 meanwhile"
pct=$(curl -s "$U/operations/$op3" | jget 'd["percentComplete"]')
[ "$pct" -gt 0 ] && [ "$pct" -lt 100 ] && ok "  with its progress ($pct%)" || not_ok "progress $pct"
"$BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay2.log" 2>&1 &
pids+=($!)
res=$(wait_op "$op3")
check "$(echo "$res" | jget 'd["status"], d["results"]["instanceUpdated"]')" "('succeeded', $n)" \
	"another relay finished it: every instance updated"
check "$(q "SELECT count(*) FROM changefeed WHERE study_uid = '$s3' AND action = 2")" "$n" "  once each (one Update entry each)"
check "$(q "SELECT count(*) FROM instance WHERE study_uid = '$s3' AND original_watermark IS NOT NULL")" "$n" \
	"  each with its original kept"
check "$(curl -s "$U/studies/$s3/metadata" | jget 'sorted(set(m["00100010"]["Value"][0]["Alphabetic"] for m in d))')" \
	"['New^Name']" "  and the new name"
curl -s -o /dev/null -X DELETE "$U/studies/$s3"
finish
