/* End-to-end: DELETE at each level against the running stack (§6). */
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

/* Stores n instances in two series of a new study; fills the UIDs. */
static void make_study(char *study, char (*series)[65], char (*sops)[65], int n)
{
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	struct resp r;

	snprintf(study, 65, "%s", uid_new());
	snprintf(series[0], 65, "%s", uid_new());
	snprintf(series[1], 65, "%s", uid_new());
	for (int i = 0; i < n; i++) {
		snprintf(sops[i], 65, "%s", uid_new());
		char *f = make_dcm("--study %s --series %s --sop %s", study, series[i % 2], sops[i]);
		assert_non_null(f);
		assert_int_equal(http_post_file("/v2/studies", h, f, &r), 0);
		assert_int_equal(r.status, 200);
		resp_release(&r);
		unlink(f);
		free(f);
	}
}

static long get_status(const char *path)
{
	const char *h[] = { "Accept: */*", NULL };
	struct resp r;
	http_do("GET", path, h, NULL, 0, &r);
	long s = r.status;
	resp_release(&r);
	return s;
}

static long del(const char *path, struct resp *r)
{
	http_do("DELETE", path, NULL, NULL, 0, r);
	return r->status;
}

static void delete__instance__204_rest_stays_rows_events_files(void **state)
{
	char study[65], series[2][65], sops[4][65], path[512], file[4200];
	struct resp r;

	make_study(study, series, sops, 4);
	long long wm = db_scalar("SELECT watermark FROM instance WHERE sop_uid = $1", sops[0], NULL);
	store_file_path(wm, file, sizeof(file));
	assert_int_equal(access(file, F_OK), 0);

	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", study, series[0], sops[0]);
	assert_int_equal(del(path, &r), 204);
	assert_int_equal(r.body.len, 0);
	resp_release(&r);
	assert_int_equal(get_status(path), 404);
	assert_int_equal(access(file, F_OK), -1); /* the file went after the commit */
	/* the rest of the series is still served */
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", study, series[0], sops[2]);
	assert_int_equal(get_status(path), 200);

	/* change feed: a Delete row; every row of that instance now says deleted */
	long long dseq = db_scalar("SELECT sequence FROM changefeed WHERE sop_uid = $1 AND action = 1", sops[0], NULL);
	assert_true(dseq > 0);
	assert_int_equal(db_scalar("SELECT count(*) FROM changefeed WHERE sop_uid = $1 AND current_watermark IS NOT NULL",
				   sops[0], NULL),
			 0);
	char s[24];
	snprintf(s, sizeof(s), "%lld", dseq);
	assert_int_equal(db_scalar("SELECT count(*) FROM outbox WHERE sequence = $1::bigint AND "
				   "event_type = 'Microsoft.HealthcareApis.DicomImageDeleted' AND "
				   "payload->'data'->>'imageSopInstanceUid' = $2",
				   s, sops[0]),
			 1);
	/* deleting it again: 404 */
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", study, series[0], sops[0]);
	assert_int_equal(del(path, &r), 404);
	assert_string_equal(buf_str(&r.body), "The specified instance cannot be found.");
	resp_release(&r);
}

static void delete__series_then_study__404_after(void **state)
{
	char study[65], series[2][65], sops[4][65], path[512];
	struct resp r;

	make_study(study, series, sops, 4);
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s", study, series[1]);
	assert_int_equal(del(path, &r), 204);
	resp_release(&r);
	assert_int_equal(get_status(path), 404);
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s", study, series[0]);
	assert_int_equal(get_status(path), 200);
	assert_int_equal(db_scalar("SELECT count(*) FROM changefeed WHERE study_uid = $1 AND action = 1", study, NULL), 2);

	snprintf(path, sizeof(path), "/v2/studies/%s", study);
	assert_int_equal(del(path, &r), 204);
	resp_release(&r);
	assert_int_equal(get_status(path), 404);
	assert_int_equal(del(path, &r), 404);
	assert_string_equal(buf_str(&r.body), "The specified study cannot be found.");
	resp_release(&r);
	assert_int_equal(db_scalar("SELECT count(*) FROM study WHERE study_uid = $1", study, NULL), 0);
	assert_int_equal(db_scalar("SELECT count(*) FROM outbox WHERE event_type = 'Microsoft.HealthcareApis.DicomImageDeleted' "
				   "AND payload->'data'->>'imageStudyInstanceUid' = $1",
				   study, NULL),
			 4);
}

static void delete__store_again__replaced_then_current(void **state)
{
	/* create, delete, create: the earlier rows read replaced, the last current */
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	char study[65], sop[65], path[512];
	struct resp r;

	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(sop, sizeof(sop), "%s", uid_new());
	char *f = make_dcm("--study %s --sop %s", study, sop);
	http_post_file("/v2/studies", h, f, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	snprintf(path, sizeof(path), "/v2/studies/%s", study);
	assert_int_equal(del(path, &r), 204);
	resp_release(&r);
	http_post_file("/v2/studies", h, f, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	long long cur = db_scalar("SELECT watermark FROM instance WHERE sop_uid = $1", sop, NULL);
	char c[24];
	snprintf(c, sizeof(c), "%lld", cur);
	/* all three rows point at the current version; only the last is original */
	assert_int_equal(db_scalar("SELECT count(*) FROM changefeed WHERE sop_uid = $1 AND current_watermark = $2::bigint",
				   sop, c),
			 3);
	assert_int_equal(db_scalar("SELECT count(*) FROM changefeed WHERE sop_uid = $1 AND original_watermark = $2::bigint",
				   sop, c),
			 1);
	unlink(f);
	free(f);
}

static void delete__bad_uid__400(void **state)
{
	struct resp r;
	assert_int_equal(del("/v2/studies/notAStudyInstanceUid", &r), 400);
	assert_non_null(strstr(buf_str(&r.body), "Dicom element 'StudyInstanceUid' failed validation for VR 'UI'"));
	resp_release(&r);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(delete__instance__204_rest_stays_rows_events_files),
		cmocka_unit_test(delete__series_then_study__404_after),
		cmocka_unit_test(delete__store_again__replaced_then_current),
		cmocka_unit_test(delete__bad_uid__400),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
