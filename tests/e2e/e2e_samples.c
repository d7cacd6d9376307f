/* End-to-end: the public sample files Debian ships with python3-pydicom
 * (RLE, JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000, big endian,
 * deflated, implicit VR, odd sizes, YBR, 1-, 8-, 16- and 32-bit), each
 * stored with new UIDs and read back as the service serves it: the whole
 * instance as explicit VR little endian, frame 1 as octet-stream and the
 * rendered PNG. Pixels are compared with an independent decoder's: dcmtk
 * (dcmdrle, dcmdjpeg, dcmdjpls, dcmconv, dcmj2pnm), or GDCM's own gdcmconv
 * for JPEG 2000, which dcmtk does not read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "dicom/dcm.h"

#define SAMPLES "/usr/lib/python3/dist-packages/pydicom/data/test_files"

struct sample {
	const char *name;
	int render_tol; /* largest difference from dcmj2pnm's rendering; -1: not compared */
};

static const struct sample samples[] = {
	{ "CT_small", 1 },
	{ "MR_small", 1 },
	{ "MR_small_implicit", 1 },
	{ "MR_small_bigendian", 1 },
	{ "MR_small_expb", 1 },
	{ "MR_small_RLE", 1 },
	{ "MR_small_jpeg_ls_lossless", 1 },
	{ "MR_small_jp2klossless", 1 },
	{ "MR_small_padded", 1 },
	{ "JPEG2000", 1 },
	{ "693_J2KI", 1 },
	/* the JPEG 2000 stream is signed, the data set says unsigned: GDCM
	 * follows the stream, dcmj2pnm (after gdcmconv) the data set */
	{ "J2K_pixelrep_mismatch", -1 },
	{ "JPGExtended", 1 },
	{ "JPEG-lossy", 1 },
	{ "image_dfl", 1 },
	{ "liver_1frame", 0 },
	{ "liver_expb_1frame", 0 },
	{ "rtdose", 1 },
	{ "rtdose_expb", 1 },
	/* (rtdose_rle: its odd-length encapsulated pixel data stops dcmodify) */
	{ "SC_rgb_rle", 0 },
	{ "SC_rgb_rle_2frame", 0 },
	{ "SC_rgb_rle_16bit", 1 },
	{ "SC_rgb_rle_32bit", 1 },
	{ "SC_rgb_jpeg_gdcm", 0 },
	{ "SC_rgb_jpeg_lossy_gdcm", 0 },
	{ "SC_rgb_jpeg_dcmtk", 2 }, /* YCbCr to RGB: dcmtk rounds its own way */
	{ "SC_rgb_dcmtk_+eb+cr", 0 },
	{ "SC_rgb_dcmtk_+eb+cy+n1", 2 }, /* YCbCr to RGB: dcmtk rounds its own way */
	{ "SC_rgb_dcmtk_+eb+cy+s2", 2 }, /* YCbCr to RGB: dcmtk rounds its own way */
	{ "SC_jpeg_no_color_transform", 0 },
	{ "SC_rgb_small_odd", 0 },
	{ "SC_rgb_small_odd_jpeg", 2 }, /* YCbCr to RGB: dcmtk rounds its own way */
	{ "SC_ybr_full_422_uncompressed", 2 }, /* YCbCr to RGB: dcmtk rounds its own way */
	{ "SC_rgb_gdcm_KY", 0 },
	{ "ExplVR_BigEnd", 0 },
	{ "GDCMJ2K_TextGBR", 0 },
};

static char dir[] = "/tmp/ade-samples.XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (access(SAMPLES "/MR_small.dcm", R_OK)) {
		fprintf(stderr, "the sample files of python3-pydicom are not installed (%s)\n", SAMPLES);
		return -1;
	}
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	run_cmd("rm -rf '%s'", dir);
	return 0;
}

/* The decoder of the other toolkit for the file's syntax, writing native
 * explicit VR little endian (YCbCr kept as YCbCr, as GDCM keeps it). */
static int reference_decode(const char *in, const char *out)
{
	char err[256], ts[72];
	struct dcm_file *f = dcm_open(in, err, sizeof(err));
	if (!f)
		return -1;
	snprintf(ts, sizeof(ts), "%s", dcm_transfer_syntax(f));
	dcm_free(f);
	const char *tool = "dcmconv +te";
	if (!strcmp(ts, "1.2.840.10008.1.2.5"))
		tool = "dcmdrle";
	else if (!strncmp(ts, "1.2.840.10008.1.2.4.5", 21) || !strcmp(ts, "1.2.840.10008.1.2.4.70"))
		tool = "dcmdjpeg +cn";
	else if (!strncmp(ts, "1.2.840.10008.1.2.4.8", 21))
		tool = "dcmdjpls";
	else if (!strncmp(ts, "1.2.840.10008.1.2.4.9", 21))
		tool = "gdcmconv --raw";
	return run_cmd("%s '%s' '%s' >/dev/null 2>&1", tool, in, out);
}

static void decode_png(const struct resp *r, struct buf *px, int *w, int *h, int *ch)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&img, r->body.data, r->body.len));
	*ch = (img.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
	img.format = *ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
	size_t n = PNG_IMAGE_SIZE(img);
	char *tmp = malloc(n);
	assert_non_null(tmp);
	assert_true(png_image_finish_read(&img, NULL, tmp, 0, NULL));
	buf_init(px, 0);
	buf_add(px, tmp, n);
	free(tmp);
	*w = (int)img.width;
	*h = (int)img.height;
}

/* A sample's copy as stored: its UIDs, whether it has a window. */
struct stored_sample {
	char study[72], series[72], sop[72];
	bool windowed;
};

/* The sample s copied to file with new UIDs (several samples share
 * theirs) and the PatientID v2 requires, and stored (200, or 202 with
 * warnings: implicit VR and the like). */
static void store_sample(const struct sample *s, const char *file, struct stored_sample *o)
{
	char err[256], pid[72];
	struct resp r;
	assert_int_equal(run_cmd("cp '" SAMPLES "/%s.dcm' '%s' && dcmodify -q -nb -gst -gse -gin -i '(0010,0020)=SAMPLE' '%s'",
				 s->name, file, file),
			 0);
	struct dcm_file *f = dcm_open(file, err, sizeof(err));
	assert_non_null(f);
	dcm_get_string(f, DCM_TAG(0x0020, 0x000D), o->study, sizeof(o->study));
	dcm_get_string(f, DCM_TAG(0x0020, 0x000E), o->series, sizeof(o->series));
	dcm_get_string(f, DCM_TAG(0x0008, 0x0018), o->sop, sizeof(o->sop));
	assert_int_equal(dcm_get_string(f, DCM_TAG(0x0010, 0x0020), pid, sizeof(pid)), 1);
	o->windowed = dcm_get_string(f, DCM_TAG(0x0028, 0x1050), err, sizeof(err)) == 1;
	dcm_free(f);

	const char *ct[] = { "Content-Type: application/dicom", "Accept: application/dicom+json", NULL };
	assert_int_equal(http_post_file("/v2/studies", ct, file, &r), 0);
	if (r.status != 200 && r.status != 202)
		fprintf(stderr, "%s: STOW %ld %s\n", s->name, r.status, buf_str(&r.body));
	assert_true(r.status == 200 || r.status == 202);
	assert_non_null(strstr(buf_str(&r.body), o->sop));
	assert_null(strstr(buf_str(&r.body), "00081198")); /* no failed instance */
	resp_release(&r);
}

/* The whole instance at url, explicit VR little endian (into got), has
 * want's pixels; its first frame's bytes as served into frame1. */
static void whole_instance_matches(const char *url, const char *got, struct native *want, struct buf *frame1)
{
	struct native have;
	struct resp r;
	const char *le[] = { "Accept: application/dicom; transfer-syntax=1.2.840.10008.1.2.1", NULL };
	assert_int_equal(http_get_to_file(url, le, got, &r), 0);
	long status = r.status;
	resp_release(&r);
	assert_int_equal(status, 200);
	assert_int_equal(native_read(got, &have), 0);
	assert_string_equal(have.ts, "1.2.840.10008.1.2.1");
	assert_string_equal(have.pi, want->pi);
	assert_int_equal(have.rows, want->rows);
	assert_int_equal(have.cols, want->cols);
	assert_int_equal(have.bits, want->bits);
	assert_int_equal(have.frames, want->frames);
	/* the frame as served: colour by plane when the file has it so */
	buf_add(frame1, have.px.data, have.px.len / (size_t)have.frames);
	native_interleave(want);
	native_interleave(&have);
	assert_int_equal(have.px.len, want->px.len);
	assert_memory_equal(have.px.data, want->px.data, want->px.len);
	native_release(&have);
}

/* The rendered PNG at url beside dcmj2pnm's of ref (into pnm): the file's
 * window, else min-max, within the sample's tolerance. */
static void rendered_matches(const struct sample *s, const char *url, const char *ref, const char *pnm, bool windowed)
{
	char fu[1100];
	struct resp r;
	snprintf(fu, sizeof(fu), "%s/rendered", url);
	const char *png[] = { "Accept: image/png", NULL };
	assert_int_equal(http_do("GET", fu, png, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	if (s->render_tol < 0) {
		assert_memory_equal(r.body.data, "\x89PNG", 4);
		resp_release(&r);
		return;
	}
	assert_int_equal(run_cmd("dcmj2pnm --write-raw-pnm %s '%s' '%s' >/dev/null 2>&1", windowed ? "+Wi 1" : "+Wm", ref, pnm),
			 0);
	struct buf rpx, opx;
	int rw, rh, rch, ow, oh, och;
	assert_int_equal(pnm_read(pnm, &rpx, &rw, &rh, &rch), 0);
	decode_png(&r, &opx, &ow, &oh, &och);
	assert_int_equal(ow, rw);
	assert_int_equal(oh, rh);
	assert_int_equal(och, rch);
	int worst = 0;
	for (size_t i = 0; i < rpx.len; i++) {
		int d = abs((unsigned char)rpx.data[i] - (unsigned char)opx.data[i]);
		worst = d > worst ? d : worst;
	}
	if (worst > s->render_tol)
		fprintf(stderr, "%s: rendered differs from dcmj2pnm by up to %d\n", s->name, worst);
	assert_true(worst <= s->render_tol);
	buf_release(&rpx);
	buf_release(&opx);
	resp_release(&r);
}

static void sample__stored_and_served(void **state)
{
	const struct sample *s = *state;
	char file[512], ref[512], got[512], pnm[512], url[1024];
	struct stored_sample o;
	struct resp r;

	snprintf(file, sizeof(file), "%s/%s.dcm", dir, s->name);
	snprintf(ref, sizeof(ref), "%s/%s.ref.dcm", dir, s->name);
	snprintf(got, sizeof(got), "%s/%s.got.dcm", dir, s->name);
	snprintf(pnm, sizeof(pnm), "%s/%s.pnm", dir, s->name);
	store_sample(s, file, &o);
	assert_int_equal(reference_decode(file, ref), 0);
	struct native want;
	assert_int_equal(native_read(ref, &want), 0);
	snprintf(url, sizeof(url), "/v2/studies/%s/series/%s/instances/%s", o.study, o.series, o.sop);
	struct buf frame1;
	buf_init(&frame1, 0);
	whole_instance_matches(url, got, &want, &frame1);
	native_release(&want);

	/* frame 1, octet-stream: the first frame's bytes */
	char fu[1100];
	snprintf(fu, sizeof(fu), "%s/frames/1", url);
	const char *oct[] = { "Accept: application/octet-stream", NULL };
	assert_int_equal(http_do("GET", fu, oct, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, frame1.len);
	assert_memory_equal(r.body.data, frame1.data, frame1.len);
	buf_release(&frame1);
	resp_release(&r);

	rendered_matches(s, url, ref, pnm, o.windowed);
}

/* Truncated and corrupted copies: each is stored or refused in the
 * service's format (409 with 43264 for what cannot be read; 45070 when an
 * earlier variant stored the same UIDs), never a 5xx;
 * GDCM aborts on some of them, in a child, not in the responder. */
static void samples__truncated_and_corrupted(void **state)
{
	(void)state;
	static const char *const names[] = { "MR_small", "CT_small", "MR_small_RLE", "JPEG2000", "image_dfl",
					     "MR_small_bigendian", "SC_rgb_rle", "rtplan", "reportsi" };
	const char *ct[] = { "Content-Type: application/dicom", "Accept: application/dicom+json", NULL };
	uint32_t rng = 12345;
	int refused = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char src[512];
		struct buf orig;
		snprintf(src, sizeof(src), SAMPLES "/%s.dcm", names[i]);
		assert_int_equal(file_read(src, &orig), 0);
		for (int k = 0; k < 10; k++) {
			struct buf b;
			buf_init(&b, 0);
			if (k < 5) { /* cut after the preamble, in the meta header, in the data set */
				size_t cuts[] = { 132, 200, 300, orig.len / 3, orig.len - 10 };
				buf_add(&b, orig.data, cuts[k]);
			} else { /* eight bytes changed at random */
				buf_add(&b, orig.data, orig.len);
				for (int m = 0; m < 8; m++) {
					rng = rng * 1103515245u + 12345u;
					size_t at = 132 + (rng >> 8) % (b.len - 132);
					rng = rng * 1103515245u + 12345u;
					b.data[at] = (char)(rng >> 16);
				}
			}
			struct resp r;
			assert_int_equal(http_do("POST", "/v2/studies", ct, b.data, b.len, &r), 0);
			if (r.status >= 500)
				fprintf(stderr, "%s variant %d: %ld\n", names[i], k, r.status);
			assert_true(r.status == 200 || r.status == 202 || r.status == 409);
			if (r.status == 409) {
				/* unreadable, or the original's UIDs stored already by an earlier variant */
				bool unreadable = strstr(buf_str(&r.body), "43264") != NULL;
				assert_true(unreadable || strstr(buf_str(&r.body), "45070"));
				refused += unreadable;
			}
			resp_release(&r);
			buf_release(&b);
		}
		buf_release(&orig);
	}
	assert_true(refused > 0);
	struct resp r;
	assert_int_equal(http_do("GET", "/health/check", NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	resp_release(&r);
}

int main(void)
{
	e2e_init();
	struct CMUnitTest tests[sizeof(samples) / sizeof(samples[0]) + 1];
	size_t n = 0;
	for (; n < sizeof(samples) / sizeof(samples[0]); n++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(sample__stored_and_served, (void *)&samples[n]);
		tests[n].name = samples[n].name;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(samples__truncated_and_corrupted);
	return _cmocka_run_group_tests("samples", tests, n, setup, teardown);
}
