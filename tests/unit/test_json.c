/* Unit tests of the buffer and JSON string writer (src/common/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

static void json_str__escapes_and_utf8(void **state)
{
	struct buf b;
	buf_init(&b, 0);
	buf_add_json_str(&b, "a\"b\\c\nd\x01", 8);
	assert_string_equal(buf_str(&b), "\"a\\\"b\\\\c\\nd\\u0001\"");
	buf_reset(&b);
	buf_add_json_str(&b, "M\xc3\xbcller", 7); /* valid UTF-8 kept */
	assert_string_equal(buf_str(&b), "\"M\xc3\xbcller\"");
	buf_reset(&b);
	buf_add_json_str(&b, "M\xfcller", 6); /* Latin-1 turned into UTF-8 */
	assert_string_equal(buf_str(&b), "\"M\xc3\xbcller\"");
	buf_release(&b);
}

static void buf__cap__refuses_growth(void **state)
{
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345678"), 0);
	assert_int_equal(buf_addch(&b, '9'), -1);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_str(&b), "12345678");
	size_t n;
	char *s = buf_detach(&b, &n);
	assert_int_equal(n, 8);
	assert_string_equal(s, "12345678");
	assert_int_equal(b.len, 0);
	free(s);
	buf_release(&b);
}

static void buf__printf__appends(void **state)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	assert_int_equal(strncmp(buf_str(&b), "0,1,2,", 6), 0);
	assert_int_equal(b.data[b.len], '\0');
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_str__escapes_and_utf8),
		cmocka_unit_test(buf__cap__refuses_growth),
		cmocka_unit_test(buf__printf__appends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
