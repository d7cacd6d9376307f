#!/usr/bin/env bash
# Rendered images and thumbnails are kept with their instance ([retrieve]
# render_cache, on by default): rendered once, then sent from the kept
# file (X-Sendfile behind lighttpd), one per frame, quality, viewport and
# media type; a delete takes them with the instance. Where the frames are
# is known from the store on (the store-time parse tells), so the first
# rendering needs no child to find them.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
U=$EMULATOR_URL/v2
st=2.25.$$$RANDOM
"$MKDCM" -o "$tmp/a.dcm" --study "$st" --series "$st.1" --sop "$st.1.1" --rows 64 --cols 48 --frames 2
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/a.dcm" "$U/studies")" 200 "stored"
inst="$U/studies/$st/series/$st.1/instances/$st.1.1"
wm=$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.1'")
kept="$EMULATOR_STORE_DIR/cache/$(printf '%02x' $((wm & 255)))/$wm"
get() { # URL [ACCEPT] -> status, body in $tmp/got
	curl -s -o "$tmp/got" -w '%{http_code}' -H "Accept: ${2:-image/jpeg}" "$1"
}

# frames of 64 x 48 16-bit pixels, one after the other after the header
size=$(stat -c %s "$tmp/a.dcm")
check "$(q "SELECT frame_ranges FROM instance WHERE watermark = $wm")" \
	"$((size - 2 * 6144)):6144;$((size - 6144)):6144" "where the frames are is kept as it is stored"
# ... as a frames request would have found them: forget, ask, compare
q "UPDATE instance SET frame_ranges = NULL WHERE watermark = $wm" >/dev/null
check "$(get "$inst/frames/2" 'application/octet-stream; transfer-syntax=*')" 200 "  a frame without them"
check "$(q "SELECT frame_ranges FROM instance WHERE watermark = $wm")" \
	"$((size - 2 * 6144)):6144;$((size - 6144)):6144" "  finds the same ranges"

check "$(get "$inst/rendered")" 200 "rendered"
cp "$tmp/got" "$tmp/first.jpg"
check "$(ls "$kept" 2>/dev/null | wc -l)" 1 "  one rendering is kept"
check "$(get "$inst/rendered")" 200 "rendered again"
cmp -s "$tmp/got" "$tmp/first.jpg" && ok "  the same bytes" || not_ok "the second answer differs"
# the kept file is what goes out: change it and the answer changes
k=$(ls "$kept"/*)
printf 'kept' >> "$k"
sleep 2 # lighttpd keeps a file's stat for a second
get "$inst/rendered" >/dev/null
check "$(tail -c 4 "$tmp/got")" kept "  the answer is the kept file"
check "$(get "$inst/rendered?quality=50")" 200 "another quality"
check "$(get "$inst/frames/2/rendered")" 200 "another frame"
check "$(get "$inst/rendered" image/png)" 200 "PNG"
head -c 8 "$tmp/got" | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$' && ok "  a PNG" || not_ok "not a PNG"
check "$(get "$inst/thumbnail?viewport=32,32")" 200 "a thumbnail"
check "$(get "$U/studies/$st/thumbnail?viewport=32,32")" 200 "the study's thumbnail (the same instance and size)"
check "$(ls "$kept" | wc -l)" 5 "  five renderings kept"
check "$(get "$inst/frames/3/rendered")" 404 "a frame that is not there: 404"
check "$(ls "$kept" | wc -l)" 5 "  and nothing kept for it"

check "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/studies/$st")" 204 "deleted"
[ -e "$kept" ] && not_ok "the renderings outlive the instance" || ok "  its renderings are gone"
check "$(get "$inst/rendered")" 404 "  and it is not rendered any more"
finish
