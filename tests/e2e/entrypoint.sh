#!/usr/bin/env bash
# The container's start-up script (docker/entrypoint.sh), run here outside a
# container with its paths moved: it must bring up responders, relay and
# lighttpd from nothing but environment variables, serve a store, deliver
# the event through EVENT_PROVIDERS, and stop everything on SIGTERM.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
BUILD=$EMULATOR_BUILD
tmp=$(mktemp -d "$EMULATOR_VAR/entrypoint.XXXXXX")
chmod 755 "$tmp"
mkdir -p "$tmp/share" "$tmp/etc"
ln -s "$ABS_TOP_SRCDIR/lighttpd/azure-dicom-emulator.conf.in" "$tmp/share/lighttpd.conf.in"
cp "$ABS_TOP_SRCDIR/conf/dicom.ini.sample" "$tmp/etc/dicom.ini"
port=$(free_port)
ep=""
cleanup() {
	[ -n "$ep" ] && kill -KILL -- -"$ep" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

setsid env ADE_STATE_DIR="$tmp/state" ADE_RUN_DIR="$tmp/run" ADE_BIN_DIR="$BUILD" ADE_SHARE_DIR="$tmp/share" \
	ADE_CONFIG="$tmp/etc/dicom.ini" EMULATOR_PORT="$port" EMULATOR_BIND=127.0.0.1 EMULATOR_RESPONDERS=2 \
	DICOM_DB_CONNINFO="$EMULATOR_DB_CONNINFO" \
	EVENT_PROVIDERS="[{\"type\": \"file\", \"enabled\": true, \"path\": \"$tmp/events.jsonl\", \"name\": \"entrypoint-test-$$\"}]" \
	sh "$ABS_TOP_SRCDIR/docker/entrypoint.sh" >"$tmp/out.log" 2>&1 &
ep=$!
up=0
for _ in $(seq 1 150); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && { up=1; break; }
	sleep 0.1
done
[ "$up" = 1 ] && ok "the entrypoint brings the stack up" || { not_ok "the stack did not come up"; tail -20 "$tmp/out.log"; finish; exit 1; }

st="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/x.dcm" --study "$st"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' -H 'Accept: application/dicom+json' \
	--data-binary @"$tmp/x.dcm" "http://127.0.0.1:$port/v2/studies")" 200 "it stores"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*' \
	"http://127.0.0.1:$port/v2/studies/$st")" 200 "it retrieves"
for _ in $(seq 1 100); do grep -q "$st" "$tmp/events.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q "\"imageStudyInstanceUid\":\"$st\"" "$tmp/events.jsonl" 2>/dev/null && ok "its relay delivered the event through EVENT_PROVIDERS" ||
	not_ok "no event in the file provider"

kill -TERM "$ep"
for _ in $(seq 1 100); do kill -0 "$ep" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ep" 2>/dev/null && not_ok "the entrypoint did not stop on SIGTERM" || ok "SIGTERM stops the entrypoint"
sleep 0.5
left=$(pgrep -f "$tmp" | wc -l)
check "$left" 0 "and everything it started"
ep=""
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$st"
finish
