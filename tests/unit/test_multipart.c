/* Unit tests of the streaming multipart reader (src/http/multipart.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/multipart.h"
#include "memio.h"

struct collected {
	struct buf parts[8];
	const char *types[8];
	int64_t lengths[8];
	int n;
	int begun; /* parts started, including one cut short by an error */
	int ended;
	struct arena a;
};

static int on_begin(void *ctx, const struct multipart_part *p)
{
	struct collected *c = ctx;
	buf_init(&c->parts[c->n], 0);
	c->types[c->n] = p->content_type ? arena_strdup(&c->a, p->content_type) : NULL;
	c->lengths[c->n] = p->content_length;
	c->begun = c->n + 1;
	return 0;
}

static int on_data(void *ctx, const void *d, size_t n)
{
	struct collected *c = ctx;
	buf_add(&c->parts[c->n], d, n);
	return 0;
}

static int on_end(void *ctx)
{
	struct collected *c = ctx;
	c->n++;
	c->ended++;
	return 0;
}

static int parse(const char *boundary, const char *body, size_t len, size_t max_read, struct collected *c)
{
	struct memio io = { body, len, 0, max_read, BUF_INIT };
	struct multipart_handler h = { c, on_begin, on_data, on_end };
	struct multipart_limits lim = { 1 << 20, 8, 16384 };
	memset(c, 0, sizeof(*c));
	arena_init(&c->a);
	return multipart_read(boundary, memio_read, &io, &h, &lim);
}

static void release(struct collected *c)
{
	for (int i = 0; i < c->begun; i++)
		buf_release(&c->parts[i]);
	arena_release(&c->a);
}

static void read__two_parts__bodies_exact(void **state)
{
	const char body[] = "preamble\r\n--b\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n"
			    "--b\r\nContent-Type: application/dicom\r\nContent-Length: 4\r\n\r\nB\r\nB\r\n--b--\r\nepilogue";
	struct collected c;
	/* every read size, down to one byte at a time */
	for (size_t step = 0; step <= 7; step++) {
		assert_int_equal(parse("b", body, sizeof(body) - 1, step, &c), MP_OK);
		assert_int_equal(c.n, 2);
		assert_string_equal(buf_str(&c.parts[0]), "AAA");
		assert_int_equal(c.parts[1].len, 4);
		assert_memory_equal(c.parts[1].data, "B\r\nB", 4);
		assert_string_equal(c.types[1], "application/dicom");
		assert_int_equal(c.lengths[1], 4);
		assert_int_equal(c.lengths[0], -1);
		release(&c);
	}
}

static void read__no_crlf_after_close_and_padding__accepted(void **state)
{
	const char body[] = "--b \t\r\nContent-Type: application/dicom\r\n\r\nX\r\n--b--";
	struct collected c;
	assert_int_equal(parse("b", body, sizeof(body) - 1, 0, &c), MP_OK);
	assert_int_equal(c.n, 1);
	assert_string_equal(buf_str(&c.parts[0]), "X");
	release(&c);
}

static void read__part_length_disagreeing__malformed(void **state)
{
	const char longer[] = "--b\r\nContent-Type: application/dicom\r\nContent-Length: 10\r\n\r\nAAA\r\n--b--\r\n";
	const char shorter[] = "--b\r\nContent-Length: 2\r\n\r\nAAA\r\n--b--\r\n";
	struct collected c;
	assert_int_equal(parse("b", longer, sizeof(longer) - 1, 0, &c), MP_MALFORMED);
	assert_int_equal(c.ended, 0);
	release(&c);
	assert_int_equal(parse("b", shorter, sizeof(shorter) - 1, 0, &c), MP_MALFORMED);
	release(&c);
}

static void read__header_limit__every_part(void **state)
{
	struct buf body;
	struct collected c;
	buf_init(&body, 0);
	buf_adds(&body, "--b\r\nContent-Type: application/dicom\r\nX-Filler: ");
	for (int i = 0; i < 20000; i++)
		buf_addch(&body, 'x');
	buf_adds(&body, "\r\n\r\nAAA\r\n--b--\r\n");
	/* all of it in one read, headers past the 16384 of the limits */
	assert_int_equal(parse("b", body.data, body.len, 0, &c), MP_MALFORMED);
	release(&c);
	buf_release(&body);
}

static void read__no_parts_as_dotnet_sends__closed_empty(void **state)
{
	const char body[] = "--b\r\n\r\n--b--\r\n";
	struct collected c;
	for (size_t step = 0; step <= 3; step++) {
		assert_int_equal(parse("b", body, sizeof(body) - 1, step, &c), MP_OK);
		assert_int_equal(c.n, 0);
		assert_int_equal(c.begun, 0);
		release(&c);
	}
}

static void read__boundary_inside_data_without_crlf__not_a_delimiter(void **state)
{
	const char body[] = "--b\r\n\r\nxx--b yy\r\n--b--\r\n";
	struct collected c;
	assert_int_equal(parse("b", body, sizeof(body) - 1, 3, &c), MP_OK);
	assert_int_equal(c.n, 1);
	assert_string_equal(buf_str(&c.parts[0]), "xx--b yy");
	assert_null(c.types[0]);
	release(&c);
}

static void read__binary_with_nuls__kept(void **state)
{
	char body[64];
	size_t n = 0;
	memcpy(body, "--q\r\n\r\n", 7);
	n = 7;
	for (int i = 0; i < 10; i++)
		body[n++] = (char)(i % 2 ? 0 : 0xff);
	memcpy(body + n, "\r\n--q--", 7);
	n += 7;
	struct collected c;
	assert_int_equal(parse("q", body, n, 0, &c), MP_OK);
	assert_int_equal(c.parts[0].len, 10);
	assert_int_equal((unsigned char)c.parts[0].data[0], 0xff);
	assert_int_equal(c.parts[0].data[1], 0);
	release(&c);
}

static void read__truncated_or_missing__malformed(void **state)
{
	struct collected c;
	const char a[] = "--b\r\nContent-Type: application/dicom\r\n\r\nAAA";
	assert_int_equal(parse("b", a, sizeof(a) - 1, 0, &c), MP_MALFORMED);
	release(&c);
	const char b[] = "no delimiter at all";
	assert_int_equal(parse("b", b, sizeof(b) - 1, 0, &c), MP_MALFORMED);
	release(&c);
	const char d[] = "--bX\r\n\r\nA\r\n--b--";
	assert_int_equal(parse("b", d, sizeof(d) - 1, 0, &c), MP_MALFORMED);
	release(&c);
}

static void read__limits__too_large_and_too_many(void **state)
{
	struct collected c;
	struct buf big;
	buf_init(&big, 0);
	buf_adds(&big, "--b\r\n\r\n");
	for (int i = 0; i < (1 << 20) + 10; i++)
		buf_addch(&big, 'x');
	buf_adds(&big, "\r\n--b--");
	assert_int_equal(parse("b", big.data, big.len, 0, &c), MP_TOO_LARGE);
	release(&c);
	buf_release(&big);

	struct buf many;
	buf_init(&many, 0);
	for (int i = 0; i < 9; i++)
		buf_adds(&many, "--b\r\n\r\nx\r\n");
	buf_adds(&many, "--b--");
	assert_int_equal(parse("b", many.data, many.len, 0, &c), MP_TOO_MANY);
	release(&c);
	buf_release(&many);

	const char cl[] = "--b\r\nContent-Length: 99999999999\r\n\r\nx\r\n--b--";
	assert_int_equal(parse("b", cl, sizeof(cl) - 1, 0, &c), MP_TOO_LARGE);
	release(&c);
}

static void read__long_boundary_as_orthanc_sends__accepted(void **state)
{
	const char *b = "d96352f2-178e-4a48-86e4-19b8b2b8c428-d96352f2-178e-4a48-86e4-19b8b2b8c428";
	char body[512];
	int n = snprintf(body, sizeof(body), "--%s\r\nContent-Type: application/dicom\r\nContent-Length: 2\r\n\r\nOK\r\n--%s--",
			 b, b);
	struct collected c;
	assert_int_equal(parse(b, body, (size_t)n, 5, &c), MP_OK);
	assert_int_equal(c.n, 1);
	assert_string_equal(buf_str(&c.parts[0]), "OK");
	release(&c);
}

static void content_type__quoted_params__parsed(void **state)
{
	struct arena a;
	struct multipart_content_type ct;
	arena_init(&a);
	assert_int_equal(multipart_parse_content_type(&a, "Multipart/Related; type=\"application/dicom\"; boundary=\"a;b\"", &ct), 0);
	assert_string_equal(ct.media, "multipart/related");
	assert_string_equal(ct.type, "application/dicom");
	assert_string_equal(ct.boundary, "a;b");
	assert_null(ct.start);
	assert_int_equal(multipart_parse_content_type(&a, "multipart/related; type=application/dicom; boundary=x; start=<1>", &ct), 0);
	assert_string_equal(ct.type, "application/dicom");
	assert_string_equal(ct.start, "<1>");
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read__two_parts__bodies_exact),
		cmocka_unit_test(read__no_crlf_after_close_and_padding__accepted),
		cmocka_unit_test(read__part_length_disagreeing__malformed),
		cmocka_unit_test(read__header_limit__every_part),
		cmocka_unit_test(read__no_parts_as_dotnet_sends__closed_empty),
		cmocka_unit_test(read__boundary_inside_data_without_crlf__not_a_delimiter),
		cmocka_unit_test(read__binary_with_nuls__kept),
		cmocka_unit_test(read__truncated_or_missing__malformed),
		cmocka_unit_test(read__limits__too_large_and_too_many),
		cmocka_unit_test(read__long_boundary_as_orthanc_sends__accepted),
		cmocka_unit_test(content_type__quoted_params__parsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
