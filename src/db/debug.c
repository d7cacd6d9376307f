/* The debug view's SQL: events with their delivery states, statistics,
 * clean-up and replay. Every answer is built as JSON by PostgreSQL. */
#include "db/debug.h"
#include "db/db_internal.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* The events matching the filters; $1 type, $2 since, $3 subscription, $4 status. */
#define FILTERED \
	"WITH f AS (SELECT o.* FROM outbox o WHERE " \
	"($1::text IS NULL OR lower(o.event_type) = lower($1) " \
	"  OR lower(o.event_type) = 'microsoft.healthcareapis.' || lower($1)) " \
	"AND ($2::bigint IS NULL OR o.sequence > $2::bigint) " \
	"AND ($3::text IS NULL AND $4::text IS NULL OR EXISTS (SELECT 1 FROM delivery d WHERE d.outbox_id = o.id " \
	"  AND ($3::text IS NULL OR d.subscription = $3) AND ($4::text IS NULL OR d.status = $4)))) "

static int one_json(struct db *db, const char *sql, int n, const char *const *v, struct buf *out)
{
	PGresult *r = db_exec(db, PGRES_TUPLES_OK, sql, n, v);
	if (!r)
		return -1;
	buf_add(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
	PQclear(r);
	return 0;
}

int db_debug_events(struct db *db, const struct db_debug_filter *f, struct buf *out)
{
	char since[24], lim[16], off[24];
	snprintf(since, sizeof(since), "%lld", (long long)f->since);
	snprintf(lim, sizeof(lim), "%d", f->limit);
	snprintf(off, sizeof(off), "%lld", (long long)f->offset);
	const char *v[] = { f->type, f->since >= 0 ? since : NULL, f->subscription, f->status, lim, off };
	return one_json(db,
			FILTERED
			"SELECT json_build_object("
			" 'total', (SELECT count(*) FROM f), 'limit', $5::int, 'offset', $6::bigint,"
			" 'has_more', (SELECT count(*) FROM f) > $5::int + $6::bigint,"
			" 'events', COALESCE((SELECT json_agg(json_build_object("
			"    'sequence', e.sequence, 'id', e.event_id, 'eventType', e.event_type, 'subject', e.subject,"
			"    'eventTime', e.payload->'eventTime', 'routed', e.fanned_out, 'event', e.payload,"
			"    'deliveries', COALESCE((SELECT json_agg(json_build_object("
			"        'subscription', d.subscription, 'status', d.status, 'attempts', d.attempts,"
			"        'lastStatus', d.last_status, 'lastOutcome', d.last_outcome,"
			"        'nextAttemptAt', CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,"
			"        'deliveredAt', d.delivered_at, 'deadLetterReason', d.dead_letter_reason)"
			"        ORDER BY d.subscription) FROM delivery d WHERE d.outbox_id = e.id), '[]'::json))"
			"    ORDER BY e.sequence DESC, e.id DESC)"
			"  FROM (SELECT * FROM f ORDER BY sequence DESC, id DESC OFFSET $6::bigint LIMIT $5::int) e), '[]'::json)"
			")::text",
			6, v, out);
}

int db_debug_stats(struct db *db, struct buf *out)
{
	return one_json(db,
			"SELECT json_build_object("
			" 'total', (SELECT count(*) FROM outbox),"
			" 'notRouted', (SELECT count(*) FROM outbox WHERE NOT fanned_out),"
			" 'byType', COALESCE((SELECT json_object_agg(event_type, n) FROM"
			"   (SELECT event_type, count(*) n FROM outbox GROUP BY 1) t), '{}'::json),"
			" 'byStatus', COALESCE((SELECT json_object_agg(status, n) FROM"
			"   (SELECT status, count(*) n FROM delivery GROUP BY 1) t), '{}'::json),"
			" 'bySubscription', COALESCE((SELECT json_object_agg(subscription, s) FROM"
			"   (SELECT subscription, json_object_agg(status, n) s FROM"
			"     (SELECT subscription, status, count(*) n FROM delivery GROUP BY 1, 2) x GROUP BY 1) t), '{}'::json),"
			" 'oldestPendingAgeSeconds', (SELECT round(extract(epoch FROM now() - min(o.created_at))::numeric, 3)"
			"   FROM outbox o WHERE NOT o.fanned_out OR EXISTS"
			"   (SELECT 1 FROM delivery d WHERE d.outbox_id = o.id AND d.status = 'pending'))"
			")::text",
			0, NULL, out);
}

long db_debug_clear(struct db *db)
{
	return db_row_count(db_exec(db, PGRES_TUPLES_OK,
				    "DELETE FROM outbox o WHERE o.fanned_out AND NOT EXISTS "
				    "(SELECT 1 FROM delivery d WHERE d.outbox_id = o.id AND d.status = 'pending') RETURNING 1",
				    0, NULL));
}

long db_debug_replay(struct db *db, const char *subscription, int64_t from, int64_t to)
{
	char a[24], b[24];
	snprintf(a, sizeof(a), "%lld", (long long)from);
	snprintf(b, sizeof(b), "%lld", (long long)to);
	const char *v[] = { subscription, a, b };
	PGresult *r = db_exec(db, PGRES_TUPLES_OK, "SELECT 1 FROM subscription WHERE name = $1", 1, v);
	if (!r)
		return -1;
	int known = PQntuples(r);
	PQclear(r);
	if (!known)
		return -2;
	/* the events locked against deletion until commit (the relay's prune
	 * locks them too and looks again: sql/functions/dicom_outbox_prune);
	 * one the prune removed meanwhile is not replayed */
	r = db_exec(db, PGRES_TUPLES_OK,
		    "INSERT INTO delivery (outbox_id, subscription) "
		    "SELECT o.id, $1 FROM outbox o WHERE o.sequence BETWEEN $2::bigint AND $3::bigint FOR KEY SHARE "
		    "ON CONFLICT (outbox_id, subscription) DO UPDATE SET status = 'pending', attempts = 0, "
		    "  next_attempt_at = now(), locked_until = NULL, locked_by = NULL, dead_letter_reason = NULL, "
		    "  delivered_at = NULL RETURNING 1",
		    3, v);
	if (!r)
		return -1;
	long n = PQntuples(r);
	PQclear(r);
	if (n > 0) {
		PGresult *nr = db_exec(db, PGRES_TUPLES_OK, "SELECT pg_notify('outbox', 'replay')", 0, NULL);
		if (nr)
			PQclear(nr);
	}
	return n;
}
