/* End-to-end: extended query tags and operations (§8, §9.1). */
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

static char study[65], se1[65], se2[65], bad_sop[65];

static int store(const char *series, const char *sop, const char *extra)
{
	return store_made("--study %s --series %s --sop %s %s", study, series, sop, extra);
}

/* Instances stored before the tags exist: the reindex must find them. */
static int setup(void **state)
{
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(se1, sizeof(se1), "%s", uid_new());
	snprintf(se2, sizeof(se2), "%s", uid_new());
	snprintf(bad_sop, sizeof(bad_sop), "%s", uid_new());
#define PRIV "--set '0009,0010=LO:ADE TEST' --set '0009,1001=LO:secret-%d'"
	char e1[256], e2[256], e3[256];
	snprintf(e1, sizeof(e1), "--set 0018,0015=CS:CHEST --set 0020,0013=IS:2 --set 0008,0021=DA:20230105 ");
	snprintf(e1 + strlen(e1), sizeof(e1) - strlen(e1), PRIV, 1);
	snprintf(e2, sizeof(e2), "--set 0018,0015=CS:CHEST --set 0020,0013=IS:3 --set 0008,0021=DA:20230105");
	/* a SeriesDate that is not a date: an indexing error (stored as v2 does, with a warning) */
	snprintf(e3, sizeof(e3), "--set 0018,0015=CS:HEAD --set 0020,0013=IS:7");
	if (store(se1, uid_new(), e1) || store(se1, uid_new(), e2) || store(se2, bad_sop, e3))
		return -1;
	/* the bad date goes straight into the stored metadata, as an older store would have left it */
	return db_scalar("UPDATE instance SET metadata = (metadata::jsonb || '{\"00080021\": {\"vr\": \"DA\", \"Value\": "
			 "[\"notadate\"]}}'::jsonb)::text WHERE sop_uid = $1 RETURNING 1",
			 bad_sop, NULL) == 1
		       ? 0
		       : -1;
}

static long request(const char *method, const char *path, const char *body, struct resp *r)
{
	const char *h[] = { "Content-Type: application/json", "Accept: application/dicom+json", NULL };
	http_do(method, path, h, body, body ? strlen(body) : 0, r);
	return r->status;
}

static void eqt__add_validation__400s(void **state)
{
	struct {
		const char *body, *text;
	} cases[] = {
		{ "[]", "The extended query tag(s) is missing." },
		{ "[{\"Level\":\"Study\"}]", "The field '[0].Path' in request body is invalid: The Dicom Tag Property Path must be "
					     "specified and must not be null, empty or whitespace" },
		{ "[{\"Path\":\"00101010\",\"Level\":\"Studys\"}]",
		  "The field '$[0].Level' in request body is invalid: Expected value 'Studys' to be one of the following "
		  "values: ['Instance', 'Series', 'Study']" },
		{ "[{\"Path\":\"NotATag\",\"Level\":\"Study\"}]", "The extended query tag 'NotATag' is invalid as it cannot be "
								"parsed into a valid Dicom Tag." },
		{ "[{\"Path\":\"00101010\",\"Level\":\"Study\"},{\"Path\":\"PatientAge\",\"Level\":\"Study\"}]",
		  "The extended query tag 'PatientAge' has been specified before." },
		{ "[{\"Path\":\"PatientName\",\"Level\":\"Study\"}]", "The query tag 'PatientName' is already supported." },
		{ "[{\"Path\":\"00101010\",\"VR\":\"DA\",\"Level\":\"Study\"}]",
		  "The VR code 'DA' is incorrectly specified for '00101010'. The expected VR code for it is 'AS'." },
		{ "[{\"Path\":\"00091001\",\"PrivateCreator\":\"X\",\"Level\":\"Study\"}]", "The vr for tag '00091001' is missing." },
		{ "[{\"Path\":\"00101010\",\"VR\":\"XX\",\"Level\":\"Study\"}]", "The VR code 'XX' for tag '00101010' is invalid." },
		{ "[{\"Path\":\"ReferencedSeriesSequence\",\"Level\":\"Study\"}]", "The VR code 'SQ' specified for tag "
										   "'ReferencedSeriesSequence' is not supported." },
		{ "not json", "The syntax of the request body is invalid." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r;
		request("POST", "/v2/extendedquerytags", cases[i].body, &r);
		if (r.status != 400 || !strstr(buf_str(&r.body), cases[i].text))
			fprintf(stderr, "%s: %ld %s\n", cases[i].body, r.status, buf_str(&r.body));
		assert_int_equal(r.status, 400);
		assert_non_null(strstr(buf_str(&r.body), cases[i].text));
		resp_release(&r);
	}
	/* a body that is not declared JSON is refused before it is read
	 * ([Consumes("application/json")]); a charset parameter is fine */
	const char *types[] = { "Content-Type: text/plain", "Content-Type: application/jsonx", "Content-Type:" };
	const char body[] = "[{\"Path\":\"00101010\",\"Level\":\"Study\"}]";
	for (size_t i = 0; i < 3; i++) {
		const char *h[] = { types[i], NULL };
		/* "Content-Type:" sends none */
		assert_int_equal(http_status("POST", "/v2/extendedquerytags", h, body, sizeof(body) - 1), 415);
	}
	struct resp r;
	const char *h[] = { "Content-Type: Application/JSON; charset=utf-8", NULL };
	http_do("POST", "/v2/extendedquerytags", h, "[]", 2, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(buf_str(&r.body), "The extended query tag(s) is missing."));
	resp_release(&r);
	request("GET", "/v2/extendedquerytags/PatientAge", NULL, &r);
	assert_int_equal(r.status, 404);
	resp_release(&r);
}

/* Polls the operation until it is done; returns its JSON. */
static cJSON *wait_operation(const char *href_path)
{
	for (int i = 0; i < 300; i++) {
		struct resp r;
		request("GET", href_path, NULL, &r);
		cJSON *j = resp_json(&r);
		long st = r.status;
		resp_release(&r);
		if (st == 200)
			return j;
		assert_int_equal(st, 202);
		cJSON_Delete(j);
		usleep(100 * 1000);
	}
	fail_msg("the operation did not finish");
	return NULL;
}

/* Adds tags (a JSON body) and waits for their reindex to succeed. */
static void add_tags(const char *body)
{
	struct resp r;
	char op[300];
	assert_int_equal(request("POST", "/v2/extendedquerytags", body, &r), 202);
	cJSON *j = resp_json(&r);
	snprintf(op, sizeof(op), "/v2/operations/%s", cJSON_GetObjectItem(j, "id")->valuestring);
	cJSON_Delete(j);
	resp_release(&r);
	j = wait_operation(op);
	assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "succeeded");
	cJSON_Delete(j);
}

static char op_path[256];

static void eqt__add__reindex_operation_succeeds(void **state)
{
	struct resp r;
	char loc[512];
	const char *body = "[{\"Path\":\"BodyPartExamined\",\"Level\":\"Series\"},"
			   "{\"path\":\"00200013\",\"vr\":\"IS\",\"level\":\"Instance\"},"
			   "{\"Path\":\"00091001\",\"VR\":\"LO\",\"PrivateCreator\":\"ADE TEST\",\"Level\":\"Instance\"},"
			   "{\"Path\":\"SeriesDate\",\"Level\":\"Series\"}]";
	assert_int_equal(request("POST", "/v2/extendedquerytags", body, &r), 202);
	cJSON *j = resp_json(&r);
	const char *id = cJSON_GetObjectItem(j, "id")->valuestring;
	assert_int_equal(strlen(id), 32);
	char want[512];
	snprintf(want, sizeof(want), "%s/v2/operations/%s", e2e_base(), id);
	assert_string_equal(cJSON_GetObjectItem(j, "href")->valuestring, want);
	assert_string_equal(resp_header(&r, "Location", loc, sizeof(loc)), want);
	snprintf(op_path, sizeof(op_path), "/v2/operations/%s", id);
	cJSON_Delete(j);
	resp_release(&r);

	j = wait_operation(op_path);
	assert_string_equal(cJSON_GetObjectItem(j, "operationId")->valuestring, strrchr(op_path, '/') + 1);
	assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "reindex");
	assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "succeeded");
	assert_int_equal(cJSON_GetObjectItem(j, "percentComplete")->valueint, 100);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "resources")), 4);
	cJSON_Delete(j);
	/* v1 calls it completed */
	char v1[300];
	snprintf(v1, sizeof(v1), "/v1%s", op_path + 3);
	request("GET", v1, NULL, &r);
	j = resp_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "completed");
	cJSON_Delete(j);
	resp_release(&r);

	/* the same tag again */
	assert_int_equal(request("POST", "/v2/extendedquerytags", "[{\"Path\":\"BodyPartExamined\",\"Level\":\"Series\"}]", &r), 409);
	assert_string_equal(buf_str(&r.body), "One or more extended query tags already exist.");
	resp_release(&r);
}

static void eqt__list_get_errors_patch(void **state)
{
	struct resp r;
	assert_int_equal(request("GET", "/v2/extendedquerytags/BodyPartExamined", NULL, &r), 200);
	cJSON *j = resp_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "path")->valuestring, "00180015");
	assert_string_equal(cJSON_GetObjectItem(j, "vr")->valuestring, "CS");
	assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "series");
	assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "ready");
	assert_string_equal(cJSON_GetObjectItem(j, "queryStatus")->valuestring, "enabled");
	assert_null(cJSON_GetObjectItem(j, "errors"));
	cJSON_Delete(j);
	resp_release(&r);

	/* the bad date was recorded and the tag switched off */
	assert_int_equal(request("GET", "/v2/extendedquerytags/00080021", NULL, &r), 200);
	j = resp_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "queryStatus")->valuestring, "disabled");
	const cJSON *errs = cJSON_GetObjectItem(j, "errors");
	assert_int_equal(cJSON_GetObjectItem(errs, "count")->valueint, 1);
	char want[300];
	snprintf(want, sizeof(want), "%s/v2/extendedquerytags/00080021/errors", e2e_base());
	assert_string_equal(cJSON_GetObjectItem(errs, "href")->valuestring, want);
	cJSON_Delete(j);
	resp_release(&r);
	assert_int_equal(request("GET", "/v2/extendedquerytags/SeriesDate/errors", NULL, &r), 200);
	j = resp_json(&r);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	const cJSON *e = cJSON_GetArrayItem(j, 0);
	assert_string_equal(cJSON_GetObjectItem(e, "sopInstanceUid")->valuestring, bad_sop);
	assert_string_equal(cJSON_GetObjectItem(e, "studyInstanceUid")->valuestring, study);
	assert_non_null(cJSON_GetObjectItem(e, "errorMessage"));
	assert_non_null(cJSON_GetObjectItem(e, "createdTime"));
	cJSON_Delete(j);
	resp_release(&r);

	/* a disabled tag cannot be queried; enabled, answers carry the header */
	const char *h[] = { "Accept: application/dicom+json", NULL };
	char path[256];
	snprintf(path, sizeof(path), "/v2/studies/%s/series?SeriesDate=20230105", study);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(buf_str(&r.body), "Query is disabled on specified attribute 'SeriesDate'.");
	resp_release(&r);
	assert_int_equal(request("PATCH", "/v2/extendedquerytags/SeriesDate", "{\"queryStatus\":\"Enabled\"}", &r), 200);
	j = resp_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "queryStatus")->valuestring, "enabled");
	cJSON_Delete(j);
	resp_release(&r);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	char hv[128];
	assert_string_equal(resp_header(&r, "erroneous-dicom-attributes", hv, sizeof(hv)), "SeriesDate");
	j = resp_json(&r);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000E"), se1);
	cJSON_Delete(j);
	resp_release(&r);
	assert_int_equal(request("PATCH", "/v2/extendedquerytags/SeriesDate", "{\"queryStatus\":\"Sometimes\"}", &r), 400);
	resp_release(&r);

	/* the list pages */
	assert_int_equal(request("GET", "/v2/extendedquerytags?limit=2", NULL, &r), 200);
	j = resp_json(&r);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	resp_release(&r);
	assert_int_equal(request("GET", "/v2/extendedquerytags?limit=0", NULL, &r), 400);
	resp_release(&r);
}

static void eqt__qido_on_tags(void **state)
{
	struct resp r;
	const char *h[] = { "Accept: application/dicom+json", NULL };
	char path[300];

	snprintf(path, sizeof(path), "/v2/studies/%s/series?BodyPartExamined=chest", study);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	cJSON *j = resp_json(&r);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000E"), se1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "00180015"), "CHEST"); /* the filtered tag is returned */
	cJSON_Delete(j);
	resp_release(&r);

	/* IS compares as a number; the private tag by its hex path */
	snprintf(path, sizeof(path), "/v2/studies/%s/instances?InstanceNumber=0003", study);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	j = resp_json(&r);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
	resp_release(&r);
	snprintf(path, sizeof(path), "/v2/studies/%s/instances?00091001=secret-1", study);
	assert_int_equal(http_status("GET", path, h, NULL, 0), 200);
	snprintf(path, sizeof(path), "/v2/studies/%s/instances?InstanceNumber=three", study);
	assert_int_equal(http_status("GET", path, h, NULL, 0), 400);
	/* a series-level tag is not searchable at the study level */
	assert_int_equal(http_status("GET", "/v2/studies?BodyPartExamined=CHEST", h, NULL, 0), 400);

	/* an invalid value of an indexed tag: v1 refuses the instance, v2 stores it with a warning */
	{
		const char *hs[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
		/* (the minimum validator checks a CS value's length only) */
		char *bad = make_dcm("--study %s --series %s --set '0018,0015=CS:LONGER THAN SIXTEEN' --set 0020,0013=IS:4",
				     study, se2);
		assert_non_null(bad);
		http_post_file("/v1/studies", hs, bad, &r);
		assert_int_equal(r.status, 409);
		cJSON *fj = resp_json(&r);
		assert_int_equal(dj_int(cJSON_GetArrayItem(dj_seq(fj, "00081198"), 0), "00081197", 0), 43264);
		cJSON_Delete(fj);
		resp_release(&r);
		http_post_file("/v2/studies", hs, bad, &r);
		assert_int_equal(r.status, 202);
		fj = resp_json(&r);
		assert_int_equal(dj_int(cJSON_GetArrayItem(dj_seq(fj, "00081199"), 0), "00081196", 0), 1);
		cJSON_Delete(fj);
		resp_release(&r);
		unlink(bad);
		free(bad);
	}

	/* a new instance is indexed as it is stored */
	char sop[65];
	snprintf(sop, sizeof(sop), "%s", uid_new());
	assert_int_equal(store(se2, sop, "--set 0018,0015=CS:KNEE --set 0020,0013=IS:9"), 0);
	snprintf(path, sizeof(path), "/v2/studies/%s/series?BodyPartExamined=KNEE", study);
	assert_int_equal(http_status("GET", path, h, NULL, 0), 200);
}

static void eqt__delete_and_operations_404(void **state)
{
	struct resp r;
	assert_int_equal(request("DELETE", "/v2/extendedquerytags/00091001", NULL, &r), 204);
	resp_release(&r);
	assert_int_equal(request("GET", "/v2/extendedquerytags/00091001", NULL, &r), 404);
	assert_string_equal(buf_str(&r.body), "The specified extended query tag with tag path 00091001 cannot be found.");
	resp_release(&r);
	const char *h[] = { "Accept: application/dicom+json", NULL };
	char path[300];
	snprintf(path, sizeof(path), "/v2/studies/%s/instances?00091001=secret-1", study);
	assert_int_equal(http_status("GET", path, h, NULL, 0), 400);
	assert_int_equal(request("GET", "/v2/operations/00000000000000000000000000000000", NULL, &r), 404);
	resp_release(&r);
	assert_int_equal(request("GET", "/v2/operations/not-a-guid", NULL, &r), 404);
	resp_release(&r);
	/* the others go too, leaving the server as it was */
	const char *rest[] = { "BodyPartExamined", "00200013", "SeriesDate" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/v2/extendedquerytags/%s", rest[i]);
		assert_int_equal(request("DELETE", path, NULL, &r), 204);
		resp_release(&r);
	}
	snprintf(path, sizeof(path), "/v2/studies/%s", study);
	request("DELETE", path, NULL, &r);
	resp_release(&r);
}

/* Stores f (v2) and answers its status. */
static long store_file(const char *f)
{
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	struct resp r;
	http_post_file("/v2/studies", h, f, &r);
	long st = r.status;
	resp_release(&r);
	return st;
}

/* Values that one stored file used to poison every later query with
 * (PostgreSQL refusing the metadata as jsonb) or every reindex (a number
 * beyond double precision): search keeps working, and so does reindexing. */
static void eqt__poisoned_values__search_and_reindex_keep_working(void **state)
{
	const char *h[] = { "Accept: application/dicom+json", NULL };
	char poisoned[65], path[300];
	struct resp r;
	struct buf body;

	snprintf(poisoned, sizeof(poisoned), "%s", uid_new());
	/* a DS of eight valid characters that overflows any double */
	char *a = make_dcm("--study %s --set 0018,0050=DS:1e999999", poisoned);
	assert_int_equal(store_file(a), 200);
	/* an LT with a NUL inside (written as X, then made NUL in the file) */
	char *b = make_dcm("--study %s --set '0008,4000=LT:abcXdef'", poisoned);
	buf_init(&body, 0);
	assert_int_equal(file_read(b, &body), 0);
	char *x = memmem(body.data, body.len, "abcXdef", 7);
	assert_non_null(x);
	x[3] = '\0';
	assert_int_equal(file_write(b, body.data, body.len), 0);
	buf_release(&body);
	assert_int_equal(store_file(b), 200);
	/* a private number of 400 digits, indexed later as FD */
	char digits[401];
	memset(digits, '9', 400);
	digits[400] = '\0';
	char *c = make_dcm("--study %s --set '0009,0010=LO:ADE POISON' --set '0009,1002=UT:%s'", poisoned, digits);
	assert_int_equal(store_file(c), 200);

	assert_int_equal(http_status("GET", "/v2/studies?limit=200", h, NULL, 0), 200);
	snprintf(path, sizeof(path), "/v2/studies?StudyInstanceUID=%s&includefield=all", poisoned);
	assert_int_equal(http_status("GET", path, h, NULL, 0), 200);
	snprintf(path, sizeof(path), "/v2/studies/%s/metadata", poisoned);
	http_do("GET", path, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), "\"Value\":[\"1e999999\"]"));
	assert_non_null(strstr(buf_str(&r.body), "\"Value\":[\"abcdef\"]"));
	resp_release(&r);

	/* the reindex over all of them finishes, the number an error of its own */
	add_tags("[{\"Path\":\"00091002\",\"VR\":\"FD\",\"PrivateCreator\":\"ADE POISON\",\"Level\":\"Instance\"}]");
	assert_int_equal(request("GET", "/v2/extendedquerytags/00091002/errors", NULL, &r), 200);
	assert_non_null(strstr(buf_str(&r.body), "Value is not a valid number."));
	resp_release(&r);
	assert_int_equal(request("DELETE", "/v2/extendedquerytags/00091002", NULL, &r), 204);
	resp_release(&r);
	delete_study(poisoned);
	const char *files[] = { a, b, c };
	for (int i = 0; i < 3; i++) {
		unlink(files[i]);
		free((char *)files[i]);
	}
}

struct search_case {
	const char *q;
	long status;
	const char *text;
};

/* Searches the study's instances on attr=each value: its status, and
 * text in the answer. */
static void searches(const char *attr, const struct search_case *cases, size_t n)
{
	const char *h[] = { "Accept: application/dicom+json", NULL };
	char path[400];
	struct resp r;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/v2/studies/%s/instances?%s=%s", study, attr, cases[i].q);
		http_do("GET", path, h, NULL, 0, &r);
		if (r.status != cases[i].status || (cases[i].text && !strstr(buf_str(&r.body), cases[i].text)))
			fail_msg("%s=%s: %ld %s", attr, cases[i].q, r.status, buf_str(&r.body));
		resp_release(&r);
	}
}

/* A DT and a TM tag: their values are refused as the service refuses
 * them (a date-time or time that is not one, a UTC offset, a range
 * backwards), and compared as times. */
static void eqt__datetime_and_time_tags__values_checked(void **state)
{
	struct resp r;
	char sop[65];
	snprintf(sop, sizeof(sop), "%s", uid_new());
	assert_int_equal(store(se1, sop, "--set 0008,002A=DT:20230105101500 --set 0008,0032=TM:101530"), 0);
	add_tags("[{\"Path\":\"AcquisitionDateTime\",\"Level\":\"Instance\"},"
		 "{\"Path\":\"AcquisitionTime\",\"Level\":\"Instance\"}]");
	const struct search_case datetimes[] = {
		{ "20230101000000-20230131000000", 200, NULL },
		{ "20230201000000-", 204, NULL },
		/* compared as times: fewer digits are the start of that minute, year */
		{ "202301051015", 200, NULL },
		{ "-202301051015", 200, NULL },
		{ "2023", 204, NULL },
		{ "2023-", 200, NULL },
		{ "20231301", 400,
		  "Invalid query: specified DateTime value '20231301' is invalid for attribute 'AcquisitionDateTime'. "
		  "DateTime should be valid and formatted as yyyyMMddHHmmss.FFFFFF where yyyy is mandatory." },
		{ "20230105101500%2B0100", 400, "is invalid for attribute 'AcquisitionDateTime'" },
		{ "20230105101500+0100", 400,
		  "Invalid query: specified DateTime value '20230105101500+0100' for attribute AcquisitionDateTime contains offset "
		  "which is not supported." },
		{ "2024-2023", 400, "The first part DateTime 2024 should be lesser than or equal to the second part DateTime 2023." },
	};
	searches("AcquisitionDateTime", datetimes, sizeof(datetimes) / sizeof(datetimes[0]));
	/* the TM tag: compared as times too, refused as ParseTime refuses */
	const struct search_case times[] = {
		{ "101530", 200, NULL },
		{ "10:15:30", 200, NULL },
		{ "1015-1016", 200, NULL },
		{ "1015", 204, NULL },
		{ "25", 400,
		  "Invalid query: specified Time value '25' is invalid for parameter 'AcquisitionTime'. Time should be valid "
		  "and formatted as HHmmss.FFFFFF where HH is mandatory." },
		{ "1100-1000", 400, "The first part time 1100 should be lesser than or equal to the second part time 1000." },
	};
	searches("AcquisitionTime", times, sizeof(times) / sizeof(times[0]));
	assert_int_equal(request("DELETE", "/v2/extendedquerytags/0008002A", NULL, &r), 204);
	resp_release(&r);
	assert_int_equal(request("DELETE", "/v2/extendedquerytags/00080032", NULL, &r), 204);
	resp_release(&r);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eqt__add_validation__400s),
		cmocka_unit_test(eqt__add__reindex_operation_succeeds),
		cmocka_unit_test(eqt__list_get_errors_patch),
		cmocka_unit_test(eqt__qido_on_tags),
		cmocka_unit_test(eqt__delete_and_operations_404),
		cmocka_unit_test(eqt__poisoned_values__search_and_reindex_keep_working),
		cmocka_unit_test(eqt__datetime_and_time_tags__values_checked),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
