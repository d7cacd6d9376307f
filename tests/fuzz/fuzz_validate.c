/* libFuzzer: the service's value rules (dicom/validate.c, validate_value)
 * on any bytes, for each VR they know: a bulk update's values come from a
 * client's JSON as they are, and a stored file's from its elements. The
 * first byte picks the VR; the rest is the value (not NUL-terminated, as
 * the checks must not read past len). */
#include "dicom/validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const vrs[] = { "AE", "AS", "AT", "CS", "DA", "DS", "DT", "IS", "LO", "PN",
				   "SH", "SS", "SV", "TM", "UI", "UN", "LT", "UT", "OB", "US" };

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!n)
		return 0;
	const char *vr = vrs[d[0] % (sizeof(vrs) / sizeof(vrs[0]))];
	/* a copy of exactly the value's bytes, so that ASan sees a read past it */
	char *value = malloc(n - 1 ? n - 1 : 1);
	memcpy(value, d + 1, n - 1);
	validate_value(vr, value, n - 1);
	free(value);
	return 0;
}
