/* End-to-end: QIDO-RS against the running stack (§5). */
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

/* Study A: "Müller^Jürgen", 2023-01-15, series A1 (CT, 2 instances) and A2
 * (MR, 1); study B: "Doe^John", 2023-02-20, series B1 (CT, 1), stored last.
 * Both have the patient id pid, unique to this run. */
static char pid[40], sa[65], sb[65], a1[65], a2[65], b1[65], sop_a1[65];

static int store(const char *study, const char *series, const char *sop, const char *name, const char *date,
		 const char *modality)
{
	return store_made("--study %s --series %s --sop %s --set '0008,0005=CS:ISO_IR 192' --set '0010,0010=PN:%s' "
			  "--set 0010,0020=LO:%s --set 0008,0020=DA:%s --set 0008,0060=CS:%s",
			  study, series, sop, name, pid, date, modality);
}

static int setup(void **state)
{
	snprintf(pid, sizeof(pid), "QP%s", uid_new() + 5);
	snprintf(sa, sizeof(sa), "%s", uid_new());
	snprintf(sb, sizeof(sb), "%s", uid_new());
	snprintf(a1, sizeof(a1), "%s", uid_new());
	snprintf(a2, sizeof(a2), "%s", uid_new());
	snprintf(b1, sizeof(b1), "%s", uid_new());
	snprintf(sop_a1, sizeof(sop_a1), "%s", uid_new());
	if (store(sa, a1, sop_a1, "Müller^Jürgen", "20230115", "CT") || store(sa, a1, uid_new(), "Müller^Jürgen", "20230115", "CT") ||
	    store(sa, a2, uid_new(), "Müller^Jürgen", "20230115", "MR") || store(sb, b1, uid_new(), "Doe^John", "20230220", "CT"))
		return -1;
	return 0;
}

/* GET with the DICOM JSON Accept; returns the parsed array (NULL for 204). */
static cJSON *query(const char *fmt, long want, ...) __attribute__((format(printf, 1, 0)));
static cJSON *query(const char *fmt, long want, ...)
{
	char path[1024];
	va_list ap;
	struct resp r;
	const char *h[] = { "Accept: application/dicom+json", NULL };

	va_start(ap, want);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	http_do("GET", path, h, NULL, 0, &r);
	if (r.status != want)
		fprintf(stderr, "GET %s: %ld %s\n", path, r.status, buf_str(&r.body));
	assert_int_equal(r.status, want);
	cJSON *j = want == 200 ? resp_json(&r) : NULL;
	if (want == 204)
		assert_int_equal(r.body.len, 0);
	resp_release(&r);
	return j;
}

static void qido__studies_by_patient_id__newest_first_v2_defaults(void **state)
{
	cJSON *j = query("/v2/studies?PatientID=%s", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sb);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 1), "0020000D"), sa);
	const cJSON *a = cJSON_GetArrayItem(j, 1);
	/* v2 defaults, and nothing of v1's longer list */
	const char *want[] = { "00080020", "00080050", "00080090", "00081030", "00100010", "00100020", "00100030", "0020000D" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(cJSON_GetObjectItem(a, want[i]));
	assert_null(cJSON_GetObjectItem(a, "00080030"));
	assert_null(cJSON_GetObjectItem(a, "00100040"));
	assert_null(cJSON_GetObjectItem(a, "7FE00010"));
	const cJSON *pn = cJSON_GetArrayItem(dj_seq(a, "00100010"), 0);
	assert_string_equal(cJSON_GetObjectItem(pn, "Alphabetic")->valuestring, "Müller^Jürgen");
	cJSON_Delete(j);

	/* v1 returns its own defaults: StudyTime and PatientSex among them */
	j = query("/v1/studies?PatientID=%s&limit=1", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "00080030"));
	assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "00100040"));
	cJSON_Delete(j);

	/* the hex form of the attribute id */
	j = query("/v2/studies?00100020=%s", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
}

static void qido__person_names__exact_and_fuzzy(void **state)
{
	/* exact: case and accents do not matter */
	cJSON *j = query("/v2/studies?PatientID=%s&PatientName=muller%%5Ejurgen", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sa);
	cJSON_Delete(j);
	query("/v2/studies?PatientID=%s&PatientName=muller", 204, pid);
	/* fuzzy: a prefix of any name part */
	j = query("/v2/studies?PatientID=%s&PatientName=jur&fuzzymatching=true", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
	j = query("/v2/studies?PatientID=%s&PatientName=jo%%20do&FuzzyMatching=true", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sb);
	cJSON_Delete(j);
	query("/v2/studies?PatientID=%s&PatientName=ohn&fuzzymatching=true", 204, pid);
}

/* Fuzzy matching finds its candidates through a LIKE pattern on a trigram
 * index: the query's LIKE metacharacters are plain characters, and every
 * word of the query still has to start a word of the name. */
static void qido__fuzzy_names__like_characters_are_plain(void **state)
{
	char p2[48], s1[65], s2[65];
	snprintf(p2, sizeof(p2), "QF%s", uid_new() + 5);
	snprintf(s1, sizeof(s1), "%s", uid_new());
	snprintf(s2, sizeof(s2), "%s", uid_new());
	const char *fmt = "--study %s --series %s.1 --sop %s.1.1 --set '0010,0010=PN:%s' --set 0010,0020=LO:%s";
	assert_int_equal(store_made(fmt, s1, s1, s1, "O_Brien^Ann 100%", p2), 0);
	assert_int_equal(store_made(fmt, s2, s2, s2, "OxBrien^Ann 1000", p2), 0);
	struct {
		const char *q;
		int n;
		const char *first;
	} cases[] = {
		{ "o_b", 1, s1 },        { "100%25", 1, s1 },      { "ann", 2, NULL },   { "ann%5Eo_", 1, s1 },
		{ "ann%20oxb", 1, s2 },  { "o%25", 0, NULL },      { "b", 0, NULL },     { "ann%20zz", 0, NULL },
		{ "%5E%5Eoxb", 1, s2 },  { "1000%20ANN", 1, s2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = query("/v2/studies?PatientID=%s&PatientName=%s&fuzzymatching=true", cases[i].n ? 200 : 204, p2,
				 cases[i].q);
		if (!cases[i].n)
			continue;
		assert_int_equal(cJSON_GetArraySize(j), cases[i].n);
		if (cases[i].first)
			assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), cases[i].first);
		cJSON_Delete(j);
	}
}

static void qido__date_ranges(void **state)
{
	cJSON *j = query("/v2/studies?PatientID=%s&StudyDate=20230101-20230131", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sa);
	cJSON_Delete(j);
	j = query("/v2/studies?PatientID=%s&StudyDate=20230201-", 200, pid);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sb);
	cJSON_Delete(j);
	j = query("/v2/studies?PatientID=%s&StudyDate=-20230131", 200, pid);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sa);
	cJSON_Delete(j);
	j = query("/v2/studies?PatientID=%s&StudyDate=20230220", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
}

static void qido__computed_attributes(void **state)
{
	cJSON *j = query("/v2/studies?PatientID=%s&ModalitiesInStudy=MR&includefield=NumberOfStudyRelatedInstances", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	const cJSON *s = cJSON_GetArrayItem(j, 0);
	assert_string_equal(dj_str(s, "0020000D"), sa);
	assert_int_equal(dj_int(s, "00201208", 0), 3);
	const cJSON *mods = dj_seq(s, "00080061");
	assert_int_equal(cJSON_GetArraySize(mods), 2);
	assert_string_equal(cJSON_GetArrayItem(mods, 0)->valuestring, "CT");
	assert_string_equal(cJSON_GetArrayItem(mods, 1)->valuestring, "MR");
	cJSON_Delete(j);
	j = query("/v2/studies/%s/series?includefield=NumberOfSeriesRelatedInstances&Modality=CT", 200, sa);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000E"), a1);
	assert_int_equal(dj_int(cJSON_GetArrayItem(j, 0), "00201209", 0), 2);
	/* study-level attributes are not part of /studies/{s}/series answers */
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "00100010"));
	cJSON_Delete(j);
}

static void qido__series_and_instances_levels(void **state)
{
	cJSON *j = query("/v2/series?PatientID=%s&Modality=CT", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	/* all-series answers carry the study's attributes too */
	assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "00100020"));
	assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "00080060"));
	cJSON_Delete(j);
	/* the path's UIDs are filters, returned in every result (E2E
	 * GivenSearchRequestWith2Instances_StudySeriesLevel_MatchResult) */
	j = query("/v2/studies/%s/series", 200, sa);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	for (int k = 0; k < 2; k++) {
		assert_string_equal(dj_str(cJSON_GetArrayItem(j, k), "0020000D"), sa);
		assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, k), "00100020")); /* no other study attribute */
	}
	cJSON_Delete(j);
	j = query("/v2/studies/%s/instances", 200, sa);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	for (int k = 0; k < 3; k++)
		assert_string_equal(dj_str(cJSON_GetArrayItem(j, k), "0020000D"), sa);
	cJSON_Delete(j);
	j = query("/v2/studies/%s/series/%s/instances", 200, sa, a1);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	for (int k = 0; k < 2; k++) {
		const cJSON *i0 = cJSON_GetArrayItem(j, k);
		assert_non_null(cJSON_GetObjectItem(i0, "00080018"));
		assert_string_equal(dj_str(i0, "0020000D"), sa);
		assert_string_equal(dj_str(i0, "0020000E"), a1);
		assert_null(cJSON_GetObjectItem(i0, "00080060")); /* no other series attribute */
	}
	cJSON_Delete(j);
	j = query("/v2/instances?SOPInstanceUID=%s", 200, sop_a1);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000E"), a1);
	cJSON_Delete(j);
	query("/v2/studies/%s/series/%s/instances", 204, sa, b1);
}

static void qido__paging__limit_offset(void **state)
{
	cJSON *j = query("/v2/studies?PatientID=%s&limit=1", 200, pid);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sb);
	cJSON_Delete(j);
	j = query("/v2/studies?PatientID=%s&limit=1&offset=1", 200, pid);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), sa);
	cJSON_Delete(j);
	query("/v2/studies?PatientID=%s&offset=2", 204, pid);
}

static void qido__includefield__named_and_all(void **state)
{
	cJSON *j = query("/v2/studies?PatientID=%s&includefield=00080030&includefield=PatientSex,Rows", 200, pid);
	const cJSON *s = cJSON_GetArrayItem(j, 0);
	assert_non_null(cJSON_GetObjectItem(s, "00080030"));
	assert_non_null(cJSON_GetObjectItem(s, "00100040"));
	cJSON_Delete(j);
	/* all is the service's AllStudyTags: computed attributes only when named */
	j = query("/v2/studies?PatientID=%s&includefield=all", 200, pid);
	s = cJSON_GetArrayItem(j, 0);
	assert_non_null(cJSON_GetObjectItem(s, "00080030"));
	assert_null(cJSON_GetObjectItem(s, "00201208"));
	assert_null(cJSON_GetObjectItem(s, "00080061"));
	cJSON_Delete(j);
	j = query("/v2/series?PatientID=%s&includefield=all", 200, pid);
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "00201209"));
	cJSON_Delete(j);
	j = query("/v2/studies?PatientID=%s&includefield=NumberOfStudyRelatedInstances,ModalitiesInStudy", 200, pid);
	s = cJSON_GetArrayItem(j, 0);
	assert_non_null(cJSON_GetObjectItem(s, "00201208"));
	assert_non_null(cJSON_GetObjectItem(s, "00080061"));
	cJSON_Delete(j);
}

static void qido__bad_queries__400_and_406(void **state)
{
	struct {
		const char *path, *text;
	} cases[] = {
		{ "/v2/studies?Modality=CT", "Invalid query: AttributeId Modality is not queryable.  If the parameter is an "
					     "attribute keyword, check the casing as they are case-sensitive." },
		{ "/v2/studies?patientid=1", "Invalid query: unknown query parameter 'patientid'." },
		{ "/v2/studies?PatientID=1&PatientID=2", "Invalid QIDO-RS query. Duplicate AttributeId 'PatientID'." },
		{ "/v2/studies?PatientID=1&00100020=2", "has been specified more than once using different ID formats" },
		{ "/v2/studies?PatientID=", "Invalid query: AttributeId 'PatientID' has empty string value that is not supported." },
		{ "/v2/studies?includefield=all,PatientSex", "Invalid query: cannot specify included fields in addition to 'all'." },
		{ "/v2/studies?includefield=NoSuchKeyword", "Invalid query: IncludeField has unknown attribute 'NoSuchKeyword'." },
		{ "/v2/studies?StudyDate=2023-01-01", "Invalid query: specified Date value '2023-01-01' is invalid for attribute "
						      "'StudyDate'. Date should be valid and formatted as yyyyMMdd." },
		{ "/v2/studies?StudyDate=20230201-20230101", "Invalid query: specified date range '20230201-20230101' is invalid.\n"
							     "The first part date 20230201 should be lesser than or equal to the "
							     "second part date 20230101." },
		{ "/v2/studies?StudyDate=-", "Both parts in the range cannot be empty." },
		{ "/v2/studies?limit=0", "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200." },
		{ "/v2/studies?limit=201", "The field Limit must be between 1 and 200." },
		{ "/v2/studies?offset=-1", "The query parameter 'Offset' is invalid." },
		{ "/v2/studies?fuzzymatching=maybe", "The query parameter 'FuzzyMatching' is invalid." },
		{ "/v2/studies?PatientName=%3Cscript%3E", "The query string included invalid characters." },
		{ "/v2/studies?PatientName=%C3%28", "Invalid query: the value of 'PatientName' is not valid UTF-8." },
		{ "/v2/studies?PatientID=%E9&fuzzymatching=true", "Invalid query: the value of 'PatientID' is not valid UTF-8." },
		{ "/v2/instances?SOPInstanceUID=%ED%A0%80", "Invalid query: the value of 'SOPInstanceUID' is not valid UTF-8." },
		{ "/v2/studies/1.2.3.x/series", "Dicom element 'StudyInstanceUid' failed validation for VR 'UI'" },
		{ "/v2/studies/1.2.3/series?SOPInstanceUID=1.2", "Invalid query: AttributeId SOPInstanceUID is not queryable." },
	};
	const char *h[] = { "Accept: application/dicom+json", NULL };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r;
		http_do("GET", cases[i].path, h, NULL, 0, &r);
		if (r.status != 400 || !strstr(buf_str(&r.body), cases[i].text))
			fprintf(stderr, "%s: %ld %s\n", cases[i].path, r.status, buf_str(&r.body));
		assert_int_equal(r.status, 400);
		assert_non_null(strstr(buf_str(&r.body), cases[i].text));
		resp_release(&r);
	}
	const char *bad[] = { "Accept: application/dicom", NULL };
	assert_int_equal(http_status("GET", "/v2/studies", bad, NULL, 0), 406);
}

/* Stores a made file; returns the status. */
static long store_status(const char *args)
{
	char *f = make_dcm("%s", args);
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	struct resp r = { 0 };
	assert_non_null(f);
	assert_int_equal(http_post_file("/v2/studies", h, f, &r), 0);
	long st = r.status;
	resp_release(&r);
	unlink(f);
	free(f);
	return st;
}

/* Study and series attributes follow the latest instance that has a value
 * for them: an instance without PatientID keeps the study's (E2E
 * GivenStoringMultipleInstanceInStudy_WhenInitialInstanceHasNullPatientId_...) */
static void qido__latest_value_wins__empty_does_not_clear(void **state)
{
	char study[65], pid[40], args[512];
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(pid, sizeof(pid), "LW-%d", (int)getpid());

	snprintf(args, sizeof(args), "--study %s --set 0010,0020=LO: --drop 0010,0010", study);
	assert_int_equal(store_status(args), 202);
	cJSON *j = query("/v2/studies?StudyInstanceUID=%s", 200, study);
	assert_null(dj_str(cJSON_GetArrayItem(j, 0), "00100020"));
	cJSON_Delete(j);
	snprintf(args, sizeof(args), "--study %s --set 0010,0020=LO:%s --set 0010,0010=PN:Kept^Name --set 0008,0060=CS:MR",
		 study, pid);
	assert_int_equal(store_status(args), 200);
	j = query("/v2/studies?StudyInstanceUID=%s", 200, study);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "00100020"), pid);
	cJSON_Delete(j);
	/* a third instance, newest, without PatientID nor PatientName */
	snprintf(args, sizeof(args), "--study %s --set 0010,0020=LO: --drop 0010,0010", study);
	assert_int_equal(store_status(args), 202);
	j = query("/v2/studies?StudyInstanceUID=%s", 200, study);
	const cJSON *s0 = cJSON_GetArrayItem(j, 0);
	assert_string_equal(dj_str(s0, "00100020"), pid);
	const cJSON *pn = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s0, "00100010"), "Value"), 0);
	assert_string_equal(cJSON_GetObjectItem(pn, "Alphabetic")->valuestring, "Kept^Name");
	cJSON_Delete(j);
	/* and searched by them */
	j = query("/v2/studies?PatientID=%s&PatientName=Kept^Name", 200, pid);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), study);
	cJSON_Delete(j);
	/* instance metadata stays each instance's own */
	j = query("/v2/studies/%s/instances?includefield=00100020", 200, study);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	cJSON_Delete(j);
	delete_study(study);
}

/* Pages list studies and series newest first by when they were made, as
 * the service does (SqlQueryGenerator: ORDER BY StudyKey / SeriesKey
 * DESC), not by their latest instance: one more instance in an older
 * study or series does not move it ahead. */
static void qido__order__by_creation_not_latest_instance(void **state)
{
	char p[40], s1[65], s2[65], se1[65], se2[65];
	snprintf(p, sizeof(p), "OR%s", uid_new() + 5);
	snprintf(s1, sizeof(s1), "%s", uid_new());
	snprintf(s2, sizeof(s2), "%s", uid_new());
	snprintf(se1, sizeof(se1), "%s", uid_new());
	snprintf(se2, sizeof(se2), "%s", uid_new());
	const char *fmt = "--study %s --series %s --sop %s --set 0010,0020=LO:%s";
	assert_int_equal(store_made(fmt, s1, se1, uid_new(), p), 0);
	assert_int_equal(store_made(fmt, s1, se2, uid_new(), p), 0);
	assert_int_equal(store_made(fmt, s2, uid_new(), uid_new(), p), 0);
	/* the newest instances go into the older study and its older series */
	assert_int_equal(store_made(fmt, s1, se1, uid_new(), p), 0);

	cJSON *j = query("/v2/studies?PatientID=%s", 200, p);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000D"), s2);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 1), "0020000D"), s1);
	cJSON_Delete(j);
	j = query("/v2/studies/%s/series", 200, s1);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000E"), se2);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 1), "0020000E"), se1);
	cJSON_Delete(j);
	/* instances: newest first by watermark */
	j = query("/v2/studies/%s/instances", 200, s1);
	assert_int_equal(cJSON_GetArraySize(j), 3);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 0), "0020000E"), se1);
	assert_string_equal(dj_str(cJSON_GetArrayItem(j, 1), "0020000E"), se2);
	cJSON_Delete(j);
	delete_study(s1);
	delete_study(s2);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qido__studies_by_patient_id__newest_first_v2_defaults),
		cmocka_unit_test(qido__person_names__exact_and_fuzzy),
		cmocka_unit_test(qido__fuzzy_names__like_characters_are_plain),
		cmocka_unit_test(qido__date_ranges),
		cmocka_unit_test(qido__computed_attributes),
		cmocka_unit_test(qido__series_and_instances_levels),
		cmocka_unit_test(qido__paging__limit_offset),
		cmocka_unit_test(qido__includefield__named_and_all),
		cmocka_unit_test(qido__bad_queries__400_and_406),
		cmocka_unit_test(qido__latest_value_wins__empty_does_not_clear),
		cmocka_unit_test(qido__order__by_creation_not_latest_instance),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
