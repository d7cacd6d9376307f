/* Rendered images (§4.6): an instance's first frame, or one frame, as
 * image/jpeg (quality 1-100) or image/png; and thumbnails (PS3.18 §9.5,
 * beyond Azure): the same, shrunk to fit a viewport, for a study, series,
 * instance or frame. */
#include "api/app.h"
#include "api/params.h"
#include "common/isolate.h"
#include "dicom/dcm.h"
#include "dicom/encode.h"
#include "http/accept.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/banned.h"

#define MAX_RENDER_BYTES (100LL * 1024 * 1024)

struct render_job {
	const char *path;
	long frame;
	bool png;
	int quality;
	int max_width, max_height; /* thumbnails: fit within; 0 for full size */
	int fd; /* the encoded image goes here */
};

enum { RENDER_NO_FRAME = 3 };

/* Shrinks px (freed here) to the job's viewport, if any, and encodes it
 * into img. Returns 0, or -1 with a reason in err. */
static int encode_image(const struct render_job *j, unsigned char *px, int w, int h, int ch, struct buf *img, char *err,
			size_t errlen)
{
	if (j->max_width) {
		unsigned char *small;
		if (scale_fit(px, w, h, ch, j->max_width, j->max_height, &small, &w, &h)) {
			free(px);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(px);
		px = small;
	}
	int r = j->png ? encode_png(px, w, h, ch, img, err, errlen) : encode_jpeg(px, w, h, ch, j->quality, img, err, errlen);
	free(px);
	return r ? -1 : 0;
}

/* In the child: decode, map to 8 bits, encode, write. */
static int render_in_child(void *arg, char *err, size_t errlen)
{
	struct render_job *j = arg;
	unsigned char *px = NULL;
	int w, h, ch;
	int r = dcm_render_frame(j->path, j->frame, &px, &w, &h, &ch, err, errlen);
	if (r == 1)
		return RENDER_NO_FRAME;
	if (r < 0)
		return 1;
	struct buf img;
	buf_init(&img, 0);
	r = encode_image(j, px, w, h, ch, &img, err, errlen);
	for (size_t off = 0; !r && off < img.len;) {
		ssize_t n = write(j->fd, img.data + off, img.len - off);
		if (n <= 0) {
			snprintf(err, errlen, "cannot write the image");
			r = -1;
			break;
		}
		off += (size_t)n;
	}
	buf_release(&img);
	return r ? 1 : 0;
}

/* Uncompressed files need no decoder: the frame is read at its kept offset
 * and mapped in the responder, no child, no GDCM image reader. Returns 0
 * (answered), or 1 when the file is not of that kind. */
static int render_native(struct request *req, const struct db_instance_ref *it, const struct render_job *job, int *rc)
{
	char *ranges = NULL, err[256] = "";
	unsigned char *px;
	int w, h, ch;

	if (strcmp(it->ts, "1.2.840.10008.1.2") && strcmp(it->ts, "1.2.840.10008.1.2.1"))
		return 1;
	long n = api_stored_ranges(req->app, it, &ranges);
	if (n < 0) {
		free(ranges);
		return 1;
	}
	if (job->frame > n) {
		free(ranges);
		*rc = http_error(req, 404, "The specified frame cannot be found.");
		return 0;
	}
	struct range *r1;
	uint64_t bytes;
	size_t k = api_frame_ranges(req, ranges, job->frame, &r1, &bytes);
	free(ranges);
	if (k != 1) /* native frames are one range each */
		return 1;
	int r = dcm_render_native(job->path, r1->off, r1->len, &px, &w, &h, &ch, err, sizeof(err));
	if (r == 1)
		return 1;
	struct buf img;
	buf_init(&img, 0);
	if (r < 0 || encode_image(job, px, w, h, ch, &img, err, sizeof(err)))
		*rc = http_error(req, 406, "The requested frame cannot be rendered: %s.", *err ? err : "decoding failed");
	else
		*rc = http_send(req, 200, job->png ? "image/png" : "image/jpeg", img.data, img.len);
	buf_release(&img);
	return 0;
}

#define THUMBNAIL_SIZE 128
#define THUMBNAIL_MAX 1024

/* viewport=width,height (1 to THUMBNAIL_MAX each). Returns 0, or -1 with
 * the 400 written. */
static int parse_viewport(struct request *req, int *width, int *height)
{
	const char *v = request_query(req, "viewport");
	*width = *height = THUMBNAIL_SIZE;
	if (!v)
		return 0;
	char *end;
	long w = strtol(v, &end, 10), h = 0;
	if (end != v && *end == ',') {
		const char *hs = end + 1;
		h = strtol(hs, &end, 10);
		if (end == hs)
			h = 0;
	}
	if (*end || w < 1 || w > THUMBNAIL_MAX || h < 1 || h > THUMBNAIL_MAX) {
		http_error(req, 400, "The specified viewport value is not valid. It must be width,height with each between 1 and %d.",
			   THUMBNAIL_MAX);
		return -1;
	}
	*width = (int)w;
	*height = (int)h;
	return 0;
}

/* The instance a study's or series' thumbnail shows: the middle one of the
 * first series stored. */
static size_t representative(const struct db_instance_list *l)
{
	size_t n = 1;
	while (n < l->n && !strcmp(l->items[n].series, l->items[0].series))
		n++;
	return n / 2;
}

static int render(struct request *req, long frame, bool thumbnail)
{
	struct app *app = req->app;
	const char *study = req->params[PARAM_STUDY], *series = req->params[PARAM_SERIES],
		   *sop = req->params[PARAM_INSTANCE];
	struct accept_item *items;
	struct db_instance_list inst = { 0 };
	int64_t quality;
	bool png = false;
	int rc, max_width = 0, max_height = 0;

	if (param_int(req, "quality", "quality", INT64_MIN, INT64_MAX, 100, &quality))
		return 0;
	if (quality < 1 || quality > 100)
		return http_error(req, 400, "Image quality must be between 1 and 100 inclusive");
	if (thumbnail && parse_viewport(req, &max_width, &max_height))
		return 0;
	/* no Accept: JPEG; exactly one of image/jpeg and image/png; nothing else */
	int n = accept_parse(&req->arena, request_header(req, "Accept"), &items);
	if (n > 1)
		return http_error(req, 406, "The request contains multiple accept headers, which is not supported.");
	if (n == 1) {
		if (!strcmp(items[0].media, "image/png"))
			png = true;
		else if (strcmp(items[0].media, "image/jpeg") || items[0].multipart)
			return http_error(req, 406, "The request headers are not acceptable");
	} else if (n < 0) {
		return http_error(req, 406, "The request headers are not acceptable");
	}
	if (db_list_instances(app->db, req->partition, study, series, sop, &inst))
		return http_error(req, 503, "The server is temporarily unable to read data.");
	if (inst.n == 0) {
		rc = api_not_found(req, study, series);
		goto out;
	}
	const struct db_instance_ref *it = &inst.items[sop ? 0 : representative(&inst)];
	if (it->size > MAX_RENDER_BYTES) {
		rc = http_error(req, 406,
				"Requested DICOM instance size is above the supported limit of %lld for rendering. The entire "
				"instance can be retrieved with the original transfer syntax by specifying 'transfer-syntax=*' in "
				"the Accept header.",
				MAX_RENDER_BYTES);
		goto out;
	}
	char path[4200], err[512], tmp[4200];
	store_path(&app->store, it->watermark, path, sizeof(path));
	struct render_job job = { path, frame, png, (int)quality, max_width, max_height, -1 };
	if (render_native(req, it, &job, &rc) == 0)
		goto out;
	int fd = store_tmp_create(&app->store, tmp, sizeof(tmp));
	if (fd < 0) {
		rc = http_error(req, 503, "The server is temporarily unable to read data.");
		goto out;
	}
	job.fd = fd;
	int r = isolate_run(render_in_child, &job, ISOLATE_SECONDS, ISOLATE_MEMORY, err, sizeof(err));
	if (r == RENDER_NO_FRAME) {
		rc = http_error(req, 404, "The specified frame cannot be found.");
	} else if (r != 0) {
		rc = http_error(req, 406, "The requested frame cannot be rendered: %s.", *err ? err : "decoding failed");
	} else {
		off_t size = lseek(fd, 0, SEEK_END);
		struct buf img;
		buf_init(&img, 0);
		char chunk[65536];
		ssize_t got;
		lseek(fd, 0, SEEK_SET);
		while (size > 0 && (got = read(fd, chunk, sizeof(chunk))) > 0)
			buf_add(&img, chunk, (size_t)got);
		rc = http_send(req, 200, png ? "image/png" : "image/jpeg", img.data, img.len);
		buf_release(&img);
	}
	close(fd);
	unlink(tmp);
out:
	db_instance_list_release(&inst);
	return rc;
}

int wado_rendered_instance(struct request *req)
{
	return render(req, 1, false);
}

/* The one frame of a .../frames/{frame}/... path: 1 or more, or 0 with
 * the 400 written. */
static long one_frame(struct request *req)
{
	const char *f = req->params[PARAM_FRAMES];
	char *end;
	long frame = strtol(f, &end, 10);
	if (end == f || *end || frame < 1) {
		http_error(req, 400, "The specified frames value is not valid. At least one frame must be present, and "
				     "all requested frames must have value greater than 0.");
		return 0;
	}
	return frame;
}

int wado_rendered_frame(struct request *req)
{
	long frame = one_frame(req);
	return frame ? render(req, frame, false) : 0;
}

int wado_thumbnail(struct request *req)
{
	return render(req, 1, true);
}

int wado_thumbnail_frame(struct request *req)
{
	long frame = one_frame(req);
	return frame ? render(req, frame, true) : 0;
}
