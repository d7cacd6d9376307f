#include "dicom/sandbox.h"
#include "dicom/dcm.h"
#include "dicom/encode.h"
#include "dicom/sample.h"
#include "common/util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/banned.h"

/* ---- the store-time parse: fields of the child's answer ----------------- */

static const uint32_t parsed_tags[PARSED_NATTRS] = {
	[PARSED_PATIENT_ID] = DCM_TAG(0x0010, 0x0020),        [PARSED_PATIENT_NAME] = DCM_TAG(0x0010, 0x0010),
	[PARSED_BIRTH_DATE] = DCM_TAG(0x0010, 0x0030),        [PARSED_ACCESSION] = DCM_TAG(0x0008, 0x0050),
	[PARSED_REFERRING] = DCM_TAG(0x0008, 0x0090),         [PARSED_STUDY_DATE] = DCM_TAG(0x0008, 0x0020),
	[PARSED_STUDY_DESCRIPTION] = DCM_TAG(0x0008, 0x1030), [PARSED_MODALITY] = DCM_TAG(0x0008, 0x0060),
	[PARSED_PPS_START_DATE] = DCM_TAG(0x0040, 0x0244),    [PARSED_MODEL] = DCM_TAG(0x0008, 0x1090),
};

#define NO_FIELD 0xFFFFFFFFu
/* frame ranges longer than this are not kept (found again when asked for) */
#define RANGES_KEPT_MAX (1u << 20)

/* [length u32][bytes], or NO_FIELD alone for NULL */
static void put(struct buf *out, const void *p, size_t n)
{
	uint32_t l = p ? (uint32_t)n : NO_FIELD;
	buf_add(out, &l, sizeof(l));
	if (p)
		buf_add(out, p, n);
}

static void put_str(struct buf *out, const char *v)
{
	put(out, v, v ? strlen(v) : 0);
}

static void put_num(struct buf *out, unsigned long v)
{
	char t[24];
	snprintf(t, sizeof(t), "%lu", v);
	put_str(out, t);
}

struct reader {
	const char *p;
	size_t left;
	bool bad;
};

/* The next field: its bytes (not NUL-terminated) and length; NULL for a
 * NULL field or past the end (then bad). */
static const char *get(struct reader *r, size_t *n)
{
	uint32_t l;
	*n = 0;
	if (r->bad || r->left < sizeof(l)) {
		r->bad = true;
		return NULL;
	}
	memcpy(&l, r->p, sizeof(l));
	r->p += sizeof(l);
	r->left -= sizeof(l);
	if (l == NO_FIELD)
		return NULL;
	if (l > r->left) {
		r->bad = true;
		return NULL;
	}
	const char *v = r->p;
	r->p += l;
	r->left -= l;
	*n = l;
	return v;
}

/* A field into a fixed string (too long or NULL: bad). */
static void get_into(struct reader *r, char *dst, size_t cap)
{
	size_t n;
	const char *v = get(r, &n);
	if (!v || n >= cap || memchr(v, '\0', n)) {
		r->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static unsigned long get_num(struct reader *r)
{
	char t[24];
	get_into(r, t, sizeof(t));
	char *end;
	unsigned long v = strtoul(t, &end, 10);
	if (r->bad || end == t || *end)
		r->bad = true;
	return v;
}

static void get_buf(struct reader *r, struct buf *dst)
{
	size_t n;
	const char *v = get(r, &n);
	if (!v)
		r->bad = true;
	else
		buf_add(dst, v, n);
}

/* Texts joined by NUL, as struct validation keeps them: count must match. */
static void get_texts(struct reader *r, struct buf *dst, size_t count)
{
	size_t n;
	const char *v = get(r, &n);
	size_t nul = 0;
	for (size_t i = 0; v && i < n; i++)
		nul += v[i] == '\0';
	if (!v || nul != count || (n && v[n - 1] != '\0'))
		r->bad = true;
	else
		buf_add(dst, v, n);
}

/* The store-time parse of the open file f for api with the extended query
 * tags eqt: what a store needs, into out (see parsed_read). Frees f. */
static int parse_opened(struct dcm_file *f, int api, const uint32_t *eqt, size_t neqt, struct buf *out, char *err,
			size_t errlen)
{
	struct validation v;
	struct buf meta, bulk;
	validation_init(&v);
	buf_init(&meta, 0);
	buf_init(&bulk, 0);
	int rc = dcm_check(f, &meta, &bulk, err, errlen) ? 1 : 0;
	/* the JSON the check wrote serves unless validation dropped attributes */
	if (!rc && !validate_instance(f, api, eqt, neqt, &v) && v.ndropped) {
		buf_reset(&meta);
		buf_reset(&bulk);
		if (dcm_write_json(f, &meta, v.dropped, v.ndropped, false) ||
		    dcm_write_json(f, &bulk, v.dropped, v.ndropped, true)) {
			snprintf(err, errlen, "The DICOM instance is invalid.");
			rc = 1;
		}
	}
	if (!rc) {
		static const uint32_t ids[] = { DCM_TAG(0x0020, 0x000D), DCM_TAG(0x0020, 0x000E), DCM_TAG(0x0008, 0x0018),
						DCM_TAG(0x0008, 0x0016) };
		char val[1024];
		for (size_t i = 0; i < 4; i++) {
			val[0] = '\0';
			dcm_get_string(f, ids[i], val, 72);
			put_str(out, val);
		}
		put_str(out, dcm_transfer_syntax(f));
		put_num(out, dcm_is_implicit_vr(f));
		put_num(out, v.nerrors);
		put(out, v.errors.data ? v.errors.data : "", v.errors.len);
		put_num(out, v.nwarnings);
		put(out, v.warnings.data ? v.warnings.data : "", v.warnings.len);
		put_num(out, v.multi_valued_index);
		put(out, meta.data ? meta.data : "", meta.len);
		put(out, bulk.data ? bulk.data : "", bulk.len);
		for (size_t k = 0; k < PARSED_NATTRS; k++) {
			bool dropped = false;
			for (size_t i = 0; i < v.ndropped; i++)
				dropped |= v.dropped[i] == parsed_tags[k];
			put_str(out, !dropped && dcm_get_string(f, parsed_tags[k], val, sizeof(val)) == 1 ? val : NULL);
		}
		/* the frames' places now, so that no first frame request needs a child */
		struct buf ranges;
		buf_init(&ranges, 0);
		bool told = !v.nerrors && dcm_frame_ranges_of(f, &ranges) > 0 && ranges.len <= RANGES_KEPT_MAX;
		put_str(out, told ? buf_str(&ranges) : NULL);
		buf_release(&ranges);
	}
	validation_release(&v);
	buf_release(&meta);
	buf_release(&bulk);
	dcm_free(f);
	return rc;
}

/* Files up to PARSE_READ_MAX are read whole into the store-time child's
 * memory (a kept worker's heap keeps what is freed): in a virtual machine
 * a mapping's page faults and its unmapping (which flushes the other CPUs'
 * TLBs) cost more than copying such a file (a 516 KiB instance: about
 * 1.9 -> 1.6 ms of the responders' CPU a STOW). Larger ones are mapped
 * whole (most of their bytes, the pixel data's, are never read);
 * past PARSE_MAP_MAX, which the child's address space (ISOLATE_MEMORY)
 * might not hold besides GDCM's, they are read through their descriptor. */
#define PARSE_READ_MAX (4LL * 1024 * 1024)
#define PARSE_MAP_MAX (64LL * 1024 * 1024)

/* The file on fd whole in a child's memory, so that GDCM's reads and seeks
 * are no system calls: read (copied) when it is up to read_max bytes,
 * else mapped when up to map_max; data NULL when it is empty, larger, or
 * cannot be read or mapped. */
struct file_map {
	void *data;
	size_t size;
	bool copied; /* malloc'ed, not mapped */
};

static struct file_map file_in_memory(int fd, long long read_max, long long map_max)
{
	struct file_map m = { NULL, 0, false };
	struct stat st;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > map_max)
		return m;
	size_t size = (size_t)st.st_size;
	if (st.st_size <= read_max) {
		char *p = malloc(size);
		size_t got = 0;
		ssize_t r = 1;
		while (p && got < size && (r = pread(fd, p + got, size - got, (off_t)got)) > 0)
			got += (size_t)r;
		if (p && got == size)
			return (struct file_map){ p, size, true };
		free(p);
		return m;
	}
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED) {
		m.data = p;
		m.size = size;
	}
	return m;
}

static void unmap_file(struct file_map m)
{
	if (m.copied)
		free(m.data);
	else if (m.data)
		munmap(m.data, m.size);
}

/* In the child, the file on fd (in memory: GDCM's reads and seeks are then
 * no system calls). arg: "API\nTAG,TAG,...\n" (tags in hex). */
static int parse_in_child(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	uint32_t eqt[128];
	size_t neqt = 0;
	char *end;
	int api = (int)strtol(arg, &end, 10);
	if (*end != '\n')
		return 2;
	const char *t = end + 1;
	while (*t && *t != '\n' && neqt < 128) {
		eqt[neqt++] = (uint32_t)strtoul(t, &end, 16);
		t = *end == ',' ? end + 1 : end;
	}
	if (*t != '\n' || fd < 0)
		return 2;
	struct file_map m = file_in_memory(fd, PARSE_READ_MAX, PARSE_MAP_MAX);
	struct dcm_file *f = m.data ? dcm_open_memory(m.data, m.size, err, errlen) : dcm_open_fd(fd, err, errlen);
	int rc = f ? parse_opened(f, api, eqt, neqt, out, err, errlen) : 1;
	unmap_file(m);
	return rc;
}

/* Frame ranges as the child tells them ("OFF:LEN[,OFF:LEN...][;...]"),
 * malloc'ed, when every range lies within a file of size bytes; else NULL. */
static char *ranges_checked(const char *v, size_t n, long long size)
{
	if (n == 0 || n > RANGES_KEPT_MAX)
		return NULL;
	char *s = strndup(v, n);
	const char *p = s;
	while (s) {
		char *end;
		if (*p < '0' || *p > '9')
			break;
		unsigned long long off = strtoull(p, &end, 10), len;
		if (*end != ':' || end[1] < '0' || end[1] > '9')
			break;
		len = strtoull(end + 1, &end, 10);
		if (off > (unsigned long long)size || len > (unsigned long long)size - off)
			break;
		if (*end == '\0')
			return s;
		if (*end != ',' && *end != ';')
			break;
		p = end + 1;
	}
	free(s);
	return NULL;
}

/* In the parent: the child's answer for a file of size bytes, checked field by field. */
static int parsed_read(const struct buf *got, long long size, struct sandbox_parsed *p)
{
	struct reader r = { got->data, got->len, false };
	get_into(&r, p->study, sizeof(p->study));
	get_into(&r, p->series, sizeof(p->series));
	get_into(&r, p->sop, sizeof(p->sop));
	get_into(&r, p->sop_class, sizeof(p->sop_class));
	get_into(&r, p->ts, sizeof(p->ts));
	p->implicit_vr = get_num(&r) != 0;
	p->v.nerrors = get_num(&r);
	get_texts(&r, &p->v.errors, p->v.nerrors);
	p->v.nwarnings = get_num(&r);
	get_texts(&r, &p->v.warnings, p->v.nwarnings);
	p->v.multi_valued_index = get_num(&r) != 0;
	get_buf(&r, &p->meta);
	get_buf(&r, &p->bulk);
	for (size_t k = 0; k < PARSED_NATTRS && !r.bad; k++) {
		size_t n;
		const char *v = get(&r, &n);
		if (v && (n >= 1024 || memchr(v, '\0', n)))
			r.bad = true;
		else if (v)
			p->attrs[k] = strndup(v, n);
	}
	size_t n;
	const char *v = r.bad ? NULL : get(&r, &n);
	if (v && !(p->frame_ranges = ranges_checked(v, n, size)))
		r.bad = true;
	return r.bad || r.left ? -1 : 0;
}

static int render_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen);

void sandbox_init(struct sandbox *sb)
{
	/* one kept child a responder: a fork per instance cost about 1 ms;
	 * it opens no file: each request brings the descriptor of its upload */
	sb->parser = (struct isolate_worker)ISOLATE_WORKER_INIT(parse_in_child, ISOLATE_MEMORY);
	/* and one for renderings (a fork, its page faults and its exit were
	 * over half of a compressed rendering's time), the same way */
	sb->renderer = (struct isolate_worker)ISOLATE_WORKER_INIT(render_in_worker, ISOLATE_MEMORY);
	sb->renew_after = 0;
}

void sandbox_release(struct sandbox *sb)
{
	isolate_worker_stop(&sb->parser);
	isolate_worker_stop(&sb->renderer);
}

/* p empty, for sandbox_parsed_release whatever happens next. */
static void parsed_init(struct sandbox_parsed *p)
{
	memset(p, 0, sizeof(*p));
	validation_init(&p->v);
	buf_init(&p->meta, 0);
	buf_init(&p->bulk, 0);
}

/* SANDBOX_RETRY for a kept child's result that is not the file's doing,
 * else otherwise. */
static int retry_or(int isolated, int otherwise)
{
	return isolated == ISOLATE_NOT_STARTED || isolated == ISOLATE_KILLED ? SANDBOX_RETRY : otherwise;
}

/* sandbox_parse of the file open on fd (size bytes). */
static int parse_fd(struct sandbox *sb, int fd, long long size, int api_major, const uint32_t *eqt, size_t neqt,
		    struct sandbox_parsed *p, char *err, size_t errlen)
{
	struct buf arg, got;

	parsed_init(p);
	buf_init(&arg, 0);
	buf_init(&got, 0);
	buf_addf(&arg, "%d\n", api_major);
	for (size_t i = 0; i < neqt; i++)
		buf_addf(&arg, "%s%08X", i ? "," : "", eqt[i]);
	buf_addch(&arg, '\n');
	int rc = isolate_worker_run(&sb->parser, buf_str(&arg), fd, ISOLATE_SECONDS, &got, err, errlen);
	if (rc == 0 && parsed_read(&got, size, p)) {
		snprintf(err, errlen, "the parser's answer does not add up");
		rc = -1;
	}
	buf_release(&arg);
	buf_release(&got);
	return retry_or(rc, rc ? -1 : 0);
}

int sandbox_parse(struct sandbox *sb, const char *path, int api_major, const uint32_t *eqt, size_t neqt,
		  struct sandbox_parsed *p, char *err, size_t errlen)
{
	struct stat sst;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sst)) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		parsed_init(p);
		return SANDBOX_RETRY;
	}
	int rc = parse_fd(sb, fd, (long long)sst.st_size, api_major, eqt, neqt, p, err, errlen);
	close(fd);
	return rc;
}

int sandbox_warm(struct sandbox *sb, char *err, size_t errlen)
{
	struct buf sample, img;
	struct sandbox_parsed p;
	size_t length;
	int fd = memfd_create("warm-up", MFD_CLOEXEC);
	parsed_init(&p);
	if (fd < 0) {
		snprintf(err, errlen, "cannot make a file in memory: %s", strerror(errno));
		return -1;
	}
	buf_init(&sample, 0);
	buf_init(&img, 0);
	size_t at = dicom_sample(&sample, &length);
	int rc = util_write_full(fd, sample.data, sample.len) ? 0 : -1;
	if (rc)
		snprintf(err, errlen, "cannot write a file in memory: %s", strerror(errno));
	else
		rc = parse_fd(sb, fd, (long long)sample.len, 2, NULL, 0, &p, err, errlen);
	if (rc == 0 && (p.v.nerrors || strcmp(p.sop, DICOM_SAMPLE_SOP))) {
		snprintf(err, errlen, "the parser refused the warm-up's instance");
		rc = -1;
	}
	/* and a first rendering (the service's default quality) */
	const struct render_opts o = { false, 100, 0, 0 };
	if (rc == 0 && sandbox_render(sb, fd, 1, (long long)at, (long long)length, &o, &img, err, errlen))
		rc = -1;
	sandbox_parsed_release(&p);
	buf_release(&img);
	buf_release(&sample);
	close(fd);
	return rc;
}

int sandbox_renew(struct sandbox *sb, char *err, size_t errlen)
{
	if (!isolate_worker_due(&sb->parser) && !isolate_worker_due(&sb->renderer))
		return 0;
	uint64_t now = util_now_ms();
	if (now < sb->renew_after)
		return 0;
	if (isolate_worker_renew(&sb->parser, err, errlen) < 0 || isolate_worker_renew(&sb->renderer, err, errlen) < 0 ||
	    sandbox_warm(sb, err, errlen)) {
		sb->renew_after = now + SANDBOX_RENEW_PAUSE_MS;
		return -1;
	}
	return 1;
}

void sandbox_parsed_release(struct sandbox_parsed *p)
{
	validation_release(&p->v);
	buf_release(&p->meta);
	buf_release(&p->bulk);
	for (size_t k = 0; k < PARSED_NATTRS; k++) {
		free(p->attrs[k]);
		p->attrs[k] = NULL;
	}
	free(p->frame_ranges);
	p->frame_ranges = NULL;
}

/* A writing child's code for dcm_transcode's or dcm_update's result, and
 * the parent's result for the child's code: SANDBOX_NO_ROOM through both. */
static int written_code(int r)
{
	return r == DCM_NO_ROOM ? SANDBOX_NO_ROOM : r ? 1 : 0;
}

static int written_result(int code)
{
	return code == SANDBOX_NO_ROOM ? SANDBOX_NO_ROOM : code ? -1 : 0;
}

struct transcode_job {
	const char *src, *dst, *ts;
};

static int transcode_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	struct transcode_job *j = arg;
	(void)out;
	return written_code(dcm_transcode(j->src, j->dst, j->ts, err, errlen));
}

int sandbox_transcode(const char *src, const char *dst, const char *ts, char *err, size_t errlen)
{
	struct transcode_job job = { src, dst, ts };
	struct isolate_paths paths = { { src, NULL }, { dst, NULL } };
	int r = isolate_run(transcode_in_child, &job, ISOLATE_SECONDS, ISOLATE_MEMORY, ISOLATE_MAY_WRITE, &paths, NULL, err,
			    errlen);
	return retry_or(r, written_result(r));
}

struct update_job {
	const char *src, *dst;
	const struct dcm_change *c;
	size_t n;
};

static int update_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	struct update_job *j = arg;
	(void)out;
	return written_code(dcm_update(j->src, j->dst, j->c, j->n, err, errlen));
}

int sandbox_update(const char *src, const char *dst, const struct dcm_change *c, size_t n, char *err, size_t errlen)
{
	struct update_job job = { src, dst, c, n };
	struct isolate_paths paths = { { src, NULL }, { dst, NULL } };
	int r = isolate_run(update_in_child, &job, ISOLATE_SECONDS, ISOLATE_MEMORY, ISOLATE_MAY_WRITE, &paths, NULL, err,
			    errlen);
	return retry_or(r, written_result(r));
}

/* Shrinks px (freed here) to the viewport, if any, and encodes it into
 * img. Returns 0, or -1 with a reason in err. */
static int encode_image(const struct render_opts *o, unsigned char *px, int w, int h, int ch, struct buf *img, char *err,
			size_t errlen)
{
	if (o->max_width) {
		unsigned char *small;
		if (scale_fit(px, w, h, ch, o->max_width, o->max_height, &small, &w, &h)) {
			free(px);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(px);
		px = small;
	}
	int r = o->png ? encode_png(px, w, h, ch, img, err, errlen) : encode_jpeg(px, w, h, ch, o->quality, img, err, errlen);
	free(px);
	return r ? -1 : 0;
}

enum { RENDER_NO_FRAME = 3 };

/* An uncompressed frame at offset (length bytes) of the file on fd, made
 * 8-bit without a decoder: the file mapped, GDCM reading its header from
 * memory and the frame read in place (no copy, no system call a read),
 * its pages mapped in one call. dcm_render_native's result. (Files
 * rendered are of 100 MiB at most, as the service's: rendered.c answers
 * 406 above that, so the whole file fits the child's address space.) */
static int render_mapped(int fd, long long offset, long long length, unsigned char **px, int *w, int *h, int *ch,
			 char *err, size_t errlen)
{
	struct file_map m = file_in_memory(fd, 0, LLONG_MAX);
	if (!m.data)
		return 1;
#ifdef MADV_POPULATE_READ
	if (offset >= 0 && length > 0 && (unsigned long long)offset + (unsigned long long)length <= m.size) {
		size_t from = (size_t)offset & ~(size_t)(sysconf(_SC_PAGESIZE) - 1);
		(void)madvise((char *)m.data + from, (size_t)(offset + length) - from, MADV_POPULATE_READ);
	}
#endif
	int r = dcm_render_native(m.data, m.size, offset, length, px, w, h, ch, err, errlen);
	unmap_file(m);
	return r;
}

/* In the kept render child: decode the file whose descriptor came with
 * the request, map to 8 bits, encode. arg: "FRAME QUALITY PNG WIDTH
 * HEIGHT OFFSET LENGTH" (the viewport 0 0 when none; the frame's place
 * in the file as the index keeps it, -1 -1 when it has none: only a
 * decoder then finds it). */
static int render_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	struct render_opts o = { 0 };
	long frame;
	long long offset, length;
	int png;
	if (fd < 0 || sscanf(arg, "%ld %d %d %d %d %lld %lld", &frame, &o.quality, &png, &o.max_width, &o.max_height,
			     &offset, &length) != 7) {
		snprintf(err, errlen, "the request is not understood");
		return 1;
	}
	o.png = png != 0;
	unsigned char *px = NULL;
	int w, h, ch;
	int r = offset >= 0 ? render_mapped(fd, offset, length, &px, &w, &h, &ch, err, errlen) : 1;
	if (r == 1 && (r = dcm_render_frame(fd, frame, &px, &w, &h, &ch, err, errlen)) == 1)
		return RENDER_NO_FRAME;
	if (r < 0)
		return 1;
	return encode_image(&o, px, w, h, ch, out, err, errlen) ? 1 : 0;
}

int sandbox_render(struct sandbox *sb, int fd, long frame, long long offset, long long length,
		   const struct render_opts *o, struct buf *img, char *err, size_t errlen)
{
	char arg[160];
	if (fd < 0) {
		snprintf(err, errlen, "the stored file cannot be opened");
		return -1;
	}
	snprintf(arg, sizeof(arg), "%ld %d %d %d %d %lld %lld", frame, o->quality, o->png ? 1 : 0, o->max_width,
		 o->max_height, offset, length);
	int r = isolate_worker_run(&sb->renderer, arg, fd, ISOLATE_SECONDS, img, err, errlen);
	return retry_or(r, r == RENDER_NO_FRAME ? SANDBOX_NO_FRAME : r ? -1 : 0);
}

/* A count and a buffer: the count first, as text and a newline. */
static int count_and_buf(struct buf *out, long n, const struct buf *b)
{
	buf_addf(out, "%ld\n", n);
	buf_add(out, b->data ? b->data : "", b->len);
	return 0;
}

static long read_count(const struct buf *got, struct buf *out)
{
	const char *nl = got->len ? memchr(got->data, '\n', got->len) : NULL;
	if (!nl)
		return -1;
	char *end;
	long n = strtol(got->data, &end, 10);
	if (end != nl)
		return -1;
	buf_add(out, nl + 1, got->len - (size_t)(nl + 1 - got->data));
	return n;
}

static int ranges_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	struct buf b;
	(void)err;
	(void)errlen;
	buf_init(&b, 0);
	long n = dcm_frame_ranges(arg, &b);
	count_and_buf(out, n, &b);
	buf_release(&b);
	return 0;
}

long sandbox_frame_ranges(const char *path, struct buf *out)
{
	struct buf got;
	char err[256];
	buf_init(&got, 0);
	struct isolate_paths paths = { { path, NULL }, { NULL } };
	int r = isolate_run(ranges_in_child, (void *)path, ISOLATE_SECONDS, ISOLATE_MEMORY, 0, &paths, &got, err,
			    sizeof(err));
	long n = r ? -1 : read_count(&got, out);
	buf_release(&got);
	return n;
}

struct bulk_job {
	const char *path;
	const uint32_t *tags;
	const long *items;
	size_t depth;
};

static int bulk_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	struct bulk_job *j = arg;
	struct buf b;
	(void)err;
	(void)errlen;
	buf_init(&b, 0);
	int r = dcm_bulk_value(j->path, j->tags, j->items, j->depth, &b);
	count_and_buf(out, r, &b);
	buf_release(&b);
	return 0;
}

int sandbox_bulk_value(const char *path, const uint32_t *tags, const long *items, size_t depth, struct buf *out)
{
	struct bulk_job job = { path, tags, items, depth };
	struct buf got;
	char err[256];
	buf_init(&got, 0);
	struct isolate_paths paths = { { path, NULL }, { NULL } };
	int r = isolate_run(bulk_in_child, &job, ISOLATE_SECONDS, ISOLATE_MEMORY, 0, &paths, &got, err, sizeof(err));
	long n = r ? -1 : read_count(&got, out);
	buf_release(&got);
	return n < -1 || n > 1 ? -1 : (int)n;
}
