/* End-to-end, run by extended.sh: EMULATOR_URL is a stack with [retrieve]
 * transcoding = all and bulkdata_uri = true, EMULATOR_AZURE_URL the suite's
 * stack with the service's defaults. Every target syntax round trip is
 * decoded by another toolkit (dcmtk's dcmdrle, dcmdjpeg, dcmdjpls, dcmconv;
 * gdcmconv for JPEG 2000) and compared with mkdcm's pixels: exactly for
 * lossless syntaxes, within a bound for lossy ones. Then frames in
 * PS3.18's compressed media types, and bulk data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "dicom/dcm.h"

/* bulk data inside a sequence's first item */
#define NESTED "--set 0008,1140/0008,1150=UI:1.2.3 --set 0008,1140/0029,0010=LO:EMU --set 0008,1140/0029,1001=OB:wxyz"

static const char *extended, *azure;
static char dir[] = "/tmp/ade-transcode.XXXXXX";
static char study[72], series[72], grey16[72], grey8[72], rgb[72], j2k[72];

enum source { GREY16, GREY8, RGB, NSOURCES };
static const char *const sources[NSOURCES] = { grey16, grey8, rgb };
static const char *const source_opts[NSOURCES] = { "--frames 2", "--bits 8", "--rgb" };

static const struct target {
	const char *ts, *decoder;
	bool lossy, eight_bit_only;
} targets[] = {
	{ "1.2.840.10008.1.2", "dcmconv +te", false, false },
	{ "1.2.840.10008.1.2.5", "dcmdrle", false, false },
	{ "1.2.840.10008.1.2.4.50", "dcmdjpeg", true, true },
	{ "1.2.840.10008.1.2.4.51", "dcmdjpeg", true, true },
	{ "1.2.840.10008.1.2.4.57", "dcmdjpeg", false, false },
	{ "1.2.840.10008.1.2.4.70", "dcmdjpeg", false, false },
	{ "1.2.840.10008.1.2.4.80", "dcmdjpls", false, false },
	{ "1.2.840.10008.1.2.4.81", "dcmdjpls", true, false },
	{ "1.2.840.10008.1.2.4.91", "gdcmconv --raw", true, false },
};

static void path_of(char *out, size_t n, const char *sop)
{
	snprintf(out, n, "/v2/studies/%s/series/%s/instances/%s", study, series, sop);
}

static int setup(void **state)
{
	(void)state;
	extended = e2e_base();
	azure = getenv("EMULATOR_AZURE_URL");
	if (!azure || !mkdtemp(dir))
		return -1;
	snprintf(study, sizeof(study), "%s", uid_new());
	snprintf(series, sizeof(series), "%s", uid_new());
	char *uids[] = { grey16, grey8, rgb, j2k };
	for (int i = 0; i < 4; i++)
		snprintf(uids[i], 72, "%s", uid_new());
	for (int i = 0; i < NSOURCES; i++)
		if (store_made("--study %s --series %s --sop %s --rows 32 --cols 48 --smooth --set 0029,1010=OB:abcd " NESTED " %s", study,
			       series, sources[i], source_opts[i]))
			return -1;
	return store_made("--study %s --series %s --sop %s --rows 16 --cols 16 --ts j2k", study, series, j2k);
}

static int teardown(void **state)
{
	(void)state;
	e2e_use_base(extended);
	delete_study(study);
	run_cmd("rm -rf '%s'", dir);
	return 0;
}

/* mkdcm's pixels for a source, as stored */
static void source_pixels(int i, struct native *n)
{
	char *f = make_dcm("--study %s --series %s --sop %s --rows 32 --cols 48 --smooth --set 0029,1010=OB:abcd " NESTED " %s", study,
			   series, sources[i], source_opts[i]);
	assert_non_null(f);
	assert_int_equal(native_read(f, n), 0);
	unlink(f);
	free(f);
}

static void transcode__every_target_round_trips(void **state)
{
	(void)state;
	char path[300], got[600], dec[600], accept[160], ct[200];
	struct resp r;
	for (int i = 0; i < NSOURCES; i++) {
		struct native want;
		source_pixels(i, &want);
		path_of(path, sizeof(path), sources[i]);
		for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
			const struct target *tg = &targets[t];
			snprintf(accept, sizeof(accept), "Accept: application/dicom; transfer-syntax=%s", tg->ts);
			const char *h[] = { accept, NULL };
			snprintf(got, sizeof(got), "%s/%d-%zu.dcm", dir, i, t);
			snprintf(dec, sizeof(dec), "%s/%d-%zu.dec.dcm", dir, i, t);

			/* as the service: only explicit VR LE and JPEG 2000 lossless */
			e2e_use_base(azure);
			assert_int_equal(http_do("GET", path, h, NULL, 0, &r), 0);
			assert_int_equal(r.status, 406);
			assert_non_null(strstr(buf_str(&r.body), "The request headers are not acceptable"));
			resp_release(&r);

			e2e_use_base(extended);
			assert_int_equal(http_get_to_file(path, h, got, &r), 0);
			if (tg->eight_bit_only && i == GREY16) {
				/* GDCM would label 16-bit bit streams baseline or extended */
				assert_int_equal(r.status, 406);
				resp_release(&r);
				continue;
			}
			if (r.status != 200)
				fprintf(stderr, "source %d to %s: status %ld\n", i, tg->ts, r.status);
			assert_int_equal(r.status, 200);
			snprintf(ct, sizeof(ct), "application/dicom; transfer-syntax=%s", tg->ts);
			char ctype[200];
			assert_non_null(resp_header(&r, "Content-Type", ctype, sizeof(ctype)));
			assert_string_equal(ctype, ct);
			resp_release(&r);

			char err[256], flag[8];
			struct dcm_file *f = dcm_open(got, err, sizeof(err));
			assert_non_null(f);
			assert_string_equal(dcm_transfer_syntax(f), tg->ts);
			int lossy = dcm_get_string(f, DCM_TAG(0x0028, 0x2110), flag, sizeof(flag));
			assert_int_equal(lossy == 1 && !strcmp(flag, "01"), tg->lossy);
			dcm_free(f);

			assert_int_equal(run_cmd("%s '%s' '%s' >/dev/null 2>&1", tg->decoder, got, dec), 0);
			struct native have;
			assert_int_equal(native_read(dec, &have), 0);
			native_interleave(&have);
			assert_int_equal(have.rows, want.rows);
			assert_int_equal(have.cols, want.cols);
			assert_int_equal(have.frames, want.frames);
			assert_int_equal(have.px.len, want.px.len);
			if (!tg->lossy) {
				assert_memory_equal(have.px.data, want.px.data, want.px.len);
			} else {
				/* lossy: small errors on mkdcm's gradients */
				size_t b = want.bits / 8, n = want.px.len / b;
				double range = want.bits == 16 ? 4095 : 255, sum = 0, worst = 0;
				for (size_t k = 0; k < n; k++) {
					const unsigned char *p = (const unsigned char *)have.px.data + k * b,
							    *q = (const unsigned char *)want.px.data + k * b;
					double d = fabs((b == 2 ? p[0] | p[1] << 8 : p[0]) - (double)(b == 2 ? q[0] | q[1] << 8 : q[0]));
					sum += d;
					worst = d > worst ? d : worst;
				}
				if (sum / n > range / 100 || worst > range / 10)
					fprintf(stderr, "source %d to %s: mean error %.2f, worst %.0f\n", i, tg->ts, sum / n, worst);
				assert_true(sum / n <= range / 100);
				assert_true(worst <= range / 10);
			}
			native_release(&have);
		}
		native_release(&want);
	}
}

/* the bytes of frame n (1-based) of a file, fragments joined */
static void frame_bytes(const char *file, long n, struct buf *out)
{
	struct buf ranges;
	buf_init(&ranges, 0);
	buf_init(out, 0);
	assert_true(dcm_frame_ranges(file, &ranges) >= n);
	const char *p = buf_str(&ranges);
	for (long i = 1; i < n; i++)
		p = strchr(p, ';') + 1;
	FILE *fp = fopen(file, "rb");
	assert_non_null(fp);
	while (*p && *p != ';') {
		long long o, l;
		assert_int_equal(sscanf(p, "%lld:%lld", &o, &l), 2);
		char *tmp = malloc((size_t)l);
		assert_int_equal(fseeko(fp, (off_t)o, SEEK_SET), 0);
		assert_int_equal(fread(tmp, 1, (size_t)l, fp), (size_t)l);
		buf_add(out, tmp, (size_t)l);
		free(tmp);
		p += strcspn(p, ",;");
		if (*p == ',')
			p++;
	}
	fclose(fp);
	buf_release(&ranges);
}

static void frames__compressed_media_types(void **state)
{
	(void)state;
	char path[300], fpath[400], whole[600], ctype[200];
	struct resp r;
	path_of(path, sizeof(path), grey16);
	struct {
		const char *accept, *ct, *ts;
		const char *magic;
		size_t magic_len;
	} cases[] = {
		{ "Accept: image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.70", "image/jpeg", "1.2.840.10008.1.2.4.70", "\xff\xd8", 2 },
		{ "Accept: image/jls", "image/jls", "1.2.840.10008.1.2.4.80", "\xff\xd8\xff\xf7", 4 },
		{ "Accept: image/jp2; transfer-syntax=1.2.840.10008.1.2.4.91", "image/jp2", "1.2.840.10008.1.2.4.91", "\xff\x4f\xff\x51", 4 },
		/* RLE: a 64-byte header whose first word counts the segments (2 for 16 bits) */
		{ "Accept: image/dicom-rle", "image/dicom-rle", "1.2.840.10008.1.2.5", "\x02\x00\x00\x00", 4 },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const char *h[] = { cases[c].accept, NULL };
		snprintf(fpath, sizeof(fpath), "%s/frames/2", path);
		e2e_use_base(azure);
		assert_int_equal(http_do("GET", fpath, h, NULL, 0, &r), 0);
		assert_int_equal(r.status, 406);
		resp_release(&r);

		e2e_use_base(extended);
		assert_int_equal(http_do("GET", fpath, h, NULL, 0, &r), 0);
		assert_int_equal(r.status, 200);
		char want_ct[200];
		snprintf(want_ct, sizeof(want_ct), "%s; transfer-syntax=%s", cases[c].ct, cases[c].ts);
		assert_non_null(resp_header(&r, "Content-Type", ctype, sizeof(ctype)));
		assert_string_equal(ctype, want_ct);
		assert_memory_equal(r.body.data, cases[c].magic, cases[c].magic_len);
		/* the same bytes as frame 2 of the whole instance in that syntax */
		char accept[160];
		snprintf(accept, sizeof(accept), "Accept: application/dicom; transfer-syntax=%s", cases[c].ts);
		const char *hw[] = { accept, NULL };
		struct resp w;
		snprintf(whole, sizeof(whole), "%s/frames-%zu.dcm", dir, c);
		assert_int_equal(http_get_to_file(path, hw, whole, &w), 0);
		assert_int_equal(w.status, 200);
		resp_release(&w);
		struct buf fb;
		frame_bytes(whole, 2, &fb);
		assert_int_equal(r.body.len, fb.len);
		assert_memory_equal(r.body.data, fb.data, fb.len);
		buf_release(&fb);
		resp_release(&r);
	}
	/* both frames, multipart */
	const char *mp[] = { "Accept: multipart/related; type=\"image/jp2\"; transfer-syntax=1.2.840.10008.1.2.4.91", NULL };
	snprintf(fpath, sizeof(fpath), "%s/frames/1,2", path);
	assert_int_equal(http_do("GET", fpath, mp, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	const char *parts[4];
	size_t lens[4];
	char cts[4][128];
	assert_int_equal(multipart_split(&r, parts, lens, 4, cts), 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(cts[i], "image/jp2; transfer-syntax=1.2.840.10008.1.2.4.91");
		assert_memory_equal(parts[i], "\xff\x4f\xff\x51", 4);
	}
	resp_release(&r);
}

/* path of a BulkDataURI under the base it was given for */
static const char *under_base(const char *uri)
{
	size_t n = strlen(e2e_base());
	assert_int_equal(strncmp(uri, e2e_base(), n), 0);
	return uri + n;
}

/* As the service: bulk data left out of the metadata, while the route
 * answers there too. */
static void bulkdata__left_out_of_metadata_as_the_service(void **state)
{
	(void)state;
	char path[300], mpath[400], bpath[600];
	struct resp r;
	const char *json[] = { "Accept: application/dicom+json", NULL };
	const char *oct[] = { "Accept: application/octet-stream", NULL };

	path_of(path, sizeof(path), grey16);
	snprintf(mpath, sizeof(mpath), "%s/metadata", path);
	e2e_use_base(azure);
	assert_int_equal(http_do("GET", mpath, json, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(strstr(buf_str(&r.body), "BulkDataURI"));
	assert_null(strstr(buf_str(&r.body), "\"7FE00010\""));
	assert_null(strstr(buf_str(&r.body), "\"00291010\""));
	resp_release(&r);
	snprintf(bpath, sizeof(bpath), "%s/bulkdata/00291010", path);
	assert_int_equal(http_do("GET", bpath, oct, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 4);
	assert_memory_equal(r.body.data, "abcd", 4);
	resp_release(&r);
}

/* The private element's link as multipart, and a link inside a sequence
 * (tag/item/tag), of the grey16 instance's metadata ds at path. */
static void private_links(const cJSON *ds, const char *path)
{
	char bpath[600];
	struct resp r;
	const char *oct[] = { "Accept: application/octet-stream", NULL };
	cJSON *priv = cJSON_GetObjectItem(ds, "00291010");
	assert_non_null(priv);
	const char *uri = cJSON_GetObjectItem(priv, "BulkDataURI")->valuestring;
	const char *mp[] = { "Accept: multipart/related; type=\"application/octet-stream\"", NULL };
	assert_int_equal(http_do("GET", under_base(uri), mp, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	const char *parts[2];
	size_t lens[2];
	char cts[2][128];
	assert_int_equal(multipart_split(&r, parts, lens, 2, cts), 1);
	assert_int_equal(lens[0], 4);
	assert_memory_equal(parts[0], "abcd", 4);
	assert_string_equal(cts[0], "application/octet-stream");
	resp_release(&r);
	cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ds, "00081140"), "Value"), 0);
	assert_non_null(item);
	uri = cJSON_GetObjectItem(cJSON_GetObjectItem(item, "00291001"), "BulkDataURI")->valuestring;
	snprintf(bpath, sizeof(bpath), "%s/bulkdata/00081140/1/00291001", path);
	assert_string_equal(under_base(uri), bpath);
	assert_int_equal(http_do("GET", under_base(uri), oct, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 4);
	assert_memory_equal(r.body.data, "wxyz", 4);
	resp_release(&r);
}

/* bulkdata_uri: links in the metadata, followed as given; the pixel data
 * native even when stored as JPEG 2000. */
static void bulkdata__links_followed(void **state)
{
	(void)state;
	char path[300], mpath[400], bpath[600];
	struct resp r;
	const char *json[] = { "Accept: application/dicom+json", NULL };
	const char *oct[] = { "Accept: application/octet-stream", NULL };

	e2e_use_base(extended);
	const char *sops[] = { grey16, j2k };
	for (int s = 0; s < 2; s++) {
		path_of(path, sizeof(path), sops[s]);
		snprintf(mpath, sizeof(mpath), "%s/metadata", path);
		assert_int_equal(http_do("GET", mpath, json, NULL, 0, &r), 0);
		assert_int_equal(r.status, 200);
		cJSON *arr = resp_json(&r), *ds = cJSON_GetArrayItem(arr, 0);
		resp_release(&r);
		cJSON *pd = cJSON_GetObjectItem(ds, "7FE00010");
		assert_non_null(pd);
		assert_string_equal(cJSON_GetObjectItem(pd, "vr")->valuestring, s == 0 ? "OW" : "OB");
		const char *uri = cJSON_GetObjectItem(pd, "BulkDataURI")->valuestring;
		snprintf(bpath, sizeof(bpath), "%s/bulkdata/7FE00010", path);
		assert_string_equal(under_base(uri), bpath);
		assert_int_equal(http_do("GET", under_base(uri), oct, NULL, 0, &r), 0);
		assert_int_equal(r.status, 200);
		char ctype[200];
		assert_non_null(resp_header(&r, "Content-Type", ctype, sizeof(ctype)));
		assert_string_equal(ctype, "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
		if (s == 0) {
			struct native want;
			source_pixels(GREY16, &want);
			assert_int_equal(r.body.len, want.px.len);
			assert_memory_equal(r.body.data, want.px.data, want.px.len);
			native_release(&want);
		} else {
			assert_int_equal(r.body.len, 16 * 16 * 2);
		}
		resp_release(&r);
		if (s == 0)
			private_links(ds, path);
		cJSON_Delete(arr);
	}
}

/* What cannot be served: the service's messages. */
static void bulkdata__bad_paths(void **state)
{
	(void)state;
	char path[300], bpath[600];
	struct resp r;
	const char *oct[] = { "Accept: application/octet-stream", NULL };

	e2e_use_base(extended);
	path_of(path, sizeof(path), grey16);
	struct {
		const char *tail, *accept;
		long status;
		const char *message;
	} bad[] = {
		{ "bulkdata/7FE0", "Accept: application/octet-stream", 400, "The specified bulk data path is not valid." },
		{ "bulkdata/00291010/0/00291010", "Accept: application/octet-stream", 400, "The specified bulk data path is not valid." },
		{ "bulkdata/00100010", "Accept: application/octet-stream", 404, "The specified bulk data cannot be found." },
		{ "bulkdata/00091010", "Accept: application/octet-stream", 404, "The specified bulk data cannot be found." },
		{ "bulkdata/00081140/2/00291001", "Accept: application/octet-stream", 404, "The specified bulk data cannot be found." },
		{ "bulkdata/00081140/1", "Accept: application/octet-stream", 400, "The specified bulk data path is not valid." },
		{ "bulkdata/00291010", "Accept: image/jpeg", 406, "The request headers are not acceptable" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *h[] = { bad[i].accept, NULL };
		snprintf(bpath, sizeof(bpath), "%s/%s", path, bad[i].tail);
		assert_int_equal(http_do("GET", bpath, h, NULL, 0, &r), 0);
		assert_int_equal(r.status, bad[i].status);
		assert_non_null(strstr(buf_str(&r.body), bad[i].message));
		resp_release(&r);
	}
	snprintf(bpath, sizeof(bpath), "/v2/studies/%s/series/%s/instances/%s/bulkdata/7FE00010", study, series, uid_new());
	assert_int_equal(http_do("GET", bpath, oct, NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(buf_str(&r.body), "The specified instance cannot be found."));
	resp_release(&r);
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transcode__every_target_round_trips),
		cmocka_unit_test(frames__compressed_media_types),
		cmocka_unit_test(bulkdata__left_out_of_metadata_as_the_service),
		cmocka_unit_test(bulkdata__links_followed),
		cmocka_unit_test(bulkdata__bad_paths),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
