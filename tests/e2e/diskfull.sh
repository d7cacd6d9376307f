#!/usr/bin/env bash
# A full store is not the client's fault: on a store directory that is a
# small file system (tmpfs) filled up, STOW answers 503 with Retry-After
# and the service's message (single part and multipart), leaves no
# temp file, no row, no change feed entry and no event; what was stored
# before is still retrieved, rendered and described (a rendering that
# cannot be kept is sent anyway), a retrieve that needs a transcoded copy
# is a 503; a bulk update is left for later, not failed (until [relay]
# update_retry_seconds); once there is room again the update is done and
# the same requests succeed. Needs root (mount); skipped otherwise.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
is_root || { echo "diskfull.sh: needs root to mount a file system; skipped"; exit 77; }
tmp=$(mktemp -d "$EMULATOR_VAR/diskfull.XXXXXX")
chmod 755 "$tmp"
store="$tmp/store"
relay_pid=""
relay_stopped=0
cleanup() {
	[ -n "$relay_pid" ] && kill -TERM "$relay_pid" 2>/dev/null
	[ "$relay_stopped" = 1 ] && start_relay
	side_stack_stop "$tmp"
	mountpoint -q "$store" && umount "$store"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$store"
mount -t tmpfs -o size=4m,mode=0750 tmpfs "$store" || { echo "diskfull.sh: cannot mount a tmpfs; skipped"; exit 77; }
svc_dir "$store"
{ cat "$EMULATOR_VAR/conf/dicom.ini"; printf '\n[store]\ndir = %s\n' "$store"; } > "$tmp/dicom.ini"
side_stack_start "$tmp" "$store" || { not_ok "a stack on a 4 MiB store"; tail -5 "$tmp/log/dicom-fcgi.log"; finish; exit 1; }
S=$SIDE_URL/v2

st="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/a.dcm" --study "$st" --series "$st.1" --sop "$st.1.1" --rows 64 --cols 64
"$MKDCM" -o "$tmp/b.dcm" --study "$st" --series "$st.1" --sop "$st.1.2" --rows 512 --cols 512
"$MKDCM" -o "$tmp/c.dcm" --study "$st" --series "$st.1" --sop "$st.1.3" --rows 64 --cols 64
stow() { # FILE... -> status, body in $tmp/out, headers in $tmp/hdr
	local boundary=full
	multipart_body "$boundary" "$@" > "$tmp/body"
	curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' \
		-H "Content-Type: multipart/related; type=\"application/dicom\"; boundary=$boundary" \
		--data-binary @"$tmp/body" "$S/studies"
}
check "$(stow "$tmp/a.dcm")" 200 "an instance is stored while there is room"
instances() { q "SELECT count(*) FROM instance WHERE study_uid = '$st'"; }
events() { q "SELECT count(*) FROM outbox WHERE subject LIKE '%$st%'"; }
feed() { q "SELECT count(*) FROM changefeed WHERE study_uid = '$st'"; }
before="$(instances)/$(feed)/$(events)"

# fill it: what is left is less than a 512 x 512 instance
avail=$(df -B1 --output=avail "$store" | tail -1)
fallocate -l $((avail - 200 * 1024)) "$store/filler" || dd if=/dev/zero of="$store/filler" bs=1024 \
	count=$((avail / 1024 - 200)) status=none
check "$(stow "$tmp/b.dcm")" 503 "STOW of an instance larger than the room left: 503"
check "$(cat "$tmp/out")" "The server is temporarily unable to store data." "  with the service's error message"
grep -qi '^Retry-After:' "$tmp/hdr" && ok "  and Retry-After" || not_ok "  no Retry-After: $(cat "$tmp/hdr")"
check "$(stow "$tmp/c.dcm" "$tmp/b.dcm")" 503 "multipart STOW whose second instance does not fit: 503"
check "$(instances)/$(feed)/$(events)" "$before" "  no row, change feed entry or event of either"
check "$(find "$store/tmp" -type f | wc -l)" 0 "  no temp file left in the store"
check "$(find "$store" -name '*.dcm' | wc -l)" 1 "  no file of either (the first one's, renamed into place, removed)"
check "$(curl -s -o "$tmp/got.dcm" -w '%{http_code}' -H 'Accept: application/dicom; transfer-syntax=*' \
	"$S/studies/$st/series/$st.1/instances/$st.1.1")" 200 "the instance stored before is retrieved"
cmp -s "$tmp/got.dcm" "$tmp/a.dcm" && ok "  byte for byte" || not_ok "  its bytes differ"
# the rest of the room goes too: no rendering can be kept now
dd if=/dev/zero of="$store/filler2" bs=4096 status=none 2>/dev/null
check "$(curl -s -o "$tmp/r.jpg" -w '%{http_code} %{content_type}' -H 'Accept: image/jpeg' \
	"$S/studies/$st/series/$st.1/instances/$st.1.1/rendered")" "200 image/jpeg" \
	"  rendered on a full store (the rendering not kept)"
check "$(head -c 2 "$tmp/r.jpg" | od -An -tx1 | tr -d ' ')" ffd8 "  a JPEG"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/dicom+json' "$S/studies/$st/metadata")" 200 \
	"  its metadata answered"
J2K='Accept: application/dicom; transfer-syntax=1.2.840.10008.1.2.4.90'
check "$(curl -s -o "$tmp/t" -w '%{http_code}' -H "$J2K" "$S/studies/$st/series/$st.1/instances/$st.1.1")" 503 \
	"  a retrieve that needs a transcoded copy, which cannot be written: 503, not 406"
check "$(cat "$tmp/t")" "The server is temporarily unable to read data." "  with the service's message"

# a bulk update while the store is full: the new version cannot be written,
# which is this host's fault, not the instance's: it is left for later (the
# operation keeps running) and done once there is room; but not for ever:
# after [relay] update_retry_seconds (the service's retries, about 13
# minutes) the instance fails, as the service's study does once its
# activity's retries are spent
stop_relay
relay_stopped=1
relay() { # RELAY-SETTINGS...: a relay of the side stack, its log in $tmp/relay.log
	{ cat "$tmp/dicom.ini"; printf '\n[relay]\nlease_seconds = 5\n'; printf '%s\n' "$@"; } > "$tmp/relay.ini"
	# shellcheck disable=SC2046
	"$EMULATOR_BUILD/outbox-relay" -c "$tmp/relay.ini" $(svc_opt) >"$tmp/relay.log" 2>&1 &
	relay_pid=$!
}
stop_side_relay() { kill -TERM "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null; relay_pid=""; }
update() { # NAME -> status, the answer in $tmp/op
	curl -s -o "$tmp/op" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d "{\"studyInstanceUids\":[\"$st\"],\"changeDataset\":{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"$1\"}]}}}" \
		"$S/studies/\$bulkUpdate"
}
wm=$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.1'")
relay "update_retry_seconds = 2"
check "$(update Never^Roomy)" 202 "a bulk update accepted while the store is full, with a relay that retries for 2 s"
res=$(op_wait "$S" "$(jget 'd["id"]' < "$tmp/op")")
check "$(echo "$res" | jget 'd["status"], d["results"]["studyFailed"], d["results"]["instanceUpdated"], d["results"]["errors"]')" \
	"('failed', 1, 0, ['Failed to update instances for study $st'])" \
	"  it fails after that, with its study's line alone (as the service's, retries spent)"
grep -q "watermark=$wm failed: the store had no room for its new version for 2 s" "$tmp/relay.log" &&
	ok "  the relay's log says why" || not_ok "  relay log: $(tail -3 "$tmp/relay.log")"
check "$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.1'")" "$wm" "  the instance is as it was"
stop_side_relay

relay
check "$(update Roomy^Again)" 202 "a bulk update of the study accepted while the store is full"
op=$(jget 'd["id"]' < "$tmp/op")
for _ in $(seq 1 100); do grep -q 'left for later' "$tmp/relay.log" && break; sleep 0.1; done
grep -q "watermark=$wm left for later: cannot write the updated file" "$tmp/relay.log" &&
	ok "  the relay cannot write the new version and leaves it for later" || not_ok "  relay log: $(tail -3 "$tmp/relay.log")"
check "$(curl -s -o "$tmp/opnow" -w '%{http_code}' "$S/operations/$op") $(jget 'd["status"]' < "$tmp/opnow")" \
	"202 running" "  the operation is still running, not failed"
check "$(q "SELECT watermark FROM instance WHERE sop_uid = '$st.1.1'")" "$wm" "  the instance is as it was"
check "$(find "$store/tmp" -type f | wc -l)" 0 "  no temp file left in the store"

rm -f "$store/filler" "$store/filler2"
res=$(op_wait "$S" "$op")
check "$(echo "$res" | jget 'd["status"], d["results"]["instanceUpdated"]')" "('succeeded', 1)" \
	"with room again, the update resumes and succeeds"
curl -s -H 'Accept: application/dicom+json' "$S/studies/$st/series/$st.1/instances/$st.1.1/metadata" | grep -q 'Roomy^Again' &&
	ok "  the instance has the new name" || not_ok "  the new name is not in its metadata"
stop_side_relay
start_relay
relay_stopped=0

check "$(curl -s -o /dev/null -w '%{http_code}' -H "$J2K" "$S/studies/$st/series/$st.1/instances/$st.1.1")" 200 \
	"with room again, the transcoded retrieve succeeds"
check "$(stow "$tmp/c.dcm" "$tmp/b.dcm")" 200 "with room again, the same multipart STOW succeeds"
check "$(instances)/$(feed)" "3/4" "  its instances, change feed entries (and the update's)"
curl -s -o "$tmp/got.dcm" -H 'Accept: application/dicom; transfer-syntax=*' "$S/studies/$st/series/$st.1/instances/$st.1.2"
cmp -s "$tmp/got.dcm" "$tmp/b.dcm" && ok "  the large one retrieved byte for byte" || not_ok "  the large one differs"
curl -s -o /dev/null -X DELETE "$S/studies/$st"
finish
