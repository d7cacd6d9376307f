#!/usr/bin/env bash
# The instances of one STOW request are committed several at a time (one
# transaction, one flush of the WAL for up to 16). Two requests racing
# over the same instances still store each instance once, with one
# success and one 45070 for each shared one; an instance that exists
# already fails alone while the rest of its request is stored.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
U=$EMULATOR_URL/v2
body() { # NAME STUDY FROM TO
	local f=$tmp/$1 i
	: > "$f"
	for i in $(seq "$3" "$4"); do
		[ -f "$tmp/$2-$i.dcm" ] || "$MKDCM" -o "$tmp/$2-$i.dcm" --study "$2" --series "$2.1" --sop "$2.1.$i"
		printf -- '--b\r\nContent-Type: application/dicom\r\n\r\n' >> "$f"
		cat "$tmp/$2-$i.dcm" >> "$f"
		printf '\r\n' >> "$f"
	done
	printf -- '--b--\r\n' >> "$f"
}
post() { # NAME -> status; answer in $tmp/NAME.out
	curl -s -o "$tmp/$1.out" -w '%{http_code}' -H 'Content-Type: multipart/related; type="application/dicom"; boundary=b' \
		-H 'Accept: application/dicom+json' --data-binary @"$tmp/$1" "$U/studies"
}
count() { # FILE CODE: failures with that code in a STOW answer
	grep -o "\"00081197\":{\"vr\":\"US\",\"Value\":\[$2\]}" "$1" | wc -l
}

for round in 1 2 3; do
	st=2.25.$$$RANDOM$round
	body a "$st" 1 20
	body b "$st" 11 30
	post a > "$tmp/a.code" &
	pa=$!
	post b > "$tmp/b.code" &
	pb=$!
	wait "$pa" "$pb"
	codes="$(cat "$tmp/a.code") $(cat "$tmp/b.code")"
	case "$codes" in *503* | *500* | "") not_ok "round $round: answered $codes" ;; *) ok "round $round: two racing requests answered $codes" ;; esac
	check "$(q "SELECT count(*) FROM instance WHERE study_uid = '$st'")" 30 "  30 instances stored, each once"
	check "$(( $(count "$tmp/a.out" 45070) + $(count "$tmp/b.out" 45070) ))" 10 "  the 10 shared ones refused once each (45070)"
	check "$(q "SELECT count(*) FROM changefeed WHERE study_uid = '$st'")" 30 "  30 change feed entries"
	check "$(q "SELECT count(*) FROM outbox WHERE payload->'data'->>'imageStudyInstanceUid' = '$st'")" 30 "  30 events"
done

# one that exists already: it fails, the rest of its request is stored
st=2.25.$$$RANDOM
body one "$st" 3 3
check "$(post one)" 200 "an instance stored"
body five "$st" 1 5
check "$(post five)" 202 "a request of five with it again: 202"
check "$(count "$tmp/five.out" 45070)" 1 "  that one refused (45070)"
check "$(q "SELECT count(*) FROM instance WHERE study_uid = '$st'")" 5 "  the other four stored"
finish
