#!/usr/bin/env bash
# Expiry headers on STOW, POST and PUT (msdicom-expiry-*): bad values refused with 400 and
# nothing stored; a study stored with a 2 s expiry is deleted by the
# suite's outbox-relay as DELETE deletes it (files, rows, change feed Delete
# entries, DicomImageDeleted events); a later STOW without the headers
# clears a study's expiry; a later STOW with them sets it anew.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
U=$EMULATOR_URL/v2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
a=$(printf '2.25.%d%d1' "$$" "$RANDOM") b=$(printf '2.25.%d%d2' "$$" "$RANDOM")
"$MKDCM" -o "$tmp/a1.dcm" --study "$a" --series "$a.1" --sop "$a.1.1"
"$MKDCM" -o "$tmp/a2.dcm" --study "$a" --series "$a.1" --sop "$a.1.2"
"$MKDCM" -o "$tmp/b1.dcm" --study "$b" --series "$b.1" --sop "$b.1.1"
"$MKDCM" -o "$tmp/b2.dcm" --study "$b" --series "$b.1" --sop "$b.1.2"
T=msdicom-expiry-time-milliseconds O=msdicom-expiry-option L=msdicom-expiry-level
stow() { # FILE [HEADER...] -> status, body in $tmp/out
	local f=$1
	shift
	local h=()
	for x in "$@"; do h+=(-H "$x"); done
	curl -s -o "$tmp/out" -w '%{http_code}' -X "${METHOD:-POST}" "${h[@]}" -H 'Content-Type: application/dicom' \
		--data-binary @"$f" "$U/studies"
}

# bad and partial headers: 400 with a message, nothing stored
while IFS='|' read -r t o l want; do
	hs=()
	[ -n "$t" ] && hs+=("$T: $t")
	[ -n "$o" ] && hs+=("$O: $o")
	[ -n "$l" ] && hs+=("$L: $l")
	check "$(stow "$tmp/a1.dcm" "${hs[@]}")" 400 "expiry '$t' '$o' '$l' is refused"
	grep -q "$want" "$tmp/out" && ok "  saying: $(cat "$tmp/out")" || not_ok "  message: $(cat "$tmp/out")"
done <<'CASES'
-5|RelativeToNow|Study|is invalid
0|RelativeToNow|Study|is invalid
abc|RelativeToNow|Study|is invalid
1.5|RelativeToNow|Study|is invalid
99999999999999999999|RelativeToNow|Study|is invalid
2000|RelativeToStudyDate|Study|is not supported
2000|RelativeToNow|Series|is not supported
2000|||is missing
|RelativeToNow|Study|is missing
2000|RelativeToNow||is missing
CASES
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies/$a/metadata")" 404 "nothing was stored by the refused requests"

# a study that expires in 2 s
start=$(date +%s.%N)
check "$(stow "$tmp/a1.dcm" "$T: 2000" "$O: RelativeToNow" "$L: Study")" 200 "stored with a 2 s expiry"
check "$(METHOD=PUT stow "$tmp/a2.dcm" "$T: 2000" "$O: relativetonow" "$L: study")" 200 "a second instance by PUT, the same expiry"
check "$(METHOD=PUT stow "$tmp/a1.dcm" "$T: 0" "$O: RelativeToNow" "$L: Study")" 400 "PUT checks the headers as POST"
wa=$(q "SELECT string_agg(watermark::text, ' ') FROM instance WHERE study_uid = '$a'")
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies/$a/metadata")" 200 "it is there before its time"
# study b: stored with an expiry, then again without: never expires
check "$(stow "$tmp/b1.dcm" "$T: 1000" "$O: RelativeToNow" "$L: Study")" 200 "another study with a 1 s expiry"
check "$(stow "$tmp/b2.dcm")" 200 "then an instance without the headers"
check "$(q "SELECT expires_at IS NULL FROM study WHERE study_uid = '$b'")" t "the last STOW cleared its expiry"

gone=0
for _ in $(seq 1 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies/$a")" = 404 ] && { gone=1; break; }
	sleep 0.1
done
end=$(date +%s.%N)
check "$gone" 1 "the expired study is gone"
check "$(awk -v s="$start" -v e="$end" 'BEGIN { print (e - s >= 2 && e - s < 7) ? "in time" : e - s }')" "in time" \
	"deleted after its 2 s, within the relay's wake-up"
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies?StudyInstanceUID=$a")" 204 "QIDO no longer finds it"
check "$(q "SELECT count(*) FROM changefeed WHERE study_uid = '$a' AND action = 1")" 2 "a Delete change feed entry per instance"
check "$(q "SELECT count(*) FROM outbox WHERE event_type = 'Microsoft.HealthcareApis.DicomImageDeleted' AND subject LIKE '%/studies/$a/%'")" \
	2 "a DicomImageDeleted event per instance in the outbox"
# shellcheck disable=SC2086
check "$(stored_files $wa)" 0 "its files are removed"
check "$(events_delivered "$a" DicomImageDeleted 2)" 2 "both DicomImageDeleted events reach the file provider"
sleep 1
check "$(curl -s -o /dev/null -w '%{http_code}' "$U/studies/$b/metadata")" 200 "the study whose expiry was cleared stays"
curl -s -o /dev/null -X DELETE "$U/studies/$b"
finish
