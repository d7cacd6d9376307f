#include "db/relay.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

/* A PostgreSQL text[] literal (each element quoted, a NULL pointer NULL). */
static void text_array(struct buf *b, const char *const *v, size_t n, bool lower)
{
	buf_addch(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(b, ',');
		if (!v[i]) {
			buf_adds(b, "NULL");
			continue;
		}
		buf_addch(b, '"');
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addch(b, '\\');
			buf_addch(b, lower && *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p);
		}
		buf_addch(b, '"');
	}
	buf_addch(b, '}');
}

/* s as an SQL string literal (E'...': its meaning does not hang on
 * standard_conforming_strings). */
static void sql_literal(struct buf *b, const char *s)
{
	buf_adds(b, "E'");
	for (; *s; s++) {
		if (*s == '\\' || *s == '\'')
			buf_addch(b, *s);
		buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

/* The subscriptions as an SQL literal of a text[]. */
static void subs_array(struct buf *b, const char *const *subs, size_t nsubs)
{
	struct buf a;
	buf_init(&a, 0);
	text_array(&a, subs, nsubs, false);
	sql_literal(b, buf_str(&a));
	buf_adds(b, "::text[]");
	buf_release(&a);
}

/* "subscription is one of subs", as literals: an equality for one, else
 * = ANY of a text[]. */
static void subs_condition(struct buf *b, const char *const *subs, size_t nsubs)
{
	if (nsubs == 1) {
		buf_adds(b, "subscription = ");
		sql_literal(b, subs[0]);
		return;
	}
	buf_adds(b, "subscription = ANY (");
	subs_array(b, subs, nsubs);
	buf_addch(b, ')');
}

int db_relay_register(struct db *db, const struct db_subscription *s)
{
	struct buf types;
	buf_init(&types, 0);
	if (s->event_types)
		text_array(&types, s->event_types, s->ntypes, true);
	const char *v[] = { s->name, s->provider, s->event_types ? buf_str(&types) : NULL, s->begins_with, s->ends_with,
			    s->case_sensitive ? "true" : "false" };
	PGresult *r = db_exec(db, PGRES_COMMAND_OK,
			      "INSERT INTO subscription (name, provider, event_types, subject_begins_with, subject_ends_with, "
			      "subject_case_sensitive) VALUES ($1, $2, $3::text[], $4, $5, $6::boolean) "
			      "ON CONFLICT (name) DO UPDATE SET provider = EXCLUDED.provider, event_types = EXCLUDED.event_types, "
			      "subject_begins_with = EXCLUDED.subject_begins_with, subject_ends_with = EXCLUDED.subject_ends_with, "
			      "subject_case_sensitive = EXCLUDED.subject_case_sensitive, seen_at = now()",
			      6, v);
	buf_release(&types);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

int db_relay_heartbeat(struct db *db, const char *const *names, size_t n)
{
	struct buf a;
	buf_init(&a, 0);
	text_array(&a, names, n, false);
	const char *v[] = { buf_str(&a) };
	PGresult *r = db_exec(db, PGRES_COMMAND_OK, "UPDATE subscription SET seen_at = now() WHERE name = ANY ($1::text[])",
			      1, v);
	buf_release(&a);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

long db_relay_drop_unserved(struct db *db)
{
	return db_row_count(db_exec(db, PGRES_TUPLES_OK,
			      "UPDATE delivery d SET status = 'dropped', dead_letter_reason = 'TimeToLiveExceeded', "
			      "  last_outcome = 'TimeToLiveExceeded', locked_until = NULL, locked_by = NULL "
			      "FROM subscription s, outbox o "
			      "WHERE s.name = d.subscription AND o.id = d.outbox_id AND d.status = 'pending' "
			      "  AND s.seen_at < now() - interval '10 minutes' "
			      "  AND o.created_at < now() - interval '1440 minutes' RETURNING 1",
			      0, NULL));
}

long db_relay_prune(struct db *db, int hours, int limit)
{
	char h[16], l[16];
	snprintf(h, sizeof(h), "%d", hours);
	snprintf(l, sizeof(l), "%d", limit);
	const char *v[] = { h, l };
	return db_first_long(db_exec_fixed(db, PGRES_TUPLES_OK, "SELECT dicom_outbox_prune($1::int, $2::int)", 2, v));
}

long db_relay_fill_heads(struct db *db, int limit)
{
	char l[16];
	snprintf(l, sizeof(l), "%d", limit);
	const char *v[] = { l };
	return db_row_count(db_exec_fixed(db, PGRES_TUPLES_OK,
			      "WITH t AS (SELECT watermark FROM instance WHERE head IS NULL ORDER BY watermark "
			      "  LIMIT $1::int FOR UPDATE SKIP LOCKED) "
			      "UPDATE instance i SET head = dicom_pick(i.metadata::jsonb, dicom_head_tags()) "
			      "FROM t WHERE i.watermark = t.watermark RETURNING 1",
			      1, v));
}

int db_relay_delivery_session(struct db *db)
{
	return db_set_session(db, "SET synchronous_commit = off; SET plan_cache_mode = force_generic_plan");
}

/* The deliveries' statements take the relay's settings (subscriptions,
 * batch, lease, owner) as literals, not parameters: the same for the
 * relay's whole life, each is prepared once with no parameter and planned
 * once, by a plan that knows them (planned again only when the tables'
 * statistics change; see db_relay_delivery_session). */
long db_relay_fanout(struct db *db, int batch)
{
	struct buf q;
	buf_init(&q, 0);
	/* one statement: the rows taken, their deliveries, the mark (by key:
	 * "id IN (SELECT id FROM batch)" was planned as a hash join over a
	 * scan of the whole outbox, which only grows) */
	buf_addf(&q,
		 "WITH batch AS (SELECT id, event_type, subject FROM outbox WHERE NOT fanned_out "
		 "  ORDER BY id LIMIT %d FOR UPDATE SKIP LOCKED), "
		 "ins AS (INSERT INTO delivery (outbox_id, subscription) "
		 "  SELECT b.id, s.name FROM batch b JOIN subscription s "
		 "    ON s.seen_at > now() - interval '10 minutes' "
		 "   AND dicom_subscription_matches(s, b.event_type, b.subject) "
		 "  ON CONFLICT DO NOTHING) "
		 "UPDATE outbox SET fanned_out = true WHERE id = ANY (ARRAY(SELECT id FROM batch)) RETURNING id",
		 batch);
	PGresult *r = db_exec_text(db, PGRES_TUPLES_OK, buf_str(&q), 0, NULL);
	buf_release(&q);
	if (!r)
		return -1;
	long n = PQntuples(r);
	PQclear(r);
	return n;
}

void db_claims_free(struct db_claim *c, long n)
{
	for (long i = 0; i < n; i++) {
		free(c[i].subscription);
		free(c[i].payload);
	}
	free(c);
}

long db_relay_claim(struct db *db, const char *const *subs, size_t nsubs, const char *owner, int lease_seconds,
		    int batch, struct db_claim **out)
{
	struct buf q;

	*out = NULL;
	buf_init(&q, 0);
	buf_addf(&q,
		 "UPDATE delivery d SET locked_until = now() + make_interval(secs => %d), locked_by = ",
		 lease_seconds);
	sql_literal(&q, owner);
	/* the first of each subscription, read in the index's order (sql/022)
	 * and locked, then the first of them all: an index scan a
	 * subscription, where one scan of several names was a bitmap scan and
	 * a sort (rows locked and not taken are free again at the commit) */
	buf_adds(&q, ", attempts = d.attempts + 1, last_attempt_at = now() "
		     "FROM (SELECT c.outbox_id, c.subscription FROM unnest(");
	subs_array(&q, subs, nsubs);
	buf_addf(&q, ") s(name) CROSS JOIN LATERAL "
		     "      (SELECT outbox_id, subscription, next_attempt_at FROM delivery "
		     "        WHERE status = 'pending' AND subscription = s.name AND next_attempt_at <= now() "
		     "          AND (locked_until IS NULL OR locked_until < now()) "
		     "        ORDER BY next_attempt_at, outbox_id LIMIT %d FOR UPDATE SKIP LOCKED) c "
		     "      ORDER BY c.next_attempt_at, c.outbox_id LIMIT %d) c, outbox o "
		     "WHERE d.outbox_id = c.outbox_id AND d.subscription = c.subscription AND o.id = d.outbox_id "
		     "RETURNING d.outbox_id, d.subscription, d.attempts, o.payload::text, "
		     "  extract(epoch FROM now() - o.created_at)",
		 batch, batch);
	PGresult *r = db_exec_text(db, PGRES_TUPLES_OK, buf_str(&q), 0, NULL);
	buf_release(&q);
	if (!r)
		return -1;
	long n = PQntuples(r);
	struct db_claim *c = xcalloc((size_t)n, sizeof(*c));
	for (long i = 0; i < n; i++) {
		c[i].outbox_id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
		c[i].subscription = xstrdup(PQgetvalue(r, (int)i, 1));
		c[i].attempt = atoi(PQgetvalue(r, (int)i, 2));
		c[i].payload = xstrdup(PQgetvalue(r, (int)i, 3));
		c[i].age_seconds = strtod(PQgetvalue(r, (int)i, 4), NULL);
	}
	PQclear(r);
	*out = c;
	return n;
}

int db_relay_record(struct db *db, const char *owner, const struct db_record *rec, size_t n)
{
	struct buf ids, subs, status, retry, http, outcome, reason;
	const char **col = xcalloc(n ? n : 1, sizeof(*col));
	struct buf *all[] = { &ids, &subs, &status, &retry, &http, &outcome, &reason };

	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		buf_init(all[k], 0);
	/* numbers: one literal each */
	buf_addch(&ids, '{');
	buf_addch(&retry, '{');
	buf_addch(&http, '{');
	for (size_t i = 0; i < n; i++) {
		const char *sep = i ? "," : "";
		buf_addf(&ids, "%s%lld", sep, (long long)rec[i].outbox_id);
		buf_addf(&retry, "%s%.3f", sep, rec[i].retry_in);
		if (rec[i].http_status)
			buf_addf(&http, "%s%d", sep, rec[i].http_status);
		else
			buf_addf(&http, "%sNULL", sep);
	}
	buf_addch(&ids, '}');
	buf_addch(&retry, '}');
	buf_addch(&http, '}');
	/* texts */
	static const size_t texts[] = { offsetof(struct db_record, subscription), offsetof(struct db_record, status),
					offsetof(struct db_record, outcome), offsetof(struct db_record, reason) };
	struct buf *into[] = { &subs, &status, &outcome, &reason };
	for (size_t k = 0; k < 4; k++) {
		for (size_t i = 0; i < n; i++)
			col[i] = *(const char *const *)((const char *)&rec[i] + texts[k]);
		text_array(into[k], col, n, false);
	}
	free(col);

	const char *v[] = { buf_str(&ids), buf_str(&subs), buf_str(&status), buf_str(&retry), buf_str(&http),
			    buf_str(&outcome), buf_str(&reason), owner };
	PGresult *r = db_exec_fixed(db, PGRES_COMMAND_OK,
			      "UPDATE delivery d SET status = u.status, locked_until = NULL, locked_by = NULL, "
			      "  next_attempt_at = CASE WHEN u.status = 'pending' "
			      "                         THEN now() + make_interval(secs => u.retry) "
			      "                         ELSE d.next_attempt_at END, "
			      "  last_status = u.http, last_outcome = u.outcome, dead_letter_reason = u.reason, "
			      "  delivered_at = CASE WHEN u.status = 'delivered' THEN now() END "
			      "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::float8[], $5::int[], $6::text[], "
			      "            $7::text[]) AS u(id, sub, status, retry, http, outcome, reason) "
			      "WHERE d.outbox_id = u.id AND d.subscription = u.sub AND d.locked_by = $8",
			      8, v);
	for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		buf_release(all[k]);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

/* The seconds a "seconds until" query answered: -1 for NULL (nothing is
 * waiting: greatest(0, NULL) would have said 0, "due now", and the relay
 * would never rest), 0 when overdue. */
static double seconds_until(PGresult *r)
{
	if (!r)
		return -1;
	bool none = PQgetisnull(r, 0, 0);
	double d = none ? -1 : strtod(PQgetvalue(r, 0, 0), NULL);
	PQclear(r);
	return none ? -1 : d < 0 ? 0 : d;
}

double db_relay_next_due(struct db *db, const char *const *subs, size_t nsubs)
{
	struct buf q;
	buf_init(&q, 0);
	buf_adds(&q, "SELECT extract(epoch FROM min(greatest(next_attempt_at, coalesce(locked_until, next_attempt_at))) "
		     "- now()) FROM delivery WHERE status = 'pending' AND ");
	subs_condition(&q, subs, nsubs);
	PGresult *r = db_exec_text(db, PGRES_TUPLES_OK, buf_str(&q), 0, NULL);
	buf_release(&q);
	return seconds_until(r);
}

double db_expiry_next_due(struct db *db)
{
	return seconds_until(db_exec_fixed(db, PGRES_TUPLES_OK,
				     "SELECT extract(epoch FROM min(expires_at) - clock_timestamp()) FROM study "
				     "WHERE expires_at IS NOT NULL",
				     0, NULL));
}
