/* The SQL of outbox-relay: subscriptions, fan-out, claims, outcomes. */
#ifndef ADE_DB_RELAY_H
#define ADE_DB_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

struct db_subscription {
	const char *name, *provider;
	const char *const *event_types; /* NULL = every type */
	size_t ntypes;
	const char *begins_with, *ends_with; /* NULL = no filter */
	bool case_sensitive;
};

/* Creates or updates the subscription and marks it alive. */
int db_relay_register(struct db *db, const struct db_subscription *s);
/* Marks the named subscriptions alive (a relay's heartbeat). */
int db_relay_heartbeat(struct db *db, const char *const *names, size_t n);
/* Drops the pending deliveries that no relay serves any more (their
 * subscription unseen for 10 minutes: removed or renamed in every relay's
 * configuration) once their event is older than 1440 minutes, the longest
 * time to live Event Grid allows, with reason TimeToLiveExceeded: nothing
 * would ever try them again, and they would stay in the index of pending
 * deliveries. Returns the count, or -1. */
long db_relay_drop_unserved(struct db *db);
/* Removes up to limit of the oldest events that are older than hours and
 * done with: fanned out and no delivery of theirs pending (their delivery
 * records go with them). Only the oldest limit events are looked at: a
 * pending one among them keeps its place, and the call stops there until
 * it is delivered or given up (at most a day: Event Grid's longest time
 * to live, db_relay_drop_unserved). Returns the count, or -1. */
long db_relay_prune(struct db *db, int hours, int limit);
/* Gives up to limit instances stored before schema step 017 their head
 * (the attributes searches return by default), skipping rows another
 * transaction holds. Returns the count, or -1. */
long db_relay_fill_heads(struct db *db, int limit);
/* Makes db the connection of deliveries (fan-out, claims, outcomes, the
 * next due time), apart from the relay's other work:
 * - its commits do not wait for the WAL to reach the disk. A crash loses
 *   at most the last of them, never one before a flushed commit (the WAL
 *   is replayed in order), and each loss only makes an event be fanned
 *   out, claimed or delivered again: at least once, as before. The events
 *   themselves were committed and flushed by the requests that wrote
 *   them; operations and expiry, which remove files after their commits,
 *   run on the other connection and wait for the flush.
 * - its statements are planned once (generic plans), not at every round:
 *   fan-out, claim and next due time carry the relay's subscriptions,
 *   batch, lease and owner as literals, so their plans know them (a plan
 *   blind to the names in a parameter scanned every pending delivery once
 *   other subscriptions had many); the outcomes' one looks its rows up by
 *   key, the same plan for any arrays.
 * Session settings, kept over reconnections. Returns 0, or -1. */
int db_relay_delivery_session(struct db *db);
/* Fans out up to batch outbox rows to every live matching subscription.
 * Returns the number of outbox rows taken, or -1. */
long db_relay_fanout(struct db *db, int batch);

struct db_claim {
	int64_t outbox_id;
	char *subscription; /* caller frees (db_claims_free) */
	int attempt;        /* 1 for the first delivery */
	char *payload;      /* the Event Grid event, as stored */
	double age_seconds; /* since the event was written */
};

/* Leases up to batch due deliveries of the named subscriptions for
 * lease_seconds to owner. Returns the count (claims in *out), or -1. */
long db_relay_claim(struct db *db, const char *const *subs, size_t nsubs, const char *owner, int lease_seconds,
		    int batch, struct db_claim **out);
void db_claims_free(struct db_claim *c, long n);

/* An attempt's outcome: status "delivered", "pending" (retry in retry_in
 * seconds), "dead" or "dropped"; http_status 0 when there was none,
 * reason NULL unless dead or dropped. */
struct db_record {
	int64_t outbox_id;
	const char *subscription, *status;
	double retry_in;
	int http_status;
	const char *outcome, *reason;
};

/* Records the outcomes of a batch in one statement (one commit, one flush
 * of the WAL). Only the lease owner's records count. */
int db_relay_record(struct db *db, const char *owner, const struct db_record *rec, size_t n);
/* Seconds until the next delivery of these subscriptions is due (0 when
 * one is due now, -1 when none is pending). */
double db_relay_next_due(struct db *db, const char *const *subs, size_t nsubs);

/* Seconds until the next study expires (0 when overdue), -1 when none will. */
double db_expiry_next_due(struct db *db);

/* db_listen() and db_wait() are in db/db.h: LISTEN on a channel, then
 * wait up to a time-out for a notification (1), time-out (0) or a failed
 * connection (-1). */

#endif
