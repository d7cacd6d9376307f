/* The relay's settings: [relay], and the subscriptions (where events go
 * and which ones) from [subscription:NAME] sections or the EVENT_PROVIDERS
 * environment variable (a JSON array, for containers). Read by the one INI
 * loader (common/config.h) in the same pass as the core sections; each
 * provider lists its own keys (relay/provider.h). */
#ifndef ADE_RELAY_SETTINGS_H
#define ADE_RELAY_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "events/envelope.h"

struct subscription {
	char *name;
	char *provider;          /* a name in the provider table */
	bool enabled;
	/* filters */
	char **event_types;      /* NULL = every type */
	size_t ntypes;
	char *begins_with, *ends_with;
	bool case_sensitive;
	enum event_schema schema;
	/* retry policy (Event Grid's defaults) */
	int64_t max_attempts;    /* 1-30, 30 */
	int64_t ttl_minutes;     /* 1-1440, 1440 */
	bool dead_letter;
	int64_t timeout_seconds; /* 30 */
	/* provider settings: each provider's keys fill its own fields */
	char *url;               /* webhook */
	char **headers;          /* webhook: "Name: value" */
	size_t nheaders;
	bool handshake;          /* webhook: validation handshake at start-up */
	char *path;              /* file */
	char *connection_string; /* azure_storage_queue */
	char *queue_name;
	bool base64;             /* azure_storage_queue message encoding */
	int64_t message_ttl_seconds;
	void *state;             /* the provider's */
};

struct relay_config {
	int64_t poll_interval_ms;
	int64_t gather_ms;         /* least time between two wakes by events */
	int64_t batch;
	int64_t lease_seconds;
	double retry_schedule[16]; /* seconds, before scaling */
	size_t nretry;
	double retry_scale;        /* tests shrink the schedule */
	int64_t operation_batch;   /* instances a reindex step takes */
	int64_t operation_pause_ms; /* rest between steps */
	int64_t update_retry_seconds; /* a bulk update's version the store has no room for fails after this */
	int64_t temp_max_age;      /* seconds: older upload temp files go; 0: kept */
	int64_t orphan_max_age;    /* seconds: older stored files no row points at go; 0: kept */
	int64_t event_max_age;     /* hours: older events done with go; 0: kept */
	struct subscription *subs;
	size_t nsubs;
};

/* Reads the core sections into cfg and [relay] and every
 * [subscription:NAME] of path (may be NULL) into rc in one pass, then the
 * environment and EVENT_PROVIDERS; validates. Returns 0, or -1 with a
 * message naming the section and key in err. */
int relay_config_load(struct config *cfg, struct relay_config *rc, const char *path, char *err, size_t errlen);
void relay_config_release(struct relay_config *rc);

#endif
