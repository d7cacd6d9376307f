/* The debug view of events (served by dicom-fcgi when enabled). */
#ifndef ADE_DB_DEBUG_H
#define ADE_DB_DEBUG_H

#include <stdint.h>

#include "common/buf.h"

struct db;

struct db_debug_filter {
	const char *type, *subscription, *status; /* NULL = any */
	int64_t since;                            /* sequence; -1 = any */
	int limit;
	int64_t offset;
};

/* Append one JSON object each; 0 or -1. */
int db_debug_events(struct db *db, const struct db_debug_filter *f, struct buf *out);
int db_debug_stats(struct db *db, struct buf *out);
/* Removes events whose deliveries are all finished; the count, or -1. */
long db_debug_clear(struct db *db);
/* Puts the events with sequences from..to back in line for subscription;
 * the count, -2 for an unknown subscription, -1 on error. */
long db_debug_replay(struct db *db, const char *subscription, int64_t from, int64_t to);

#endif
