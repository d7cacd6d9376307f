/* Unit tests of the QIDO-RS query parser (src/api/qido_query.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/qido_query.h"
#include "bounds.h"
#include "dicom/dcm.h"

static struct arena a;

static int parse(enum qido_resource res, int api, const char *const *kv, struct qido_query *q, const char **err)
{
	struct qido_param p[16] = { { NULL, NULL } };
	size_t n = 0;
	for (; kv && kv[2 * n]; n++) {
		p[n].name = kv[2 * n];
		p[n].value = kv[2 * n + 1];
	}
	*err = NULL;
	return qido_parse(&a, res, api, NULL, NULL, p, n, NULL, 0, q, err);
}

static bool has_tag(const struct qido_query *q, int level, uint32_t tag)
{
	for (size_t i = 0; i < q->ntags[level]; i++)
		if (q->tags[level][i] == tag)
			return true;
	return false;
}

static void parse__defaults__limit_100_v2_tags_sorted(void **state)
{
	struct qido_query q;
	const char *err;
	assert_int_equal(parse(QIDO_ALL_STUDIES, 2, NULL, &q, &err), 0);
	assert_int_equal(q.limit, 100);
	assert_int_equal(q.offset, 0);
	assert_int_equal(q.levels, QIDO_LEVEL_STUDY);
	assert_int_equal(q.ntags[0], 8);
	for (size_t i = 1; i < q.ntags[0]; i++)
		assert_true(q.tags[0][i - 1] < q.tags[0][i]);
	assert_false(has_tag(&q, 0, 0x00080030));
	assert_int_equal(parse(QIDO_ALL_STUDIES, 1, NULL, &q, &err), 0);
	assert_true(has_tag(&q, 0, 0x00080030));
}

static void parse__filters__kinds_by_vr(void **state)
{
	struct qido_query q;
	const char *err;
	const char *kv[] = { "PatientName", "doe", "StudyDate", "20200101-", "0020000D", " 1.2.3 ", "fuzzymatching", "TRUE",
			     NULL };
	assert_int_equal(parse(QIDO_ALL_INSTANCES, 2, kv, &q, &err), 0);
	assert_int_equal(q.nfilters, 3);
	assert_int_equal(q.filters[0].match, QIDO_PN_FUZZY);
	assert_int_equal(q.filters[1].match, QIDO_RANGE);
	assert_string_equal(q.filters[1].lo, "20200101");
	assert_null(q.filters[1].hi);
	assert_int_equal(q.filters[2].match, QIDO_EXACT);
	assert_string_equal(q.filters[2].value, "1.2.3"); /* trimmed */
	assert_true(q.fuzzy);
	/* filtered attributes are returned */
	assert_true(has_tag(&q, 0, 0x00100010));
}

static void parse__level_rules__not_queryable(void **state)
{
	struct qido_query q;
	const char *err;
	const char *kv[] = { "Modality", "CT", NULL };
	assert_int_equal(parse(QIDO_ALL_STUDIES, 2, kv, &q, &err), -1);
	assert_non_null(strstr(err, "AttributeId Modality is not queryable"));
	assert_int_equal(parse(QIDO_ALL_SERIES, 2, kv, &q, &err), 0);
	const char *kv2[] = { "PatientID", "1", NULL };
	assert_int_equal(parse(QIDO_STUDY_SERIES, 2, kv2, &q, &err), -1);
}

static void parse__includefield__computed_and_all(void **state)
{
	struct qido_query q;
	const char *err;
	const char *kv[] = { "includefield", "NumberOfStudyRelatedInstances, ModalitiesInStudy", "includefield", "00280010",
			     NULL };
	assert_int_equal(parse(QIDO_ALL_STUDIES, 2, kv, &q, &err), 0);
	assert_true(q.computed_study_instances);
	assert_true(q.computed_modalities);
	assert_true(has_tag(&q, 0, 0x00280010));
	const char *all[] = { "includefield", "all", NULL };
	assert_int_equal(parse(QIDO_ALL_SERIES, 2, all, &q, &err), 0);
	assert_true(has_tag(&q, 1, 0x00200011)); /* SeriesNumber */
	/* all is the service's AllSeriesTags: computed attributes only when named */
	assert_false(q.computed_series_instances);
	assert_false(q.computed_study_instances);
	const char *mix[] = { "includefield", "all", "includefield", "Rows", NULL };
	assert_int_equal(parse(QIDO_ALL_SERIES, 2, mix, &q, &err), -1);
}

static void parse__errors__service_messages(void **state)
{
	struct qido_query q;
	const char *err;
	struct {
		const char *k, *v, *msg;
	} cases[] = {
		{ "limit", "0", "The field Limit must be between 1 and 200." },
		{ "LIMIT", "x", "The value 'x' is not valid for Limit." },
		{ "offset", "-3", "The field Offset must be between 0 and" },
		{ "StudyDate", "2020", "Date should be valid and formatted as yyyyMMdd." },
		{ "StudyDate", "20200230", "Date should be valid" },
		{ "StudyDate", "20200301-20200201", "should be lesser than or equal to the second part date" },
		{ "PatientBirthDate", "-", "Both parts in the range cannot be empty." },
		{ "Nonsense", "1", "unknown query parameter 'Nonsense'" },
		{ "StudyDescription", "", "has empty string value that is not supported." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *kv[] = { cases[i].k, cases[i].v, NULL };
		assert_int_equal(parse(QIDO_ALL_STUDIES, 2, kv, &q, &err), -1);
		assert_non_null(strstr(err, cases[i].msg));
	}
}

static void parse__bindings__first_value_counts(void **state)
{
	struct qido_query q;
	const char *err;
	const char *kv[] = { "limit", "7", "LIMIT", "500", "offset", "3", "offset", "x", "FuzzyMatching", "true",
			     "fuzzymatching", "maybe", NULL };
	assert_int_equal(parse(QIDO_ALL_STUDIES, 2, kv, &q, &err), 0);
	assert_int_equal(q.limit, 7);
	assert_int_equal(q.offset, 3);
	assert_true(q.fuzzy);
	const char *bad[] = { "limit", "500", "limit", "7", NULL };
	assert_int_equal(parse(QIDO_ALL_STUDIES, 2, bad, &q, &err), -1);
}

/* One search of an extended query tag: refused with a message containing
 * msg, or (msg NULL) parsed into q. Returns whether it was refused. */
static bool parse_eqt(const struct qido_eqt *eqt, const char *name, const char *value, const char *msg,
		      struct qido_query *q, size_t i)
{
	struct qido_param p = { name, value };
	const char *err = NULL;
	int rc = qido_parse(&a, QIDO_ALL_INSTANCES, 2, NULL, NULL, &p, 1, eqt, 1, q, &err);
	if (msg ? rc != -1 || !strstr(err, msg) : rc != 0)
		fail_msg("case %zu: %d %s", i, rc, err ? err : "");
	return msg != NULL;
}

static void parse__eqt_datetime__refused_as_the_service(void **state)
{
	struct qido_eqt eqt = { 0x0008002A, 7, QIDO_LEVEL_INSTANCE, "DT", true, false };
	struct qido_query q;
	const struct {
		const char *v, *msg;
	} cases[] = {
		{ "20260101-20261231", NULL },
		{ "2026", NULL },
		{ "20261301", "DateTime value '20261301' is invalid for attribute 'AcquisitionDateTime'." },
		{ "20261201 0100", "DateTime value '20261201+0100' for attribute AcquisitionDateTime contains offset" },
		{ "2027-2026", "The first part DateTime 2027 should be lesser than or equal to the second part DateTime 2026." },
		{ "-", "Both parts in the range cannot be empty." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_eqt(&eqt, "AcquisitionDateTime", cases[i].v, cases[i].msg, &q, i);
}

static void parse__eqt_time__refused_and_bounds_as_times(void **state)
{
	struct qido_eqt eqt = { 0x00080032, 8, QIDO_LEVEL_INSTANCE, "TM", true, false };
	struct qido_query q;
	const struct {
		const char *v, *lo, *hi, *msg;
	} cases[] = {
		{ "1015", "101500.000000", "101500.000000", NULL },
		{ "10:15:30.25", "101530.250000", "101530.250000", NULL },
		{ "10.15", "101500.000000", "101500.000000", NULL },
		{ "1015301-", "101530.100000", NULL, NULL },
		{ "-23", NULL, "230000.000000", NULL },
		{ "25", NULL, NULL,
		  "Invalid query: specified Time value '25' is invalid for parameter 'AcquisitionTime'. Time should be "
		  "valid and formatted as HHmmss.FFFFFF where HH is mandatory." },
		{ "101", NULL, NULL, "Time value '101' is invalid" },
		{ "10:15.30", NULL, NULL, "Time value '10:15.30' is invalid" },
		{ "1200-1100", NULL, NULL,
		  "The first part time 1200 should be lesser than or equal to the second part time 1100." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse_eqt(&eqt, "AcquisitionTime", cases[i].v, cases[i].msg, &q, i))
			continue;
		assert_int_equal(q.filters[0].match, QIDO_RANGE);
		assert_bound(q.filters[0].lo, cases[i].lo);
		assert_bound(q.filters[0].hi, cases[i].hi);
	}
}

static void parse__fuzzy__double_quote_refused(void **state)
{
	struct qido_query q;
	const char *err;
	const char *kv[] = { "PatientName", "a\"b", "fuzzymatching", "true", NULL };
	assert_int_equal(parse(QIDO_ALL_STUDIES, 2, kv, &q, &err), -1);
	assert_string_equal(err, "Invalid query: specified tag 'PatientName' value 'a\"b' contains unsupported character "
				 "'\"'. Character is not supported with Fuzzy match, try exact match or removing the invalid "
				 "character. ");
	kv[3] = "false";
	assert_int_equal(parse(QIDO_ALL_STUDIES, 2, kv, &q, &err), 0);
	assert_int_equal(q.filters[0].match, QIDO_PN);
}

/* Keywords to tags through the dictionary's index (src/dicom/dcm_file.cc):
 * exact, case and all; the first entry of a keyword in tag order; VRs as
 * the bridge names them. */
static void keyword__tags__as_the_dictionary(void **state)
{
	(void)state;
	static const struct {
		const char *keyword;
		uint32_t tag;
		const char *vr;
	} known[] = {
		{ "PatientName", 0x00100010, "PN" },	    { "StudyInstanceUID", 0x0020000D, "UI" },
		{ "Modality", 0x00080060, "CS" },	    { "ReferencedSeriesSequence", 0x00081115, "SQ" },
		{ "PixelData", 0x7FE00010, "OW" },	    { "LargestImagePixelValue", 0x00280107, "US" },
		{ "ItemDelimitationItem", 0xFFFEE00D, "UN" }, { "OverlayRows", 0x60000010, "US" },
		/* one of the 128 curve groups' entries: the first */
		{ "CurveData", 0x50003000, "OW" },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint32_t tag = 0;
		char vr[3] = "";
		assert_int_equal(dcm_keyword_tag(known[i].keyword, &tag, vr), 0);
		assert_int_equal(tag, known[i].tag);
		assert_string_equal(vr, known[i].vr);
	}
	static const char *const unknown[] = { "", "patientname", "PATIENTNAME", "PatientName ", "PatientNam",
					       "NoSuchKeyword", "limit", "00100010" };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		uint32_t tag = 0;
		assert_int_equal(dcm_keyword_tag(unknown[i], &tag, NULL), -1);
	}
	uint32_t tag = 0;
	bool hex = false;
	assert_int_equal(dcm_parse_tag("00100010", &tag, &hex), 0);
	assert_true(hex);
	assert_int_equal(tag, 0x00100010);
	assert_int_equal(dcm_parse_tag("PatientID", &tag, &hex), 0);
	assert_false(hex);
	assert_int_equal(tag, 0x00100020);
}

int main(void)
{
	arena_init(&a);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse__defaults__limit_100_v2_tags_sorted),
		cmocka_unit_test(parse__filters__kinds_by_vr),
		cmocka_unit_test(parse__level_rules__not_queryable),
		cmocka_unit_test(parse__includefield__computed_and_all),
		cmocka_unit_test(parse__errors__service_messages),
		cmocka_unit_test(parse__fuzzy__double_quote_refused),
		cmocka_unit_test(parse__bindings__first_value_counts),
		cmocka_unit_test(parse__eqt_datetime__refused_as_the_service),
		cmocka_unit_test(parse__eqt_time__refused_and_bounds_as_times),
		cmocka_unit_test(keyword__tags__as_the_dictionary),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	arena_release(&a);
	return rc;
}
