/* multipart/related: a streaming reader (request bodies of any size in fixed
 * memory) and the little a writer needs. RFC 2046 §5.1.1. */
#ifndef ADE_HTTP_MULTIPART_H
#define ADE_HTTP_MULTIPART_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/arena.h"

struct multipart_content_type {
	const char *media;     /* lower case, e.g. "multipart/related" */
	const char *boundary;  /* NULL when absent */
	const char *type;      /* the type parameter, lower case, NULL when absent */
	const char *start;     /* the start parameter, NULL when absent */
};

/* Parses a Content-Type header value (arena-owned results). Returns 0 or -1. */
int multipart_parse_content_type(struct arena *a, const char *value, struct multipart_content_type *out);

struct multipart_part {
	const char *content_type; /* raw value, NULL when the part has none */
	int64_t content_length;   /* -1 when absent */
	unsigned index;           /* 0-based */
};

struct multipart_handler {
	void *ctx;
	/* Each returns 0 to go on, non-zero to stop (that value is returned). */
	int (*part_begin)(void *ctx, const struct multipart_part *part);
	int (*part_data)(void *ctx, const void *data, size_t n);
	int (*part_end)(void *ctx);
};

struct multipart_limits {
	uint64_t max_part_bytes;
	uint64_t max_parts;
	size_t max_header_bytes;  /* per part */
};

enum {
	MP_OK = 0,
	MP_MALFORMED = -1,   /* 400 */
	MP_TOO_LARGE = -2,   /* 413 */
	MP_IO = -3,          /* reading the body failed */
	MP_TOO_MANY = -4,    /* too many parts: 400 */
};

typedef ssize_t (*multipart_read_fn)(void *ctx, void *dst, size_t n);

/* Reads the body from read(rctx) to its end, calling h for each part.
 * Returns MP_OK, one of the MP_ errors, or a handler's non-zero value. */
int multipart_read(const char *boundary, multipart_read_fn read, void *rctx, const struct multipart_handler *h,
		   const struct multipart_limits *lim);

#endif
