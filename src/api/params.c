#include "api/params.h"
#include "http/response.h"

#include <cjson/cJSON.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

/* A Range attribute's bound as .NET writes it: long.MaxValue goes
 * through a double (Range(double, double)). */
static const char *range_bound(struct arena *a, int64_t v)
{
	return v == INT64_MAX ? "9.223372036854776E+18" : arena_printf(a, "%lld", (long long)v);
}

const char *param_parse_int(struct arena *a, const char *v, const char *field, int64_t min, int64_t max, int bits,
			    int64_t *out)
{
	char *end;

	if (!*v)
		return "The value '' is invalid.";
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (end == v || *end || errno || (bits == 32 && (n < INT32_MIN || n > INT32_MAX)))
		return arena_printf(a, "The value '%s' is not valid for %s.", v, field);
	if (n < min || n > max)
		return arena_printf(a, "The field %s must be between %s and %s.", field, range_bound(a, min),
				    range_bound(a, max));
	*out = n;
	return NULL;
}

int param_int(struct request *req, const char *name, const char *field, int64_t min, int64_t max, int64_t dflt,
	      int64_t *out)
{
	const char *v = request_query(req, name);

	*out = dflt;
	if (!v)
		return 0;
	/* the service's ints and longs: a range within an int's is an int */
	int bits = min >= INT32_MIN && max <= INT32_MAX ? 32 : 64;
	const char *why = param_parse_int(&req->arena, v, field, min, max, bits, out);
	if (!why)
		return 0;
	http_error(req, 400, "The query parameter '%s' is invalid. %s", field, why);
	*out = dflt;
	return -1;
}

/* One Int32 as Int32.Parse(s, NumberStyles.Any) reads the plain forms:
 * white space, a sign, digits, a fraction of zeros. */
static bool parse_int32_any(const char *s, size_t n, long *out)
{
	size_t i = 0;
	bool neg = false, digits = false;
	long long v = 0;

	while (i < n && s[i] == ' ')
		i++;
	while (n > i && s[n - 1] == ' ')
		n--;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		digits = true;
		v = v * 10 + (s[i] - '0');
		if (v > (long long)INT32_MAX + 1)
			return false;
	}
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] == '0'; i++)
			;
	if (!digits || i != n || (neg ? -v < INT32_MIN : v > INT32_MAX))
		return false;
	*out = (long)(neg ? -v : v);
	return true;
}

int param_frames(struct request *req, const char *list, long *frames, size_t max, size_t *n)
{
	static const char invalid[] = "The specified frames value is not valid. At least one frame must be present, and "
				      "all requested frames must have value greater than 0.";
	const char *p = list;

	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		long v;
		if (!parse_int32_any(p, len, &v)) {
			http_error(req, 400, "The query parameter 'frames' is invalid. Unable to parse value '%.*s' as Int32.",
				   (int)len, p);
			return -1;
		}
		if (v < 1 || *n == max) {
			http_error(req, 400, "%s", invalid);
			return -1;
		}
		frames[(*n)++] = v;
		p += len;
		if (*p == ',')
			p++;
	}
	if (*n == 0) {
		http_error(req, 400, "%s", invalid);
		return -1;
	}
	return 0;
}

int param_bool(struct request *req, const char *name, const char *field, bool dflt, bool *out)
{
	const char *v = request_query(req, name);

	*out = dflt;
	if (!v)
		return 0;
	if (!strcasecmp(v, "true")) {
		*out = true;
	} else if (!strcasecmp(v, "false")) {
		*out = false;
	} else if (!*v) {
		http_error(req, 400, "The query parameter '%s' is invalid. The value '' is invalid.", field);
		return -1;
	} else {
		http_error(req, 400, "The query parameter '%s' is invalid. The value '%s' is not valid for %s.", field, v,
			   field);
		return -1;
	}
	return 0;
}

static int digits(const char **p, int n, int *val)
{
	*val = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*val = *val * 10 + (**p - '0');
		(*p)++;
	}
	return 0;
}

int param_parse_time(const char *s, char *out, size_t outlen, char *round_trip)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	char frac[16] = "";

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.') {
				size_t n = 0;
				p++;
				while (isdigit((unsigned char)*p) && n < sizeof(frac) - 1)
					frac[n++] = *p++;
				frac[n] = '\0';
				if (!n || isdigit((unsigned char)*p))
					return -1;
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
	}
	char zone[16];
	if (*p == 'Z' || *p == 'z') {
		snprintf(zone, sizeof(zone), "+00:00");
		p++;
	} else if (*p == '+' || *p == '-') {
		int zh, zm;
		char sign = *p++;
		if (digits(&p, 2, &zh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &zm) || zh > 14 || zm > 59)
			return -1;
		snprintf(zone, sizeof(zone), "%c%02d:%02d", sign, zh, zm);
	} else if (*p == '\0') {
		return -2;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d%s%s%s", y, mo, d, h, mi, sec, *frac ? "." : "", frac, zone);
	if (round_trip) {
		char f7[8] = "0000000";
		memcpy(f7, frac, strlen(frac) > 7 ? 7 : strlen(frac));
		snprintf(round_trip, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%s%.6s", y, mo, d, h, mi, sec, f7, zone);
	}
	return 0;
}

struct cJSON *param_json_body(struct request *req, size_t max)
{
	return param_json_body_as(req, max, "application/json");
}

struct cJSON *param_json_body_as(struct request *req, size_t max, const char *media)
{
	struct buf body;
	char chunk[8192];
	ssize_t got;

	/* the service's actions consume their one media type */
	const char *ct = request_header(req, "Content-Type");
	size_t ml = ct ? strcspn(ct, "; \t") : 0;
	if (!ct || ml != strlen(media) || strncasecmp(ct, media, ml)) {
		http_error(req, 415, "The specified content type '%s' is not supported.", ct ? ct : "");
		return NULL;
	}
	buf_init(&body, max);
	while ((got = req->io.read(req->io.rctx, chunk, sizeof(chunk))) > 0) {
		if (buf_add(&body, chunk, (size_t)got)) {
			buf_release(&body);
			http_error(req, 413, "The request exceeded the allowed limit of %zu bytes.", max);
			return NULL;
		}
	}
	cJSON *j = got < 0 ? NULL : cJSON_ParseWithLength(buf_str(&body), body.len);
	buf_release(&body);
	if (!j)
		http_error(req, 400, "The syntax of the request body is invalid.");
	return j;
}

long param_query_list(struct request *req, struct qido_param *out, size_t max)
{
	const char *cur = NULL, *name, *value;
	size_t n = 0;
	while (request_query_next(req, &cur, &name, &value)) {
		if (n == max)
			return -1;
		out[n++] = (struct qido_param){ name, value };
	}
	return (long)n;
}
