#include "db/db.h"
#include "db/schema.h"
#include "db/db_internal.h"
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
	struct prepared prepared[PREPARED_MAX];
	int nprepared;
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
	free(db);
}

/* A new connection has no prepared statements. */
static void reconnect(struct db *db)
{
	log_warn("database connection lost, reconnecting");
	PQreset(db->conn);
	forget_prepared(db);
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

int db_cmd(struct db *db, const char *sql)
{
	PGresult *r = exec_params(db, PGRES_COMMAND_OK, sql, 0, NULL);
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

int db_reserve_instance(struct db *db, const char *partition, const char *study, const char *series,
			const char *sop, bool replace, int64_t *watermark)
{
	const char *v[] = { partition, study, series, sop, replace ? "true" : "false" };
	PGresult *r = exec_prepared(db, PGRES_TUPLES_OK,
				  "SELECT CASE WHEN e THEN NULL ELSE nextval('watermark_seq') END, e FROM "
				  "(SELECT EXISTS (SELECT 1 FROM instance i JOIN partition p USING (partition_key) "
				  "WHERE p.partition_name = $1 AND i.study_uid = $2 AND i.series_uid = $3 "
				  "AND i.sop_uid = $4) AND NOT $5::boolean AS e) x",
				  5, v);
	if (!r)
		return -1;
	int exists = PQgetvalue(r, 0, 1)[0] == 't';
	if (!exists)
		*watermark = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return exists;
}

/* The fields of dicom_instance_in (sql/007, 009, 010, 016), in its order. */
enum {
	SI_PARTITION, SI_STUDY, SI_SERIES, SI_SOP, SI_SOP_CLASS, SI_TS, SI_WATERMARK, SI_SIZE, SI_METADATA,
	SI_METADATA_BULK, SI_PATIENT_ID, SI_PATIENT_NAME, SI_BIRTH_DATE, SI_ACCESSION, SI_REFERRING, SI_STUDY_DATE,
	SI_STUDY_DESCRIPTION, SI_MODALITY, SI_PPS_START_DATE, SI_MODEL, SI_HOST, SI_TOPIC, SI_EXPIRY_MS, SI_UPSERT, SI_FRAME_RANGES,
	SI_COUNT
};

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

int db_store_instance(struct db *db, const struct db_new_instance *in, int64_t *sequence, int64_t replaced[2])
{
	char wm[24], size[24], expiry[24];
	const char *v[SI_COUNT];
	PGresult *r;

	snprintf(wm, sizeof(wm), "%lld", (long long)in->watermark);
	snprintf(size, sizeof(size), "%lld", (long long)in->size);
	v[SI_PARTITION] = in->partition;
	v[SI_STUDY] = in->study;
	v[SI_SERIES] = in->series;
	v[SI_SOP] = in->sop;
	v[SI_SOP_CLASS] = in->sop_class;
	v[SI_TS] = in->ts;
	v[SI_WATERMARK] = wm;
	v[SI_SIZE] = size;
	v[SI_METADATA] = in->metadata;
	v[SI_METADATA_BULK] = in->metadata_bulk;
	v[SI_PATIENT_ID] = in->patient_id;
	v[SI_PATIENT_NAME] = in->patient_name;
	v[SI_BIRTH_DATE] = in->patient_birth_date;
	v[SI_ACCESSION] = in->accession;
	v[SI_REFERRING] = in->referring;
	v[SI_STUDY_DATE] = in->study_date;
	v[SI_STUDY_DESCRIPTION] = in->study_description;
	v[SI_MODALITY] = in->modality;
	v[SI_PPS_START_DATE] = in->pps_start_date;
	v[SI_MODEL] = in->model;
	v[SI_HOST] = in->host;
	v[SI_TOPIC] = in->topic;
	snprintf(expiry, sizeof(expiry), "%lld", (long long)in->expiry_ms);
	v[SI_EXPIRY_MS] = in->expiry_ms > 0 ? expiry : NULL;
	v[SI_UPSERT] = in->upsert ? "true" : "false";
	v[SI_FRAME_RANGES] = in->frame_ranges;
	replaced[0] = replaced[1] = 0;
	if (usable(db))
		return DB_FAILED;
	r = run_prepared(db, SQL_FIXED,
		"SELECT * FROM dicom_store(ROW($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,"
		"$24,$25)"
		"::dicom_instance_in)",
		SI_COUNT, v);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		int rc = DB_FAILED;
		if (state && !strcmp(state, "23505"))
			rc = DB_EXISTS; /* stored concurrently by another request */
		else if (state && !strncmp(state, "22", 2))
			rc = DB_INVALID;
		if (rc != DB_EXISTS)
			log_error("store failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		return rc;
	}
	if (PQgetisnull(r, 0, 0)) {
		PQclear(r);
		return DB_EXISTS;
	}
	*sequence = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	/* replaced: NULL, or "{latest}" or "{latest,original}" */
	const char *rp = PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1);
	for (int k = 0; k < 2 && *rp; k++) {
		rp += strspn(rp, "{,");
		replaced[k] = strtoll(rp, NULL, 10);
		rp += strcspn(rp, ",}");
	}
	PQclear(r);
	return DB_STORED;
}

void db_instance_list_release(struct db_instance_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].study);
		free(l->items[i].series);
		free(l->items[i].sop);
		free(l->items[i].ts);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* The instances of a study, series or one instance: $1 partition, $2
 * study, $3 original; then $4 series and $5 SOP as given (a statement
 * each shape, so that each is planned once for what it is). */
#define LIST_INSTANCES(where)                                                                                  \
	"SELECT CASE WHEN $3::boolean THEN COALESCE(i.original_watermark, i.watermark) ELSE i.watermark END, " \
	"  CASE WHEN $3::boolean THEN COALESCE(i.original_file_size, i.file_size) ELSE i.file_size END, "      \
	"  i.study_uid, i.series_uid, i.sop_uid, i.transfer_syntax "                                           \
	"FROM instance i JOIN partition p USING (partition_key) "                                             \
	"WHERE p.partition_name = $1 AND i.study_uid = $2 " where " ORDER BY i.series_key, i.watermark"
static const char *const list_instances[] = {
	LIST_INSTANCES(""),
	LIST_INSTANCES("AND i.series_uid = $4"),
	LIST_INSTANCES("AND i.sop_uid = $4"),
	LIST_INSTANCES("AND i.series_uid = $4 AND i.sop_uid = $5"),
};

/* Which of the four shapes a series and SOP (either may be NULL) make. */
static int uid_shape(const char *series, const char *sop)
{
	return (series ? 1 : 0) + (sop ? 2 : 0);
}

/* Appends series and then sop, those that are given, to v at *n. */
static void add_uids(const char **v, int *n, const char *series, const char *sop)
{
	if (series)
		v[(*n)++] = series;
	if (sop)
		v[(*n)++] = sop;
}

int db_list_instances(struct db *db, const char *partition, const char *study, const char *series, const char *sop,
		      bool original, struct db_instance_list *out)
{
	const char *v[5] = { partition, study, original ? "true" : "false" };
	int nv = 3;
	add_uids(v, &nv, series, sop);
	PGresult *r = exec_prepared(db, PGRES_TUPLES_OK, list_instances[uid_shape(series, sop)], nv, v);
	out->items = NULL;
	out->n = 0;
	if (!r)
		return -1;
	int n = PQntuples(r);
	out->items = xcalloc((size_t)n, sizeof(*out->items));
	for (int i = 0; i < n; i++) {
		struct db_instance_ref *it = &out->items[i];
		it->watermark = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		it->size = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		it->study = xstrdup(PQgetvalue(r, i, 2));
		it->series = xstrdup(PQgetvalue(r, i, 3));
		it->sop = xstrdup(PQgetvalue(r, i, 4));
		it->ts = xstrdup(PQgetvalue(r, i, 5));
	}
	out->n = (size_t)n;
	PQclear(r);
	return 0;
}

/* The ETag of a study's, series' or instance's metadata: $1 partition, $2
 * study, $3 original, then $4 series and $5 SOP as given. */
#define METADATA_ETAG(where)                                                                                       \
	"SELECT count(*), COALESCE(max(CASE WHEN $3::boolean THEN COALESCE(i.original_watermark, i.watermark) "    \
	"ELSE i.watermark END), 0) FROM instance i JOIN partition p USING (partition_key) "                        \
	"WHERE p.partition_name = $1 AND i.study_uid = $2 " where
static const char *const metadata_etag[] = {
	METADATA_ETAG(""),
	METADATA_ETAG("AND i.series_uid = $4"),
	METADATA_ETAG("AND i.sop_uid = $4"),
	METADATA_ETAG("AND i.series_uid = $4 AND i.sop_uid = $5"),
};

/* Their metadata: $1 partition, $2 study, $3 original, $4 the bulk data
 * URL base (NULL: no links), then $5 series and $6 SOP as given. The
 * original version's (msdicom-request-original) or the latest; with a
 * bulk data base the stored relative links made absolute. */
#define METADATA_JSON(where)                                                                                           \
	"SELECT COALESCE(replace(CASE WHEN $3::boolean AND i.original_watermark IS NOT NULL "                              \
	"  THEN i.original_metadata_bulk ELSE b.metadata END, "                                                           \
	"  '\"BulkDataURI\":\"bulkdata/', '\"BulkDataURI\":\"' || $4 || "                                              \
	"  '/studies/' || i.study_uid || '/series/' || i.series_uid || '/instances/' || i.sop_uid || '/bulkdata/'), "     \
	"  CASE WHEN $3::boolean THEN COALESCE(i.original_metadata, i.metadata) ELSE i.metadata END) "                     \
	"FROM instance i JOIN partition p USING (partition_key) "                                                         \
	"LEFT JOIN instance_bulk b ON b.watermark = i.watermark AND $4::text IS NOT NULL "                                \
	"WHERE p.partition_name = $1 AND i.study_uid = $2 " where " ORDER BY i.series_key, i.watermark"
static const char *const metadata_json[] = {
	METADATA_JSON(""),
	METADATA_JSON("AND i.series_uid = $5"),
	METADATA_JSON("AND i.sop_uid = $5"),
	METADATA_JSON("AND i.series_uid = $5 AND i.sop_uid = $6"),
};

long db_metadata(struct db *db, const char *partition, const char *study, const char *series, const char *sop,
		 const char *bulk_url, bool original, struct buf *out, char *etag, size_t etaglen, bool etag_only)
{
	const char *v[6] = { partition, study, original ? "true" : "false" };
	int nv = 3, shape = uid_shape(series, sop);
	PGresult *r;
	long count;

	/* ETag first: a cache hit costs one small aggregate and no JSON */
	add_uids(v, &nv, series, sop);
	r = exec_prepared(db, PGRES_TUPLES_OK, metadata_etag[shape], nv, v);
	if (!r)
		return -1;
	count = atol(PQgetvalue(r, 0, 0));
	if (sop)
		snprintf(etag, etaglen, "%s", PQgetvalue(r, 0, 1));
	else
		snprintf(etag, etaglen, "%s-%ld", PQgetvalue(r, 0, 1), count);
	PQclear(r);
	if (count == 0 || etag_only)
		return count;
	nv = 3;
	v[nv++] = bulk_url;
	add_uids(v, &nv, series, sop);
	r = exec_prepared(db, PGRES_TUPLES_OK, metadata_json[shape], nv, v);
	if (!r)
		return -1;
	buf_addch(out, '[');
	long n = db_json_rows(r, out);
	buf_addch(out, ']');
	return n;
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

int db_wait(struct db *db, int timeout_ms)
{
	PGnotify *n;
	int got = 0;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return -1;
	PQconsumeInput(db->conn);
	while ((n = PQnotifies(db->conn))) {
		got = 1;
		PQfreemem(n);
	}
	if (got)
		return 1;
	struct pollfd p = { PQsocket(db->conn), POLLIN, 0 };
	int rc = poll(&p, 1, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (rc == 0)
		return 0;
	if (!PQconsumeInput(db->conn))
		return -1;
	while ((n = PQnotifies(db->conn))) {
		got = 1;
		PQfreemem(n);
	}
	return got;
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

int db_frame_ranges_get(struct db *db, int64_t watermark, char **ranges)
{
	char wm[24];
	snprintf(wm, sizeof(wm), "%lld", (long long)watermark);
	const char *v[] = { wm };
	*ranges = NULL;
	PGresult *r = exec_prepared(db, PGRES_TUPLES_OK, "SELECT frame_ranges FROM instance WHERE watermark = $1::bigint", 1, v);
	if (!r)
		return -1;
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		*ranges = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int db_frame_ranges_set(struct db *db, int64_t watermark, const char *ranges)
{
	char wm[24];
	snprintf(wm, sizeof(wm), "%lld", (long long)watermark);
	const char *v[] = { wm, ranges };
	PGresult *r = exec_params(db, PGRES_COMMAND_OK, "UPDATE instance SET frame_ranges = $2 WHERE watermark = $1::bigint", 2, v);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

int db_store_known(void *ctx, const int64_t *wm, size_t n, unsigned char *known)
{
	return db_watermarks_known(ctx, wm, n, known);
}

int db_watermarks_known(struct db *db, const int64_t *wm, size_t n, unsigned char *known)
{
	struct buf arr;
	PGresult *r;

	memset(known, 0, n);
	if (!n)
		return 0;
	buf_init(&arr, 0);
	buf_addch(&arr, '{');
	for (size_t i = 0; i < n; i++)
		buf_addf(&arr, "%s%lld", i ? "," : "", (long long)wm[i]);
	buf_addch(&arr, '}');
	const char *v[] = { buf_str(&arr) };
	r = exec_params(db, PGRES_TUPLES_OK,
			/* an updated instance's original version is a file of its own */
			"SELECT w, EXISTS (SELECT 1 FROM instance i WHERE i.watermark = w) "
			"OR EXISTS (SELECT 1 FROM instance i WHERE i.original_watermark = w) "
			"FROM unnest($1::bigint[]) WITH ORDINALITY AS t(w, o) ORDER BY o",
			1, v);
	buf_release(&arr);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r) && (size_t)i < n; i++)
		known[i] = PQgetvalue(r, i, 1)[0] == 't';
	PQclear(r);
	return 0;
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

/* Runs one statement returning watermarks in its own transaction; the
 * watermarks (files to remove) once it committed. */
static int watermarks_tx(struct db *db, const char *sql, int nparams, const char *const *v, int64_t **watermarks,
			 size_t *n)
{
	PGresult *r;

	*watermarks = NULL;
	*n = 0;
	if (db_cmd(db, "BEGIN"))
		return -1;
	r = exec_params(db, PGRES_TUPLES_OK, sql, nparams, v);
	if (!r) {
		db_cmd(db, "ROLLBACK");
		return -1;
	}
	if (db_cmd(db, "COMMIT")) {
		PQclear(r);
		return -1;
	}
	int rows = PQntuples(r);
	*watermarks = xcalloc((size_t)rows, sizeof(**watermarks));
	for (int i = 0; i < rows; i++)
		(*watermarks)[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

int db_delete(struct db *db, const char *partition, const char *study, const char *series, const char *sop,
	      const char *host, const char *topic, int64_t **watermarks, size_t *n)
{
	const char *v[] = { partition, study, series, sop, host, topic };
	return watermarks_tx(db, "SELECT * FROM dicom_delete($1, $2, $3, $4, $5, $6)", 6, v, watermarks, n);
}

int db_expire(struct db *db, const char *host, const char *topic, int64_t **watermarks, size_t *n)
{
	const char *v[] = { host, topic };
	return watermarks_tx(db, "SELECT * FROM dicom_expire($1, $2)", 2, v, watermarks, n);
}
