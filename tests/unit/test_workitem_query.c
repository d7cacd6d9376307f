/* Unit tests of the workitem search parser (src/api/workitem_query.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/workitem_query.h"
#include "bounds.h"

static struct arena a;

static int parse(const char *const *kv, struct workitem_query *q, const char **err)
{
	struct qido_param p[16] = { { NULL, NULL } };
	size_t n = 0;
	for (; kv && kv[2 * n]; n++) {
		p[n].name = kv[2 * n];
		p[n].value = kv[2 * n + 1];
	}
	*err = NULL;
	return workitem_query_parse(&a, p, n, q, err);
}

static void parse__keys__keyword_hex_and_mixed_paths(void **state)
{
	struct workitem_query q;
	const char *err;
	const char *kv[] = { "ReferencedRequestSequence.00080050",
			     "ACC",
			     "00404026.CodeValue",
			     "CLS",
			     "patientid ",
			     "",
			     "PatientName",
			     " doe ",
			     "FuzzyMatching",
			     "true",
			     "LIMIT",
			     "7",
			     "limit",
			     "500",
			     NULL };
	/* "patientid" is not a keyword (they are case-sensitive) */
	assert_int_equal(parse(kv, &q, &err), -1);
	assert_non_null(strstr(err, "AttributeId patientid is not queryable."));
	kv[4] = "PatientID";
	kv[5] = "P1";
	assert_int_equal(parse(kv, &q, &err), 0);
	assert_int_equal(q.n, 4);
	assert_string_equal(q.filters[0].column, "accession_number");
	assert_string_equal(q.filters[1].column, "station_class_code");
	assert_string_equal(q.filters[2].value, "P1");
	assert_int_equal(q.filters[3].match, WM_PN_FUZZY);
	assert_string_equal(q.filters[3].value, "doe");
	/* the first limit counts, as ASP.NET binds an int */
	assert_int_equal(q.limit, 7);
	/* results keep the required attributes and those searched for (a
	 * sequence's: the attribute inside it) */
	assert_non_null(strstr(q.returned, "{00080005,"));
	assert_non_null(strstr(q.returned, ",00080050,00080100,00100020,00100010}"));
	const char *all[] = { "PatientID", "P1", "includefield", "all", NULL };
	assert_int_equal(parse(all, &q, &err), 0);
	assert_null(q.returned);
	const char *some[] = { "includefield", "00400400,ScheduledProcedureStepModificationDateTime", NULL };
	assert_int_equal(parse(some, &q, &err), 0);
	assert_non_null(strstr(q.returned, ",00400400,00404010}"));
}

static void parse__datetime__bounds_as_dicom_dt_norm_writes_them(void **state)
{
	struct workitem_query q;
	const char *err;
	const struct {
		const char *v, *lo, *hi;
	} cases[] = {
		{ "2026", "20260101000000.000000", "20260101000000.000000" },
		{ "202612010830", "20261201083000.000000", "20261201083000.000000" },
		{ "20240229-20261201083000.5", "20240229000000.000000", "20261201083000.500000" },
		{ " 2026 - ", "20260101000000.000000", NULL },
		{ "-20261231235959.999999", NULL, "20261231235959.999999" },
		{ "20261201083000.", "20261201083000.000000", "20261201083000.000000" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *kv[] = { "00404005", cases[i].v, NULL };
		assert_int_equal(parse(kv, &q, &err), 0);
		assert_int_equal(q.filters[0].match, WM_RANGE);
		assert_bound(q.filters[0].lo, cases[i].lo);
		assert_bound(q.filters[0].hi, cases[i].hi);
	}
}

static void parse__errors__service_messages(void **state)
{
	struct workitem_query q;
	const char *err;
	const struct {
		const char *k1, *v1, *k2, *v2, *msg;
	} cases[] = {
		{ "PatientID", "a", "PatientID", "b", "Duplicate AttributeId 'PatientID'." },
		{ "PatientID", "a", "00100020", "b",
		  "attribute '00100020' has been specified more than once using different" },
		{ "PatientID", "", NULL, NULL,
		  "AttributeId 'PatientID' has empty string value that is not supported." },
		{ "Modality", "CT", NULL, NULL, "Invalid workitem query. AttributeId Modality is not queryable." },
		{ "0040A370.00080050.00080050", "x", NULL, NULL,
		  "Nested Dicom sequence tags are currently not supported." },
		{ "limit", "0", NULL, NULL, "'Limit' is invalid. The field Limit must be between 1 and 200." },
		{ "offset", "-1", NULL, NULL, "'Offset' is invalid." },
		{ "fuzzymatching", "yes", NULL, NULL, "The value 'yes' is not valid for FuzzyMatching." },
		{ "PatientName", "a\"b", "fuzzymatching", "true", "contains unsupported character '\"'." },
		{ "00404005", "20230229", NULL, NULL, "DateTime value '20230229' is invalid for attribute" },
		{ "00404005", "2026120", NULL, NULL, "DateTime value '2026120' is invalid" },
		{ "00404005", "20261201240000", NULL, NULL, "is invalid" },
		{ "00404005", "20261201 0100", NULL, NULL,
		  "DateTime value '20261201+0100' for attribute ScheduledProcedureStepStartDateTime contains offset" },
		{ "00404005", "20261201 01:00", NULL, NULL, "DateTime value '20261201+01%3A00' is invalid" },
		{ "00404005", "-", NULL, NULL, "Both parts in the range cannot be empty." },
		{ "00404005", "2027-2026", NULL, NULL,
		  "The first part DateTime 2027 should be lesser than or equal to" },
		{ "includefield", "all,PatientID", NULL, NULL, "cannot specify included fields in addition to 'all'." },
		{ "includefield", "Nope", NULL, NULL, "IncludeField has unknown attribute 'Nope'." },
		{ "PatientID", "\xff", NULL, NULL, "the value of 'PatientID' is not valid UTF-8." },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *kv[] = { cases[i].k1, cases[i].v1, cases[i].k2, cases[i].v2, NULL };
		assert_int_equal(parse(kv, &q, &err), -1);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: %s", i, err);
	}
}

int main(void)
{
	arena_init(&a);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse__keys__keyword_hex_and_mixed_paths),
		cmocka_unit_test(parse__datetime__bounds_as_dicom_dt_norm_writes_them),
		cmocka_unit_test(parse__errors__service_messages),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	arena_release(&a);
	return rc;
}
