/* The change feed (§7): v1 pages by sequence, v2 by a time window. */
#include "api/app.h"
#include "api/params.h"
#include "http/response.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

/* startTime / endTime: NULL when absent; -1 with the 400 written. */
/* A date-time query parameter; field is the model's property name, as
 * the service's messages say it (WindowedPaginationOptions.StartTime). */
static int time_param(struct request *req, const char *name, const char *field, char *out, size_t outlen,
		      char *round_trip, const char **val)
{
	const char *v = request_query(req, name);

	*val = NULL;
	if (!v)
		return 0;
	switch (param_parse_time(v, out, outlen, round_trip)) {
	case 0:
		*val = out;
		return 0;
	case -2:
		http_error(req, 400, "The query parameter '%s' is invalid. Date and time value must specify a time zone.", field);
		return -1;
	default:
		http_error(req, 400, "The query parameter '%s' is invalid. The value '%s' is not valid.", field, v);
		return -1;
	}
}

static int send_entries(struct request *req, const struct db_changefeed_query *q)
{
	struct buf out;
	long n;

	buf_init(&out, 0);
	buf_addch(&out, '[');
	n = db_changefeed(req->app->db, q, &out);
	if (n < 0) {
		buf_release(&out);
		return http_error(req, 503, "The server is temporarily unable to read data.");
	}
	buf_addch(&out, ']');
	int rc;
	if (q->latest) {
		/* one object, not an array; nothing yet answers as an empty 200 does in ASP.NET */
		if (n == 0)
			rc = http_send(req, 204, NULL, "", 0);
		else
			rc = http_send(req, 200, "application/json; charset=utf-8", out.data + 1, out.len - 2);
	} else {
		rc = http_send(req, 200, "application/json; charset=utf-8", out.data, out.len);
	}
	buf_release(&out);
	return rc;
}

int changefeed_list(struct request *req)
{
	struct db_changefeed_query q = { 0 };
	char start[64], end[64], start_o[40], end_o[40];

	if (param_bool(req, "includeMetadata", "includeMetadata", true, &q.include_metadata))
		return 0;
	if (req->api_major >= 2) {
		q.by_time = true;
		if (param_int(req, "offset", "Offset", 0, INT64_MAX, 0, &q.offset) ||
		    param_int(req, "limit", "Limit", 1, 200, 100, &q.limit) ||
		    time_param(req, "startTime", "StartTime", start, sizeof(start), start_o, &q.start) ||
		    time_param(req, "endTime", "EndTime", end, sizeof(end), end_o, &q.end))
			return 0;
		if (q.start && q.end && db_time_cmp(req->app->db, q.start, q.end) >= 0)
			return http_error(req, 400, "The start time '%s' must occur strictly before the end time '%s'.",
					  start_o, end_o);
	} else {
		/* v1 binds method arguments: its messages name them in lower case */
		if (param_int(req, "offset", "offset", 0, INT64_MAX, 0, &q.offset) ||
		    param_int(req, "limit", "limit", 1, 100, 10, &q.limit))
			return 0;
	}
	return send_entries(req, &q);
}

int changefeed_latest(struct request *req)
{
	struct db_changefeed_query q = { 0 };

	if (param_bool(req, "includeMetadata", "includeMetadata", true, &q.include_metadata))
		return 0;
	q.latest = true;
	q.by_time = req->api_major >= 2;
	return send_entries(req, &q);
}
