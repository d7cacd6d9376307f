#!/usr/bin/env bash
# End-to-end: data partitions (§9.2). The suite's stack has them off; a
# second stack over the same database and store turns them on
# ([features] data_partitions): the same UIDs in two partitions are two
# instances (store, retrieve, frames, QIDO, metadata, delete, bulk update
# never cross), RetrieveURL, change feed and events carry the partition,
# GET /partitions lists them, data stored before lives in
# Microsoft.Default, and every refusal has the service's words. (Its
# export is switched off: 404.)
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
side_stack_tmp
code() { curl -s -o "$tmp/out" -w '%{http_code}' "$@"; }
stow() { # URL FILE
	code -H 'Content-Type: application/dicom' -H 'Accept: application/dicom+json' --data-binary @"$2" "$1"
}

# ---- off (the suite's stack) ---------------------------------------------
check "$(code "$EMULATOR_URL/v2/partitions")/$(cat "$tmp/out")" "400/Data partitions feature is disabled." \
	"off: GET /partitions is refused"
check "$(code "$EMULATOR_URL/v2/partitions/pa/studies")/$(cat "$tmp/out")" "400/Data partitions feature is disabled." \
	"off: a partition route is refused"
st=2.25.$$$RANDOM
"$MKDCM" -o "$tmp/old.dcm" --study "$st.9" --series "$st.9.1" --sop "$st.9.1.1"
check "$(stow "$EMULATOR_URL/v2/studies" "$tmp/old.dcm")" 200 "off: an instance stored before partitions are on"

# ---- on: a second stack over the same database -----------------------------
{ cat "$EMULATOR_VAR/conf/dicom.ini"; printf '\n[features]\ndata_partitions = true\nexport = false\n'; } > "$tmp/dicom.ini"
side_stack_start "$tmp" "$EMULATOR_STORE_DIR" && ok "a stack with partitions on starts" || { not_ok "side stack"; finish; exit 1; }
S=$SIDE_URL/v2
pa="pa-$$" pb="pb.$$"
check "$(code "$S/studies")/$(cat "$tmp/out")" "400/PartitionName value is missing in the route segment." \
	"on: a route without the partition is refused"
check "$(code "$S/partitions/bad%21name/studies")/$(cat "$tmp/out")" "400/The specified PartitionName is invalid." \
	"a name with another character is invalid"
check "$(code "$S/partitions/$(printf 'x%.0s' $(seq 1 65))/studies")" 400 "a name of 65 characters is invalid"
for path in "studies" "studies/$st" "studies/$st/metadata" "studies/$st/series" "series" "instances"; do
	check "$(code "$S/partitions/nope-$$/$path")/$(cat "$tmp/out")" "400/Specified PartitionName does not exist." \
		"GET $path in a partition that does not exist"
done
check "$(code -X DELETE "$S/partitions/nope-$$/studies/$st")" 400 "DELETE in a partition that does not exist"
check "$(code -X POST -H 'Content-Type: application/json' -d '{}' "$S/partitions/nope-$$/studies/\$bulkUpdate")" 400 \
	"\$bulkUpdate in a partition that does not exist"

check "$(code -X POST -H 'Content-Type: application/json' -d '{}' "$S/partitions/Microsoft.Default/export")" 404 \
	"[features] export = false: POST /export is 404"

# the same UIDs in two partitions
since=$(date -u -d '-1 second' +%Y-%m-%dT%H:%M:%SZ)
"$MKDCM" -o "$tmp/a.dcm" --study "$st" --series "$st.1" --sop "$st.1.1" --set "0010,0010=PN:Alpha^One" --seed 1
"$MKDCM" -o "$tmp/b.dcm" --study "$st" --series "$st.1" --sop "$st.1.1" --set "0010,0010=PN:Beta^Two" --seed 2
check "$(stow "$S/partitions/$pa/studies/$st" "$tmp/a.dcm")" 200 "STOW makes partition $pa"
check "$(jget 'd["00081199"]["Value"][0]["00081190"]["Value"][0]' < "$tmp/out")" \
	"$S/partitions/$pa/studies/$st/series/$st.1/instances/$st.1.1" "  RetrieveURL carries the partition"
check "$(jget 'd["00081190"]["Value"][0]' < "$tmp/out")" "$S/partitions/$pa/studies/$st" "  and the study's too"
check "$(stow "$S/partitions/$pb/studies" "$tmp/b.dcm")" 200 "the same UIDs stored in partition $pb"
check "$(stow "$S/partitions/$pb/studies" "$tmp/b.dcm")" 409 "  once: again is 45070 there"
check "$(code "$S/partitions")" 200 "GET /partitions"
check "$(jget '[(p["partitionKey"], p["partitionName"]) for p in d if p["partitionName"] == "Microsoft.Default"]' < "$tmp/out")" \
	"[(1, 'Microsoft.Default')]" "  Microsoft.Default is key 1"
check "$(jget "sorted(p['partitionName'] for p in d if p['partitionName'] in ('$pa', '$pb'))" < "$tmp/out")" "['$pa', '$pb']" \
	"  both new partitions are listed"
jget 'all(p["createdDate"].endswith("+00:00") for p in d)' < "$tmp/out" | grep -q True && ok "  with their creation dates" ||
	not_ok "createdDate: $(cat "$tmp/out")"

inst="studies/$st/series/$st.1/instances/$st.1.1"
curl -s -o "$tmp/ra.dcm" -H 'Accept: application/dicom; transfer-syntax=*' "$S/partitions/$pa/$inst"
curl -s -o "$tmp/rb.dcm" -H 'Accept: application/dicom; transfer-syntax=*' "$S/partitions/$pb/$inst"
cmp -s "$tmp/ra.dcm" "$tmp/a.dcm" && cmp -s "$tmp/rb.dcm" "$tmp/b.dcm" && ok "each partition returns its own file" ||
	not_ok "retrieve crossed partitions"
check "$(code -H 'Accept: application/octet-stream' "$S/partitions/$pb/$inst/frames/1")" 200 "frames are served in a partition"
check "$(curl -s "$S/partitions/$pa/$inst/metadata" | jget 'd[0]["00100010"]["Value"][0]["Alphabetic"]')" Alpha^One \
	"metadata is the partition's"
check "$(code "$S/partitions/$pa/studies?PatientName=Alpha^One&StudyInstanceUID=$st")" 200 "QIDO finds the instance in its partition"
check "$(code "$S/partitions/$pa/studies?PatientName=Beta^Two&StudyInstanceUID=$st")" 204 "  and not the other's"
check "$(code "$S/partitions/Microsoft.Default/studies/$st.9/metadata")" 200 "data stored before lives in Microsoft.Default"
check "$(code "$S/partitions/Microsoft.Default/studies/$st/metadata")" 404 "  where these UIDs are not"
check "$(code -H 'Content-Type: application/dicom' --data-binary @"$tmp/a.dcm" "$SIDE_URL/v1/partitions/$pa/studies")" 409 \
	"v1 routes take the partition too (the instance exists there)"

# change feed and events name the partition (every page since the start:
# the suite's other tests may have written more than one page meanwhile)
: > "$tmp/feed"
for off in $(seq 0 200 10000); do
	curl -s "$S/changefeed?includeMetadata=false&limit=200&offset=$off&startTime=$since" > "$tmp/page"
	jget "'\n'.join(e['partitionName'] for e in d if e['studyInstanceUid'] == '$st')" < "$tmp/page" >> "$tmp/feed"
	[ "$(jget 'len(d)' < "$tmp/page")" = 200 ] || break
done
check "$(grep . "$tmp/feed" | sort | paste -sd, -)" "$(printf '%s\n' "$pa" "$pb" | sort | paste -sd, -)" \
	"the change feed (at the base URL) names each entry's partition"
check "$(events_delivered "$st" "\"partitionName\":\"$pa\"" 1)" 1 "the event of $pa names it"
check "$(grep "studies/$st/" "$EMULATOR_VAR/log/events.jsonl" | grep -c "/partitions/$pb/studies/")" 1 "  and $pb's subject carries $pb"

# a bulk update in one partition leaves the other alone
check "$(code -X POST -H 'Content-Type: application/json' \
	-d "{\"studyInstanceUids\":[\"$st\"],\"changeDataset\":{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Beta^Updated\"}]}}}" \
	"$S/partitions/$pb/studies/\$bulkUpdate")" 202 "\$bulkUpdate in $pb is accepted"
op=$(jget 'd["id"]' < "$tmp/out")
check "$(jget 'd["href"]' < "$tmp/out")" "$S/operations/$op" "  its operation is at the base URL"
for _ in $(seq 1 100); do
	[ "$(q "SELECT status FROM operation WHERE id = '$op'::uuid")" = succeeded ] && break
	sleep 0.1
done
check "$(curl -s "$S/partitions/$pb/$inst/metadata" | jget 'd[0]["00100010"]["Value"][0]["Alphabetic"]')" Beta^Updated \
	"  $pb's instance is updated"
check "$(curl -s "$S/partitions/$pa/$inst/metadata" | jget 'd[0]["00100010"]["Value"][0]["Alphabetic"]')" Alpha^One \
	"  $pa's is not"

# a delete in one partition leaves the other's instance and file
wb=$(q "SELECT i.watermark FROM instance i JOIN partition p USING (partition_key) WHERE p.partition_name = '$pb' AND i.sop_uid = '$st.1.1'")
check "$(code -X DELETE "$S/partitions/$pa/studies/$st")" 204 "DELETE in $pa"
check "$(code "$S/partitions/$pa/$inst")" 404 "  gone from $pa"
check "$(code -H 'Accept: application/dicom; transfer-syntax=*' "$S/partitions/$pb/$inst")" 200 "  still in $pb"
check "$(stored_files "$wb")" 1 "  $pb's file is still there"
check "$(code -X DELETE "$S/partitions/$pb/studies/$st")" 204 "DELETE in $pb"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st.9"
finish
