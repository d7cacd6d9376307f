#!/bin/sh
# Container start-up: apply the schema, start the responders under
# multiwatch on a Unix socket, run lighttpd in the foreground.
# Needs DICOM_DB_CONNINFO (or PGHOST/PGUSER/... ) pointing at PostgreSQL.
set -eu
VAR=/var/lib/azure-dicom-emulator
RUN=/run/azure-dicom-emulator
PORT=${EMULATOR_PORT:-8080}
N=${EMULATOR_RESPONDERS:-4}
CONF=/etc/azure-dicom-emulator/dicom.ini

mkdir -p "$VAR/store" "$VAR/tmp" "$VAR/www" "$RUN"
# lighttpd's config from the same template scripts/up uses; logs to stderr
sed -e "s|@VAR@/run|$RUN|g" -e "s|@VAR@/store|$VAR/store|g" -e "s|@VAR@|$VAR|g" -e "s|@PORT@|$PORT|g" \
    -e 's|^server.bind .*|server.bind          = "0.0.0.0"|' \
    -e 's|^server.errorlog .*|server.errorlog      = "/dev/stderr"|' \
    -e 's|^accesslog.filename .*|accesslog.filename   = "/dev/stderr"|' \
    /usr/share/azure-dicom-emulator/lighttpd.conf.in > "$RUN/lighttpd.conf"

# waits for the database (30 attempts) and applies the schema
dicom-fcgi -c "$CONF" --migrate

spawn-fcgi -n -s "$RUN/dicom-fcgi.sock" -M 0660 -- \
    /usr/bin/multiwatch -f "$N" -s TERM -r 1000 -- /usr/bin/dicom-fcgi -c "$CONF" &
i=0
while [ ! -S "$RUN/dicom-fcgi.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
exec lighttpd -D -f "$RUN/lighttpd.conf"
