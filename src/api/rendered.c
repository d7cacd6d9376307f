/* Rendered images (§4.6): an instance's first frame, or one frame, as
 * image/jpeg (quality 1-100) or image/png; and thumbnails (PS3.18 §9.5,
 * beyond Azure): the same, shrunk to fit a viewport, for a study, series,
 * instance or frame. */
#include "api/app.h"
#include "api/params.h"
#include "common/log.h"
#include "dicom/dcm.h"
#include "dicom/sandbox.h"
#include "http/accept.h"
#include "http/response.h"
#include "http/sendfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define MAX_RENDER_BYTES (100LL * 1024 * 1024)

enum { NOT_NATIVE = 2 }; /* beside 0 and SANDBOX_NO_FRAME */

/* Where an uncompressed file's frame lies, from the index: 0 with
 * *offset and *length; SANDBOX_NO_FRAME; or NOT_NATIVE when the file is
 * not of that kind or its frames are not known (the render child's
 * decoder finds them). */
static int native_frame(struct request *req, const char *path, const struct db_instance_ref *it, long frame,
			long long *offset, long long *length)
{
	char *ranges = NULL;

	if (strcmp(it->ts, "1.2.840.10008.1.2") && strcmp(it->ts, "1.2.840.10008.1.2.1"))
		return NOT_NATIVE;
	long n = api_stored_ranges(req->app, it, path, &ranges);
	if (n < 0) {
		free(ranges);
		return NOT_NATIVE;
	}
	if (frame > n) {
		free(ranges);
		return SANDBOX_NO_FRAME;
	}
	struct range *r1;
	uint64_t bytes;
	size_t k = api_frame_ranges(req, ranges, frame, &r1, &bytes);
	free(ranges);
	if (k != 1) /* native frames are one range each */
		return NOT_NATIVE;
	*offset = (long long)r1->off;
	*length = (long long)r1->len;
	return 0;
}

/* A kept rendering: sent by the web server (X-Sendfile) or read from the
 * store. Returns the answer's result, or 1 when it cannot be read. */
static int send_kept(struct request *req, int64_t watermark, const char *key, const char *path, bool png)
{
	if (req->app->cfg.x_sendfile) {
		http_add_header(req, "Content-Type", "%s", png ? "image/png" : "image/jpeg");
		return sendfile_single(req, path);
	}
	struct buf img;
	buf_init(&img, 0);
	int rc = store_cache_get(&req->app->store, watermark, key, &img) ? 1
		 : http_send(req, 200, png ? "image/png" : "image/jpeg", img.data, img.len);
	buf_release(&img);
	return rc;
}

/* Renders the instance's frame and answers with it; with [retrieve]
 * render_cache the rendering is kept first and, when the web server sends
 * files, sent from there as a kept one is (no copy through FastCGI). */
static int render_answer(struct request *req, const struct db_instance_ref *it, long frame,
			 const struct render_opts *o, const char *key)
{
	struct app *app = req->app;
	const char *type = o->png ? "image/png" : "image/jpeg";
	char err[512], kept[4600];
	struct store_reader *file = api_open_file(req, it);
	if (!file)
		return 500; /* answered */
	struct buf img;
	buf_init(&img, 0);
	long long offset = -1, length = -1;
	int rc, r = native_frame(req, file->path, it, frame, &offset, &length);
	if (r != SANDBOX_NO_FRAME)
		r = sandbox_render(&app->sandbox, file->fd, frame, offset, length, o, &img, err, sizeof(err));
	store_close(file);
	if (r == SANDBOX_NO_FRAME) {
		rc = http_error(req, 404, "The specified frame cannot be found.");
	} else if (r == SANDBOX_RETRY) {
		log_warn("rendering stopped: %s", err);
		rc = http_error(req, 503, "The server is temporarily unable to read data.");
	} else if (r != 0) {
		rc = http_error(req, 406, "The requested frame cannot be rendered: %s.", *err ? err : "decoding failed");
	} else {
		rc = 1;
		if (app->cfg.render_cache) {
			if (store_cache_put(&app->store, it->watermark, key, img.data, img.len, kept, sizeof(kept)) &&
			    app->cfg.x_sendfile)
				rc = send_kept(req, it->watermark, key, kept, o->png);
		}
		if (rc == 1)
			rc = http_send(req, 200, type, img.data, img.len);
	}
	buf_release(&img);
	return rc;
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
	int rc = 0, max_width = 0, max_height = 0;

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
	if (db_list_instances(app->db, req->partition, study, series, sop, false, &inst))
		return http_error(req, 503, "The server is temporarily unable to read data.");
	if (inst.n == 0) {
		rc = api_not_found(req);
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
	char key[96], kept[4600];
	snprintf(key, sizeof(key), "%ld-%lld-%dx%d.%s", frame, (long long)quality, max_width, max_height, png ? "png" : "jpg");
	if (app->cfg.render_cache && store_cached(&app->store, it->watermark, key, kept, sizeof(kept))) {
		rc = send_kept(req, it->watermark, key, kept, png);
		if (rc != 1)
			goto out;
		rc = 0; /* unreadable after all: rendered again */
	}
	struct render_opts o = { png, (int)quality, max_width, max_height };
	rc = render_answer(req, it, frame, &o, key);
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
