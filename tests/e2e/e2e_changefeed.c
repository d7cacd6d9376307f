/* End-to-end: the change feed, v1 and v2 (§7). */
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

static char study[65], series[65], sop[65];
static long long first_seq;
static char first_time[64];

/* create, delete, create again the same instance */
static int setup(void **state)
{
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	snprintf(sop, sizeof(sop), "%s", uid_new());
	/* mkdcm makes the same file from the same options */
	if (store_made("--study %s --series %s --sop %s", study, series, sop) || delete_study(study) != 204 ||
	    store_made("--study %s --series %s --sop %s", study, series, sop))
		return -1;
	first_seq = db_scalar("SELECT min(sequence) FROM changefeed WHERE sop_uid = $1", sop, NULL);
	return first_seq > 0 ? 0 : -1;
}

static cJSON *get_json(const char *path, long want_status)
{
	struct resp r;
	http_do("GET", path, NULL, NULL, 0, &r);
	if (r.status != want_status)
		fprintf(stderr, "GET %s: %ld %s\n", path, r.status, buf_str(&r.body));
	assert_int_equal(r.status, want_status);
	cJSON *j = resp_json(&r);
	resp_release(&r);
	return j;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void changefeed__v1_by_sequence__actions_and_states(void **state)
{
	char path[256];
	snprintf(path, sizeof(path), "/v1/changefeed?offset=%lld&limit=3", first_seq - 1);
	cJSON *j = get_json(path, 200);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	const char *actions[] = { "Create", "Delete", "Create" };
	const char *states[] = { "Replaced", "Replaced", "Current" };
	for (int i = 0; i < 3; i++) {
		const cJSON *e = cJSON_GetArrayItem(j, i);
		assert_int_equal((long long)cJSON_GetObjectItem(e, "sequence")->valuedouble, first_seq + i);
		assert_string_equal(str(e, "partitionName"), "Microsoft.Default");
		assert_string_equal(str(e, "studyInstanceUid"), study);
		assert_string_equal(str(e, "seriesInstanceUid"), series);
		assert_string_equal(str(e, "sopInstanceUid"), sop);
		assert_string_equal(str(e, "action"), actions[i]);
		assert_string_equal(str(e, "state"), states[i]);
		const char *ts = str(e, "timestamp");
		assert_non_null(ts);
		assert_string_equal(ts + strlen(ts) - 6, "+00:00");
		/* the instance exists again: each entry carries its current metadata */
		const cJSON *m = cJSON_GetObjectItem(e, "metadata");
		assert_non_null(m);
		assert_string_equal(dj_str(m, "00080018"), sop);
		if (i == 0)
			snprintf(first_time, sizeof(first_time), "%s", ts);
	}
	cJSON_Delete(j);

	/* includeMetadata=false leaves it out; the default page is 10 */
	snprintf(path, sizeof(path), "/v1/changefeed?offset=%lld&includeMetadata=false", first_seq - 1);
	j = get_json(path, 200);
	assert_true(cJSON_GetArraySize(j) >= 3 && cJSON_GetArraySize(j) <= 10);
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "metadata"));
	cJSON_Delete(j);
}

static void changefeed__v2_by_time__window_offset_limit(void **state)
{
	char path[512];

	/* the window starts at the first entry's time (inclusive) */
	char enc[80];
	size_t o = 0;
	for (const char *p = first_time; *p && o < sizeof(enc) - 4; p++) {
		if (*p == '+') {
			memcpy(enc + o, "%2B", 3);
			o += 3;
		} else {
			enc[o++] = *p;
		}
	}
	enc[o] = '\0';
	snprintf(path, sizeof(path), "/v2/changefeed?startTime=%s&limit=2&includeMetadata=false", enc);
	cJSON *j = get_json(path, 200);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	assert_int_equal((long long)cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "sequence")->valuedouble, first_seq);
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/v2/changefeed?startTime=%s&offset=1&limit=2", enc);
	j = get_json(path, 200);
	assert_int_equal((long long)cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "sequence")->valuedouble, first_seq + 1);
	cJSON_Delete(j);
	/* the end is exclusive: a window ending at the first entry is empty of it */
	snprintf(path, sizeof(path), "/v2/changefeed?startTime=2000-01-01T00:00:00Z&endTime=%s&offset=0&limit=200", enc);
	j = get_json(path, 200);
	for (int i = 0; i < cJSON_GetArraySize(j); i++)
		assert_true((long long)cJSON_GetObjectItem(cJSON_GetArrayItem(j, i), "sequence")->valuedouble < first_seq);
	cJSON_Delete(j);
}

static void changefeed__latest__both_versions(void **state)
{
	long long maxseq = db_scalar("SELECT max(sequence) FROM changefeed", NULL, NULL);
	cJSON *j = get_json("/v1/changefeed/latest", 200);
	assert_true(cJSON_IsObject(j));
	assert_int_equal((long long)cJSON_GetObjectItem(j, "sequence")->valuedouble, maxseq);
	cJSON_Delete(j);
	j = get_json("/v2/changefeed/latest?includeMetadata=false", 200);
	assert_int_equal((long long)cJSON_GetObjectItem(j, "sequence")->valuedouble, maxseq);
	assert_null(cJSON_GetObjectItem(j, "metadata"));
	cJSON_Delete(j);
}

static void changefeed__bad_parameters__400(void **state)
{
	struct {
		const char *path, *text;
	} cases[] = {
		{ "/v1/changefeed?limit=0", "The query parameter 'limit' is invalid. The field limit must be between 1 and 100." },
		{ "/v1/changefeed?limit=101", "The field limit must be between 1 and 100." },
		{ "/v2/changefeed?limit=201", "The field Limit must be between 1 and 200." },
		{ "/v2/changefeed?offset=-1", "The query parameter 'Offset' is invalid." },
		{ "/v1/changefeed?limit=abc", "The value 'abc' is not valid for limit." },
		{ "/v2/changefeed?includeMetadata=maybe", "The value 'maybe' is not valid for includeMetadata." },
		{ "/v2/changefeed?startTime=2024-01-01T00:00:00", "Date and time value must specify a time zone." },
		{ "/v2/changefeed?startTime=yesterday", "The query parameter 'StartTime' is invalid." },
		{ "/v2/changefeed?startTime=2024-01-02T00:00:00Z&endTime=2024-01-01T00:00:00Z",
		  "The start time '2024-01-02T00:00:00.0000000+00:00' must occur strictly before the end time "
		  "'2024-01-01T00:00:00.0000000+00:00'." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r;
		http_do("GET", cases[i].path, NULL, NULL, 0, &r);
		assert_int_equal(r.status, 400);
		if (!strstr(buf_str(&r.body), cases[i].text))
			fprintf(stderr, "%s: %s\n", cases[i].path, buf_str(&r.body));
		assert_non_null(strstr(buf_str(&r.body), cases[i].text));
		resp_release(&r);
	}
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(changefeed__v1_by_sequence__actions_and_states),
		cmocka_unit_test(changefeed__v2_by_time__window_offset_limit),
		cmocka_unit_test(changefeed__latest__both_versions),
		cmocka_unit_test(changefeed__bad_parameters__400),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
