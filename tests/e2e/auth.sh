#!/usr/bin/env bash
# End-to-end: [auth] mode = token. A stack over the suite's database that
# wants bearer tokens: keys made with openssl, tokens minted with
# dicom-fcgi --mint-token. No token, a malformed one, alg none, a wrong
# signature, an expired or not yet valid token, a wrong audience or
# issuer, two tokens: 401 with the service's challenge; no role: 403; a
# Reader token reads but may not store; an Owner token does everything;
# the probes and CORS preflight need none; verify_signature = false skips
# the signature only.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
side_stack_tmp

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
openssl pkey -in "$tmp/key.pem" -pubout -out "$tmp/public.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other.pem" 2>/dev/null
{
	cat "$EMULATOR_VAR/conf/dicom.ini"
	printf '\n[auth]\nmode = token\nkeys = %s\nsigning_key = %s\nissuer = https://sts.windows.net/emulator/, https://login.example/v2.0\n' \
		"$tmp/public.pem" "$tmp/key.pem"
} > "$tmp/dicom.ini"
side_stack_start "$tmp" "$EMULATOR_STORE_DIR" && ok "a stack with [auth] mode = token starts" || { not_ok "side stack"; finish; exit 1; }
S=$SIDE_URL/v2
mint() { "$EMULATOR_BUILD/dicom-fcgi" -c "$tmp/dicom.ini" --mint-token "$@"; }
owner=$(mint --role "DICOM Data Owner")
reader=$(mint --role "DICOM Data Reader")
norole=$(mint)
expired=$(mint --role "DICOM Data Owner" --minutes -10)
early=$(mint --role "DICOM Data Owner" --not-before-minutes 30)
wrong_aud=$(mint --role "DICOM Data Owner" --audience https://someone.else)
service_aud=$(mint --role "DICOM Data Owner" --audience "$SIDE_URL")
wrong_iss=$(mint --role "DICOM Data Owner" --issuer https://evil.example/)
other_key=$(mint --role "DICOM Data Owner" --key "$tmp/other.pem")
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
none="$(printf '{"alg":"none","typ":"JWT"}' | b64url).$(printf '%s' "$owner" | cut -d. -f2)."
get() { # TOKEN PATH -> status; headers in $tmp/hdr
	if [ -n "$1" ]; then
		curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' -H "Authorization: Bearer $1" "$S$2"
	else
		curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' "$S$2"
	fi
}
challenge() { grep -i '^www-authenticate:' "$tmp/hdr" | tr -d '\r'; }

st=2.25.$$$RANDOM
"$MKDCM" -o "$tmp/a.dcm" --study "$st" --series "$st.1" --sop "$st.1.1"
stow() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" -H 'Content-Type: application/dicom' \
	--data-binary @"$tmp/a.dcm" "$S/studies"; }

check "$(get "" "/studies")" 401 "no token: 401"
challenge | grep -q 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", resource_id="https://dicom.healthcareapis.azure.com"' &&
	ok "  with the service's challenge" || not_ok "  challenge: $(challenge)"
check "$(wc -c < "$tmp/out")" 0 "  and no body"
while IFS='|' read -r name token want why; do
	check "$(get "$token" "/studies")" "$want" "$name: $want"
	[ -z "$why" ] || { challenge | grep -qF "error=\"invalid_token\", error_description=\"$why" && ok "  saying: $why" || not_ok "  challenge: $(challenge)"; }
done <<CASES
a malformed token|not.a.token|401|The token
alg none|$none|401|The token's algorithm is not RS256.
another key's signature|$other_key|401|The signature is invalid.
an expired token|$expired|401|The token expired at
a token not yet valid|$early|401|The token is not valid before
a wrong audience|$wrong_aud|401|The audience is invalid.
a wrong issuer|$wrong_iss|401|The issuer is invalid.
a token without a role|$norole|403|
CASES
check "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $owner, Bearer $owner" "$S/studies")" 401 \
	"two tokens in the header: 401"
check "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic dXNlcjpwYXNz" "$S/studies")" 401 "Basic credentials: 401"

check "$(stow "$reader")" 403 "a Reader token may not store"
check "$(stow "$owner")" 200 "an Owner token stores"
check "$(get "$reader" "/studies/$st/metadata")" 200 "a Reader token reads metadata"
check "$(get "$reader" "/studies?StudyInstanceUID=$st")" 200 "  and searches"
check "$(get "$service_aud" "/studies/$st/metadata")" 200 "the service's own URL is an accepted audience"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $reader" "$S/studies/$st")" 403 \
	"a Reader token may not delete"
check "$(curl -s -o /dev/null -w '%{http_code}' "$SIDE_URL/health/check")" 200 "/health/check needs no token"
check "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: http://localhost:3000' \
	-H 'Access-Control-Request-Method: GET' "$S/studies")" 204 "a CORS preflight needs no token"
check "$(get "$owner" "/changefeed/latest")" 200 "the change feed answers an Owner token"
check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $owner" "$S/studies/$st")" 204 \
	"an Owner token deletes"

# verify_signature = false (as Azurite's basic OAuth): any key's token
# passes, the claims still count
side_stack_stop "$tmp"
sed -i 's|^mode = token|mode = token\nverify_signature = false|' "$tmp/dicom.ini"
side_stack_start "$tmp" "$EMULATOR_STORE_DIR" || { not_ok "the stack without signature checks"; finish; exit 1; }
S=$SIDE_URL/v2
check "$(get "$other_key" "/studies?StudyInstanceUID=$st")" 204 "verify_signature = false: another key's token passes"
check "$(get "$expired" "/studies")" 401 "  an expired one still does not"
check "$(get "$none" "/studies")" 401 "  nor alg none"
finish
