/* Delivery providers: one file each, found by name in a table. */
#ifndef ADE_RELAY_PROVIDER_H
#define ADE_RELAY_PROVIDER_H

#include <stddef.h>

#include "common/config.h"
#include "relay/settings.h"

enum outcome_kind { OUTCOME_DELIVERED, OUTCOME_RETRY, OUTCOME_FATAL };

struct outcome {
	enum outcome_kind kind;
	int http_status;     /* 0 when there was none */
	char text[96];       /* Event Grid's words: Success, BadRequest, TimedOut, Busy, SocketError, ... */
};

struct event_out {
	const char *body;          /* the event in the subscription's schema (one JSON object) */
	size_t len;
	int attempt;               /* 1 for the first */
};

struct provider {
	const char *name;
	/* its keys in [subscription:NAME] (fields of struct subscription), and
	 * the one it cannot do without that is missing, if any */
	const struct config_key *keys;
	size_t nkeys;
	const char *(*missing)(const struct subscription *s);
	/* At start-up: check settings, open what stays open, do handshakes.
	 * Returns 0, or -1 with the reason in err (the relay refuses to start). */
	int (*open)(struct subscription *s, char *err, size_t errlen);
	void (*deliver)(struct subscription *s, const struct event_out *ev, struct outcome *out);
	void (*close)(struct subscription *s);
	/* optional: n deliveries at once (several in flight), out[i] for ev[i] */
	void (*deliver_many)(struct subscription *s, const struct event_out *ev, size_t n, struct outcome *out);
};

extern const struct provider provider_webhook;
extern const struct provider provider_file;
extern const struct provider provider_debug;
extern const struct provider provider_queue;

extern const struct provider *const providers[];
extern const size_t nproviders;
const struct provider *provider_find(const char *name);

#endif
