#!/usr/bin/env bash
# End-to-end: https as scripts/up --https serves it. A self-signed
# certificate made by the scripts' tls_setup (for 127.0.0.1 and
# localhost), lighttpd speaking TLS in front of responders over the
# suite's database; curl verifies the certificate, and RetrieveURL says
# https. Plain http on that port gets no answer.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
side_stack_tmp

tls_setup "$tmp/tls"
[ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ] && ok "a self-signed certificate is made" || not_ok "no certificate"
check "$(openssl x509 -in "$TLS_CERT" -noout -ext subjectAltName | tail -1 | tr -d ' ')" "IPAddress:127.0.0.1,DNS:localhost" \
	"  for 127.0.0.1 and localhost"
cp "$EMULATOR_VAR/conf/dicom.ini" "$tmp/dicom.ini"
SIDE_TLS_CERT=$TLS_CERT SIDE_TLS_KEY=$TLS_KEY side_stack_start "$tmp" "$EMULATOR_STORE_DIR" &&
	ok "lighttpd serves https" || { not_ok "https stack"; cat "$tmp/log/lighttpd-error.log"; finish; exit 1; }
case "$SIDE_URL" in https://*) ok "  at $SIDE_URL" ;; *) not_ok "  at $SIDE_URL" ;; esac
port=${SIDE_URL##*:}

st=2.25.$$$RANDOM
"$MKDCM" -o "$tmp/a.dcm" --study "$st" --series "$st.1" --sop "$st.1.1"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' --cacert "$TLS_CERT" -H 'Content-Type: application/dicom' \
	--data-binary @"$tmp/a.dcm" "$SIDE_URL/v2/studies/$st")
check "$code" 200 "STOW over https, the certificate verified by curl"
check "$(jget 'd["00081190"]["Value"][0]' < "$tmp/out")" "https://127.0.0.1:$port/v2/studies/$st" "RetrieveURL says https"
check "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS_CERT" "https://localhost:$port/v2/studies/$st/metadata")" 200 \
	"the certificate is good for localhost too"
check "$(curl -s -o "$tmp/got.dcm" -w '%{http_code}' --cacert "$TLS_CERT" -H 'Accept: application/dicom; transfer-syntax=*' \
	"$SIDE_URL/v2/studies/$st/series/$st.1/instances/$st.1.1")" 200 "WADO over https"
cmp -s "$tmp/got.dcm" "$tmp/a.dcm" && ok "  byte for byte (X-Sendfile through TLS)" || not_ok "  the file differs"
check "$(curl -s -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/health")" 000 "a client that does not trust it is refused"
check "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/health")" 000 \
	"plain http on the https port gets no answer"
curl -s -o /dev/null --cacert "$TLS_CERT" -X DELETE "$SIDE_URL/v2/studies/$st"
finish
