/* End-to-end: WADO-RS retrieve and metadata against the running stack (§4). */
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
#include "dicom/dcm.h"

static const char *const ACCEPT_JSON = "Accept: application/dicom+json";

struct fixture {
	char study[65], series[65], sop[3][65];
	char *files[3];
};

static struct fixture fx;

/* One study: one series of two explicit-LE instances, another series with
 * a JPEG 2000 lossless instance. */
static int setup(void **state)
{
	const char *h[] = { ACCEPT_JSON, "Content-Type: application/dicom", NULL };
	struct resp r;

	snprintf(fx.study, sizeof(fx.study), "%s", uid_new());
	snprintf(fx.series, sizeof(fx.series), "%s", uid_new());
	for (int i = 0; i < 3; i++)
		snprintf(fx.sop[i], sizeof(fx.sop[i]), "%s", uid_new());
	fx.files[0] = make_dcm("--study %s --series %s --sop %s --rows 32 --cols 24", fx.study, fx.series, fx.sop[0]);
	fx.files[1] = make_dcm("--study %s --series %s --sop %s --frames 3", fx.study, fx.series, fx.sop[1]);
	fx.files[2] = make_dcm("--study %s --sop %s --ts j2k --set 0008,0060=CS:CT", fx.study, fx.sop[2]);
	for (int i = 0; i < 3; i++) {
		if (!fx.files[i] || http_post_file("/v2/studies", h, fx.files[i], &r) || r.status != 200)
			return -1;
		resp_release(&r);
	}
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < 3; i++) {
		unlink(fx.files[i]);
		free(fx.files[i]);
	}
	return 0;
}

/* Path of instance i of the first series (0 or 1). */
static void instance_path(char *out, size_t n, int i)
{
	snprintf(out, n, "/v2/studies/%s/series/%s/instances/%s", fx.study, fx.series, fx.sop[i]);
}

static void wado__instance_original__byte_exact_single_part(void **state)
{
	char path[512], ct[256];
	struct resp r;
	struct buf orig;
	const char *h[] = { "Accept: application/dicom; transfer-syntax=*", NULL };

	instance_path(path, sizeof(path), 0);
	assert_int_equal(http_do("GET", path, h, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)),
			    "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
	file_read(fx.files[0], &orig);
	assert_int_equal(r.body.len, orig.len);
	assert_memory_equal(r.body.data, orig.data, orig.len);
	buf_release(&orig);
	resp_release(&r);
}

static void wado__instance_default_accept__explicit_le(void **state)
{
	char path[512], ct[256];
	struct resp r;
	struct buf orig;
	const char *h[] = { "Accept: application/dicom", NULL };

	instance_path(path, sizeof(path), 1);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)),
			    "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
	file_read(fx.files[1], &orig);
	assert_int_equal(r.body.len, orig.len); /* stored as explicit LE: sent as is */
	assert_memory_equal(r.body.data, orig.data, orig.len);
	buf_release(&orig);
	resp_release(&r);
}

/* Writes body to a temp file and opens it with the bridge. */
static struct dcm_file *open_body(const struct buf *body, const char *data, size_t len)
{
	char tmp[] = "/tmp/ade-wado-XXXXXX", err[128];
	int fd = mkstemp(tmp);
	if (fd < 0)
		return NULL;
	if (write(fd, data ? data : body->data, data ? len : body->len) < 0)
		return NULL;
	close(fd);
	struct dcm_file *f = dcm_open(tmp, err, sizeof(err));
	unlink(tmp);
	return f;
}

static void wado__transcode_j2k_to_explicit_le_and_back(void **state)
{
	char path[512], ct[256], series2[80] = "";
	struct resp r;

	/* J2K instance asked for in explicit LE */
	long long n = db_scalar("SELECT count(*) FROM instance WHERE sop_uid = $1", fx.sop[2], NULL);
	assert_int_equal(n, 1);
	struct resp q;
	const char *hj[] = { ACCEPT_JSON, NULL };
	snprintf(path, sizeof(path), "/v2/studies/%s/metadata", fx.study);
	http_do("GET", path, hj, NULL, 0, &q);
	cJSON *arr = resp_json(&q);
	for (int i = 0; i < cJSON_GetArraySize(arr); i++) {
		const cJSON *m = cJSON_GetArrayItem(arr, i);
		if (!strcmp(dj_str(m, "00080018"), fx.sop[2]))
			snprintf(series2, sizeof(series2), "%s", dj_str(m, "0020000E"));
	}
	cJSON_Delete(arr);
	resp_release(&q);
	assert_true(series2[0] != '\0');

	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", fx.study, series2, fx.sop[2]);
	const char *h[] = { "Accept: application/dicom; transfer-syntax=1.2.840.10008.1.2.1", NULL };
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)),
			    "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
	struct dcm_file *f = open_body(&r.body, NULL, 0);
	assert_non_null(f);
	assert_string_equal(dcm_transfer_syntax(f), "1.2.840.10008.1.2.1");
	char v[80];
	assert_int_equal(dcm_get_string(f, DCM_TAG(0x0008, 0x0018), v, sizeof(v)), 1);
	assert_string_equal(v, fx.sop[2]);
	dcm_free(f);
	resp_release(&r);

	/* explicit LE instance asked for in JPEG 2000 lossless */
	instance_path(path, sizeof(path), 0);
	const char *h2[] = { "Accept: multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.90",
			     NULL };
	http_do("GET", path, h2, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	const char *parts[4];
	size_t lens[4];
	char cts[4][128];
	assert_int_equal(multipart_split(&r, parts, lens, 4, cts), 1);
	assert_string_equal(cts[0], "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.90");
	f = open_body(NULL, parts[0], lens[0]);
	assert_non_null(f);
	assert_string_equal(dcm_transfer_syntax(f), "1.2.840.10008.1.2.4.90");
	dcm_free(f);
	resp_release(&r);
}

static void wado__study_multipart_original__every_instance(void **state)
{
	char path[512], ct[256];
	struct resp r;
	const char *h[] = { "Accept: multipart/related; type=\"application/dicom\"; transfer-syntax=*", NULL };

	snprintf(path, sizeof(path), "/v2/studies/%s", fx.study);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(resp_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_int_equal(strncmp(ct, "multipart/related; boundary=", 28), 0);
	const char *parts[8];
	size_t lens[8];
	char cts[8][128];
	assert_int_equal(multipart_split(&r, parts, lens, 8, cts), 3);
	int j2k = 0, le = 0;
	for (int i = 0; i < 3; i++) {
		if (!strcmp(cts[i], "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.90"))
			j2k++;
		if (!strcmp(cts[i], "application/dicom; transfer-syntax=1.2.840.10008.1.2.1"))
			le++;
	}
	assert_int_equal(j2k, 1);
	assert_int_equal(le, 2);
	/* each part is one of the stored files, byte for byte */
	for (int i = 0; i < 3; i++) {
		int matched = 0;
		for (int k = 0; k < 3; k++) {
			struct buf b;
			file_read(fx.files[k], &b);
			if (b.len == lens[i] && !memcmp(b.data, parts[i], b.len))
				matched = 1;
			buf_release(&b);
		}
		assert_true(matched);
	}
	resp_release(&r);

	/* series level: two parts */
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s", fx.study, fx.series);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(multipart_split(&r, parts, lens, 8, NULL), 2);
	resp_release(&r);

	/* Accept: any type gives multipart in the original syntax */
	const char *any[] = { "Accept: */*", NULL };
	instance_path(path, sizeof(path), 0);
	http_do("GET", path, any, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(multipart_split(&r, parts, lens, 8, cts), 1);
	assert_string_equal(cts[0], "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
	resp_release(&r);
}

static void wado__not_acceptable__406(void **state)
{
	char study[512], inst[512];
	struct resp r;
	struct {
		const char *accept;
		int instance;
		const char *text;
	} cases[] = {
		{ NULL, 0, "The request headers are not acceptable" },
		{ "Accept: application/dicom", 0, "The request headers are not acceptable" },
		{ "Accept: image/png", 1, "The request headers are not acceptable" },
		{ "Accept: application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50", 1, "not acceptable" },
		{ "Accept: application/octet-stream", 1, "not acceptable" },
		/* several instances in any syntax but the original */
		{ "Accept: multipart/related; type=\"application/dicom\"", 0,
		  "Accept transfer syntax '1.2.840.10008.1.2.1' is not supported when multiple instances are matched." },
	};
	snprintf(study, sizeof(study), "/v2/studies/%s", fx.study);
	instance_path(inst, sizeof(inst), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *h[] = { cases[i].accept, NULL };
		http_do("GET", cases[i].instance ? inst : study, cases[i].accept ? h : NULL, NULL, 0, &r);
		assert_int_equal(r.status, 406);
		assert_non_null(strstr(buf_str(&r.body), cases[i].text));
		resp_release(&r);
	}
}

static void wado__missing__404_by_level(void **state)
{
	char path[512];
	struct resp r;
	const char *h[] = { "Accept: */*", NULL };

	snprintf(path, sizeof(path), "/v2/studies/%s", uid_new());
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(buf_str(&r.body), "The specified study cannot be found.");
	resp_release(&r);
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s", fx.study, uid_new());
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(buf_str(&r.body), "The specified series cannot be found.");
	resp_release(&r);
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", fx.study, fx.series, uid_new());
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(buf_str(&r.body), "The specified instance cannot be found.");
	resp_release(&r);
	assert_int_equal(http_status("GET", "/v2/studies/1.2.3.abc", h, NULL, 0), 400);
}

static void wado__metadata__json_etag_304(void **state)
{
	char path[512], etag[64], ct[128];
	struct resp r;
	const char *h[] = { ACCEPT_JSON, NULL };

	snprintf(path, sizeof(path), "/v2/studies/%s/metadata", fx.study);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)), "application/dicom+json");
	assert_non_null(resp_header(&r, "ETag", etag, sizeof(etag)));
	long long maxwm = db_scalar("SELECT max(watermark) FROM instance WHERE study_uid = $1", fx.study, NULL);
	char want[64];
	snprintf(want, sizeof(want), "%lld-3", maxwm);
	assert_string_equal(etag, want);
	cJSON *j = resp_json(&r);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	const cJSON *m = cJSON_GetArrayItem(j, 0);
	assert_string_equal(dj_str(m, "0020000D"), fx.study);
	/* PN as an object, numbers as numbers, no bulk data */
	const cJSON *pn = cJSON_GetArrayItem(dj_seq(m, "00100010"), 0);
	assert_string_equal(cJSON_GetObjectItem(pn, "Alphabetic")->valuestring, "Test^Patient");
	assert_true(dj_int(m, "00280010", 0) > 0);
	assert_null(cJSON_GetObjectItem(m, "7FE00010"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "00100020"), "vr")->valuestring, "LO");
	cJSON_Delete(j);
	resp_release(&r);

	/* the same ETag back: 304, no body, no ETag */
	char inm[96];
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	const char *h2[] = { ACCEPT_JSON, inm, NULL };
	http_do("GET", path, h2, NULL, 0, &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body.len, 0);
	assert_null(resp_header(&r, "ETag", ct, sizeof(ct)));
	resp_release(&r);
}

/* A new instance changes the study's ETag. */
static void wado__metadata__new_instance_changes_etag(void **state)
{
	char path[512], etag[64], etag2[64], inm[96];
	struct resp r;
	const char *h[] = { ACCEPT_JSON, NULL };

	snprintf(path, sizeof(path), "/v2/studies/%s/metadata", fx.study);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(resp_header(&r, "ETag", etag, sizeof(etag)));
	resp_release(&r);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	const char *h2[] = { ACCEPT_JSON, inm, NULL };
	char *f = make_dcm("--study %s", fx.study);
	const char *hs[] = { ACCEPT_JSON, "Content-Type: application/dicom", NULL };
	http_post_file("/v2/studies", hs, f, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	http_do("GET", path, h2, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	resp_header(&r, "ETag", etag2, sizeof(etag2));
	assert_string_not_equal(etag, etag2);
	resp_release(&r);
	/* and take it away again for the other tests */
	char sop[80], ser[80];
	struct dcm_file *df;
	char err[64];
	df = dcm_open(f, err, sizeof(err));
	dcm_get_string(df, DCM_TAG(0x0008, 0x0018), sop, sizeof(sop));
	dcm_get_string(df, DCM_TAG(0x0020, 0x000E), ser, sizeof(ser));
	dcm_free(df);
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s", fx.study, ser);
	assert_int_equal(http_status("DELETE", path, NULL, NULL, 0), 204);
	unlink(f);
	free(f);
}

/* At the instance level the ETag is the watermark; the metadata's Accept
 * filter. */
static void wado__metadata__instance_etag_and_accept(void **state)
{
	char path[512], etag[64], want[64];
	struct resp r;
	const char *h[] = { ACCEPT_JSON, NULL };

	instance_path(path, sizeof(path), 0);
	strncat(path, "/metadata", sizeof(path) - strlen(path) - 1);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	snprintf(want, sizeof(want), "%lld", db_scalar("SELECT watermark FROM instance WHERE sop_uid = $1", fx.sop[0], NULL));
	assert_string_equal(resp_header(&r, "ETag", etag, sizeof(etag)), want);
	resp_release(&r);

	/* the metadata Accept filter */
	const char *bad[] = { "Accept: application/dicom", NULL };
	http_do("GET", path, bad, NULL, 0, &r);
	assert_int_equal(r.status, 406);
	assert_int_equal(r.body.len, 0);
	resp_release(&r);
	assert_int_equal(http_status("GET", path, NULL, NULL, 0), 406);
}

static void wado__decoder_crash__one_request_fails_not_the_server(void **state)
{
	/* GDCM's JPEG 2000 encoder crashes on images narrower than 8 pixels; the
	 * work runs in a child process, so the request gets 406 and the
	 * responder lives on */
	char study[65], series[65], sop[65], path[512];
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	snprintf(sop, sizeof(sop), "%s", uid_new());
	char *f = make_dcm("--study %s --series %s --sop %s --rows 6 --cols 5", study, series, sop);
	const char *hs[] = { ACCEPT_JSON, "Content-Type: application/dicom", NULL };
	struct resp r;
	assert_int_equal(http_post_file("/v2/studies", hs, f, &r), 0);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", study, series, sop);
	for (int i = 0; i < 6; i++) { /* more than there are responders */
		const char *h[] = { "Accept: application/dicom; transfer-syntax=1.2.840.10008.1.2.4.90", NULL };
		assert_int_equal(http_status("GET", path, h, NULL, 0), 406);
	}
	const char *h2[] = { "Accept: application/dicom; transfer-syntax=*", NULL };
	assert_int_equal(http_status("GET", path, h2, NULL, 0), 200);
	delete_study(study);
	unlink(f);
	free(f);
}

static void wado__large_multiframe__round_trip(void **state)
{
	/* 512 x 512 x 16 bits x 400 frames: a 200 MB instance */
	char study[65], series[65], sop[65], path[512];
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	snprintf(sop, sizeof(sop), "%s", uid_new());
	char *f = make_dcm("--study %s --series %s --sop %s --rows 512 --cols 512 --frames 400", study, series, sop);
	const char *h[] = { ACCEPT_JSON, "Content-Type: application/dicom", NULL };
	struct resp r;
	char out[] = "/tmp/ade-large-XXXXXX";

	assert_non_null(f);
	assert_int_equal(http_post_file_chunked("/v2/studies", h, f, &r), 0);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	close(mkstemp(out));
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s", study, series, sop);
	const char *g[] = { "Accept: application/dicom; transfer-syntax=*", NULL };
	assert_int_equal(http_get_to_file(path, g, out, &r), 0);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", f, out);
	assert_int_equal(system(cmd), 0);
	assert_true(db_scalar("SELECT file_size FROM instance WHERE sop_uid = $1", sop, NULL) > 200LL * 1000 * 1000);
	unlink(out);
	unlink(f);
	free(f);
	delete_study(study);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wado__instance_original__byte_exact_single_part),
		cmocka_unit_test(wado__instance_default_accept__explicit_le),
		cmocka_unit_test(wado__transcode_j2k_to_explicit_le_and_back),
		cmocka_unit_test(wado__study_multipart_original__every_instance),
		cmocka_unit_test(wado__not_acceptable__406),
		cmocka_unit_test(wado__missing__404_by_level),
		cmocka_unit_test(wado__metadata__json_etag_304),
		cmocka_unit_test(wado__metadata__new_instance_changes_etag),
		cmocka_unit_test(wado__metadata__instance_etag_and_accept),
		cmocka_unit_test(wado__decoder_crash__one_request_fails_not_the_server),
		cmocka_unit_test(wado__large_multiframe__round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
