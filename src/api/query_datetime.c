/* DICOM DT values in a search (BaseQueryParser). */
#include "api/query_datetime.h"
#include "api/qido_query.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

const char query_range_empty[] =
	"Invalid query: specified range is invalid.\nBoth parts in the range cannot be empty.\nFor details on valid range "
	"queries, please refer to Search Matching section in Conformance Statement "
	"(https://github.com/microsoft/dicom-server/blob/main/docs/resources/conformance-statement.md#search-matching).";

/* Keeps a refusal in *err: -1. */
static int refuse(const char **err, const char *msg)
{
	*err = msg;
	return -1;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int number(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* The length of a date-time at the start of s in one of the service's
 * formats (yyyy, yyyyMM, ... yyyyMMddHHmmss, yyyyMMddHHmmss.FFFFFF), a
 * real one (.NET's DateTime.TryParseExact), written to out as
 * yyyyMMddHHmmss.ffffff; 0 when there is none. */
static size_t datetime_prefix(const char *s, char out[22])
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t n = 0;
	while (n < 14 && s[n] >= '0' && s[n] <= '9')
		n++;
	if (n < 4 || n % 2)
		return 0;
	char full[15];
	memcpy(full, "00000101000000", 15);
	memcpy(full, s, n);
	int y = number(full, 4), mo = number(full + 4, 2), d = number(full + 6, 2);
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    number(full + 8, 2) > 23 || number(full + 10, 2) > 59 || number(full + 12, 2) > 59)
		return 0;
	char frac[7] = "000000";
	if (n == 14 && s[n] == '.') { /* "FFFFFF": up to six digits, none too */
		size_t f = strspn(s + 15, "0123456789");
		if (f > 6)
			return 0;
		memcpy(frac, s + 15, f);
		n += 1 + f;
	}
	snprintf(out, 22, "%s.%s", full, frac);
	return n;
}

/* An offset after a date-time, as .NET's "zzz" reads it: a sign, hours
 * (two digits when there are two), an optional colon, two of minutes. */
static bool offset(const char *s)
{
	if (*s != '+' && *s != '-')
		return false;
	size_t h = strspn(++s, "0123456789");
	h = h > 2 ? 2 : h;
	if (h < 1 || number(s, h) > 14)
		return false;
	s += h;
	if (*s == ':')
		s++;
	return strlen(s) == 2 && digits(s, 2) && number(s, 2) < 60;
}

/* WebUtility.UrlEncode: how the service quotes a date-time it could not
 * read (a '+' of the query, read as a space, comes back). */
static const char *url_encode(struct arena *a, const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("-_.!*()", c))
			buf_addch(&b, (char)c);
		else if (c == ' ')
			buf_addch(&b, '+');
		else
			buf_addf(&b, "%%%02X", c);
	}
	const char *r = arena_strdup(a, buf_str(&b));
	buf_release(&b);
	return r;
}

/* One date-time (ParseDateTime). */
static int parse_datetime(struct arena *a, const char *keyword, const char *v, char **out, const char **err)
{
	char norm[22];
	size_t n = datetime_prefix(v, norm);
	if (n && !v[n]) {
		*out = arena_strdup(a, norm);
		return 0;
	}
	const char *quoted = url_encode(a, v);
	n = datetime_prefix(quoted, norm);
	if (n && offset(quoted + n))
		return refuse(err,
			      arena_printf(a,
					   "Invalid query: specified DateTime value '%s' for attribute %s contains "
					   "offset which is not supported.",
					   quoted, keyword));
	return refuse(err, arena_printf(a,
					"Invalid query: specified DateTime value '%s' is invalid for attribute '%s'. "
					"DateTime should be valid and formatted as yyyyMMddHHmmss.FFFFFF where yyyy is "
					"mandatory.",
					quoted, keyword));
}

/* A TM value as fo-dicom's DicomTime reads one (HH, HHmm, HHmmss, then
 * up to six digits of a fraction, with or without a point; HH.mm[.ss[.f]];
 * HH:mm[:ss[:f or .f]]), a real time, written to out as HHmmss.ffffff. */
static bool time_value(const char *s, char out[14])
{
	int part[3] = { 0, 0, 0 };
	int nparts = 1;
	char frac[7] = "000000";
	const char *p = s;

	if (!digits(p, 2))
		return false;
	part[0] = number(p, 2);
	p += 2;
	char sep = (*p == '.' || *p == ':') ? *p : 0;
	for (; nparts < 3; nparts++) {
		const char *q = sep ? (*p == sep ? p + 1 : NULL) : p;
		if (!q || !digits(q, 2))
			break;
		part[nparts] = number(q, 2);
		p = q + 2;
	}
	if (nparts == 3 && *p) { /* a fraction: after a point, the separator, or straight on */
		if (*p == '.' || (sep && *p == sep))
			p++;
		else if (sep)
			return false;
		size_t f = strspn(p, "0123456789");
		if (f < 1 || f > 6)
			return false;
		memcpy(frac, p, f);
		p += f;
	}
	if (*p || part[0] > 23 || part[1] > 59 || part[2] > 59)
		return false;
	for (int k = 0; k < 3; k++) {
		out[2 * k] = (char)('0' + part[k] / 10);
		out[2 * k + 1] = (char)('0' + part[k] % 10);
	}
	out[6] = '.';
	memcpy(out + 7, frac, 7);
	return true;
}

/* One time (ParseTime). */
static int parse_time(struct arena *a, const char *keyword, const char *v, char **out, const char **err)
{
	char norm[14];
	if (time_value(v, norm)) {
		*out = arena_strdup(a, norm);
		return 0;
	}
	return refuse(err, arena_printf(a,
					"Invalid query: specified Time value '%s' is invalid for parameter '%s'. Time "
					"should be valid and formatted as HHmmss.FFFFFF where HH is mandatory.",
					v, keyword));
}

/* A value or a range "a-b" (exactly one '-'), either end open, each end
 * read by one; unit names them in the message of a range backwards. */
static int range(struct arena *a, const char *keyword, const char *value,
		 int (*one)(struct arena *, const char *, const char *, char **, const char **), const char *unit,
		 const char **lo, const char **hi, const char **err)
{
	const char *dash = strchr(value, '-');
	char *min_norm = NULL, *max_norm = NULL;
	if (dash && !strchr(dash + 1, '-')) {
		const char *min = qido_trim(a, arena_strndup(a, value, (size_t)(dash - value)));
		const char *max = qido_trim(a, dash + 1);
		if (!*min && !*max)
			return refuse(err, query_range_empty);
		if ((*min && one(a, keyword, min, &min_norm, err)) || (*max && one(a, keyword, max, &max_norm, err)))
			return -1;
		if (min_norm && max_norm && strcmp(min_norm, max_norm) > 0)
			return refuse(err, arena_printf(a,
							"Invalid query: specified date range '%s' is invalid.\nThe first "
							"part %s %s should be lesser than or equal to the second part "
							"%s %s.",
							value, unit, min, unit, max));
	} else {
		if (one(a, keyword, value, &min_norm, err))
			return -1;
		max_norm = min_norm;
	}
	*lo = min_norm;
	*hi = max_norm;
	return 0;
}

int query_datetime(struct arena *a, const char *keyword, const char *value, const char **lo, const char **hi,
		   const char **err)
{
	return range(a, keyword, value, parse_datetime, "DateTime", lo, hi, err);
}

int query_time(struct arena *a, const char *keyword, const char *value, const char **lo, const char **hi,
	       const char **err)
{
	return range(a, keyword, value, parse_time, "time", lo, hi, err);
}
