/* Data partitions (§9.2): GET /v{n}/partitions, and the router's question
 * whether a named partition exists. */
#include "api/app.h"
#include "http/response.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* Partitions are never removed: a name once found stays known to this
 * responder, and costs no query again. */
#define KNOWN_MAX 64
static char *known[KNOWN_MAX];
static size_t nknown;

int api_partition_exists(void *ctx, const char *name)
{
	struct app *app = ctx;
	for (size_t i = 0; i < nknown; i++)
		if (!strcmp(known[i], name))
			return 1;
	int r = db_partition_exists(app->db, name);
	if (r == 1 && nknown < KNOWN_MAX)
		known[nknown++] = strdup(name);
	return r;
}

int partitions_list(struct request *req)
{
	struct buf b;
	if (!req->app->policy.partitions)
		return http_error(req, 400, "Data partitions feature is disabled.");
	buf_init(&b, 0);
	buf_addch(&b, '[');
	long n = db_partitions(req->app->db, &b);
	buf_addch(&b, ']');
	int rc = n < 0 ? http_error(req, 503, "The server is temporarily unable to read data.")
		       : http_send(req, 200, "application/json; charset=utf-8", b.data, b.len);
	buf_release(&b);
	return rc;
}
