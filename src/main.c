/* dicom-fcgi: the FastCGI responder. One request at a time per process;
 * spawn-fcgi runs several on one socket and the web server spreads the load. */
#include "config.h"
#include "api/app.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "http/fcgi_out.h"
#include "http/response.h"
#include "store/changes.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

static const char usage[] =
	"usage: dicom-fcgi [-c FILE] [--user NAME] [--migrate | --changed |\n"
	"                  --sweep [--min-age SECONDS] |\n"
	"                  --mint-token [--role ROLE]... [--minutes N]\n"
	"                  [--not-before-minutes N] [--audience A] [--issuer I]\n"
	"                  [--key FILE]] [--help] [--version]\n"
	"\n"
	"The FastCGI responder of azure-dicom-emulator, an emulator of the Azure\n"
	"Health Data Services DICOM service. Start it with spawn-fcgi (it then\n"
	"answers on the inherited socket) or set [server] listen.\n"
	"\n"
	"  -c, --config FILE  configuration file (default: $DICOM_CONFIG, else\n"
	"                     " SYSCONFDIR "/azure-dicom-emulator/dicom.ini if present)\n"
	"      --user NAME    started as root: run as the user NAME (its groups too)\n"
	"      --migrate      apply the database schema and exit\n"
	"      --sweep        remove stored files that no index row refers to (left\n"
	"                     by a crash between writing a file and its commit) and exit\n"
	"      --min-age SECONDS  with --sweep: only files older than this (default 3600)\n"
	"      --changed      count a change made to instances' rows by hand (psql):\n"
	"                     the responders of this machine drop the lookups they keep\n"
	"                     ([retrieve] lookup_cache), and exit\n"
	"      --mint-token   print a bearer token for [auth] mode = token, signed with\n"
	"                     [auth] signing_key (or --key FILE): --role\n"
	"                     \"DICOM Data Owner\" or \"DICOM Data Reader\" (repeatable),\n"
	"                     --minutes of life (default 60; negative: expired),\n"
	"                     --not-before-minutes,\n"
	"                     --audience and --issuer (default: the first configured)\n"
	"  -h, --help         show this help and exit\n"
	"  -V, --version      show the version and exit\n"
	"\n"
	"Environment: DICOM_CONFIG, DICOM_DB_CONNINFO (overrides [database]),\n"
	"DICOM_STORE_DIR, DICOM_STORE_REQUIRE_MOUNT, DICOM_LISTEN, DICOM_BASE_PATH,\n"
	"DICOM_ALLOWED_HOSTS, DICOM_LOG_LEVEL, DICOM_X_SENDFILE, DICOM_X_SENDFILE2,\n"
	"DICOM_DEBUG, DICOM_TRANSCODING, DICOM_BULKDATA_URI, DICOM_RENDER_CACHE,\n"
	"DICOM_METADATA_CACHE, DICOM_LOOKUP_CACHE, DICOM_DATA_PARTITIONS, DICOM_EXPORT,\n"
	"DICOM_EXPORT_IDENTITY, DICOM_AUTH_MODE, DICOM_AUTH_KEYS, DICOM_AUTH_ISSUER,\n"
	"DICOM_AUTH_AUDIENCE, DICOM_AUTH_SIGNING_KEY, DICOM_EVENTS_SERVICE_HOST, and\n"
	"libpq's "
	"PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD.\n";

static ssize_t fcgi_read(void *ctx, void *dst, size_t n)
{
	int got = FCGX_GetStr(dst, (int)(n > 1 << 30 ? 1 << 30 : n), (FCGX_Stream *)ctx);
	if (got < 0)
		return -1;
	return got;
}

/* A body's bytes: through libfcgi's stream, or, when long, after a flush
 * of it as big records of our own (http/fcgi_out.h). */
static int fcgi_write(void *ctx, const void *src, size_t n)
{
	FCGX_Request *fr = ctx;
	const char *p = src;
	if (n >= FCGI_OUT_DIRECT)
		return FCGX_FFlush(fr->out) ? -1 : fcgi_out_stdout(fr->ipcFd, fr->requestId, src, n);
	if (FCGX_PutStr(p, (int)n, fr->out) != (int)n)
		return -1;
	return 0;
}

/* Once the web server's whole request has been read (a request without
 * a body, or a body read to its end), the connection is closed as soon as
 * the answer is written. Else libfcgi's way: shutdown, then read until the
 * web server closes, so that what is left of a body does not reset the
 * connection under an answer sent early (an error). */
static void close_plainly(FCGX_Request *fr)
{
	const char *len = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	bool no_body = !len || !*len || !strcmp(len, "0");
	if (FCGX_HasSeenEOF(fr->in) == EOF || (no_body && FCGX_GetChar(fr->in) == EOF))
		FCGX_Detach(fr);
}

/* After an answer: a kept child due for replacement is replaced now and
 * warmed up, rather than in the next request. */
static void renew_children(struct app *app)
{
	char err[256];
	uint64_t t0 = util_now_ms();
	int r = sandbox_renew(&app->sandbox, err, sizeof(err));
	if (r < 0)
		log_warn("kept children: %s", err);
	else if (r > 0)
		log_info("kept children renewed and warmed up in %llu ms", (unsigned long long)(util_now_ms() - t0));
}

static void serve(struct app *app, int sock)
{
	FCGX_Request fr;

	FCGX_InitRequest(&fr, sock, 0);
	while (FCGX_Accept_r(&fr) >= 0) {
		struct request req;
		struct http_io io = { fr.in, fcgi_read, &fr, fcgi_write };
		uint64_t t0 = util_now_ms();

		request_init(&req, app, &app->policy, fr.envp, io);
		db_ensure(app->db);
		if (!health_server_error(&req))
			router_dispatch(&req, api_routes, api_nroutes);
		if (!req.head_sent)
			http_error(&req, 500,
				   "The server encountered an internal error. Please retry the request. If the issue "
				   "persists, please contact support.");
		const char *uri = request_env(&req, "REQUEST_URI");
		log_info("request method=%s uri=\"%s\" status=%d bytes=%llu ms=%llu", req.method, uri ? uri : "",
			 req.status, (unsigned long long)req.bytes_out, (unsigned long long)(util_now_ms() - t0));
		request_release(&req);
		close_plainly(&fr);
		FCGX_Finish_r(&fr);
		renew_children(app);
	}
	FCGX_Free(&fr, 1);
}

/* The process's state once the database is there: store, framing,
 * streaming buffer, policy. Returns 0, or -1 logged. */
static int app_start(struct app *app)
{
	char err[1024], tmpdir[4200];

	if ((app->cfg.store_require_mount && store_check_mount(app->cfg.store_require_mount, err, sizeof(err))) ||
	    store_open(&app->store, app->cfg.store_dir, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (api_auth_init(app))
		return -1;
	/* lookups are kept only where every change is counted: one machine */
	bool keep = app->cfg.lookup_cache && !app->cfg.store_require_mount && changes_local(app->cfg.store_dir);
	if (app->cfg.lookup_cache && !keep)
		log_info("[retrieve] lookup_cache: off, the store may be shared with other hosts");
	db_count_changes(app->db, app->store.changes, keep);
	store_sweep_temp(&app->store, 3600);
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", app->cfg.store_dir);
	sendfile_init(&app->framing, tmpdir);
	app->chunk = xmalloc(APP_CHUNK);
	app->policy = (struct http_policy){
		.base_path = app->cfg.base_path,
		.allowed_hosts = app->cfg.allowed_hosts,
		.cors_origins = app->cfg.cors_allow_origins,
		.cors_methods = app->cfg.cors_allow_methods,
		.cors_headers = app->cfg.cors_allow_headers,
		.cors_expose = app->cfg.cors_expose_headers,
		.cors_max_age = (long)app->cfg.cors_max_age,
		.partitions = app->cfg.data_partitions,
		.partition_exists = api_partition_exists,
		.partition_ctx = app,
		.authorize = api_authorize,
		.auth_ctx = app,
	};
	return 0;
}

static void app_release(struct app *app)
{
	sandbox_release(&app->sandbox);
	free(app->chunk);
	db_free(app->db);
	store_release(&app->store);
	config_release(&app->cfg);
}

/* The configuration, the log level, the database (migrated). Returns 0,
 * or 1 with the reason said. */
static int app_load(struct app *app, const char *config_path)
{
	char err[1024];
	enum log_level lvl;

	if (config_load(&app->cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "dicom-fcgi: %s\n", err);
		return 1;
	}
	if (log_level_parse(app->cfg.log_level, &lvl)) {
		fprintf(stderr, "dicom-fcgi: [server] log_level: '%s' is not error, warn, info or debug\n", app->cfg.log_level);
		return 1;
	}
	log_set_level(lvl);
	char *conninfo = config_conninfo(&app->cfg, "dicom-fcgi");
	app->db = db_connect_wait(conninfo, 30, NULL, err, sizeof(err));
	free(conninfo);
	if (!app->db || db_migrate(app->db, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	return 0;
}

/* --sweep: orphan files older than min_age seconds. */
static int sweep_orphans(struct app *app, long min_age)
{
	char err[1024];

	if ((app->cfg.store_require_mount && store_check_mount(app->cfg.store_require_mount, err, sizeof(err))) ||
	    store_open(&app->store, app->cfg.store_dir, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	long n = store_sweep_orphans(&app->store, min_age, db_store_known, app->db);
	if (n >= 0)
		printf("removed %ld orphan files\n", n);
	return n < 0 ? 1 : 0;
}

/* --changed: one change counted, as a process that changed instances
 * counts its own. */
static int count_change(const struct config *cfg)
{
	char err[1024];
	struct changes *c = changes_open(cfg->store_dir, 0, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "dicom-fcgi: %s\n", err);
		return 1;
	}
	changes_begin(c);
	changes_end(c);
	changes_close(c);
	return 0;
}

/* A responder's requests allocate and free the same large blocks, request
 * after request (a frame made 8-bit for display, its JPEG, a body, a JSON
 * answer). glibc's defaults hand blocks over 128 KiB out as fresh pages each
 * time (mapped, or from a heap trimmed after every request): a page fault
 * every 4 KiB written, a sixth of a rendering's time. Kept instead: blocks
 * up to 4 MiB come from the heap, which gives memory back to the system
 * only when more than 16 MiB of it are free at its top. */
static void keep_freed_memory(void)
{
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
}

/* What the command line asks. */
struct cli {
	const char *config_path, *user;
	bool migrate_only, sweep, mint, changed;
	struct mint_options mo;
	long min_age;
};

/* argv into *o; -1 to go on, else the exit code (--help, --version, a bad
 * option). */
static int parse_args(int argc, char **argv, struct cli *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "migrate", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
		{ "sweep", no_argument, NULL, 's' },        { "min-age", required_argument, NULL, 'a' },
		{ "mint-token", no_argument, NULL, 't' },   { "role", required_argument, NULL, 'r' },
		{ "minutes", required_argument, NULL, 'M' }, { "not-before-minutes", required_argument, NULL, 'N' },
		{ "audience", required_argument, NULL, 'u' }, { "issuer", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },    { "user", required_argument, NULL, 'U' },
		{ "changed", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct mint_options *mo = &o->mo;
	int c;

	memset(o, 0, sizeof(*o));
	o->config_path = getenv("DICOM_CONFIG");
	mo->minutes = 60;
	o->min_age = 3600;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case 'm': o->migrate_only = true; break;
		case 's': o->sweep = true; break;
		case 'a': o->min_age = atol(optarg); break;
		case 't': o->mint = true; break;
		case 'r':
			if (mo->nroles < sizeof(mo->roles) / sizeof(mo->roles[0]))
				mo->roles[mo->nroles++] = optarg;
			break;
		case 'M': mo->minutes = atol(optarg); break;
		case 'N': mo->not_before_minutes = atol(optarg); break;
		case 'u': mo->audience = optarg; break;
		case 'i': mo->issuer = optarg; break;
		case 'k': mo->key = optarg; break;
		case 'U': o->user = optarg; break;
		case 'C': o->changed = true; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("dicom-fcgi (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	return -1;
}

/* --mint-token or --changed: a tool run that needs only the configuration. */
static int run_tool(const struct cli *o, struct app *app)
{
	char err[1024];
	if (config_load(&app->cfg, o->config_path, err, sizeof(err))) {
		fprintf(stderr, "dicom-fcgi: %s\n", err);
		return 1;
	}
	int rc = o->mint ? api_mint_token(&app->cfg, &o->mo) : count_change(&app->cfg);
	config_release(&app->cfg);
	return rc;
}

/* A responder: app started, serving FastCGI requests until told to stop. */
static int run_responder(struct app *app)
{
	keep_freed_memory();
	if (app_start(app))
		return 1;
	if (FCGX_Init()) {
		log_error("cannot initialise libfcgi");
		return 1;
	}
	int sock = 0;
	if (*app->cfg.listen) {
		sock = FCGX_OpenSocket(app->cfg.listen, 128);
		if (sock < 0) {
			log_error("cannot listen on '%s'", app->cfg.listen);
			return 1;
		}
	}
	/* the first requests as fast as the next ones (not fatal: a request
	 * does the same when it needs to) */
	char werr[256];
	uint64_t warm_from = util_now_ms();
	if (api_warm(app, werr, sizeof(werr)))
		log_warn("warm-up: %s", werr);
	else
		log_info("warmed up in %llu ms", (unsigned long long)(util_now_ms() - warm_from));
	log_info("ready store='%s' listen='%s'", app->cfg.store_dir, *app->cfg.listen ? app->cfg.listen : "(inherited)");
	serve(app, sock);
	log_info("shutting down");
	return 0;
}

int main(int argc, char **argv)
{
	struct cli o;
	struct app app;
	int rc = parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.user) {
		char err[256];
		if (util_become_user(o.user, err, sizeof(err))) {
			fprintf(stderr, "dicom-fcgi: %s\n", err);
			return 1;
		}
	}
	if (!o.config_path && access(SYSCONFDIR "/azure-dicom-emulator/dicom.ini", R_OK) == 0)
		o.config_path = SYSCONFDIR "/azure-dicom-emulator/dicom.ini";

	memset(&app, 0, sizeof(app));
	if (o.mint || o.changed)
		return run_tool(&o, &app);
	sandbox_init(&app.sandbox); /* starts nothing: its child comes with the first STOW */
	log_set_ident("dicom-fcgi");
	if ((rc = app_load(&app, o.config_path)) || o.migrate_only)
		;
	else if (o.sweep)
		rc = sweep_orphans(&app, o.min_age);
	else
		rc = run_responder(&app);
	app_release(&app);
	return rc;
}
