#!/usr/bin/env bash
# End-to-end: UPS-RS workitems (§9.4). The life cycle (create, retrieve,
# update, claim, update with the transaction UID, complete; create and
# cancel; cancel twice), the service's refusals, two concurrent claims,
# and search on each key.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
U=$EMULATOR_URL/v2
run=$$$RANDOM

# a workitem dataset as the service's own tests make one; NAME=VALUE
# arguments change it (VALUE "-" drops the attribute)
dataset() { # FILE UID PID [KEY=JSON]...
	"$PY" - "$@" <<'PY'
import json, sys
f, uid, pid = sys.argv[1:4]
def s(vr, *v): return {"vr": vr, "Value": list(v)} if v else {"vr": vr}
ds = {
  "00081195": s("UI"), "00080016": s("UI", "1.2.840.10008.5.1.4.34.6.1"), "00080018": s("UI", uid),
  "00741200": s("CS", "MEDIUM"), "00404010": s("DT", "20261129101500"), "00741204": s("LO", "CT chest"),
  "00741202": s("LO", "Worklist"), "00741210": s("SQ"),
  "00404025": {"vr": "SQ", "Value": [{"00080100": s("SH", "STN-" + pid)}]},
  "00404026": {"vr": "SQ", "Value": [{"00080100": s("SH", "CLS-" + pid)}]},
  "00404027": {"vr": "SQ", "Value": [{"00080100": s("SH", "LOC-" + pid)}]},
  "00404005": s("DT", "20261201083000"), "00404018": s("SQ"), "00400400": s("LT", "comments"),
  "00404041": s("CS", "READY"), "00404021": s("SQ"), "0020000D": s("UI", "2.25." + pid.replace("P", "9")),
  "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Worklist^Patient" + pid}]}, "00100020": s("LO", pid),
  "00101002": s("SQ"), "00100030": s("DA", "19700101"), "00100040": s("CS", "F"), "00380010": s("LO", "ADM-1"),
  "00380014": s("SQ"), "00081080": s("LO", "diagnosis"), "00081084": s("SQ"),
  "0040A370": {"vr": "SQ", "Value": [{"0020000D": s("UI", "2.25." + pid.replace("P", "9")), "00080050": s("SH", "ACC-" + pid),
                                       "00401001": s("SH", "RP-" + pid), "00321060": s("LO", "CT"), "00321064": s("SQ")}]},
  "00741000": s("CS", "SCHEDULED"), "00741002": s("SQ"), "00741216": s("SQ"),
}
for kv in sys.argv[4:]:
    k, v = kv.split("=", 1)
    if v == "-": ds.pop(k, None)
    else: ds[k] = json.loads(v)
json.dump([ds], open(f, "w"))
PY
}
req() { # METHOD PATH [FILE] [CONTENT-TYPE] -> status; body in $tmp/out, headers in $tmp/hdr
	local ct=${4:-application/dicom+json}
	if [ -n "${3:-}" ]; then
		curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' -X "$1" -H "Content-Type: $ct" \
			-H 'Accept: application/dicom+json' --data-binary @"$3" "$U$2"
	else
		curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' -X "$1" -H 'Accept: application/dicom+json' "$U$2"
	fi
}
header() { grep -i "^$1:" "$tmp/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
body() { cat "$tmp/out"; }
state() { printf '[{"00081195":{"vr":"UI","Value":["%s"]},"00741000":{"vr":"CS","Value":["%s"]}}]' "$1" "$2" > "$tmp/state.json"; }

w1="2.25.${run}1" w2="2.25.${run}2" w3="2.25.${run}3" p1="P${run}1" p2="P${run}2"

# ---- create ----------------------------------------------------------------
dataset "$tmp/w1.json" "$w1" "$p1"
check "$(req POST "/workitems?$w1" "$tmp/w1.json")" 201 "create: 201"
check "$(header Location)" "$U/workitems/$w1" "  Location is the workitem"
check "$(header Content-Location)" "$U/workitems/$w1" "  and Content-Location"
check "$(req POST "/workitems?$w1" "$tmp/w1.json")/$(body)" \
	'409/"The workitem instance already exists. Try creating using a different UID."' "create again: 409"
while IFS='|' read -r what uid args want text; do
	# shellcheck disable=SC2086
	dataset "$tmp/bad.json" "$uid" "P${run}9" $args
	check "$(req POST "/workitems?$w3" "$tmp/bad.json")" "$want" "create refused: $what"
	grep -qF -- "$text" "$tmp/out" && ok "  saying: $(body)" || not_ok "  body: $(body)"
done <<CASES
a required attribute missing|$w3|00741200=-|400|The required tag '(0074,1200)' is missing.
a type 1 attribute empty|$w3|00404005={"vr":"DT"}|400|The value for tag '(0040,4005)' is missing.
a transaction UID|$w3|00081195={"vr":"UI","Value":["1.2.3"]}|400|The attribute with tag '(0008,1195)' must be empty.
a state other than SCHEDULED|$w3|00741000={"vr":"CS","Value":["IN\u0020PROGRESS"]}|400|can not transition to 'IN PROGRESS' state
a SOP instance UID not the query's|2.25.1|00400400={"vr":"LT","Value":["c"]}|400|SOPInstanceUID in the payload does not match the workitem query parameter.
a number VR's value that is not a number|$w3|00081160={"vr":"IS","Value":["x"]}|400|The syntax of the request body is invalid.
an LT of two values (fo-dicom reads one)|$w3|00400400={"vr":"LT","Value":["c","d"]}|400|Sequence contains more than one element
a UT of two values in a sequence's item|$w3|0040A370={"vr":"SQ","Value":[{"00400400":{"vr":"UT","Value":["c","d"]}}]}|400|Sequence contains more than one element
CASES
check "$(header Content-Type)" "text/plain; charset=utf-8" "  the last as the service's exception handler answers: plain text"
echo '{"00080018":{"vr":"UI","Value":["1.2"]}}' > "$tmp/notarray.json"
check "$(req POST "/workitems?$w3" "$tmp/notarray.json")" 400 "a body that is not an array: 400"
check "$(req POST "/workitems?$w3" "$tmp/w1.json" application/json)" 415 "another Content-Type: 415"
check "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/dicom+json' -H 'Accept: application/xml' \
	--data-binary @"$tmp/w1.json" "$U/workitems?$w3")" 406 "an Accept it cannot answer: 406"
check "$(req GET "/workitems/$w3")" 404 "nothing refused was made"

# ---- retrieve ----------------------------------------------------------------
check "$(req GET "/workitems/$w1")" 200 "retrieve: 200"
check "$(jget '(d["00741000"]["Value"][0], "00081195" in d, d["00080018"]["Value"][0])' < "$tmp/out")" \
	"('SCHEDULED', False, '$w1')" "  SCHEDULED, no TransactionUID"
check "$(req GET "/workitems/2.25.404")/$(body)" '404/"The workitem instance is not found."' "an unknown workitem: 404"
check "$(req GET "/workitems/1.2.abc")" 400 "a UID that is not one: 400"

# ---- update while SCHEDULED ----------------------------------------------------
printf '[{"00404010":{"vr":"DT","Value":["20261129120000"]},"00741204":{"vr":"LO","Value":["CT chest v2"]}}]' > "$tmp/u.json"
check "$(req POST "/workitems/$w1" "$tmp/u.json")" 200 "update a SCHEDULED workitem: 200"
check "$(header Content-Location)" "$U/workitems/$w1" "  with Content-Location"
check "$(req GET "/workitems/$w1"; jget 'd["00741204"]["Value"][0]' < "$tmp/out")" "200CT chest v2" "  the new label is kept"
check "$(req POST "/workitems/$w1?2.25.77" "$tmp/u.json")/$(body)" \
	'400/"Invalid TransactionUID for the specified Workitem Instance UID."' "a transaction UID on a SCHEDULED one: 400"
printf '[{"00404010":{"vr":"DT","Value":["20261129120000"]},"00741000":{"vr":"CS","Value":["COMPLETED"]}}]' > "$tmp/u2.json"
check "$(req POST "/workitems/$w1" "$tmp/u2.json")/$(body)" \
	'400/"Procedure step state is present in the dataset provided to be updated which is not allowed."' \
	"an update that sets the state: 400"
printf '[{"00404010":{"vr":"DT","Value":["20261129120000"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"X"}]}}]' > "$tmp/u3.json"
check "$(req POST "/workitems/$w1" "$tmp/u3.json")/$(body)" \
	"400/\"The attribute with tag '(0010,0010)' cannot be present.\"" "an update of the patient's name: 400"
printf '[{"00404010":{"vr":"DT","Value":["20261129120000"]},"00081030":{"vr":"LO","Value":["new"]}}]' > "$tmp/u4.json"
check "$(req POST "/workitems/$w1" "$tmp/u4.json")" 200 "an attribute not there at creation: 200"
header Warning | grep -q "not present when the workitem was created: 00081030" && ok "  named in the Warning" ||
	not_ok "  Warning: $(header Warning)"
# attributes are named by their tags (PS3.18 F.2.1.1), in sequence items too:
# a key of a client's choosing once reached the Warning header, CR LF and all
printf '[{"00404010":{"vr":"DT","Value":["20261129120000"]},"7777\\r\\nX-Injected: yes":{"vr":"LO","Value":["x"]}}]' > "$tmp/u5.json"
check "$(req POST "/workitems/$w1" "$tmp/u5.json")/$(body)" '400/"The syntax of the request body is invalid."' \
	"an update with a key that is no tag (CR LF in it): 400"
check "$(grep -ci '^X-Injected' "$tmp/hdr")" 0 "  no header of the client's making"
printf '[{"00404010":{"vr":"DT","Value":["20261129120000"]},"00741210":{"vr":"SQ","Value":[{"PatientName":{"vr":"PN"}}]}}]' > "$tmp/u6.json"
check "$(req POST "/workitems/$w1" "$tmp/u6.json")" 400 "a keyword for a tag inside a sequence item: 400"
# thousands of tags it cannot update: all in the body, the Warning cut (a
# Warning of 70 KB made lighttpd answer 503 for an update it had carried out)
"$PY" -c "import json; d = {'7777%04X' % i: {'vr': 'LO', 'Value': ['x']} for i in range(7000)}
d['00404010'] = {'vr': 'DT', 'Value': ['20261129120000']}; print(json.dumps([d]))" > "$tmp/u7.json"
check "$(req POST "/workitems/$w1" "$tmp/u7.json")" 200 "an update with 7000 tags not there at creation: 200"
check "$(jget 'd.count("7777")' < "$tmp/out")" 7000 "  the body names them all"
check "$(header Warning | "$PY" -c 'import sys; w = sys.stdin.read().strip(); print(w.endswith("...\""), len(w) < 4200)')" \
	"True True" "  the Warning is cut at 4 KiB"
# an update of 100,000 attributes the workitem has: each is found through a
# sorted index (a search of the stored dataset for each took 7 s for
# 40,000, and about 45 s for these)
dataset "$tmp/w8.json" "2.25.${run}8" "P${run}8"
"$PY" - "$tmp/w8.json" "$tmp/u8.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
tags = ['7777%04X' % i for i in range(50000)] + ['7779%04X' % i for i in range(50000)]
w[0].update({t: {'vr': 'LO', 'Value': ['old']} for t in tags})
json.dump(w, open(sys.argv[1], 'w'), separators=(',', ':'))
u = {t: {'vr': 'LO', 'Value': ['new']} for t in tags}
u['00404010'] = {'vr': 'DT', 'Value': ['20261129120000']}
json.dump([u], open(sys.argv[2], 'w'), separators=(',', ':'))
PY
check "$(req POST "/workitems?2.25.${run}8" "$tmp/w8.json")" 201 "a workitem of 100,000 attributes more: 201"
check "$(curl -s -o "$tmp/out" -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: application/dicom+json' \
	--data-binary @"$tmp/u8.json" "$U/workitems/2.25.${run}8")" 200 "  an update of them all: 200"
check "$(req GET "/workitems/2.25.${run}8"; jget 'd["77770000"]["Value"][0], d["7779C34F"]["Value"][0], len(d)' < "$tmp/out")" \
	"200('new', 'new', 100029)" "  each has its new value"
sed 's/"new"/"gone"/g' "$tmp/u8.json" > "$tmp/c8.json"
check "$(curl -s -o "$tmp/out" -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: application/dicom+json' \
	--data-binary @"$tmp/c8.json" "$U/workitems/2.25.${run}8/cancelrequest")" 202 "  a cancel request that sets them all: 202"
check "$(req GET "/workitems/2.25.${run}8"; jget 'd["00741000"]["Value"][0], d["7777C34F"]["Value"][0], len(d)' < "$tmp/out")" \
	"200('CANCELED', 'gone', 100029)" "  CANCELED, each with the request's value"
dataset "$tmp/bad.json" "2.25.${run}9" "P${run}9" 'ProcedureStepLabel="x"'
check "$(req POST "/workitems?2.25.${run}9" "$tmp/bad.json")/$(body)" '400/"The syntax of the request body is invalid."' \
	"a create with a keyword for a tag: 400"
check "$(req GET "/workitems/2.25.${run}9")" 404 "  nothing kept"

# ---- claim: two at once, one wins ----------------------------------------------
state "2.25.${run}71" "IN PROGRESS"
cp "$tmp/state.json" "$tmp/claim1.json"
state "2.25.${run}72" "IN PROGRESS"
cp "$tmp/state.json" "$tmp/claim2.json"
for i in 1 2; do
	curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H 'Content-Type: application/dicom+json' \
		--data-binary @"$tmp/claim$i.json" "$U/workitems/$w1/state" > "$tmp/claim$i.code" &
done
wait
# the loser's transaction UID is not the claiming one (PS3.4 Table CC.1.1-2: C301)
check "$(sort "$tmp/claim1.code" "$tmp/claim2.code" | paste -sd' ')" "200 400" "two concurrent claims: one wins (200), the other 400"
winner=$(grep -l 200 "$tmp/claim1.code" >/dev/null && echo "2.25.${run}71" || echo "2.25.${run}72")
check "$(req GET "/workitems/$w1"; jget 'd["00741000"]["Value"][0]' < "$tmp/out")" "200IN PROGRESS" "  it is IN PROGRESS"

# ---- update while IN PROGRESS ---------------------------------------------------
check "$(req POST "/workitems/$w1" "$tmp/u.json")/$(body)" '400/"The transaction UID is missing."' \
	"an update without the transaction UID: 400"
check "$(header Warning | grep -c 'The transaction UID is missing.')" 1 "  with the Warning"
check "$(req POST "/workitems/$w1?2.25.999" "$tmp/u.json")" 400 "with another transaction UID: 400"
printf '[{"00404010":{"vr":"DT","Value":["20261129130000"]},"00741216":{"vr":"SQ","Value":[{"00404050":{"vr":"DT","Value":["20261129130000"]},"00404051":{"vr":"DT","Value":["20261129140000"]}}]}}]' \
	> "$tmp/performed.json"

# ---- complete -------------------------------------------------------------------
state "$winner" COMPLETED
check "$(req PUT "/workitems/$w1/state" "$tmp/state.json")/$(body)" \
	"400/\"The required tag '(0074,1216)' is missing.\"" "completing without the performed procedure: 400"
check "$(req POST "/workitems/$w1?$winner" "$tmp/performed.json")" 200 "update with the transaction UID: 200"
state "2.25.999" COMPLETED
check "$(req PUT "/workitems/$w1/state" "$tmp/state.json")" 400 "completing with another transaction UID: 400"
state "$winner" COMPLETED
check "$(req PUT "/workitems/$w1/state" "$tmp/state.json")" 200 "completing with it: 200"
check "$(req GET "/workitems/$w1"; jget 'd["00741000"]["Value"][0]' < "$tmp/out")" "200COMPLETED" "  COMPLETED"
check "$(req PUT "/workitems/$w1/state" "$tmp/state.json")" 200 "completing again: 200"
header Warning | grep -q "already in the final state 'COMPLETED'" && ok "  with a Warning" || not_ok "  Warning: $(header Warning)"
check "$(req POST "/workitems/$w1?$winner" "$tmp/performed.json")/$(body)" '400/"The UPS may no longer be updated."' \
	"a COMPLETED workitem is not updated: 400"
state "$winner" SCHEDULED
check "$(req PUT "/workitems/$w1/state" "$tmp/state.json")" 400 "SCHEDULED is not a state one asks for: 400"
state "$winner" DONE
check "$(req PUT "/workitems/$w1/state" "$tmp/state.json")" 400 "nor an unknown one"
check "$(req PUT "/workitems/2.25.404/state" "$tmp/state.json")" 400 "  (checked before the workitem is looked up)"
state "$winner" CANCELED
check "$(req PUT "/workitems/2.25.404/state" "$tmp/state.json")/$(body)" '404/"The workitem instance is not found."' \
	"a state change of an unknown workitem: 404"

# ---- cancel ---------------------------------------------------------------------
dataset "$tmp/w2.json" "$w2" "$p2" '00080081={"vr":"ST","Value":["first","second"]}' \
	'00080080={"vr":"LO","Value":[12,"Hospital"]}' '00081160={"vr":"IS","Value":[" 7",8]}' \
	"00100010={\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Worklist^Patient$p2\",\"Ideographic\":\" \"}]}"
check "$(req POST "/workitems" "$tmp/w2.json")" 201 "create without the UID in the query (it is in the dataset)"
check "$(req GET "/workitems/$w2"; jget 'd["00080081"]["Value"], d["00080080"]["Value"], d["00081160"]["Value"], d["00100010"]["Value"]' < "$tmp/out")" \
	"200(['first'], ['Hospital'], [7, 8], [{'Alphabetic': 'Worklist^Patient$p2'}])" \
	"  read as fo-dicom reads DICOM JSON: an ST's first value, a text VR's strings, an IS's numbers and number strings, a name without its blank groups"
printf '[{"00741238":{"vr":"LT","Value":["patient left"]}}]' > "$tmp/cancel.json"
check "$(req POST "/workitems/$w2/cancelrequest" "$tmp/cancel.json")" 202 "cancel request of a SCHEDULED one: 202"
check "$(req GET "/workitems/$w2"; jget 'd["00741000"]["Value"][0], d["00741238"]["Value"][0]' < "$tmp/out")" \
	"200('CANCELED', 'patient left')" "  CANCELED, with the reason"
check "$(req POST "/workitems/$w2/cancelrequest" "$tmp/cancel.json")/$(body)" \
	'409/"The UPS is already in the requested state of CANCELED."' "cancel twice: 409"
header Warning | grep -q '299 .*: "The UPS is already in the requested state of CANCELED."' && ok "  with the service's Warning" ||
	not_ok "  Warning: $(header Warning)"
check "$(req POST "/workitems/$w1/cancelrequest" "$tmp/cancel.json")/$(body)" '409/"The UPS is already COMPLETED."' \
	"cancel a COMPLETED one: 409"
check "$(req POST "/workitems/2.25.404/cancelrequest" "$tmp/cancel.json")" 404 "cancel an unknown one: 404"

# ---- search -------------------------------------------------------------------
dataset "$tmp/w3.json" "$w3" "$p1"
req POST "/workitems?$w3" "$tmp/w3.json" >/dev/null
while IFS='|' read -r query want; do
	code=$(req GET "/workitems?$query")
	got=$([ "$code" = 200 ] && jget 'sorted(x["00080018"]["Value"][0] for x in d)' < "$tmp/out" || echo "$code")
	check "$got" "$want" "search $query"
done <<CASES
PatientID=$p1|['$w1', '$w3']
00100020=$p2|['$w2']
PatientName=Worklist^Patient$p2|['$w2']
PatientName=worklist&fuzzymatching=true&PatientID=$p2|['$w2']
ReferencedRequestSequence.AccessionNumber=ACC-$p2|['$w2']
0040A370.00401001=RP-$p1|['$w1', '$w3']
ScheduledProcedureStepStartDateTime=20261201000000-20261202000000&PatientID=$p1|['$w1', '$w3']
ScheduledProcedureStepStartDateTime=20261202000000-&PatientID=$p1|204
00404025.00080100=STN-$p2|['$w2']
ScheduledStationClassCodeSequence.CodeValue=CLS-$p2|['$w2']
00404027.00080100=LOC-$p1|['$w1', '$w3']
ProcedureStepState=SCHEDULED&PatientID=$p1|['$w3']
ProcedureStepState=COMPLETED&PatientID=$p1|['$w1']
StudyInstanceUID=2.25.9${run}2|['$w2']
PatientID=$p1&limit=1&offset=1|['$w3']
PatientID=nobody-$run|204
ScheduledProcedureStepStartDateTime=202612010830&PatientID=$p1|['$w1', '$w3']
ScheduledProcedureStepStartDateTime=-202612010830&PatientID=$p1|['$w1', '$w3']
ScheduledProcedureStepStartDateTime=2026120108-2026120109&PatientID=$p1|['$w1', '$w3']
ScheduledProcedureStepStartDateTime=20261201083000.000001-&PatientID=$p1|204
ScheduledStationNameCodeSequence.00080100=STN-$p2|['$w2']
PatientID=$p1&limit=1&limit=500|['$w1']
CASES
# the service's refusals of a search (WorkitemQueryParser, QueryOptions)
while IFS='|' read -r query want; do
	check "$(req GET "/workitems?$query")/$(body)" "400/\"$want\"" "search refused: $query"
done <<'CASES'
PatientID=a&PatientID=b|Invalid QIDO-RS query. Duplicate AttributeId 'PatientID'. Each attribute is only allowed to be specified once.
PatientID=a&00100020=b|Invalid query: attribute '00100020' has been specified more than once using different ID formats. Each attribute is only allowed to be specified once.
PatientID=|Invalid query: AttributeId 'PatientID' has empty string value that is not supported.
0040A370.00080050.00080050=x|Nested Dicom sequence tags are currently not supported.
offset=x|The query parameter 'Offset' is invalid. The value 'x' is not valid for Offset.
fuzzymatching=maybe|The query parameter 'FuzzyMatching' is invalid. The value 'maybe' is not valid for FuzzyMatching.
ScheduledProcedureStepStartDateTime=20261301|Invalid query: specified DateTime value '20261301' is invalid for attribute 'ScheduledProcedureStepStartDateTime'. DateTime should be valid and formatted as yyyyMMddHHmmss.FFFFFF where yyyy is mandatory.
ScheduledProcedureStepStartDateTime=20261201083000+0100|Invalid query: specified DateTime value '20261201083000+0100' for attribute ScheduledProcedureStepStartDateTime contains offset which is not supported.
ScheduledProcedureStepStartDateTime=2027-2026|Invalid query: specified date range '2027-2026' is invalid.\nThe first part DateTime 2027 should be lesser than or equal to the second part DateTime 2026.
PatientName=a%22b&fuzzymatching=true|Invalid query: specified tag 'PatientName' value 'a\"b' contains unsupported character '\"'. Character is not supported with Fuzzy match, try exact match or removing the invalid character. 
includefield=all,PatientID|Invalid query: cannot specify included fields in addition to 'all'.
CASES
check "$(req GET "/workitems?PatientID=$p1"; jget 'all("00081195" not in x for x in d)' < "$tmp/out")" "200True" \
	"search results carry no TransactionUID"
# a result keeps the required attributes (return key types 1 and 2), those
# includefield names and those searched for; includefield=all keeps all
check "$(req GET "/workitems?PatientID=$p1&limit=1"; jget '" ".join(k for k in ("00400400", "00404010", "00741200", "0040A370") if k in d[0])' < "$tmp/out")" \
	"20000741200 0040A370" "a search result: the required attributes, not the comments or the modification time"
check "$(req GET "/workitems?PatientID=$p1&limit=1&includefield=00400400"; jget '" ".join(k for k in ("00400400", "00404010") if k in d[0])' < "$tmp/out")" \
	"20000400400" "  with includefield=00400400: the comments too"
check "$(req GET "/workitems?PatientID=$p1&limit=1&includefield=all"; jget '" ".join(k for k in ("00400400", "00404010", "00081195") if k in d[0])' < "$tmp/out")" \
	"20000400400 00404010" "  with includefield=all: every attribute but the TransactionUID"
check "$(req GET "/workitems?Modality=CT")" 400 "an attribute that is not searchable: 400"
grep -q "AttributeId Modality is not queryable" "$tmp/out" && ok "  saying so" || not_ok "  body: $(body)"
check "$(req GET "/workitems?limit=500")/$(body)" \
	'400/"The query parameter '"'"'Limit'"'"' is invalid. The field Limit must be between 1 and 200."' "limit 500: 400"
finish
