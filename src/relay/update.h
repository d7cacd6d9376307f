/* outbox-relay's bulk update worker ($bulkUpdate operations). */
#ifndef ADE_RELAY_UPDATE_H
#define ADE_RELAY_UPDATE_H

#include <stdbool.h>

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
};

struct update_state {
	struct db_update job;
	bool held;
};

/* One step: claims an operation when none is held, then updates a batch
 * of its instances, or finishes it. Returns 1 when there may be more work,
 * 0 when there is none, -1 on a database error (the job let go). */
int update_work(struct update_ctx *u, struct update_state *st);
void update_release(struct update_state *st);

#endif
