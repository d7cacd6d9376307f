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

enum ctype { C_STR, C_INT, C_BOOL };

struct ckey {
	const char *section, *key;
	enum ctype type;
	size_t offset;
	const char *def;
	int64_t min, max;
	const char *env; /* environment variable that overrides, or NULL */
};

#define OFF(f) offsetof(struct config, f)
#define GiB (1024LL * 1024 * 1024)

static const struct ckey keys[] = {
	{ "server", "listen", C_STR, OFF(listen), "", 0, 0, "DICOM_LISTEN" },
	{ "server", "base_path", C_STR, OFF(base_path), "", 0, 0, "DICOM_BASE_PATH" },
	{ "server", "log_level", C_STR, OFF(log_level), "info", 0, 0, "DICOM_LOG_LEVEL" },
	{ "server", "max_request_bytes", C_INT, OFF(max_request_bytes), "4294967296", 1024, INT64_MAX, NULL },
	{ "database", "host", C_STR, OFF(db_host), "", 0, 0, "PGHOST" },
	{ "database", "port", C_STR, OFF(db_port), "", 0, 0, "PGPORT" },
	{ "database", "dbname", C_STR, OFF(db_name), "dicom", 0, 0, "PGDATABASE" },
	{ "database", "user", C_STR, OFF(db_user), "", 0, 0, "PGUSER" },
	{ "database", "password", C_STR, OFF(db_password), "", 0, 0, "PGPASSWORD" },
	{ "database", "options", C_STR, OFF(db_options), "", 0, 0, NULL },
	{ NULL, NULL, C_STR, OFF(db_conninfo), "", 0, 0, "DICOM_DB_CONNINFO" },
	{ "store", "dir", C_STR, OFF(store_dir), "/var/lib/azure-dicom-emulator/store", 0, 0, "DICOM_STORE_DIR" },
	{ "store", "x_sendfile", C_BOOL, OFF(x_sendfile), "false", 0, 0, "DICOM_X_SENDFILE" },
	{ "store", "x_sendfile2", C_BOOL, OFF(x_sendfile2), "false", 0, 0, "DICOM_X_SENDFILE2" },
	{ "store", "max_part_bytes", C_INT, OFF(max_part_bytes), "2147483648", 1024, INT64_MAX, NULL },
	{ "store", "max_parts", C_INT, OFF(max_parts), "10000", 1, 1000000, NULL },
	{ "cors", "allow_origins", C_STR, OFF(cors_allow_origins), "*", 0, 0, NULL },
	{ "cors", "allow_methods", C_STR, OFF(cors_allow_methods), "GET, POST, PUT, DELETE, PATCH, OPTIONS", 0, 0, NULL },
	{ "cors", "allow_headers", C_STR, OFF(cors_allow_headers),
	  "Accept, Authorization, Content-Type, If-None-Match, msdicom-request-original, X-Requested-With", 0, 0, NULL },
	{ "cors", "expose_headers", C_STR, OFF(cors_expose_headers),
	  "Location, ETag, Warning, Content-Location, erroneous-dicom-attributes", 0, 0, NULL },
	{ "cors", "max_age", C_INT, OFF(cors_max_age), "600", 0, 86400, NULL },
	{ "retrieve", "transcoding", C_STR, OFF(transcoding), "azure", 0, 0, "DICOM_TRANSCODING" },
	{ "retrieve", "bulkdata_uri", C_BOOL, OFF(bulkdata_uri), "false", 0, 0, "DICOM_BULKDATA_URI" },
	{ "debug", "enabled", C_BOOL, OFF(debug_enabled), "false", 0, 0, "DICOM_DEBUG" },
	{ "events", "service_host_name", C_STR, OFF(events_service_host), "localhost", 0, 0, "DICOM_EVENTS_SERVICE_HOST" },
	{ "events", "topic", C_STR, OFF(events_topic),
	  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.HealthcareApis/workspaces/emulator",
	  0, 0, NULL },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct load_state {
	struct config *cfg;
	char *err;
	size_t errlen;
	int failed;
};

static int set_value(struct config *cfg, const struct ckey *k, const char *value, char *err, size_t errlen)
{
	void *field = (char *)cfg + k->offset;

	switch (k->type) {
	case C_STR: {
		char **s = field;
		free(*s);
		*s = xstrdup(value);
		return 0;
	}
	case C_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || end == value || *end || v < k->min || v > k->max) {
			snprintf(err, errlen, "'%s' is not a whole number from %lld to %lld", value,
				 (long long)k->min, (long long)k->max);
			return -1;
		}
		*(int64_t *)field = v;
		return 0;
	}
	case C_BOOL:
		if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1") ||
		    !strcasecmp(value, "on")) {
			*(bool *)field = true;
		} else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0") ||
			   !strcasecmp(value, "off")) {
			*(bool *)field = false;
		} else {
			snprintf(err, errlen, "'%s' is not true or false", value);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	char why[256];

	for (size_t i = 0; i < NKEYS; i++) {
		if (!keys[i].section || strcmp(keys[i].section, section) || strcmp(keys[i].key, name))
			continue;
		if (set_value(st->cfg, &keys[i], value, why, sizeof(why))) {
			snprintf(st->err, st->errlen, "[%s] %s: %s", section, name, why);
			st->failed = 1;
			return 0;
		}
		return 1;
	}
	/* Sections other tools own (events subscriptions and the like) are theirs. */
	if (!strcmp(section, "server") || !strcmp(section, "database") || !strcmp(section, "store") ||
	    !strcmp(section, "cors") || !strcmp(section, "debug") || !strcmp(section, "retrieve")) {
		snprintf(st->err, st->errlen, "unknown key '%s' in [%s]", name, section);
		st->failed = 1;
		return 0;
	}
	return 1;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_state st = { cfg, err, errlen, 0 };
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++)
		if (set_value(cfg, &keys[i], keys[i].def, why, sizeof(why)))
			abort(); /* a bad default is a programming error */
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
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = keys[i].env ? getenv(keys[i].env) : NULL;
		if (v && set_value(cfg, &keys[i], v, why, sizeof(why))) {
			snprintf(err, errlen, "environment %s: %s", keys[i].env, why);
			return -1;
		}
	}
	if (strcmp(cfg->transcoding, "azure") && strcmp(cfg->transcoding, "all")) {
		snprintf(err, errlen, "[retrieve] transcoding must be azure or all, not '%s'", cfg->transcoding);
		return -1;
	}
	cfg->transcode_all = !strcmp(cfg->transcoding, "all");
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

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == C_STR)
			free(*(char **)((char *)cfg + keys[i].offset));
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

char *config_conninfo(const struct config *cfg)
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
	add_kv(&b, "application_name", "dicom-fcgi");
	return buf_detach(&b, NULL);
}
