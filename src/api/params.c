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

int param_int(struct request *req, const char *name, const char *field, int64_t min, int64_t max, int64_t dflt,
	      int64_t *out)
{
	const char *v = request_query(req, name);
	char *end;

	*out = dflt;
	if (!v)
		return 0;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || errno) {
		http_error(req, 400, "The query parameter '%s' is invalid. The value '%s' is not valid for %s.", field, v,
			   field);
		return -1;
	}
	if (n < min || n > max) {
		http_error(req, 400, "The query parameter '%s' is invalid. The field %s must be between %lld and %lld.",
			   field, field, (long long)min, (long long)max);
		return -1;
	}
	*out = n;
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
	struct buf body;
	char chunk[8192];
	ssize_t got;

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
