/* Matching a request path against the route table. The table itself is data
 * and lives with the handlers (src/api/routes.c). */
#ifndef ADE_HTTP_ROUTER_H
#define ADE_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

typedef int (*route_handler)(struct request *req);

enum {
	ROUTE_BODY = 1 << 0,        /* reads a request body */
	ROUTE_WRITE = 1 << 1,       /* changes data */
	ROUTE_PARTITIONED = 1 << 2, /* also under /partitions/{name} */
	ROUTE_UNVERSIONED = 1 << 3, /* no /v{n} prefix (health) */
	ROUTE_DICOM_JSON = 1 << 4,  /* answers application/dicom+json: Accept filter before anything */
	ROUTE_V2 = 1 << 5,          /* from v2 on (the managed service's later additions) */
	ROUTE_MAKES_PARTITION = 1 << 6, /* STOW: a partition not known yet is made, not refused */
};

struct route {
	const char *method;   /* "GET", "POST", ... */
	const char *tmpl;     /* "/studies/{study}/series/{series}" */
	route_handler handler;
	unsigned flags;
};

/* Parses REQUEST_URI, strips the base path, version and partition prefixes,
 * finds the route, validates path UIDs and calls the handler. Answers 404,
 * 405, 400 for bad UIDs and CORS preflights itself. Returns the handler's
 * result, or 0 when the router answered. */
int router_dispatch(struct request *req, const struct route *routes, size_t nroutes);

/* Splits a raw request target into a decoded path and a raw query (both
 * arena-owned). Returns 0, -1 on a malformed escape. */
int router_split_target(struct request *req, const char *target);

#endif
