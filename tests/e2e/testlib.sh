# Shared by the shell end-to-end tests. Sourced, not run: skips (exit 77)
# without a stack, fails without one when EMULATOR_REQUIRE_STACK=1, loads
# scripts/lib.sh, and gives the TAP-like helpers and a database query.
# shellcheck shell=bash
if [ -z "${EMULATOR_URL:-}" ] || [ -z "${EMULATOR_VAR:-}" ]; then
	[ "${EMULATOR_REQUIRE_STACK:-0}" = 1 ] && { echo "no stack configured"; exit 1; }
	echo "no stack (EMULATOR_URL unset): skipped"; exit 77
fi
. "$ABS_TOP_SRCDIR/scripts/lib.sh"
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
failures=()
not_ok() { echo "not ok - $*"; fail=$((fail + 1)); failures+=("$*"); }
check() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', expected '$2')"; fi; }
# A statement that changes rows is followed by dicom-fcgi --changed, as
# README asks of a change made by hand: the responders' kept lookups go.
q() {
	psql "$EMULATOR_DB_CONNINFO" -Atc "$1" || return
	case "${1^^}" in UPDATE* | INSERT* | DELETE* | WITH*) changed ;; esac
}
changed() { "$EMULATOR_BUILD/dicom-fcgi" -c "$EMULATOR_VAR/conf/dicom.ini" --changed; }
# Runs dicom-fcgi --sweep (every age) and prints how many of the store's
# files then have no row: none point at them as a current or an original
# version.
sweep_orphans() {
	"$EMULATOR_BUILD/dicom-fcgi" -c "$EMULATOR_VAR/conf/dicom.ini" --sweep --min-age 0 >/dev/null 2>>"$EMULATOR_VAR/log/dicom-fcgi.log"
	comm -23 <(find "$EMULATOR_STORE_DIR" -name '*.dcm' -printf '%f\n' | sed 's/\.dcm$//' | sort -u) \
		<(q "SELECT watermark FROM instance UNION SELECT original_watermark FROM instance WHERE original_watermark IS NOT NULL" | sort -u) | wc -l
}
# A multipart/related body with the files as its parts, each
# application/dicom, on standard output.
multipart_body() { # BOUNDARY FILE...
	local boundary=$1 f
	shift
	for f in "$@"; do
		printf -- '--%s\r\nContent-Type: application/dicom\r\n\r\n' "$boundary"
		cat "$f"
		printf '\r\n'
	done
	printf -- '--%s--\r\n' "$boundary"
}
# How many of the watermarks' files the suite's store holds.
stored_files() { # WATERMARK...
	local n=0 w
	for w in "$@"; do
		[ -e "$EMULATOR_STORE_DIR/$(printf '%02x' $((w & 255)))/$w.dcm" ] && n=$((n + 1))
	done
	echo "$n"
}
# The events of a type for a study that the suite's file provider wrote,
# waiting up to 5 s for want of them.
events_delivered() { # STUDY TYPE WANT
	local n=0
	for _ in $(seq 1 50); do
		n=$(grep "studies/$1/" "$EMULATOR_VAR/log/events.jsonl" 2>/dev/null | grep -c "$2")
		[ "$n" = "$3" ] && break
		sleep 0.1
	done
	echo "$n"
}
# Debian's python, where python3-pydicom is (not one a PATH may put first);
# jget EXPR evaluates a Python expression over the JSON on stdin (as d).
PY=/usr/bin/python3
jget() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
# The operation's JSON once it is finished (200), waiting up to 30 s.
op_wait() { # BASE-URL ID
	local o=""
	for _ in $(seq 1 300); do
		o=$(curl -s -w '\n%{http_code}' "$1/operations/$2")
		[ "${o##*$'\n'}" = 200 ] && break
		sleep 0.1
	done
	printf '%s' "${o%$'\n'*}"
}
# A relay configuration for work caught mid-way: the suite's database,
# store and events, one instance a step, a rest between steps.
slow_relay_config() { # FILE PAUSE-MS
	{
		awk '/^\[(database|store|events)\]/{on=1; print; next} /^\[/{on=0} on' "$EMULATOR_VAR/conf/dicom.ini"
		printf '[relay]\nlease_seconds = 5\noperation_batch = 1\noperation_pause_ms = %s\n' "$2"
	} > "$1"
}
# Waits (10 s at most) until an operation has at least MIN items of a
# status; prints how many it has.
items_wait() { # OPERATION STATUS MIN
	local n=0
	for _ in $(seq 1 200); do
		n=$(q "SELECT count(*) FROM operation_item WHERE operation_id = '$1'::uuid AND status = '$2'")
		[ "$n" -ge "$3" ] && break
		sleep 0.05
	done
	echo "$n"
}
# Azurite, Microsoft's SDKs and puppeteer-core from npm, installed once per build
# directory; sets NPMDIR (its node_modules are the tests' too).
npm_packages() {
	NPMDIR=${EMULATOR_NPM_DIR:-$EMULATOR_BUILD/npm}
	if [ ! -x "$NPMDIR/node_modules/.bin/azurite-blob" ] || [ ! -d "$NPMDIR/node_modules/@azure/storage-queue" ] ||
		[ ! -d "$NPMDIR/node_modules/@azure/storage-blob" ] || [ ! -d "$NPMDIR/node_modules/puppeteer-core" ]; then
		mkdir -p "$NPMDIR"
		# puppeteer-core drives Debian's chromium: it downloads no browser
		(cd "$NPMDIR" && npm install --no-audit --no-fund --silent azurite@3.35.0 @azure/storage-queue@12.27.0 \
			@azure/storage-blob@12.27.0 puppeteer-core@24.43.1 >npm.log 2>&1) ||
			{ echo "npm install failed:"; tail -20 "$NPMDIR/npm.log"; exit 1; }
	fi
}
# Starts one of Azurite's services (queue or blob) on a free port, in
# memory; sets AZURITE_PORT and AZURITE_PID, or fails the test.
azurite_start() { # SERVICE LOG
	AZURITE_PORT=$(free_port)
	"$NPMDIR/node_modules/.bin/azurite-$1" "--$1Host" 127.0.0.1 "--$1Port" "$AZURITE_PORT" --inMemoryPersistence \
		--silent --disableTelemetry --skipApiVersionCheck --loose >"$2" 2>&1 &
	AZURITE_PID=$!
	for _ in $(seq 1 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_PORT") 2>/dev/null && { ok "Azurite's $1 service listens"; return 0; }
		sleep 0.1
	done
	not_ok "Azurite did not start in 60 s"
	cat "$2"
	return 1
}
# Azurite's well-known development account key.
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
# the closing line, and the exit status
finish() {
	# the failures again at the end, where a log's tail shows them
	local f
	for f in "${failures[@]}"; do echo "# failed: $f"; done
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}

# A second stack beside the suite's: its own responders (two) behind its
# own lighttpd, from the shipped template, with the settings in $1/dicom.ini
# and the store dir $2 (for X-Sendfile); https with SIDE_TLS_CERT and
# SIDE_TLS_KEY set. Sets SIDE_URL. Its responders'
# log joins the suite's in side_stack_stop, so that scripts/check sees
# sanitizer reports.
side_stack_start() { # DIR STORE
	local dir=$1 store=$2 port
	mkdir -p "$dir/run" "$dir/log" "$dir/www" "$dir/tmp"
	svc_dir "$dir"
	[ -d "$store" ] && [ "$(stat -c %U "$store")" != "$(svc_user)" ] && svc_dir "$store"
	port=$(free_port)
	sed -e "s|@VAR@/store|$store|g" -e "s|@VAR@|$dir|g" -e "s|@PORT@|$port|g" \
		"$ABS_TOP_SRCDIR/lighttpd/azure-dicom-emulator.conf.in" > "$dir/lighttpd.conf"
	lighttpd_user "$dir/lighttpd.conf"
	# SIDE_TLS_CERT and SIDE_TLS_KEY: https, as scripts/up --https; SIDE_VIEWER:
	# the viewer in $dir/www, as scripts/up serves it
	[ -n "${SIDE_TLS_CERT:-}" ] && tls_lighttpd "$dir/lighttpd.conf" "$SIDE_TLS_CERT" "$SIDE_TLS_KEY"
	if [ -n "${SIDE_VIEWER:-}" ]; then
		console_install "$dir/www"
		www_lighttpd "$dir/lighttpd.conf" 1
	fi
	# shellcheck disable=SC2046
	setsid spawn-fcgi -n -s "$dir/run/dicom-fcgi.sock" -M 0660 $(svc_sock_opts) -- /usr/bin/multiwatch -f 2 -s TERM -- \
		/bin/sh -c "exec '$EMULATOR_BUILD/dicom-fcgi' -c '$dir/dicom.ini' $(svc_opt) 2>>'$dir/log/dicom-fcgi.log'" >/dev/null 2>&1 &
	echo $! > "$dir/run/multiwatch.pid"
	for _ in $(seq 1 100); do [ -S "$dir/run/dicom-fcgi.sock" ] && break; sleep 0.05; done
	lighttpd -f "$dir/lighttpd.conf" || { cat "$dir/log/lighttpd-error.log"; return 1; }
	SIDE_URL="http${SIDE_TLS_CERT:+s}://127.0.0.1:$port"
	for _ in $(seq 1 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' ${SIDE_TLS_CERT:+--cacert "$SIDE_TLS_CERT"} "$SIDE_URL/health")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# As root: DIR (and all in it) becomes the services' user's, and the
# directories above it that this user cannot pass (mktemp's 0700) let it
# pass, so that processes started with $(svc_opt) work there.
svc_dir() { # DIR
	is_root || return 0
	chown -R "$SVC_USER:" "$1"
	local p
	p=$(dirname "$(readlink -f "$1")")
	while [ "$p" != / ]; do
		as_svc test -x "$p/." 2>/dev/null || chmod o+x "$p"
		p=$(dirname "$p")
	done
}

# A temporary directory in $tmp for a side stack, both gone at exit.
side_stack_tmp() {
	tmp=$(mktemp -d)
	trap 'side_stack_stop "$tmp"; rm -rf "$tmp"' EXIT
}

# The end of a test that starts processes of its own (their PIDs in the
# array pids), may stop the suite's relay (relay_stopped=1) and runs side
# stacks: those processes get SIGNAL, the relay starts again, the side
# stacks in DIR... stop, and $tmp goes.
pids=()
relay_stopped=0
test_cleanup() { # SIGNAL [DIR...]
	local sig=$1 p d
	shift
	{ for p in "${pids[@]}"; do kill -"$sig" "$p"; wait "$p"; done; } 2>/dev/null
	[ "$relay_stopped" = 1 ] && start_relay
	for d in "$@"; do side_stack_stop "$d"; done
	rm -rf "$tmp"
}

side_stack_stop() { # DIR
	local dir=$1
	[ -f "$dir/run/lighttpd.pid" ] && kill -TERM "$(cat "$dir/run/lighttpd.pid")" 2>/dev/null
	[ -f "$dir/run/multiwatch.pid" ] && kill -TERM "$(cat "$dir/run/multiwatch.pid")" 2>/dev/null
	pkill -f "dicom-fcgi -c $dir/dicom.ini" 2>/dev/null
	sleep 0.5
	cat "$dir/log/dicom-fcgi.log" >> "$EMULATOR_VAR/log/dicom-fcgi.log" 2>/dev/null
	rm -f "$dir/run/lighttpd.pid" "$dir/run/multiwatch.pid"
}
