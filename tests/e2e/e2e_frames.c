/* End-to-end: WADO-RS frames (§4.1, §4.2). Pixels are checked one by one
 * against the pattern mkdcm wrote (pixel i = (i * 7 + seed) & 0x0fff). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "dicom/dcm.h"

#define SEED 1234
static char study[65], series[65], native_sop[65], j2k_sop[65], big_sop[65], rle_sop[65], rgb_rle_sop[65],
	rgb_j2k_sop[65], large_sop[65];

static int store(const char *sop, const char *extra)
{
	return store_made("--study %s --series %s --sop %s --seed %d %s", study, series, sop, SEED, extra);
}

static int setup(void **state)
{
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	snprintf(native_sop, sizeof(native_sop), "%s", uid_new());
	snprintf(j2k_sop, sizeof(j2k_sop), "%s", uid_new());
	snprintf(big_sop, sizeof(big_sop), "%s", uid_new());
	snprintf(rle_sop, sizeof(rle_sop), "%s", uid_new());
	snprintf(rgb_rle_sop, sizeof(rgb_rle_sop), "%s", uid_new());
	snprintf(rgb_j2k_sop, sizeof(rgb_j2k_sop), "%s", uid_new());
	snprintf(large_sop, sizeof(large_sop), "%s", uid_new());
	return store(native_sop, "--frames 3 --rows 16 --cols 10") || store(j2k_sop, "--frames 3 --rows 16 --cols 10 --ts j2k") ||
		       store(big_sop, "--frames 1000 --rows 8 --cols 8") ||
		       store(rle_sop, "--frames 3 --rows 16 --cols 10 --ts rle") ||
		       store(rgb_rle_sop, "--frames 2 --rows 9 --cols 11 --rgb --ts rle") ||
		       store(rgb_j2k_sop, "--frames 2 --rows 9 --cols 11 --rgb --ts j2k") ||
		       /* 70 MiB: above what the store-time child maps (64 MiB), parsed through its descriptor */
		       store(large_sop, "--frames 140 --rows 512 --cols 512")
		       ? -1
		       : 0;
}

static void get(const char *sop, const char *frames, const char *accept, struct resp *r)
{
	char path[512];
	snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s/frames/%s", study, series, sop, frames);
	const char *h[] = { accept, NULL };
	http_do("GET", path, accept ? h : NULL, NULL, 0, r);
}

/* Are the bytes frame k (1-based) of a rows x cols 16-bit image with SEED? */
static void assert_frame(const char *data, size_t len, int k, int rows, int cols)
{
	size_t n = (size_t)rows * cols;
	assert_int_equal(len, n * 2);
	for (size_t i = 0; i < n; i++) {
		size_t g = (size_t)(k - 1) * n + i;
		unsigned v = (unsigned char)data[2 * i] | (unsigned)(unsigned char)data[2 * i + 1] << 8;
		assert_int_equal(v, (g * 7 + SEED) & 0x0fff);
	}
}

static void frames__native_single_part__exact_pixels(void **state)
{
	struct resp r;
	char ct[200];
	get(native_sop, "2", "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)),
			    "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
	assert_frame(r.body.data, r.body.len, 2, 16, 10);
	resp_release(&r);
	/* computed once, then kept in the index */
	long long has = db_scalar("SELECT count(*) FROM instance WHERE sop_uid = $1 AND frame_ranges IS NOT NULL", native_sop, NULL);
	assert_int_equal(has, 1);
}

static void frames__multipart_list__parts_in_order(void **state)
{
	struct resp r;
	const char *parts[4];
	size_t lens[4];
	char cts[4][128];
	get(native_sop, "3%2C1", "Accept: multipart/related; type=\"application/octet-stream\"", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(multipart_split(&r, parts, lens, 4, cts), 2);
	assert_string_equal(cts[0], "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
	assert_frame(parts[0], lens[0], 3, 16, 10);
	assert_frame(parts[1], lens[1], 1, 16, 10);
	resp_release(&r);
	/* any type: multipart in the stored syntax */
	get(native_sop, "1", "Accept: */*", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(multipart_split(&r, parts, lens, 4, NULL), 1);
	resp_release(&r);
}

static void frames__jpeg2000__decoded_or_as_stored(void **state)
{
	struct resp r;
	char ct[200];
	const char *parts[4];
	size_t lens[4];
	char cts[4][128];

	/* asked for in explicit VR little endian: decoded, lossless, pixel for pixel */
	get(j2k_sop, "3", "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)),
			    "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
	assert_frame(r.body.data, r.body.len, 3, 16, 10);
	resp_release(&r);
	/* as stored: the JPEG 2000 codestream (SOC and SIZ markers) */
	get(j2k_sop, "2", "Accept: multipart/related; type=\"application/octet-stream\"; transfer-syntax=*", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(multipart_split(&r, parts, lens, 4, cts), 1);
	assert_string_equal(cts[0], "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.90");
	assert_true(lens[0] > 4);
	assert_memory_equal(parts[0], "\xff\x4f\xff\x51", 4);
	resp_release(&r);
	get(j2k_sop, "1", "Accept: multipart/related; type=\"image/jp2\"", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(multipart_split(&r, parts, lens, 4, cts), 1);
	assert_string_equal(cts[0], "image/jp2; transfer-syntax=1.2.840.10008.1.2.4.90");
	resp_release(&r);
}

/* Are the bytes frame k of a rows x cols 8-bit interleaved RGB image with SEED? */
static void assert_rgb_frame(const char *data, size_t len, int k, int rows, int cols)
{
	size_t n = (size_t)rows * cols;
	assert_int_equal(len, n * 3);
	for (size_t i = 0; i < n; i++) {
		size_t g = (size_t)(k - 1) * n + i;
		for (unsigned c = 0; c < 3; c++)
			assert_int_equal((unsigned char)data[i * 3 + c], (g * 7 + SEED + c * 85) & 0xff);
	}
}

static void frames__rle_and_colour_sources__decoded_exactly(void **state)
{
	struct resp r;
	char ct[200];
	const char *le = "Accept: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1";

	get(rle_sop, "2", le, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)),
			    "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
	assert_frame(r.body.data, r.body.len, 2, 16, 10);
	resp_release(&r);
	get(rgb_rle_sop, "2", le, &r);
	assert_int_equal(r.status, 200);
	assert_rgb_frame(r.body.data, r.body.len, 2, 9, 11);
	resp_release(&r);
	get(rgb_j2k_sop, "1", le, &r);
	assert_int_equal(r.status, 200);
	assert_rgb_frame(r.body.data, r.body.len, 1, 9, 11);
	resp_release(&r);
	/* as stored: an RLE frame starts with its 64-byte header, segment count first */
	get(rle_sop, "1", "Accept: application/octet-stream; transfer-syntax=*", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Content-Type", ct, sizeof(ct)),
			    "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5");
	assert_true(r.body.len > 64);
	assert_memory_equal(r.body.data, "\x02\x00\x00\x00\x40\x00\x00\x00", 8); /* 2 segments (16 bits), first at 64 */
	resp_release(&r);
}

/* Frame n of sop is its last: exact, and the one after it is not found. */
static void assert_last_frame(const char *sop, int n, int rows, int cols)
{
	struct resp r;
	char k[16];
	snprintf(k, sizeof(k), "%d", n);
	get(sop, k, "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 200);
	assert_frame(r.body.data, r.body.len, n, rows, cols);
	resp_release(&r);
	snprintf(k, sizeof(k), "%d", n + 1);
	get(sop, k, "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(buf_str(&r.body), "The specified frame cannot be found.");
	resp_release(&r);
}

static void frames__thousand_frames__last_one_by_offset(void **state)
{
	assert_last_frame(big_sop, 1000, 8, 8);
}

static void frames__instance_larger_than_the_mapped_size__stored_and_framed(void **state)
{
	assert_last_frame(large_sop, 140, 512, 512);
}

static void frames__errors(void **state)
{
	struct resp r;
	const char *bad_list = "The specified frames value is not valid. At least one frame must be present, and all "
			       "requested frames must have value greater than 0.";
	get(native_sop, "0", "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(buf_str(&r.body), bad_list);
	resp_release(&r);
	get(native_sop, "1,x", "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 400);
	resp_release(&r);
	get(native_sop, "1,2", "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(buf_str(&r.body), "The accept header is supported for single frame retrieval, use multi-part "
					      "accept header instead.");
	resp_release(&r);
	get(native_sop, "1", "Accept: image/png", &r);
	assert_int_equal(r.status, 406);
	resp_release(&r);
	get(native_sop, "1", NULL, &r);
	assert_int_equal(r.status, 406);
	resp_release(&r);
	get(native_sop, "1", "Accept: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.50", &r);
	assert_int_equal(r.status, 406);
	resp_release(&r);
	get(uid_new(), "1", "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(buf_str(&r.body), "The specified instance cannot be found.");
	resp_release(&r);
	/* an answer is never larger than the pixel data: three frames of a
	 * three-frame instance pass, four do not */
	const char *multi = "Accept: multipart/related; type=\"application/octet-stream\"";
	get(native_sop, "1,1,2", multi, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	get(native_sop, "3,3,3,3", multi, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(buf_str(&r.body), "The requested frames add up to more than the instance's pixel data (960 bytes).");
	resp_release(&r);
}

static int teardown(void **state)
{
	delete_study(study);
	return 0;
}

/* A frame in many fragments (gdcmconv --split): as stored, the fragments
 * joined, the same code stream as the unsplit file's; decoded, the pixels. */
static void frames__many_fragments__joined(void **state)
{
	(void)state;
	char sop[65], split[600];
	snprintf(sop, sizeof(sop), "%s", uid_new());
	char *one = make_dcm("--study %s --series %s --sop %s --seed %d --rows 256 --cols 256 --ts j2k", study, series, sop, SEED);
	assert_non_null(one);
	snprintf(split, sizeof(split), "%s.split.dcm", one);
	assert_int_equal(run_cmd("gdcmconv --split 64 '%s' '%s'", one, split), 0);
	struct buf ranges;
	buf_init(&ranges, 0);
	assert_int_equal(dcm_frame_ranges(one, &ranges), 1); /* the unsplit file: one fragment */
	long long off, len;
	assert_int_equal(sscanf(buf_str(&ranges), "%lld:%lld", &off, &len), 2);
	assert_null(strchr(buf_str(&ranges), ','));
	struct buf all;
	assert_int_equal(file_read(one, &all), 0);
	assert_true(len > 64 * 64); /* more than 64 fragments of 64 bytes once split */
	const char *ct[] = { "Content-Type: application/dicom", "Accept: application/dicom+json", NULL };
	struct resp r;
	assert_int_equal(http_post_file("/v2/studies", ct, split, &r), 0);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	get(sop, "1", "Accept: multipart/related; type=\"application/octet-stream\"; transfer-syntax=*", &r);
	assert_int_equal(r.status, 200);
	const char *parts[2];
	size_t lens[2];
	char cts[2][128];
	assert_int_equal(multipart_split(&r, parts, lens, 2, cts), 1);
	assert_int_equal(lens[0], (size_t)len);
	assert_memory_equal(parts[0], all.data + off, (size_t)len);
	resp_release(&r);
	get(sop, "1", "Accept: application/octet-stream", &r);
	assert_int_equal(r.status, 200);
	assert_frame(r.body.data, r.body.len, 1, 256, 256);
	resp_release(&r);
	buf_release(&all);
	buf_release(&ranges);
	unlink(split);
	unlink(one);
	free(one);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames__native_single_part__exact_pixels),
		cmocka_unit_test(frames__multipart_list__parts_in_order),
		cmocka_unit_test(frames__jpeg2000__decoded_or_as_stored),
		cmocka_unit_test(frames__rle_and_colour_sources__decoded_exactly),
		cmocka_unit_test(frames__thousand_frames__last_one_by_offset),
		cmocka_unit_test(frames__instance_larger_than_the_mapped_size__stored_and_framed),
		cmocka_unit_test(frames__errors),
		cmocka_unit_test(frames__many_fragments__joined),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
