/* outbox-relay's export worker (export operations, §9.5). */
#ifndef ADE_RELAY_EXPORT_H
#define ADE_RELAY_EXPORT_H

#include "relay/update.h"

/* One step: claims an export operation when none is held, then copies a
 * batch of its instances, or finishes it (errors.log, results). Returns 1
 * when there may be more work, 0 when there is none, -1 on a database
 * error (the job let go). The context and state are those of the update
 * worker: both go instance by instance. */
int export_work(struct update_ctx *u, struct update_state *st);

#endif
