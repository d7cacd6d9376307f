/* End-to-end: STOW-RS of files that cannot be read whole (§3): cut short,
 * or refused by the walk before GDCM (dcm_walk.cc), and the sound files of
 * every syntax that walk reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

/* POSTs one file as application/dicom to path; returns the response. */
static void post_one(const char *path, const char *file, struct resp *r)
{
	assert_int_equal(post_dicom_file(path, file, r), 0);
}

/* Stores f: refused as unreadable (409, 43264); what came back, if not. */
static void refused_unreadable(const char *f, const char *what)
{
	struct resp r;
	post_one("/v2/studies", f, &r);
	if (r.status != 409)
		fprintf(stderr, "%s: %ld\n", what, r.status);
	assert_int_equal(r.status, 409);
	cJSON *j = resp_json(&r);
	assert_int_equal(dj_int(cJSON_GetArrayItem(dj_seq(j, "00081198"), 0), "00081197", 0), 43264);
	cJSON_Delete(j);
	resp_release(&r);
}

/* A file cut inside its pixel data (which the parse does not load) is
 * refused as unreadable, not stored to fail every later read; whole, the
 * same file is stored. The store-time child takes a file in one of three
 * ways by its size (src/dicom/sandbox.c): read into its memory up to 4 MiB,
 * mapped up to 64 MiB, read through its descriptor beyond; the last two
 * kinds here are a 5 MB and a 68 MB file, one for each of the others. */
static void stow__truncated_pixel_data__409(void **state)
{
	static const char *const kinds[] = { "--rows 32 --cols 32", "--rows 32 --cols 32 --ts rle",
					     "--rows 32 --cols 32 --ts j2k", "--rows 1600 --cols 1600",
					     "--rows 512 --cols 512 --frames 130" };
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char *f = make_dcm("%s", kinds[k]);
		struct buf whole;
		struct resp r;
		buf_init(&whole, 0);
		assert_int_equal(file_read(f, &whole), 0);
		/* cut inside the pixel data element, never at its start (a file
		 * cut there is a whole data set without pixel data, and stored:
		 * a JPEG 2000 file cut at three quarters once was) */
		const char *px = NULL;
		for (const char *p = whole.data; (p = memmem(p, whole.len - (size_t)(p - whole.data), "\xe0\x7f\x10\x00", 4));
		     p++)
			px = p;
		assert_non_null(px);
		size_t at = (size_t)(px - whole.data), rest = whole.len - at;
		size_t cuts[] = { whole.len - 1, at + rest * 3 / 4, at + 13 };
		for (size_t c = 0; c < 3; c++) {
			assert_int_equal(file_write(f, whole.data, cuts[c]), 0);
			char what[200];
			snprintf(what, sizeof(what), "%s cut at %zu of %zu", kinds[k], cuts[c], whole.len);
			refused_unreadable(f, what);
		}
		assert_int_equal(file_write(f, whole.data, whole.len), 0);
		post_one("/v2/studies", f, &r);
		assert_int_equal(r.status, 200);
		resp_release(&r);
		buf_release(&whole);
		unlink(f);
		free(f);
	}
}

/* The responders' log (scripts/up's), and how long it is now. */
static long responder_log(char *path, size_t n)
{
	struct stat st;
	assert_non_null(getenv("EMULATOR_VAR"));
	snprintf(path, n, "%s/log/dicom-fcgi.log", getenv("EMULATOR_VAR"));
	return stat(path, &st) ? 0 : (long)st.st_size;
}

/* A file mkdcm made with args, its bytes into d; its path. */
static char *made(const char *args, struct buf *d)
{
	char *f = make_dcm("%s", args);
	assert_non_null(f);
	buf_init(d, 0);
	assert_int_equal(file_read(f, d), 0);
	return f;
}

/* Posts d (a file made, then changed) as f: refused as unreadable (409,
 * 43264), and refused by the walk before GDCM (where GDCM took seconds of
 * CPU): the responders' log gives the walk's reason, why (GDCM's refusal
 * gives none). Then d and f go. */
static void refused_for(char *f, struct buf *d, const char *why)
{
	char log[4096], want[400];
	assert_int_equal(file_write(f, d->data, d->len), 0);
	long from = responder_log(log, sizeof(log));
	refused_unreadable(f, why);
	/* what the log gained since the request (not the whole log again) */
	struct buf since;
	char chunk[65536];
	size_t got;
	buf_init(&since, 0);
	FILE *lf = fopen(log, "rb");
	assert_non_null(lf);
	assert_int_equal(fseek(lf, from, SEEK_SET), 0);
	while ((got = fread(chunk, 1, sizeof(chunk), lf)) > 0)
		buf_add(&since, chunk, got);
	fclose(lf);
	buf_add(&since, "", 1);
	snprintf(want, sizeof(want), "unreadable instance: The DICOM instance is invalid: %s", why);
	if (!strstr(since.data, want))
		fprintf(stderr, "not in the log since byte %ld: %s\n", from, want);
	assert_non_null(strstr(since.data, want));
	buf_release(&since);
	buf_release(d);
	unlink(f);
	free(f);
}

/* A file mkdcm made with args, n bytes at off past the first place of
 * find (flen bytes) replaced by bytes: refused for why. */
static void refused_changed(const char *args, const char *find, size_t flen, size_t off, const char *bytes, size_t n,
			    const char *why)
{
	struct buf d;
	char *f = made(args, &d);
	char *at = memmem(d.data, d.len, find, flen);
	assert_non_null(at);
	assert_true(at + off + n <= d.data + d.len);
	memcpy(at + off, bytes, n);
	refused_for(f, &d, why);
}

/* An element of an unknown VR cost GDCM seconds of CPU for a 1 KB file:
 * such a file is refused before GDCM sees it. */
static void stow__unknown_vr__refused_by_the_walk(void **state)
{
	struct buf d, out;
	char *f = made("--rows 2 --cols 2", &d);
	const char *px = memmem(d.data, d.len, "\xe0\x7f\x10\x00", 4);
	assert_non_null(px);
	/* (0011,0010) XX 4 "abcd", before the pixel data */
	static const unsigned char el[] = { 0x11, 0x00, 0x10, 0x00, 'X', 'X', 4, 0, 'a', 'b', 'c', 'd' };
	buf_init(&out, 0);
	buf_add(&out, d.data, (size_t)(px - d.data));
	buf_add(&out, el, sizeof(el));
	buf_add(&out, px, d.len - (size_t)(px - d.data));
	buf_release(&d);
	refused_for(f, &out, "element (0011,0010) has no known VR (0x5858) at byte ");
}

/* The same in the file meta header (found by fuzz_probe): a later element
 * of an unknown VR there, (0002,0013) "S;" for SH, had GDCM read the header
 * again from elsewhere, take "DICM" for a length and zero 1.3 GB (5 s). */
static void stow__unknown_vr_in_meta__refused_by_the_walk(void **state)
{
	refused_changed("--rows 2 --cols 2", "\x02\x00\x13\x00SH", 6, 5, ";", 1,
			"file meta element (0002,0013) has no known VR (0x533B) at byte ");
}

/* An implicit VR data set's lengths are walked too: a PatientName
 * 0x4D000000 bytes long in a 1 KB file had GDCM zero 1.3 GB (5 s); so had
 * one inside a sequence's item. */
static void stow__implicit_vr_length_past_end__refused_by_the_walk(void **state)
{
	/* PatientName; the item's SeriesInstanceUID (8 bytes long: the series'
	 * own UID is longer) */
	const char *at[] = { "\x10\x00\x10\x00", "\x20\x00\x0e\x00\x08\x00\x00\x00" };
	const size_t atlen[] = { 4, 8 };
	const char *why[] = { "element (0010,0010)'s length (1291845632) runs past the end of the data set at byte ",
			      "element (0020,000E)'s length (1291845632) runs past the end of its item at byte " };
	for (size_t k = 0; k < 2; k++)
		refused_changed("--ts implicit --rows 2 --cols 2 --set 0008,1115/0020,000e=UI:1.2.3.4", at[k], atlen[k], 4,
				"\x00\x00\x00\x4d", 4, why[k]);
}

/* The walk before GDCM lets sound files of those syntaxes through, their
 * sequences whole: implicit VR (202, with the service's warning), big
 * endian (200) and deflated (200; made by dcmtk's dcmconv +td), a
 * sequence's value in the metadata. */
static void stow__other_syntaxes_with_sequences__stored(void **state)
{
	const char *ts[] = { "implicit", "big", "explicit" };
	const long status[] = { 202, 200, 200 };
	for (size_t k = 0; k < 3; k++) {
		char st[80], se[80], sop[80], path[400];
		snprintf(st, sizeof(st), "%s", uid_new());
		snprintf(se, sizeof(se), "%s", uid_new());
		snprintf(sop, sizeof(sop), "%s", uid_new());
		char *f = make_dcm("--ts %s --study %s --series %s --sop %s --set 0008,1115/0020,000e=UI:1.2.3.%zu", ts[k],
				   st, se, sop, k);
		if (k == 2) /* deflated */
			assert_int_equal(run_cmd("dcmconv +td '%s' '%s.z' && mv '%s.z' '%s'", f, f, f, f), 0);
		struct resp r;
		post_one("/v2/studies", f, &r);
		assert_int_equal(r.status, status[k]);
		resp_release(&r);
		snprintf(path, sizeof(path), "/v2/studies/%s/series/%s/instances/%s/metadata", st, se, sop);
		const char *h[] = { "Accept: application/dicom+json", NULL };
		assert_int_equal(http_do("GET", path, h, NULL, 0, &r), 0);
		assert_int_equal(r.status, 200);
		cJSON *j = resp_json(&r);
		const cJSON *item = cJSON_GetArrayItem(dj_seq(cJSON_GetArrayItem(j, 0), "00081115"), 0);
		char want[32];
		snprintf(want, sizeof(want), "1.2.3.%zu", k);
		assert_string_equal(dj_str(item, "0020000E"), want);
		cJSON_Delete(j);
		resp_release(&r);
		delete_study(st);
		unlink(f);
		free(f);
	}
}

/* And deflated ones, walked as they are inflated: a UT 0x4D000000 bytes
 * long cost 4.5 s (the fuzz corpus's file: made by inflating a mkdcm
 * file's data set, changing that length and deflating it again). */
static void stow__deflated_length_past_end__refused_by_the_walk(void **state)
{
	char src[4096], *f = make_dcm("--rows 2 --cols 2");
	struct buf d;
	assert_non_null(getenv("ABS_TOP_SRCDIR"));
	snprintf(src, sizeof(src), "%s/tests/fuzz/corpus/probe/deflated-length-past-end.dcm", getenv("ABS_TOP_SRCDIR"));
	buf_init(&d, 0);
	assert_int_equal(file_read(src, &d), 0);
	refused_for(f, &d,
		    "element (0018,1030)'s length (1291845632) runs past the end of the data set at byte 284 of the "
		    "inflated data set.");
}

/* And explicit VR big endian ones: a UT 0x4D000000 bytes long cost 4.5 s. */
static void stow__big_endian_length_past_end__refused_by_the_walk(void **state)
{
	refused_changed("--ts big --rows 2 --cols 2 --set 0018,1030=UT:abcdefgh", "\x00\x18\x10\x30UT\0\0", 8, 8,
			"\x4d\x00\x00\x00", 4,
			"element (0018,1030)'s length (1291845632) runs past the end of the data set at byte ");
}

/* The file meta header of d rewritten in implicit VR (each element a tag,
 * a 4-byte length and its value; the group length made anew), as some
 * writers made it and GDCM reads it. */
static void implicit_meta_header(struct buf *d)
{
	struct buf out, body;
	size_t pos = 132;
	buf_init(&out, 0);
	buf_init(&body, 0);
	buf_add(&out, d->data, 132);
	while (pos + 8 <= d->len && d->data[pos] == 2 && d->data[pos + 1] == 0) {
		const unsigned char *h = (const unsigned char *)d->data + pos;
		bool long_form = h[4] == 'O' || !memcmp(h + 4, "UN", 2) || !memcmp(h + 4, "UT", 2);
		uint32_t len = long_form ? (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24
					 : (uint32_t)h[6] | (uint32_t)h[7] << 8;
		size_t hdr = long_form ? 12 : 8;
		if (h[2] || h[3]) { /* all but the group length */
			unsigned char l[4] = { (unsigned char)len, (unsigned char)(len >> 8), (unsigned char)(len >> 16),
					       (unsigned char)(len >> 24) };
			buf_add(&body, h, 4);
			buf_add(&body, l, 4);
			buf_add(&body, h + hdr, len);
		}
		pos += hdr + len;
	}
	unsigned char gl[12] = { 2, 0, 0, 0, 4, 0, 0, 0, (unsigned char)body.len, (unsigned char)(body.len >> 8),
				 (unsigned char)(body.len >> 16), (unsigned char)(body.len >> 24) };
	buf_add(&out, gl, sizeof(gl));
	buf_add(&out, body.data, body.len);
	buf_add(&out, d->data + pos, d->len - pos);
	buf_release(&body);
	buf_release(d);
	*d = out;
}

/* A file meta header in implicit VR is read (stored); one whose length
 * there runs past the end of the file is refused before GDCM, which read
 * the first element's VR and length as one length and zeroed what it said
 * (1.3 GB, 4 s of the child, for a length of 0x50000000 in a 1 KB file). */
static void stow__implicit_meta_header__read_and_its_lengths_walked(void **state)
{
	struct buf d;
	char *f = made("--rows 2 --cols 2", &d);
	implicit_meta_header(&d);
	assert_int_equal(file_write(f, d.data, d.len), 0);
	struct resp r;
	post_one("/v2/studies", f, &r);
	assert_int_equal(r.status, 200);
	resp_release(&r);
	unlink(f);
	free(f);
	buf_release(&d);
	/* (0002,0000) UL 4: read as implicit, its length 0x50000000 */
	refused_changed("--rows 2 --cols 2", "\x02\x00\x00\x00UL\x04\x00", 8, 4, "\x00\x00\x00\x50", 4,
			"file meta element (0002,0000)'s length (1342177280) runs past the end of the file at byte 132.");
}

/* d without its preamble and file meta header: the data set alone, as
 * some writers leave it; written to f. */
static void data_set_alone(struct buf *d, const char *f)
{
	const unsigned char *gl = (const unsigned char *)d->data + 132 + 8;
	size_t start = 132 + 12 + ((size_t)gl[0] | (size_t)gl[1] << 8 | (size_t)gl[2] << 16 | (size_t)gl[3] << 24);
	assert_true(start < d->len);
	memmove(d->data, d->data + start, d->len - start);
	d->len -= start;
	assert_int_equal(file_write(f, d->data, d->len), 0);
}

/* A data set with no file meta header is read in the syntax it is in
 * (stored); one that no syntax reads through is refused before GDCM, which
 * took bytes of it for a length and zeroed that much (842 MB, 3 s of the
 * child, for an 868-byte file fuzz_probe made). */
static void stow__no_meta_header__read_and_walked(void **state)
{
	const char *ts[] = { "implicit", "explicit", "big" };
	const long status[] = { 202, 200, 200 };
	for (size_t k = 0; k < 3; k++) {
		char args[64];
		struct buf d;
		struct resp r;
		snprintf(args, sizeof(args), "--ts %s --rows 2 --cols 2", ts[k]);
		char *f = made(args, &d);
		data_set_alone(&d, f);
		post_one("/v2/studies", f, &r);
		assert_int_equal(r.status, status[k]);
		resp_release(&r);
		buf_release(&d);
		unlink(f);
		free(f);
	}
	/* implicit VR: PatientName "Doe^John", its length made 0x4D000000 */
	struct buf d;
	char *f = made("--ts implicit --rows 2 --cols 2 --set 0010,0010=PN:Doe^John", &d);
	data_set_alone(&d, f);
	char *at = memmem(d.data, d.len, "\x10\x00\x10\x00\x08\x00\x00\x00" "Doe^John", 16);
	assert_non_null(at);
	memcpy(at + 4, "\x00\x00\x00\x4d", 4);
	refused_for(f, &d, "element (0010,0010)'s length (1291845632) runs past the end of the data set at byte ");
}

int main(void)
{
	e2e_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stow__truncated_pixel_data__409),
		cmocka_unit_test(stow__unknown_vr__refused_by_the_walk),
		cmocka_unit_test(stow__unknown_vr_in_meta__refused_by_the_walk),
		cmocka_unit_test(stow__implicit_vr_length_past_end__refused_by_the_walk),
		cmocka_unit_test(stow__other_syntaxes_with_sequences__stored),
		cmocka_unit_test(stow__deflated_length_past_end__refused_by_the_walk),
		cmocka_unit_test(stow__big_endian_length_past_end__refused_by_the_walk),
		cmocka_unit_test(stow__implicit_meta_header__read_and_its_lengths_walked),
		cmocka_unit_test(stow__no_meta_header__read_and_walked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
