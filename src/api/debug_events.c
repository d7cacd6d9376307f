/* The debug view of events: GET/DELETE /debug/events, GET /debug/events/stats,
 * POST /debug/events/replay. Off unless [debug] enabled = true. */
#include "api/app.h"
#include "api/params.h"
#include "common/util.h"
#include "db/debug.h"
#include "http/response.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "common/banned.h"

static int enabled(struct request *req)
{
	if (req->app->cfg.debug_enabled)
		return 1;
	http_error(req, 404, NULL);
	return 0;
}

static int send_json(struct request *req, int status, struct buf *b)
{
	return http_send(req, status, "application/json; charset=utf-8", b->data, b->len);
}

int debug_events_list(struct request *req)
{
	struct db_debug_filter f = { 0 };
	int64_t limit, since;
	struct buf out;

	if (!enabled(req))
		return 0;
	if (param_int(req, "limit", "limit", 1, 1000, 50, &limit) || param_int(req, "offset", "offset", 0, INT64_MAX, 0, &f.offset) ||
	    param_int(req, "since", "since", -1, INT64_MAX, -1, &since))
		return 0;
	f.limit = (int)limit;
	f.since = since;
	f.type = request_query(req, "type");
	f.subscription = request_query(req, "subscription");
	f.status = request_query(req, "status");
	if (f.status && strcmp(f.status, "pending") && strcmp(f.status, "delivered") && strcmp(f.status, "dead") &&
	    strcmp(f.status, "dropped"))
		return http_error(req, 400, "The query parameter 'status' must be pending, delivered, dead or dropped.");
	buf_init(&out, 0);
	int rc = db_debug_events(req->app->db, &f, &out) ? http_error(req, 503, "The server is temporarily unable to read data.")
							 : send_json(req, 200, &out);
	buf_release(&out);
	return rc;
}

int debug_events_stats(struct request *req)
{
	struct buf out;

	if (!enabled(req))
		return 0;
	buf_init(&out, 0);
	int rc = db_debug_stats(req->app->db, &out) ? http_error(req, 503, "The server is temporarily unable to read data.")
						     : send_json(req, 200, &out);
	buf_release(&out);
	return rc;
}

int debug_events_clear(struct request *req)
{
	struct buf out;

	if (!enabled(req))
		return 0;
	long n = db_debug_clear(req->app->db);
	if (n < 0)
		return http_error(req, 503, "The server is temporarily unable to delete data.");
	buf_init(&out, 0);
	buf_addf(&out, "{\"deleted\":%ld}", n);
	int rc = send_json(req, 200, &out);
	buf_release(&out);
	return rc;
}

int debug_events_replay(struct request *req)
{
	struct buf out;

	if (!enabled(req))
		return 0;
	cJSON *j = param_json_body(req, 4096);
	if (!j)
		return 0;
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(j, "subscription");
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(j, "fromSequence");
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(j, "toSequence");
	if (!cJSON_IsString(sub) || !cJSON_IsNumber(from) || (to && !cJSON_IsNumber(to))) {
		cJSON_Delete(j);
		return http_error(req, 400,
				  "The request body must be {\"subscription\": name, \"fromSequence\": n, \"toSequence\": m}.");
	}
	int64_t a = util_whole(from->valuedouble, INT64_MIN, INT64_MAX);
	int64_t b = to ? util_whole(to->valuedouble, INT64_MIN, INT64_MAX) : INT64_MAX;
	long r = db_debug_replay(req->app->db, sub->valuestring, a, b);
	int rc;
	if (r == -2) {
		rc = http_error(req, 404, "The subscription '%s' is not known.", sub->valuestring);
	} else if (r < 0) {
		rc = http_error(req, 503, "The server is temporarily unable to write data.");
	} else {
		buf_init(&out, 0);
		buf_addf(&out, "{\"replayed\":%ld}", r);
		rc = send_json(req, 200, &out);
		buf_release(&out);
	}
	cJSON_Delete(j);
	return rc;
}
