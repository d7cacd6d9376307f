/* Unit tests of the route matcher and dispatcher (src/http/router.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http/response.h"
#include "http/router.h"
#include "memio.h"

static const char *seen_study, *seen_series, *seen_instance, *seen_version, *seen_partition;
static int seen_major, calls;

static int handler(struct request *req)
{
	calls++;
	seen_study = req->params[PARAM_STUDY];
	seen_series = req->params[PARAM_SERIES];
	seen_instance = req->params[PARAM_INSTANCE];
	seen_version = req->api_version;
	seen_major = req->api_major;
	seen_partition = req->partition;
	return http_send(req, 200, "text/plain", "ok", 2);
}

/* echoes what a client sent into headers, as handlers do (a workitem's tag
 * into Warning, a UID into Location) */
static int echo(struct request *req)
{
	http_add_header(req, "X-Echo", "%s", "a\r\nSet-Cookie: b=c\x01\x7f");
	http_add_warning(req, "tag 7777\r\nX-Injected: yes");
	return http_send(req, 200, "text/plain", "ok", 2);
}

static const struct route routes[] = {
	{ "GET", "/health/check", handler, ROUTE_UNVERSIONED },
	{ "GET", "/echo", echo, ROUTE_UNVERSIONED },
	{ "POST", "/studies", handler, ROUTE_PARTITIONED | ROUTE_DICOM_JSON | ROUTE_MAKES_PARTITION },
	{ "GET", "/studies/{study}", handler, ROUTE_PARTITIONED },
	{ "GET", "/studies/{study}/metadata", handler, ROUTE_PARTITIONED | ROUTE_DICOM_JSON },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}", handler, ROUTE_PARTITIONED },
	{ "DELETE", "/studies/{study}", handler, ROUTE_PARTITIONED },
};

/* The partitions that exist: p1; "down" stands for a database error. */
static int partition_exists(void *ctx, const char *name)
{
	(void)ctx;
	return !strcmp(name, "down") ? -1 : !strcmp(name, "p1") || !strcmp(name, "Microsoft.Default");
}

struct result {
	int status;
	char head[1024];
	char body[1024];
};

static struct result run(const char *method, const char *uri, const char *accept, bool partitions, const char *base)
{
	char m[64], u[1024], a[256];
	char *env[8];
	int n = 0;
	struct memio io = { 0 };
	struct request req;
	struct http_policy pol = { base ? base : "", "*",	    "GET, POST",      "Content-Type", "ETag", 600,
				   partitions,	     NULL, partition_exists, NULL };
	struct result res;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	env[n++] = m;
	env[n++] = u;
	if (accept) {
		snprintf(a, sizeof(a), "HTTP_ACCEPT=%s", accept);
		env[n++] = a;
	}
	env[n] = NULL;
	calls = 0;
	seen_study = seen_series = seen_instance = NULL;
	request_init(&req, NULL, &pol, env, memio_io(&io));
	router_dispatch(&req, routes, sizeof(routes) / sizeof(routes[0]));
	res.status = req.status;
	const char *body = strstr(buf_str(&io.out), "\r\n\r\n");
	snprintf(res.body, sizeof(res.body), "%s", body ? body + 4 : "");
	snprintf(res.head, sizeof(res.head), "%.*s", body ? (int)(body - buf_str(&io.out)) + 2 : 0, buf_str(&io.out));
	/* copy what the handler saw before the arena goes */
	static char s[128], se[128], in[128], ver[32], part[80];
	snprintf(s, sizeof(s), "%s", seen_study ? seen_study : "");
	snprintf(se, sizeof(se), "%s", seen_series ? seen_series : "");
	snprintf(in, sizeof(in), "%s", seen_instance ? seen_instance : "");
	snprintf(ver, sizeof(ver), "%s", seen_version ? seen_version : "");
	snprintf(part, sizeof(part), "%s", seen_partition ? seen_partition : "");
	seen_study = s;
	seen_series = se;
	seen_instance = in;
	seen_version = ver;
	seen_partition = part;
	request_release(&req);
	buf_release(&io.out);
	return res;
}

static void dispatch__versions__prefix_stripped(void **state)
{
	struct result r = run("GET", "/v2/studies/1.2.3", NULL, false, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(seen_study, "1.2.3");
	assert_string_equal(seen_version, "v2");
	assert_int_equal(seen_major, 2);
	assert_string_equal(seen_partition, "Microsoft.Default");

	r = run("GET", "/v1/studies/1.2.3", NULL, false, NULL);
	assert_int_equal(seen_major, 1);
	r = run("GET", "/v1.0-prerelease/studies/1.2.3?x=1", NULL, false, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(seen_version, "v1.0-prerelease");
	assert_int_equal(seen_major, 1);
}

static void dispatch__three_uids__params_filled(void **state)
{
	struct result r = run("GET", "/v2/studies/1.2/series/1.2.3/instances/1.2.3.4", NULL, false, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(seen_study, "1.2");
	assert_string_equal(seen_series, "1.2.3");
	assert_string_equal(seen_instance, "1.2.3.4");
}

static void dispatch__unknown_path__404(void **state)
{
	assert_int_equal(run("GET", "/v2/studies/1.2/nothing", NULL, false, NULL).status, 404);
	assert_int_equal(run("GET", "/studies/1.2", NULL, false, NULL).status, 404);
	assert_int_equal(run("GET", "/v9/studies/1.2", NULL, false, NULL).status, 404);
	assert_int_equal(calls, 0);
}

static void dispatch__wrong_method__405(void **state)
{
	assert_int_equal(run("PATCH", "/v2/studies/1.2", NULL, false, NULL).status, 405);
	assert_int_equal(calls, 0);
}

static void dispatch__bad_uid__400_with_service_message(void **state)
{
	struct result r = run("GET", "/v2/studies/1.2.abc", NULL, false, NULL);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Dicom element 'StudyInstanceUid' failed validation for VR 'UI'"));
	r = run("DELETE", "/v2/studies/1.2.", NULL, false, NULL);
	assert_int_equal(r.status, 400);
	assert_int_equal(calls, 0);
}

static void dispatch__dicom_json_route__accept_checked_before_uids(void **state)
{
	/* 406 even with an invalid UID: the Accept filter runs first */
	struct result r = run("GET", "/v2/studies/not-a-uid/metadata", "application/data", false, NULL);
	assert_int_equal(r.status, 406);
	assert_string_equal(r.body, "");
	r = run("GET", "/v2/studies/1.2/metadata", NULL, false, NULL);
	assert_int_equal(r.status, 406);
	r = run("GET", "/v2/studies/1.2/metadata", "application/json", false, NULL);
	assert_int_equal(r.status, 200);
}

static void dispatch__partitions__off_and_on(void **state)
{
	struct result r = run("GET", "/v2/partitions/p1/studies/1.2", NULL, false, NULL);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "Data partitions feature is disabled.");
	r = run("GET", "/v2/partitions/p1/studies/1.2", NULL, true, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(seen_partition, "p1");
	r = run("GET", "/v2/studies/1.2", NULL, true, NULL);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "PartitionName value is missing in the route segment.");
	r = run("GET", "/v2/partitions/bad%20name/studies/1.2", NULL, true, NULL);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "The specified PartitionName is invalid.");
	/* a partition that does not exist: refused, except by STOW, which makes it */
	r = run("GET", "/v2/partitions/p2/studies/1.2", NULL, true, NULL);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "Specified PartitionName does not exist.");
	assert_int_equal(calls, 0);
	r = run("DELETE", "/v2/partitions/p2/studies/1.2", NULL, true, NULL);
	assert_int_equal(r.status, 400);
	r = run("POST", "/v2/partitions/p2/studies", "application/dicom+json", true, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(seen_partition, "p2");
	/* the question could not be answered: retryable */
	r = run("GET", "/v2/partitions/down/studies/1.2", NULL, true, NULL);
	assert_int_equal(r.status, 503);
}

static void dispatch__base_path__stripped_or_404(void **state)
{
	assert_int_equal(run("GET", "/dicomweb/v2/studies/1.2", NULL, false, "/dicomweb").status, 200);
	assert_int_equal(run("GET", "/v2/studies/1.2", NULL, false, "/dicomweb").status, 404);
	assert_int_equal(run("GET", "/dicomwebX/v2/studies/1.2", NULL, false, "/dicomweb").status, 404);
}

static void dispatch__unversioned_route__matched(void **state)
{
	assert_int_equal(run("GET", "/health/check", NULL, false, NULL).status, 200);
	assert_int_equal(run("GET", "/v2/health/check", NULL, false, NULL).status, 404);
}

static void dispatch__options__preflight_without_handler(void **state)
{
	assert_int_equal(run("OPTIONS", "/v2/studies", NULL, false, NULL).status, 200);
	assert_int_equal(calls, 0);
}

/* No header value breaks its line, whatever a client put into it: a CR LF
 * from a workitem's tag once ended the Warning and started a Set-Cookie. */
static void headers__client_text__stays_on_its_line(void **state)
{
	struct result r = run("GET", "/echo", NULL, false, NULL);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.head, "\r\nSet-Cookie"));
	assert_null(strstr(r.head, "\r\nX-Injected"));
	assert_non_null(strstr(r.head, "\r\nX-Echo: a  Set-Cookie: b=c  \r\n"));
	assert_non_null(strstr(r.head, "\r\nWarning: 299 : \"tag 7777  X-Injected: yes\"\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dispatch__versions__prefix_stripped),
		cmocka_unit_test(dispatch__three_uids__params_filled),
		cmocka_unit_test(dispatch__unknown_path__404),
		cmocka_unit_test(dispatch__wrong_method__405),
		cmocka_unit_test(dispatch__bad_uid__400_with_service_message),
		cmocka_unit_test(dispatch__dicom_json_route__accept_checked_before_uids),
		cmocka_unit_test(dispatch__partitions__off_and_on),
		cmocka_unit_test(dispatch__base_path__stripped_or_404),
		cmocka_unit_test(dispatch__unversioned_route__matched),
		cmocka_unit_test(dispatch__options__preflight_without_handler),
		cmocka_unit_test(headers__client_text__stays_on_its_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
