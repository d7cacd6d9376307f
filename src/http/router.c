#include "http/router.h"
#include "http/response.h"
#include "http/token.h"
#include "http/accept.h"
#include "dicom/uid.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

int router_split_target(struct request *req, const char *target)
{
	const char *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	char *path = arena_alloc(&req->arena, plen + 1);

	if (http_percent_decode(target, plen, path, false) < 0)
		return -1;
	req->path = path;
	req->query = q ? arena_strdup(&req->arena, q + 1) : "";
	return 0;
}

/* The index of a template's parameter name ("study", "path*", ...); -1
 * when it is not one. */
static int param_of(const char *p, size_t n)
{
	static const struct { const char *name; int idx; } names[] = {
		{ "study", PARAM_STUDY }, { "series", PARAM_SERIES }, { "instance", PARAM_INSTANCE },
		{ "frames", PARAM_FRAMES }, { "tag", PARAM_TAG }, { "id", PARAM_ID }, { "path*", PARAM_PATH },
		{ "workitem", PARAM_WORKITEM },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n && !strncmp(names[i].name, p, n))
			return names[i].idx;
	return -1;
}

/* Matches path against tmpl segment by segment; literal segments compare
 * case-insensitively (ASP.NET routing does). Fills params on success. */
static int match(struct request *req, const char *tmpl, const char *path, const char **params)
{
	for (;;) {
		if (*tmpl != '/' || *path != '/')
			return (*tmpl == '\0' && (*path == '\0' || !strcmp(path, "/"))) ? 1 : 0;
		tmpl++;
		path++;
		size_t tl = strcspn(tmpl, "/"), pl = strcspn(path, "/");
		if (tl >= 2 && tmpl[0] == '{' && tmpl[tl - 1] == '}') {
			int idx = param_of(tmpl + 1, tl - 2);
			if (idx < 0 || pl == 0)
				return 0;
			if (tmpl[tl - 2] == '*') /* the rest of the path, slashes and all */
				pl = strlen(path);
			params[idx] = arena_strndup(&req->arena, path, pl);
		} else if (tl != pl || strncasecmp(tmpl, path, tl)) {
			return 0;
		}
		tmpl += tl;
		path += pl;
	}
}

/* Strips "/v1", "/v1.0-prerelease" or "/v2" from *path. */
static int strip_version(struct request *req, const char **path)
{
	static const struct { const char *prefix; int major; } versions[] = {
		{ "/v1.0-prerelease", 1 }, { "/v1", 1 }, { "/v2", 2 },
	};
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		size_t n = strlen(versions[i].prefix);
		if (!strncasecmp(*path, versions[i].prefix, n) && ((*path)[n] == '/' || (*path)[n] == '\0')) {
			req->api_version = versions[i].prefix + 1;
			req->api_major = versions[i].major;
			*path += n;
			return 0;
		}
	}
	return -1;
}

static int valid_partition_name(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int check_uids(struct request *req)
{
	static const struct { int idx; const char *name; } uids[] = {
		{ PARAM_STUDY, "StudyInstanceUid" },
		{ PARAM_SERIES, "SeriesInstanceUid" },
		{ PARAM_INSTANCE, "SopInstanceUid" },
		{ PARAM_WORKITEM, "WorkitemInstanceUid" },
	};
	for (size_t i = 0; i < sizeof(uids) / sizeof(uids[0]); i++) {
		const char *v = req->params[uids[i].idx];
		if (v && !uid_is_valid(v, strlen(v))) {
			http_error(req, 400, "%s", uid_error_message(&req->arena, uids[i].name));
			return -1;
		}
	}
	return 0;
}

/* Whether the Host header names a host this server answers for: any when
 * no list is configured; else one of the list or a loopback name. */
static bool host_allowed(const char *list, const char *host)
{
	size_t n;

	if (!list || !*list)
		return true;
	if (!host)
		return false;
	/* the name without its port ("[::1]:8080", "localhost:8080") */
	if (*host == '[') {
		const char *close = strchr(host, ']');
		n = close ? (size_t)(close - host) + 1 : strlen(host);
	} else {
		n = strcspn(host, ":");
	}
	static const char *const loopback[] = { "localhost", "127.0.0.1", "[::1]" };
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (strlen(loopback[i]) == n && !strncasecmp(host, loopback[i], n))
			return true;
	if (n > 4 && !strncmp(host, "127.", 4) && strspn(host, "0123456789.") == n)
		return true;
	const char *item;
	size_t k;
	while (http_list_next(&list, &item, &k))
		if (k == n && !strncasecmp(item, host, n))
			return true;
	return false;
}

/* The path to route, after the configured base path; NULL with the
 * answer sent when the target is invalid or outside it. */
static const char *routed_path(struct request *req)
{
	const char *target = request_env(req, "REQUEST_URI");
	const char *path, *base = req->policy ? req->policy->base_path : "";

	if (!target)
		target = request_env(req, "SCRIPT_NAME");
	if (!target || router_split_target(req, target))
		return http_error(req, 400, "The request URL is invalid."), NULL;
	path = req->path;
	if (!host_allowed(req->policy ? req->policy->allowed_hosts : NULL, request_header(req, "Host")))
		return http_error(req, 400, "The request's Host is not one this server answers for."), NULL;
	/* the service refuses markup in any query string */
	if (strchr(req->query, '<') || strcasestr(req->query, "%3c"))
		return http_error(req, 400, "The query string included invalid characters."), NULL;
	if (*base) {
		size_t bl = strlen(base);
		if (strncmp(path, base, bl) || (path[bl] != '/' && path[bl] != '\0'))
			return http_error(req, 404, NULL), NULL;
		path += bl;
	}
	return path;
}

/* The route matched: partition rules, Accept, UIDs, then its handler. */
static int run_route(struct request *req, const struct route *r, bool partitioned)
{
	/* the probes (and the debug view, which has its own switch) stay open */
	if (!(r->flags & ROUTE_UNVERSIONED) && req->policy && req->policy->authorize &&
	    req->policy->authorize(req->policy->auth_ctx, req, !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")))
		return 0;
	if (r->flags & ROUTE_PARTITIONED) {
		int enabled = req->policy && req->policy->partitions;
		if (partitioned && !enabled)
			return http_error(req, 400, "Data partitions feature is disabled."), 0;
		if (!partitioned && enabled)
			return http_error(req, 400, "PartitionName value is missing in the route segment."), 0;
		if (partitioned && !valid_partition_name(req->partition, strlen(req->partition)))
			return http_error(req, 400, "The specified PartitionName is invalid."), 0;
		int known = 1;
		if (partitioned && !(r->flags & ROUTE_MAKES_PARTITION) && req->policy->partition_exists)
			known = req->policy->partition_exists(req->policy->partition_ctx, req->partition);
		if (known < 0)
			return http_error(req, 503, "The server is temporarily unable to read data."), 0;
		if (!known)
			return http_error(req, 400, "Specified PartitionName does not exist."), 0;
	}
	if (!req->partition)
		req->partition = "Microsoft.Default";
	if ((r->flags & ROUTE_DICOM_JSON) && !accept_allows_dicom_json(request_header(req, "Accept")))
		return http_error(req, 406, NULL), 0;
	if (check_uids(req))
		return 0;
	return r->handler(req);
}

/* The route for rest among those of this pass (unversioned ones first,
 * then those under a version and maybe a partition); NULL when none, with
 * *method_mismatch set when the path matched for another method. */
static const struct route *find_route(struct request *req, const struct route *routes, size_t nroutes, bool unversioned,
				      bool partitioned, const char *rest, int *method_mismatch)
{
	const char *params[PARAM_MAX];

	for (size_t i = 0; i < nroutes; i++) {
		const struct route *r = &routes[i];
		if (unversioned != !!(r->flags & ROUTE_UNVERSIONED))
			continue;
		if (partitioned && !(r->flags & ROUTE_PARTITIONED))
			continue;
		if ((r->flags & ROUTE_V2) && req->api_major < 2)
			continue;
		memset(params, 0, sizeof(params));
		if (!match(req, r->tmpl, rest, params))
			continue;
		if (strcmp(r->method, req->method) && !(strcmp(req->method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
			*method_mismatch = 1;
			continue;
		}
		memcpy(req->params, params, sizeof(params));
		return r;
	}
	return NULL;
}

int router_dispatch(struct request *req, const struct route *routes, size_t nroutes)
{
	const char *path = routed_path(req);
	int method_mismatch = 0;
	bool partitioned = false;

	if (!path)
		return 0;
	/* CORS preflight: answered for any path */
	if (!strcmp(req->method, "OPTIONS")) {
		http_set_status(req, request_header(req, "Origin") ? 204 : 200);
		http_add_header(req, "Allow", "%s", req->policy ? req->policy->cors_methods : "GET, POST, DELETE");
		http_add_header(req, "Content-Length", "0");
		http_send_head(req);
		return 0;
	}
	const struct route *r = find_route(req, routes, nroutes, true, false, path, &method_mismatch);
	const char *rest = path;
	if (!r && !strip_version(req, &rest)) {
		if (!strncasecmp(rest, "/partitions/", 12)) {
			const char *name = rest + 12;
			size_t n = strcspn(name, "/");
			partitioned = true;
			req->partition = arena_strndup(&req->arena, name, n);
			rest = name + n;
		}
		r = find_route(req, routes, nroutes, false, partitioned, rest, &method_mismatch);
	}
	if (r)
		return run_route(req, r, partitioned);
	if (method_mismatch)
		return http_error(req, 405, NULL), 0;
	return http_error(req, 404, NULL), 0;
}
