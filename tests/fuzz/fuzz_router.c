/* libFuzzer: the router (http/router.c and the request it reads: target
 * splitting, percent-decoding, versions, partitions, UID checks, Accept,
 * Host) on any method, URI and headers; the input's lines are the method,
 * the request URI, the Accept and the Host header. */
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "../unit/memio.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int handler(struct request *req)
{
	return http_send(req, 200, "text/plain", "ok", 2);
}

static int exists(void *ctx, const char *name)
{
	(void)ctx;
	return name[0] == 'p';
}

static const struct route routes[] = {
	{ "GET", "/health/check", handler, ROUTE_UNVERSIONED },
	{ "POST", "/studies", handler, ROUTE_PARTITIONED | ROUTE_DICOM_JSON | ROUTE_MAKES_PARTITION },
	{ "POST", "/studies/$bulkUpdate", handler, ROUTE_PARTITIONED | ROUTE_BODY },
	{ "GET", "/studies/{study}", handler, ROUTE_PARTITIONED },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/frames/{frames}", handler, ROUTE_PARTITIONED },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/bulkdata/{path*}", handler, ROUTE_PARTITIONED },
	{ "PUT", "/workitems/{workitem}/state", handler, ROUTE_PARTITIONED | ROUTE_V2 },
	{ "GET", "/operations/{id}", handler, 0 },
	{ "DELETE", "/studies/{study}", handler, ROUTE_PARTITIONED },
};

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *text = malloc(n + 1), *line[4] = { "", "", "", "" };
	memcpy(text, d, n);
	text[n] = '\0';
	char *p = text;
	for (int i = 0; i < 4 && p; i++) {
		line[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	char m[256], u[4096], a[1024], h[512];
	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", line[0]);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", line[1]);
	snprintf(a, sizeof(a), "HTTP_ACCEPT=%s", line[2]);
	snprintf(h, sizeof(h), "HTTP_HOST=%s", line[3]);
	char *env[] = { m, u, a, h, NULL };
	for (int part = 0; part < 2; part++) {
		struct memio io = { 0 };
		struct request req;
		struct http_policy pol = { part ? "/base" : "", "*",	  "GET, POST", "Content-Type", "ETag", 600, part == 1,
					   part ? "localhost" : NULL, exists, NULL, NULL, NULL };
		buf_init(&io.out, 0);
		request_init(&req, NULL, &pol, env, memio_io(&io));
		router_dispatch(&req, routes, sizeof(routes) / sizeof(routes[0]));
		request_release(&req);
		buf_release(&io.out);
	}
	free(text);
	return 0;
}
