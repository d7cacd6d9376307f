#!/usr/bin/env bash
# A database outage is not the client's fault: STOW answers 503 with
# Retry-After as every other route does (not a final 409 / 272), nothing
# is stored, and once PostgreSQL is back the same request succeeds.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
tmp=$(mktemp -d)
cleanup() {
	pg_start >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/a.dcm" --study "$study"
post() {
	curl -s -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/dicom' \
		-H 'Accept: application/dicom+json' --data-binary @"$tmp/a.dcm" "$EMULATOR_URL/v2/studies"
}

pg_stop
check "$(post)" 503 "STOW during the outage answers 503"
check "$(cat "$tmp/body")" "The server is temporarily unable to store data." "with the service's message"
grep -qi '^Retry-After: 5' "$tmp/headers" && ok "and Retry-After" || not_ok "no Retry-After"
check "$(curl -s -o /dev/null -w '%{http_code}' "$EMULATOR_URL/v2/studies?StudyInstanceUID=$study")" 503 \
	"QIDO during the outage answers 503 too"
pg_start >/dev/null 2>&1
check "$(q "SELECT count(*) FROM instance WHERE study_uid = '$study'")" 0 "nothing was stored"
code=000
for _ in $(seq 1 20); do
	code=$(post)
	[ "$code" = 200 ] && break
	sleep 0.2
done
check "$code" 200 "the same STOW succeeds once the database is back"
check "$(q "SELECT count(*) FROM instance WHERE study_uid = '$study'")" 1 "stored once"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"
finish
