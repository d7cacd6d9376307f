/* A range filter's bounds as a test expects them: each the text given, or
 * none (NULL) for an open end. Include after cmocka.h. */
#ifndef ADE_TEST_BOUNDS_H
#define ADE_TEST_BOUNDS_H

#define assert_bound(got, want)                   \
	do {                                      \
		if (want)                         \
			assert_string_equal(got, want); \
		else                              \
			assert_null(got);         \
	} while (0)

#endif
