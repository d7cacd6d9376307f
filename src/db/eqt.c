#include "db/eqt.h"
#include "db/db_internal.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define EQT_COLUMNS \
	"t.tag_key, t.path, t.vr, coalesce(t.private_creator, ''), t.level, t.status, t.query_status, t.error_count, " \
	"coalesce(replace(t.operation_id::text, '-', ''), '') "

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

static void row_to_eqt(PGresult *r, int i, struct db_eqt *e)
{
	e->key = atoi(PQgetvalue(r, i, 0));
	copy(e->path, sizeof(e->path), PQgetvalue(r, i, 1));
	copy(e->vr, sizeof(e->vr), PQgetvalue(r, i, 2));
	copy(e->private_creator, sizeof(e->private_creator), PQgetvalue(r, i, 3));
	copy(e->level, sizeof(e->level), PQgetvalue(r, i, 4));
	copy(e->status, sizeof(e->status), PQgetvalue(r, i, 5));
	copy(e->query_status, sizeof(e->query_status), PQgetvalue(r, i, 6));
	e->error_count = atoi(PQgetvalue(r, i, 7));
	copy(e->operation, sizeof(e->operation), PQgetvalue(r, i, 8));
}

static long rows(PGresult *r, struct db_eqt *out, long max)
{
	if (!r)
		return -1;
	long n = PQntuples(r);
	if (n > max)
		n = max;
	for (long i = 0; i < n; i++)
		row_to_eqt(r, (int)i, &out[i]);
	PQclear(r);
	return n;
}

long db_eqt_list(struct db *db, struct db_eqt *out, long max, long offset)
{
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%ld", max);
	snprintf(off, sizeof(off), "%ld", offset);
	const char *v[] = { lim, off };
	return rows(db_exec_fixed(db, PGRES_TUPLES_OK,
			    "SELECT " EQT_COLUMNS "FROM extended_query_tag t ORDER BY t.path LIMIT $1::bigint OFFSET $2::bigint",
			    2, v),
		    out, max);
}

long db_eqt_ready(struct db *db, struct db_eqt *out, long max)
{
	return rows(db_exec_fixed(db, PGRES_TUPLES_OK,
			    "SELECT " EQT_COLUMNS "FROM extended_query_tag t WHERE t.status = 'ready' ORDER BY t.path", 0, NULL),
		    out, max);
}

int db_eqt_get(struct db *db, const char *path, struct db_eqt *out)
{
	const char *v[] = { path };
	long n = rows(db_exec(db, PGRES_TUPLES_OK, "SELECT " EQT_COLUMNS "FROM extended_query_tag t WHERE t.path = $1", 1, v),
		      out, 1);
	return n < 0 ? -1 : n > 0;
}

long db_eqt_count(struct db *db)
{
	return db_first_long(db_exec(db, PGRES_TUPLES_OK, "SELECT count(*) FROM extended_query_tag", 0, NULL));
}

int db_eqt_add(struct db *db, const struct db_new_eqt *tags, size_t n, int max_tags, char op_id[33], char busy_op[33])
{
	PGresult *r;
	char uuid[37], count[16];
	int rc = EQT_FAILED;

	int busy = db_operation_begin(db, "reindex", busy_op);
	if (busy) {
		rc = busy > 0 ? EQT_BUSY : EQT_FAILED;
		goto out;
	}
	long have = db_eqt_count(db);
	if (have < 0)
		goto out;
	if (have + (long)n > max_tags) {
		rc = EQT_TOO_MANY;
		goto out;
	}
	util_uuid(uuid);
	snprintf(count, sizeof(count), "%zu", n);
	for (size_t i = 0; i < n; i++) {
		const char *v[] = { tags[i].path, tags[i].vr, tags[i].private_creator, tags[i].level, uuid };
		r = db_exec(db, PGRES_TUPLES_OK,
			    "INSERT INTO extended_query_tag (path, vr, private_creator, level, operation_id) "
			    "VALUES ($1, $2, $3, $4, $5::uuid) ON CONFLICT (path) DO NOTHING RETURNING 1",
			    5, v);
		if (!r)
			goto out;
		int inserted = PQntuples(r);
		PQclear(r);
		if (!inserted) {
			rc = EQT_EXISTS;
			goto out;
		}
	}
	const char *v[] = { uuid };
	r = db_exec(db, PGRES_COMMAND_OK,
		    "INSERT INTO operation (id, type, tag_keys, resources) "
		    "SELECT $1::uuid, 'reindex', array_agg(tag_key ORDER BY path), array_agg(path ORDER BY path) "
		    "FROM extended_query_tag WHERE operation_id = $1::uuid",
		    1, v);
	if (!r)
		goto out;
	PQclear(r);
	return db_operation_commit(db, uuid, op_id) ? EQT_FAILED : EQT_ADDED;
out:
	db_cmd(db, "ROLLBACK");
	return rc;
}

int db_eqt_delete(struct db *db, const char *path)
{
	const char *v[] = { path };
	PGresult *r = db_exec(db, PGRES_TUPLES_OK, "DELETE FROM extended_query_tag WHERE path = $1 RETURNING 1", 1, v);
	if (!r)
		return -1;
	int n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

int db_eqt_set_query_status(struct db *db, const char *path, const char *query_status)
{
	const char *v[] = { path, query_status };
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      "UPDATE extended_query_tag SET query_status = $2 WHERE path = $1 RETURNING 1", 2, v);
	if (!r)
		return -1;
	int n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

long db_eqt_errors(struct db *db, int tag_key, long limit, long offset, struct buf *out)
{
	char k[16], lim[24], off[24];
	snprintf(k, sizeof(k), "%d", tag_key);
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	const char *v[] = { k, lim, off };
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      "SELECT json_build_object('studyInstanceUid', e.study_uid, 'seriesInstanceUid', e.series_uid, "
			      "'sopInstanceUid', e.sop_uid, 'createdTime', "
			      "regexp_replace(to_char(e.created_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
			      "'\\.?0+$', '') || 'Z', 'errorMessage', e.error_message, 'partitionName', p.partition_name)::text "
			      "FROM extended_query_tag_error e JOIN partition p USING (partition_key) "
			      "WHERE e.tag_key = $1::int ORDER BY e.watermark LIMIT $2::bigint OFFSET $3::bigint",
			      3, v);
	return db_json_rows(r, out);
}

int db_operation_begin(struct db *db, const char *type, char busy_op[33])
{
	const char *v[] = { type };
	if (db_cmd(db, "BEGIN"))
		return -1;
	/* one start of each type at a time: the check and the insert under
	 * one lock */
	PGresult *r = db_exec(db, PGRES_TUPLES_OK, "SELECT pg_advisory_xact_lock(7260012, hashtext($1))", 1, v);
	if (!r)
		return -1;
	PQclear(r);
	r = db_exec(db, PGRES_TUPLES_OK,
		    "SELECT replace(id::text, '-', '') FROM operation WHERE type = $1 "
		    "AND status IN ('notStarted', 'running') ORDER BY created_time LIMIT 1",
		    1, v);
	if (!r)
		return -1;
	int busy = PQntuples(r) > 0;
	if (busy)
		copy(busy_op, 33, PQgetvalue(r, 0, 0));
	PQclear(r);
	return busy;
}

int db_operation_commit(struct db *db, const char *uuid, char op_id[33])
{
	if (db_cmd(db, "COMMIT"))
		return -1;
	/* wake a worker at once */
	PGresult *r = db_exec(db, PGRES_TUPLES_OK, "SELECT pg_notify('outbox', 'operation')", 0, NULL);
	if (r)
		PQclear(r);
	size_t o = 0;
	for (const char *p = uuid; *p && o < 32; p++)
		if (*p != '-')
			op_id[o++] = *p;
	op_id[o] = '\0';
	return 0;
}

void db_operation_release(struct db_operation *op)
{
	for (size_t i = 0; i < op->nresources; i++)
		free(op->resources[i]);
	free(op->resources);
	op->resources = NULL;
	op->nresources = 0;
	free(op->results);
	op->results = NULL;
}

/* a DateTime as System.Text.Json writes a UTC one */
#define UTC_TIME(col) \
	"regexp_replace(to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z'"

/* 32 hex digits, or the 8-4-4-4-12 form */
static bool guid_form(const char *s)
{
	size_t n = strlen(s), hex = 0;
	if (n != 32 && n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash_here = n == 36 && (i == 8 || i == 13 || i == 18 || i == 23);
		if (dash_here) {
			if (s[i] != '-')
				return false;
		} else if ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')) {
			hex++;
		} else {
			return false;
		}
	}
	return hex == 32;
}

int db_operation_get(struct db *db, const char *id, struct db_operation *out)
{
	const char *v[] = { id };
	memset(out, 0, sizeof(*out));
	if (!guid_form(id))
		return 0; /* the route's id is bound as a Guid: anything else is not found */
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      "SELECT replace(o.id::text, '-', ''), o.type, o.status, " UTC_TIME("o.created_time") ", "
			      UTC_TIME("o.last_updated_time") ", o.percent_complete, array_to_string(o.resources, ','), "
			      "o.results::text FROM operation o WHERE o.id = $1::uuid",
			      1, v);
	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	copy(out->id, sizeof(out->id), PQgetvalue(r, 0, 0));
	copy(out->type, sizeof(out->type), PQgetvalue(r, 0, 1));
	copy(out->status, sizeof(out->status), PQgetvalue(r, 0, 2));
	copy(out->created, sizeof(out->created), PQgetvalue(r, 0, 3));
	copy(out->updated, sizeof(out->updated), PQgetvalue(r, 0, 4));
	out->percent = atoi(PQgetvalue(r, 0, 5));
	out->results = PQgetisnull(r, 0, 7) ? NULL : xstrdup(PQgetvalue(r, 0, 7));
	const char *res = PQgetvalue(r, 0, 6);
	while (*res) {
		size_t n = strcspn(res, ",");
		out->resources = xrealloc(out->resources, (out->nresources + 1) * sizeof(char *));
		out->resources[out->nresources++] = xstrndup(res, n);
		res += n;
		if (*res == ',')
			res++;
	}
	PQclear(r);
	return 1;
}

void db_reindex_release(struct db_reindex *job)
{
	free(job->tag_keys);
	job->tag_keys = NULL;
	job->ntags = 0;
}

int db_reindex_claim(struct db *db, const char *owner, int lease_seconds, struct db_reindex *job)
{
	char lease[16];
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	const char *v[] = { owner, lease };
	memset(job, 0, sizeof(*job));
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      "UPDATE operation o SET status = 'running', locked_by = $1, "
			      "  locked_until = now() + make_interval(secs => $2::int), last_updated_time = now(), "
			      "  end_watermark = coalesce(o.end_watermark, (SELECT coalesce(max(watermark), 0) FROM instance)) "
			      "WHERE o.id = (SELECT id FROM operation WHERE type = 'reindex' AND status IN ('notStarted', 'running') "
			      "  AND (locked_until IS NULL OR locked_until < now()) ORDER BY created_time LIMIT 1 "
			      "  FOR UPDATE SKIP LOCKED) "
			      "RETURNING o.id::text, array_to_string(o.tag_keys, ','), o.cursor_watermark, o.end_watermark",
			      2, v);
	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	copy(job->id, sizeof(job->id), PQgetvalue(r, 0, 0));
	const char *keys = PQgetvalue(r, 0, 1);
	while (*keys) {
		job->tag_keys = xrealloc(job->tag_keys, (job->ntags + 1) * sizeof(int));
		job->tag_keys[job->ntags++] = atoi(keys);
		keys += strcspn(keys, ",");
		if (*keys == ',')
			keys++;
	}
	job->cursor = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	job->end = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	PQclear(r);
	return 1;
}

int db_reindex_step(struct db *db, const char *owner, int lease_seconds, int batch, struct db_reindex *job)
{
	char cur[24], end[24], b[16], lease[16], upto_s[24];
	PGresult *r;
	int more = -1;

	snprintf(cur, sizeof(cur), "%lld", (long long)job->cursor);
	snprintf(end, sizeof(end), "%lld", (long long)job->end);
	snprintf(b, sizeof(b), "%d", batch);
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	if (db_cmd(db, "BEGIN"))
		return -1;
	/* the next batch of instances, in watermark order */
	const char *v1[] = { cur, end, b };
	r = db_exec(db, PGRES_TUPLES_OK,
		    "SELECT coalesce(max(watermark), $2::bigint) FROM (SELECT watermark FROM instance "
		    "WHERE watermark > $1::bigint AND watermark <= $2::bigint ORDER BY watermark LIMIT $3::int) x",
		    3, v1);
	if (!r)
		goto fail;
	int64_t upto = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	snprintf(upto_s, sizeof(upto_s), "%lld", (long long)upto);
	for (size_t i = 0; i < job->ntags; i++) {
		char k[16];
		snprintf(k, sizeof(k), "%d", job->tag_keys[i]);
		const char *v2[] = { k, cur, upto_s };
		r = db_exec(db, PGRES_TUPLES_OK, "SELECT dicom_eqt_index($1::int, $2::bigint, $3::bigint)", 3, v2);
		if (!r)
			goto fail;
		PQclear(r);
	}
	bool done = upto >= job->end;
	const char *v3[] = { job->id, upto_s, owner, lease, done ? "true" : "false" };
	r = db_exec(db, PGRES_TUPLES_OK,
		    "UPDATE operation SET cursor_watermark = $2::bigint, last_updated_time = now(), "
		    "  locked_until = now() + make_interval(secs => $4::int), "
		    "  percent_complete = CASE WHEN $5::boolean THEN 100 WHEN end_watermark <= 0 THEN 0 ELSE "
		    "    least(99, (100.0 * (SELECT count(*) FROM instance WHERE watermark <= $2::bigint) / "
		    "     greatest(1, (SELECT count(*) FROM instance WHERE watermark <= end_watermark)))::int) END, "
		    "  status = CASE WHEN $5::boolean THEN 'succeeded' ELSE status END, "
		    "  locked_by = CASE WHEN $5::boolean THEN NULL ELSE locked_by END "
		    "WHERE id = $1::uuid AND locked_by = $3 RETURNING 1",
		    5, v3);
	if (!r)
		goto fail;
	int still_ours = PQntuples(r) > 0;
	PQclear(r);
	if (!still_ours) {
		/* the lease ran out and another worker took over: leave it to them */
		db_cmd(db, "ROLLBACK");
		return 0;
	}
	if (done) {
		/* the tags are ready; tags with errors are not queried until enabled again */
		const char *v4[] = { job->id };
		r = db_exec(db, PGRES_COMMAND_OK,
			    "UPDATE extended_query_tag SET status = 'ready', operation_id = NULL, "
			    "  query_status = CASE WHEN error_count > 0 THEN 'disabled' ELSE query_status END "
			    "WHERE operation_id = $1::uuid",
			    1, v4);
		if (!r)
			goto fail;
		PQclear(r);
	}
	if (db_cmd(db, "COMMIT"))
		return -1;
	job->cursor = upto;
	more = done ? 0 : 1;
	return more;
fail:
	db_cmd(db, "ROLLBACK");
	return -1;
}
