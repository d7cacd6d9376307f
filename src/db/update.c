#include "db/update.h"
#include "db/db_internal.h"
#include "common/log.h"
#include "common/buf.h"
#include "common/util.h"
#include "common/xalloc.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

int db_update_start(struct db *db, const char *type, const char *input, char op_id[33], char busy_op[33])
{
	char uuid[37];
	PGresult *r;

	/* one update at a time (the service's rule); exports side by side */
	int busy = db_operation_begin(db, type, busy_op);
	if (busy < 0 || (busy > 0 && !strcmp(type, "update"))) {
		db_cmd(db, "ROLLBACK");
		return busy > 0 ? UPDATE_BUSY : UPDATE_FAILED;
	}
	util_uuid(uuid);
	const char *v[] = { uuid, input, type };
	r = db_exec(db, PGRES_COMMAND_OK, "INSERT INTO operation (id, type, input) VALUES ($1::uuid, $3, $2::jsonb)", 3,
		    v);
	if (!r)
		goto fail;
	PQclear(r);
	return db_operation_commit(db, uuid, op_id) ? UPDATE_FAILED : UPDATE_STARTED;
fail:
	db_cmd(db, "ROLLBACK");
	return UPDATE_FAILED;
}

void db_update_release(struct db_update *job)
{
	free(job->input);
	job->input = NULL;
}

/* The work list of an operation, made when it is first claimed: every
 * instance of its studies (update) or that its identifiers name (export:
 * "study[/series[/instance]]"; those that name nothing go to its errors). */
static const char *const list_sql[] = {
	"WITH o AS (SELECT id, input FROM operation WHERE id = $1::uuid) "
	"INSERT INTO operation_item (operation_id, watermark, study_uid) "
	"SELECT o.id, i.watermark, i.study_uid FROM o, instance i JOIN partition p USING (partition_key) "
	"WHERE p.partition_name = o.input->>'partition' "
	"  AND i.study_uid IN (SELECT jsonb_array_elements_text(o.input->'studyInstanceUids')) "
	"ON CONFLICT DO NOTHING",

	"WITH o AS (SELECT id, input FROM operation WHERE id = $1::uuid), "
	"ids AS (SELECT x AS id, split_part(x, '/', 1) AS st, nullif(split_part(x, '/', 2), '') AS se, "
	"  nullif(split_part(x, '/', 3), '') AS sop FROM o, jsonb_array_elements_text(o.input->'identifiers') x), "
	"m AS (SELECT ids.id, i.watermark, i.study_uid FROM o, ids, instance i JOIN partition p USING (partition_key) "
	"  WHERE p.partition_name = o.input->>'partition' AND i.study_uid = ids.st "
	"    AND (ids.se IS NULL OR i.series_uid = ids.se) AND (ids.sop IS NULL OR i.sop_uid = ids.sop)), "
	"ins AS (INSERT INTO operation_item (operation_id, watermark, study_uid) "
	"  SELECT $1::uuid, watermark, study_uid FROM m ON CONFLICT DO NOTHING) "
	"UPDATE operation SET errors = ARRAY(SELECT id FROM ids WHERE id NOT IN (SELECT id FROM m) ORDER BY id) "
	"WHERE id = $1::uuid",
};

int db_update_claim(struct db *db, const char *type, const char *owner, int lease_seconds, struct db_update *job)
{
	char lease[16];
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	const char *v[] = { owner, lease, type };
	memset(job, 0, sizeof(*job));
	if (db_cmd(db, "BEGIN"))
		return -1;
	PGresult *r = db_exec_fixed(db, PGRES_TUPLES_OK,
			      "UPDATE operation o SET status = 'running', locked_by = $1, "
			      "  locked_until = now() + make_interval(secs => $2::int), last_updated_time = now() "
			      "WHERE o.id = (SELECT id FROM operation WHERE type = $3 AND status IN ('notStarted', 'running') "
			      "  AND (locked_until IS NULL OR locked_until < now()) ORDER BY created_time LIMIT 1 "
			      "  FOR UPDATE SKIP LOCKED) "
			      "RETURNING o.id::text, o.input::text, o.end_watermark IS NULL",
			      3, v);
	if (!r)
		goto fail;
	if (PQntuples(r) == 0) {
		PQclear(r);
		db_cmd(db, "ROLLBACK");
		return 0;
	}
	snprintf(job->id, sizeof(job->id), "%s", PQgetvalue(r, 0, 0));
	job->input = xstrdup(PQgetvalue(r, 0, 1));
	bool first = PQgetvalue(r, 0, 2)[0] == 't';
	PQclear(r);
	if (first) {
		/* the work list, then end_watermark set: listed */
		const char *v2[] = { job->id };
		r = db_exec(db, PGRES_COMMAND_OK, list_sql[strcmp(type, "update") ? 1 : 0], 1, v2);
		if (!r)
			goto fail;
		PQclear(r);
		r = db_exec(db, PGRES_COMMAND_OK,
			    "UPDATE operation SET end_watermark = (SELECT coalesce(max(watermark), 0) FROM instance) "
			    "WHERE id = $1::uuid",
			    1, v2);
		if (!r)
			goto fail;
		PQclear(r);
	}
	if (db_cmd(db, "COMMIT")) {
		db_update_release(job);
		return -1;
	}
	return 1;
fail:
	db_cmd(db, "ROLLBACK");
	db_update_release(job);
	return -1;
}

void db_update_items_free(struct db_update_item *items, long n)
{
	for (long i = 0; i < n; i++) {
		free(items[i].study);
		free(items[i].metadata);
		free(items[i].metadata_bulk);
	}
	free(items);
}

long db_update_next(struct db *db, const struct db_update *job, const char *owner, int lease_seconds, long max,
		    struct db_update_item **out)
{
	char lease[16], m[24];
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	snprintf(m, sizeof(m), "%ld", max);
	*out = NULL;
	/* still ours: lease and progress renewed */
	const char *v1[] = { job->id, owner, lease };
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      "UPDATE operation SET locked_until = now() + make_interval(secs => $3::int), "
			      "  last_updated_time = now(), percent_complete = (SELECT CASE WHEN count(*) = 0 THEN 0 ELSE "
			      "    least(99, (100 * count(*) FILTER (WHERE status <> 'pending') / count(*))::int) END "
			      "    FROM operation_item WHERE operation_id = $1::uuid) "
			      "WHERE id = $1::uuid AND locked_by = $2 RETURNING 1",
			      3, v1);
	if (!r)
		return -1;
	bool ours = PQntuples(r) > 0;
	PQclear(r);
	if (!ours)
		return -1;
	const char *v2[] = { job->id, m };
	r = db_exec(db, PGRES_TUPLES_OK,
		    "SELECT t.watermark, t.study_uid, i.metadata, b.metadata FROM operation_item t "
		    "LEFT JOIN instance i ON i.watermark = t.watermark LEFT JOIN instance_bulk b ON b.watermark = t.watermark "
		    "WHERE t.operation_id = $1::uuid AND t.status = 'pending' ORDER BY t.watermark LIMIT $2::int",
		    2, v2);
	if (!r)
		return -1;
	long n = PQntuples(r);
	struct db_update_item *it = xcalloc((size_t)n + 1, sizeof(*it));
	for (long i = 0; i < n; i++) {
		it[i].watermark = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
		it[i].study = xstrdup(PQgetvalue(r, (int)i, 1));
		it[i].metadata = PQgetisnull(r, (int)i, 2) ? NULL : xstrdup(PQgetvalue(r, (int)i, 2));
		it[i].metadata_bulk = PQgetisnull(r, (int)i, 3) ? NULL : xstrdup(PQgetvalue(r, (int)i, 3));
	}
	PQclear(r);
	*out = it;
	return n;
}

int db_update_instance(struct db *db, const struct db_update *job, int64_t old, int64_t new_wm, int64_t size,
		       const char *metadata, const char *metadata_bulk, const char *host, const char *topic,
		       int64_t *remove)
{
	char o[24], n[24], s[24];
	snprintf(o, sizeof(o), "%lld", (long long)old);
	snprintf(n, sizeof(n), "%lld", (long long)new_wm);
	snprintf(s, sizeof(s), "%lld", (long long)size);
	const char *v[] = { job->id, o, n, s, metadata, metadata_bulk, host, topic };
	*remove = 0;
	/* a race lost to a DELETE or a store of the instance is run again */
	PGresult *r = db_run_fixed_change(db, "update of an instance", NULL,
					  "SELECT status, remove FROM dicom_update_instance($1::uuid, $2::bigint, $3::bigint, "
					  "$4::bigint, $5, $6, $7, $8)",
					  8, v);
	if (!r)
		return -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("update failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	int updated = !strcmp(PQgetvalue(r, 0, 0), "updated");
	if (!PQgetisnull(r, 0, 1))
		*remove = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return updated;
}

int db_update_mark(struct db *db, const struct db_update *job, int64_t watermark, bool failed, const char *error)
{
	char w[24];
	snprintf(w, sizeof(w), "%lld", (long long)watermark);
	const char *v[] = { job->id, w, failed ? "failed" : "done", error };
	PGresult *r = db_exec(db, PGRES_COMMAND_OK,
			      "UPDATE operation_item SET status = $3, error = $4 "
			      "WHERE operation_id = $1::uuid AND watermark = $2::bigint",
			      4, v);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

int db_update_finish(struct db *db, const struct db_update *job, const char *owner)
{
	const char *v[] = { job->id, owner };
	/* UpdateResults: every study asked for is processed; errors only
	 * when some failed (one line per study, then per instance) */
	PGresult *r = db_exec(db, PGRES_COMMAND_OK,
			      "WITH t AS (SELECT * FROM operation_item WHERE operation_id = $1::uuid), "
			      "f AS (SELECT count(DISTINCT study_uid) AS studies FROM t WHERE status = 'failed'), "
			      "e AS (SELECT jsonb_agg(x ORDER BY k, x) AS errors FROM ("
			      "  SELECT DISTINCT 0 AS k, 'Failed to update instances for study ' || study_uid AS x FROM t "
			      "    WHERE status = 'failed' "
			      "  UNION ALL SELECT 1, error FROM t WHERE status = 'failed' AND error IS NOT NULL) y) "
			      "UPDATE operation o SET status = CASE WHEN f.studies > 0 THEN 'failed' ELSE 'succeeded' END, "
			      "  percent_complete = 100, last_updated_time = now(), locked_by = NULL, locked_until = NULL, "
			      "  results = jsonb_strip_nulls(jsonb_build_object("
			      "    'studyProcessed', jsonb_array_length(o.input->'studyInstanceUids'), "
			      "    'studyUpdated', (SELECT count(DISTINCT study_uid) FROM t WHERE status = 'updated' "
			      "       AND study_uid NOT IN (SELECT study_uid FROM t WHERE status = 'failed')), "
			      "    'studyFailed', f.studies, "
			      "    'instanceUpdated', (SELECT count(*) FROM t WHERE status = 'updated'), "
			      "    'errors', e.errors)) "
			      "FROM f, e WHERE o.id = $1::uuid AND o.locked_by = $2",
			      2, v);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

long db_export_errors(struct db *db, const struct db_update *job, struct buf *out)
{
	const char *v[] = { job->id };
	/* errors.log: one JSON line an identifier not found or instance failed */
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      "SELECT json_build_object('Timestamp', to_char(now() AT TIME ZONE 'UTC', "
			      "  'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'Identifier', x.id, 'Error', x.error)::text FROM ("
			      "  SELECT unnest(errors) AS id, 'The specified identifier does not name a stored DICOM resource.' "
			      "    AS error, 0 AS k FROM operation WHERE id = $1::uuid "
			      "  UNION ALL SELECT split_part(error, '\t', 1), split_part(error, '\t', 2), 1 FROM operation_item "
			      "    WHERE operation_id = $1::uuid AND status = 'failed') x ORDER BY x.k, x.id",
			      1, v);
	if (!r)
		return -1;
	long n = PQntuples(r);
	for (long i = 0; i < n; i++)
		buf_addf(out, "%s\n", PQgetvalue(r, (int)i, 0));
	PQclear(r);
	return n;
}

int db_export_finish(struct db *db, const struct db_update *job, const char *owner, const char *error_href,
		     const char *failure)
{
	const char *v[] = { job->id, owner, error_href, failure };
	/* ExportResults: exported, skipped (identifiers not found and instances
	 * not written), errorHref; the operation fails when the destination
	 * could not be written at all */
	PGresult *r = db_exec(db, PGRES_COMMAND_OK,
			      "WITH t AS (SELECT * FROM operation_item WHERE operation_id = $1::uuid) "
			      "UPDATE operation o SET status = CASE WHEN $4::text IS NULL THEN 'succeeded' ELSE 'failed' END, "
			      "  percent_complete = 100, last_updated_time = now(), locked_by = NULL, locked_until = NULL, "
			      "  results = jsonb_strip_nulls(jsonb_build_object("
			      "    'exported', (SELECT count(*) FROM t WHERE status = 'done'), "
			      "    'skipped', (SELECT count(*) FROM t WHERE status IN ('failed', 'gone')) + cardinality(o.errors), "
			      "    'errorHref', $3::text, 'error', $4::text)) "
			      "WHERE o.id = $1::uuid AND o.locked_by = $2",
			      4, v);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}
