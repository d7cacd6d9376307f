#include "http/multipart.h"
#include "http/token.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define CHUNK (256 * 1024)

int multipart_parse_content_type(struct arena *a, const char *value, struct multipart_content_type *out)
{
	const char *p = value;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!value)
		return -1;
	n = strcspn(p, ";");
	out->media = http_token(a, p, n, true, false);
	p += n;
	while (*p == ';') {
		p++;
		/* a quoted value may contain ';' */
		size_t i = 0;
		bool q = false;
		for (; p[i] && (q || p[i] != ';'); i++)
			if (p[i] == '"')
				q = !q;
		const char *eq = memchr(p, '=', i);
		if (eq) {
			char *k = http_token(a, p, (size_t)(eq - p), true, false);
			char *v = http_token(a, eq + 1, i - (size_t)(eq + 1 - p), false, true);
			if (!strcmp(k, "boundary")) {
				out->boundary = v;
			} else if (!strcmp(k, "type")) {
				for (char *c = v; *c; c++)
					*c = (char)tolower((unsigned char)*c);
				out->type = v;
			} else if (!strcmp(k, "start")) {
				out->start = v;
			}
		}
		p += i;
	}
	return 0;
}

struct reader {
	char *buf;
	size_t len, cap;
	bool eof;
	multipart_read_fn read;
	void *rctx;
};

/* Tops the buffer up to at least want bytes or to end of body. */
static int fill(struct reader *r, size_t want)
{
	while (r->len < want && !r->eof) {
		/* room for half a chunk at least: a body that arrives in small
		 * pieces does not cost a reallocation per piece */
		if (r->cap - r->len < CHUNK / 2) {
			r->cap = r->len + CHUNK;
			r->buf = xrealloc(r->buf, r->cap);
		}
		ssize_t got = r->read(r->rctx, r->buf + r->len, r->cap - r->len);
		if (got < 0)
			return MP_IO;
		if (got == 0)
			r->eof = true;
		r->len += (size_t)got;
	}
	return 0;
}

static void consume(struct reader *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

/* Parses "Name: value" lines of a part header block (without the final
 * blank line). Unknown headers are ignored. */
static int parse_headers(const char *h, size_t n, struct multipart_part *part, struct arena *a)
{
	const char *end = h + n;

	while (h < end) {
		const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);
		size_t ll = eol ? (size_t)(eol - h) : (size_t)(end - h);
		const char *colon = memchr(h, ':', ll);
		if (!colon)
			return MP_MALFORMED;
		size_t kl = (size_t)(colon - h);
		const char *v = colon + 1;
		size_t vl = ll - kl - 1;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (kl == 12 && !strncasecmp(h, "Content-Type", 12)) {
			part->content_type = arena_strndup(a, v, vl);
		} else if (kl == 14 && !strncasecmp(h, "Content-Length", 14)) {
			char tmp[32];
			if (vl == 0 || vl >= sizeof(tmp))
				return MP_MALFORMED;
			memcpy(tmp, v, vl);
			tmp[vl] = '\0';
			char *e;
			long long cl = strtoll(tmp, &e, 10);
			if (*e || cl < 0)
				return MP_MALFORMED;
			part->content_length = cl;
		}
		h += ll + (eol ? 2 : 0);
	}
	return 0;
}

/* The preamble: everything up to and including the first delimiter. */
static int skip_preamble(struct reader *r, const char *delim, size_t dlen)
{
	int rc;
	for (;;) {
		if ((rc = fill(r, dlen + CHUNK / 2)))
			return rc;
		char *d = memmem(r->buf, r->len, delim, dlen);
		if (d) {
			consume(r, (size_t)(d - r->buf) + dlen);
			return MP_OK;
		}
		if (r->eof)
			return MP_MALFORMED;
		if (r->len > dlen)
			consume(r, r->len - dlen);
	}
}

/* After a delimiter: "--" closes (*closed), else transport padding then
 * CRLF, which are consumed; a close delimiter right after them is a
 * message with no parts ("--B\r\n\r\n--B--", what .NET sends for an
 * empty MultipartContent): closed too. */
static int after_delimiter(struct reader *r, const char *delim, size_t dlen, bool *closed)
{
	size_t i = 0;
	int rc;

	*closed = false;
	if ((rc = fill(r, 2)))
		return rc;
	if (r->len >= 2 && r->buf[0] == '-' && r->buf[1] == '-') {
		*closed = true; /* the epilogue is ignored */
		return MP_OK;
	}
	for (;;) {
		if ((rc = fill(r, i + 2)))
			return rc;
		if (i + 2 > r->len)
			return MP_MALFORMED;
		if (r->buf[i] != ' ' && r->buf[i] != '\t')
			break;
		if (++i > 1024)
			return MP_MALFORMED;
	}
	if (r->buf[i] != '\r' || r->buf[i + 1] != '\n')
		return MP_MALFORMED;
	consume(r, i + 2);
	if ((rc = fill(r, dlen + 2)))
		return rc;
	if (r->len >= dlen + 2 && !memcmp(r->buf, delim, dlen) && r->buf[dlen] == '-' && r->buf[dlen + 1] == '-')
		*closed = true;
	return MP_OK;
}

/* A part's headers, up to the blank line, into part (strings in a). */
static int read_headers(struct reader *r, struct multipart_part *part, struct arena *a,
			const struct multipart_limits *lim)
{
	int rc;
	for (;;) {
		if ((rc = fill(r, 2)))
			return rc;
		if (r->len >= 2 && r->buf[0] == '\r' && r->buf[1] == '\n') {
			consume(r, 2); /* no headers at all */
			return MP_OK;
		}
		char *e = memmem(r->buf, r->len, "\r\n\r\n", 4);
		if (e) {
			size_t hend = (size_t)(e - r->buf);
			if (hend > lim->max_header_bytes)
				return MP_MALFORMED; /* also when they came in one read */
			if ((rc = parse_headers(r->buf, hend, part, a)))
				return rc;
			consume(r, hend + 4);
			return MP_OK;
		}
		if (r->len > lim->max_header_bytes || r->eof)
			return MP_MALFORMED;
		if ((rc = fill(r, r->len + 1)))
			return rc;
	}
}

/* A part's body: everything up to the next delimiter, to the handler; a
 * body whose length is not the part's Content-Length (length >= 0) is a
 * malformed message. */
static int read_body(struct reader *r, const char *delim, size_t dlen, const struct multipart_handler *h,
		     const struct multipart_limits *lim, int64_t length)
{
	uint64_t got = 0;
	int rc;
	for (;;) {
		if ((rc = fill(r, dlen + CHUNK / 2)))
			return rc;
		char *d = memmem(r->buf, r->len, delim, dlen);
		size_t take = d ? (size_t)(d - r->buf) : (r->len > dlen ? r->len - dlen : 0);
		if (!d && r->eof)
			return MP_MALFORMED; /* body ended inside a part */
		got += take;
		if (got > lim->max_part_bytes)
			return MP_TOO_LARGE;
		if (take && h->part_data && (rc = h->part_data(h->ctx, r->buf, take)))
			return rc;
		consume(r, take);
		if (d) {
			consume(r, dlen);
			return length >= 0 && got != (uint64_t)length ? MP_MALFORMED : MP_OK;
		}
	}
}

int multipart_read(const char *boundary, multipart_read_fn read, void *rctx, const struct multipart_handler *h,
		   const struct multipart_limits *lim)
{
	struct reader r = { NULL, 0, 0, false, read, rctx };
	struct arena a;
	size_t blen = strlen(boundary);
	char *delim;             /* "\r\n--" boundary */
	size_t dlen = blen + 4;
	unsigned nparts = 0;
	bool closed = false;
	int rc;

	/* RFC 2046 says 70 at most, but real clients send more (Orthanc: two
	 * UUIDs, 73) and the service accepts them; 256 still bounds the search */
	if (blen == 0 || blen > 256)
		return MP_MALFORMED;
	delim = xmalloc(dlen + 1);
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, blen + 1);

	/* A virtual CRLF in front lets a body that starts with the delimiter
	 * match the same pattern as every later one. */
	arena_init(&a);
	r.buf = xmalloc(CHUNK);
	r.cap = CHUNK;
	memcpy(r.buf, "\r\n", 2);
	r.len = 2;

	rc = skip_preamble(&r, delim, dlen);
	while (!rc && !(rc = after_delimiter(&r, delim, dlen, &closed)) && !closed) {
		struct multipart_part part = { NULL, -1, nparts };
		/* a part's headers live until the part ends, not the request */
		arena_release(&a);
		arena_init(&a);
		if (++nparts > lim->max_parts)
			rc = MP_TOO_MANY;
		else if ((rc = read_headers(&r, &part, &a, lim)))
			break;
		else if (part.content_length >= 0 && (uint64_t)part.content_length > lim->max_part_bytes)
			rc = MP_TOO_LARGE;
		else if (h->part_begin && (rc = h->part_begin(h->ctx, &part)))
			break;
		else if (!(rc = read_body(&r, delim, dlen, h, lim, part.content_length)) && h->part_end)
			rc = h->part_end(h->ctx);
	}
	free(r.buf);
	free(delim);
	arena_release(&a);
	return rc;
}
