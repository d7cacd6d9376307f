#!/usr/bin/env bash
# End-to-end: the OHIF viewer served with the emulator, as scripts/up serves
# it (npm @ohif/app's prebuilt dist, its app-config.js made for /v2, on the
# same origin as the API), looked at with Debian's chromium: the study list
# shows a study stored through the API, and the viewer draws its pixels.
# The viewer's pages are cross-origin isolated; the API's answers are not.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
BUILD=$EMULATOR_BUILD
command -v chromium >/dev/null || { echo "chromium is not installed"; exit 1; }
side_stack_tmp
viewer_install "$tmp/www" && ok "the viewer (@ohif/app $OHIF_VERSION) is installed" || { not_ok "viewer install"; finish; exit 1; }
cp "$EMULATOR_VAR/conf/dicom.ini" "$tmp/dicom.ini"
SIDE_VIEWER=1 side_stack_start "$tmp" "$EMULATOR_STORE_DIR" || { not_ok "the stack with the viewer"; finish; exit 1; }
S=$SIDE_URL
hdr() { curl -s -D - -o /dev/null "$1" | tr -d '\r' | grep -i "^$2:" | cut -d' ' -f2-; }

check "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$S/")" "200 text/html; charset=utf-8" "/ is the viewer"
check "$(hdr "$S/" Cross-Origin-Opener-Policy)/$(hdr "$S/" Cross-Origin-Embedder-Policy)" "same-origin/require-corp" \
	"  cross-origin isolated"
check "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$S/viewer?StudyInstanceUIDs=1.2.3")" "200 text/html; charset=utf-8" \
	"a client-side route is answered with index.html"
grep -q "qidoRoot: window.location.origin + '/v2'" <(curl -s "$S/app-config.js") && ok "app-config.js names /v2" ||
	not_ok "app-config.js"
check "$(curl -s -o /dev/null -w '%{http_code}' "$S/v2/studies?limit=1")" 200 "the API is where it was"
check "$(hdr "$S/v2/studies?limit=1" Cross-Origin-Embedder-Policy)" "" "  and its answers are not isolated"
check "$(curl -s -o /dev/null -w '%{http_code}' "$S/health/check")" 200 "  the probe too"

st="2.25.$$$RANDOM" pid="VW-$$"
"$MKDCM" -o "$tmp/v.dcm" --study "$st" --series "$st.1" --sop "$st.1.1" --rows 256 --cols 256 --smooth \
	--set "0010,0010=PN:Viewer^Run$$" --set "0010,0020=LO:$pid" --set "0008,0060=CS:CT" --set "0028,1050=DS:2048" \
	--set "0028,1051=DS:4096"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/v.dcm" \
	"$S/v2/studies")" 200 "a study stored through the API"

browser() { # chromium, headless, as root too; ARGS...
	timeout 120 chromium --headless=new --no-sandbox --disable-dev-shm-usage --hide-scrollbars --mute-audio \
		--enable-unsafe-swiftshader \
		--user-data-dir="$tmp/chrome" --window-size=1280,900 "$@" 2>>"$tmp/chromium.log"
}
# the study list (the newest studies first) shows the patient's name as OHIF writes it
browser --virtual-time-budget=30000 --dump-dom "$S/" > "$tmp/list.html"
grep -q "Viewer, Run$$" "$tmp/list.html" && ok "the study list shows the study (chromium)" ||
	{ not_ok "the study list does not show Viewer, Run$$"; tail -5 "$tmp/chromium.log"; }

browser --virtual-time-budget=60000 --screenshot="$tmp/shot.png" \
	"$S/viewer?StudyInstanceUIDs=$st" >/dev/null
[ -s "$tmp/shot.png" ] && ok "the viewer's page was drawn" || not_ok "no screenshot"
# the viewport's pixels: the image's gradient gives many grey levels where
# an empty viewport has one
levels=$("$PY" - "$tmp/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ctype]
raw, stride = zlib.decompress(idat), w * bpp
rows, prev = [], bytearray(stride)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line); prev = line
# the middle of the window, where the single viewport sits
grey = set()
for y in range(h // 3, 2 * h // 3, 2):
    for x in range(w // 3, 2 * w // 3, 2):
        r, g, b = rows[y][x * bpp:x * bpp + 3]
        if r == g == b: grey.add(r)
print(len(grey))
PY
)
[ "${levels:-0}" -ge 20 ] && ok "the viewport shows the image ($levels grey levels in its middle)" ||
	{ not_ok "the viewport looks empty ($levels grey levels)"; tail -5 "$tmp/chromium.log"; }
curl -s -o /dev/null -X DELETE "$S/v2/studies/$st"
finish
