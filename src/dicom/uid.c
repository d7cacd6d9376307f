#include "dicom/uid.h"

#include "common/banned.h"

bool uid_is_valid(const char *s, size_t len)
{
	while (len && s[len - 1] == ' ')
		len--;
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	return s[len - 1] != '.';
}

bool uid_is_strict(const char *s, size_t len)
{
	size_t comp = 0;

	if (!uid_is_valid(s, len))
		return false;
	while (len && s[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (comp == 0 && s[i] == '0' && i + 1 < len && s[i + 1] != '.')
			return false;
		comp++;
	}
	return comp > 0;
}

const char *uid_error_message(struct arena *a, const char *name)
{
	return arena_printf(a,
			    "Dicom element '%s' failed validation for VR 'UI': DICOM Identifier is invalid. "
			    "Value length should not exceed the maximum length of 64 characters. "
			    "Value should contain characters in '0'-'9' and '.'. "
			    "Each component must start with non-zero number.",
			    name);
}
