/* outbox-relay's bulk update worker ($bulkUpdate operations). */
#ifndef ADE_RELAY_UPDATE_H
#define ADE_RELAY_UPDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/update.h"
#include "store/store.h"

struct update_ctx {
	struct db *db;
	struct store *store;
	const char *owner;
	int lease_seconds;
	long batch;                /* instances a step */
	const char *host, *topic;  /* of the events */
	const char *export_identity; /* [features] export_identity, or NULL */
	int64_t retry_seconds;       /* [relay] update_retry_seconds */
};

struct update_state {
	struct db_update job;
	bool held;
	uint64_t pause_until; /* util_now_ms(): no work before (the store had no room) */
	int64_t waiting;      /* the instance (watermark) the store had no room for, 0 none */
	uint64_t waiting_since; /* util_now_ms() of its first such attempt */
};

/* One step: claims an operation when none is held, then updates a batch
 * of its instances, or finishes it. Returns 1 when there may be more work,
 * 0 when there is none for now (also for a few seconds after the store
 * could not take a new version: the instance stays pending, the job held,
 * for retry_seconds at most, then it fails), -1 on a database error (the
 * job let go). */
int update_work(struct update_ctx *u, struct update_state *st);
void update_release(struct update_state *st);

#endif
