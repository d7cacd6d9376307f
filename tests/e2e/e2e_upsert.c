/* End-to-end: PUT /v2/studies[/{study}], the managed service's upsert
 * (§3.9): the request and answer of POST, an existing instance replaced. */
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

static const char *const ACCEPT_JSON = "Accept: application/dicom+json";
static const char *const CT_DICOM = "Content-Type: application/dicom";

/* Sends file with method to path as application/dicom. */
static void send_file(const char *method, const char *path, const char *file, struct resp *r)
{
	const char *h[] = { ACCEPT_JSON, CT_DICOM, NULL };
	struct buf b;
	assert_int_equal(file_read(file, &b), 0);
	assert_int_equal(http_do(method, path, h, b.data, b.len, r), 0);
	buf_release(&b);
}

/* The file sent is refused whole: 409 with this failure reason. */
static void assert_refused(const char *method, const char *path, const char *file, long reason)
{
	struct resp r;
	send_file(method, path, file, &r);
	assert_int_equal(r.status, 409);
	cJSON *j = resp_json(&r);
	assert_int_equal(dj_int(cJSON_GetArrayItem(dj_seq(j, "00081198"), 0), "00081197", 0), reason);
	cJSON_Delete(j);
	resp_release(&r);
}

static long long watermark_of(const char *sop)
{
	return db_scalar("SELECT watermark FROM instance WHERE sop_uid = $1", sop, NULL);
}

/* GET of one instance in its stored syntax equals file. */
static void assert_retrieved(const char *study, const char *series, const char *sop, const char *file)
{
	char path[512];
	struct resp r;
	struct buf want;
	const char *h[] = { "Accept: application/dicom; transfer-syntax=*", NULL };

	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", study, series, sop);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(file_read(file, &want), 0);
	assert_int_equal(r.body.len, want.len);
	assert_memory_equal(r.body.data, want.data, want.len);
	buf_release(&want);
	resp_release(&r);
}

/* The study's metadata and searches show the second version's name only. */
static void described_and_found_as_the_new(const char *study)
{
	char path[512];
	struct resp r;
	const char *hj[] = { ACCEPT_JSON, NULL };
	snprintf(path, sizeof(path), "/v2/studies/%s/metadata", study);
	http_do("GET", path, hj, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), "Second^Version"));
	assert_null(strstr(buf_str(&r.body), "First^Version"));
	resp_release(&r);
	snprintf(path, sizeof(path), "/v2/studies?StudyInstanceUID=%s&PatientName=Second^Version", study);
	assert_int_equal(http_status("GET", path, hj, NULL, 0), 200);
	snprintf(path, sizeof(path), "/v2/studies?StudyInstanceUID=%s&PatientName=First^Version", study);
	assert_int_equal(http_status("GET", path, hj, NULL, 0), 204);
}

/* The change feed of sop replaced by the version of watermark wm2: a
 * Create entry per version, the first now Replaced (its current watermark
 * the new one); a DicomImageCreated event each. */
static void changes_of_a_replace(const char *sop, long long wm2)
{
	char w2[24];
	struct resp r;
	const char *hj[] = { ACCEPT_JSON, NULL };
	snprintf(w2, sizeof(w2), "%lld", wm2);
	assert_int_equal(db_scalar("SELECT count(*) FROM changefeed WHERE sop_uid = $1 AND action = 0", sop, NULL), 2);
	assert_int_equal(db_scalar("SELECT count(*) FROM changefeed WHERE sop_uid = $1 AND current_watermark = $2::bigint "
				   "AND original_watermark < current_watermark",
				   sop, w2),
			 1);
	assert_int_equal(db_scalar("SELECT count(*) FROM outbox WHERE event_type = 'Microsoft.HealthcareApis.DicomImageCreated' "
				   "AND subject LIKE '%/instances/' || $1",
				   sop, NULL),
			 2);
	http_do("GET", "/v2/changefeed/latest?includeMetadata=false", hj, NULL, 0, &r);
	cJSON *j = resp_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "sopInstanceUid")->valuestring, sop);
	assert_string_equal(cJSON_GetObjectItem(j, "action")->valuestring, "Create");
	assert_string_equal(cJSON_GetObjectItem(j, "state")->valuestring, "Current");
	cJSON_Delete(j);
	resp_release(&r);
}

static void upsert__replaces_an_existing_instance(void **state)
{
	(void)state;
	char study[65], series[65], sop[65], path[512], old_file[512];
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	snprintf(sop, sizeof(sop), "%s", uid_new());
	char *v1 = make_dcm("--study %s --series %s --sop %s --set 0010,0010=PN:First^Version --seed 1", study, series, sop);
	char *v2 = make_dcm("--study %s --series %s --sop %s --set 0010,0010=PN:Second^Version --seed 2", study, series,
			    sop);
	struct resp r;

	/* a new instance: stored as POST stores it, with the study's RetrieveURL */
	snprintf(path, sizeof(path), "/v2/studies/%s", study);
	send_file("PUT", path, v1, &r);
	assert_int_equal(r.status, 200);
	cJSON *j = resp_json(&r);
	char url[512];
	snprintf(url, sizeof(url), "%s/v2/studies/%s", e2e_base(), study);
	assert_string_equal(dj_str(j, "00081190"), url);
	assert_string_equal(dj_str(cJSON_GetArrayItem(dj_seq(j, "00081199"), 0), "00081155"), sop);
	cJSON_Delete(j);
	resp_release(&r);
	long long wm1 = watermark_of(sop);
	store_file_path(wm1, old_file, sizeof(old_file));
	assert_int_equal(access(old_file, F_OK), 0);

	/* POST of the same instance is still refused (45070) */
	assert_refused("POST", "/v2/studies", v2, 45070);
	assert_retrieved(study, series, sop, v1);

	/* PUT replaces it: the new bytes, metadata and index; the old file gone */
	send_file("PUT", "/v2/studies", v2, &r);
	assert_int_equal(r.status, 200);
	j = resp_json(&r);
	assert_null(cJSON_GetObjectItem(j, "00081198"));
	assert_string_equal(dj_str(cJSON_GetArrayItem(dj_seq(j, "00081199"), 0), "00081155"), sop);
	cJSON_Delete(j);
	resp_release(&r);
	long long wm2 = watermark_of(sop);
	assert_true(wm2 > wm1);
	assert_int_equal(db_scalar("SELECT count(*) FROM instance WHERE sop_uid = $1", sop, NULL), 1);
	assert_retrieved(study, series, sop, v2);
	assert_int_equal(access(old_file, F_OK), -1);

	described_and_found_as_the_new(study);
	changes_of_a_replace(sop, wm2);

	/* DELETE removes it as any instance */
	assert_int_equal(delete_study(study), 204);
	assert_int_equal(db_scalar("SELECT count(*) FROM instance WHERE sop_uid = $1", sop, NULL), 0);
	unlink(v1);
	unlink(v2);
	free(v1);
	free(v2);
}

/* A multipart PUT: the existing instance replaced, the new one stored; a
 * study in the path that the instance does not belong to is refused as
 * POST refuses it; v1 has no PUT. */
static void upsert__multipart_mixed_and_refusals(void **state)
{
	char study[65], sop_a[65], sop_b[65], path[512];
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(sop_a, sizeof(sop_a), "%s", uid_new());
	snprintf(sop_b, sizeof(sop_b), "%s", uid_new());
	char *a = make_dcm("--study %s --series %s.1 --sop %s", study, study, sop_a);
	char *a2 = make_dcm("--study %s --series %s.1 --sop %s --seed 9", study, study, sop_a);
	char *b = make_dcm("--study %s --series %s.1 --sop %s", study, study, sop_b);
	struct resp r;

	send_file("POST", "/v2/studies", a, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	long long wm_a = watermark_of(sop_a);

	struct buf body;
	const char *files[] = { a2, b };
	const char *h[] = { ACCEPT_JSON, "Content-Type: multipart/related; type=\"application/dicom\"; boundary=PuT", NULL };
	multipart_body(&body, "PuT", files, 2, false, true);
	snprintf(path, sizeof(path), "/v2/studies/%s", study);
	assert_int_equal(http_do("PUT", path, h, body.data, body.len, &r), 0);
	buf_release(&body);
	assert_int_equal(r.status, 200);
	cJSON *j = resp_json(&r);
	assert_int_equal(cJSON_GetArraySize(dj_seq(j, "00081199")), 2);
	cJSON_Delete(j);
	resp_release(&r);
	assert_true(watermark_of(sop_a) > wm_a);
	char series[80];
	snprintf(series, sizeof(series), "%s.1", study);
	assert_retrieved(study, series, sop_a, a2);

	/* the study in the path must be the instance's */
	assert_refused("PUT", "/v2/studies/1.2.3.4.5.6.7", b, 43264);
	/* v1 has no upsert: the path is POST's only */
	send_file("PUT", "/v1/studies", b, &r);
	assert_int_equal(r.status, 405);
	resp_release(&r);
	/* an unsupported body type as POST */
	const char *ht[] = { ACCEPT_JSON, "Content-Type: text/plain", NULL };
	assert_int_equal(http_status("PUT", "/v2/studies", ht, "x", 1), 415);

	delete_study(study);
	unlink(a);
	unlink(a2);
	unlink(b);
	free(a);
	free(a2);
	free(b);
	(void)state;
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upsert__replaces_an_existing_instance),
		cmocka_unit_test(upsert__multipart_mixed_and_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
