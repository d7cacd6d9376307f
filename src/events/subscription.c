#include "events/subscription.h"
#include "common/xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

static const double default_schedule[] = { 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200 };

struct load {
	struct relay_config *rc;
	char *err;
	size_t errlen;
	int failed;
};

static void sub_defaults(struct subscription *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->enabled = true;
	s->schema = SCHEMA_EVENTGRID;
	s->max_attempts = 30;
	s->ttl_minutes = 1440;
	s->dead_letter = true;
	s->timeout_seconds = 30;
	s->base64 = true;
	s->message_ttl_seconds = 7 * 24 * 3600;
}

static struct subscription *sub_get(struct relay_config *rc, const char *name)
{
	for (size_t i = 0; i < rc->nsubs; i++)
		if (!strcmp(rc->subs[i].name, name))
			return &rc->subs[i];
	rc->subs = xrealloc(rc->subs, (rc->nsubs + 1) * sizeof(*rc->subs));
	sub_defaults(&rc->subs[rc->nsubs], name);
	return &rc->subs[rc->nsubs++];
}

static int to_int(const char *v, int min, int max, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

static int to_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Splits a comma list into trimmed strings. */
static char **split(const char *v, size_t *n)
{
	char **out = NULL;
	*n = 0;
	while (*v) {
		size_t len = strcspn(v, ",");
		const char *p = v;
		size_t l = len;
		while (l && (*p == ' ' || *p == '\t'))
			p++, l--;
		while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l) {
			out = xrealloc(out, (*n + 1) * sizeof(*out));
			out[(*n)++] = xstrndup(p, l);
		}
		v += len;
		if (*v == ',')
			v++;
	}
	return out;
}

static void set_str(char **f, const char *v)
{
	free(*f);
	*f = *v ? xstrdup(v) : NULL;
}

/* One key of a subscription; returns NULL or why the value is refused. */
static const char *sub_key(struct subscription *s, const char *key, const char *v)
{
	if (!strcmp(key, "provider")) {
		if (strcmp(v, "webhook") && strcmp(v, "file") && strcmp(v, "azure_storage_queue") && strcmp(v, "debug"))
			return "must be webhook, file, azure_storage_queue or debug";
		set_str(&s->provider, v);
	} else if (!strcmp(key, "enabled")) {
		return to_bool(v, &s->enabled) ? "must be true or false" : NULL;
	} else if (!strcmp(key, "event_types")) {
		for (size_t i = 0; i < s->ntypes; i++)
			free(s->event_types[i]);
		free(s->event_types);
		s->event_types = NULL;
		s->ntypes = 0;
		if (strcasecmp(v, "all") && *v)
			s->event_types = split(v, &s->ntypes);
	} else if (!strcmp(key, "subject_begins_with")) {
		set_str(&s->begins_with, v);
	} else if (!strcmp(key, "subject_ends_with")) {
		set_str(&s->ends_with, v);
	} else if (!strcmp(key, "subject_case_sensitive")) {
		return to_bool(v, &s->case_sensitive) ? "must be true or false" : NULL;
	} else if (!strcmp(key, "schema")) {
		if (!strcasecmp(v, "eventgrid"))
			s->schema = SCHEMA_EVENTGRID;
		else if (!strcasecmp(v, "cloudevents"))
			s->schema = SCHEMA_CLOUDEVENTS;
		else
			return "must be eventgrid or cloudevents";
	} else if (!strcmp(key, "max_attempts")) {
		return to_int(v, 1, 30, &s->max_attempts) ? "must be a whole number from 1 to 30" : NULL;
	} else if (!strcmp(key, "ttl_minutes")) {
		return to_int(v, 1, 1440, &s->ttl_minutes) ? "must be a whole number from 1 to 1440" : NULL;
	} else if (!strcmp(key, "dead_letter")) {
		return to_bool(v, &s->dead_letter) ? "must be true or false" : NULL;
	} else if (!strcmp(key, "timeout_seconds")) {
		return to_int(v, 1, 300, &s->timeout_seconds) ? "must be a whole number from 1 to 300" : NULL;
	} else if (!strcmp(key, "url")) {
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return "must be an http:// or https:// URL";
		set_str(&s->url, v);
	} else if (!strcmp(key, "header")) {
		if (!strchr(v, ':'))
			return "must be 'Name: value'";
		if (!strncasecmp(v, "aeg-", 4))
			return "must not use the aeg- prefix (Event Grid's own headers)";
		s->headers = xrealloc(s->headers, (s->nheaders + 1) * sizeof(*s->headers));
		s->headers[s->nheaders++] = xstrdup(v);
	} else if (!strcmp(key, "validation_handshake")) {
		return to_bool(v, &s->handshake) ? "must be true or false" : NULL;
	} else if (!strcmp(key, "path")) {
		set_str(&s->path, v);
	} else if (!strcmp(key, "connection_string")) {
		set_str(&s->connection_string, v);
	} else if (!strcmp(key, "connection_string_env")) {
		const char *e = getenv(v);
		if (!e)
			return "names an environment variable that is not set";
		set_str(&s->connection_string, e);
	} else if (!strcmp(key, "queue_name")) {
		set_str(&s->queue_name, v);
	} else if (!strcmp(key, "message_encoding")) {
		if (!strcasecmp(v, "base64"))
			s->base64 = true;
		else if (!strcasecmp(v, "none"))
			s->base64 = false;
		else
			return "must be base64 or none";
	} else if (!strcmp(key, "message_ttl_seconds")) {
		return to_int(v, -1, 2000000000, &s->message_ttl_seconds) ? "must be a whole number of seconds" : NULL;
	} else {
		return "is not a subscription key";
	}
	return NULL;
}

static const char *relay_key(struct relay_config *rc, const char *key, const char *v)
{
	if (!strcmp(key, "poll_interval_ms"))
		return to_int(v, 10, 600000, &rc->poll_interval_ms) ? "must be a whole number from 10 to 600000" : NULL;
	if (!strcmp(key, "batch"))
		return to_int(v, 1, 1000, &rc->batch) ? "must be a whole number from 1 to 1000" : NULL;
	if (!strcmp(key, "lease_seconds"))
		return to_int(v, 5, 3600, &rc->lease_seconds) ? "must be a whole number from 5 to 3600" : NULL;
	if (!strcmp(key, "operation_batch"))
		return to_int(v, 1, 100000, &rc->operation_batch) ? "must be a whole number from 1 to 100000" : NULL;
	if (!strcmp(key, "operation_pause_ms"))
		return to_int(v, 0, 60000, &rc->operation_pause_ms) ? "must be a whole number from 0 to 60000" : NULL;
	if (!strcmp(key, "retry_scale")) {
		char *end;
		double d = strtod(v, &end);
		if (!*v || *end || d <= 0 || d > 100)
			return "must be a number above 0 and at most 100";
		rc->retry_scale = d;
		return NULL;
	}
	if (!strcmp(key, "retry_schedule")) {
		size_t n;
		char **parts = split(v, &n);
		const char *why = NULL;
		if (n == 0 || n > sizeof(rc->retry_schedule) / sizeof(rc->retry_schedule[0]))
			why = "must list 1 to 16 numbers of seconds";
		for (size_t i = 0; i < n; i++) {
			char *end;
			double d = strtod(parts[i], &end);
			if (!why && (*end || d < 0))
				why = "must list numbers of seconds";
			if (!why)
				rc->retry_schedule[i] = d;
			free(parts[i]);
		}
		free(parts);
		if (!why)
			rc->nretry = n;
		return why;
	}
	return "is not a [relay] key";
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct load *l = user;
	const char *why = NULL;

	if (!strncmp(section, "subscription:", 13)) {
		if (!section[13])
			why = "needs a name after 'subscription:'";
		else
			why = sub_key(sub_get(l->rc, section + 13), name, value);
	} else if (!strcmp(section, "relay")) {
		why = relay_key(l->rc, name, value);
	} else {
		return 1; /* the responder's sections */
	}
	if (why) {
		snprintf(l->err, l->errlen, "[%s] %s: '%s' %s", section, name, value, why);
		l->failed = 1;
		return 0;
	}
	return 1;
}

static const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* EVENT_PROVIDERS: [{"type": "webhook", "enabled": true, "url": ..., ...}] */
static int load_env(struct relay_config *rc, const char *text, char *err, size_t errlen)
{
	cJSON *arr = cJSON_Parse(text);
	int rc_ = -1;

	if (!cJSON_IsArray(arr)) {
		snprintf(err, errlen, "EVENT_PROVIDERS: not a JSON array");
		goto out;
	}
	for (int i = 0; i < cJSON_GetArraySize(arr); i++) {
		const cJSON *o = cJSON_GetArrayItem(arr, i);
		const char *type = json_str(o, "type");
		char name[64];
		if (!cJSON_IsObject(o) || !type) {
			snprintf(err, errlen, "EVENT_PROVIDERS[%d]: needs a \"type\"", i);
			goto out;
		}
		const char *named = json_str(o, "name");
		snprintf(name, sizeof(name), "%s", named ? named : "");
		if (!named)
			snprintf(name, sizeof(name), "env-%d-%s", i, type);
		struct subscription *s = sub_get(rc, name);
		const char *provider = !strcmp(type, "in_memory") ? "debug" : type;
		const char *why = sub_key(s, "provider", provider);
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled");
		if (cJSON_IsBool(en))
			s->enabled = cJSON_IsTrue(en);
		const struct {
			const char *json, *key;
		} map[] = {
			{ "url", "url" },
			{ "path", "path" },
			{ "file_path", "path" },
			{ "connection_string", "connection_string" },
			{ "queue_name", "queue_name" },
			{ "schema", "schema" },
			{ "message_encoding", "message_encoding" },
			{ "subject_begins_with", "subject_begins_with" },
			{ "subject_ends_with", "subject_ends_with" },
		};
		for (size_t k = 0; k < sizeof(map) / sizeof(map[0]) && !why; k++) {
			const char *v = json_str(o, map[k].json);
			if (v)
				why = sub_key(s, map[k].key, v);
		}
		const cJSON *ra = cJSON_GetObjectItemCaseSensitive(o, "retry_attempts");
		if (!why && cJSON_IsNumber(ra)) {
			char n[16];
			snprintf(n, sizeof(n), "%d", ra->valueint);
			why = sub_key(s, "max_attempts", n);
		}
		const cJSON *et = cJSON_GetObjectItemCaseSensitive(o, "event_types");
		if (!why && cJSON_IsArray(et)) {
			struct { char *p; size_t n; } joined = { NULL, 0 };
			for (int k = 0; k < cJSON_GetArraySize(et); k++) {
				const cJSON *t = cJSON_GetArrayItem(et, k);
				if (!cJSON_IsString(t))
					continue;
				size_t l = strlen(t->valuestring);
				joined.p = xrealloc(joined.p, joined.n + l + 2);
				memcpy(joined.p + joined.n, t->valuestring, l);
				joined.n += l;
				joined.p[joined.n++] = ',';
				joined.p[joined.n] = '\0';
			}
			why = sub_key(s, "event_types", joined.p ? joined.p : "");
			free(joined.p);
		}
		if (why) {
			snprintf(err, errlen, "EVENT_PROVIDERS[%d] (%s): %s", i, type, why);
			goto out;
		}
	}
	rc_ = 0;
out:
	cJSON_Delete(arr);
	return rc_;
}

static int validate(struct relay_config *rc, char *err, size_t errlen)
{
	for (size_t i = 0; i < rc->nsubs; i++) {
		struct subscription *s = &rc->subs[i];
		const char *missing = NULL;
		if (!s->provider)
			missing = "provider";
		else if (!strcmp(s->provider, "webhook") && !s->url)
			missing = "url";
		else if (!strcmp(s->provider, "file") && !s->path)
			missing = "path";
		else if (!strcmp(s->provider, "azure_storage_queue") && !s->connection_string)
			missing = "connection_string";
		else if (!strcmp(s->provider, "azure_storage_queue") && !s->queue_name)
			missing = "queue_name";
		if (missing) {
			snprintf(err, errlen, "[subscription:%s] %s: missing", s->name, missing);
			return -1;
		}
	}
	return 0;
}

int relay_config_load(struct relay_config *rc, const char *path, char *err, size_t errlen)
{
	struct load l = { rc, err, errlen, 0 };

	memset(rc, 0, sizeof(*rc));
	rc->poll_interval_ms = 1000;
	rc->batch = 50;
	rc->lease_seconds = 60;
	rc->retry_scale = 1.0;
	rc->operation_batch = 500;
	memcpy(rc->retry_schedule, default_schedule, sizeof(default_schedule));
	rc->nretry = sizeof(default_schedule) / sizeof(default_schedule[0]);
	if (path) {
		int r = ini_parse(path, on_ini, &l);
		if (r < 0) {
			snprintf(err, errlen, "cannot open '%s'", path);
			return -1;
		}
		if (l.failed) {
			char tmp[512];
			snprintf(tmp, sizeof(tmp), "%s: line %d: %s", path, r, err);
			snprintf(err, errlen, "%s", tmp);
			return -1;
		}
		if (r > 0) {
			snprintf(err, errlen, "%s: line %d: cannot parse (lines are limited to 200 characters)", path, r);
			return -1;
		}
	}
	const char *env = getenv("EVENT_PROVIDERS");
	if (env && *env && load_env(rc, env, err, errlen))
		return -1;
	return validate(rc, err, errlen);
}

void relay_config_release(struct relay_config *rc)
{
	for (size_t i = 0; i < rc->nsubs; i++) {
		struct subscription *s = &rc->subs[i];
		for (size_t k = 0; k < s->ntypes; k++)
			free(s->event_types[k]);
		for (size_t k = 0; k < s->nheaders; k++)
			free(s->headers[k]);
		free(s->event_types);
		free(s->headers);
		free(s->name);
		free(s->provider);
		free(s->begins_with);
		free(s->ends_with);
		free(s->url);
		free(s->path);
		free(s->connection_string);
		free(s->queue_name);
	}
	free(rc->subs);
	memset(rc, 0, sizeof(*rc));
}
