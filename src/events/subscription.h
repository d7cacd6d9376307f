/* Event subscriptions: where events go and which ones, from the INI file
 * ([subscription:NAME] sections) or the EVENT_PROVIDERS environment
 * variable (a JSON array, for containers). */
#ifndef ADE_EVENTS_SUBSCRIPTION_H
#define ADE_EVENTS_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>

enum event_schema { SCHEMA_EVENTGRID, SCHEMA_CLOUDEVENTS };

struct subscription {
	char *name;
	char *provider;          /* webhook, file, azure_storage_queue, debug */
	bool enabled;
	/* filters */
	char **event_types;      /* NULL = every type */
	size_t ntypes;
	char *begins_with, *ends_with;
	bool case_sensitive;
	enum event_schema schema;
	/* retry policy (Event Grid's defaults) */
	int max_attempts;        /* 1-30, 30 */
	int ttl_minutes;         /* 1-1440, 1440 */
	bool dead_letter;
	int timeout_seconds;     /* 30 */
	/* provider settings */
	char *url;               /* webhook */
	char **headers;          /* webhook: "Name: value" */
	size_t nheaders;
	bool handshake;          /* webhook: validation handshake at start-up */
	char *path;              /* file */
	char *connection_string; /* azure_storage_queue */
	char *queue_name;
	bool base64;             /* azure_storage_queue message encoding */
	int message_ttl_seconds;
	void *state;             /* the provider's */
};

struct relay_config {
	int poll_interval_ms;
	int batch;
	int lease_seconds;
	double retry_schedule[16]; /* seconds, before scaling */
	size_t nretry;
	double retry_scale;        /* tests shrink the schedule */
	int operation_batch;       /* instances a reindex step takes */
	int operation_pause_ms;    /* rest between steps */
	struct subscription *subs;
	size_t nsubs;
};

/* Reads [relay] and every [subscription:NAME] of path (may be NULL), then
 * the EVENT_PROVIDERS variable; validates. Returns 0, or -1 with a message
 * naming the section and key in err. */
int relay_config_load(struct relay_config *rc, const char *path, char *err, size_t errlen);
void relay_config_release(struct relay_config *rc);

#endif
