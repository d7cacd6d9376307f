#!/usr/bin/env bash
# Text in the character set that SpecificCharacterSet declares reaches
# the index, QIDO and DICOM JSON as UTF-8 (PS3.3 C.12.1.1.2, PS3.5 6.1):
# files written by pydicom in Latin-1, Greek, Japanese (ISO 2022 with
# escapes), Korean (ISO 2022 IR 149), Chinese (GB18030) and without any
# declared set. The stored file stays byte for byte as sent. Bytes a
# declared set does not have are a v2 warning and a v1 refusal.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/base.dcm" --study "$study" --series "$study.1" --rows 2 --cols 2

# name|charset|Alphabetic|Ideographic|Phonetic|query (UTF-8)
cases=$(cat <<'TABLE'
latin1|ISO_IR 100|Müller^Jürgen|||Müller
greek|ISO_IR 126|Διονυσιος|||Διονυσιος
japanese|\ISO 2022 IR 87|Yamada^Tarou|山田^太郎|やまだ^たろう|Yamada
korean|\ISO 2022 IR 149|Hong^Gildong|洪^吉洞|홍^길동|Hong
chinese|GB18030|Wang^XiaoDong|王^小东||Wang
none||Ünsere^Öl|||Ünsere
TABLE
)
n=0
while IFS='|' read -r name cs alpha ideo phon query; do
	n=$((n + 1))
	sop="$study.1.$n" st="$study.$n"
	"$PY" - "$tmp/base.dcm" "$tmp/$name.dcm" "$sop" "$cs" "$alpha" "$ideo" "$phon" "$st" <<'PY' || { not_ok "$name: pydicom"; continue; }
import sys
import pydicom
from pydicom.valuerep import PersonName
src, dst, sop, cs, alpha, ideo, phon, st = sys.argv[1:9]
ds = pydicom.dcmread(src)
ds.SOPInstanceUID = sop
ds.StudyInstanceUID = st
ds.file_meta.MediaStorageSOPInstanceUID = sop
if cs:
    ds.SpecificCharacterSet = cs.split('\\') if '\\' in cs else cs
elif 'SpecificCharacterSet' in ds:
    del ds.SpecificCharacterSet
encodings = pydicom.charset.convert_encodings(ds.get('SpecificCharacterSet', 'ISO_IR 100') or 'ISO_IR 100')
groups = [alpha, ideo, phon]
while groups and not groups[-1]:
    groups.pop()
ds.PatientName = PersonName('='.join(groups), encodings=encodings)
ds.StudyDescription = alpha.replace('^', ' ')
ds.save_as(dst, write_like_original=True)
PY
	code=$(curl -s -o "$tmp/$name.json" -w '%{http_code}' -H 'Content-Type: application/dicom' \
		-H 'Accept: application/dicom+json' --data-binary @"$tmp/$name.dcm" "$EMULATOR_URL/v2/studies")
	check "$code" 200 "$name: stored"
	curl -s -H 'Accept: application/dicom+json' "$EMULATOR_URL/v2/studies/$st/series/$study.1/instances/$sop/metadata" \
		> "$tmp/$name.meta"
	got=$("$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))[0]
pn = m["00100010"]["Value"][0]
print("|".join([pn.get("Alphabetic", ""), pn.get("Ideographic", ""), pn.get("Phonetic", ""),
                m["00081030"]["Value"][0]]))' "$tmp/$name.meta" 2>/dev/null)
	check "$got" "$alpha|$ideo|$phon|${alpha//^/ }" "$name: PatientName and StudyDescription as UTF-8 in the metadata"
	enc=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$query")
	found=$(curl -s -H 'Accept: application/dicom+json' \
		"$EMULATOR_URL/v2/studies?PatientName=$enc&fuzzymatching=true" | grep -c "\"$st\"")
	check "$found" 1 "$name: found by QIDO on '$query'"
	wm=$(q "SELECT watermark FROM instance WHERE sop_uid = '$sop'")
	if [ -n "$wm" ] && cmp -s <(tail -c +133 "$tmp/$name.dcm") \
		<(tail -c +133 "$EMULATOR_STORE_DIR/$(printf '%02x' $((wm & 255)))/$wm.dcm"); then
		ok "$name: the file is kept as sent"
	else
		not_ok "$name: the stored file differs"
	fi
	curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st"
done <<< "$cases"

# bytes the declared set does not have: v2 stores the instance with a
# warning and leaves the attribute out; v1 refuses it when the attribute
# is indexed (StudyDescription is)
while IFS='|' read -r name cs bytes; do
	sop="$study.9.$RANDOM" st="$study.9$RANDOM"
	"$MKDCM" -o "$tmp/bad-$name.dcm" --study "$st" --series "$st.1" --sop "$sop" --set "0008,0005=CS:$cs" \
		--set "0008,1030=LO:$(printf "$bytes")"
	code=$(curl -s -o "$tmp/bad.json" -w '%{http_code}' -H 'Content-Type: application/dicom' \
		-H 'Accept: application/dicom+json' --data-binary @"$tmp/bad-$name.dcm" "$EMULATOR_URL/v2/studies")
	check "$code" 202 "$name: bytes not in $cs: stored with a warning (v2)"
	check "$(jget 'd["00081199"]["Value"][0]["00741048"]["Value"][0]["00000902"]["Value"][0]' < "$tmp/bad.json")" \
		"DICOM100: (0008,1030) - Value contains bytes that are not valid in the declared SpecificCharacterSet" \
		"  saying which attribute"
	check "$(curl -s "$EMULATOR_URL/v2/studies/$st/metadata" | jget '"00081030" in d[0]')" False "  the attribute is left out"
	curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st"
	code=$(curl -s -o "$tmp/bad1.json" -w '%{http_code}' -H 'Content-Type: application/dicom' \
		-H 'Accept: application/dicom+json' --data-binary @"$tmp/bad-$name.dcm" "$EMULATOR_URL/v1/studies")
	check "$code" 409 "$name: refused by v1 (an indexed attribute)"
	check "$(jget 'd["00081198"]["Value"][0]["00081197"]["Value"][0]' < "$tmp/bad1.json")" 43264 "  with 43264"
done <<'BAD'
utf8|ISO_IR 192|Caf\351 au lait
greek|ISO_IR 126|\301\342\256
BAD
finish
