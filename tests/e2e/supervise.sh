#!/usr/bin/env bash
# The stack's relay is supervised (scripts/up and scripts/check start it
# under multiwatch): killed with -9, it is running again within 2 s and
# delivers the events stored meanwhile. So are the responders (below).
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
tmp=$(mktemp -d)
pids_root=/sys/fs/cgroup/pids
cg=$pids_root/ade-supervise-$$
# the processes put into the test's cgroup (below) go back where they were
cg_release() {
	[ -d "$cg" ] || return 0
	echo max > "$cg/pids.max"
	local p
	for p in $(cat "$cg/cgroup.procs"); do echo "$p" > "$pids_root/cgroup.procs"; done
	rmdir "$cg"
}
trap 'cg_release; rm -rf "$tmp"' EXIT

old=$(relay_pids)
[ -n "$old" ] && ok "the stack's relay runs (pid $old)" || { not_ok "no relay runs"; finish; exit 1; }
kill -KILL $old
back=""
for _ in $(seq 1 20); do
	back=$(relay_pids)
	[ -n "$back" ] && [ "$back" != "$old" ] && break
	sleep 0.1
done
if [ -n "$back" ] && [ "$back" != "$old" ]; then ok "a new relay runs within 2 s (pid $back)"; else not_ok "the relay stayed dead"; fi

study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/a.dcm" --study "$study"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/a.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "an instance is stored after the kill"
# the stack's file subscription receives the event
delivered=0
for _ in $(seq 1 50); do
	grep -q "\"imageStudyInstanceUid\" *: *\"$study\"" "$VAR/log/events.jsonl" 2>/dev/null && { delivered=1; break; }
	sleep 0.1
done
check "$delivered" 1 "its event is delivered by the new relay"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"

# The responders too: killed, new ones start (multiwatch) and warm up
# before their first request (api/warm.c), which stores made-up instances
# in a transaction rolled back; the change feed's sequence goes on without
# a gap all the same.
# the change feed's latest entry as a client reads it: "sequence study"
latest() { curl -s "$EMULATOR_URL/v2/changefeed/latest" | jget 'str(d["sequence"]) + " " + d["studyInstanceUid"]'; }
# the responders and their kept children (which share their command
# line), told apart by the parent's name
is_kept_child() { [ "$(ps -o comm= -p "$(ps -o ppid= -p "$1" | tr -d ' ')")" = dicom-fcgi ]; }
responders_only() { for p in $(responder_pids); do is_kept_child "$p" || echo "$p"; done; }
kept_children() { for p in $(responder_pids); do is_kept_child "$p" && echo "$p"; done; }
warm_ups() { grep -c 'main\.c:[0-9]* warmed up in ' "$VAR/log/dicom-fcgi.log"; }
# kills the responders; once the new ones have warmed up (10 s at most),
# prints how many warm-ups were logged and how many responders were killed
restart_responders() {
	local old n warmed
	old=$(responders_only | tr '\n' ' ')
	n=$(echo "$old" | wc -w)
	warmed=$(warm_ups)
	# shellcheck disable=SC2086
	kill -KILL $old
	for _ in $(seq 1 100); do
		[ "$(warm_ups)" -ge $((warmed + n)) ] && break
		sleep 0.1
	done
	echo "$(($(warm_ups) - warmed))" "$n"
}
study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/b.dcm" --study "$study"
"$MKDCM" -o "$tmp/c.dcm" --study "$study"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/b.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "an instance is stored before the responders are killed"
read -r before _ < <(latest)
read -r fresh n < <(restart_responders)
check "$fresh" "$n" "each of the $n new responders warmed up"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/c.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "an instance is stored by the new responders"
check "$(latest)" "$((before + 1)) $study" "its change feed sequence follows the one before (no gap)"
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"

# A kept child lost in a request is replaced, and warmed up, after that
# request's answer, not in the next request; one killed from outside (the
# out-of-memory killer, an operator) is not the file's fault: the request
# is answered 503 with Retry-After, to be sent again. The children of
# every responder are stopped, a request is sent (its responder waits for
# its child), and they are killed.
renewals() { grep -c ' kept children renewed and warmed up in ' "$VAR/log/dicom-fcgi.log"; }
# with_children_killed NAME CURL-ARGS...: the request, its children killed
# under it; from new responders, so that every child is alive (a responder
# whose children were killed while it was idle starts new ones in its next
# request, which would not wait)
with_children_killed() {
	local name=$1 children
	shift
	restart_responders > /dev/null
	children=$(kept_children | tr '\n' ' ')
	# shellcheck disable=SC2086
	kill -STOP $children
	curl -s -o "$tmp/$name.body" -D "$tmp/$name.head" -w '%{http_code}' --max-time 60 "$@" > "$tmp/$name.code" &
	local client=$!
	sleep 1
	# shellcheck disable=SC2086
	kill -KILL $children
	wait "$client"
}
study="2.25.$$$RANDOM"
"$MKDCM" -o "$tmp/d.dcm" --study "$study"
renewed=$(renewals)
with_children_killed stow -H 'Content-Type: application/dicom' --data-binary @"$tmp/d.dcm" "$EMULATOR_URL/v2/studies"
check "$(cat "$tmp/stow.code")" 503 "a STOW whose parser was killed from outside is answered 503"
grep -qi '^Retry-After: ' "$tmp/stow.head" && ok "with Retry-After" || not_ok "no Retry-After: $(cat "$tmp/stow.head")"
for _ in $(seq 1 50); do
	[ "$(renewals)" -gt "$renewed" ] && break
	sleep 0.1
done
check "$(renewals)" "$((renewed + 1))" "its responder renewed its kept children after the answer"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/d.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "the same instance is stored when sent again"

# the same for a first rendering of a compressed frame (decoded by the
# kept renderer), whose renderer is killed under it
"$MKDCM" -o "$tmp/e.dcm" --study "$study" --series "$study.2" --sop "$study.2.1" --ts j2k
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/e.dcm" \
	"$EMULATOR_URL/v2/studies")" 200 "a JPEG 2000 instance is stored"
url="/v2/studies/$study/series/$study.2/instances/$study.2.1"
with_children_killed render -H 'Accept: image/jpeg' "$EMULATOR_URL$url/rendered"
check "$(cat "$tmp/render.code")" 503 "a rendering whose renderer was killed from outside is answered 503"
grep -qi '^Retry-After: ' "$tmp/render.head" && ok "with Retry-After" || not_ok "no Retry-After: $(cat "$tmp/render.head")"
check "$(curl -s -o "$tmp/r.jpg" -w '%{http_code}' -H 'Accept: image/jpeg' "$EMULATOR_URL$url/rendered")" 200 \
	"the rendering asked again is made"
check "$(head -c 2 "$tmp/r.jpg" | od -An -tx1 | tr -d ' ')" ffd8 "and is a JPEG"
# A child that cannot be started is not the file's fault either: with the
# responders in a cgroup that lets them no more processes (cgroup v1's pids
# controller; skipped where there is none to use), a transcoding, which
# forks one, is answered 503, and so is a STOW whose kept parser is gone.
explicit='Accept: multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1'
if [ "$(id -u)" = 0 ] && [ -w "$pids_root/cgroup.procs" ] && mkdir "$cg" 2>/dev/null; then
	restart_responders > /dev/null
	for p in $(responders_only); do echo "$p" > "$cg/cgroup.procs"; done
	wc -l < "$cg/cgroup.procs" > "$cg/pids.max"
	check "$(curl -s -o /dev/null -D "$tmp/t.head" -w '%{http_code}' -H "$explicit" "$EMULATOR_URL$url")" 503 \
		"a transcoding whose child cannot be started is answered 503"
	grep -qi '^Retry-After: ' "$tmp/t.head" && ok "with Retry-After" || not_ok "no Retry-After: $(cat "$tmp/t.head")"
	# the kept children (started before the move) killed while their
	# responders are idle: the next STOW's responder must start a new one
	# shellcheck disable=SC2046
	kill -KILL $(kept_children)
	"$MKDCM" -o "$tmp/f.dcm" --study "$study"
	check "$(curl -s -o /dev/null -D "$tmp/f.head" -w '%{http_code}' -H 'Content-Type: application/dicom' \
		--data-binary @"$tmp/f.dcm" "$EMULATOR_URL/v2/studies")" 503 "a STOW whose parser cannot be started is answered 503"
	grep -qi '^Retry-After: ' "$tmp/f.head" && ok "with Retry-After" || not_ok "no Retry-After: $(cat "$tmp/f.head")"
	echo max > "$cg/pids.max"
	check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/f.dcm" \
		"$EMULATOR_URL/v2/studies")" 200 "the STOW is stored once children can start again"
	check "$(curl -s -o "$tmp/t.body" -w '%{http_code}' -H "$explicit" "$EMULATOR_URL$url")" 200 \
		"and the transcoding is made"
	grep -q 'transfer-syntax=1\.2\.840\.10008\.1\.2\.1' "$tmp/t.body" && ok "in explicit VR little endian" ||
		not_ok "not in explicit VR little endian"
	cg_release
else
	echo "# skipped: a child that cannot be started (no cgroup v1 pids controller to use here)"
fi
curl -s -o /dev/null -X DELETE "$EMULATOR_URL/v2/studies/$study"
finish
