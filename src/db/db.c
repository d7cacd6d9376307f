#include "db/db.h"
#include "db/schema.h"
#include "db/db_internal.h"
#include "store/changes.h"
#include "common/log.h"
#include "common/xalloc.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/banned.h"

#define MIGRATE_LOCK 7260011

/* Statements prepared on this connection, so that PostgreSQL parses and
 * plans them once per connection rather than once per call: fixed texts
 * (string literals, known by address) and texts made per request whose
 * values are all parameters (searches: a search form is one text, known
 * by content, then kept). */
#define PREPARED_MAX 64

enum { SQL_PLAIN, SQL_FIXED, SQL_TEXT };

struct prepared {
	const char *sql; /* SQL_TEXT: a copy of the text, owned */
	bool copy;
};

struct db {
	PGconn *conn;
	char *conninfo;
	char *session;  /* SQL run on every new connection (db_set_session), or NULL */
	struct prepared prepared[PREPARED_MAX];
	int nprepared;
	struct changes *changes; /* where changes to instances are counted, or NULL */
	struct lookup *lookups;  /* lookups kept, or NULL */
	bool changed;            /* the open transaction changed instances */
};

static void forget_prepared(struct db *db)
{
	for (int k = 0; k < db->nprepared; k++)
		if (db->prepared[k].copy)
			free((char *)db->prepared[k].sql);
	db->nprepared = 0;
}

/* Server notices (e.g. "already exists, skipping") are logged at debug. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("database notice: %.*s", (int)strcspn(message, "\n"), message);
}

struct db *db_connect(const char *conninfo, char *err, size_t errlen)
{
	struct db *db = xcalloc(1, sizeof(*db));

	db->conninfo = xstrdup(conninfo);
	db->conn = PQconnectdb(conninfo);
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the database: %s", PQerrorMessage(db->conn));
		size_t n = strlen(err);
		while (n && err[n - 1] == '\n')
			err[--n] = '\0';
		db_free(db);
		return NULL;
	}
	return db;
}

struct db *db_connect_wait(const char *conninfo, int seconds, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	for (int attempt = 0;; attempt++) {
		struct db *db = db_connect(conninfo, err, errlen);
		if (db || attempt >= seconds || (stop && *stop))
			return db;
		sleep(1);
	}
}

void db_free(struct db *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	forget_prepared(db);
	free(db->conninfo);
	free(db->session);
	lookup_free(db->lookups);
	free(db);
}

/* The session's settings, on a connection that has just been made. */
static int apply_session(struct db *db)
{
	if (!db->session || PQstatus(db->conn) != CONNECTION_OK)
		return 0;
	PGresult *r = PQexec(db->conn, db->session);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc)
		log_error("cannot set up the session: %s", PQerrorMessage(db->conn));
	PQclear(r);
	return rc;
}

int db_set_session(struct db *db, const char *sql)
{
	free(db->session);
	db->session = xstrdup(sql);
	return apply_session(db);
}

/* A new connection has no prepared statements. */
static void reconnect(struct db *db)
{
	log_warn("database connection lost, reconnecting");
	PQreset(db->conn);
	forget_prepared(db);
	apply_session(db);
}

int db_ensure(struct db *db)
{
	if (PQstatus(db->conn) == CONNECTION_OK) {
		if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
			return 0;
		/* a request that failed mid-transaction left it open: end it */
		PGresult *r = PQexec(db->conn, "ROLLBACK");
		PQclear(r);
		if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
			return 0;
	}
	reconnect(db);
	return PQstatus(db->conn) == CONNECTION_OK ? 0 : -1;
}

/* Before a statement: reconnect a broken connection, but never touch an
 * open transaction (that would undo the caller's BEGIN). */
static int usable(struct db *db)
{
	if (PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE && PQtransactionStatus(db->conn) != PQTRANS_UNKNOWN)
		return -1;
	reconnect(db);
	return PQstatus(db->conn) == CONNECTION_OK ? 0 : -1;
}

/* Runs a statement; when the server went away (a restart) and no
 * transaction was open, reconnects and runs it once more. */
static PGresult *run(struct db *db, const char *sql, int n, const char *const *vals)
{
	bool idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	PGresult *r = PQexecParams(db->conn, sql, n, NULL, vals, NULL, NULL, 0);

	if (idle && PQstatus(db->conn) == CONNECTION_BAD) {
		PQclear(r);
		reconnect(db);
		r = PQexecParams(db->conn, sql, n, NULL, vals, NULL, NULL, 0);
	}
	return r;
}

/* Which prepared statement sql is (how: SQL_FIXED by address, SQL_TEXT
 * by content), or -1. */
static int prepared_find(const struct db *db, const char *sql, int how)
{
	for (int k = 0; k < db->nprepared; k++) {
		const struct prepared *p = &db->prepared[k];
		if (p->sql == sql || (how == SQL_TEXT && p->copy && !strcmp(p->sql, sql)))
			return k;
	}
	return -1;
}

/* run() for a statement to prepare (how: SQL_FIXED or SQL_TEXT): prepared
 * on this connection the first time (named by its place in db->prepared),
 * then only bound and executed. */
static PGresult *run_prepared(struct db *db, int how, const char *sql, int n, const char *const *vals)
{
	char name[16];
	int k = prepared_find(db, sql, how);

	if (k < 0) {
		if (db->nprepared == PREPARED_MAX)
			return run(db, sql, n, vals);
		k = db->nprepared;
		snprintf(name, sizeof(name), "ade%d", k);
		PGresult *p = PQprepare(db->conn, name, sql, n, NULL);
		bool ok = PQresultStatus(p) == PGRES_COMMAND_OK;
		PQclear(p);
		if (!ok) /* the statement's own error, or a lost connection: as run() reports it */
			return run(db, sql, n, vals);
		db->prepared[k] = (struct prepared){ how == SQL_TEXT ? xstrdup(sql) : sql, how == SQL_TEXT };
		db->nprepared++;
	}
	snprintf(name, sizeof(name), "ade%d", k);
	bool idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
	PGresult *r = PQexecPrepared(db->conn, name, n, vals, NULL, NULL, 0);
	if (idle && PQstatus(db->conn) == CONNECTION_BAD) {
		PQclear(r);
		reconnect(db);
		return run_prepared(db, how, sql, n, vals);
	}
	return r;
}

/* Runs sql (how: SQL_PLAIN, or prepared, see run_prepared) expecting
 * status; logs and returns NULL otherwise. */
static PGresult *exec_sql(struct db *db, int how, ExecStatusType want, const char *sql, int n,
			  const char *const *vals)
{
	PGresult *r;

	if (usable(db))
		return NULL;
	r = how == SQL_PLAIN ? run(db, sql, n, vals) : run_prepared(db, how, sql, n, vals);
	if (PQresultStatus(r) != want) {
		log_error("query failed: %s sql=\"%.60s\"", PQresultErrorMessage(r), sql);
		PQclear(r);
		return NULL;
	}
	return r;
}

static PGresult *exec_params(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals)
{
	return exec_sql(db, SQL_PLAIN, want, sql, n, vals);
}

static PGresult *exec_prepared(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals)
{
	return exec_sql(db, SQL_FIXED, want, sql, n, vals);
}

PGresult *db_run_fixed(struct db *db, const char *sql, int n, const char *const *vals)
{
	return usable(db) ? NULL : run_prepared(db, SQL_FIXED, sql, n, vals);
}

PGresult *db_exec_fixed(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals)
{
	return exec_prepared(db, want, sql, n, vals);
}

PGresult *db_exec_text(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals)
{
	return exec_sql(db, SQL_TEXT, want, sql, n, vals);
}

PGresult *db_exec(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals)
{
	return exec_params(db, want, sql, n, vals);
}

long db_row_count(PGresult *r)
{
	if (!r)
		return -1;
	long n = PQntuples(r);
	PQclear(r);
	return n;
}

long db_first_long(PGresult *r)
{
	if (!r)
		return -1;
	long n = PQntuples(r) ? atol(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	return n;
}

long db_json_rows(PGresult *r, struct buf *out)
{
	if (!r)
		return -1;
	long n = PQntuples(r);
	for (long i = 0; i < n; i++) {
		if (i)
			buf_addch(out, ',');
		buf_add(out, PQgetvalue(r, (int)i, 0), (size_t)PQgetlength(r, (int)i, 0));
	}
	PQclear(r);
	return n;
}

void db_count_changes(struct db *db, struct changes *changes, bool keep)
{
	db->changes = changes;
	lookup_free(db->lookups);
	db->lookups = changes && keep ? lookup_new(changes) : NULL;
}

struct lookup *db_lookups(struct db *db)
{
	return db->lookups;
}

void db_change_begin(struct db *db)
{
	if (PQtransactionStatus(db->conn) == PQTRANS_INTRANS)
		db->changed = true; /* counted at COMMIT */
	else if (db->changes)
		changes_begin(db->changes);
}

void db_change_end(struct db *db)
{
	if (!db->changed && db->changes)
		changes_end(db->changes);
}

int db_cmd(struct db *db, const char *sql)
{
	/* a transaction that changed instances is counted around its COMMIT */
	bool counted = db->changed && db->changes && !strcmp(sql, "COMMIT");
	if (counted)
		changes_begin(db->changes);
	PGresult *r = exec_params(db, PGRES_COMMAND_OK, sql, 0, NULL);
	if (counted)
		changes_end(db->changes);
	if (!strcmp(sql, "COMMIT") || !strcmp(sql, "ROLLBACK"))
		db->changed = false;
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

int db_ping(struct db *db)
{
	PGresult *r = exec_params(db, PGRES_TUPLES_OK, "SELECT 1", 0, NULL);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

int db_server_version(struct db *db, char *out, size_t outlen)
{
	int v = PQserverVersion(db->conn);
	snprintf(out, outlen, "%d.%d", v / 10000, v % 10000);
	return v ? 0 : -1;
}

/* Runs one piece of the schema inside the migration's transaction; on
 * failure says which in err and returns -1. */
static int apply_sql(struct db *db, const char *what, const char *name, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(db->conn, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "schema %s %s failed: %s", what, name, PQresultErrorMessage(r));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* Every function (or only the early ones) with CREATE OR REPLACE. */
static int apply_functions(struct db *db, bool early_only, char *err, size_t errlen)
{
	for (unsigned i = 0; i < schema_nfunctions; i++) {
		const struct schema_function *f = &schema_functions[i];
		if (early_only && !f->early)
			continue;
		if (apply_sql(db, "function", f->name, f->sql, err, errlen))
			return -1;
	}
	return 0;
}

/* Applies the numbered steps newer than have, each recorded. */
static int apply_steps(struct db *db, int have, char *err, size_t errlen)
{
	for (unsigned i = 0; i < schema_nsteps; i++) {
		const struct schema_step *s = &schema_steps[i];
		char ver[16];
		if (s->version <= have)
			continue;
		if (apply_sql(db, "step", s->name, s->sql, err, errlen))
			return -1;
		snprintf(ver, sizeof(ver), "%d", s->version);
		const char *vv[] = { ver, s->name };
		PGresult *r = exec_params(db, PGRES_COMMAND_OK, "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
					  2, vv);
		if (!r) {
			snprintf(err, errlen, "schema step %s cannot be recorded: %s", s->name, PQerrorMessage(db->conn));
			return -1;
		}
		PQclear(r);
		log_info("applied schema step %s", s->name);
	}
	return 0;
}

int db_migrate(struct db *db, char *err, size_t errlen)
{
	PGresult *r;
	int have = 0;
	char lock[32];

	snprintf(lock, sizeof(lock), "%d", MIGRATE_LOCK);
	if (db_cmd(db, "BEGIN"))
		goto fail;
	const char *lv[] = { lock };
	r = exec_params(db, PGRES_TUPLES_OK, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lv);
	if (!r)
		goto fail;
	PQclear(r);
	if (db_cmd(db, "CREATE TABLE IF NOT EXISTS schema_version (version int PRIMARY KEY, name text NOT NULL, "
			 "applied_at timestamptz NOT NULL DEFAULT now())"))
		goto fail;
	r = exec_params(db, PGRES_TUPLES_OK, "SELECT COALESCE(max(version), 0) FROM schema_version", 0, NULL);
	if (!r)
		goto fail;
	have = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	/* the steps first (with the few functions they use), then every
	 * function: a function may use what the latest step made */
	if (apply_functions(db, true, err, errlen) || apply_steps(db, have, err, errlen) ||
	    apply_functions(db, false, err, errlen)) {
		db_cmd(db, "ROLLBACK");
		return -1;
	}
	if (db_cmd(db, "COMMIT"))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "schema migration failed: %s", PQerrorMessage(db->conn));
	db_cmd(db, "ROLLBACK");
	return -1;
}

bool db_lost_race(const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	return state && (!strcmp(state, "40P01") || !strcmp(state, "40001"));
}

bool db_in_transaction(const struct db *db)
{
	return PQtransactionStatus(db->conn) != PQTRANS_IDLE;
}

void db_race_pause(int attempt)
{
	/* the winner holds its locks until it commits: a few ms, more each
	 * time, with some spread so that two losers do not meet again */
	poll(NULL, 0, 2 * (attempt + 1) + (int)(random() % 4));
}

PGresult *db_run_fixed_change(struct db *db, const char *what, const char *uid, const char *sql, int n,
			      const char *const *vals)
{
	bool alone = !db_in_transaction(db);
	for (int attempt = 0;; attempt++) {
		db_change_begin(db);
		PGresult *r = db_run_fixed(db, sql, n, vals);
		db_change_end(db);
		if (!alone || !db_lost_race(r) || attempt + 1 == DB_RACE_TRIES)
			return r;
		log_warn("%s%s%s%s lost a race to another transaction (%s): run again", what, uid ? " '" : "",
			 uid ? uid : "", uid ? "'" : "", PQresultErrorField(r, PG_DIAG_SQLSTATE));
		PQclear(r);
		db_race_pause(attempt);
	}
}

int db_begin(struct db *db)
{
	return usable(db) ? -1 : db_cmd(db, "BEGIN");
}

int db_end(struct db *db, bool commit)
{
	if (commit && PQtransactionStatus(db->conn) == PQTRANS_INTRANS)
		return db_cmd(db, "COMMIT");
	db_cmd(db, "ROLLBACK");
	return commit ? -1 : 0;
}

/* One change feed entry as the service serialises it: camelCase keys,
 * enum names as written, the time as System.Text.Json writes a
 * DateTimeOffset (trailing zeros of the fraction dropped, +00:00). */
#define CHANGEFEED_ENTRY \
	"SELECT left(json_build_object(" \
	"  'sequence', c.sequence, 'partitionName', p.partition_name, " \
	"  'studyInstanceUid', c.study_uid, 'seriesInstanceUid', c.series_uid, 'sopInstanceUid', c.sop_uid, " \
	"  'action', CASE c.action WHEN 0 THEN 'Create' WHEN 1 THEN 'Delete' ELSE 'Update' END, " \
	"  'timestamp', regexp_replace(to_char(c.\"timestamp\" AT TIME ZONE 'UTC', " \
	"      'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '\\.?0+$', '') || '+00:00', " \
	"  'state', CASE WHEN c.current_watermark IS NULL THEN 'Deleted' " \
	"                WHEN c.current_watermark <> c.original_watermark THEN 'Replaced' ELSE 'Current' END" \
	")::text, -1) || CASE WHEN $1::boolean AND i.metadata IS NOT NULL " \
	"  THEN ', \"metadata\" : ' || i.metadata ELSE '' END || '}' " \
	"FROM changefeed c JOIN partition p USING (partition_key) " \
	"LEFT JOIN instance i ON i.watermark = c.current_watermark "

int db_listen(struct db *db, const char *channel)
{
	char *ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
	char sql[256];
	if (!ident)
		return -1;
	snprintf(sql, sizeof(sql), "LISTEN %s", ident);
	PQfreemem(ident);
	return db_cmd(db, sql);
}

/* What the notifications received so far said (DB_WOKE_*). */
static int woke_by(struct db *db)
{
	PGnotify *n;
	int got = 0;
	while ((n = PQnotifies(db->conn))) {
		got |= n->extra && !strcmp(n->extra, "operation") ? DB_WOKE_OPERATION : DB_WOKE_EVENTS;
		PQfreemem(n);
	}
	return got;
}

int db_wait(struct db *db, int timeout_ms)
{
	if (PQstatus(db->conn) != CONNECTION_OK)
		return -1;
	PQconsumeInput(db->conn);
	int got = woke_by(db);
	if (got)
		return got;
	struct pollfd p = { PQsocket(db->conn), POLLIN, 0 };
	int rc = poll(&p, 1, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (rc == 0)
		return 0;
	if (!PQconsumeInput(db->conn))
		return -1;
	return woke_by(db);
}

int db_time_cmp(struct db *db, const char *a, const char *b)
{
	const char *v[] = { a, b };
	PGresult *r = exec_params(db, PGRES_TUPLES_OK,
				  "SELECT CASE WHEN $1::timestamptz < $2::timestamptz THEN -1 "
				  "WHEN $1::timestamptz > $2::timestamptz THEN 1 ELSE 0 END",
				  2, v);
	if (!r)
		return 0;
	int c = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return c;
}

long db_changefeed(struct db *db, const struct db_changefeed_query *q, struct buf *out)
{
	char off[24], lim[24];
	const char *incl = q->include_metadata ? "true" : "false";
	PGresult *r;

	snprintf(off, sizeof(off), "%lld", (long long)q->offset);
	snprintf(lim, sizeof(lim), "%lld", (long long)q->limit);
	if (q->latest) {
		const char *v[] = { incl };
		r = exec_params(db, PGRES_TUPLES_OK,
				q->by_time ? CHANGEFEED_ENTRY "ORDER BY c.\"timestamp\" DESC, c.sequence DESC LIMIT 1"
					   : CHANGEFEED_ENTRY "ORDER BY c.sequence DESC LIMIT 1",
				1, v);
	} else if (q->by_time) {
		const char *v[] = { incl, q->start, q->end, off, lim };
		r = exec_params(db, PGRES_TUPLES_OK,
				CHANGEFEED_ENTRY "WHERE ($2::timestamptz IS NULL OR c.\"timestamp\" >= $2::timestamptz) "
						 "AND ($3::timestamptz IS NULL OR c.\"timestamp\" < $3::timestamptz) "
						 "ORDER BY c.\"timestamp\", c.sequence OFFSET $4::bigint LIMIT $5::bigint",
				5, v);
	} else {
		const char *v[] = { incl, off, lim };
		r = exec_params(db, PGRES_TUPLES_OK,
				/* (offset, offset + limit], written so that no sum overflows */
				CHANGEFEED_ENTRY "WHERE c.sequence > $2::bigint AND c.sequence - $3::bigint <= $2::bigint "
						 "ORDER BY c.sequence LIMIT $3::bigint",
				3, v);
	}
	return db_json_rows(r, out);
}

int db_partition_exists(struct db *db, const char *name)
{
	const char *v[] = { name };
	PGresult *r = exec_prepared(db, PGRES_TUPLES_OK, "SELECT 1 FROM partition WHERE partition_name = $1", 1, v);
	if (!r)
		return -1;
	int found = PQntuples(r) > 0;
	PQclear(r);
	return found;
}

long db_partitions(struct db *db, struct buf *out)
{
	/* createdDate as System.Text.Json writes a UTC DateTimeOffset */
	PGresult *r = exec_params(db, PGRES_TUPLES_OK,
				  "SELECT json_build_object('partitionKey', partition_key, 'partitionName', partition_name, "
				  "'createdDate', regexp_replace(to_char(created_date AT TIME ZONE 'UTC', "
				  "'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '\\.?0+$', '') || '+00:00')::text "
				  "FROM partition ORDER BY partition_key",
				  0, NULL);
	return db_json_rows(r, out);
}
