#!/bin/sh
# Start-up of the emulator in a container (and of tests/e2e/entrypoint.sh,
# which runs this same script outside one): apply the schema, start the
# responders under multiwatch on a Unix socket, start outbox-relay, run
# lighttpd in the foreground. SIGTERM stops everything.
#
# Needs DICOM_DB_CONNINFO (or PGHOST, PGUSER, ...). EVENT_PROVIDERS (a JSON
# array) gives the relay its subscriptions. The paths default to the
# image's; ADE_STATE_DIR, ADE_RUN_DIR, ADE_BIN_DIR, ADE_SHARE_DIR and
# ADE_CONFIG move them.
set -eu
STATE=${ADE_STATE_DIR:-/var/lib/azure-dicom-emulator}
RUN=${ADE_RUN_DIR:-/run/azure-dicom-emulator}
BIN=${ADE_BIN_DIR:-/usr/bin}
SHARE=${ADE_SHARE_DIR:-/usr/share/azure-dicom-emulator}
CONF=${ADE_CONFIG:-/etc/azure-dicom-emulator/dicom.ini}
PORT=${EMULATOR_PORT:-8080}
N=${EMULATOR_RESPONDERS:-4}
BIND=${EMULATOR_BIND:-0.0.0.0}
export DICOM_STORE_DIR=${DICOM_STORE_DIR:-$STATE/store}

mkdir -p "$DICOM_STORE_DIR" "$STATE/tmp" "$STATE/www" "$RUN"
# lighttpd's configuration from the template scripts/up uses; logs to stderr
sed -e "s|@VAR@/run|$RUN|g" -e "s|@VAR@/store|$DICOM_STORE_DIR|g" -e "s|@VAR@|$STATE|g" -e "s|@PORT@|$PORT|g" \
    -e "s|^server.bind .*|server.bind          = \"$BIND\"|" \
    -e 's|^server.errorlog .*|server.errorlog      = "/dev/stderr"|' \
    -e 's|^accesslog.filename .*|accesslog.filename   = "/dev/stderr"|' \
    "$SHARE/lighttpd.conf.in" > "$RUN/lighttpd.conf"

# waits for the database (30 attempts) and applies the schema
"$BIN/dicom-fcgi" -c "$CONF" --migrate

spawn-fcgi -n -s "$RUN/dicom-fcgi.sock" -M 0660 -- \
    /usr/bin/multiwatch -f "$N" -s TERM -- "$BIN/dicom-fcgi" -c "$CONF" &
fcgi=$!
"$BIN/outbox-relay" -c "$CONF" &
relay=$!
i=0
while [ ! -S "$RUN/dicom-fcgi.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

lighttpd -D -f "$RUN/lighttpd.conf" &
web=$!
stop() {
    kill -TERM "$web" "$relay" "$fcgi" 2>/dev/null || true
    wait "$web" "$relay" "$fcgi" 2>/dev/null || true
    exit 0
}
trap stop TERM INT
# if any of the three ends, stop the rest: the container's supervisor restarts it
while kill -0 "$web" 2>/dev/null && kill -0 "$relay" 2>/dev/null && kill -0 "$fcgi" 2>/dev/null; do
    sleep 1
done
stop
