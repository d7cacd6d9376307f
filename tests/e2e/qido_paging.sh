#!/usr/bin/env bash
# QIDO pages, newest first: a search with no filter, only UIDs or a
# Modality (whose value is written into the statement) reads its keys
# within a bound written into its statement (the smallest power of two, at
# least 16, over offset + limit; src/db/qido.c), a search with any other
# filter (here a date range) does not. Pages across those bounds hold the
# same instances as the unbounded form. A Modality of other characters
# than a code string's is passed as a parameter, and finds nothing.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
U=$EMULATOR_URL/v2
st=2.25.$$$RANDOM
N=40
stored=0
for k in $(seq 1 $N); do
	echo "-o $tmp/i$k.dcm --study $st --series $st.1 --sop $st.1.$k --rows 4 --cols 4 --set 0008,0020=DA:20240102 --set 0008,0060=CS:MR"
done | "$MKDCM" --batch || exit 1
for k in $(seq 1 $N); do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/i$k.dcm" "$U/studies")
	[ "$code" = 200 ] && stored=$((stored + 1))
done
check "$stored" $N "$N instances stored"
# newest first: the last stored comes first
expected() { # OFFSET LIMIT
	seq $N -1 1 | tail -n +$(($1 + 1)) | head -n "$2" | sed "s/^/$st.1./" | paste -sd' '
}
page() { # OFFSET LIMIT [FILTER]: the SOP Instance UIDs, or the status when not 200
	local code
	code=$(curl -s -o "$tmp/page" -w '%{http_code}' -H 'Accept: application/dicom+json' \
		"$U/instances?StudyInstanceUID=$st&offset=$1&limit=$2${3:+&$3}")
	[ "$code" = 200 ] || { echo "$code"; return; }
	jget '" ".join(i["00080018"]["Value"][0] for i in d)' < "$tmp/page"
}
for p in "0 10" "0 16" "0 17" "5 12" "15 20" "16 16" "30 20" "39 5" "0 200"; do
	set -- $p
	want=$(expected "$1" "$2")
	check "$(page "$1" "$2" "SeriesInstanceUID=$st.1")" "$want" "offset $1, limit $2, a UID filter"
	check "$(page "$1" "$2" "StudyDate=20240101-20240103")" "$want" "  the same with a range filter"
	check "$(page "$1" "$2" "Modality=mr")" "$want" "  the same with a Modality (in lower case)"
done
check "$(page 0 5 "Modality=CT")" 204 "another Modality: none"
check "$(page 0 5 "Modality=M%27R")" 204 "a Modality with a quote (a parameter, not written): none"
check "$(page 0 5 "Modality=M%27%29%20OR%20true--")" 204 "  nor with what would end the statement's text"
studies() { # FILTER: the Study Instance UIDs found, or the status
	local code
	code=$(curl -s -o "$tmp/page" -w '%{http_code}' -H 'Accept: application/dicom+json' \
		"$U/studies?StudyInstanceUID=$st&$1")
	[ "$code" = 200 ] || { echo "$code"; return; }
	jget '" ".join(i["0020000D"]["Value"][0] for i in d)' < "$tmp/page"
}
check "$(studies "ModalitiesInStudy=MR")" "$st" "ModalitiesInStudy=MR finds the study"
check "$(studies "ModalitiesInStudy=mr")" "$st" "  in lower case too"
check "$(studies "ModalitiesInStudy=CT")" 204 "  CT does not"
check "$(page 40 5 "SeriesInstanceUID=$st.1")" 204 "past the last: 204, as the service answers an empty search"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$st")" 204 "deleted"
finish
