/* libFuzzer: the multipart/related reader (http/multipart.c) on any body,
 * fed in pieces of every size, and the Content-Type parser. */
#include "common/arena.h"
#include "http/multipart.h"

#include <stdint.h>
#include <string.h>

struct feed {
	const uint8_t *p;
	size_t n, step;
};

static ssize_t feed_read(void *ctx, void *dst, size_t n)
{
	struct feed *f = ctx;
	size_t k = f->n < n ? f->n : n;
	if (k > f->step)
		k = f->step;
	memcpy(dst, f->p, k);
	f->p += k;
	f->n -= k;
	return (ssize_t)k;
}

static int begin(void *ctx, const struct multipart_part *p) { (void)ctx; (void)p; return 0; }
static int data(void *ctx, const void *d, size_t n) { (void)ctx; (void)d; (void)n; return 0; }
static int end(void *ctx) { (void)ctx; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	/* the first byte chooses the read size, the body follows */
	if (n < 1)
		return 0;
	struct feed f = { d + 1, n - 1, (size_t)d[0] + 1 };
	struct multipart_handler h = { NULL, begin, data, end };
	struct multipart_limits lim = { 1 << 20, 64, 4096 };
	multipart_read("XyZ", feed_read, &f, &h, &lim);

	struct arena a;
	struct multipart_content_type ct;
	char header[512];
	size_t k = n - 1 < sizeof(header) - 1 ? n - 1 : sizeof(header) - 1;
	memcpy(header, d + 1, k);
	header[k] = '\0';
	arena_init(&a);
	multipart_parse_content_type(&a, header, &ct);
	arena_release(&a);
	return 0;
}
