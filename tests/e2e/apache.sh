#!/usr/bin/env bash
# The end-to-end programs again, through a real Apache httpd 2.4 with
# mod_proxy_fcgi and mod_xsendfile, using the shipped apache/ snippet (only
# its socket and store paths substituted). Apache gets its own responder
# pool: mod_xsendfile knows X-Sendfile but not lighttpd's X-Sendfile2.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
command -v apache2 >/dev/null || [ -x /usr/sbin/apache2 ] || { echo "apache2 is not installed"; exit 1; }
mods=/usr/lib/apache2/modules

tmp=$(mktemp -d "$VAR/apache.XXXXXX")
chmod 755 "$tmp"
pids=()
cleanup() {
	[ -f "$tmp/apache.pid" ] && kill -TERM "$(cat "$tmp/apache.pid")" 2>/dev/null
	{ for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p"; done; } 2>/dev/null
	pkill -f "dicom-fcgi -c $tmp/dicom.ini" 2>/dev/null
	sleep 0.5
	rm -rf "$tmp"
}
trap cleanup EXIT

# Apache will not run as root: as root it runs as the stack's user, whose
# store it sends files from (in the packages: www-data, the responders' group)
if is_root; then
	run_as="User $SVC_USER
Group $SVC_USER"
else
	run_as=""
fi
sock="$tmp/dicom-fcgi.sock"
sed -e 's|^x_sendfile2 =.*|x_sendfile2 = false|' "$VAR/conf/dicom.ini" > "$tmp/dicom.ini"
# shellcheck disable=SC2046
spawn-fcgi -n -s "$sock" -M 0660 $(svc_sock_opts) -- /usr/bin/multiwatch -f 2 -s TERM -- \
	/bin/sh -c "exec '$BUILD/dicom-fcgi' -c '$tmp/dicom.ini' $(svc_opt) 2>>'$tmp/dicom-fcgi.log'" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done

aport=$(free_port) sport=$(free_port)
tls_setup "$tmp/tls"
# the error documents where Apache's user reaches them (a checkout may sit
# in a directory only its owner enters, as mktemp -d makes one)
cp -r "$ABS_TOP_SRCDIR/www/errors" "$tmp/errors"
chmod -R a+rX "$tmp/errors"
sed -e "s|/run/azure-dicom-emulator/dicom-fcgi.sock|$sock|" -e "s|/var/lib/azure-dicom-emulator/store|$VAR/store|" \
	-e "s|/usr/share/azure-dicom-emulator/www/errors/|$tmp/errors/|" \
	"$ABS_TOP_SRCDIR/apache/azure-dicom-emulator.conf" > "$tmp/snippet.conf"
cat > "$tmp/apache2.conf" <<CONF
ServerRoot /etc/apache2
ServerName localhost
Listen 127.0.0.1:$aport
PidFile $tmp/apache.pid
DefaultRuntimeDir $tmp
Mutex file:$tmp default
ErrorLog $tmp/error.log
LogFormat "%h %r %>s %b" short
CustomLog $tmp/access.log short
$run_as
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_host_module $mods/mod_authz_host.so
LoadModule setenvif_module $mods/mod_setenvif.so
LoadModule alias_module $mods/mod_alias.so
LoadModule headers_module $mods/mod_headers.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_fcgi_module $mods/mod_proxy_fcgi.so
LoadModule xsendfile_module $mods/mod_xsendfile.so
LoadModule ssl_module $mods/mod_ssl.so
DocumentRoot $tmp
Include $tmp/snippet.conf
# https, as the snippet's comment shows it
Listen 127.0.0.1:$sport
<VirtualHost 127.0.0.1:$sport>
    SSLEngine on
    SSLCertificateFile $TLS_CERT
    SSLCertificateKeyFile $TLS_KEY
</VirtualHost>
CONF
/usr/sbin/apache2 -f "$tmp/apache2.conf" -t >/dev/null 2>&1 && ok "the shipped snippet passes apache2 -t" ||
	{ not_ok "apache2 -t: $(/usr/sbin/apache2 -f "$tmp/apache2.conf" -t 2>&1 | head -3)"; finish; exit 1; }
/usr/sbin/apache2 -f "$tmp/apache2.conf" -k start
up=0
for _ in $(seq 1 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$aport/health")" = 200 ] && { up=1; break; }
	sleep 0.1
done
[ "$up" = 1 ] && ok "Apache answers through the responders" || { not_ok "Apache did not answer"; cat "$tmp/error.log"; finish; exit 1; }
server=$(curl -s -D - -o /dev/null "http://127.0.0.1:$aport/health" | tr -d '\r' | sed -n 's/^Server: //Ip')
case "$server" in Apache*) ok "the answers come from Apache ($server)" ;; *) not_ok "Server header: $server" ;; esac

# the C programs, now through Apache: STOW with a chunked body and 200 MB, WADO, QIDO, ...
for t in e2e_stow e2e_wado e2e_delete e2e_qido e2e_changefeed e2e_misc; do
	if EMULATOR_URL="http://127.0.0.1:$aport" "$BUILD/tests/e2e/$t" >"$tmp/$t.log" 2>&1; then
		ok "$t through Apache ($(grep -o '[0-9]* test(s)' "$tmp/$t.log" | head -1))"
	else
		not_ok "$t through Apache"
		grep -E '^\[  (ERROR|FAILED)|LINE' "$tmp/$t.log" | head -10
	fi
done
# https through Apache, the made certificate verified by curl
st="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/t.dcm" --study "$st" --series "$st.1" --sop "$st.1.1"
code=$(curl -s -o "$tmp/t.out" -w '%{http_code}' --cacert "$TLS_CERT" -H 'Content-Type: application/dicom' \
	--data-binary @"$tmp/t.dcm" "https://127.0.0.1:$sport/v2/studies/$st")
check "$code" 200 "STOW over https through Apache"
check "$(jget 'd["00081190"]["Value"][0]' < "$tmp/t.out")" "https://127.0.0.1:$sport/v2/studies/$st" "  RetrieveURL says https"
# a kept metadata answer ([retrieve] metadata_cache) goes out through
# mod_xsendfile with the responder's ETag and Content-Type
q "UPDATE instance SET created_at = created_at - interval '1 minute' WHERE study_uid = '$st'" >/dev/null
meta() { curl -s -D "$tmp/mh$1" -o "$tmp/m$1" -w '%{http_code}' -H 'Accept: application/dicom+json' \
	"http://127.0.0.1:$aport/v2/studies/$st/metadata"; }
check "$(meta 1)$(meta 2)" 200200 "a settled study's metadata twice through Apache"
wm=$(q "SELECT watermark FROM instance WHERE study_uid = '$st'")
ls "$EMULATOR_STORE_DIR/cache/$(printf '%02x' $((wm & 255)))/$wm/" 2>/dev/null | grep -q '^metadata-' &&
	ok "  kept" || not_ok "no metadata answer kept"
cmp -s "$tmp/m1" "$tmp/m2" && ok "  the kept answer is the same" || not_ok "the kept answer differs"
hdr() { tr -d '\r' < "$tmp/mh$1" | sed -n "s/^$2: //Ip"; }
check "$(hdr 2 ETag)|$(hdr 2 Content-Type)" "$(hdr 1 ETag)|application/dicom+json" "  with its ETag and Content-Type"
check "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS_CERT" -X DELETE "https://localhost:$sport/v2/studies/$st")" 204 \
	"  and the certificate holds for localhost"
n=$(grep -c . "$tmp/access.log")
[ "$n" -gt 100 ] && ok "Apache's access log holds the requests ($n)" || not_ok "Apache's access log: $n lines"

# the responders' own errors keep their answers (no ErrorDocument for them)
check "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$aport/v2/studies?PatientName=%C3%28")" 400 \
	"the responders' own errors pass through"
# no responder at all: Apache's 503 in the service's form
{ for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p"; done; } 2>/dev/null
pids=()
pkill -KILL -f "dicom-fcgi -c $tmp/dicom.ini" 2>/dev/null
rm -f "$sock"
curl -s -D "$tmp/h" -o "$tmp/b" "http://127.0.0.1:$aport/v2/studies" >/dev/null
check "$(head -n 1 "$tmp/h" | cut -d' ' -f2)" 503 "no responders: 503"
check "$(cat "$tmp/b")" "$(cat "$ABS_TOP_SRCDIR/www/errors/503.txt")" "  with the service's plain-text message"
check "$(tr -d '\r' < "$tmp/h" | sed -n 's/^Retry-After: //Ip')" 5 "  and Retry-After"
tr -d '\r' < "$tmp/h" | grep -qi '^Content-Type: text/plain' && ok "  as text/plain" || not_ok "Content-Type: $(grep -i '^Content-Type' "$tmp/h")"
finish
