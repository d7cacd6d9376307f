#!/usr/bin/env bash
# QIDO reads an instance's head (instance.head, the attributes searches
# return by default) instead of its whole metadata when every attribute it
# returns is there: the answers are the same either way, at each level and
# API version; the head is what is read (change it and the answer
# changes); a search for other attributes (includefield) reads the
# metadata; an instance without a head (stored before sql/017) is read
# from its metadata.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st"; rm -rf "$tmp"' EXIT
st=2.25.$$$RANDOM
jnorm() { "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, indent=1))'; }
for i in 1 2; do
	"$MKDCM" -o "$tmp/$i.dcm" --study "$st" --series "$st.1" --sop "$st.1.$i" --set "0010,0010=PN:Head^Test" \
		--set "0008,1030=LO:Head study" --set "0008,103E=LO:Head series" --set "0018,0015=CS:CHEST" --set "0008,0030=TM:101112"
	check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/$i.dcm" \
		"$EMULATOR_URL/v2/studies")" 200 "instance $i stored"
done
check "$(q "SELECT count(*) FROM instance WHERE study_uid = '$st' AND head IS NOT NULL")" 2 "each has its head"
check "$(q "SELECT dicom_level_tags(1) <@ dicom_head_tags() AND dicom_level_tags(2) <@ dicom_head_tags()")" t \
	"  which holds the study's and series' kept attributes (the store takes them from it)"
searches="v2/studies?StudyInstanceUID=$st v1/studies?StudyInstanceUID=$st v2/studies/$st/series v1/studies/$st/series
v2/studies/$st/instances v1/studies/$st/instances v2/series?StudyInstanceUID=$st v2/instances?StudyInstanceUID=$st"
i=0
for s in $searches; do
	i=$((i + 1))
	curl -s "$EMULATOR_URL/$s" | jnorm > "$tmp/head$i.json"
done
q "UPDATE instance SET head = NULL WHERE study_uid = '$st'" >/dev/null
i=0 same=0
for s in $searches; do
	i=$((i + 1))
	curl -s "$EMULATOR_URL/$s" | jnorm > "$tmp/meta$i.json"
	if cmp -s "$tmp/head$i.json" "$tmp/meta$i.json" && [ -s "$tmp/meta$i.json" ]; then same=$((same + 1)); else
		say "differs: $s"; diff "$tmp/head$i.json" "$tmp/meta$i.json" | head -5 >&2; fi
done
check "$same" "$i" "the $i searches answer the same from heads and from metadata"
grep -q '"Head^Test"' "$tmp/meta1.json" && ok "  (with the patient's name)" || not_ok "no name in $(head -c 300 "$tmp/meta1.json")"

# the head is what is read: a head saying another study time answers it
q "UPDATE instance SET head = jsonb_set(dicom_pick(metadata::jsonb, dicom_head_tags()), '{00080030,Value,0}', '\"235959\"') WHERE study_uid = '$st'" >/dev/null
curl -s "$EMULATOR_URL/v1/studies?StudyInstanceUID=$st" > "$tmp/got.json"
check "$(jget 'd[0]["00080030"]["Value"][0]' < "$tmp/got.json" 2>/dev/null)" 235959 "a default search reads the head"
curl -s "$EMULATOR_URL/v2/studies/$st/instances?includefield=00080030&includefield=00180015" > "$tmp/got.json"
check "$(jget 'sorted(set(x["00080030"]["Value"][0] + "|" + x["00180015"]["Value"][0] for x in d))' < "$tmp/got.json" 2>/dev/null)" \
	"['101112|CHEST']" "a search for an attribute not in it reads the metadata"
finish
