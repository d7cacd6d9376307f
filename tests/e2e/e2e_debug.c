/* End-to-end: the debug view of events (enabled by scripts/up and check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static char study[65], sop[65];
static long long seq_created, seq_deleted;

static int setup(void **state)
{
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(sop, sizeof(sop), "%s", uid_new());
	if (store_made("--study %s --sop %s", study, sop) || delete_study(study) != 204)
		return -1;
	seq_created = db_scalar("SELECT sequence FROM changefeed WHERE sop_uid = $1 AND action = 0", sop, NULL);
	seq_deleted = db_scalar("SELECT sequence FROM changefeed WHERE sop_uid = $1 AND action = 1", sop, NULL);
	return seq_created > 0 && seq_deleted > seq_created ? 0 : -1;
}

static cJSON *get(const char *fmt, long want, ...) __attribute__((format(printf, 1, 0)));
static cJSON *get(const char *fmt, long want, ...)
{
	char path[512];
	va_list ap;
	struct resp r;
	va_start(ap, want);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	http_do("GET", path, NULL, NULL, 0, &r);
	assert_int_equal(r.status, want);
	cJSON *j = resp_json(&r);
	resp_release(&r);
	return j;
}

static void debug__events__newest_first_with_deliveries(void **state)
{
	cJSON *j = get("/debug/events?since=%lld&limit=1", 200, seq_created - 1);
	assert_true(cJSON_GetObjectItem(j, "total")->valuedouble >= 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "has_more")));
	const cJSON *events = cJSON_GetObjectItem(j, "events");
	assert_int_equal(cJSON_GetArraySize(events), 1);
	const cJSON *e = cJSON_GetArrayItem(events, 0);
	assert_true((long long)cJSON_GetObjectItem(e, "sequence")->valuedouble >= seq_deleted);
	/* the event as the relay sends it, and its delivery states */
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(e, "event")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "event"), "id")->valuestring,
			    cJSON_GetObjectItem(e, "id")->valuestring);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(e, "deliveries")));
	cJSON_Delete(j);

	/* filters: type, then the delete of this instance only */
	j = get("/debug/events?since=%lld&type=DicomImageDeleted&limit=1000", 200, seq_created - 1);
	events = cJSON_GetObjectItem(j, "events");
	for (int i = 0; i < cJSON_GetArraySize(events); i++)
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(events, i), "eventType")->valuestring,
				    "Microsoft.HealthcareApis.DicomImageDeleted");
	cJSON_Delete(j);
	j = get("/debug/events?since=%lld&status=pending&subscription=no-such-subscription", 200, seq_created - 1);
	assert_int_equal((int)cJSON_GetObjectItem(j, "total")->valuedouble, 0);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "has_more")));
	cJSON_Delete(j);
	j = get("/debug/events?status=lost", 400);
	cJSON_Delete(j);
}

static void debug__stats__counts(void **state)
{
	cJSON *j = get("/debug/events/stats", 200);
	assert_true(cJSON_GetObjectItem(j, "total")->valuedouble >= 2);
	const cJSON *types = cJSON_GetObjectItem(j, "byType");
	assert_non_null(cJSON_GetObjectItem(types, "Microsoft.HealthcareApis.DicomImageCreated"));
	assert_non_null(cJSON_GetObjectItem(j, "byStatus"));
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "bySubscription"), "local-file"));
	assert_non_null(cJSON_GetObjectItem(j, "oldestPendingAgeSeconds"));
	cJSON_Delete(j);
}

static long count_lines_with(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	long n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static void debug__replay__the_relay_delivers_again(void **state)
{
	char file[1024], body[256], needle[80];
	struct resp r;
	const char *h[] = { "Content-Type: application/json", NULL };

	snprintf(file, sizeof(file), "%s/log/events.jsonl", getenv("EMULATOR_VAR"));
	snprintf(needle, sizeof(needle), "\"sequenceNumber\":%lld}", seq_created);
	/* the stack's relay wrote it once */
	for (int i = 0; i < 100 && count_lines_with(file, needle) < 1; i++)
		usleep(100 * 1000);
	assert_int_equal(count_lines_with(file, needle), 1);
	snprintf(body, sizeof(body), "{\"subscription\":\"local-file\",\"fromSequence\":%lld,\"toSequence\":%lld}", seq_created,
		 seq_created);
	http_do("POST", "/debug/events/replay", h, body, strlen(body), &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(buf_str(&r.body), "{\"replayed\":1}");
	resp_release(&r);
	for (int i = 0; i < 100 && count_lines_with(file, needle) < 2; i++)
		usleep(100 * 1000);
	assert_int_equal(count_lines_with(file, needle), 2);

	const char *nobody = "{\"subscription\":\"nobody\",\"fromSequence\":1}";
	assert_int_equal(http_status("POST", "/debug/events/replay", h, nobody, strlen(nobody)), 404);
	assert_int_equal(http_status("POST", "/debug/events/replay", h, "not json", 8), 400);
}

static void debug__clear__only_finished_events(void **state)
{
	struct resp r;
	http_do("DELETE", "/debug/events", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	cJSON *j = resp_json(&r);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "deleted")));
	cJSON_Delete(j);
	resp_release(&r);
	/* nothing still owed to a subscription went */
	assert_int_equal(db_scalar("SELECT count(*) FROM delivery WHERE status = 'pending' AND outbox_id NOT IN "
				   "(SELECT id FROM outbox)",
				   NULL, NULL),
			 0);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debug__events__newest_first_with_deliveries),
		cmocka_unit_test(debug__stats__counts),
		cmocka_unit_test(debug__replay__the_relay_delivers_again),
		cmocka_unit_test(debug__clear__only_finished_events),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
