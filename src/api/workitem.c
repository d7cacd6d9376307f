/* UPS-RS workitems (§9.4, PS3.18 §11, PS3.4 Annex CC): create, retrieve,
 * update, change state, request cancellation, search. Bodies are JSON
 * arrays of DICOM JSON datasets (the first one is used); answers that are
 * not datasets are JSON strings, as the service writes them. */
#include "api/app.h"
#include "api/json_read.h"
#include "api/params.h"
#include "api/workitem_query.h"
#include "api/workitem_rules.h"
#include "common/buf.h"
#include "common/xalloc.h"
#include "db/workitem.h"
#include "dicom/uid.h"
#include "http/response.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define TXN_UID "00081195"
#define STATE "00741000"
#define SOP_UID "00080018"
#define NOT_FOUND "The workitem instance is not found."

static const char *workitem_url(struct request *req, const char *uid)
{
	return arena_printf(&req->arena, "%s/workitems/%s", api_service_url(req), uid);
}

/* The first query key (POST /workitems?{uid}, POST /workitems/{uid}?{txn}). */
static const char *first_query_key(struct request *req)
{
	size_t n = strcspn(req->query, "&=");
	return n ? arena_strndup(&req->arena, req->query, n) : NULL;
}

static const char *string_of(const cJSON *ds, const char *tag)
{
	const cJSON *v = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ds, tag), "Value"), 0);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The request's dataset: the first of a JSON array of DICOM JSON objects.
 * NULL with the answer sent; *body to free. */
/* Whether every attribute of the DICOM JSON dataset ds, and of its
 * sequences' items, is named by its tag, 8 hexadecimal digits (PS3.18
 * F.2.1.1). */
static bool keys_are_tags(const cJSON *ds)
{
	const cJSON *e, *item;
	cJSON_ArrayForEach(e, ds)
	{
		const char *k = e->string;
		if (!k || strlen(k) != 8 || strspn(k, "0123456789abcdefABCDEF") != 8)
			return false;
		const cJSON *vr = cJSON_GetObjectItemCaseSensitive(e, "vr");
		if (!cJSON_IsString(vr) || strcmp(vr->valuestring, "SQ"))
			continue;
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(e, "Value"))
		{
			if (cJSON_IsObject(item) && !keys_are_tags(item))
				return false;
		}
	}
	return true;
}

static cJSON *request_dataset(struct request *req, cJSON **body)
{
	*body = param_json_body_as(req, 4 << 20, "application/dicom+json");
	if (!*body)
		return NULL;
	cJSON *ds = cJSON_GetArrayItem(*body, 0);
	const char *bad = NULL;
	if (!cJSON_IsArray(*body) || !cJSON_IsObject(ds))
		bad = "The request body must be a JSON array holding one DICOM JSON dataset.";
	else if (!keys_are_tags(ds)) /* as the service's DICOM JSON reader refuses it */
		bad = "The syntax of the request body is invalid.";
	cJSON *each;
	cJSON_ArrayForEach(each, *body)
	{
		enum json_read read = bad || !cJSON_IsObject(each) ? JSON_READ_OK : json_read_dataset(each);
		if (read == JSON_READ_MANY_TEXT) {
			/* not a JSON message: the service's exception handler's plain text */
			http_error(req, 400, JSON_READ_MANY_TEXT_MESSAGE);
			cJSON_Delete(*body);
			*body = NULL;
			return NULL;
		}
		if (read)
			bad = "The syntax of the request body is invalid.";
	}
	if (bad) {
		http_json_message(req, 400, bad);
		cJSON_Delete(*body);
		*body = NULL;
		return NULL;
	}
	return ds;
}

int workitem_create(struct request *req)
{
	char why[256];
	cJSON *body;
	cJSON *ds = request_dataset(req, &body);
	if (!ds)
		return 0;
	const char *qid = first_query_key(req), *sid = string_of(ds, SOP_UID), *bad;
	int rc;
	if (qid && !uid_is_valid(qid, strlen(qid)))
		rc = http_json_message(req, 400, uid_error_message(&req->arena, "WorkitemInstanceUid"));
	else if (qid && sid && strcmp(qid, sid))
		rc = http_json_message(req, 400, "SOPInstanceUID in the payload does not match the workitem query parameter.");
	else {
		if (qid && !sid) { /* the query's UID is the workitem's */
			cJSON_DeleteItemFromObjectCaseSensitive(ds, SOP_UID);
			cJSON *e = cJSON_AddObjectToObject(ds, SOP_UID);
			cJSON_AddStringToObject(e, "vr", "UI");
			cJSON_AddItemToObject(e, "Value", cJSON_CreateStringArray(&qid, 1));
			sid = qid;
		}
		const char *state = string_of(ds, STATE);
		if ((bad = workitem_check(ds, true, why, sizeof(why))))
			rc = http_json_message(req, 400, bad);
		else if (strcasecmp(state, "SCHEDULED"))
			rc = http_json_message(req, 400, arena_printf(&req->arena,
								      "The workitem instance can not transition to '%s' state: a "
								      "new workitem is SCHEDULED.",
								      state));
		else if (!uid_is_valid(sid, strlen(sid)))
			rc = http_json_message(req, 400, uid_error_message(&req->arena, "SOPInstanceUID"));
		else {
			cJSON_DeleteItemFromObjectCaseSensitive(ds, TXN_UID);
			char *text = cJSON_PrintUnformatted(ds);
			int made = db_workitem_create(req->app->db, req->partition, sid, text);
			free(text);
			if (made < 0)
				rc = http_error(req, 503, "The server is temporarily unable to write data.");
			else if (made > 0)
				rc = http_json_message(req, 409,
						       "The workitem instance already exists. Try creating using a different UID.");
			else {
				const char *url = workitem_url(req, sid);
				http_add_header(req, "Location", "%s", url);
				http_add_header(req, "Content-Location", "%s", url);
				rc = http_send(req, 201, NULL, "", 0);
			}
		}
	}
	cJSON_Delete(body);
	return rc;
}

int workitem_retrieve(struct request *req)
{
	struct db_workitem w;
	int f = db_workitem_get(req->app->db, req->partition, req->params[PARAM_WORKITEM], 0, &w);
	if (f < 0)
		return http_error(req, 503, "The server is temporarily unable to read data.");
	if (!f)
		return http_json_message(req, 404, NOT_FOUND);
	int rc = http_send(req, 200, "application/dicom+json", w.dataset, strlen(w.dataset));
	db_workitem_release(&w);
	return rc;
}

/* Locks the path's workitem; 1 held, else the answer was sent (0). */
static int lock_workitem(struct request *req, struct db_workitem *w)
{
	int f = db_workitem_get(req->app->db, req->partition, req->params[PARAM_WORKITEM], 1, w);
	if (f < 0)
		return http_error(req, 503, "The server is temporarily unable to read data."), 0;
	if (!f)
		return http_json_message(req, 404, NOT_FOUND), 0;
	return 1;
}

/* Saves the held workitem with dataset ds; the answer on failure. */
static int save(struct request *req, struct db_workitem *w, cJSON *ds)
{
	free(w->dataset);
	w->dataset = cJSON_PrintUnformatted(ds);
	return db_workitem_save(req->app->db, w);
}

/* An attribute of the stored dataset, where it is among them. */
struct keyed {
	cJSON *item;
	size_t pos;
};

static int by_key(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->item->string, y->item->string);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The first attribute of stored named key, through its index (sorted by
 * key, then place), as cJSON_GetObjectItemCaseSensitive would find it. */
static struct keyed *find_key(struct keyed *index, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(index[mid].item->string, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(index[lo].item->string, key) ? &index[lo] : NULL;
}

/* The attributes of changes put into the stored dataset, but for the
 * TransactionUID and skip: one stored already is replaced in place (the
 * first of duplicate keys); one it lacks is added, or with missing given
 * listed there instead (", " between). The stored attributes are found
 * through an index sorted by key, then place: a search of the stored
 * dataset for each of the change's attributes was quadratic in a body's
 * thousands of attributes (40,000 of each took 7 s), and so was an
 * arena_printf of the list so far for each. */
static void put_attributes(cJSON *stored, const cJSON *changes, const char *skip, struct buf *missing)
{
	const cJSON *e;
	size_t n = (size_t)cJSON_GetArraySize(stored);
	cJSON *s;
	struct keyed *index = xmalloc((n ? n : 1) * sizeof(*index));
	n = 0;
	cJSON_ArrayForEach(s, stored)
	{
		index[n].item = s;
		index[n].pos = n;
		n++;
	}
	qsort(index, n, sizeof(*index), by_key);
	cJSON_ArrayForEach(e, changes)
	{
		if (!strcmp(e->string, TXN_UID) || (skip && !strcmp(e->string, skip)))
			continue;
		struct keyed *hit = find_key(index, n, e->string);
		if (hit) {
			cJSON *copy = cJSON_Duplicate(e, true); /* with its key */
			cJSON_ReplaceItemViaPointer(stored, hit->item, copy);
			hit->item = copy;
		} else if (missing) {
			buf_addf(missing, "%s%s", missing->len ? ", " : "", e->string);
		} else {
			cJSON_AddItemToObject(stored, e->string, cJSON_Duplicate(e, true));
		}
	}
	free(index);
}

int workitem_update(struct request *req)
{
	char why[256];
	struct db_workitem w;
	cJSON *body, *ds = request_dataset(req, &body);
	if (!ds)
		return 0;
	const char *txn = first_query_key(req), *bad = NULL;
	int rc = 0;
	if (cJSON_GetObjectItemCaseSensitive(ds, STATE))
		bad = "Procedure step state is present in the dataset provided to be updated which is not allowed.";
	else
		bad = workitem_check(ds, false, why, sizeof(why));
	if (bad) {
		rc = http_json_message(req, 400, bad);
	} else if (lock_workitem(req, &w)) {
		bool final = !strcmp(w.state, "COMPLETED") || !strcmp(w.state, "CANCELED");
		if (final)
			bad = "The UPS may no longer be updated.";
		else if (!strcmp(w.state, "IN PROGRESS") && !txn)
			bad = "The transaction UID is missing.";
		else if ((!strcmp(w.state, "SCHEDULED") && txn) ||
			 (!strcmp(w.state, "IN PROGRESS") && (!w.transaction_uid || strcmp(w.transaction_uid, txn))))
			bad = "Invalid TransactionUID for the specified Workitem Instance UID.";
		if (bad) {
			db_workitem_unlock(req->app->db);
			http_add_warning(req, bad);
			rc = http_json_message(req, 400, bad);
		} else {
			/* the attributes it had at creation, and a list of the others */
			cJSON *stored = cJSON_Parse(w.dataset);
			struct buf list;
			buf_init(&list, 0);
			put_attributes(stored, ds, NULL, &list);
			const char *skipped = list.len ? arena_strndup(&req->arena, list.data, list.len) : NULL;
			buf_release(&list);
			if (save(req, &w, stored)) {
				rc = http_error(req, 503, "The server is temporarily unable to write data.");
			} else {
				const char *msg = skipped ? arena_printf(&req->arena,
									 "Following tags could not be updated as they were "
									 "not present when the workitem was created: %s",
									 skipped)
							  : NULL;
				http_add_header(req, "Content-Location", "%s", workitem_url(req, req->params[PARAM_WORKITEM]));
				if (msg)
					http_add_warning(req, msg);
				rc = msg ? http_json_message(req, 200, msg) : http_send(req, 200, NULL, "", 0);
			}
			cJSON_Delete(stored);
		}
		db_workitem_release(&w);
	}
	cJSON_Delete(body);
	return rc;
}

/* The answer to a refused state change: the message as body and Warning. */
static int refuse(struct request *req, int status, const char *msg)
{
	http_add_warning(req, msg);
	return http_json_message(req, status, msg);
}

/* The state change of the held workitem; *saved when it was written (and
 * the lock let go with the commit). */
static int change_state(struct request *req, struct db_workitem *w, const char *txn, const char *target, bool *saved)
{
	char why[256];
	*saved = false;
	bool matches = txn && w->transaction_uid && !strcmp(txn, w->transaction_uid);
	const char *bad;
	/* a claim of a SCHEDULED workitem brings its transaction UID */
	switch (workitem_transition(w->state, target, matches || !strcmp(w->state, "SCHEDULED"))) {
	case TR_WRONG_TRANSACTION:
		return refuse(req, 400, "Invalid TransactionUID for the specified Workitem Instance UID.");
	case TR_ALREADY_IN_PROGRESS:
		return refuse(req, 409, "The submitted request is inconsistent with the current state of the Workitem.");
	case TR_NOT_CLAIMED:
		return refuse(req, 409, "The target URI did not reference a claimed Workitem.");
	case TR_FINAL:
		return refuse(req, 409, arena_printf(&req->arena, "The workitem instance state is '%s'.", w->state));
	case TR_BAD_TARGET:
		return refuse(req, 400, arena_printf(&req->arena, "The workitem instance can not transition to '%s' state.",
						     target));
	case TR_ALREADY:
		/* completed or canceled again by its performer: 200 with a warning */
		http_add_warning(req, arena_printf(&req->arena, "The workitem instance is already in the final state '%s'.",
						   w->state));
		return http_send(req, 200, NULL, "", 0);
	case TR_OK:
		break;
	}
	cJSON *stored = cJSON_Parse(w->dataset);
	if ((bad = workitem_check_final(stored, target, why, sizeof(why)))) {
		cJSON_Delete(stored);
		return refuse(req, 400, bad);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(stored, STATE), "Value",
					       cJSON_CreateStringArray(&target, 1));
	snprintf(w->state, sizeof(w->state), "%s", target);
	if (!w->transaction_uid)
		w->transaction_uid = strdup(txn);
	int failed = save(req, w, stored);
	cJSON_Delete(stored);
	*saved = true; /* committed, or rolled back by save */
	return failed ? http_error(req, 503, "The server is temporarily unable to write data.")
		      : http_send(req, 200, NULL, "", 0);
}

int workitem_state(struct request *req)
{
	struct db_workitem w;
	cJSON *body, *ds = request_dataset(req, &body);
	if (!ds)
		return 0;
	const char *txn = string_of(ds, TXN_UID), *target = string_of(ds, STATE);
	int rc = 0;
	if (!txn)
		rc = http_json_message(req, 400, "The required tag '(0008,1195)' is missing.");
	else if (!uid_is_valid(txn, strlen(txn)))
		rc = http_json_message(req, 400, uid_error_message(&req->arena, "TransactionUID"));
	else if (!target)
		rc = http_json_message(req, 400, "The required tag '(0074,1000)' is missing.");
	else if (strcmp(target, "IN PROGRESS") && strcmp(target, "COMPLETED") && strcmp(target, "CANCELED"))
		rc = http_json_message(req, 400, arena_printf(&req->arena,
							      "The workitem instance can not transition to '%s' state.", target));
	else if (lock_workitem(req, &w)) {
		bool saved;
		rc = change_state(req, &w, txn, target, &saved);
		if (!saved)
			db_workitem_unlock(req->app->db);
		db_workitem_release(&w);
	}
	cJSON_Delete(body);
	return rc;
}

int workitem_cancel(struct request *req)
{
	struct db_workitem w;
	cJSON *body, *ds = request_dataset(req, &body);
	if (!ds)
		return 0;
	int rc = 0;
	if (lock_workitem(req, &w)) {
		const char *msg = NULL;
		int status = 409;
		if (!strcmp(w.state, "CANCELED"))
			msg = "The UPS is already in the requested state of CANCELED.";
		else if (!strcmp(w.state, "COMPLETED"))
			msg = "The UPS is already COMPLETED.";
		else if (!strcmp(w.state, "IN PROGRESS"))
			msg = "The UPS is IN PROGRESS: its performer is not notified of a cancellation request here, and it "
			      "stays IN PROGRESS.";
		if (msg) {
			db_workitem_unlock(req->app->db);
			rc = refuse(req, status, msg);
		} else {
			/* a SCHEDULED workitem is canceled at once, with the reason and
			 * contacts the request gives */
			cJSON *stored = cJSON_Parse(w.dataset);
			put_attributes(stored, ds, STATE, NULL);
			const char *canceled = "CANCELED";
			cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(stored, STATE), "Value",
							       cJSON_CreateStringArray(&canceled, 1));
			snprintf(w.state, sizeof(w.state), "CANCELED");
			rc = save(req, &w, stored) ? http_error(req, 503, "The server is temporarily unable to write data.")
						   : http_send(req, 202, NULL, "", 0);
			cJSON_Delete(stored);
		}
		db_workitem_release(&w);
	}
	cJSON_Delete(body);
	return rc;
}

int workitem_search(struct request *req)
{
	struct qido_param params[64];
	const char *err = NULL;
	struct workitem_query q;

	long n = param_query_list(req, params, sizeof(params) / sizeof(params[0]));
	if (n < 0)
		return http_json_message(req, 400, "Invalid query: too many query parameters.");
	if (workitem_query_parse(&req->arena, params, (size_t)n, &q, &err))
		return http_json_message(req, 400, err);
	struct buf out;
	buf_init(&out, 0);
	buf_addch(&out, '[');
	long found = db_workitem_search(req->app->db, req->partition, q.filters, q.n, q.returned, (long)q.limit,
					(long)q.offset, &out);
	buf_addch(&out, ']');
	int rc = found < 0 ? http_error(req, 503, "The server is temporarily unable to read data.")
		 : found == 0 ? http_send(req, 204, NULL, "", 0)
			      : http_send(req, 200, "application/dicom+json", out.data, out.len);
	buf_release(&out);
	return rc;
}
