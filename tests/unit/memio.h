/* A request over memory: a CGI environment, a body to read and a buffer
 * collecting the response, for unit tests of the HTTP layer. */
#ifndef ADE_TEST_MEMIO_H
#define ADE_TEST_MEMIO_H

#include <string.h>
#include <sys/types.h>

#include "common/buf.h"
#include "http/request.h"

struct memio {
	const char *in;
	size_t in_len, in_pos;
	size_t max_read; /* 0 = as much as asked */
	struct buf out;
};

static ssize_t memio_read(void *ctx, void *dst, size_t n)
{
	struct memio *m = ctx;
	size_t left = m->in_len - m->in_pos;
	if (m->max_read && n > m->max_read)
		n = m->max_read;
	if (n > left)
		n = left;
	memcpy(dst, m->in + m->in_pos, n);
	m->in_pos += n;
	return (ssize_t)n;
}

static int memio_write(void *ctx, const void *src, size_t n)
{
	struct memio *m = ctx;
	return buf_add(&m->out, src, n);
}

static inline struct http_io memio_io(struct memio *m)
{
	struct http_io io = { m, memio_read, m, memio_write };
	buf_init(&m->out, 0);
	return io;
}

#endif
