/* Unit tests of the reading of a request's DICOM JSON as fo-dicom 5.1.2
 * reads it (src/api/json_read.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_read.h"

/* json_read_dataset of the dataset text; what is left of it, printed, into
 * left (may be NULL). */
static enum json_read read_text(const char *text, char *left, size_t n)
{
	cJSON *ds = cJSON_Parse(text);
	assert_non_null(ds);
	enum json_read r = json_read_dataset(ds);
	if (left) {
		char *p = cJSON_PrintUnformatted(ds);
		snprintf(left, n, "%s", p);
		free(p);
	}
	cJSON_Delete(ds);
	return r;
}

/* The verdict on one element of VR vr whose Value is values (JSON). */
static enum json_read one(const char *vr, const char *values)
{
	char text[512];
	snprintf(text, sizeof(text), "{\"00091001\":{\"vr\":\"%s\",\"Value\":%s}}", vr, values);
	return read_text(text, NULL, 0);
}

static void numbers__as_dotnet_parses_them(void **state)
{
	(void)state;
	/* IS: int32, as a number or a string of NumberStyles.Integer */
	assert_int_equal(one("IS", "[7, \" +7 \", \"-2147483648\", 2147483647]"), JSON_READ_OK);
	assert_int_equal(one("IS", "[\"2147483648\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("IS", "[\"7.0\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("IS", "[\"1e3\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("IS", "[1.5]"), JSON_READ_MALFORMED);
	assert_int_equal(one("IS", "[\"\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("IS", "[\"7x\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("IS", "[\"NaN\"]"), JSON_READ_MALFORMED);
	/* DS: System.Decimal, NumberStyles.Float */
	assert_int_equal(one("DS", "[1.75, \"1.5e3\", \" -.5 \", \"7.\"]"), JSON_READ_OK);
	assert_int_equal(one("DS", "[\"1e30\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("DS", "[\"tall\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("DS", "[\"1,5\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("DS", "[\"e3\"]"), JSON_READ_MALFORMED);
	/* the binary number VRs: JSON numbers in range only (NaN for floats) */
	assert_int_equal(one("US", "[0, 65535]"), JSON_READ_OK);
	assert_int_equal(one("US", "[65536]"), JSON_READ_MALFORMED);
	assert_int_equal(one("US", "[-1]"), JSON_READ_MALFORMED);
	assert_int_equal(one("US", "[\"7\"]"), JSON_READ_MALFORMED);
	assert_int_equal(one("SS", "[-32768]"), JSON_READ_OK);
	assert_int_equal(one("SS", "[-32769]"), JSON_READ_MALFORMED);
	assert_int_equal(one("FD", "[1.5, \"NaN\"]"), JSON_READ_OK);
	assert_int_equal(one("FL", "[1e39]"), JSON_READ_MALFORMED);
	assert_int_equal(one("UV", "[\"18446744073709551615\"]"), JSON_READ_OK);
}

static void strings_of_numbers__kept_as_numbers(void **state)
{
	(void)state;
	char left[512];
	assert_int_equal(read_text("{\"00081160\":{\"vr\":\"IS\",\"Value\":[\" 7\",8]},"
				   "\"00101020\":{\"vr\":\"DS\",\"Value\":[\"1.5e3\"]}}",
				   left, sizeof(left)),
			 JSON_READ_OK);
	assert_string_equal(left, "{\"00081160\":{\"vr\":\"IS\",\"Value\":[7,8]},"
				  "\"00101020\":{\"vr\":\"DS\",\"Value\":[1500]}}");
}

static void text__strings_kept_st_first_lt_one(void **state)
{
	(void)state;
	char left[512];
	assert_int_equal(read_text("{\"00080080\":{\"vr\":\"LO\",\"Value\":[12,\"Hospital\",true,null]},"
				   "\"00080081\":{\"vr\":\"ST\",\"Value\":[\"first\",\"second\"]},"
				   "\"00104000\":{\"vr\":\"LT\",\"Value\":[\"one\"]}}",
				   left, sizeof(left)),
			 JSON_READ_OK);
	assert_string_equal(left, "{\"00080080\":{\"vr\":\"LO\",\"Value\":[\"Hospital\",null]},"
				  "\"00080081\":{\"vr\":\"ST\",\"Value\":[\"first\"]},"
				  "\"00104000\":{\"vr\":\"LT\",\"Value\":[\"one\"]}}");
	const char *single[] = { "LT", "UT", "UR", "UC" };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(one(single[i], "[\"a\",\"b\"]"), JSON_READ_MANY_TEXT);
		/* the numbers are skipped first: one string left */
		assert_int_equal(one(single[i], "[\"a\",2]"), JSON_READ_OK);
	}
	/* names are objects: fo-dicom loops for ever on a string */
	assert_int_equal(one("PN", "[{\"Alphabetic\":\"A\"},null,{\"Alphabetic\":\"B\"}]"), JSON_READ_OK);
	assert_int_equal(one("PN", "[\"Doe^John\"]"), JSON_READ_MALFORMED);
	/* and groups of white space are left out of the name */
	assert_int_equal(read_text("{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"A\","
				   "\"Ideographic\":\" \",\"Phonetic\":\"P\"}]}}",
				   left, sizeof(left)),
			 JSON_READ_OK);
	assert_string_equal(left, "{\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"A\",\"Phonetic\":\"P\"}]}}");
	/* VRs that are not text are left alone */
	assert_int_equal(one("OB", "[1,2]"), JSON_READ_OK);
}

static void sequences__items_read_in_order(void **state)
{
	(void)state;
	char left[512];
	assert_int_equal(read_text("{\"00081140\":{\"vr\":\"SQ\",\"Value\":[{\"00080081\":{\"vr\":\"ST\",\"Value\":[\"a\",\"b\"]}},"
				   "{\"00104000\":{\"vr\":\"UT\",\"Value\":[\"x\",\"y\"]}}]}}",
				   left, sizeof(left)),
			 JSON_READ_MANY_TEXT);
	/* the first element the reader refuses decides */
	assert_int_equal(read_text("{\"00081160\":{\"vr\":\"IS\",\"Value\":[\"x\"]},"
				   "\"00104000\":{\"vr\":\"LT\",\"Value\":[\"a\",\"b\"]}}",
				   NULL, 0),
			 JSON_READ_MALFORMED);
	assert_int_equal(read_text("{\"00104000\":{\"vr\":\"LT\",\"Value\":[\"a\",\"b\"]},"
				   "\"00081160\":{\"vr\":\"IS\",\"Value\":[\"x\"]}}",
				   NULL, 0),
			 JSON_READ_MANY_TEXT);
	/* an item's ST cut too */
	assert_int_equal(read_text("{\"00081140\":{\"vr\":\"SQ\",\"Value\":[{\"00080081\":{\"vr\":\"ST\",\"Value\":[\"a\",\"b\"]}}]}}",
				   left, sizeof(left)),
			 JSON_READ_OK);
	assert_string_equal(left, "{\"00081140\":{\"vr\":\"SQ\",\"Value\":[{\"00080081\":{\"vr\":\"ST\",\"Value\":[\"a\"]}}]}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers__as_dotnet_parses_them),
		cmocka_unit_test(strings_of_numbers__kept_as_numbers),
		cmocka_unit_test(text__strings_kept_st_first_lt_one),
		cmocka_unit_test(sequences__items_read_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
