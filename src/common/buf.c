#include "common/buf.h"
#include "common/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

static char empty_buf[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = empty_buf;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->data);
	buf_init(b, b->max);
}

static int buf_grow(struct buf *b, size_t extra)
{
	size_t want;

	if (!b->data)
		buf_init(b, b->max);
	if (extra > SIZE_MAX / 2 - b->len)
		return -1;
	want = b->len + extra + 1;
	if (b->max && want - 1 > b->max)
		return -1;
	if (want <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap *= 2;
	if (b->cap) {
		b->data = xrealloc(b->data, ncap);
	} else {
		char *n = xmalloc(ncap);
		memcpy(n, b->data, b->len + 1);
		b->data = n;
	}
	b->cap = ncap;
	return 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
	return buf_grow(b, extra);
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len))
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || buf_grow(b, (size_t)n))
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	size_t n, i;
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* no overlong forms, no surrogates, nothing past U+10FFFF (what
	 * PostgreSQL refuses too) */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

bool buf_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0, n; i < len; i += n)
		if (!(n = utf8_seq(s + i, len - i)))
			return false;
	return true;
}

int buf_add_json_str(struct buf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	int rc = buf_addch(b, '"');

	while (!rc && i < len) {
		unsigned c = s[i];
		size_t run = i;

		/* copy the longest run that needs no escaping in one go */
		while (run < len && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			rc = buf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			rc = buf_add(b, esc, 2);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': rc = buf_adds(b, "\\n"); break;
			case '\r': rc = buf_adds(b, "\\r"); break;
			case '\t': rc = buf_adds(b, "\\t"); break;
			/* a NUL (inside an LT, ST or UT value) is left out: PostgreSQL's
			 * jsonb refuses \u0000, and one stored instance would break
			 * every query that reads its metadata */
			case '\0': break;
			default: rc = buf_addf(b, "\\u%04x", c); break;
			}
			i++;
		} else {
			size_t n = utf8_seq(s + i, len - i);
			if (n) {
				rc = buf_add(b, s + i, n);
				i += n;
			} else {
				/* not UTF-8: take the byte as Latin-1 */
				char u[2] = { (char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f)) };
				rc = buf_add(b, u, 2);
				i++;
			}
		}
	}
	return rc ? rc : buf_addch(b, '"');
}

void buf_reset(struct buf *b)
{
	if (!b->data)
		buf_init(b, b->max);
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *r;

	if (len)
		*len = b->len;
	if (b->cap)
		r = b->data;
	else
		r = xstrdup("");
	buf_init(b, b->max);
	return r;
}
