/* End-to-end: the places where the emulator answered differently from the
 * service's own code (microsoft/dicom-server, the archived branch), each
 * asserted to the status and the exact body. Where a text comes from a
 * resource file, the key is named beside it. */
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

static int setup(void **state)
{
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	snprintf(sop, sizeof(sop), "%s", uid_new());
	return store_made("--study %s --series %s --sop %s --frames 2 --rows 4 --cols 4", study, series, sop);
}

static int teardown(void **state)
{
	delete_study(study);
	return 0;
}

/* One request: its status and, when body is not NULL, its whole body. */
static void expect(const char *method, const char *path, const char *const *headers, const void *req_body,
		   size_t req_len, long status, const char *body)
{
	struct resp r;
	assert_int_equal(http_do(method, path, headers, req_body, req_len, &r), 0);
	if (r.status != status || (body && strcmp(buf_str(&r.body), body)))
		fprintf(stderr, "%s %s: %ld '%.300s'\n", method, path, r.status, buf_str(&r.body));
	assert_int_equal(r.status, status);
	if (body)
		assert_string_equal(buf_str(&r.body), body);
	resp_release(&r);
}

static void get(const char *path, const char *accept, long status, const char *body)
{
	char h[256];
	snprintf(h, sizeof(h), "Accept: %s", accept);
	const char *hs[] = { h, NULL };
	expect("GET", path, accept ? hs : NULL, NULL, 0, status, body);
}

/* 1: the media type of multipart/related is its type parameter; without
 * one nothing matches (MediaTypeHeaderValueExtensions.ToAcceptHeader). */
static void accept__multipart_without_type__406(void **state)
{
	char p[512];
	snprintf(p, sizeof(p), "/v2/studies/%s", study);
	get(p, "multipart/related", 406, NULL);
	get(p, "multipart/related; transfer-syntax=*", 406, NULL);
	get(p, "multipart/related; type=\"application/dicom\"; transfer-syntax=*", 200, NULL);
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s/instances/%s/frames/1", study, series, sop);
	get(p, "multipart/related", 406, NULL);
}

/* 2: a single-part body or a part must be application/dicom exactly
 * (DicomCoreResource UnsupportedContentType). */
static void stow__content_type_with_parameters__415(void **state)
{
	char *file = make_dcm("--study %s", uid_new());
	struct buf dcm, body;
	buf_init(&dcm, 0);
	buf_init(&body, 0);
	assert_int_equal(file_read(file, &dcm), 0);
	const char *single[] = { "Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1",
				 "Accept: application/dicom+json", NULL };
	expect("POST", "/v2/studies", single, dcm.data, dcm.len, 415,
	       "The specified content type 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1' is not supported.");
	buf_addf(&body, "--b\r\nContent-Type: application/dicom;transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n");
	buf_add(&body, dcm.data, dcm.len);
	buf_adds(&body, "\r\n--b--\r\n");
	const char *multi[] = { "Content-Type: multipart/related; type=\"application/dicom\"; boundary=b",
				"Accept: application/dicom+json", NULL };
	expect("POST", "/v2/studies", multi, body.data, body.len, 415,
	       "The specified content type 'application/dicom;transfer-syntax=1.2.840.10008.1.2.1' is not supported.");
	unlink(file);
	free(file);
	buf_release(&dcm);
	buf_release(&body);
}

/* 2: the type parameter is the first part's type when it has none; a
 * part that says application/dicom is taken whatever the root says
 * (AspNetCoreMultipartReader). */
static void stow__root_type_parameter(void **state)
{
	char *file = make_dcm("--study %s", uid_new());
	struct buf dcm, body;
	buf_init(&dcm, 0);
	buf_init(&body, 0);
	assert_int_equal(file_read(file, &dcm), 0);
	/* the first part has no Content-Type: the root's type=application/json is its */
	buf_adds(&body, "--b\r\n\r\n");
	buf_add(&body, dcm.data, dcm.len);
	buf_adds(&body, "\r\n--b--\r\n");
	const char *json_root[] = { "Content-Type: multipart/related; type=\"application/json\"; boundary=b",
				    "Accept: application/dicom+json", NULL };
	expect("POST", "/v2/studies", json_root, body.data, body.len, 415,
	       "The specified content type 'application/json' is not supported.");
	/* the part says application/dicom: stored */
	buf_reset(&body);
	buf_adds(&body, "--b\r\nContent-Type: application/dicom\r\n\r\n");
	buf_add(&body, dcm.data, dcm.len);
	buf_adds(&body, "\r\n--b--\r\n");
	expect("POST", "/v2/studies", json_root, body.data, body.len, 200, NULL);
	unlink(file);
	free(file);
	buf_release(&dcm);
	buf_release(&body);
}

/* 5: what .NET sends for a MultipartContent with no parts
 * (E2E GivenAMultipartRequestWithNoContent_...ShouldReturnNoContent). */
static void stow__multipart_without_parts__204(void **state)
{
	const char body[] = "--b\r\n\r\n--b--\r\n";
	const char *h[] = { "Content-Type: multipart/related; type=\"application/dicom\"; boundary=b",
			    "Accept: application/dicom+json", NULL };
	expect("POST", "/v2/studies", h, body, sizeof(body) - 1, 204, "");
}

/* 6 and 10: includefield and query parameters as model binding and the
 * query parser word them. */
static void qido__parameter_messages(void **state)
{
	static const struct {
		const char *path, *body;
	} cases[] = {
		{ "/v2/studies?includefield=", "Invalid query: IncludeField has unknown attribute ''." },
		{ "/v2/studies?includefield=PatientName,", "Invalid query: IncludeField has unknown attribute ''." },
		{ "/v2/studies?a.b=x", "Dicom element 'a.b' failed validation for VR 'SQ': Sequential dicom tags are currently "
				       "not supported." },
		{ "/v2/studies?includefield=PatientName.PatientID", "Dicom element 'PatientName.PatientID' failed validation for "
								    "VR 'SQ': Sequential dicom tags are currently not supported." },
		{ "/v2/studies?offset=-1", "The query parameter 'Offset' is invalid. The field Offset must be between 0 and "
					   "9.223372036854776E+18." },
		{ "/v2/studies?limit=", "The query parameter 'Limit' is invalid. The value '' is invalid." },
		{ "/v2/studies?limit=99999999999", "The query parameter 'Limit' is invalid. The value '99999999999' is not valid "
						   "for Limit." },
		{ "/v1/changefeed?limit=0", "The query parameter 'limit' is invalid. The field limit must be between 1 and 100." },
		{ "/v1/changefeed?offset=x", "The query parameter 'offset' is invalid. The value 'x' is not valid for offset." },
		{ "/v2/changefeed?includeMetadata=", "The query parameter 'includeMetadata' is invalid. The value '' is invalid." },
		{ "/v2/changefeed?startTime=yesterday", "The query parameter 'StartTime' is invalid. The value 'yesterday' is not "
							"valid." },
		{ "/v2/changefeed?endTime=2024-01-01T00:00:00", "The query parameter 'EndTime' is invalid. Date and time value "
								"must specify a time zone." },
		/* 11: DicomCoreResource InvalidRangeValues and InvalidDateRangeValue, line breaks included */
		{ "/v2/studies?StudyDate=-", "Invalid query: specified range is invalid.\nBoth parts in the range cannot be "
					     "empty.\nFor details on valid range queries, please refer to Search Matching section "
					     "in Conformance Statement (https://github.com/microsoft/dicom-server/blob/main/docs/"
					     "resources/conformance-statement.md#search-matching)." },
		{ "/v2/studies?StudyDate=20230201-20230101", "Invalid query: specified date range '20230201-20230101' is "
							     "invalid.\nThe first part date 20230201 should be lesser than "
							     "or equal to the second part date 20230101." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		get(cases[i].path, "application/dicom+json", 400, cases[i].body);
}

/* 10: frames are Int32s as NumberStyles.Any reads them. */
static void frames__list_parsing(void **state)
{
	char p[512];
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s/instances/%s/frames/1,a", study, series, sop);
	get(p, "multipart/related; type=\"application/octet-stream\"", 400,
	    "The query parameter 'frames' is invalid. Unable to parse value 'a' as Int32.");
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s/instances/%s/frames/1.0,2", study, series, sop);
	get(p, "multipart/related; type=\"application/octet-stream\"", 200, NULL);
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s/instances/%s/frames/0", study, series, sop);
	get(p, "multipart/related; type=\"application/octet-stream\"", 400,
	    "The specified frames value is not valid. At least one frame must be present, and all requested frames must "
	    "have value greater than 0.");
}

/* 7: If-None-Match is the plain string, case-insensitive
 * (RetrieveMetadataService.IsCacheValid). */
static void metadata__if_none_match_plain(void **state)
{
	char p[512], etag[80], h[128];
	struct resp r;
	const char *json[] = { "Accept: application/dicom+json", NULL };
	snprintf(p, sizeof(p), "/v2/studies/%s/metadata", study);
	http_do("GET", p, json, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(resp_header(&r, "ETag", etag, sizeof(etag)));
	resp_release(&r);
	snprintf(h, sizeof(h), "If-None-Match: %s", etag);
	const char *plain[] = { h, json[0], NULL };
	expect("GET", p, plain, NULL, 0, 304, "");
	snprintf(h, sizeof(h), "If-None-Match: \"%s\"", etag);
	const char *quoted[] = { h, json[0], NULL };
	http_do("GET", p, quoted, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.body.len > 10);
	resp_release(&r);
}

/* 9: not found, named by the level asked for. */
static void not_found__by_requested_level(void **state)
{
	char p[512];
	const char *missing = "1.2.3.4.5.6.7.8.9";
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s/instances/%s", missing, missing, missing);
	get(p, "application/dicom; transfer-syntax=*", 404, "The specified instance cannot be found.");
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s/instances/%s/metadata", missing, missing, missing);
	get(p, "application/dicom+json", 404, "The specified instance cannot be found.");
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s", missing, missing);
	get(p, "multipart/related; type=\"application/dicom\"; transfer-syntax=*", 404,
	    "The specified series cannot be found.");
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s/instances/%s", study, series, missing);
	expect("DELETE", p, NULL, NULL, 0, 404, "The specified instance cannot be found.");
	snprintf(p, sizeof(p), "/v2/studies/%s/series/%s", missing, missing);
	expect("DELETE", p, NULL, NULL, 0, 404, "The specified series cannot be found.");
	/* ExtendedQueryTagNotFound names the tag's path, also when asked by keyword */
	get("/v2/extendedquerytags/ManufacturerModelName", "application/json", 404,
	    "The specified extended query tag with tag path 00081090 cannot be found.");
	/* an operation that does not exist: NotFound(), no body */
	get("/v2/operations/0123456789abcdef0123456789abcdef", "application/json", 404, "");
}

/* 11: each multipart answer has a boundary of its own. */
static void retrieve__fresh_boundary_per_answer(void **state)
{
	char p[512], ct1[256], ct2[256];
	struct resp r;
	const char *h[] = { "Accept: multipart/related; type=\"application/dicom\"; transfer-syntax=*", NULL };
	snprintf(p, sizeof(p), "/v2/studies/%s", study);
	http_do("GET", p, h, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(resp_header(&r, "Content-Type", ct1, sizeof(ct1)));
	const char *parts[4];
	size_t lens[4];
	assert_int_equal(multipart_split(&r, parts, lens, 4, NULL), 1);
	resp_release(&r);
	http_do("GET", p, h, NULL, 0, &r);
	assert_non_null(resp_header(&r, "Content-Type", ct2, sizeof(ct2)));
	assert_int_equal(multipart_split(&r, parts, lens, 4, NULL), 1);
	resp_release(&r);
	assert_string_not_equal(ct1, ct2);
}

/* The FailedAttributesSequence texts of an answer's first referenced
 * instance (warnings) or first failed one, joined by '|'. */
static void comments(const struct resp *r, const char *seq, struct buf *out)
{
	cJSON *j = resp_json(r);
	const cJSON *item = cJSON_GetArrayItem(dj_seq(j, seq), 0);
	const cJSON *c = dj_seq(item, "00741048");
	for (int i = 0; i < cJSON_GetArraySize(c); i++)
		buf_addf(out, "%s|", dj_str(cJSON_GetArrayItem(c, i), "00000902"));
	cJSON_Delete(j);
}

/* 4: v2 checks value multiplicity as fo-dicom's element validation does:
 * a warning, the attribute dropped; no multiple-values Warning header
 * (that is for the required attributes). */
static void stow__v2_value_multiplicity__warned_and_dropped(void **state)
{
	char *f = make_dcm("--study %s --set '0008,0060=CS:CT\\MR' --set 0028,0030=DS:0.5 --set 0008,0008=CS:ORIGINAL",
			   uid_new());
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	struct resp r;
	struct buf c;
	char warning[256];

	assert_non_null(f);
	assert_int_equal(http_post_file("/v2/studies", h, f, &r), 0);
	assert_int_equal(r.status, 202);
	assert_null(resp_header(&r, "Warning", warning, sizeof(warning)));
	cJSON *j = resp_json(&r);
	const cJSON *item = cJSON_GetArrayItem(dj_seq(j, "00081199"), 0);
	assert_int_equal(dj_int(item, "00081196", 0), 1);
	char *url = strdup(dj_str(item, "00081190"));
	cJSON_Delete(j);
	buf_init(&c, 0);
	comments(&r, "00081199", &c);
	assert_string_equal(buf_str(&c),
			    "DICOM100: (0008,0008) - Content \"(0008,0008) CS Image Type\" does not validate VR CS: Number of "
			    "items 1 does not match ValueMultiplicity 2-n|"
			    "DICOM100: (0008,0060) - Content \"(0008,0060) CS Modality\" does not validate VR CS: Number of "
			    "items 2 does not match ValueMultiplicity 1|"
			    "DICOM100: (0028,0030) - Content \"(0028,0030) DS Pixel Spacing\" does not validate VR DS: Number "
			    "of items 1 does not match ValueMultiplicity 2|");
	buf_release(&c);
	resp_release(&r);
	char path[512];
	const char *json[] = { "Accept: application/dicom+json", NULL };
	snprintf(path, sizeof(path), "%s/metadata", url + strlen(e2e_base()));
	http_do("GET", path, json, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	j = resp_json(&r);
	const cJSON *m = cJSON_GetArrayItem(j, 0);
	assert_null(cJSON_GetObjectItem(m, "00080060"));
	assert_null(cJSON_GetObjectItem(m, "00280030"));
	assert_null(cJSON_GetObjectItem(m, "00080008"));
	assert_non_null(cJSON_GetObjectItem(m, "00100010"));
	cJSON_Delete(j);
	resp_release(&r);
	free(url);
	unlink(f);
	free(f);
}

/* 8: v1 judges the indexed attributes with the minimum validator and its
 * words (ElementMinimumValidator, DicomCoreResource). */
static void stow__v1_minimum_validator_texts(void **state)
{
	static const struct {
		const char *set, *text;
	} cases[] = {
		{ "0010,0020=LO:0123456789012345678901234567890123456789012345678901234567890123456789",
		  "DICOM100: (0010,0020) - Dicom element 'PatientID' failed validation for VR 'LO': Value length exceeds "
		  "maximum length of 64." },
		{ "0008,0020=DA:20241345", "DICOM100: (0008,0020) - Dicom element 'StudyDate' failed validation for VR 'DA': "
					   "Value cannot be parsed as a valid date." },
		{ "0008,0050=SH:ACCESSION-NUMBER-17", "DICOM100: (0008,0050) - Dicom element 'AccessionNumber' failed validation "
						      "for VR 'SH': Value length exceeds maximum length of 16." },
		{ "0010,0010=PN:a=b=c=d", "DICOM100: (0010,0010) - Dicom element 'PatientName' failed validation for VR 'PN': "
					  "Value contains more than 3 groups." },
	};
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *f = make_dcm("--study %s --set '%s'", uid_new(), cases[i].set);
		struct resp r;
		struct buf c;
		assert_non_null(f);
		assert_int_equal(http_post_file("/v1/studies", h, f, &r), 0);
		assert_int_equal(r.status, 409);
		buf_init(&c, 0);
		comments(&r, "00081198", &c);
		buf_addch(&c, '\0');
		if (strncmp(buf_str(&c), cases[i].text, strlen(cases[i].text)))
			fprintf(stderr, "%s: %s\n", cases[i].set, buf_str(&c));
		assert_int_equal(strncmp(buf_str(&c), cases[i].text, strlen(cases[i].text)), 0);
		buf_release(&c);
		resp_release(&r);
		unlink(f);
		free(f);
	}
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accept__multipart_without_type__406),
		cmocka_unit_test(stow__content_type_with_parameters__415),
		cmocka_unit_test(stow__root_type_parameter),
		cmocka_unit_test(stow__multipart_without_parts__204),
		cmocka_unit_test(qido__parameter_messages),
		cmocka_unit_test(frames__list_parsing),
		cmocka_unit_test(metadata__if_none_match_plain),
		cmocka_unit_test(not_found__by_requested_level),
		cmocka_unit_test(retrieve__fresh_boundary_per_answer),
		cmocka_unit_test(stow__v2_value_multiplicity__warned_and_dropped),
		cmocka_unit_test(stow__v1_minimum_validator_texts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
