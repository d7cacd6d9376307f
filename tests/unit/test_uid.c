/* Unit tests of UID and value validation (src/dicom/uid.c, validate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dicom/uid.h"
#include "dicom/validate.h"

static void uid_is_valid__service_rule(void **state)
{
	assert_true(uid_is_valid("1.2.3", 5));
	assert_true(uid_is_valid("1.2.3  ", 7)); /* trailing spaces ignored */
	assert_true(uid_is_valid("1.02.3", 6));  /* the service does not check leading zeros */
	assert_false(uid_is_valid("1.2.", 4));
	assert_false(uid_is_valid("", 0));
	assert_false(uid_is_valid("1.2.a", 5));
	assert_false(uid_is_valid("../etc", 6));
	char longuid[66];
	memset(longuid, '1', 65);
	longuid[65] = '\0';
	assert_false(uid_is_valid(longuid, 65));
	assert_true(uid_is_valid(longuid, 64));
}

static void uid_is_strict__ps35_grammar(void **state)
{
	assert_true(uid_is_strict("1.2.840.10008.1.2.1", 19));
	assert_true(uid_is_strict("1.0.3", 5));
	assert_false(uid_is_strict("1.02.3", 6));
	assert_false(uid_is_strict("1..3", 4));
	assert_false(uid_is_strict(".1", 2));
}

static void validate_value__by_vr(void **state)
{
	assert_null(validate_value("DA", "20240131", 8));
	assert_non_null(validate_value("DA", "2024013", 7));
	assert_non_null(validate_value("DA", "20241301", 8));
	assert_string_equal(validate_value("DA", "NotAValidDate", 13),
			    "one of the date values does not match the pattern YYYYMMDD");
	assert_null(validate_value("TM", "101112.123", 10));
	assert_null(validate_value("TM", "10", 2));
	assert_non_null(validate_value("TM", "1011121", 7));
	assert_null(validate_value("DT", "20240131101112.5+0100", 21));
	assert_non_null(validate_value("DT", "2024x", 5));
	assert_null(validate_value("CS", "ORIGINAL", 8));
	assert_non_null(validate_value("CS", "lower", 5));
	assert_non_null(validate_value("SH", "12345678901234567", 17));
	assert_null(validate_value("IS", "-12", 3));
	assert_non_null(validate_value("IS", "1.5", 3));
	assert_null(validate_value("DS", "1.5e3", 5));
	assert_non_null(validate_value("DS", "abc", 3));
	assert_null(validate_value("PN", "Doe^John^^^", 11));
	assert_non_null(validate_value("PN", "a^b^c^d^e^f", 11));
	assert_non_null(validate_value("LO", "a\nb", 3));
	assert_null(validate_value("AS", "045Y", 4));
	assert_non_null(validate_value("AS", "45Y", 3));
	assert_non_null(validate_value("UI", "1.2.x", 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uid_is_valid__service_rule),
		cmocka_unit_test(uid_is_strict__ps35_grammar),
		cmocka_unit_test(validate_value__by_vr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
