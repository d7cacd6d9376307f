# Shared by scripts/up, scripts/down and scripts/check. Sourced, not run.
# shellcheck shell=bash

ADE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=${EMULATOR_VAR:-$ADE_ROOT/var}
PORT=${EMULATOR_PORT:-8080}
RESPONDERS=${EMULATOR_RESPONDERS:-4}
PG_PORT=${EMULATOR_PG_PORT:-5432}

# Debian 12 packages the build and the stack need.
ADE_PACKAGES="build-essential autoconf automake libtool pkg-config make g++
 libfcgi-dev spawn-fcgi multiwatch lighttpd postgresql postgresql-client libpq-dev
 libgdcm-dev libcjson-dev libinih-dev libcurl4-openssl-dev libssl-dev libcmocka-dev
 libjpeg62-turbo-dev libpng-dev zlib1g-dev libseccomp-dev openssl lighttpd-mod-openssl
 curl procps"
# ... and what only the tests and benchmarks need: Orthanc with its DICOMweb
# plugin (a real client, and the benchmark's point of comparison), Apache
# with mod_xsendfile (the suite runs through it too), dcmtk and GDCM's tools
# (independent decoders to check pixels against) and python3-pydicom (only
# for the public sample files it ships). scripts/check installs these;
# scripts/up does not.
ADE_TEST_PACKAGES="orthanc orthanc-dicomweb apache2 libapache2-mod-xsendfile dcmtk libgdcm-tools python3-pydicom chromium clang libclang-rt-14-dev"

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# A TCP port on 127.0.0.1 that nothing listens on, below the kernel's
# ephemeral range: a port in that range can be taken by any outgoing
# connection between this check and the server's bind.
free_port() {
	local p lo=32768
	read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "$lo" -gt 11024 ] || lo=32768
	while :; do
		p=$((10000 + RANDOM % (lo - 10000)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

as_root() {
	if is_root; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "'$*' needs root (run as root or install sudo)"
	fi
}

install_deps() { # [test]
	local missing="" p list=$ADE_PACKAGES
	[ "${1:-}" = test ] && list="$ADE_PACKAGES $ADE_TEST_PACKAGES"
	for p in $list; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	# Node.js runs the tests' webhook receiver and Azurite (any recent version);
	# npm fetches the viewer for scripts/up
	if { [ "${1:-}" = test ] || [ "${EMULATOR_VIEWER:-1}" != 0 ]; } && ! command -v npm >/dev/null; then
		missing="$missing nodejs npm"
	fi
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	# packages that bring a service must not start it on the machine
	as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Builds out of tree in $BUILD (default build/; build-asan/ for sanitizers).
BUILD=${EMULATOR_BUILD:-$ADE_ROOT/build}
build() {
	(
		cd "$ADE_ROOT" || exit 1
		if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
			say "autoreconf"
			autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
		fi
		mkdir -p "$BUILD" && cd "$BUILD" || exit 1
		if [ ! -f Makefile ] || [ "$ADE_ROOT/configure" -nt config.status ]; then
			say "configure ${EMULATOR_CONFIGURE_FLAGS:-} (in $BUILD)"
			# shellcheck disable=SC2086
			"$ADE_ROOT/configure" -q ${EMULATOR_CONFIGURE_FLAGS:-} >/dev/null
		fi
		say "make"
		make -s -j"$(nproc)" >/dev/null || make -j1
	)
}

pg_bindir() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# As root the stack does not run as root: the responders, the relay, lighttpd
# and the private PostgreSQL cluster run as SVC_USER (the packages' user
# dicom-emulator, made when missing), and var/ is theirs alone: the store,
# the sockets, the logs. The supervisors (spawn-fcgi, multiwatch) stay
# root; dicom-fcgi and outbox-relay drop to the user themselves (--user), so
# the build may stay where that user cannot go. Not root: all is the caller's.
SVC_USER=${EMULATOR_USER:-dicom-emulator}

# The user the stack's services run as.
svc_user() { if is_root; then echo "$SVC_USER"; else id -un; fi; }

# --user NAME for dicom-fcgi and outbox-relay: nothing unless root.
svc_opt() { if is_root; then printf -- '--user %s' "$SVC_USER"; fi; }

# spawn-fcgi's options that give the FastCGI socket to the services' user.
svc_sock_opts() { if is_root; then printf -- '-U %s -G %s' "$SVC_USER" "$SVC_USER"; fi; }

# A command as the services' user (from /: it may not enter the caller's directory).
as_svc() {
	if is_root; then (cd / && setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups -- "$@"); else "$@"; fi
}

# Makes the user (as root) and var/ theirs; var/ moves to
# /var/lib/azure-dicom-emulator-HASH (linked from where it was) when the
# user cannot reach it (a checkout under /root). Sets VAR to the real path.
svc_setup() {
	mkdir -p "$VAR"
	if ! is_root; then
		VAR=$(cd "$VAR" && pwd -P)
		mkdir -p "$VAR/store"
		chmod 750 "$VAR" "$VAR/store"
		return 0
	fi
	id -u "$SVC_USER" >/dev/null 2>&1 ||
		useradd --system --user-group --home-dir /nonexistent --no-create-home \
			--shell /usr/sbin/nologin "$SVC_USER" || die "cannot create the user $SVC_USER"
	if ! as_svc test -x "$(dirname "$(readlink -f "$VAR")")/." 2>/dev/null; then
		local h new
		h=$(printf '%s' "$VAR" | md5sum | cut -c1-12)
		new=/var/lib/azure-dicom-emulator-$h
		[ -f "$VAR/run/lighttpd.pid" ] && die "$SVC_USER cannot reach $VAR: stop the stack (scripts/down) so that it can move"
		say "note: $SVC_USER cannot reach $VAR: the stack's files move to $new, linked from $VAR"
		mkdir -p "$new"
		find "$VAR" -mindepth 1 -maxdepth 1 -exec mv -t "$new" {} +
		rmdir "$VAR"
		ln -s "$new" "$VAR"
	fi
	VAR=$(readlink -f "$VAR")
	mkdir -p "$VAR/conf" "$VAR/run" "$VAR/log" "$VAR/store" "$VAR/tmp" "$VAR/www"
	chown "$SVC_USER:" "$VAR"
	chmod 750 "$VAR"
	local d
	for d in conf run log tmp www auth tls; do
		if [ -e "$VAR/$d" ]; then chown -R "$SVC_USER:" "$VAR/$d"; fi
	done
	# the store once (one an earlier scripts/up made is root's)
	[ "$(stat -c %U "$VAR/store")" = "$SVC_USER" ] || chown -R "$SVC_USER:" "$VAR/store"
	chmod 750 "$VAR/store"
}

# PostgreSQL will not run as root: as root, the cluster is the services' user's.
pg_run() { as_svc "$@"; }

pg_base() {
	if [ -L "$VAR/pg" ] || [ -d "$VAR/pg" ]; then
		readlink -f "$VAR/pg"
	else
		echo "$VAR/pg"
	fi
}

pg_start() {
	local bin base
	bin=$(pg_bindir)
	[ -n "$bin" ] || die "PostgreSQL server binaries not found"
	base=$(pg_base)
	mkdir -p "$base/run"
	[ "$base" = "$VAR/pg" ] || ln -sfn "$base" "$VAR/pg"
	# a cluster an earlier scripts/up made belongs to postgres: now the services' user's
	if is_root; then
		chown "$SVC_USER:" "$base" "$base/run"
		[ ! -d "$base/data" ] || [ "$(stat -c %U "$base/data")" = "$SVC_USER" ] || chown -R "$SVC_USER:" "$base"
	fi
	if [ ! -f "$base/data/PG_VERSION" ]; then
		say "initdb $base/data"
		# the cluster's superuser is postgres; the services connect as
		# dicom, which owns its database and is no superuser
		pg_run "$bin/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
	fi
	# the socket is the cluster owner's alone (trust authentication: whoever
	# reaches the socket is in)
	chmod 700 "$base/run"
	if ! pg_run "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
		pg_run "$bin/pg_ctl" -D "$base/data" -l "$base/postgresql.log" -w -t 60 \
			-o "-c listen_addresses='' -c unix_socket_directories='$base/run' -c unix_socket_permissions=0700 -p $PG_PORT -c fsync=on" start >/dev/null
	fi
	ln -sfn "$base/postgresql.log" "$VAR/log/postgresql.log"
	PGSOCK="$base/run"
	local admin
	admin=$(pg_admin)
	[ "$admin" = dicom ] && say "note: this cluster was made by an earlier scripts/up: its superuser is dicom, which the services use (remove var/pg for a new one)"
	pa() { psql -q -h "$PGSOCK" -p "$PG_PORT" -U "$admin" -d postgres -Atc "$1"; }
	pa "SELECT 1 FROM pg_roles WHERE rolname = 'dicom'" | grep -q 1 || pa "CREATE ROLE dicom LOGIN CREATEDB" >/dev/null
	pa "SELECT 1 FROM pg_database WHERE datname = 'dicom'" | grep -q 1 || pa "CREATE DATABASE dicom OWNER dicom" >/dev/null
}

# The cluster's superuser: postgres, or dicom in clusters an earlier scripts/up made.
pg_admin() {
	local sock
	sock="$(readlink -f "$VAR/pg")/run"
	if psql -h "$sock" -p "$PG_PORT" -U postgres -d postgres -Atc "SELECT 1" >/dev/null 2>&1; then echo postgres; else echo dicom; fi
}

# A connection as the cluster's superuser (benchmarks that change settings).
db_admin_conninfo() {
	echo "host=$(readlink -f "$VAR/pg")/run port=$PG_PORT dbname=dicom user=$(pg_admin)"
}

pg_stop() {
	local bin base
	bin=$(pg_bindir)
	[ -e "$VAR/pg" ] || return 0
	base=$(readlink -f "$VAR/pg")
	[ -f "$base/data/postmaster.pid" ] || return 0
	pg_run "$bin/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true
}

db_conninfo() {
	echo "host=$(readlink -f "$VAR/pg")/run port=$PG_PORT dbname=dicom user=dicom"
}

write_configs() {
	mkdir -p "$VAR/conf" "$VAR/run" "$VAR/log" "$VAR/store" "$VAR/tmp" "$VAR/www"
	local pgsock
	pgsock="$(readlink -f "$VAR/pg")/run"
	if [ ! -f "$VAR/conf/dicom.ini" ]; then
		sed -e "s|^dir =.*|dir = $VAR/store|" \
		    -e "s|^host =.*|host = $pgsock|" \
		    -e "s|^port =.*|port = $PG_PORT|" \
		    -e "s|^user =.*|user = dicom|" \
		    -e "s|^x_sendfile =.*|x_sendfile = true|" \
		    -e "s|^x_sendfile2 =.*|x_sendfile2 = true|" \
		    -e "s|^enabled = false|enabled = true|" \
		    -e "s|^allow_origins =.*|allow_origins = http://127.0.0.1:*, http://localhost:*, http://[::1]:*|" \
		    -e "s|^allowed_hosts =.*|allowed_hosts = localhost|" \
		    "$ADE_ROOT/conf/dicom.ini.sample" > "$VAR/conf/dicom.ini"
		# every event also lands in a JSON Lines file, for a look at what Azure would send
		printf '\n[subscription:local-file]\nprovider = file\npath = %s/log/events.jsonl\n' "$VAR" >> "$VAR/conf/dicom.ini"
	fi
	sed -e "s|@VAR@|$VAR|g" -e "s|@PORT@|$PORT|g" \
		"$ADE_ROOT/lighttpd/azure-dicom-emulator.conf.in" > "$VAR/conf/lighttpd.conf"
	lighttpd_user "$VAR/conf/lighttpd.conf"
	[ "${EMULATOR_AUTH:-0}" = 1 ] && auth_config
	console_install "$VAR/www"
	local viewer=0
	if [ "${EMULATOR_VIEWER:-1}" != 0 ]; then
		viewer_install "$VAR/www" && viewer=1 ||
			say "warning: the OHIF viewer could not be installed (npm); the API runs without it"
	fi
	www_lighttpd "$VAR/conf/lighttpd.conf" "$viewer"
	[ "${EMULATOR_HTTPS:-0}" = 1 ] && tls_lighttpd "$VAR/conf/lighttpd.conf" "$TLS_CERT" "$TLS_KEY"
	return 0
}

# As root: lighttpd binds its port, opens its logs, then becomes the services' user.
lighttpd_user() { # CONF
	if is_root; then printf 'server.username = "%s"\nserver.groupname = "%s"\n' "$SVC_USER" "$SVC_USER" >> "$1"; fi
}

# https for scripts/up --https: the certificate and key in
# EMULATOR_TLS_CERT / EMULATOR_TLS_KEY, else a self-signed pair for
# 127.0.0.1 and localhost made once under $1. Sets TLS_CERT and TLS_KEY.
tls_setup() { # DIR
	TLS_CERT=${EMULATOR_TLS_CERT:-$1/cert.pem}
	TLS_KEY=${EMULATOR_TLS_KEY:-$1/key.pem}
	if [ -z "${EMULATOR_TLS_CERT:-}" ] && [ ! -f "$TLS_CERT" ]; then
		mkdir -p "$1"
		openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=azure-dicom-emulator" \
			-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null ||
			die "cannot make a certificate"
		chmod 600 "$TLS_KEY"
	fi
	[ -r "$TLS_CERT" ] && [ -r "$TLS_KEY" ] || die "certificate or key not readable: $TLS_CERT $TLS_KEY"
}

# The lighttpd configuration $1 made to speak TLS on its port.
tls_lighttpd() { # CONF CERT KEY
	printf '\n# https (scripts/up --https)\nserver.modules += ( "mod_openssl" )\nssl.engine = "enable"\nssl.pemfile = "%s"\nssl.privkey = "%s"\n' \
		"$2" "$3" >> "$1"
}

# The OHIF viewer (npm @ohif/app, its prebuilt dist/), served from the web
# root beside the API: fetched once with npm pack into $BUILD/viewer (npm's
# cache answers again without the registry), unpacked into $1, and its
# app-config.js made for this emulator.
OHIF_VERSION=3.13.2
viewer_install() { # WWW-DIR
	local cache="$BUILD/viewer" tgz
	tgz="$cache/ohif-app-$OHIF_VERSION.tgz"
	if [ ! -s "$tgz" ]; then
		mkdir -p "$cache"
		(cd "$cache" && npm pack --silent --prefer-offline "@ohif/app@$OHIF_VERSION" >/dev/null 2>&1) || return 1
	fi
	if [ ! -f "$1/.ohif-$OHIF_VERSION" ]; then
		mkdir -p "$1"
		tar xzf "$tgz" -C "$1" --strip-components=2 package/dist || return 1
		touch "$1/.ohif-$OHIF_VERSION"
	fi
	viewer_config > "$1/app-config.js"
}

# OHIF's configuration: one DICOMweb data source, this origin's /v2 (the
# same origin: no CORS), as the Azure service answers it.
viewer_config() {
	cat <<'JS'
/* Made by azure-dicom-emulator's scripts: OHIF on the emulator's /v2. */
window.config = {
  name: 'azure-dicom-emulator',
  routerBasename: '/',
  extensions: [],
  modes: [],
  customizationService: {},
  showStudyList: true,
  maxNumberOfWebWorkers: 3,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: true,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  defaultDataSourceName: 'emulator',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'emulator',
      configuration: {
        friendlyName: 'azure-dicom-emulator',
        name: 'emulator',
        wadoUriRoot: window.location.origin + '/v2',
        qidoRoot: window.location.origin + '/v2',
        wadoRoot: window.location.origin + '/v2',
        qidoSupportsIncludeField: true,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: true,
        supportsWildcard: false,
        staticWado: false,
        singlepart: 'bulkdata,video',
        bulkDataURI: { enabled: true, relativeResolution: 'studies' },
        dicomUploadEnabled: true,
        omitQuotationForMultipartRequest: true,
      },
    },
  ],
};
JS
}

# The console (www/console: a static page over the API and the debug view).
console_install() { # WWW-DIR
	mkdir -p "$1/console"
	cp "$ADE_ROOT/www/console/"* "$1/console/"
}

# lighttpd $1 serving the web root beside the API: the API paths go to the
# responders, everything else is a file of the web root (the console at
# /console/); with the viewer ($2 = 1), its client-side routes
# (/viewer?StudyInstanceUIDs=...) are answered with index.html and its pages
# are cross-origin isolated (COOP/COEP, for its 3D views). The API's answers
# are not touched.
www_lighttpd() { # CONF VIEWER
	cat >> "$1" <<'CONF'

# the web root: the console, and the OHIF viewer unless EMULATOR_VIEWER=0
server.modules += ( "mod_rewrite", "mod_setenv" )
index-file.names = ( "index.html" )
mimetype.assign = (
	".html" => "text/html; charset=utf-8", ".js" => "text/javascript", ".mjs" => "text/javascript",
	".css" => "text/css", ".json" => "application/json", ".wasm" => "application/wasm", ".map" => "application/json",
	".png" => "image/png", ".jpg" => "image/jpeg", ".svg" => "image/svg+xml", ".ico" => "image/x-icon",
	".woff" => "font/woff", ".woff2" => "font/woff2", ".ttf" => "font/ttf", ".xml" => "application/xml",
	".txt" => "text/plain; charset=utf-8", "" => "application/octet-stream",
)
$HTTP["url"] !~ "^/(v1|v1\.0-prerelease|v2|health|debug)(/|\?|$)" {
	fastcgi.server = ()
}
CONF
	[ "$2" = 1 ] || return 0
	cat >> "$1" <<'CONF'
$HTTP["url"] !~ "^/(v1|v1\.0-prerelease|v2|health|debug|console)(/|\?|$)" {
	url.rewrite-if-not-file = ( "^/[^?]*(\?.*)?$" => "/index.html$1" )
	setenv.add-response-header = (
		"Cross-Origin-Opener-Policy" => "same-origin",
		"Cross-Origin-Embedder-Policy" => "require-corp",
	)
}
CONF
}

# The stack's own URL: http, or https with --https.
stack_url() {
	if [ "${EMULATOR_HTTPS:-0}" = 1 ]; then echo "https://127.0.0.1:$PORT"; else echo "http://127.0.0.1:$PORT"; fi
}

# [auth] mode = token for scripts/up --auth: an RSA key pair under
# $VAR/auth (made once); write_configs adds the section.
auth_setup() {
	mkdir -p "$VAR/auth"
	if [ ! -f "$VAR/auth/key.pem" ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$VAR/auth/key.pem" 2>/dev/null
		chmod 600 "$VAR/auth/key.pem"
		openssl pkey -in "$VAR/auth/key.pem" -pubout -out "$VAR/auth/public.pem"
	fi
	export EMULATOR_AUTH=1
}

# The [auth] section of scripts/up --auth, once, in the configuration.
auth_config() {
	grep -q '^mode = token' "$VAR/conf/dicom.ini" && return 0
	sed -i '/^\[auth\]/,/^\[/{/^mode *=/d}' "$VAR/conf/dicom.ini"
	printf '\n[auth]\nmode = token\nkeys = %s\nsigning_key = %s\n' "$VAR/auth/public.pem" "$VAR/auth/key.pem" \
		>> "$VAR/conf/dicom.ini"
}

# spawn-fcgi opens the socket; multiwatch keeps RESPONDERS responders on it
# and starts a new one whenever one dies (spawn-fcgi -F alone would not).
start_responders() {
	rm -f "$VAR/run/dicom-fcgi.sock"
	# shellcheck disable=SC2046
	"$BUILD/dicom-fcgi" -c "$VAR/conf/dicom.ini" $(svc_opt) --migrate 2>>"$VAR/log/dicom-fcgi.log" ||
		die "schema migration failed (see $VAR/log/dicom-fcgi.log)"
	# shellcheck disable=SC2046
	setsid spawn-fcgi -n -s "$VAR/run/dicom-fcgi.sock" -M 0660 $(svc_sock_opts) -- \
		/usr/bin/multiwatch -f "$RESPONDERS" -s TERM -r 1000 -- \
		/bin/sh -c "exec '$BUILD/dicom-fcgi' -c '$VAR/conf/dicom.ini' $(svc_opt) 2>>'$VAR/log/dicom-fcgi.log'" \
		</dev/null >>"$VAR/log/dicom-fcgi.log" 2>&1 &
	echo $! > "$VAR/run/multiwatch.pid"
	for _ in $(seq 1 50); do
		[ -S "$VAR/run/dicom-fcgi.sock" ] && return 0
		sleep 0.1
	done
	die "the responders did not start (see $VAR/log/dicom-fcgi.log)"
}

# SIGTERM to the process in a pid file, SIGKILL after 6 s; removes the file.
stop_pidfile() {
	local pid
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$1"
}

stop_responders() {
	stop_pidfile "$VAR/run/multiwatch.pid"
	pkill -KILL -f "dicom-fcgi -c $VAR/conf/dicom.ini" 2>/dev/null || true
	rm -f "$VAR/run/dicom-fcgi.sock"
}

# PIDs of the running responders (for tests that kill one).
responder_pids() {
	pgrep -f "dicom-fcgi -c $VAR/conf/dicom.ini" || true
}

# The relay under multiwatch too, as the systemd unit has Restart=: one
# that dies (kill -9, a crash) is started again at once, so events do not
# stop until someone notices. The pid file is multiwatch's; TERM to it
# reaches the relay.
start_relay() {
	# shellcheck disable=SC2046
	setsid /usr/bin/multiwatch -f 1 -r 1000 -t 2000 -s TERM -- \
		"$BUILD/outbox-relay" -c "$VAR/conf/dicom.ini" $(svc_opt) </dev/null >>"$VAR/log/outbox-relay.log" 2>&1 &
	echo $! > "$VAR/run/outbox-relay.pid"
}

# PIDs of the stack's running relay (not its supervisor).
relay_pids() {
	pgrep -f "^$BUILD/outbox-relay -c $VAR/conf/dicom.ini" || true
}

stop_relay() {
	stop_pidfile "$VAR/run/outbox-relay.pid"
}

start_lighttpd() {
	lighttpd -tt -f "$VAR/conf/lighttpd.conf" >/dev/null || die "lighttpd configuration is invalid"
	lighttpd -f "$VAR/conf/lighttpd.conf" || die "lighttpd did not start (see $VAR/log/lighttpd-error.log)"
}

stop_lighttpd() {
	[ -f "$VAR/run/lighttpd.pid" ] || return 0
	kill -TERM "$(cat "$VAR/run/lighttpd.pid")" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -f "$VAR/run/lighttpd.pid" ] || break
		kill -0 "$(cat "$VAR/run/lighttpd.pid" 2>/dev/null)" 2>/dev/null || break
		sleep 0.2
	done
	rm -f "$VAR/run/lighttpd.pid"
}

wait_healthy() {
	local i
	for i in $(seq 1 100); do
		if curl -fsS ${TLS_CERT:+--cacert "$TLS_CERT"} "$(stack_url)/health" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	die "the stack did not answer on $(stack_url)/health"
}

stack_start() {
	svc_setup
	pg_start
	write_configs
	start_responders
	start_relay
	start_lighttpd
	wait_healthy
}

stack_stop() {
	[ -e "$VAR" ] && VAR=$(readlink -f "$VAR")
	stop_lighttpd
	stop_relay
	stop_responders
	pg_stop
}
