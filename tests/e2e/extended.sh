#!/usr/bin/env bash
# The settings beyond the service, on a second stack: its own responders
# behind its own lighttpd, sharing the suite's database and store, with
# [retrieve] transcoding = all and bulkdata_uri = true. e2e_transcode runs
# against it, and against the suite's stack (the service's behaviour) for
# the same requests.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD

tmp=$(mktemp -d "$VAR/extended.XXXXXX")
chmod 755 "$tmp"
mkdir -p "$tmp/run" "$tmp/log" "$tmp/www" "$tmp/tmp"
cleanup() {
	[ -f "$tmp/run/lighttpd.pid" ] && kill -TERM "$(cat "$tmp/run/lighttpd.pid")" 2>/dev/null
	[ -f "$tmp/run/multiwatch.pid" ] && kill -TERM "$(cat "$tmp/run/multiwatch.pid")" 2>/dev/null
	pkill -f "dicom-fcgi -c $tmp/dicom.ini" 2>/dev/null
	sleep 0.5
	# responder logs join the suite's, so that scripts/check sees sanitizer reports
	cat "$tmp/log/dicom-fcgi.log" >> "$VAR/log/dicom-fcgi.log" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# the suite's settings, then these (a key read again takes the later value)
{ cat "$VAR/conf/dicom.ini"; printf '\n[retrieve]\ntranscoding = all\nbulkdata_uri = true\n'; } > "$tmp/dicom.ini"
# lighttpd: the shipped template, with the suite's store for X-Sendfile
xport=$(free_port)
sed -e "s|@VAR@/store|$VAR/store|g" -e "s|@VAR@|$tmp|g" -e "s|@PORT@|$xport|g" \
	"$ABS_TOP_SRCDIR/lighttpd/azure-dicom-emulator.conf.in" > "$tmp/lighttpd.conf"
setsid spawn-fcgi -n -s "$tmp/run/dicom-fcgi.sock" -M 0660 -- /usr/bin/multiwatch -f 2 -s TERM -- \
	/bin/sh -c "exec '$BUILD/dicom-fcgi' -c '$tmp/dicom.ini' 2>>'$tmp/log/dicom-fcgi.log'" >/dev/null 2>&1 &
echo $! > "$tmp/run/multiwatch.pid"
for _ in $(seq 1 100); do [ -S "$tmp/run/dicom-fcgi.sock" ] && break; sleep 0.05; done
lighttpd -f "$tmp/lighttpd.conf" || { not_ok "lighttpd did not start"; cat "$tmp/log/lighttpd-error.log"; finish; exit 1; }
up=0
for _ in $(seq 1 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$xport/health")" = 200 ] && { up=1; break; }
	sleep 0.1
done
[ "$up" = 1 ] && ok "a second stack with transcoding = all answers" || { not_ok "the second stack did not answer"; finish; exit 1; }

if EMULATOR_AZURE_URL="$EMULATOR_URL" EMULATOR_URL="http://127.0.0.1:$xport" "$BUILD/tests/e2e/e2e_transcode" >"$tmp/e2e_transcode.log" 2>&1; then
	ok "e2e_transcode ($(grep -o '[0-9]* test(s)' "$tmp/e2e_transcode.log" | head -1))"
else
	not_ok "e2e_transcode"
	grep -E '^\[  (ERROR|FAILED)|LINE|differ|status|error' "$tmp/e2e_transcode.log" | head -20
fi
finish
