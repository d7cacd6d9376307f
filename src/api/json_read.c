/* fo-dicom 5.1.2's reading of a request's DICOM JSON (JsonDicomConverter:
 * ReadJsonDicomItem, ReadJsonMultiString, ReadJsonMultiNumber,
 * ReadJsonMultiNumberOrString, CreateDicomItem), as far as it changes what
 * the service keeps or refuses. */
#include "api/json_read.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* Whether vr is one of the space-separated VRs of list. */
static bool vr_is(const char *vr, const char *list)
{
	if (strlen(vr) != 2)
		return false;
	for (const char *p = list; (p = strstr(p, vr)); p += 2)
		if ((p == list || p[-1] == ' ') && (p[2] == ' ' || !p[2]))
			return true;
	return false;
}

static bool dotnet_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* .NET's TryParse with NumberStyles.Integer (spaces around, a sign, digits)
 * of s within lo..hi (integral); with NumberStyles.Float (a point and an
 * exponent too) when fraction, within -hi..hi. */
static bool dotnet_parses(const char *s, bool fraction, double lo, double hi)
{
	const char *p = s;
	while (dotnet_space(*p))
		p++;
	const char *start = p;
	if (*p == '+' || *p == '-')
		p++;
	size_t digits = strspn(p, "0123456789");
	p += digits;
	if (fraction && *p == '.') {
		size_t more = strspn(p + 1, "0123456789");
		digits += more;
		p += 1 + more;
	}
	if (!digits)
		return false;
	if (fraction && (*p == 'e' || *p == 'E')) {
		const char *q = p + 1;
		if (*q == '+' || *q == '-')
			q++;
		size_t exp = strspn(q, "0123456789");
		if (!exp)
			return false;
		p = q + exp;
	}
	const char *end = p;
	while (dotnet_space(*p))
		p++;
	if (*p)
		return false;
	char num[512];
	size_t n = (size_t)(end - start);
	if (n >= sizeof(num))
		return false;
	memcpy(num, start, n);
	num[n] = '\0';
	double v = strtod(num, NULL);
	return fraction ? fabs(v) <= hi : v >= lo && v <= hi;
}

/* The range of a number VR's values; whether it is one. */
static bool number_vr(const char *vr, double *lo, double *hi, bool *integral, bool *strings)
{
	static const struct {
		const char *vr;
		double lo, hi;
		bool integral, strings;
	} vrs[] = {
		{ "FL", -FLT_MAX, FLT_MAX, false, false },
		{ "FD", -DBL_MAX, DBL_MAX, false, false },
		{ "SS", INT16_MIN, INT16_MAX, true, false },
		{ "US", 0, UINT16_MAX, true, false },
		{ "SL", INT32_MIN, INT32_MAX, true, false },
		{ "UL", 0, UINT32_MAX, true, false },
		{ "IS", INT32_MIN, INT32_MAX, true, true },
		{ "SV", -9223372036854775808.0, 9223372036854775807.0, true, true },
		{ "UV", 0, 18446744073709551615.0, true, true },
		/* System.Decimal */
		{ "DS", -79228162514264337593543950335.0, 79228162514264337593543950335.0, false, true },
	};
	for (size_t i = 0; i < sizeof(vrs) / sizeof(vrs[0]); i++) {
		if (strcmp(vr, vrs[i].vr))
			continue;
		*lo = vrs[i].lo;
		*hi = vrs[i].hi;
		*integral = vrs[i].integral;
		*strings = vrs[i].strings;
		return true;
	}
	return false;
}

/* A person name's component groups of nothing but white space go, as
 * fo-dicom leaves them out of the name it makes (IsNullOrWhiteSpace). */
static void drop_blank_groups(cJSON *name)
{
	static const char *const groups[] = { "Alphabetic", "Ideographic", "Phonetic" };
	for (size_t i = 0; i < 3; i++) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(name, groups[i]);
		if (!cJSON_IsString(g))
			continue;
		const char *p = g->valuestring;
		while (dotnet_space(*p))
			p++;
		if (!*p)
			cJSON_DeleteItemFromObjectCaseSensitive(name, groups[i]);
	}
}

/* One element's values (its VR vr) read as fo-dicom reads them. */
static enum json_read read_values(const char *vr, cJSON *values)
{
	double lo, hi;
	bool integral, strings;
	cJSON *v, *next;

	if (number_vr(vr, &lo, &hi, &integral, &strings)) {
		for (v = values->child; v; v = next) {
			next = v->next;
			if (cJSON_IsNumber(v)) {
				double d = v->valuedouble;
				if (d < lo || d > hi || (integral && floor(d) != d))
					return JSON_READ_MALFORMED;
			} else if (cJSON_IsString(v) && !strcmp(v->valuestring, "NaN") && !strings) {
				continue; /* FL, FD: float.NaN (for the others a cast that fails) */
			} else if (!strings || !cJSON_IsString(v) || !dotnet_parses(v->valuestring, !integral, lo, hi)) {
				return JSON_READ_MALFORMED;
			} else { /* kept as the number it parses to, which is how it comes back */
				cJSON_ReplaceItemViaPointer(values, v, cJSON_CreateNumber(strtod(v->valuestring, NULL)));
			}
		}
		return JSON_READ_OK;
	}
	if (!strcmp(vr, "PN")) {
		/* names are objects (or null): fo-dicom 5.1.2 never gets past
		 * anything else (its loop over the values does not move on), so
		 * the service never answers such a body; refused here instead */
		cJSON_ArrayForEach(v, values)
		{
			if (!cJSON_IsObject(v) && !cJSON_IsNull(v))
				return JSON_READ_MALFORMED;
			drop_blank_groups(v);
		}
		return JSON_READ_OK;
	}
	if (!strcmp(vr, "SQ") || vr_is(vr, "OB OD OF OL OV OW UN"))
		return JSON_READ_OK;
	/* the text VRs: strings (and nulls) kept, anything else skipped */
	for (v = values->child; v; v = next) {
		next = v->next;
		if (!cJSON_IsString(v) && !cJSON_IsNull(v))
			cJSON_Delete(cJSON_DetachItemViaPointer(values, v));
	}
	if (vr_is(vr, "LT UT UR UC") && cJSON_GetArraySize(values) > 1)
		return JSON_READ_MANY_TEXT;
	if (!strcmp(vr, "ST"))
		while (cJSON_GetArraySize(values) > 1)
			cJSON_DeleteItemFromArray(values, 1);
	return JSON_READ_OK;
}

enum json_read json_read_dataset(cJSON *ds)
{
	cJSON *e, *item;
	cJSON_ArrayForEach(e, ds)
	{
		const cJSON *vr = cJSON_GetObjectItemCaseSensitive(e, "vr");
		cJSON *values = cJSON_GetObjectItemCaseSensitive(e, "Value");
		if (!cJSON_IsString(vr) || !cJSON_IsArray(values))
			continue;
		enum json_read r = read_values(vr->valuestring, values);
		if (r)
			return r;
		if (strcmp(vr->valuestring, "SQ"))
			continue;
		cJSON_ArrayForEach(item, values)
		{
			if (cJSON_IsObject(item) && (r = json_read_dataset(item)))
				return r;
		}
	}
	return JSON_READ_OK;
}
