#include "common/config.h"
#include "common/buf.h"
#include "common/xalloc.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define OFF(f) offsetof(struct config, f)

static const struct config_key server_keys[] = {
	{ "listen", CONFIG_STR, OFF(listen), "", 0, 0, "DICOM_LISTEN", NULL },
	{ "base_path", CONFIG_STR, OFF(base_path), "", 0, 0, "DICOM_BASE_PATH", NULL },
	{ "allowed_hosts", CONFIG_STR, OFF(allowed_hosts), "", 0, 0, "DICOM_ALLOWED_HOSTS", NULL },
	{ "log_level", CONFIG_STR, OFF(log_level), "info", 0, 0, "DICOM_LOG_LEVEL", NULL },
	{ "max_request_bytes", CONFIG_INT, OFF(max_request_bytes), "4294967296", 1024, INT64_MAX, NULL, NULL },
};
static const struct config_key database_keys[] = {
	{ "host", CONFIG_STR, OFF(db_host), "", 0, 0, "PGHOST", NULL },
	{ "port", CONFIG_STR, OFF(db_port), "", 0, 0, "PGPORT", NULL },
	{ "dbname", CONFIG_STR, OFF(db_name), "dicom", 0, 0, "PGDATABASE", NULL },
	{ "user", CONFIG_STR, OFF(db_user), "", 0, 0, "PGUSER", NULL },
	{ "password", CONFIG_STR, OFF(db_password), "", 0, 0, "PGPASSWORD", NULL },
	{ "options", CONFIG_STR, OFF(db_options), "", 0, 0, NULL, NULL },
	{ NULL, CONFIG_STR, OFF(db_conninfo), "", 0, 0, "DICOM_DB_CONNINFO", NULL },
};
static const struct config_key store_keys[] = {
	{ "dir", CONFIG_STR, OFF(store_dir), "/var/lib/azure-dicom-emulator/store", 0, 0, "DICOM_STORE_DIR", NULL },
	{ "x_sendfile", CONFIG_BOOL, OFF(x_sendfile), "false", 0, 0, "DICOM_X_SENDFILE", NULL },
	{ "x_sendfile2", CONFIG_BOOL, OFF(x_sendfile2), "false", 0, 0, "DICOM_X_SENDFILE2", NULL },
	{ "max_part_bytes", CONFIG_INT, OFF(max_part_bytes), "2147483648", 1024, INT64_MAX, NULL, NULL },
	{ "max_parts", CONFIG_INT, OFF(max_parts), "10000", 1, 1000000, NULL, NULL },
	{ "require_mount", CONFIG_OPTSTR, OFF(store_require_mount), "", 0, 0, "DICOM_STORE_REQUIRE_MOUNT", NULL },
};
static const struct config_key cors_keys[] = {
	{ "allow_origins", CONFIG_STR, OFF(cors_allow_origins), "", 0, 0, NULL, NULL },
	{ "allow_methods", CONFIG_STR, OFF(cors_allow_methods), "GET, POST, PUT, DELETE, PATCH, OPTIONS", 0, 0, NULL, NULL },
	{ "allow_headers", CONFIG_STR, OFF(cors_allow_headers),
	  "Accept, Authorization, Content-Type, If-None-Match, msdicom-request-original, X-Requested-With", 0, 0, NULL, NULL },
	{ "expose_headers", CONFIG_STR, OFF(cors_expose_headers),
	  "Location, ETag, Warning, Content-Location, erroneous-dicom-attributes", 0, 0, NULL, NULL },
	{ "max_age", CONFIG_INT, OFF(cors_max_age), "600", 0, 86400, NULL, NULL },
};
static const struct config_key retrieve_keys[] = {
	{ "transcoding", CONFIG_STR, OFF(transcoding), "azure", 0, 0, "DICOM_TRANSCODING", NULL },
	{ "bulkdata_uri", CONFIG_BOOL, OFF(bulkdata_uri), "false", 0, 0, "DICOM_BULKDATA_URI", NULL },
	{ "render_cache", CONFIG_BOOL, OFF(render_cache), "true", 0, 0, "DICOM_RENDER_CACHE", NULL },
	{ "metadata_cache", CONFIG_BOOL, OFF(metadata_cache), "true", 0, 0, "DICOM_METADATA_CACHE", NULL },
	{ "lookup_cache", CONFIG_BOOL, OFF(lookup_cache), "true", 0, 0, "DICOM_LOOKUP_CACHE", NULL },
};
static const struct config_key features_keys[] = {
	{ "data_partitions", CONFIG_BOOL, OFF(data_partitions), "false", 0, 0, "DICOM_DATA_PARTITIONS", NULL },
	{ "export", CONFIG_BOOL, OFF(export_enabled), "true", 0, 0, "DICOM_EXPORT", NULL },
	{ "export_identity", CONFIG_OPTSTR, OFF(export_identity), "", 0, 0, "DICOM_EXPORT_IDENTITY", NULL },
};
static const struct config_key auth_keys[] = {
	{ "mode", CONFIG_STR, OFF(auth_mode), "off", 0, 0, "DICOM_AUTH_MODE", NULL },
	{ "keys", CONFIG_OPTSTR, OFF(auth_keys), "", 0, 0, "DICOM_AUTH_KEYS", NULL },
	{ "verify_signature", CONFIG_BOOL, OFF(auth_verify_signature), "true", 0, 0, NULL, NULL },
	{ "issuer", CONFIG_STR, OFF(auth_issuers), "", 0, 0, "DICOM_AUTH_ISSUER", NULL },
	{ "audience", CONFIG_STR, OFF(auth_audiences), "https://dicom.healthcareapis.azure.com", 0, 0,
	  "DICOM_AUTH_AUDIENCE", NULL },
	{ "clock_skew_seconds", CONFIG_INT, OFF(auth_clock_skew), "300", 0, 3600, NULL, NULL },
	{ "signing_key", CONFIG_OPTSTR, OFF(auth_signing_key), "", 0, 0, "DICOM_AUTH_SIGNING_KEY", NULL },
};
static const struct config_key debug_keys[] = {
	{ "enabled", CONFIG_BOOL, OFF(debug_enabled), "false", 0, 0, "DICOM_DEBUG", NULL },
};
static const struct config_key events_keys[] = {
	{ "service_host_name", CONFIG_STR, OFF(events_service_host), "localhost", 0, 0, "DICOM_EVENTS_SERVICE_HOST", NULL },
	{ "topic", CONFIG_STR, OFF(events_topic),
	  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.HealthcareApis/workspaces/emulator",
	  0, 0, NULL, NULL },
};

#define KEYS(t) t, sizeof(t) / sizeof(t[0])

static void *the_config(void *ctx, const char *name)
{
	(void)name;
	return ctx;
}

/* The sections of struct config, in the order of the sample file. */
#define CORE_SECTIONS(cfg)                                                                                              \
	{ "server", KEYS(server_keys), the_config, cfg }, { "database", KEYS(database_keys), the_config, cfg },         \
		{ "store", KEYS(store_keys), the_config, cfg }, { "retrieve", KEYS(retrieve_keys), the_config, cfg },   \
		{ "cors", KEYS(cors_keys), the_config, cfg }, { "features", KEYS(features_keys), the_config, cfg },     \
		{ "auth", KEYS(auth_keys), the_config, cfg }, { "debug", KEYS(debug_keys), the_config, cfg },           \
		{ "events", KEYS(events_keys), the_config, cfg }
enum { NCORE = 9 };

/* ---- the loader ---------------------------------------------------------- */

const char CONFIG_UNKNOWN[] = "is not a key of this section";

static int parse_bool(const char *value, bool *out)
{
	if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1") || !strcasecmp(value, "on"))
		*out = true;
	else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0") || !strcasecmp(value, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Sets one key; NULL, or why the value is refused (in why). */
static const char *set_value(void *obj, const struct config_key *k, const char *value, char *why, size_t whylen)
{
	void *field = (char *)obj + k->offset;

	switch (k->type) {
	case CONFIG_STR:
	case CONFIG_OPTSTR: {
		char **s = field;
		free(*s);
		*s = k->type == CONFIG_OPTSTR && !*value ? NULL : xstrdup(value);
		return NULL;
	}
	case CONFIG_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || end == value || *end || v < k->min || v > k->max) {
			snprintf(why, whylen, "must be a whole number from %lld to %lld", (long long)k->min, (long long)k->max);
			return why;
		}
		*(int64_t *)field = v;
		return NULL;
	}
	case CONFIG_BOOL:
		return parse_bool(value, field) ? "is not true or false" : NULL;
	case CONFIG_FN:
		return k->set(obj, value);
	}
	return "cannot be set";
}

int config_defaults(void *obj, const struct config_key *keys, size_t nkeys, char *err, size_t errlen)
{
	char why[160];

	for (size_t i = 0; i < nkeys; i++) {
		const char *bad = keys[i].def ? set_value(obj, &keys[i], keys[i].def, why, sizeof(why)) : NULL;
		if (bad) {
			snprintf(err, errlen, "default of %s: %s", keys[i].key ? keys[i].key : keys[i].env, bad);
			return -1;
		}
	}
	return 0;
}

struct load_state {
	const struct config_section *secs;
	size_t nsecs;
	char *err;
	size_t errlen;
	int failed;
};

const char *config_set_key(void *obj, const struct config_key *keys, size_t nkeys, const char *key, const char *value,
			   char *why, size_t whylen)
{
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].key && !strcmp(keys[i].key, key))
			return set_value(obj, &keys[i], value, why, whylen);
	return CONFIG_UNKNOWN;
}

static bool is_named(const struct config_section *sec)
{
	size_t nl = strlen(sec->name);
	return nl && sec->name[nl - 1] == ':';
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	const char *bad = CONFIG_UNKNOWN;
	bool listed = false;
	char why[160];

	/* a section's keys may come from several tables of the same name */
	for (size_t s = 0; s < st->nsecs && bad == CONFIG_UNKNOWN; s++) {
		const struct config_section *sec = &st->secs[s];
		size_t nl = strlen(sec->name);
		if (is_named(sec) ? strncmp(section, sec->name, nl) : strcmp(section, sec->name))
			continue;
		listed = true;
		if (is_named(sec) && !section[nl]) {
			bad = "needs a name in the section's title";
			break;
		}
		void *obj = sec->object(sec->ctx, section + nl);
		bad = config_set_key(obj, sec->keys, sec->nkeys, name, value, why, sizeof(why));
	}
	if (!listed || !bad)
		return 1; /* set, or a section another program reads */
	if (bad == CONFIG_UNKNOWN)
		snprintf(st->err, st->errlen, "unknown key '%s' in [%s]", name, section);
	else
		snprintf(st->err, st->errlen, "[%s] %s: '%s' %s", section, name, value, bad);
	st->failed = 1;
	return 0;
}

int config_read(const char *path, const struct config_section *secs, size_t nsecs, char *err, size_t errlen)
{
	struct load_state st = { secs, nsecs, err, errlen, 0 };
	char why[160];

	if (path) {
		int rc = ini_parse(path, on_ini, &st);
		if (rc < 0) {
			snprintf(err, errlen, "cannot open '%s'", path);
			return -1;
		}
		if (st.failed) {
			/* ini_parse returns the line of the first key we refused */
			char tmp[512];
			snprintf(tmp, sizeof(tmp), "%s: line %d: %s", path, rc, err);
			snprintf(err, errlen, "%s", tmp);
			return -1;
		}
		if (rc > 0) {
			snprintf(err, errlen, "%s: line %d: cannot parse (lines are limited to 200 characters)", path, rc);
			return -1;
		}
	}
	for (size_t s = 0; s < nsecs; s++) {
		for (size_t i = 0; !is_named(&secs[s]) && i < secs[s].nkeys; i++) {
			const struct config_key *k = &secs[s].keys[i];
			const char *v = k->env ? getenv(k->env) : NULL;
			const char *bad = v ? set_value(secs[s].object(secs[s].ctx, ""), k, v, why, sizeof(why)) : NULL;
			if (bad) {
				snprintf(err, errlen, "environment %s: '%s' %s", k->env, v, bad);
				return -1;
			}
		}
	}
	return 0;
}

/* What no single key can check. */
static int validate(struct config *cfg, char *err, size_t errlen)
{
	if (strcmp(cfg->transcoding, "azure") && strcmp(cfg->transcoding, "all")) {
		snprintf(err, errlen, "[retrieve] transcoding must be azure or all, not '%s'", cfg->transcoding);
		return -1;
	}
	cfg->transcode_all = !strcmp(cfg->transcoding, "all");
	if (strcmp(cfg->auth_mode, "off") && strcmp(cfg->auth_mode, "token")) {
		snprintf(err, errlen, "[auth] mode must be off or token, not '%s'", cfg->auth_mode);
		return -1;
	}
	if (!strcmp(cfg->auth_mode, "token") && cfg->auth_verify_signature && !cfg->auth_keys) {
		snprintf(err, errlen, "[auth] mode = token needs keys (a PEM or JWKS file), or verify_signature = false");
		return -1;
	}
	if (!*cfg->store_dir) {
		snprintf(err, errlen, "[store] dir must not be empty");
		return -1;
	}
	size_t bl = strlen(cfg->base_path);
	if (bl && (cfg->base_path[0] != '/' || cfg->base_path[bl - 1] == '/')) {
		snprintf(err, errlen, "[server] base_path must start with '/' and not end with one");
		return -1;
	}
	return 0;
}

int config_load_with(struct config *cfg, const char *path, const struct config_section *extra, size_t nextra, char *err,
		     size_t errlen)
{
	const struct config_section core[] = { CORE_SECTIONS(cfg) };
	struct config_section *all = xcalloc(NCORE + nextra, sizeof(*all));
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(all, core, sizeof(core));
	if (nextra)
		memcpy(all + NCORE, extra, nextra * sizeof(*extra));
	for (size_t s = 0; s < NCORE; s++)
		if (config_defaults(cfg, core[s].keys, core[s].nkeys, err, errlen))
			abort(); /* a bad default is a programming error */
	if (config_read(path, all, NCORE + nextra, err, errlen) == 0)
		rc = validate(cfg, err, errlen);
	free(all);
	return rc;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	return config_load_with(cfg, path, NULL, 0, err, errlen);
}

void config_free_strings(void *obj, const struct config_key *keys, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].type != CONFIG_STR && keys[i].type != CONFIG_OPTSTR)
			continue;
		char **s = (char **)((char *)obj + keys[i].offset);
		free(*s);
		*s = NULL;
	}
}

void config_release(struct config *cfg)
{
	const struct config_section core[] = { CORE_SECTIONS(cfg) };

	for (size_t s = 0; s < NCORE; s++)
		config_free_strings(cfg, core[s].keys, core[s].nkeys);
	memset(cfg, 0, sizeof(*cfg));
}

static void add_kv(struct buf *b, const char *k, const char *v)
{
	if (!*v)
		return;
	if (b->len)
		buf_addch(b, ' ');
	buf_addf(b, "%s='", k);
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			buf_addch(b, '\\');
		buf_addch(b, *v);
	}
	buf_addch(b, '\'');
}

char *config_conninfo(const struct config *cfg, const char *program)
{
	struct buf b;

	if (*cfg->db_conninfo)
		return xstrdup(cfg->db_conninfo);
	buf_init(&b, 0);
	add_kv(&b, "host", cfg->db_host);
	add_kv(&b, "port", cfg->db_port);
	add_kv(&b, "dbname", cfg->db_name);
	add_kv(&b, "user", cfg->db_user);
	add_kv(&b, "password", cfg->db_password);
	add_kv(&b, "options", cfg->db_options);
	add_kv(&b, "application_name", program);
	return buf_detach(&b, NULL);
}
