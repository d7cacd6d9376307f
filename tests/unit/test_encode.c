/* Unit tests of the JPEG encoder (src/dicom/encode.c): grey images of whole
 * 8-sample blocks go to the DCT as raw data, and give the same bytes as the
 * library's scanline path; the encoder writes into the caller's buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h> /* before jpeglib.h */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "dicom/encode.h"

/* A CT-like picture: a disc over a gradient, with deterministic noise. */
static unsigned char *picture(int w, int h, int ch)
{
	unsigned char *px = malloc((size_t)w * (size_t)h * (size_t)ch);
	uint32_t seed = 12345;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int c = 0; c < ch; c++) {
				seed = seed * 1103515245u + 12345u;
				int dx = x - w / 2, dy = y - h / 2, r = w < h ? w / 3 : h / 3;
				int v = (dx * dx + dy * dy < r * r ? 160 : 40) + (x + y + 30 * c) % 50 +
					(int)(seed >> 28);
				px[((size_t)y * (size_t)w + (size_t)x) * (size_t)ch + (size_t)c] =
					(unsigned char)(v > 255 ? 255 : v);
			}
	return px;
}

/* Decodes a JPEG back to 8-bit samples (malloc'ed), checking its size. */
static unsigned char *decode(const struct buf *b, int w, int h, int ch)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr e;
	d.err = jpeg_std_error(&e);
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, (const unsigned char *)b->data, (unsigned long)b->len);
	assert_int_equal(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
	jpeg_start_decompress(&d);
	assert_int_equal(d.output_width, w);
	assert_int_equal(d.output_height, h);
	assert_int_equal(d.output_components, ch);
	unsigned char *px = malloc((size_t)w * (size_t)h * (size_t)ch);
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = px + (size_t)d.output_scanline * (size_t)w * (size_t)ch;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return px;
}

static int largest_difference(const unsigned char *a, const unsigned char *b, size_t n)
{
	int most = 0;
	for (size_t i = 0; i < n; i++) {
		int d = abs((int)a[i] - (int)b[i]);
		most = d > most ? d : most;
	}
	return most;
}

static void grey_raw__same_bytes_as_scanlines(void **state)
{
	static const int sizes[][2] = { { 512, 512 }, { 64, 61 }, { 8, 1 }, { 16, 9 }, { 24, 17 }, { 256, 100 } };
	static const int qualities[] = { 100, 90, 50, 1 };
	char err[200];
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		int w = sizes[s][0], h = sizes[s][1];
		unsigned char *px = picture(w, h, 1);
		for (size_t q = 0; q < sizeof qualities / sizeof qualities[0]; q++) {
			struct buf raw = BUF_INIT, lines = BUF_INIT;
			assert_int_equal(encode_jpeg(px, w, h, 1, qualities[q], &raw, err, sizeof err), 0);
			assert_int_equal(encode_jpeg_scanlines(px, w, h, 1, qualities[q], &lines, err, sizeof err), 0);
			assert_true(raw.len > 100);
			assert_int_equal(raw.len, lines.len);
			assert_memory_equal(raw.data, lines.data, raw.len);
			buf_release(&raw);
			buf_release(&lines);
		}
		free(px);
	}
}

/* What a viewer sees: at quality 100 the picture comes back within a few
 * levels, whichever path encoded it (grey of whole blocks, grey of any
 * width, colour). */
static void encode_jpeg__decodes_to_the_picture(void **state)
{
	static const int cases[][3] = { { 512, 512, 1 }, { 61, 64, 1 }, { 64, 61, 1 }, { 40, 30, 3 } };
	char err[200];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int w = cases[i][0], h = cases[i][1], ch = cases[i][2];
		unsigned char *px = picture(w, h, ch);
		struct buf b = BUF_INIT;
		assert_int_equal(encode_jpeg(px, w, h, ch, 100, &b, err, sizeof err), 0);
		assert_int_equal((unsigned char)b.data[0], 0xff);
		assert_int_equal((unsigned char)b.data[1], 0xd8); /* SOI */
		assert_int_equal((unsigned char)b.data[b.len - 2], 0xff);
		assert_int_equal((unsigned char)b.data[b.len - 1], 0xd9); /* EOI */
		assert_int_equal(b.data[b.len], '\0');
		unsigned char *back = decode(&b, w, h, ch);
		/* colour goes through YCbCr with halved chroma */
		assert_in_range(largest_difference(px, back, (size_t)w * (size_t)h * (size_t)ch), 0, ch == 1 ? 3 : 40);
		free(back);
		free(px);
		buf_release(&b);
	}
}

/* The image is appended after what the buffer held, which stays. */
static void encode_jpeg__appends(void **state)
{
	char err[200];
	unsigned char *px = picture(512, 512, 1);
	struct buf alone = BUF_INIT, b = BUF_INIT;
	assert_int_equal(encode_jpeg(px, 512, 512, 1, 100, &alone, err, sizeof err), 0);
	assert_int_equal(buf_adds(&b, "prefix"), 0);
	assert_int_equal(encode_jpeg(px, 512, 512, 1, 100, &b, err, sizeof err), 0);
	assert_int_equal(b.len, 6 + alone.len);
	assert_memory_equal(b.data, "prefix", 6);
	assert_memory_equal(b.data + 6, alone.data, alone.len);
	buf_release(&alone);
	buf_release(&b);
	free(px);
}

/* A buffer with a cap: an image that fits is written even when the first
 * guess of its size does not; one that does not fit is an error and leaves
 * the buffer as it was. */
static void encode_jpeg__buffer_cap(void **state)
{
	char err[200];
	unsigned char *px = picture(512, 512, 1);
	struct buf alone = BUF_INIT;
	assert_int_equal(encode_jpeg(px, 512, 512, 1, 100, &alone, err, sizeof err), 0);

	struct buf fits;
	buf_init(&fits, alone.len + 10);
	assert_int_equal(encode_jpeg(px, 512, 512, 1, 100, &fits, err, sizeof err), 0);
	assert_int_equal(fits.len, alone.len);
	assert_memory_equal(fits.data, alone.data, alone.len);

	struct buf small;
	buf_init(&small, alone.len / 2);
	assert_int_equal(buf_adds(&small, "kept"), 0);
	assert_int_equal(encode_jpeg(px, 512, 512, 1, 100, &small, err, sizeof err), -1);
	assert_string_equal(err, "jpeg: the image is too large");
	assert_int_equal(small.len, 4);
	assert_string_equal(small.data, "kept");
	buf_release(&alone);
	buf_release(&fits);
	buf_release(&small);
	free(px);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grey_raw__same_bytes_as_scanlines),
		cmocka_unit_test(encode_jpeg__decodes_to_the_picture),
		cmocka_unit_test(encode_jpeg__appends),
		cmocka_unit_test(encode_jpeg__buffer_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
