/* End-to-end: rendered images (§4.6) and thumbnails. The answers are decoded (libpng,
 * libjpeg) and their pixels compared with the linear VOI function applied to
 * mkdcm's known pattern (pixel i = (i * 7 + seed) & 0x0fff). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

#define SEED 321
#define ROWS 40
#define COLS 24
static char study[65], series[65], windowed[65], mono1[65], rescaled[65], plain[65], colour_series[65], colour[65];

static int store(const char *sop, const char *extra)
{
	return store_made("--study %s --series %s --sop %s --seed %d --rows %d --cols %d --frames 2 %s", study, series, sop,
			  SEED, ROWS, COLS, extra);
}

static int setup(void **state)
{
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	snprintf(windowed, sizeof(windowed), "%s", uid_new());
	snprintf(mono1, sizeof(mono1), "%s", uid_new());
	snprintf(rescaled, sizeof(rescaled), "%s", uid_new());
	snprintf(plain, sizeof(plain), "%s", uid_new());
	const char *win = "--set 0028,1050=DS:2048 --set 0028,1051=DS:4096";
	char m1[200], rs[200];
	snprintf(m1, sizeof(m1), "%s --set 0028,0004=CS:MONOCHROME1", win);
	snprintf(rs, sizeof(rs), "--set 0028,1053=DS:2 --set 0028,1052=DS:-100 --set 0028,1050=DS:3000 --set 0028,1051=DS:2000");
	if (store(windowed, win) || store(mono1, m1) || store(rescaled, rs) || store(plain, ""))
		return -1;
	/* RGB, stored as JPEG 2000, in a series of its own (after the first) */
	snprintf(colour_series, sizeof(colour_series), "%s", uid_new());
	snprintf(colour, sizeof(colour), "%s", uid_new());
	return store_made("--study %s --series %s --sop %s --seed %d --rows %d --cols %d --frames 2 --rgb --ts j2k", study,
			  colour_series, colour, SEED, ROWS, COLS);
}

static double raw(int frame, size_t i)
{
	size_t g = (size_t)(frame - 1) * ROWS * COLS + i;
	return (double)((g * 7 + SEED) & 0x0fff);
}

static int voi(double v, double c, double w)
{
	double lo = c - 0.5 - (w - 1) / 2, hi = c - 0.5 + (w - 1) / 2, y;
	if (v <= lo)
		y = 0;
	else if (v > hi)
		y = 255;
	else
		y = ((v - (c - 0.5)) / (w - 1) + 0.5) * 255;
	long q = lround(y);
	return q < 0 ? 0 : q > 255 ? 255 : (int)q;
}

struct mem {
	const unsigned char *p;
	size_t n, at;
};

static void png_from_mem(png_structp p, png_bytep out, png_size_t n)
{
	struct mem *m = png_get_io_ptr(p);
	if (m->at + n > m->n)
		png_error(p, "short");
	memcpy(out, m->p + m->at, n);
	m->at += n;
}

/* Decodes an 8-bit PNG of width x height, grey (channels 1) or RGB (3), into px. */
static void decode_png_as(const struct resp *r, unsigned char *px, unsigned width, unsigned height, unsigned channels)
{
	struct mem m = { (const unsigned char *)r->body.data, r->body.len, 0 };
	png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(p);
	assert_int_equal(setjmp(png_jmpbuf(p)), 0);
	png_set_read_fn(p, &m, png_from_mem);
	png_read_info(p, info);
	assert_int_equal(png_get_image_width(p, info), width);
	assert_int_equal(png_get_image_height(p, info), height);
	assert_int_equal(png_get_color_type(p, info), channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY);
	assert_int_equal(png_get_bit_depth(p, info), 8);
	for (unsigned y = 0; y < height; y++)
		png_read_row(p, px + y * width * channels, NULL);
	png_destroy_read_struct(&p, &info, NULL);
}

static void decode_png(const struct resp *r, unsigned char *px)
{
	decode_png_as(r, px, COLS, ROWS, 1);
}

static void decode_jpeg(const struct resp *r, unsigned char *px)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr e;
	d.err = jpeg_std_error(&e);
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, (const unsigned char *)r->body.data, r->body.len);
	assert_int_equal(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
	jpeg_start_decompress(&d);
	assert_int_equal(d.output_width, COLS);
	assert_int_equal(d.output_height, ROWS);
	assert_int_equal(d.output_components, 1);
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = px + d.output_scanline * COLS;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
}

static void get(const char *sop, const char *what, const char *accept, struct resp *r)
{
	char path[512];
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s/%s", study, series, sop, what);
	/* an empty "Accept:" line makes libcurl send none */
	const char *h[] = { accept ? accept : "Accept:", NULL };
	http_do("GET", path, h, NULL, 0, r);
}

/* Asks for each path below the windowed instance and checks the status
 * and that the body holds the message. */
struct error_case {
	const char *what, *accept;
	long status;
	const char *text;
};

static void check_cases(const struct error_case *cases, size_t n)
{
	struct resp r;
	for (size_t i = 0; i < n; i++) {
		get(windowed, cases[i].what, cases[i].accept, &r);
		if (r.status != cases[i].status)
			fprintf(stderr, "%s: %ld %s\n", cases[i].what, r.status, buf_str(&r.body));
		assert_int_equal(r.status, cases[i].status);
		assert_non_null(strstr(buf_str(&r.body), cases[i].text));
		resp_release(&r);
	}
}

static void rendered__png__window_exact(void **state)
{
	struct resp r;
	unsigned char px[ROWS * COLS];
	char ct[64];
	get(windowed, "frames/2/rendered", "Accept: image/png", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)), "image/png");
	decode_png(&r, px);
	for (size_t i = 0; i < ROWS * COLS; i++)
		assert_int_equal(px[i], voi(raw(2, i), 2048, 4096));
	resp_release(&r);
}

static void rendered__monochrome1_and_rescale(void **state)
{
	struct resp r;
	unsigned char px[ROWS * COLS];
	get(mono1, "rendered", "Accept: image/png", &r);
	assert_int_equal(r.status, 200);
	decode_png(&r, px);
	for (size_t i = 0; i < ROWS * COLS; i++)
		assert_int_equal(px[i], 255 - voi(raw(1, i), 2048, 4096));
	resp_release(&r);
	get(rescaled, "rendered", "Accept: image/png", &r);
	assert_int_equal(r.status, 200);
	decode_png(&r, px);
	for (size_t i = 0; i < ROWS * COLS; i++)
		assert_int_equal(px[i], voi(raw(1, i) * 2 - 100, 3000, 2000));
	resp_release(&r);
}

static void rendered__no_window__min_to_max(void **state)
{
	struct resp r;
	unsigned char px[ROWS * COLS];
	double lo = 1e9, hi = -1e9;
	for (size_t i = 0; i < ROWS * COLS; i++) {
		lo = fmin(lo, raw(1, i));
		hi = fmax(hi, raw(1, i));
	}
	get(plain, "rendered", "Accept: image/png", &r);
	assert_int_equal(r.status, 200);
	decode_png(&r, px);
	for (size_t i = 0; i < ROWS * COLS; i++)
		assert_int_equal(px[i], voi(raw(1, i), (lo + hi) / 2 + 0.5, hi - lo + 1));
	resp_release(&r);
}

static void rendered__jpeg_default__close_and_quality_matters(void **state)
{
	struct resp r, small;
	unsigned char px[ROWS * COLS];
	char ct[64];
	get(windowed, "rendered", NULL, &r); /* no Accept: JPEG */
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)), "image/jpeg");
	decode_jpeg(&r, px);
	int worst = 0;
	for (size_t i = 0; i < ROWS * COLS; i++)
		worst = abs(px[i] - voi(raw(1, i), 2048, 4096)) > worst ? abs(px[i] - voi(raw(1, i), 2048, 4096)) : worst;
	assert_true(worst <= 8); /* quality 100: close, not exact */
	get(windowed, "rendered?quality=5", "Accept: image/jpeg", &small);
	assert_int_equal(small.status, 200);
	assert_true(small.body.len < r.body.len);
	resp_release(&r);
	resp_release(&small);
}

static void rendered__errors(void **state)
{
	const struct error_case cases[] = {
		{ "rendered?quality=0", NULL, 400, "Image quality must be between 1 and 100 inclusive" },
		{ "rendered?quality=101", "Accept: image/png", 400, "Image quality must be between 1 and 100 inclusive" },
		{ "rendered", "Accept: */*", 406, "The request headers are not acceptable" },
		{ "rendered", "Accept: image/png, image/jpeg", 406, "The request contains multiple accept headers, which is not supported." },
		{ "frames/3/rendered", "Accept: image/png", 404, "The specified frame cannot be found." },
		{ "frames/0/rendered", "Accept: image/png", 400, "The specified frames value is not valid." },
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void get_path(const char *path, const char *accept, struct resp *r)
{
	const char *h[] = { accept ? accept : "Accept:", NULL };
	http_do("GET", path, h, NULL, 0, r);
}

static void rendered__rgb_jpeg2000__png_exact(void **state)
{
	/* colour is shown as it is stored: no window, sample for sample */
	struct resp r;
	char path[512];
	unsigned char px[ROWS * COLS * 3];
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s/frames/2/rendered", study, colour_series, colour);
	get_path(path, "Accept: image/png", &r);
	assert_int_equal(r.status, 200);
	decode_png_as(&r, px, COLS, ROWS, 3);
	for (size_t i = 0; i < ROWS * COLS; i++)
		for (unsigned c = 0; c < 3; c++)
			assert_int_equal(px[i * 3 + c], ((ROWS * COLS + i) * 7 + SEED + c * 85) & 0xff);
	resp_release(&r);
}

static void thumbnail__instance__box_means_within_viewport(void **state)
{
	struct resp full, thumb;
	unsigned char px[ROWS * COLS], small[ROWS * COLS];
	get(plain, "rendered", "Accept: image/png", &full);
	assert_int_equal(full.status, 200);
	decode_png(&full, px);
	/* 24 x 40 into 12 x 10: the height limits, so 6 x 10 (aspect kept),
	 * each pixel the rounded mean of a 4 x 4 box */
	get(plain, "thumbnail?viewport=12,10", "Accept: image/png", &thumb);
	assert_int_equal(thumb.status, 200);
	decode_png_as(&thumb, small, 6, 10, 1);
	for (int y = 0; y < 10; y++)
		for (int x = 0; x < 6; x++) {
			int sum = 0;
			for (int sy = y * 4; sy < y * 4 + 4; sy++)
				for (int sx = x * 4; sx < x * 4 + 4; sx++)
					sum += px[sy * COLS + sx];
			assert_int_equal(small[y * 6 + x], (sum + 8) / 16);
		}
	resp_release(&full);
	resp_release(&thumb);
}

static void thumbnail__default__jpeg_never_enlarged(void **state)
{
	struct resp r;
	unsigned char px[ROWS * COLS];
	char ct[64];
	get(windowed, "thumbnail", NULL, &r); /* 24 x 40 fits the default 128 x 128 */
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)), "image/jpeg");
	decode_jpeg(&r, px);
	resp_release(&r);
}

static void thumbnail__study_series_frame__representative(void **state)
{
	/* one series of four instances stored in order: the middle one
	 * (index 2, the rescaled instance) stands for the study and series */
	struct resp want, got;
	char path[512];
	get(rescaled, "rendered", "Accept: image/png", &want);
	assert_int_equal(want.status, 200);
	snprintf(path, sizeof(path), "/v2/studies/%s/thumbnail", study);
	get_path(path, "Accept: image/png", &got);
	assert_int_equal(got.status, 200);
	assert_int_equal(got.body.len, want.body.len);
	assert_memory_equal(got.body.data, want.body.data, want.body.len);
	resp_release(&got);
	snprintf(path, sizeof(path), "/v1/studies/%s/series/%s/thumbnail", study, series);
	get_path(path, "Accept: image/png", &got);
	assert_int_equal(got.status, 200);
	assert_int_equal(got.body.len, want.body.len);
	assert_memory_equal(got.body.data, want.body.data, want.body.len);
	resp_release(&got);
	resp_release(&want);
	/* a frame's thumbnail is that frame */
	get(mono1, "frames/2/rendered", "Accept: image/png", &want);
	get(mono1, "frames/2/thumbnail", "Accept: image/png", &got);
	assert_int_equal(want.status, 200);
	assert_int_equal(got.status, 200);
	assert_int_equal(got.body.len, want.body.len);
	assert_memory_equal(got.body.data, want.body.data, want.body.len);
	resp_release(&got);
	resp_release(&want);
}

static void thumbnail__errors(void **state)
{
	struct resp r;
	const struct error_case cases[] = {
		{ "thumbnail?viewport=0,10", NULL, 400, "The specified viewport value is not valid." },
		{ "thumbnail?viewport=10", NULL, 400, "The specified viewport value is not valid." },
		{ "thumbnail?viewport=10,x", NULL, 400, "The specified viewport value is not valid." },
		{ "thumbnail?viewport=10,1025", NULL, 400, "The specified viewport value is not valid." },
		{ "thumbnail", "Accept: application/dicom", 406, "The request headers are not acceptable" },
		{ "frames/3/thumbnail", "Accept: image/png", 404, "The specified frame cannot be found." },
		{ "frames/x/thumbnail", "Accept: image/png", 400, "The specified frames value is not valid." },
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
	char path[512];
	snprintf(path, sizeof(path), "/v2/studies/%s/thumbnail", uid_new());
	get_path(path, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(buf_str(&r.body), "The specified study cannot be found."));
	resp_release(&r);
}

static int teardown(void **state)
{
	delete_study(study);
	return 0;
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rendered__png__window_exact),
		cmocka_unit_test(rendered__monochrome1_and_rescale),
		cmocka_unit_test(rendered__no_window__min_to_max),
		cmocka_unit_test(rendered__jpeg_default__close_and_quality_matters),
		cmocka_unit_test(rendered__errors),
		cmocka_unit_test(rendered__rgb_jpeg2000__png_exact),
		cmocka_unit_test(thumbnail__instance__box_means_within_viewport),
		cmocka_unit_test(thumbnail__default__jpeg_never_enlarged),
		cmocka_unit_test(thumbnail__study_series_frame__representative),
		cmocka_unit_test(thumbnail__errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
