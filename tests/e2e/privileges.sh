#!/usr/bin/env bash
# Who the stack runs as, and who may read what it keeps: the stack the suite
# runs on is started as scripts/up starts one. As root its responders (and
# their sandbox children), the relay, lighttpd and PostgreSQL run as the
# unprivileged user dicom-emulator with no capability left; otherwise as the
# caller. The store, the database socket and the event file are that user's
# alone (0750 directories, 0640 files: the group is the web server's in the
# packages); the services' database role is no superuser; --user cannot be
# used to change user by anyone but root; and a var/ directory that user
# cannot reach (a checkout under /root) moves to where it can.
set -u
. "$ABS_TOP_SRCDIR/tests/e2e/testlib.sh"
VAR=$EMULATOR_VAR
BUILD=$EMULATOR_BUILD
U=$EMULATOR_URL/v2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${moved:-}" ] && rm -rf "$moved"' EXIT

user=$(svc_user)
uid=$(id -u "$user")
is_root && [ "$uid" = 0 ] && { not_ok "as root the services' user must not be root"; finish; exit 1; }

# uid (real, effective, saved, filesystem) and effective capabilities of a process
ids_of() { awk '/^Uid:/ { u = $2 "," $3 "," $4 "," $5 } /^CapEff:/ { c = $2 } END { print u "/" c }' "/proc/$1/status"; }
want="$uid,$uid,$uid,$uid/0000000000000000"
check_procs() { # WHAT PID...
	local what=$1 p bad=""
	shift
	[ $# -gt 0 ] || { not_ok "$what: none running"; return; }
	for p in "$@"; do
		[ "$(ids_of "$p")" = "$want" ] || bad="$bad $p:$(ids_of "$p")"
	done
	[ -z "$bad" ] && ok "$what ($#) run as $user with no capability" || not_ok "$what:$bad (want $want)"
}

# a STOW first, so that each responder that served it has its sandbox child
s="2.25.$$${RANDOM}7"
"$MKDCM" -o "$tmp/a.dcm" --study "$s" --series "$s.1" --sop "$s.1.1"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/a.dcm" \
	"$U/studies")" 200 "an instance is stored"

# and a rendering of a compressed copy, so that a responder has its kept
# render child too
z="2.25.$$${RANDOM}8"
"$MKDCM" -o "$tmp/z.dcm" --study "$z" --series "$z.1" --sop "$z.1.1" --rows 64 --cols 64
gdcmconv --jpeg "$tmp/z.dcm" "$tmp/zj.dcm"
check "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/dicom' --data-binary @"$tmp/zj.dcm" \
	"$U/studies")" 200 "a JPEG lossless instance is stored"
check "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -H 'Accept: image/jpeg' \
	"$U/studies/$z/series/$z.1/instances/$z.1.1/rendered")" \
	"200 image/jpeg" "  and rendered"

responders=$(responder_pids)
# shellcheck disable=SC2086
check_procs "the responders and their children" $responders
children=""
for p in $responders; do children="$children $(pgrep -P "$p")"; done
# the parse child of the responders that stored, and a render child
# shellcheck disable=SC2086
[ "$(echo $children | wc -w)" -ge 2 ] && ok "the responders keep sandbox children ($(echo $children | wc -w))" ||
	not_ok "sandbox children: '$children' (want a parse and a render child at least)"
# shellcheck disable=SC2086
check_procs "their sandbox children" $children
# shellcheck disable=SC2046
check_procs "outbox-relay" $(relay_pids)
check_procs "lighttpd" "$(cat "$VAR/run/lighttpd.pid")"
pgdata="$(readlink -f "$VAR/pg")/data"
check_procs "PostgreSQL" "$(head -1 "$pgdata/postmaster.pid")"

# ---- files -------------------------------------------------------------------
mode() { stat -c '%U %a' "$1"; }
wm=$(q "SELECT watermark FROM instance WHERE sop_uid = '$s.1.1'")
f="$EMULATOR_STORE_DIR/$(printf '%02x' $((wm & 255)))/$wm.dcm"
check "$(mode "$EMULATOR_STORE_DIR")" "$user 750" "the store is the user's, closed to others"
check "$(mode "$(dirname "$f")")" "$user 750" "  and so is each of its directories"
check "$(mode "$f")" "$user 640" "  a stored file is readable by the user and its group only"
check "$(mode "$(readlink -f "$VAR/pg")/run")" "$user 700" "the database's socket directory is the user's alone"
check "$(stat -c %a "$(readlink -f "$VAR/pg")/run/.s.PGSQL.$EMULATOR_PG_PORT")" 700 "  and so is its socket"
for _ in $(seq 1 50); do grep -q "$s" "$VAR/log/events.jsonl" 2>/dev/null && break; sleep 0.1; done
check "$(mode "$VAR/log/events.jsonl")" "$user 640" "the event file is the user's (0640)"
check "$(q "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")" "f|f" \
	"the services' database role is no superuser and cannot make roles"

# ---- --user ------------------------------------------------------------------
if is_root; then
	out=$(as_svc "$BUILD/outbox-relay" -c "$VAR/conf/dicom.ini" --user root 2>&1)
	rc=$?
	check "$rc: $out" "1: outbox-relay: --user root: only root can change its user" \
		"as $user, --user root is refused"
	out=$("$BUILD/dicom-fcgi" -c "$VAR/conf/dicom.ini" --user no-such-user-$$ --migrate 2>&1)
	check "$?: $out" "1: dicom-fcgi: --user: no user 'no-such-user-$$'" "  an unknown user is refused"
	out=$("$BUILD/dicom-fcgi" -c "$VAR/conf/dicom.ini" --user "$user" --migrate 2>&1)
	check "$?" 0 "  root becomes $user for --migrate ($out)"
else
	out=$("$BUILD/dicom-fcgi" -c "$VAR/conf/dicom.ini" --user root --migrate 2>&1)
	check "$?: $out" "1: dicom-fcgi: --user root: only root can change its user" "--user root is refused"
fi

# ---- a var/ the user cannot reach ----------------------------------------------
if is_root; then
	mkdir -p "$tmp/home/checkout/var/log"
	chmod 700 "$tmp/home"
	echo kept > "$tmp/home/checkout/var/log/old.log"
	moved=$(EMULATOR_VAR="$tmp/home/checkout/var" bash -c '. "$1/scripts/lib.sh"; svc_setup 2>/dev/null; echo "$VAR"' _ "$ABS_TOP_SRCDIR")
	case "$moved" in
	/var/lib/azure-dicom-emulator-*) ok "a var/ under a closed directory moves ($moved)" ;;
	*) not_ok "var/ under a closed directory: $moved"; moved="" ;;
	esac
	check "$(readlink "$tmp/home/checkout/var")" "$moved" "  and is linked from where it was"
	check "$(cat "$moved/log/old.log" 2>&1)|$(mode "$moved")" "kept|$user 750" "  with what it held, the user's"
	as_svc test -w "$moved/store" && ok "  where the user can write" || not_ok "  $user cannot write $moved/store"
fi
finish
