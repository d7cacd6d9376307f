/* End-to-end: health, routing errors, CORS, API versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static void health__both_probes__200_json(void **state)
{
	struct resp r;
	http_do("GET", "/health/check", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	cJSON *j = resp_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "overallStatus")->valuestring, "Healthy");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "details")), 1);
	cJSON_Delete(j);
	resp_release(&r);
	http_do("GET", "/health", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	j = resp_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "healthy");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "database"), "status")->valuestring, "ok");
	cJSON_Delete(j);
	resp_release(&r);
}

static void routing__unknown_wrong_method_unversioned(void **state)
{
	struct resp r;
	const char *h[] = { "Accept: */*", NULL };

	assert_int_equal(http_status("GET", "/v2/nothing-here", h, NULL, 0), 404);
	/* routes without a version are not supported */
	assert_int_equal(http_status("GET", "/studies/1.2.3", h, NULL, 0), 404);
	assert_int_equal(http_status("PUT", "/v2/studies/1.2.3/series/1.2.4", h, "x", 1), 405);
	assert_int_equal(http_status("GET", "/v3/studies/1.2.3", h, NULL, 0), 404);
	/* partitions are off, as in the service's default */
	http_do("GET", "/v2/partitions/Microsoft.Default/studies/1.2.3", h, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(buf_str(&r.body), "Data partitions feature is disabled.");
	resp_release(&r);
	/* every version prefix answers */
	http_do("GET", "/v1.0-prerelease/studies/1.2.3", h, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(buf_str(&r.body), "The specified study cannot be found.");
	resp_release(&r);
}

/* The stack's configuration (scripts/up's) allows the loopback origins
 * on any port, and no other. */
static void cors__preflight_and_exposed_headers(void **state)
{
	struct resp r;
	char v[512];
	const char *pre[] = { "Origin: http://localhost:3000", "Access-Control-Request-Method: POST",
			      "Access-Control-Request-Headers: content-type", NULL };

	http_do("OPTIONS", "/v2/studies", pre, NULL, 0, &r);
	assert_int_equal(r.status, 204);
	assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)), "http://localhost:3000");
	assert_non_null(strstr(resp_header(&r, "Access-Control-Allow-Methods", v, sizeof(v)), "POST"));
	assert_non_null(strstr(resp_header(&r, "Access-Control-Allow-Headers", v, sizeof(v)), "Content-Type"));
	assert_string_equal(resp_header(&r, "Vary", v, sizeof(v)), "Origin");
	resp_release(&r);

	const char *get[] = { "Origin: http://127.0.0.1:8042", "Accept: application/dicom+json", NULL };
	http_do("GET", "/v2/studies/1.2.3/metadata", get, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)), "http://127.0.0.1:8042");
	resp_header(&r, "Access-Control-Expose-Headers", v, sizeof(v));
	assert_non_null(strstr(v, "Location"));
	assert_non_null(strstr(v, "ETag"));
	assert_non_null(strstr(v, "Warning"));
	resp_release(&r);

	/* a foreign origin gets no CORS headers: the browser keeps its page
	 * from reading or changing anything (preflight refused) */
	const char *foreign[] = { "Origin: http://viewer.example", "Access-Control-Request-Method: DELETE", NULL };
	http_do("OPTIONS", "/v2/studies/1.2.3", foreign, NULL, 0, &r);
	assert_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	assert_null(resp_header(&r, "Access-Control-Allow-Methods", v, sizeof(v)));
	resp_release(&r);
	const char *lookalike[] = { "Origin: http://localhost.evil.example:3000", "Accept: application/dicom+json", NULL };
	http_do("GET", "/v2/studies/1.2.3/metadata", lookalike, NULL, 0, &r);
	assert_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	resp_release(&r);

	/* no Origin: no CORS headers */
	const char *plain[] = { "Accept: application/dicom+json", NULL };
	http_do("GET", "/v2/studies/1.2.3/metadata", plain, NULL, 0, &r);
	assert_null(resp_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	resp_release(&r);
}

/* The stack answers loopback names only (scripts/up's allowed_hosts): a
 * page that reaches it through a name of its own (DNS rebinding) gets 400. */
static void host__foreign_names_refused(void **state)
{
	struct resp r;
	const char *evil[] = { "Host: rebind.evil.example", "Accept: application/dicom+json", NULL };
	http_do("GET", "/v2/studies", evil, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(buf_str(&r.body), "The request's Host is not one this server answers for.");
	resp_release(&r);
	const char *local[] = { "Host: localhost:1234", NULL };
	assert_int_equal(http_status("GET", "/health", local, NULL, 0), 200);
	const char *v6[] = { "Host: [::1]:8080", NULL };
	assert_int_equal(http_status("GET", "/health", v6, NULL, 0), 200);
}

/* Each responder warms up before its first request (api/warm.c): its
 * children parse and render an instance made up for them, and two made-up
 * instances (study 2.25.0.PID.MS) are stored in a transaction rolled back.
 * The responders' log says so, and nothing of those instances is left:
 * no rows, no change feed entry, no event (supervise.sh: nor a gap in the
 * change feed's sequence). A warm-up may fail (a responder started while
 * the database was away, outage.sh): only those that did are looked at. */
static void responders__warm_up__logged_and_nothing_left(void **state)
{
	char log[4096], q[160];
	struct buf b;
	int warmed = 0;

	assert_non_null(getenv("EMULATOR_VAR"));
	snprintf(log, sizeof(log), "%s/log/dicom-fcgi.log", getenv("EMULATOR_VAR"));
	buf_init(&b, 0);
	assert_int_equal(file_read(log, &b), 0);
	buf_add(&b, "", 1);
	for (const char *p = b.data; (p = strstr(p, " warmed up in ")); p++) {
		const char *line = p;
		while (line > b.data && line[-1] != '\n')
			line--;
		const char *at = strstr(line, "dicom-fcgi[");
		assert_true(at && at < p);
		long pid = strtol(at + strlen("dicom-fcgi["), NULL, 10);
		assert_true(pid > 0);
		snprintf(q, sizeof(q), "2.25.0.%ld.%%", pid);
		assert_int_equal(db_scalar("SELECT count(*) FROM changefeed WHERE study_uid LIKE $1", q, NULL), 0);
		assert_int_equal(db_scalar("SELECT count(*) FROM study WHERE study_uid LIKE $1", q, NULL), 0);
		assert_int_equal(db_scalar("SELECT count(*) FROM instance WHERE study_uid LIKE $1", q, NULL), 0);
		snprintf(q, sizeof(q), "%%/studies/2.25.0.%ld.%%", pid);
		assert_int_equal(db_scalar("SELECT count(*) FROM outbox WHERE subject LIKE $1", q, NULL), 0);
		warmed++;
	}
	assert_true(warmed > 0);
	buf_release(&b);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(health__both_probes__200_json),
		cmocka_unit_test(routing__unknown_wrong_method_unversioned),
		cmocka_unit_test(cors__preflight_and_exposed_headers),
		cmocka_unit_test(host__foreign_names_refused),
		cmocka_unit_test(responders__warm_up__logged_and_nothing_left),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
