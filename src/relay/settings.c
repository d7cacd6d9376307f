#include "relay/settings.h"
#include "relay/provider.h"
#include "common/buf.h"
#include "common/xalloc.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

/* ---- [relay] --------------------------------------------------------------- */

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

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static const char *set_retry_scale(void *obj, const char *v)
{
	struct relay_config *rc = obj;
	char *end;
	double d = strtod(v, &end);
	if (!*v || *end || d <= 0 || d > 100)
		return "must be a number above 0 and at most 100";
	rc->retry_scale = d;
	return NULL;
}

static const char *set_retry_schedule(void *obj, const char *v)
{
	struct relay_config *rc = obj;
	size_t n;
	char **parts = split(v, &n);
	const char *why = NULL;
	double d[sizeof(rc->retry_schedule) / sizeof(rc->retry_schedule[0])];

	if (n == 0 || n > sizeof(d) / sizeof(d[0]))
		why = "must list 1 to 16 numbers of seconds";
	for (size_t i = 0; !why && i < n; i++) {
		char *end;
		d[i] = strtod(parts[i], &end);
		if (*end || d[i] < 0)
			why = "must list numbers of seconds";
	}
	if (!why) {
		memcpy(rc->retry_schedule, d, n * sizeof(d[0]));
		rc->nretry = n;
	}
	free_list(parts, n);
	return why;
}

#define RELAY(f) offsetof(struct relay_config, f)
static const struct config_key relay_keys[] = {
	{ "poll_interval_ms", CONFIG_INT, RELAY(poll_interval_ms), "1000", 10, 600000, NULL, NULL },
	{ "gather_ms", CONFIG_INT, RELAY(gather_ms), "10", 0, 10000, NULL, NULL },
	{ "batch", CONFIG_INT, RELAY(batch), "50", 1, 1000, NULL, NULL },
	{ "lease_seconds", CONFIG_INT, RELAY(lease_seconds), "60", 5, 3600, NULL, NULL },
	{ "retry_schedule", CONFIG_FN, 0, "10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200", 0, 0, NULL,
	  set_retry_schedule },
	{ "retry_scale", CONFIG_FN, 0, "1.0", 0, 0, NULL, set_retry_scale },
	{ "operation_batch", CONFIG_INT, RELAY(operation_batch), "500", 1, 100000, NULL, NULL },
	{ "operation_pause_ms", CONFIG_INT, RELAY(operation_pause_ms), "0", 0, 60000, NULL, NULL },
	{ "update_retry_seconds", CONFIG_INT, RELAY(update_retry_seconds), "780", 1, 86400 * 7, NULL, NULL },
	{ "temp_max_age_seconds", CONFIG_INT, RELAY(temp_max_age), "300", 0, 86400 * 7, NULL, NULL },
	{ "orphan_max_age_seconds", CONFIG_INT, RELAY(orphan_max_age), "86400", 0, 86400 * 30, NULL, NULL },
	{ "event_max_age_hours", CONFIG_INT, RELAY(event_max_age), "168", 0, 24 * 3650, NULL, NULL },
};

/* ---- [subscription:NAME]: the keys every provider has ------------------------ */

static const char *set_provider(void *obj, const char *v)
{
	static char why[256];
	struct subscription *s = obj;

	if (!provider_find(v)) {
		size_t n = (size_t)snprintf(why, sizeof(why), "must be");
		for (size_t i = 0; i < nproviders && n < sizeof(why); i++)
			n += (size_t)snprintf(why + n, sizeof(why) - n, "%s %s", i == 0 ? "" : i + 1 == nproviders ? " or" : ",",
					      providers[i]->name);
		return why;
	}
	free(s->provider);
	s->provider = xstrdup(v);
	return NULL;
}

static const char *set_event_types(void *obj, const char *v)
{
	struct subscription *s = obj;
	free_list(s->event_types, s->ntypes);
	s->event_types = NULL;
	s->ntypes = 0;
	if (strcasecmp(v, "all") && *v)
		s->event_types = split(v, &s->ntypes);
	return NULL;
}

static const char *set_schema(void *obj, const char *v)
{
	struct subscription *s = obj;
	if (!strcasecmp(v, "eventgrid"))
		s->schema = SCHEMA_EVENTGRID;
	else if (!strcasecmp(v, "cloudevents"))
		s->schema = SCHEMA_CLOUDEVENTS;
	else
		return "must be eventgrid or cloudevents";
	return NULL;
}

#define SUB(f) offsetof(struct subscription, f)
static const struct config_key subscription_keys[] = {
	{ "provider", CONFIG_FN, 0, NULL, 0, 0, NULL, set_provider },
	{ "enabled", CONFIG_BOOL, SUB(enabled), "true", 0, 0, NULL, NULL },
	{ "event_types", CONFIG_FN, 0, NULL, 0, 0, NULL, set_event_types },
	{ "subject_begins_with", CONFIG_OPTSTR, SUB(begins_with), NULL, 0, 0, NULL, NULL },
	{ "subject_ends_with", CONFIG_OPTSTR, SUB(ends_with), NULL, 0, 0, NULL, NULL },
	{ "subject_case_sensitive", CONFIG_BOOL, SUB(case_sensitive), "false", 0, 0, NULL, NULL },
	{ "schema", CONFIG_FN, 0, "eventgrid", 0, 0, NULL, set_schema },
	{ "max_attempts", CONFIG_INT, SUB(max_attempts), "30", 1, 30, NULL, NULL },
	{ "ttl_minutes", CONFIG_INT, SUB(ttl_minutes), "1440", 1, 1440, NULL, NULL },
	{ "dead_letter", CONFIG_BOOL, SUB(dead_letter), "true", 0, 0, NULL, NULL },
	{ "timeout_seconds", CONFIG_INT, SUB(timeout_seconds), "30", 1, 300, NULL, NULL },
};
#define NSUBKEYS (sizeof(subscription_keys) / sizeof(subscription_keys[0]))

/* The subscription of that name, made with every default on first sight. */
static void *sub_get(void *ctx, const char *name)
{
	struct relay_config *rc = ctx;
	char err[256];

	for (size_t i = 0; i < rc->nsubs; i++)
		if (!strcmp(rc->subs[i].name, name))
			return &rc->subs[i];
	rc->subs = xrealloc(rc->subs, (rc->nsubs + 1) * sizeof(*rc->subs));
	struct subscription *s = &rc->subs[rc->nsubs++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	if (config_defaults(s, subscription_keys, NSUBKEYS, err, sizeof(err)))
		abort(); /* a bad default is a programming error */
	for (size_t p = 0; p < nproviders; p++)
		if (config_defaults(s, providers[p]->keys, providers[p]->nkeys, err, sizeof(err)))
			abort();
	return s;
}

/* One key of a subscription, whichever table has it. */
static const char *sub_set(struct subscription *s, const char *key, const char *v)
{
	static char why[160];
	const char *bad = config_set_key(s, subscription_keys, NSUBKEYS, key, v, why, sizeof(why));
	for (size_t p = 0; p < nproviders && bad == CONFIG_UNKNOWN; p++)
		bad = config_set_key(s, providers[p]->keys, providers[p]->nkeys, key, v, why, sizeof(why));
	return bad;
}

static void *the_relay(void *ctx, const char *name)
{
	(void)name;
	return ctx;
}

/* ---- EVENT_PROVIDERS ------------------------------------------------------------ */

static const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The keys of one provider object other than type, enabled and name. */
static const char *env_keys(struct subscription *s, const cJSON *o)
{
	static const struct {
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
	const char *why = NULL;
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]) && !why; k++) {
		const char *v = json_str(o, map[k].json);
		if (v)
			why = sub_set(s, map[k].key, v);
	}
	const cJSON *ra = cJSON_GetObjectItemCaseSensitive(o, "retry_attempts");
	if (!why && cJSON_IsNumber(ra)) {
		char n[16];
		snprintf(n, sizeof(n), "%d", ra->valueint);
		why = sub_set(s, "max_attempts", n);
	}
	const cJSON *et = cJSON_GetObjectItemCaseSensitive(o, "event_types");
	if (!why && cJSON_IsArray(et)) {
		struct buf joined;
		buf_init(&joined, 0);
		for (int k = 0; k < cJSON_GetArraySize(et); k++) {
			const cJSON *t = cJSON_GetArrayItem(et, k);
			if (cJSON_IsString(t))
				buf_addf(&joined, "%s,", t->valuestring);
		}
		why = sub_set(s, "event_types", buf_str(&joined));
		buf_release(&joined);
	}
	return why;
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
		if (named)
			snprintf(name, sizeof(name), "%s", named);
		else
			snprintf(name, sizeof(name), "env-%d-%s", i, type);
		struct subscription *s = sub_get(rc, name);
		const char *why = sub_set(s, "provider", !strcmp(type, "in_memory") ? "debug" : type);
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled");
		if (cJSON_IsBool(en))
			s->enabled = cJSON_IsTrue(en);
		if (!why)
			why = env_keys(s, o);
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

/* ---- loading ------------------------------------------------------------------- */

static int validate(struct relay_config *rc, char *err, size_t errlen)
{
	for (size_t i = 0; i < rc->nsubs; i++) {
		struct subscription *s = &rc->subs[i];
		const struct provider *p = s->provider ? provider_find(s->provider) : NULL;
		const char *missing = !p ? "provider" : p->missing ? p->missing(s) : NULL;
		if (missing) {
			snprintf(err, errlen, "[subscription:%s] %s: missing", s->name, missing);
			return -1;
		}
	}
	return 0;
}

int relay_config_load(struct config *cfg, struct relay_config *rc, const char *path, char *err, size_t errlen)
{
	struct config_section *secs = xcalloc(2 + nproviders, sizeof(*secs));
	size_t n = 0;
	int r = -1;

	memset(rc, 0, sizeof(*rc));
	if (config_defaults(rc, relay_keys, sizeof(relay_keys) / sizeof(relay_keys[0]), err, errlen))
		abort();
	secs[n++] = (struct config_section){ "relay", relay_keys, sizeof(relay_keys) / sizeof(relay_keys[0]), the_relay, rc };
	secs[n++] = (struct config_section){ "subscription:", subscription_keys, NSUBKEYS, sub_get, rc };
	for (size_t p = 0; p < nproviders; p++)
		secs[n++] = (struct config_section){ "subscription:", providers[p]->keys, providers[p]->nkeys, sub_get, rc };
	if (config_load_with(cfg, path, secs, n, err, errlen) == 0) {
		const char *env = getenv("EVENT_PROVIDERS");
		if (!(env && *env && load_env(rc, env, err, errlen)))
			r = validate(rc, err, errlen);
	}
	free(secs);
	return r;
}

void relay_config_release(struct relay_config *rc)
{
	for (size_t i = 0; i < rc->nsubs; i++) {
		struct subscription *s = &rc->subs[i];
		free_list(s->event_types, s->ntypes);
		free_list(s->headers, s->nheaders);
		free(s->name);
		free(s->provider);
		free(s->url); /* (set by the webhook's own setter, not a string key) */
		config_free_strings(s, subscription_keys, NSUBKEYS);
		for (size_t p = 0; p < nproviders; p++)
			config_free_strings(s, providers[p]->keys, providers[p]->nkeys);
	}
	free(rc->subs);
	memset(rc, 0, sizeof(*rc));
}
