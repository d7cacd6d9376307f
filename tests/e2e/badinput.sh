#!/usr/bin/env bash
# End-to-end: a catalogue of bad input, table-driven: multipart framing,
# DICOM content, UIDs, query parameters, JSON bodies, headers and paths.
# Each case asserts the status and the service's body (its plain-text or
# JSON message, or the DICOM JSON failure), that nothing was stored, and
# every 25 cases that the stack answers its health probe.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
U=$EMULATOR_URL
st=2.25.$$$RANDOM

# bodies the cases name with @NAME
# 64 x 64 pixels: the pixel data is most of the file, so its half ends
# inside a value (a cut that fell between two elements of a tiny image
# left a complete data set without pixel data, rightly stored)
"$MKDCM" -o "$tmp/ok.dcm" --study "$st" --series "$st.1" --sop "$st.1.1" --rows 64 --cols 64
size=$(stat -c %s "$tmp/ok.dcm")
for cut in 10 100 132 200 400 $((size / 2)) $((size - 1)); do head -c "$cut" "$tmp/ok.dcm" > "$tmp/cut$cut.dcm"; done
cp "$tmp/cut$((size / 2)).dcm" "$tmp/half.dcm"
cp "$tmp/cut$((size - 1)).dcm" "$tmp/short1.dcm"
head -c 4096 /dev/urandom > "$tmp/random.bin"
printf 'DICM' > "$tmp/dicm.bin"
{ head -c 128 /dev/zero; printf 'DICM'; head -c 64 /dev/urandom; } > "$tmp/preamble-junk.dcm"
# meta header elements whose lengths (0xFFFFFF01; under an unknown VR) run
# far past the end of the file (found by scripts/fuzz)
cp "$ABS_TOP_SRCDIR/tests/fuzz/corpus/probe/meta-length-past-end.dcm" "$ABS_TOP_SRCDIR/tests/fuzz/corpus/probe/meta-unknown-vr-huge-length.dcm" "$tmp/"
"$MKDCM" -o "$tmp/nosop.dcm" --study "$st" --series "$st.1" --drop 0008,0018
"$MKDCM" -o "$tmp/nostudy.dcm" --series "$st.1" --sop "$st.1.2" --drop 0020,000D
"$MKDCM" -o "$tmp/noseries.dcm" --study "$st" --sop "$st.1.3" --drop 0020,000E
"$MKDCM" -o "$tmp/noclass.dcm" --study "$st" --series "$st.1" --sop "$st.1.4" --drop 0008,0016
"$MKDCM" -o "$tmp/badsop.dcm" --study "$st" --series "$st.1" --sop "1.2.abc"
"$MKDCM" -o "$tmp/longsop.dcm" --study "$st" --series "$st.1" --sop "1.$(printf '2%.0s' $(seq 1 70))"
# a line break in a value the log quotes (the SOP Instance UID of a failure)
"$MKDCM" -o "$tmp/nlsop.dcm" --study "$st" --series "$st.1" --sop "$(printf '1.2.3\nforged-%s' "$st")"
"$MKDCM" -o "$tmp/nopid.dcm" --study "$st" --series "$st.1" --sop "$st.1.5" --drop 0010,0020
"$MKDCM" -o "$tmp/other-study.dcm" --study "$st.9" --series "$st.9.1" --sop "$st.9.1.1"
mp() { # NAME BOUNDARY PART... : a multipart body from raw pieces (printf formats)
	local f=$tmp/$1 b=$2
	shift 2
	: > "$f"
	for piece in "$@"; do
		case "$piece" in
			@*) cat "$tmp/${piece#@}" >> "$f" ;;
			*) printf -- "$piece" >> "$f" ;;
		esac
	done
}
CTD='Content-Type: application/dicom\r\n'
mp mp-ok b "--b\r\n$CTD\r\n" @ok.dcm "\r\n--b--\r\n"
mp mp-noclose b "--b\r\n$CTD\r\n" @ok.dcm "\r\n"
mp mp-nodelim b "no delimiter at all"
mp mp-png b "--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n"
mp mp-second-notype b "--b\r\n$CTD\r\n" @ok.dcm "\r\n--b\r\n\r\nxx\r\n--b--\r\n"
mp mp-junk b "--b\r\n$CTD\r\n" @random.bin "\r\n--b--\r\n"
mp mp-empty-part b "--b\r\n$CTD\r\n\r\n--b--\r\n"
mp mp-len-long b "--b\r\n${CTD}Content-Length: 99999\r\n\r\n" @ok.dcm "\r\n--b--\r\n"
mp mp-len-short b "--b\r\n${CTD}Content-Length: 10\r\n\r\n" @ok.dcm "\r\n--b--\r\n"
mp mp-len-bad b "--b\r\n${CTD}Content-Length: ten\r\n\r\n" @ok.dcm "\r\n--b--\r\n"
mp mp-len-huge b "--b\r\n${CTD}Content-Length: 3000000000\r\n\r\nxx\r\n--b--\r\n"
mp mp-header-long b "--b\r\n${CTD}X-Long: $(head -c 20000 /dev/zero | tr '\0' a)\r\n\r\nxx\r\n--b--\r\n"
mp mp-no-headers-end b "--b\r\n${CTD}xx\r\n--b--\r\n"
mp mp-zero b "--b--\r\n"
mp mp-half b "--b\r\n$CTD\r\n" @half.dcm "\r\n--b--\r\n"
mp mp-two-bad b "--b\r\n$CTD\r\n" @random.bin "\r\n--b\r\n$CTD\r\n" @dicm.bin "\r\n--b--\r\n"
mp mp-nosop b "--b\r\n$CTD\r\n" @nosop.dcm "\r\n--b--\r\n"
mp mp-bad-ct-param b "--b\r\nContent-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n" @ok.dcm "\r\n--b--\r\n"
printf '[{"Path":"PatientAge","Level":"Study"}' > "$tmp/json-trunc"
MPT='multipart/related; type="application/dicom"; boundary=b'

# method | path | Content-Type | body (@file, text, or -) | extra header | status | body text (substring)
# (a path's {st} is this run's study UID)
cases=$(cat <<'TABLE'
POST|/v2/studies|MPT|@mp-noclose||400|The request body is not a valid multipart/related message.
POST|/v2/studies|MPT|@mp-nodelim||400|not a valid multipart/related message
POST|/v2/studies|MPT|@mp-png||415|The specified content type 'image/png' is not supported.
POST|/v2/studies|MPT|@mp-second-notype||415|The specified content type '' is not supported.
POST|/v2/studies|MPT|@mp-junk||409|"00081197":{"vr":"US","Value":[43264]}
POST|/v2/studies|MPT|@mp-empty-part||409|43264
POST|/v2/studies|MPT|@mp-len-long||400|
POST|/v2/studies|MPT|@mp-len-short||400|
POST|/v2/studies|MPT|@mp-len-bad||400|
POST|/v2/studies|MPT|@mp-len-huge||413|The request exceeded the allowed limit of 2147483648 bytes.
POST|/v2/studies|MPT|@mp-header-long||400|
POST|/v2/studies|MPT|@mp-no-headers-end||400|
POST|/v2/studies|MPT|@mp-zero||204|
POST|/v2/studies|MPT|@mp-half||409|43264
POST|/v2/studies|MPT|@mp-two-bad||409|43264
POST|/v2/studies|MPT|@mp-nosop||409|43264
POST|/v2/studies|MPT|@mp-bad-ct-param||415|is not supported.
POST|/v2/studies|multipart/related; type="application/dicom"|@mp-ok||415|is either not multipart or is missing boundary.
POST|/v2/studies|multipart/related; type="application/dicom"; boundary=|@mp-ok||415|is either not multipart or is missing boundary.
POST|/v2/studies|multipart/related; type="application/dicom"; boundary=zz|@mp-ok||400|not a valid multipart/related message
POST|/v2/studies|multipart/related; type="application/dicom"; boundary=b; start=x|@mp-ok||400|The start parameter in multipart/related request is not supported.
POST|/v2/studies|multipart/form-data; boundary=b|@mp-ok||415|is not supported.
POST|/v2/studies|multipart/mixed; boundary=b|@mp-ok||415|is not supported.
POST|/v2/studies|text/plain|hello||415|The specified content type 'text/plain' is not supported.
POST|/v2/studies|application/json|{}||415|is not supported.
POST|/v2/studies|application/dicom; charset=utf-8|@ok.dcm||415|is not supported.
POST|/v2/studies|-|@ok.dcm||415|is not supported.
POST|/v2/studies|MPT|-||400|The request body is missing.
POST|/v2/studies|application/dicom|-||409|43264
POST|/v2/studies|application/dicom|@random.bin||409|43264
POST|/v2/studies|application/dicom|@dicm.bin||409|43264
POST|/v2/studies|application/dicom|@preamble-junk.dcm||409|43264
POST|/v2/studies|application/dicom|@meta-length-past-end.dcm||409|43264
POST|/v2/studies|application/dicom|@meta-unknown-vr-huge-length.dcm||409|43264
POST|/v2/studies|application/dicom|@cut10.dcm||409|43264
POST|/v2/studies|application/dicom|@cut100.dcm||409|43264
POST|/v2/studies|application/dicom|@cut132.dcm||409|43264
POST|/v2/studies|application/dicom|@cut200.dcm||409|43264
POST|/v2/studies|application/dicom|@cut400.dcm||409|43264
POST|/v2/studies|application/dicom|@half.dcm||409|43264
POST|/v2/studies|application/dicom|@short1.dcm||409|43264
POST|/v2/studies|application/dicom|@nosop.dcm||409|43264
POST|/v2/studies|application/dicom|@nostudy.dcm||409|43264
POST|/v2/studies|application/dicom|@noseries.dcm||409|43264
POST|/v2/studies|application/dicom|@noclass.dcm||409|43264
POST|/v2/studies|application/dicom|@badsop.dcm||409|43264
POST|/v2/studies|application/dicom|@longsop.dcm||409|43264
POST|/v2/studies|application/dicom|@nlsop.dcm||409|43264
POST|/v1/studies|application/dicom|@nopid.dcm||409|The required tag '(0010,0020)' is missing.
POST|/v2/studies/{st}|application/dicom|@other-study.dcm||409|43264
POST|/v2/studies/{st}.|application/dicom|@ok.dcm||400|failed validation for VR 'UI'
POST|/v2/studies/{st}|application/dicom|@ok.dcm|Accept: application/dicom|406|
POST|/v2/studies|application/dicom|@ok.dcm|Accept: text/html|406|
POST|/v2/studies|application/dicom|@ok.dcm|msdicom-expiry-time-milliseconds: -1|400|go together
POST|/v2/studies|application/dicom|@ok.dcm|msdicom-expiry-option: RelativeToNow|400|is missing
GET|/v2/studies/abc||||400|Dicom element 'StudyInstanceUid' failed validation for VR 'UI'
GET|/v2/studies/{st}.||||400|failed validation for VR 'UI'
GET|/v2/studies/1.2.3/series/x.y||||400|Dicom element 'SeriesInstanceUid' failed validation
GET|/v2/studies/1.2.3/series/1.2.4/instances/a||||400|Dicom element 'SopInstanceUid' failed validation
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/metadata/x||||404|
GET|/v2/studies/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa||||400|failed validation for VR 'UI'
GET|/v2/studies/1.2.3%00||||400|The request is invalid.
GET|/v2/studies/1.2.3%2F4||||404|
DELETE|/v2/studies/abc||||400|failed validation for VR 'UI'
DELETE|/v2/studies/1.2.3/series/1.2.4/instances/a||||400|failed validation
GET|/v2/workitems/1.2.x||||400|failed validation for VR 'UI'
GET|/v2/studies?limit=0||||400|The field Limit must be between 1 and 200.
GET|/v2/studies?limit=201||||400|The field Limit must be between 1 and 200.
GET|/v2/studies?limit=abc||||400|The value 'abc' is not valid for Limit.
GET|/v2/studies?limit=||||400|Limit
GET|/v2/studies?offset=-1||||400|The query parameter 'Offset' is invalid.
GET|/v2/studies?offset=x||||400|Offset
GET|/v2/studies?StudyDate=2020||||400|is invalid for attribute 'StudyDate'
GET|/v2/studies?StudyDate=20201301||||400|StudyDate
GET|/v2/studies?StudyDate=20200101-2019||||400|StudyDate
GET|/v2/studies?includefield=NotATag||||400|IncludeField has unknown attribute 'NotATag'.
GET|/v2/studies?includefield=all,PatientID||||400|cannot specify included fields in addition to 'all'.
GET|/v2/studies?fuzzymatching=maybe||||400|is not valid for FuzzyMatching.
GET|/v2/studies?00100020=a&00100020=b||||400|Duplicate AttributeId '00100020'.
GET|/v2/studies?Rows=512||||400|is not queryable
GET|/v2/studies?SOPInstanceUID=1.2.3||||400|is not queryable
GET|/v2/studies?Modality=CT||||400|is not queryable
GET|/v2/studies/1.2.3/series?SOPInstanceUID=1.2||||400|is not queryable
GET|/v2/series?StudyDate=x||||400|StudyDate
GET|/v2/instances?limit=500||||400|The field Limit must be between 1 and 200.
GET|/v2/studies?PatientName=%C3%28||||400|is not valid UTF-8.
GET|/v2/studies?PatientID=%E9||||400|is not valid UTF-8.
GET|/v1/studies?AccessionNumber=%C3%28||||400|is not valid UTF-8.
GET|/v2/studies?NotAKeyword=1||||400|
GET|/v2/studies?PatientName=<script>||||400|The query string included invalid characters.
GET|/v2/studies?x=%3Cb%3E||||400|The query string included invalid characters.
GET|/v2/changefeed?startTime=2020-01-01T00:00:00||||400|Date and time value must specify a time zone.
GET|/v2/changefeed?startTime=yesterday||||400|StartTime
GET|/v2/changefeed?startTime=2021-01-01T00:00:00Z&endTime=2020-01-01T00:00:00Z||||400|must occur strictly before the end time
GET|/v2/changefeed?limit=0||||400|The field Limit must be between 1 and 200.
GET|/v2/changefeed?limit=201||||400|Limit
GET|/v2/changefeed?offset=-5||||400|Offset
GET|/v1/changefeed?limit=101||||400|The field limit must be between 1 and 100.
GET|/v1/changefeed?offset=x||||400|offset
GET|/v2/changefeed?includeMetadata=maybe||||400|is not valid for includeMetadata.
GET|/v2/changefeed/latest?includeMetadata=2||||400|includeMetadata
GET|/v2/extendedquerytags?limit=0||||400|The field Limit must be between 1 and 200.
GET|/v2/extendedquerytags?offset=-1||||400|Offset
GET|/v2/extendedquerytags/NotATag||||400|cannot be parsed into a valid Dicom Tag.
GET|/v2/extendedquerytags/0010101||||400|
GET|/v2/extendedquerytags/00101010||||404|The specified extended query tag with tag path 00101010 cannot be found.
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/frames/0||||400|all requested frames must have value greater than 0.
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/frames/abc||||400|Unable to parse value 'abc'
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/frames/1,,2||||400|
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/frames/-1||||400|
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/rendered?quality=0||||400|Image quality must be between 1 and 100 inclusive
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/rendered?quality=101||||400|Image quality must be between 1 and 100 inclusive
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/rendered?quality=x||||400|
GET|/v2/studies/1.2.3/thumbnail?viewport=0,0||||400|The specified viewport value is not valid.
GET|/v2/studies/1.2.3/thumbnail?viewport=5000,5000||||400|The specified viewport value is not valid.
GET|/v2/studies/1.2.3/thumbnail?viewport=abc||||400|viewport
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/bulkdata/zz||||400|The specified bulk data path is not valid.
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/bulkdata/7FE00010/0||||400|
GET|/v2/workitems?limit=500||||400|The field Limit must be between 1 and 200.
GET|/v2/workitems?Modality=CT||||400|is not queryable.
GET|/v2/operations/xyz||||404|
GET|/v2/operations/00000000000000000000000000000000||||404|
POST|/v2/extendedquerytags|application/json|not json||400|The syntax of the request body is invalid.
POST|/v2/extendedquerytags|application/json|@json-trunc||400|The syntax of the request body is invalid.
POST|/v2/extendedquerytags|application/json|{}||400|
POST|/v2/extendedquerytags|application/json|[]||400|The extended query tag(s) is missing.
POST|/v2/extendedquerytags|application/json|[1]||400|
POST|/v2/extendedquerytags|application/json|[{"Path":"PatientName","Level":"Study"}]||400|is already supported.
POST|/v2/extendedquerytags|application/json|[{"Path":"00101010","Level":"Nope"}]||400|Expected value 'Nope' to be one of the following values
POST|/v2/extendedquerytags|application/json|[{"Path":"00101010","VR":"DA","Level":"Study"}]||400|is incorrectly specified
POST|/v2/extendedquerytags|text/plain|[{"Path":"00101010","Level":"Study"}]||415|
PATCH|/v2/extendedquerytags/00101010|application/json|{"queryStatus":"Sometimes"}||404|cannot be found.
POST|/v2/studies/$bulkUpdate|application/json|{}||400|The required field 'StudyInstanceUids' is missing or empty.
POST|/v2/studies/$bulkUpdate|application/json|{"studyInstanceUids":["x.y"],"changeDataset":{}}||400|failed validation for VR 'UI'
POST|/v2/studies/$bulkUpdate|application/json|{"studyInstanceUids":["1.2.3"]}||400|The required field 'ChangeDataset' is missing or empty.
POST|/v2/studies/$bulkUpdate|application/json|{"studyInstanceUids":["1.2.3"],"changeDataset":{"00080060":{"vr":"CS","Value":["CT"]}}}||400|Updating the tag is not supported
POST|/v2/studies/$bulkUpdate|application/json|{"studyInstanceUids":["1.2.3"],"changeDataset":{"zzzz":{"vr":"CS"}}}||400|DICOM100
POST|/v2/studies/$bulkUpdate|application/json|[]||400|
POST|/v2/studies/$bulkUpdate|text/plain|{}||415|
POST|/v1/studies/$bulkUpdate|application/json|{}||404|
POST|/v2/export|application/json|{}||400|Unsupported export source ''.
POST|/v2/export|application/json|{"source":{"type":"identifiers","settings":{"values":["a"]}}}||400|was not recognized as a valid DICOM identifier.
POST|/v2/export|application/json|{"source":{"type":"identifiers","settings":{"values":["1.2"]}},"destination":{"type":"azureblob","settings":{}}}||400|needs blobContainerUri
POST|/v2/export|application/json|{"source":{"type":"identifiers","settings":{"values":["1.2"]}},"destination":{"type":"azureblob","settings":{"blobContainerUri":"ftp://x/y"}}}||400|must be an http or https URL.
POST|/v2/export|application/json|not json||400|The syntax of the request body is invalid.
POST|/v2/workitems|application/dicom+json|not json||400|The syntax of the request body is invalid.
POST|/v2/workitems|application/dicom+json|{}||400|must be a JSON array
POST|/v2/workitems|application/dicom+json|[]||400|must be a JSON array
POST|/v2/workitems|application/dicom+json|[1]||400|must be a JSON array
POST|/v2/workitems|application/dicom+json|[{}]||400|The required tag '(0008,1195)' is missing.
POST|/v2/workitems|application/json|[{}]||415|
PUT|/v2/workitems/1.2.3/state|application/dicom+json|[{}]||400|The required tag '(0008,1195)' is missing.
PUT|/v2/workitems/1.2.3/state|application/dicom+json|[{"00081195":{"vr":"UI","Value":["x"]}}]||400|failed validation for VR 'UI'
POST|/v2/workitems/1.2.3/cancelrequest|application/dicom+json|[{}]||404|The workitem instance is not found.
POST|/debug/events/replay|application/json|{}||400|
POST|/debug/events/replay|application/json|{"subscription":"nope","fromSequence":1,"toSequence":1}||404|The subscription 'nope' is not known.
POST|/debug/events/replay|application/json|{"subscription":"nope","fromSequence":1e300,"toSequence":-1e999}||404|The subscription 'nope' is not known.
GET|/debug/events?status=weird||||400|must be pending, delivered, dead or dropped.
GET|/v4/studies||||404|
GET|/v2||||404|
GET|/v2/||||404|
GET|/v2/studies/1.2.3/unknown||||404|
GET|/studies/1.2.3||||404|
PUT|/v2/studies/1.2.3/series/1.2.4||||405|
PATCH|/v2/studies||||405|
DELETE|/v2/studies||||405|
POST|/v2/changefeed|application/json|{}||405|
GET|/v2/partitions||||400|Data partitions feature is disabled.
GET|/v2/partitions/p1/studies||||400|Data partitions feature is disabled.
GET|/v2/studies|||Accept: application/xml|406|
GET|/v2/studies/1.2.3/metadata|||Accept: application/dicom|406|
GET|/v2/studies/1.2.3|||Accept: text/html|406|The request headers are not acceptable
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5|||Accept: application/dicom; transfer-syntax=1.2.3|406|
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/frames/1|||Accept: image/gif|406|
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/rendered|||Accept: image/gif|406|
GET|/v2/studies/1.2.3/series/1.2.4/instances/1.2.5/rendered|||Accept: image/jpeg, image/png|406|multiple accept headers
GET|/v2/studies|||Host: evil.example|400|The request's Host is not one this server answers for.
TABLE
)

before=$(q "SELECT count(*) FROM instance")
wm0=$(q "SELECT coalesce(max(watermark), 0) FROM instance")
n=0
while IFS='|' read -r method path ct body header want text; do
	[ -n "$method" ] || continue
	n=$((n + 1))
	path=${path//\{st\}/$st}
	args=(-s -o "$tmp/out" -w '%{http_code}' -X "$method")
	[ "$ct" = MPT ] && ct=$MPT
	if [ "$ct" = - ]; then args+=(-H 'Content-Type:'); elif [ -n "$ct" ]; then args+=(-H "Content-Type: $ct"); fi
	[ -n "$header" ] && args+=(-H "$header")
	case "$body" in
		@*) args+=(--data-binary @"$tmp/${body#@}") ;;
		-) args+=(--data-binary "") ;;
		"") ;;
		*) args+=(--data-binary "$body") ;;
	esac
	[ "$method" = POST ] && [[ $path == */studies* ]] && stow=1 || stow=0
	[ "$stow" = 1 ] && had=$(q "SELECT count(*) FROM instance")
	code=$(curl "${args[@]}" "$U$path")
	if [ "$stow" = 1 ] && [ "$(q "SELECT count(*) FROM instance")" != "$had" ]; then
		not_ok "$method $path${header:+ ($header)} with $body stored an instance (answered $code)"
	fi
	if [ "$code" = "$want" ] && { [ -z "$text" ] || grep -qF -- "$text" "$tmp/out"; }; then
		ok "$method $path${header:+ ($header)}: $code"
	else
		not_ok "$method $path${header:+ ($header)}: $code $(head -c 200 "$tmp/out"), expected $want $text"
	fi
	if [ $((n % 25)) = 0 ]; then
		check "$(curl -s -o /dev/null -w '%{http_code}' "$U/health/check")" 200 "  the stack is healthy after $n cases"
	fi
done <<< "$cases"
[ "$n" -ge 150 ] && ok "$n cases" || not_ok "only $n cases"
check "$(q "SELECT count(*) FROM instance")" "$before" "nothing was stored by any of them"
# what was, if anything: this run's study ($st) or another test's
q "SELECT 'stored meanwhile: ' || study_uid || ' ' || sop_uid || ' at ' || created_at FROM instance
   WHERE watermark > $wm0 ORDER BY watermark"
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/health/check")" 200 "the stack is healthy at the end"
# every log entry is one line: the SOP UID's line break became a space
check "$(grep -c "^forged-$st" "$EMULATOR_VAR/log/dicom-fcgi.log")/$(grep -c "sop='1.2.3 forged-$st'" "$EMULATOR_VAR/log/dicom-fcgi.log")" \
	"0/1" "the log quotes a value with a line break on one line"
finish
