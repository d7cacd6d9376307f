#include "dicom/sandbox.h"
#include "dicom/dcm.h"
#include "dicom/encode.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/banned.h"

static int probe_in_child(const char *path, struct buf *out, char *err, size_t errlen)
{
	(void)out;
	return dcm_probe(path, err, errlen) ? 1 : 0;
}

void sandbox_init(struct sandbox *sb)
{
	/* one kept child a responder: a fork per instance cost about 1 ms */
	sb->prober = (struct isolate_worker)ISOLATE_WORKER_INIT(probe_in_child, ISOLATE_MEMORY);
}

void sandbox_release(struct sandbox *sb)
{
	isolate_worker_stop(&sb->prober);
}

int sandbox_probe(struct sandbox *sb, const char *path, char *err, size_t errlen)
{
	return isolate_worker_run(&sb->prober, path, ISOLATE_SECONDS, NULL, err, errlen) ? -1 : 0;
}

struct transcode_job {
	const char *src, *dst, *ts;
};

static int transcode_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	struct transcode_job *j = arg;
	(void)out;
	return dcm_transcode(j->src, j->dst, j->ts, err, errlen) ? 1 : 0;
}

int sandbox_transcode(const char *src, const char *dst, const char *ts, char *err, size_t errlen)
{
	struct transcode_job job = { src, dst, ts };
	int r = isolate_run(transcode_in_child, &job, ISOLATE_SECONDS, ISOLATE_MEMORY, ISOLATE_MAY_WRITE, NULL, err, errlen);
	return r ? -1 : 0;
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
	return dcm_update(j->src, j->dst, j->c, j->n, err, errlen) ? 1 : 0;
}

int sandbox_update(const char *src, const char *dst, const struct dcm_change *c, size_t n, char *err, size_t errlen)
{
	struct update_job job = { src, dst, c, n };
	int r = isolate_run(update_in_child, &job, ISOLATE_SECONDS, ISOLATE_MEMORY, ISOLATE_MAY_WRITE, NULL, err, errlen);
	return r ? -1 : 0;
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

struct render_job {
	const char *path;
	long frame;
	const struct render_opts *opts;
};

enum { RENDER_NO_FRAME = 3 };

/* In the child: decode, map to 8 bits, encode. */
static int render_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	struct render_job *j = arg;
	unsigned char *px = NULL;
	int w, h, ch;
	int r = dcm_render_frame(j->path, j->frame, &px, &w, &h, &ch, err, errlen);
	if (r == 1)
		return RENDER_NO_FRAME;
	if (r < 0)
		return 1;
	return encode_image(j->opts, px, w, h, ch, out, err, errlen) ? 1 : 0;
}

int sandbox_render(const char *path, long frame, const struct render_opts *o, struct buf *img, char *err, size_t errlen)
{
	struct render_job job = { path, frame, o };
	int r = isolate_run(render_in_child, &job, ISOLATE_SECONDS, ISOLATE_MEMORY, 0, img, err, errlen);
	return r == RENDER_NO_FRAME ? SANDBOX_NO_FRAME : r ? -1 : 0;
}

int sandbox_render_native(const char *path, long long offset, long long length, const struct render_opts *o,
			  struct buf *img, char *err, size_t errlen)
{
	unsigned char *px;
	int w, h, ch;
	int r = dcm_render_native(path, offset, length, &px, &w, &h, &ch, err, errlen);
	if (r != 0)
		return r;
	return encode_image(o, px, w, h, ch, img, err, errlen);
}

long sandbox_frame_ranges(const char *path, struct buf *out)
{
	return dcm_frame_ranges(path, out);
}

int sandbox_bulk_value(const char *path, const uint32_t *tags, const long *items, size_t depth, struct buf *out)
{
	return dcm_bulk_value(path, tags, items, depth, out);
}
