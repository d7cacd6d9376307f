/* UPS-RS workitem search parameters (§9.4): the filters, limit, offset
 * and fuzzy matching of GET /workitems. Pure C; the SQL lives in
 * src/db/workitem.c. */
#ifndef ADE_API_WORKITEM_QUERY_H
#define ADE_API_WORKITEM_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/qido_query.h"
#include "common/arena.h"
#include "db/workitem.h"

#define WORKITEM_MAX_FILTERS 16

struct workitem_query {
	struct workitem_filter filters[WORKITEM_MAX_FILTERS];
	size_t n;
	int64_t limit, offset;
	bool fuzzy;
	/* what a result keeps of its workitem (PS3.18 11.9.2): the attributes
	 * of return key type 1 and 2, those includefield names and those
	 * searched for, as a PostgreSQL text[] of 8-digit tags; NULL for all
	 * of them (includefield=all) */
	const char *returned;
};

/* Parses params (percent-decoded) into q. On a client error returns -1
 * with the service's message in err (arena-owned). */
int workitem_query_parse(struct arena *a, const struct qido_param *params, size_t nparams, struct workitem_query *q,
			 const char **err);

#endif
