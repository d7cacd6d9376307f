#include "db/workitem.h"
#include "db/db_internal.h"
#include "common/xalloc.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

int db_workitem_create(struct db *db, const char *partition, const char *uid, const char *dataset)
{
	const char *v[] = { partition, uid, dataset };
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      "INSERT INTO workitem (partition_key, sop_uid, state, dataset) "
			      "VALUES (dicom_partition_key($1, true), $2, 'SCHEDULED', $3::jsonb) "
			      "ON CONFLICT (partition_key, sop_uid) DO NOTHING RETURNING 1",
			      3, v);
	if (!r)
		return -1;
	int made = PQntuples(r) > 0;
	PQclear(r);
	return made ? 0 : 1;
}

void db_workitem_release(struct db_workitem *w)
{
	free(w->transaction_uid);
	free(w->dataset);
	w->transaction_uid = w->dataset = NULL;
}

int db_workitem_get(struct db *db, const char *partition, const char *uid, int lock, struct db_workitem *out)
{
	const char *v[] = { partition, uid };
	memset(out, 0, sizeof(*out));
	if (lock && db_cmd(db, "BEGIN"))
		return -1;
	PGresult *r = db_exec(db, PGRES_TUPLES_OK,
			      lock ? "SELECT w.workitem_key, w.state, w.transaction_uid, w.dataset::text FROM workitem w "
				     "JOIN partition p USING (partition_key) WHERE p.partition_name = $1 AND w.sop_uid = $2 "
				     "FOR UPDATE OF w"
				   : "SELECT w.workitem_key, w.state, w.transaction_uid, w.dataset::text FROM workitem w "
				     "JOIN partition p USING (partition_key) WHERE p.partition_name = $1 AND w.sop_uid = $2",
			      2, v);
	if (!r || PQntuples(r) == 0) {
		if (r)
			PQclear(r);
		if (lock)
			db_cmd(db, "ROLLBACK");
		return r ? 0 : -1;
	}
	out->key = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	snprintf(out->state, sizeof(out->state), "%s", PQgetvalue(r, 0, 1));
	out->transaction_uid = PQgetisnull(r, 0, 2) ? NULL : xstrdup(PQgetvalue(r, 0, 2));
	out->dataset = xstrdup(PQgetvalue(r, 0, 3));
	PQclear(r);
	return 1;
}

int db_workitem_save(struct db *db, const struct db_workitem *w)
{
	char key[24];
	snprintf(key, sizeof(key), "%lld", (long long)w->key);
	const char *v[] = { key, w->state, w->transaction_uid, w->dataset };
	PGresult *r = db_exec(db, PGRES_COMMAND_OK,
			      "UPDATE workitem SET state = $2, transaction_uid = $3, dataset = $4::jsonb, updated_at = now() "
			      "WHERE workitem_key = $1::bigint",
			      4, v);
	if (!r) {
		db_cmd(db, "ROLLBACK");
		return -1;
	}
	PQclear(r);
	return db_cmd(db, "COMMIT");
}

void db_workitem_unlock(struct db *db)
{
	db_cmd(db, "ROLLBACK");
}

long db_workitem_search(struct db *db, const char *partition, const struct workitem_filter *f, size_t n,
			const char *returned, long limit, long offset, struct buf *out)
{
	const char *v[4 + 2 * 16];
	char lim[24], off[24];
	int np = 0;
	struct buf sql;

	if (n > 16)
		return -1;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	v[np++] = partition;
	v[np++] = lim;
	v[np++] = off;
	v[np++] = returned;
	buf_init(&sql, 0);
	/* what a search returns: the dataset without the transaction UID,
	 * and without what returned leaves out */
	buf_adds(&sql, "SELECT CASE WHEN $4::text[] IS NULL THEN w.dataset - '00081195' ELSE "
		       "(SELECT COALESCE(jsonb_object_agg(e.k, e.v), '{}'::jsonb) FROM jsonb_each(w.dataset) e(k, v) "
		       "WHERE upper(e.k) = ANY ($4::text[]) AND e.k <> '00081195') END::text "
		       "FROM workitem w JOIN partition p USING (partition_key) WHERE p.partition_name = $1");
	for (size_t i = 0; i < n; i++) {
		const char *c = f[i].column;
		switch (f[i].match) {
		case WM_PN:
			v[np++] = f[i].value;
			buf_addf(&sql, " AND w.%s = dicom_pn_norm($%d)", c, np);
			break;
		case WM_PN_FUZZY:
			v[np++] = f[i].value;
			buf_addf(&sql, " AND dicom_pn_fuzzy(w.%s, dicom_pn_norm($%d))", c, np);
			break;
		case WM_RANGE:
			if (f[i].lo) {
				v[np++] = f[i].lo;
				buf_addf(&sql, " AND dicom_dt_norm(w.%s) >= $%d", c, np);
			}
			if (f[i].hi) {
				v[np++] = f[i].hi;
				buf_addf(&sql, " AND dicom_dt_norm(w.%s) <= $%d", c, np);
			}
			break;
		default:
			v[np++] = f[i].value;
			buf_addf(&sql, " AND lower(w.%s) = lower($%d)", c, np);
			break;
		}
	}
	buf_adds(&sql, " ORDER BY w.workitem_key OFFSET $3::bigint LIMIT $2::bigint");
	long rows = db_json_rows(db_exec(db, PGRES_TUPLES_OK, buf_str(&sql), np, v), out);
	buf_release(&sql);
	return rows;
}
