/* Unit tests of Accept negotiation (src/http/accept.c, azure-api.md §2.3, §4.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/accept.h"

static void dicom_json_filter__service_cases(void **state)
{
	assert_false(accept_allows_dicom_json(NULL));
	assert_false(accept_allows_dicom_json(""));
	assert_true(accept_allows_dicom_json("*/*"));
	assert_true(accept_allows_dicom_json("application/*"));
	assert_true(accept_allows_dicom_json("application/json"));
	assert_true(accept_allows_dicom_json("Application/DICOM+JSON; charset=utf-8"));
	assert_true(accept_allows_dicom_json("text/html, application/dicom+json;q=0.5"));
	assert_false(accept_allows_dicom_json("application/dicom"));
	assert_false(accept_allows_dicom_json("application/dicom+json+something"));
}

static void negotiate(const char *h, enum accept_resource res, int want_rc, bool multipart, const char *ts)
{
	struct arena a;
	struct accept_choice c;
	arena_init(&a);
	int rc = accept_negotiate_retrieve(&a, h, res, &c);
	assert_int_equal(rc, want_rc);
	if (rc == 0) {
		assert_int_equal(c.multipart, multipart);
		assert_string_equal(c.ts, ts);
	}
	arena_release(&a);
}

static void retrieve__study_and_instance_rules(void **state)
{
	negotiate(NULL, ACCEPT_STUDY, -1, false, NULL);
	negotiate("multipart/related; type=\"application/dicom\"", ACCEPT_STUDY, 0, true, TS_EXPLICIT_LE);
	negotiate("multipart/related; type=application/dicom; transfer-syntax=*", ACCEPT_STUDY, 0, true, "*");
	negotiate("*/*", ACCEPT_STUDY, 0, true, "*");
	negotiate("application/dicom", ACCEPT_STUDY, -1, false, NULL);
	negotiate("application/dicom", ACCEPT_INSTANCE, 0, false, TS_EXPLICIT_LE);
	negotiate("application/dicom; transfer-syntax=\"1.2.840.10008.1.2.4.90\"", ACCEPT_INSTANCE, 0, false,
		  TS_JPEG2000_LOSSLESS);
	negotiate("application/dicom; transfer-syntax=1.2.840.10008.1.2.4.100", ACCEPT_INSTANCE, -1, false, NULL);
	negotiate("application/octet-stream", ACCEPT_INSTANCE, -1, false, NULL);
	/* q order, and the original syntax wins a tie */
	negotiate("application/dicom;q=0.5, multipart/related; type=\"application/dicom\"; transfer-syntax=*;q=0.9",
		  ACCEPT_INSTANCE, 0, true, "*");
	negotiate("application/dicom, multipart/related; type=\"application/dicom\"; transfer-syntax=*", ACCEPT_INSTANCE,
		  0, true, "*");
	negotiate("image/png, application/dicom; transfer-syntax=*", ACCEPT_INSTANCE, 0, false, "*");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dicom_json_filter__service_cases),
		cmocka_unit_test(retrieve__study_and_instance_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
