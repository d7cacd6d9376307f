/* The instances' rows: reserving a watermark, storing (dicom_store),
 * listing and their metadata, frame ranges, which watermarks are known,
 * and deleting and expiring (the watermarks of the files to remove). */
#include "db/db.h"
#include "db/db_internal.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

int db_warm_begin(struct db *db, struct db_warm *w)
{
	PGresult *r = NULL;
	if (db_begin(db))
		return -1;
	if (db_cmd(db, "SET LOCAL lock_timeout = '2s'") || db_cmd(db, "LOCK TABLE changefeed IN SHARE ROW EXCLUSIVE MODE") ||
	    !(r = db_exec_text(db, PGRES_TUPLES_OK, "SELECT last_value, is_called FROM changefeed_sequence_seq", 0,
			       NULL)) ||
	    db_cmd(db, "SAVEPOINT warm")) {
		if (r)
			PQclear(r);
		db_end(db, false);
		return -1;
	}
	snprintf(w->last, sizeof(w->last), "%s", PQgetvalue(r, 0, 0));
	w->called = PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	return 0;
}

void db_warm_end(struct db *db, const struct db_warm *w)
{
	/* back to the savepoint first: a statement of the warm-up that failed
	 * left the transaction unable to run the setval */
	const char *v[] = { w->last, w->called ? "true" : "false" };
	PGresult *r = db_cmd(db, "ROLLBACK TO SAVEPOINT warm")
			      ? NULL
			      : db_exec_text(db, PGRES_TUPLES_OK,
					     "SELECT setval('changefeed_sequence_seq', $1::bigint, $2::boolean)", 2, v);
	if (r)
		PQclear(r);
	else
		log_warn("the change feed's sequence was not put back after the warm-up");
	db_end(db, false);
}

int db_reserve_instance(struct db *db, const char *partition, const char *study, const char *series,
			const char *sop, bool replace, int64_t *watermark)
{
	const char *v[] = { partition, study, series, sop, replace ? "true" : "false" };
	PGresult *r = db_exec_fixed(db, PGRES_TUPLES_OK,
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
	/* on its own, a store that lost a race (two requests storing the same
	 * instances in other orders) is run again; inside a transaction the
	 * caller decides */
	bool alone = !db_in_transaction(db);
	r = db_run_fixed_change(db, "store of sop", in->sop,
		"SELECT * FROM dicom_store(ROW($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,"
		"$24,$25)::dicom_instance_in)",
		SI_COUNT, v);
	if (!r)
		return DB_FAILED;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		bool raced = state && !strcmp(state, "23505"); /* stored concurrently by another request */
		int rc = DB_FAILED;
		if (raced)
			rc = alone ? DB_EXISTS : DB_FAILED; /* in a transaction, the transaction is lost: run alone again */
		else if (state && !strncmp(state, "22", 2))
			rc = DB_INVALID;
		else if (!alone && (db_lost_race(r) || !strcmp(state ? state : "", "25P02")))
			raced = true; /* a deadlock, or a statement after one, in the caller's transaction */
		if (!raced)
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
#define LIST_INSTANCES(more, where)                                                                            \
	"SELECT CASE WHEN $3::boolean THEN COALESCE(i.original_watermark, i.watermark) ELSE i.watermark END, " \
	"  CASE WHEN $3::boolean THEN COALESCE(i.original_file_size, i.file_size) ELSE i.file_size END, "      \
	"  i.study_uid, i.series_uid, i.sop_uid, i.transfer_syntax" more " "                                   \
	"FROM instance i JOIN partition p USING (partition_key) "                                             \
	"WHERE p.partition_name = $1 AND i.study_uid = $2 " where " ORDER BY i.series_key, i.watermark"
/* one instance's also brings its file's frame ranges (the latest version's:
 * the row has none of the original's), which its frames or rendering will
 * want next: kept beside the lookups, they need no second query */
#define RANGES_COLUMN ", CASE WHEN $3::boolean THEN NULL ELSE i.frame_ranges END"
enum { RANGES_FIELD = 6 };
static const char *const list_instances[] = {
	LIST_INSTANCES("", ""),
	LIST_INSTANCES("", "AND i.series_uid = $4"),
	LIST_INSTANCES(RANGES_COLUMN, "AND i.sop_uid = $4"),
	LIST_INSTANCES(RANGES_COLUMN, "AND i.series_uid = $4 AND i.sop_uid = $5"),
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

/* The key of a kept lookup: its kind, then what was asked (a line each:
 * no UID or partition name holds one). 0, or -1 when it does not fit. */
static int lookup_key(char *key, size_t n, char kind, const char *partition, const char *study, const char *series,
		      const char *sop, bool original)
{
	int len = snprintf(key, n, "%c%c\n%s\n%s\n%s\n%s", kind, original ? 'o' : 'l', partition, study,
			   series ? series : "", sop ? sop : "");
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* One instance as it is kept: watermark and size, then study, series, SOP
 * and syntax, each ended by a NUL. */
struct kept_instance {
	int64_t watermark, size;
	char strings[4 * 65];
};

static void instance_from_kept(const struct kept_instance *k, size_t len, struct db_instance_list *out)
{
	const char *p = k->strings, *end = (const char *)k + len;
	char *s[4];
	for (int i = 0; i < 4; i++) {
		s[i] = xstrdup(p);
		p += strnlen(p, (size_t)(end - p)) + 1;
	}
	out->items = xcalloc(1, sizeof(*out->items));
	*out->items = (struct db_instance_ref){ k->watermark, k->size, s[0], s[1], s[2], s[3] };
	out->n = 1;
}

static void keep_instance(struct db *db, uint64_t tag, const char *key, const struct db_instance_ref *it)
{
	struct kept_instance k = { it->watermark, it->size, { 0 } };
	int len = snprintf(k.strings, sizeof(k.strings), "%s%c%s%c%s%c%s", it->study, 0, it->series, 0, it->sop, 0,
			   it->ts);
	if (len >= 0 && (size_t)len < sizeof(k.strings))
		lookup_put(db_lookups(db), tag, key, &k, offsetof(struct kept_instance, strings) + (size_t)len + 1);
}

int db_list_instances(struct db *db, const char *partition, const char *study, const char *series, const char *sop,
		      bool original, struct db_instance_list *out)
{
	const char *v[5] = { partition, study, original ? "true" : "false" };
	int nv = 3;
	char key[320];
	struct kept_instance k;
	uint64_t tag = 0;

	out->items = NULL;
	out->n = 0;
	/* one instance: its answer may be kept */
	bool keep = sop && db_lookups(db) && !lookup_key(key, sizeof(key), 'i', partition, study, series, sop, original);
	size_t len = keep ? lookup_get(db_lookups(db), key, &k, sizeof(k), &tag) : 0;
	if (len) {
		instance_from_kept(&k, len, out);
		return 0;
	}
	add_uids(v, &nv, series, sop);
	PGresult *r = db_exec_fixed(db, PGRES_TUPLES_OK, list_instances[uid_shape(series, sop)], nv, v);
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
	if (n == 1 && PQnfields(r) > RANGES_FIELD && !PQgetisnull(r, 0, RANGES_FIELD))
		lookup_ranges_put(db_lookups(db), out->items[0].watermark, PQgetvalue(r, 0, RANGES_FIELD),
				  (size_t)PQgetlength(r, 0, RANGES_FIELD));
	PQclear(r);
	if (keep && n == 1)
		keep_instance(db, tag, key, &out->items[0]);
	return 0;
}

/* The ETag of a study's, series' or instance's metadata: $1 partition, $2
 * study, $3 original, then $4 series and $5 SOP as given. VERSION_COLUMNS
 * follow: what a kept answer is named by and goes with (see
 * db_metadata_version). */
#define ETAG_VERSION "CASE WHEN $3::boolean THEN COALESCE(i.original_watermark, i.watermark) ELSE i.watermark END"
#define VERSION_COLUMNS(over, created)                                                                            \
	"max(i.watermark)" over ", sum(hashint8(i.watermark))" over ", "                                           \
	created " < now() - interval '" DB_METADATA_SETTLED "'"
/* (when the newest instance was made: here one row fetched, so that the
 * rest is read from the index alone) */
#define METADATA_ETAG(where)                                                                                       \
	"SELECT count(*), COALESCE(max(" ETAG_VERSION "), 0), "                                                    \
	VERSION_COLUMNS("", "(SELECT x.created_at FROM instance x WHERE x.watermark = max(i.watermark))")           \
	" FROM instance i JOIN partition p USING (partition_key) "                                                 \
	"WHERE p.partition_name = $1 AND i.study_uid = $2 " where
static const char *const metadata_etag[] = {
	METADATA_ETAG(""),
	METADATA_ETAG("AND i.series_uid = $4"),
	METADATA_ETAG("AND i.sop_uid = $4"),
	METADATA_ETAG("AND i.series_uid = $4 AND i.sop_uid = $5"),
};

/* Their metadata: $1 partition, $2 study, $3 original, then $4 series and
 * $5 SOP as given; the original version's (msdicom-request-original) or
 * the latest. The second column is what the ETag is made of (the highest
 * version), then VERSION_COLUMNS. */
#define METADATA_JSON(where)                                                                                       \
	"SELECT CASE WHEN $3::boolean THEN COALESCE(i.original_metadata, i.metadata) ELSE i.metadata END, "        \
	"  max(" ETAG_VERSION ") OVER (), " VERSION_COLUMNS(" OVER ()", "max(i.created_at) OVER ()")               \
	" FROM instance i JOIN partition p USING (partition_key) "                                                 \
	"WHERE p.partition_name = $1 AND i.study_uid = $2 " where " ORDER BY i.series_key, i.watermark"
static const char *const metadata_json[] = {
	METADATA_JSON(""),
	METADATA_JSON("AND i.series_uid = $4"),
	METADATA_JSON("AND i.sop_uid = $4"),
	METADATA_JSON("AND i.series_uid = $4 AND i.sop_uid = $5"),
};

/* The same with bulk data listed as links ($4 the bulk data URL base, then
 * $5 series and $6 SOP): the stored relative links made absolute. */
#define METADATA_BULK_JSON(where)                                                                                      \
	"SELECT COALESCE(replace(CASE WHEN $3::boolean AND i.original_watermark IS NOT NULL "                              \
	"  THEN i.original_metadata_bulk ELSE b.metadata END, "                                                           \
	"  '\"BulkDataURI\":\"bulkdata/', '\"BulkDataURI\":\"' || $4 || "                                              \
	"  '/studies/' || i.study_uid || '/series/' || i.series_uid || '/instances/' || i.sop_uid || '/bulkdata/'), "     \
	"  CASE WHEN $3::boolean THEN COALESCE(i.original_metadata, i.metadata) ELSE i.metadata END), "                    \
	"  max(" ETAG_VERSION ") OVER (), " VERSION_COLUMNS(" OVER ()", "max(i.created_at) OVER ()")                       \
	" FROM instance i JOIN partition p USING (partition_key) "                                                        \
	"LEFT JOIN instance_bulk b ON b.watermark = i.watermark "                                                         \
	"WHERE p.partition_name = $1 AND i.study_uid = $2 " where " ORDER BY i.series_key, i.watermark"
static const char *const metadata_bulk_json[] = {
	METADATA_BULK_JSON(""),
	METADATA_BULK_JSON("AND i.series_uid = $5"),
	METADATA_BULK_JSON("AND i.sop_uid = $5"),
	METADATA_BULK_JSON("AND i.series_uid = $5 AND i.sop_uid = $6"),
};

/* The version of an answer from row 0 of r, whose column col is the
 * highest version and those after it VERSION_COLUMNS: the ETag (with
 * count >= 0, a study's or series' instance count), and the name of the
 * answer kept. */
static void make_version(struct db_metadata_version *v, PGresult *r, int col, long count, int shape, bool original)
{
	static const char shapes[] = "sein";
	const char *version = PQgetvalue(r, 0, col);

	if (count < 0)
		snprintf(v->etag, sizeof(v->etag), "%s", version);
	else
		snprintf(v->etag, sizeof(v->etag), "%s-%ld", version, count);
	v->latest = strtoll(PQgetvalue(r, 0, col + 1), NULL, 10);
	snprintf(v->key, sizeof(v->key), "metadata-%c%c-%s-%s-%s.json", shapes[shape], original ? 'o' : 'l', v->etag,
		 PQgetvalue(r, 0, col + 1), PQgetvalue(r, 0, col + 2));
	v->settled = PQgetvalue(r, 0, col + 3)[0] == 't';
}

/* A metadata answer's version as it is kept (a settled one: an unsettled
 * one changes with time alone). */
struct kept_version {
	long count;
	struct db_metadata_version ver;
};

/* The version of a metadata answer alone: one small aggregate and no
 * JSON, or the one kept. Returns the number of instances, or -1. */
static long metadata_version(struct db *db, const char *partition, const char *study, const char *series,
			     const char *sop, bool original, struct db_metadata_version *ver)
{
	const char *v[5] = { partition, study, original ? "true" : "false" };
	int nv = 3, shape = uid_shape(series, sop);
	char key[320];
	struct kept_version k;
	uint64_t tag = 0;

	bool keep = db_lookups(db) && !lookup_key(key, sizeof(key), 'm', partition, study, series, sop, original);
	if (keep && lookup_get(db_lookups(db), key, &k, sizeof(k), &tag) == sizeof(k)) {
		*ver = k.ver;
		return k.count;
	}
	add_uids(v, &nv, series, sop);
	PGresult *r = db_exec_fixed(db, PGRES_TUPLES_OK, metadata_etag[shape], nv, v);
	if (!r)
		return -1;
	long count = atol(PQgetvalue(r, 0, 0));
	if (count)
		make_version(ver, r, 1, sop ? -1 : count, shape, original);
	PQclear(r);
	if (keep && count && ver->settled) {
		k = (struct kept_version){ count, *ver };
		lookup_put(db_lookups(db), tag, key, &k, sizeof(k));
	}
	return count;
}

long db_metadata(struct db *db, const char *partition, const char *study, const char *series, const char *sop,
		 const char *bulk_url, bool original, struct buf *out, struct db_metadata_version *ver,
		 bool version_only)
{
	const char *v[6] = { partition, study, original ? "true" : "false" };
	int nv = 3, shape = uid_shape(series, sop);
	PGresult *r;
	long count;

	memset(ver, 0, sizeof(*ver));
	if (version_only)
		return metadata_version(db, partition, study, series, sop, original, ver);
	add_uids(v, &nv, series, sop);
	if (bulk_url) {
		nv = 3;
		v[nv++] = bulk_url;
		add_uids(v, &nv, series, sop);
	}
	r = db_exec_fixed(db, PGRES_TUPLES_OK, (bulk_url ? metadata_bulk_json : metadata_json)[shape], nv, v);
	if (!r)
		return -1;
	count = PQntuples(r);
	if (count)
		make_version(ver, r, 1, sop ? -1 : count, shape, original);
	else
		snprintf(ver->etag, sizeof(ver->etag), "0");
	buf_addch(out, '[');
	long n = db_json_rows(r, out);
	buf_addch(out, ']');
	return n;
}

int db_frame_ranges_get(struct db *db, int64_t watermark, char **ranges)
{
	const char *kept = lookup_ranges_get(db_lookups(db), watermark);
	*ranges = kept ? xstrdup(kept) : NULL;
	if (kept)
		return 0;
	char wm[24];
	snprintf(wm, sizeof(wm), "%lld", (long long)watermark);
	const char *v[] = { wm };
	PGresult *r = db_exec_fixed(db, PGRES_TUPLES_OK, "SELECT frame_ranges FROM instance WHERE watermark = $1::bigint", 1, v);
	if (!r)
		return -1;
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
		*ranges = xstrdup(PQgetvalue(r, 0, 0));
		lookup_ranges_put(db_lookups(db), watermark, *ranges, strlen(*ranges));
	}
	PQclear(r);
	return 0;
}

int db_frame_ranges_set(struct db *db, int64_t watermark, const char *ranges)
{
	char wm[24];
	snprintf(wm, sizeof(wm), "%lld", (long long)watermark);
	const char *v[] = { wm, ranges };
	lookup_ranges_put(db_lookups(db), watermark, ranges, strlen(ranges));
	PGresult *r = db_exec(db, PGRES_COMMAND_OK, "UPDATE instance SET frame_ranges = $2 WHERE watermark = $1::bigint", 2, v);
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
	r = db_exec(db, PGRES_TUPLES_OK,
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

/* Runs one statement returning watermarks in its own transaction; the
 * watermarks (files to remove) once it committed. */
static int watermarks_tx(struct db *db, const char *sql, int nparams, const char *const *v, int64_t **watermarks,
			 size_t *n)
{
	PGresult *r = NULL;

	*watermarks = NULL;
	*n = 0;
	/* a transaction that lost a race (a deadlock with a store of the same
	 * study) is run again */
	for (int attempt = 0;; attempt++) {
		if (db_cmd(db, "BEGIN"))
			return -1;
		r = db_run_fixed(db, sql, nparams, v);
		if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
			break;
		bool again = db_lost_race(r) && attempt + 1 < DB_RACE_TRIES;
		if (again)
			log_warn("%.40s lost a race to another transaction: run again", sql);
		else
			log_error("query failed: %s sql=\"%.60s\"", r ? PQresultErrorMessage(r) : "no connection", sql);
		PQclear(r);
		db_cmd(db, "ROLLBACK");
		if (!again)
			return -1;
		db_race_pause(attempt);
	}
	if (PQntuples(r))
		db_change_begin(db); /* instances went: counted around the COMMIT */
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
