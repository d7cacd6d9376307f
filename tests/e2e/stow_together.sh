#!/usr/bin/env bash
# The instances of one STOW request are committed several at a time (one
# transaction, one flush of the WAL for up to 16). Two requests racing
# over the same instances still store each instance once, with one
# success and one 45070 for each shared one; an instance that exists
# already fails alone while the rest of its request is stored. PUTs of
# the same instances in two orders and DELETEs of their study, all at
# once, wait for each other instead of deadlocking.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
U=$EMULATOR_URL/v2
body() { # NAME STUDY FROM TO [STEP]
	local f=$tmp/$1 i
	: > "$f"
	for i in $(seq "$3" "${5:-1}" "$4"); do
		[ -f "$tmp/$2-$i.dcm" ] || echo "-o $tmp/$2-$i.dcm --study $2 --series $2.1 --sop $2.1.$i"
	done | "$MKDCM" --batch || exit 1
	for i in $(seq "$3" "${5:-1}" "$4"); do
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

# PUTs (upserts) of one study's instances in two orders at once, and
# DELETEs of the study: the rows of a request are written in one order
# (by UID) and a delete takes the study row first, as a store does, so
# none deadlocks (before, about one request in seven was a 503, each
# after a second of PostgreSQL's deadlock_timeout)
st=2.25.$$$RANDOM
body fwd "$st" 1 8
body rev "$st" 8 1 -1
put() { # NAME
	curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H 'Content-Type: multipart/related; type="application/dicom"; boundary=b' \
		-H 'Accept: application/dicom+json' --data-binary @"$tmp/$1" "$U/studies"
}
for _ in $(seq 1 30); do put fwd; done > "$tmp/fwd.codes" &
p1=$!
for _ in $(seq 1 30); do put rev; done > "$tmp/rev.codes" &
p2=$!
for _ in $(seq 1 30); do put fwd; done > "$tmp/fwd2.codes" &
p3=$!
for _ in $(seq 1 30); do curl -s -o /dev/null -w '%{http_code}\n' -X DELETE "$U/studies/$st"; done > "$tmp/del.codes" &
p4=$!
wait "$p1" "$p2" "$p3" "$p4"
check "$(sort "$tmp/fwd.codes" "$tmp/rev.codes" "$tmp/fwd2.codes" | uniq -c | tr -s ' \n' ' ')" " 90 200 " \
	"90 racing PUTs: each 200 (none 503, none a partial 202)"
check "$(grep -cv '^204$\|^404$' "$tmp/del.codes")" 0 "30 racing DELETEs: each 204 or 404 ($(sort "$tmp/del.codes" | uniq -c | tr -s ' \n' ' '))"
check "$(put fwd)" 200 "then the study stored again"
check "$(q "SELECT count(*) FROM instance WHERE study_uid = '$st'")" 8 "  its 8 instances, each once"
check "$(sweep_orphans)" 0 "  no file left without a row"
finish
