/* WADO-RS: retrieve studies, series and instances (§4.1-4.3) and their
 * metadata (§4.4-4.5). Files stream in fixed chunks, or go out through the
 * web server's X-Sendfile when that is configured. */
#include "api/app.h"
#include "api/params.h"
#include "common/log.h"
#include "common/util.h"
#include "dicom/dcm.h"
#include "dicom/sandbox.h"
#include "http/sendfile.h"
#include "http/accept.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define MAX_TRANSCODE_BYTES (100LL * 1024 * 1024)

/* What goes out for one instance: the stored file, or a transcoded copy
 * (scratch, dropped after the answer). */
struct outfile {
	struct store_reader *r;
	struct store_writer *scratch;
	const char *ts;
};

static void outfile_release(struct outfile *of)
{
	store_close(of->r);
	store_abort(of->scratch);
	of->r = NULL;
	of->scratch = NULL;
}

/* Sends n ranges of r's bytes. */
static int send_ranges_of(struct request *req, struct store_reader *r, const struct range *rg, size_t n)
{
	char *chunk = req->app->chunk;
	for (size_t i = 0; i < n; i++) {
		int64_t left = rg[i].len, at = rg[i].off;
		while (left > 0) {
			ssize_t got = store_read_at(r, chunk, left < APP_CHUNK ? (size_t)left : APP_CHUNK, at);
			if (got <= 0 || http_write(req, chunk, (size_t)got))
				return -1;
			left -= got;
			at += got;
		}
	}
	return 0;
}

static int stream_file(struct request *req, struct store_reader *r)
{
	struct range all = { 0, r->size };
	return send_ranges_of(req, r, &all, 1);
}

struct store_reader *api_open_file(struct request *req, const struct db_instance_ref *it)
{
	struct store_reader *r = store_open_read(&req->app->store, it->watermark);
	if (!r) {
		log_error("the file of sop='%s' watermark=%lld cannot be read", it->sop, (long long)it->watermark);
		http_error(req, 500, "The server encountered an internal error. Please retry the request. If the issue "
				     "persists, please contact support.");
	}
	return r;
}

/* Opens the stored file of it; 0, or the status with the reply sent. */
static int open_stored(struct request *req, const struct db_instance_ref *it, struct outfile *of)
{
	of->r = api_open_file(req, it);
	of->scratch = NULL;
	of->ts = it->ts;
	return of->r ? 0 : 500;
}

/* Prepares what to send for one instance: the stored file, or a copy in
 * the requested syntax. Returns 0, or an HTTP status with the reply sent. */
static int prepare(struct request *req, const struct db_instance_ref *it, const char *ts, struct outfile *of)
{
	struct app *app = req->app;
	char err[256];

	int st = open_stored(req, it, of);
	if (st || !strcmp(ts, "*") || !strcmp(ts, it->ts))
		return st;
	if (it->size > MAX_TRANSCODE_BYTES)
		return http_error(req, 406,
				  "Requested DICOM instance size is above the supported limit of %lld. The entire instance "
				  "can be retrieved with the original transfer syntax by specifying 'transfer-syntax=*' in "
				  "the Accept header.",
				  MAX_TRANSCODE_BYTES),
		       406;
	of->scratch = store_begin(&app->store);
	if (!of->scratch)
		return http_error(req, 503, "The server is temporarily unable to read data."), 503;
	int tr = sandbox_transcode(of->r->path, of->scratch->path, ts, err, sizeof(err));
	if (tr) {
		log_warn("transcoding failed sop='%s' to='%s': %s", it->sop, ts, err);
		if (tr == SANDBOX_NO_ROOM || tr == SANDBOX_RETRY) /* the server's fault, not the instance's */
			return http_error(req, 503, "The server is temporarily unable to read data."), 503;
		return http_error(req, 406, "The requested transfer syntax is not supported for this instance."), 406;
	}
	store_close(of->r);
	of->r = store_open_written(of->scratch);
	if (!of->r)
		return http_error(req, 503, "The server is temporarily unable to read data."), 503;
	of->ts = ts;
	return 0;
}

/* A multipart answer of whole files that the web server sends with
 * sendfile(2). Returns 0 (sent), -1 (client gone), or 1 when the caller
 * should stream instead. */
static int send_ranges(struct request *req, const struct outfile *files, size_t n)
{
	struct sendfile_part *parts = arena_alloc(&req->arena, n * sizeof(*parts));

	for (size_t i = 0; i < n; i++) {
		if (files[i].scratch || !files[i].r->path)
			return 1; /* a transcoded copy is dropped after the answer */
		parts[i] = (struct sendfile_part){ files[i].r->path, files[i].r->size, files[i].ts };
	}
	return sendfile_multipart(req, &req->app->framing, parts, n);
}

/* The multipart answer streamed by the responder. */
static int stream_multipart(struct request *req, const char *media, const struct outfile *files, size_t n)
{
	char boundary[37];
	int rc;

	util_uuid(boundary);
	char(*heads)[160] = arena_alloc(&req->arena, n * sizeof(*heads));
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(heads[i], sizeof(heads[i]), "--%s\r\nContent-Type: %s; transfer-syntax=%s\r\n\r\n", boundary, media,
			 files[i].ts);
		total += strlen(heads[i]) + (uint64_t)files[i].r->size + 2;
	}
	total += 2 + strlen(boundary) + 4;
	http_add_header(req, "Content-Type", "multipart/related; boundary=%s", boundary);
	http_add_header(req, "Content-Length", "%llu", (unsigned long long)total);
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = http_writes(req, heads[i]) || stream_file(req, files[i].r) || http_write(req, "\r\n", 2);
	if (!rc) {
		char tail[64];
		snprintf(tail, sizeof(tail), "--%s--\r\n", boundary);
		rc = http_writes(req, tail);
	}
	return rc;
}

int wado_retrieve(struct request *req)
{
	struct app *app = req->app;
	const char *study = req->params[PARAM_STUDY], *series = req->params[PARAM_SERIES],
		   *sop = req->params[PARAM_INSTANCE];
	enum accept_resource res = sop ? ACCEPT_INSTANCE : series ? ACCEPT_SERIES : ACCEPT_STUDY;
	struct accept_choice choice;
	struct db_instance_list list = { 0 };
	struct outfile *files = NULL;
	size_t prepared = 0;
	int rc = 0;

	if (accept_negotiate_retrieve(&req->arena, request_header(req, "Accept"), res, app->cfg.transcode_all, &choice))
		return http_error(req, 406, "The request headers are not acceptable");
	if (db_list_instances(app->db, req->partition, study, series, sop, api_request_original(req), &list))
		return http_error(req, 503, "The server is temporarily unable to read data.");
	if (list.n == 0) {
		rc = api_not_found(req);
		goto out;
	}
	if (list.n > 1 && strcmp(choice.ts, "*")) {
		rc = http_error(req, 406,
				"Accept transfer syntax '%s' is not supported when multiple instances are matched. Matching "
				"instances can be retrieved with their original transfer syntax by specifying "
				"'transfer-syntax=*' in the Accept header.",
				choice.ts);
		goto out;
	}
	files = calloc(list.n, sizeof(*files));
	if (!files) {
		rc = http_error(req, 503, "The server is temporarily unable to read data.");
		goto out;
	}
	while (prepared < list.n) {
		int st = prepare(req, &list.items[prepared], choice.ts, &files[prepared]);
		prepared++; /* released at the end, whatever it holds */
		if (st)
			goto out;
	}

	if (!choice.multipart) {
		struct outfile *of = &files[0];
		http_add_header(req, "Content-Type", "application/dicom; transfer-syntax=%s", of->ts);
		if (app->cfg.x_sendfile && !of->scratch && of->r->path) {
			rc = sendfile_single(req, of->r->path); /* the web server sends the file */
		} else {
			http_add_header(req, "Content-Length", "%lld", (long long)of->r->size);
			rc = http_send_head(req) || stream_file(req, of->r);
		}
		goto out;
	}
	if (app->cfg.x_sendfile2 && list.n <= 200) {
		rc = send_ranges(req, files, list.n);
		if (rc <= 0)
			goto out;
		rc = 0; /* framing unavailable: stream instead */
	}
	rc = stream_multipart(req, choice.media, files, list.n);
out:
	for (size_t i = 0; files && i < prepared; i++)
		outfile_release(&files[i]);
	free(files);
	db_instance_list_release(&list);
	return rc;
}

/* The metadata answer of a set of instances that has not changed for a
 * while ([retrieve] metadata_cache): kept with the newest instance's object
 * (removed with it), named by the set's version, and sent by the web
 * server (X-Sendfile). A new version of the set has a new name, so a kept
 * answer is never stale. Returns the answer's result, or 1 when none is
 * kept. */
static int send_kept_metadata(struct request *req, const struct db_metadata_version *ver)
{
	char path[4600];

	if (!ver->settled || !store_cached(&req->app->store, ver->latest, ver->key, path, sizeof(path)))
		return 1;
	http_add_header(req, "ETag", "%s", ver->etag);
	http_add_header(req, "Content-Type", "application/dicom+json");
	return sendfile_single(req, path);
}

int wado_metadata(struct request *req)
{
	struct app *app = req->app;
	const char *study = req->params[PARAM_STUDY], *series = req->params[PARAM_SERIES],
		   *sop = req->params[PARAM_INSTANCE];
	const char *inm = request_header(req, "If-None-Match");
	struct db_metadata_version ver;
	struct buf out;
	long n;

	const char *bulk_url = app->cfg.bulkdata_uri ? api_service_url(req) : NULL;
	bool original = api_request_original(req);
	/* kept answers are sent from their files; with bulk data links they
	 * depend on the request's URL, and are not kept */
	bool keep = app->cfg.metadata_cache && app->cfg.x_sendfile && !bulk_url;
	bool version_first = inm || keep;

	buf_init(&out, 0);
	n = db_metadata(app->db, req->partition, study, series, sop, bulk_url, original, &out, &ver, version_first);
	if (n > 0 && version_first) {
		/* compared as the service does: the plain string, case-insensitive
		 * (RetrieveMetadataService.IsCacheValid): a quoted tag differs */
		int rc = inm && !strcasecmp(inm, ver.etag) ? http_send(req, 304, NULL, "", 0)
			 : keep				   ? send_kept_metadata(req, &ver)
							   : 1;
		if (rc != 1) {
			buf_release(&out);
			return rc;
		}
		n = db_metadata(app->db, req->partition, study, series, sop, bulk_url, original, &out, &ver, false);
	}
	if (n <= 0) {
		buf_release(&out);
		return n == 0 ? api_not_found(req) : http_error(req, 503, "The server is temporarily unable to read data.");
	}
	if (keep && ver.settled) {
		char path[4600];
		store_cache_put(&app->store, ver.latest, ver.key, out.data, out.len, path, sizeof(path));
	}
	http_add_header(req, "ETag", "%s", ver.etag);
	int rc = http_send(req, 200, "application/dicom+json", out.data, out.len);
	buf_release(&out);
	return rc;
}

/* ---- frames (§4.1, §4.2) ---------------------------------------------- */

/* The "offset:length" ranges from p to the next ';' (one frame) or to the
 * end (every frame), in the request's arena, with their total length. */
static size_t parse_ranges(struct request *req, const char *p, bool one_frame, struct range **out, uint64_t *len)
{
	size_t n = 1;
	for (const char *q = p; *q && !(one_frame && *q == ';'); q++)
		n += *q == ',' || *q == ';';
	struct range *r = arena_alloc(&req->arena, n * sizeof(*r));
	size_t k = 0;
	*len = 0;
	while (*p && k < n) {
		long long o, l;
		if (sscanf(p, "%lld:%lld", &o, &l) != 2)
			break;
		r[k].off = o;
		r[k].len = l;
		*len += (uint64_t)l;
		k++;
		p += strcspn(p, ",;");
		if (!*p || (one_frame && *p == ';'))
			break;
		p++;
	}
	*out = r;
	return k;
}

size_t api_frame_ranges(struct request *req, const char *all, long n, struct range **out, uint64_t *len)
{
	const char *p = all;
	for (long i = 1; i < n && p; i++) {
		p = strchr(p, ';');
		if (p)
			p++;
	}
	*len = 0;
	*out = NULL;
	return p ? parse_ranges(req, p, true, out, len) : 0;
}

/* A body part: ranges of a file, or bytes in memory (mem). */
struct payload {
	struct store_reader *file;
	const struct range *r;
	size_t nr;
	const char *mem;
	uint64_t len; /* bytes in all */
};

static int send_payload(struct request *req, const struct payload *p)
{
	return p->mem ? http_write(req, p->mem, (size_t)p->len) : send_ranges_of(req, p->file, p->r, p->nr);
}

/* One part as the whole body, or every part in a multipart/related body,
 * each part with Content-Type ctype. */
static int send_payloads(struct request *req, bool multipart, const char *ctype, const struct payload *parts, size_t n)
{
	int rc = 0;
	if (!multipart) {
		http_add_header(req, "Content-Type", "%s", ctype);
		http_add_header(req, "Content-Length", "%llu", (unsigned long long)parts[0].len);
		return http_send_head(req) || send_payload(req, &parts[0]);
	}
	char boundary[37], tail[64];
	util_uuid(boundary);
	const char *head = arena_printf(&req->arena, "--%s\r\nContent-Type: %s\r\n\r\n", boundary, ctype);
	size_t hl = strlen(head);
	int tl = snprintf(tail, sizeof(tail), "--%s--\r\n", boundary);
	uint64_t total = (uint64_t)tl;
	for (size_t i = 0; i < n; i++)
		total += hl + parts[i].len + 2;
	http_add_header(req, "Content-Type", "multipart/related; boundary=%s", boundary);
	http_add_header(req, "Content-Length", "%llu", (unsigned long long)total);
	rc = http_send_head(req);
	for (size_t i = 0; i < n && !rc; i++)
		rc = http_write(req, head, hl) || send_payload(req, &parts[i]) || http_write(req, "\r\n", 2);
	if (!rc)
		rc = http_write(req, tail, (size_t)tl);
	return rc;
}

long api_stored_ranges(struct app *app, const struct db_instance_ref *it, const char *path, char **ranges)
{
	struct buf computed;
	long n;

	*ranges = NULL;
	if (db_frame_ranges_get(app->db, it->watermark, ranges) == 0 && *ranges) {
		n = 1;
		for (const char *p = *ranges; *p; p++)
			n += *p == ';';
		return n;
	}
	buf_init(&computed, 0);
	n = sandbox_frame_ranges(path, &computed);
	if (n >= 0) {
		*ranges = strdup(buf_str(&computed));
		if (!*ranges)
			n = -1;
		else if (n > 0)
			db_frame_ranges_set(app->db, it->watermark, *ranges); /* kept for the next request */
	}
	buf_release(&computed);
	return n;
}

/* Where the frames of instance it are, in syntax want ("*" = as stored):
 * the stored file (ranges kept in the database after the first time) or a
 * transcoded copy, in of. Sets *ranges (malloc'ed) and *ts, and returns
 * the number of frames; or minus the HTTP status with the reply sent. */
static long frames_source(struct request *req, const struct db_instance_ref *it, const char *want, struct outfile *of,
			  char **ranges, const char **ts)
{
	struct app *app = req->app;
	long n = -1;

	/* the stored bytes serve when no change of syntax is asked for (implicit
	 * and explicit little endian share the pixel bytes) */
	bool stored_ok = !strcmp(want, "*") || !strcmp(want, it->ts) ||
			 (!strcmp(want, TS_EXPLICIT_LE) && !strcmp(it->ts, TS_IMPLICIT_LE));
	*ts = !strcmp(want, "*") ? it->ts : want;
	*ranges = NULL;
	int st = open_stored(req, it, of);
	if (st)
		return -st;
	if (stored_ok)
		n = api_stored_ranges(app, it, of->r->path, ranges);
	if (n < 0) {
		/* another syntax, or a file whose frames cannot be cut out as stored */
		const char *to = stored_ok ? TS_EXPLICIT_LE : want;
		outfile_release(of);
		st = prepare(req, it, to, of);
		if (st)
			return -st;
		*ts = to;
		struct buf computed;
		buf_init(&computed, 0);
		n = sandbox_frame_ranges(of->r->path, &computed);
		free(*ranges);
		*ranges = n < 0 ? NULL : strdup(buf_str(&computed));
		buf_release(&computed);
		if (n < 0)
			return http_error(req, 406, "The requested transfer syntax is not supported for this instance."), -406;
	}
	if (!*ranges)
		return http_error(req, 503, "The server is temporarily unable to read data."), -503;
	return n;
}

int wado_frames(struct request *req)
{
	struct app *app = req->app;
	const char *study = req->params[PARAM_STUDY], *series = req->params[PARAM_SERIES],
		   *sop = req->params[PARAM_INSTANCE], *list = req->params[PARAM_FRAMES];
	struct accept_choice choice;
	struct db_instance_list inst = { 0 };
	long frames[1024];
	size_t nframes = 0;
	char *ranges = NULL;
	struct outfile of = { 0 };
	struct range **rs = NULL;
	size_t *nr = NULL;
	uint64_t *bytes = NULL;
	int rc = 0;

	if (param_frames(req, list, frames, sizeof(frames) / sizeof(frames[0]), &nframes))
		return 0;
	if (accept_negotiate_frames(&req->arena, request_header(req, "Accept"), app->cfg.transcode_all, &choice))
		return http_error(req, 406, "The request headers are not acceptable");
	if (!choice.multipart && nframes > 1)
		return http_error(req, 400, "The accept header is supported for single frame retrieval, use multi-part accept "
					    "header instead.");
	if (db_list_instances(app->db, req->partition, study, series, sop, false, &inst))
		return http_error(req, 503, "The server is temporarily unable to read data.");
	if (inst.n == 0) {
		rc = api_not_found(req);
		goto out;
	}
	const struct db_instance_ref *it = &inst.items[0];
	const char *ts;
	long n = frames_source(req, it, choice.ts, &of, &ranges, &ts);
	if (n < 0)
		goto out; /* answered */
	for (size_t i = 0; i < nframes; i++) {
		if (frames[i] > n) {
			rc = http_error(req, 404, "The specified frame cannot be found.");
			goto out;
		}
	}

	rs = calloc(nframes, sizeof(*rs));
	nr = calloc(nframes, sizeof(*nr));
	bytes = calloc(nframes, sizeof(*bytes));
	if (!rs || !nr || !bytes) {
		rc = http_error(req, 503, "The server is temporarily unable to read data.");
		goto out;
	}
	/* an answer is never larger than the pixel data itself: a list of the
	 * same large frame many times over would multiply it */
	uint64_t asked = 0, all = 0;
	struct range *every;
	parse_ranges(req, ranges, false, &every, &all);
	for (size_t i = 0; i < nframes; i++) {
		nr[i] = api_frame_ranges(req, ranges, frames[i], &rs[i], &bytes[i]);
		asked += bytes[i];
	}
	if (asked > all) {
		rc = http_error(req, 400, "The requested frames add up to more than the instance's pixel data (%llu bytes).",
				(unsigned long long)all);
		goto out;
	}
	struct payload *parts = arena_alloc(&req->arena, nframes * sizeof(*parts));
	for (size_t i = 0; i < nframes; i++)
		parts[i] = (struct payload){ .file = of.r, .r = rs[i], .nr = nr[i], .len = bytes[i] };
	rc = send_payloads(req, choice.multipart, arena_printf(&req->arena, "%s; transfer-syntax=%s", choice.media, ts),
			   parts, nframes);
out:
	outfile_release(&of);
	free(ranges);
	free(rs);
	free(nr);
	free(bytes);
	db_instance_list_release(&inst);
	return rc;
}

/* ---- bulk data (PS3.18 §8.7.4; beyond the service) ----------------------- */

/* "7FE00010" or "00081140/1/00081155": tags, and items from 1 between
 * them. Returns the number of tags, or -1 when malformed. */
static int parse_tag_path(const char *p, uint32_t *tags, long *items, int max)
{
	int n = 0;
	for (;;) {
		char hex[9], *end;
		if (n == max || strspn(p, "0123456789abcdefABCDEF") != 8 || (p[8] && p[8] != '/'))
			return -1;
		memcpy(hex, p, 8);
		hex[8] = '\0';
		tags[n++] = (uint32_t)strtoul(hex, NULL, 16);
		p += 8;
		if (!*p)
			return n;
		long item = strtol(p + 1, &end, 10);
		if (end == p + 1 || item < 1 || *end != '/')
			return -1;
		items[n - 1] = item;
		p = end + 1;
	}
}

int wado_bulkdata(struct request *req)
{
	struct app *app = req->app;
	const char *study = req->params[PARAM_STUDY], *series = req->params[PARAM_SERIES],
		   *sop = req->params[PARAM_INSTANCE];
	struct accept_choice choice;
	struct db_instance_list inst = { 0 };
	struct outfile of = { 0 };
	uint32_t tags[16];
	long items[16];
	char *ranges = NULL;
	struct buf value;
	int rc = 0;

	int depth = parse_tag_path(req->params[PARAM_PATH], tags, items, 16);
	if (depth < 0)
		return http_error(req, 400, "The specified bulk data path is not valid.");
	if (accept_negotiate_bulkdata(&req->arena, request_header(req, "Accept"), &choice))
		return http_error(req, 406, "The request headers are not acceptable");
	if (db_list_instances(app->db, req->partition, study, series, sop, false, &inst))
		return http_error(req, 503, "The server is temporarily unable to read data.");
	if (inst.n == 0) {
		db_instance_list_release(&inst);
		return api_not_found(req);
	}
	buf_init(&value, 0);
	const struct db_instance_ref *it = &inst.items[0];
	struct payload part = { 0 };
	const char *ctype = "application/octet-stream";
	if (depth == 1 && tags[0] == 0x7FE00010u) {
		/* the pixel data, native: compressed frames are decoded first */
		const char *ts;
		long n = frames_source(req, it, TS_EXPLICIT_LE, &of, &ranges, &ts);
		if (n < 0)
			goto out; /* answered */
		if (n == 0) {
			rc = http_error(req, 404, "The specified bulk data cannot be found.");
			goto out;
		}
		struct range *r;
		part.file = of.r;
		part.nr = parse_ranges(req, ranges, false, &r, &part.len); /* every frame: the native bytes */
		part.r = r;
		ctype = arena_printf(&req->arena, "application/octet-stream; transfer-syntax=%s", ts);
	} else {
		int f = open_stored(req, it, &of);
		if (f)
			goto out; /* answered */
		f = sandbox_bulk_value(of.r->path, tags, items, (size_t)depth, &value);
		if (f <= 0) {
			rc = f < 0 ? http_error(req, 503, "The server is temporarily unable to read data.")
				   : http_error(req, 404, "The specified bulk data cannot be found.");
			goto out;
		}
		part.mem = value.data;
		part.len = value.len;
	}
	rc = send_payloads(req, choice.multipart, ctype, &part, 1);
out:
	outfile_release(&of);
	free(ranges);
	buf_release(&value);
	db_instance_list_release(&inst);
	return rc;
}
