/* Unit tests of Accept negotiation (src/http/accept.c, azure-api.md §2.3, §4.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
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

static void check(int rc, const struct accept_choice *c, int want_rc, bool multipart, const char *ts)
{
	assert_int_equal(rc, want_rc);
	if (rc == 0) {
		assert_int_equal(c->multipart, multipart);
		assert_string_equal(c->ts, ts);
	}
}

/* as the service: transcoding "azure" */
static void negotiate(const char *h, enum accept_resource res, int want_rc, bool multipart, const char *ts)
{
	struct arena a;
	struct accept_choice c;
	arena_init(&a);
	check(accept_negotiate_retrieve(&a, h, res, false, &c), &c, want_rc, multipart, ts);
	arena_release(&a);
}

/* transcoding "all" */
static void negotiate_all(const char *h, enum accept_resource res, int want_rc, bool multipart, const char *ts)
{
	struct arena a;
	struct accept_choice c;
	arena_init(&a);
	check(accept_negotiate_retrieve(&a, h, res, true, &c), &c, want_rc, multipart, ts);
	arena_release(&a);
}

static void frames(const char *h, bool all, int want_rc, bool multipart, const char *media, const char *ts)
{
	struct arena a;
	struct accept_choice c;
	arena_init(&a);
	int rc = accept_negotiate_frames(&a, h, all, &c);
	check(rc, &c, want_rc, multipart, ts);
	if (rc == 0)
		assert_string_equal(c.media, media);
	arena_release(&a);
}

static void retrieve__study_and_instance_rules(void **state)
{
	negotiate(NULL, ACCEPT_STUDY, -1, false, NULL);
	negotiate("multipart/related; type=\"application/dicom\"", ACCEPT_STUDY, 0, true, TS_EXPLICIT_LE);
	negotiate("multipart/related; type=application/dicom; transfer-syntax=*", ACCEPT_STUDY, 0, true, "*");
	negotiate("*/*", ACCEPT_STUDY, 0, true, "*");
	/* no type: the service takes the media type from it, and matches nothing */
	negotiate("multipart/related", ACCEPT_STUDY, -1, false, NULL);
	negotiate("multipart/related; transfer-syntax=*", ACCEPT_INSTANCE, -1, false, NULL);
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

static void retrieve__transcoding_all_offers_more_targets(void **state)
{
	const char *more[] = { "1.2.840.10008.1.2", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50",
			       "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
			       "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91" };
	char h[160];
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		snprintf(h, sizeof(h), "application/dicom; transfer-syntax=%s", more[i]);
		negotiate(h, ACCEPT_INSTANCE, -1, false, NULL);
		negotiate_all(h, ACCEPT_INSTANCE, 0, false, more[i]);
	}
	/* read, never written: big endian, deflate; and what GDCM cannot write */
	negotiate_all("application/dicom; transfer-syntax=1.2.840.10008.1.2.2", ACCEPT_INSTANCE, -1, false, NULL);
	negotiate_all("application/dicom; transfer-syntax=1.2.840.10008.1.2.1.99", ACCEPT_INSTANCE, -1, false, NULL);
	negotiate_all("application/dicom; transfer-syntax=1.2.840.10008.1.2.4.100", ACCEPT_INSTANCE, -1, false, NULL);
	/* the service's own rules still hold */
	negotiate_all("application/dicom", ACCEPT_STUDY, -1, false, NULL);
	negotiate_all("*/*", ACCEPT_SERIES, 0, true, "*");
}

static void frames__media_types(void **state)
{
	const char *jp2 = "image/jp2";
	frames("application/octet-stream", false, 0, false, "application/octet-stream", TS_EXPLICIT_LE);
	frames("*/*", false, 0, true, "application/octet-stream", "*");
	frames("multipart/related; type=image/jp2", false, 0, true, jp2, TS_JPEG2000_LOSSLESS);
	frames("image/jp2", false, -1, false, NULL, NULL);
	frames("multipart/related; type=image/jp2; transfer-syntax=1.2.840.10008.1.2.4.91", false, -1, false, NULL, NULL);
	frames("multipart/related; type=image/jpeg", false, -1, false, NULL, NULL);
	frames("multipart/related", false, -1, false, NULL, NULL);
	/* transcoding "all": PS3.18's compressed frame types, single part too */
	frames("image/jp2", true, 0, false, jp2, TS_JPEG2000_LOSSLESS);
	frames("multipart/related; type=image/jp2; transfer-syntax=1.2.840.10008.1.2.4.91", true, 0, true, jp2,
	       "1.2.840.10008.1.2.4.91");
	frames("image/jpeg", true, 0, false, "image/jpeg", "1.2.840.10008.1.2.4.50");
	frames("image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.70", true, 0, false, "image/jpeg", "1.2.840.10008.1.2.4.70");
	frames("image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.80", true, -1, false, NULL, NULL);
	frames("multipart/related; type=\"image/jls\"", true, 0, true, "image/jls", "1.2.840.10008.1.2.4.80");
	frames("image/dicom-rle", true, 0, false, "image/dicom-rle", "1.2.840.10008.1.2.5");
	frames("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5", true, -1, false, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dicom_json_filter__service_cases),
		cmocka_unit_test(retrieve__study_and_instance_rules),
		cmocka_unit_test(retrieve__transcoding_all_offers_more_targets),
		cmocka_unit_test(frames__media_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
