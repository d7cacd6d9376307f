/* STOW-RS: POST /studies[/{study}] (§3). Parts stream from the request body
 * into temp files; each instance is parsed, validated, made durable and
 * committed with its change feed and outbox rows before the next. */
#include "api/app.h"
#include "common/log.h"
#include "dicom/dcm.h"
#include "dicom/sandbox.h"
#include "dicom/validate.h"
#include "http/multipart.h"
#include "db/eqt.h"
#include "http/response.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

enum { FAIL_PROCESSING = 272, FAIL_VALIDATION = 43264, FAIL_EXISTS = 45070 };
enum { WARN_IMPLICIT_VR = 45063, WARN_VALIDATION = 1 };

struct stow {
	struct request *req;
	struct app *app;
	const char *path_study;
	const char *root_type; /* multipart/related's type: the first part's when it has none */
	const char *base_url;

	/* current part */
	struct store_writer *part;
	unsigned char head[132];
	size_t headlen;

	/* request abort: status and message, 0 when none */
	int abort_status;
	char abort_msg[256];

	struct buf refs, fails;
	size_t nrefs, nfails, nparts;
	bool warned;
	bool multi_valued; /* some stored instance had a multi-valued indexed attribute */

	/* body accounting */
	uint64_t body_bytes;

	/* the study expires this many milliseconds after each store; 0: never */
	int64_t expiry_ms;
	/* PUT: existing instances are replaced */
	bool upsert;

	/* extended query tags: validated as indexed attributes */
	uint32_t eqt[128];
	size_t neqt;

	/* instances whose files are durable, their rows committed once the
	 * whole body has been read: a request refused later (a part of an
	 * unsupported type, bad framing) leaves nothing stored */
	struct pending *pending, **pending_tail;
};

struct pending {
	struct db_new_instance in;
	int warning;
	struct validation v; /* warnings (the answer's comments), multi_valued_index */
	uint64_t size;
	struct pending *next;
};

/* The service takes a part (or a single-part body) only when its whole
 * Content-Type is application/dicom: parameters make it another type
 * (DicomInstanceEntryReaderFor*Request compare the whole value). */
static bool is_dicom_type(const char *ct)
{
	size_t n;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strlen(ct);
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == 17 && !strncasecmp(ct, "application/dicom", 17);
}

static void add_ui(struct buf *b, const char *tag, const char *v)
{
	buf_addf(b, "\"%s\":{\"vr\":\"UI\",\"Value\":[", tag);
	buf_add_json_str(b, v, strlen(v));
	buf_adds(b, "]}");
}

/* FailedAttributesSequence from NUL-separated comments */
static void add_comments(struct buf *b, const struct buf *comments, size_t n)
{
	const char *p = buf_str(comments);

	buf_adds(b, "\"00741048\":{\"vr\":\"SQ\",\"Value\":[");
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(p);
		if (i)
			buf_addch(b, ',');
		buf_adds(b, "{\"00000902\":{\"vr\":\"LO\",\"Value\":[");
		buf_add_json_str(b, p, len);
		buf_adds(b, "]}}");
		p += len + 1;
	}
	buf_adds(b, "]}");
}

static void add_failure(struct stow *st, const char *sop_class, const char *sop, int code,
			const struct buf *comments, size_t ncomments)
{
	struct buf *b = &st->fails;

	if (st->nfails++)
		buf_addch(b, ',');
	buf_addch(b, '{');
	if (sop_class && *sop_class) {
		add_ui(b, "00081150", sop_class);
		buf_addch(b, ',');
	}
	if (sop && *sop) {
		add_ui(b, "00081155", sop);
		buf_addch(b, ',');
	}
	buf_addf(b, "\"00081197\":{\"vr\":\"US\",\"Value\":[%d]}", code);
	if (ncomments) {
		buf_addch(b, ',');
		add_comments(b, comments, ncomments);
	}
	buf_addch(b, '}');
	log_info("stow failure code=%d sop='%s'", code, sop ? sop : "");
}

static void add_success(struct stow *st, const char *sop_class, const char *study, const char *series, const char *sop,
			int warning, const struct validation *v)
{
	struct buf *b = &st->refs;

	if (st->nrefs++)
		buf_addch(b, ',');
	buf_addch(b, '{');
	add_ui(b, "00081150", sop_class);
	buf_addch(b, ',');
	add_ui(b, "00081155", sop);
	buf_adds(b, ",\"00081190\":{\"vr\":\"UR\",\"Value\":[");
	const char *url =
		arena_printf(&st->req->arena, "%s/studies/%s/series/%s/instances/%s", st->base_url, study, series, sop);
	buf_add_json_str(b, url, strlen(url));
	buf_adds(b, "]}");
	if (warning) {
		buf_addf(b, ",\"00081196\":{\"vr\":\"US\",\"Value\":[%d]}", warning);
		st->warned = true;
	}
	if (st->req->api_major >= 2) {
		buf_addch(b, ',');
		add_comments(b, &v->warnings, v->nwarnings);
	}
	buf_addch(b, '}');
}

/* Same UID ignoring case and trailing white space, as the service compares. */
static bool same_uid(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	while (na && (a[na - 1] == ' ' || a[na - 1] == '\0'))
		na--;
	while (nb && (b[nb - 1] == ' ' || b[nb - 1] == '\0'))
		nb--;
	return na == nb && !strncasecmp(a, b, na);
}

/* Replaces the 128-byte preamble with zeros, as the service does. */
static int zero_preamble(struct stow *st)
{
	static const unsigned char zeros[128];

	if (st->headlen < 132 || memcmp(st->head + 128, "DICM", 4) || !memcmp(st->head, zeros, 128))
		return 0;
	return store_write_at(st->part, zeros, 128, 0);
}

/* A failure that is not the client's (the database, the store): the
 * request stops with 503 and Retry-After, as every route answers, rather
 * than a final 409/272 for this instance. */
static void transient(struct stow *st, const char *what)
{
	log_warn("stow stopped: %s", what);
	st->abort_status = 503;
	snprintf(st->abort_msg, sizeof(st->abort_msg), "The server is temporarily unable to store data.");
}

/* Parses the current part: GDCM reads a client's file only in the kept
 * child (a file that makes it abort or stall fails as unreadable, the
 * responder lives on), which sends back the identity, the validation as
 * the API version says, both metadata forms and the indexed attributes.
 * Returns 0 with p filled, or -1 with the failure added (release p
 * either way). */
static int parse_part(struct stow *st, struct sandbox_parsed *p)
{
	char err[256];

	int rc = sandbox_parse(&st->app->sandbox, st->part->path, st->req->api_major, st->eqt, st->neqt, p, err,
			       sizeof(err));
	if (rc == SANDBOX_RETRY) {
		transient(st, err);
		return -1;
	}
	if (rc) {
		log_info("unreadable instance: %s", err);
		add_failure(st, NULL, NULL, FAIL_VALIDATION, NULL, 0);
		return -1;
	}
	if (p->v.nerrors) {
		add_failure(st, p->sop_class, p->sop, FAIL_VALIDATION, &p->v.errors, p->v.nerrors);
		return -1;
	}
	if (st->path_study && !same_uid(p->study, st->path_study)) {
		struct buf c;
		buf_init(&c, 0);
		buf_adds(&c, "DICOM100: (0020,000d) - The StudyInstanceUid in the payload does not match the specified "
			     "StudyInstanceUid.");
		buf_addch(&c, '\0');
		add_failure(st, p->sop_class, p->sop, FAIL_VALIDATION, &c, 1);
		buf_release(&c);
		return -1;
	}
	return 0;
}

/* The rows of an instance: its identity, file and metadata, the indexed
 * attributes (borrowed from p). */
static void new_instance(struct stow *st, const struct sandbox_parsed *p, int64_t wm, struct db_new_instance *in)
{
	*in = (struct db_new_instance){
		.partition = st->req->partition,
		.study = p->study,
		.series = p->series,
		.sop = p->sop,
		.sop_class = p->sop_class,
		.ts = *p->ts ? p->ts : "1.2.840.10008.1.2",
		.watermark = wm,
		.size = (int64_t)st->part->size,
		.metadata = buf_str(&p->meta),
		.metadata_bulk = buf_str(&p->bulk),
		.patient_id = p->attrs[PARSED_PATIENT_ID],
		.patient_name = p->attrs[PARSED_PATIENT_NAME],
		.patient_birth_date = p->attrs[PARSED_BIRTH_DATE],
		.accession = p->attrs[PARSED_ACCESSION],
		.referring = p->attrs[PARSED_REFERRING],
		.study_date = p->attrs[PARSED_STUDY_DATE],
		.study_description = p->attrs[PARSED_STUDY_DESCRIPTION],
		.modality = p->attrs[PARSED_MODALITY],
		.pps_start_date = p->attrs[PARSED_PPS_START_DATE],
		.model = p->attrs[PARSED_MODEL],
		.host = st->app->cfg.events_service_host,
		.topic = st->app->cfg.events_topic,
		.expiry_ms = st->expiry_ms,
		.upsert = st->upsert,
		.frame_ranges = p->frame_ranges,
	};
}

/* Makes the part durable under its watermark and keeps what its rows need
 * for commit_pending (strings copied into the request's arena). */
static void commit_instance(struct stow *st, const struct db_new_instance *in, int warning, const struct validation *v)
{
	struct arena *a = &st->req->arena;
	uint64_t size = st->part->size;

	/* the file is durable before the row that points at it commits */
	int committed = store_commit(st->part, in->watermark);
	st->part = NULL;
	if (committed) {
		transient(st, "the file cannot be made durable");
		return;
	}
	struct pending *p = arena_alloc(a, sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->in = *in;
	p->in.study = arena_strdup(a, in->study);
	p->in.series = arena_strdup(a, in->series);
	p->in.sop = arena_strdup(a, in->sop);
	p->in.sop_class = arena_strdup(a, in->sop_class);
	p->in.ts = arena_strdup(a, in->ts); /* the parse's answer goes before the commit */
	p->in.metadata = arena_strdup(a, in->metadata);
	p->in.metadata_bulk = in->metadata_bulk ? arena_strdup(a, in->metadata_bulk) : NULL;
	p->in.frame_ranges = in->frame_ranges ? arena_strdup(a, in->frame_ranges) : NULL;
	const char **attrs[] = { &p->in.patient_id, &p->in.patient_name, &p->in.patient_birth_date, &p->in.accession,
				 &p->in.referring, &p->in.study_date, &p->in.study_description, &p->in.modality,
				 &p->in.pps_start_date, &p->in.model };
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (*attrs[i])
			*attrs[i] = arena_strdup(a, *attrs[i]);
	p->warning = warning;
	validation_init(&p->v);
	buf_add(&p->v.warnings, v->warnings.data, v->warnings.len);
	p->v.nwarnings = v->nwarnings;
	p->v.multi_valued_index = v->multi_valued_index;
	p->size = size;
	*st->pending_tail = p;
	st->pending_tail = &p->next;
}

/* What the database said of one pending instance's rows. */
struct stored {
	int rc;
	int64_t seq, replaced[2];
};

static int store_rows(struct app *app, const struct db_new_instance *in, struct stored *s)
{
	s->rc = db_store_instance(app->db, in, &s->seq, s->replaced);
	/* stored meanwhile by another request: replace that one (a third
	 * request may win that race too) */
	for (int k = 0; k < 3 && s->rc == DB_EXISTS && in->upsert; k++)
		s->rc = db_store_instance(app->db, in, &s->seq, s->replaced);
	return s->rc;
}

/* The outcome of one instance whose rows are committed (or refused) goes
 * into the answer; files nothing points at go. */
static void outcome(struct stow *st, const struct pending *p, const struct stored *s)
{
	struct app *app = st->app;
	const struct db_new_instance *in = &p->in;

	switch (s->rc) {
	case DB_STORED:
		/* the replaced versions' files go once their rows are gone */
		for (int k = 0; k < 2 && s->replaced[k]; k++)
			store_remove(&app->store, s->replaced[k]);
		add_success(st, in->sop_class, in->study, in->series, in->sop, p->warning, &p->v);
		st->multi_valued |= p->v.multi_valued_index;
		log_info("stored sop='%s' watermark=%lld sequence=%lld bytes=%llu%s", in->sop, (long long)in->watermark,
			 (long long)s->seq, (unsigned long long)p->size, s->replaced[0] ? " (replaced)" : "");
		break;
	case DB_EXISTS:
		store_remove(&app->store, in->watermark);
		add_failure(st, in->sop_class, in->sop, FAIL_EXISTS, NULL, 0);
		break;
	case DB_INVALID:
		store_remove(&app->store, in->watermark);
		add_failure(st, in->sop_class, in->sop, FAIL_VALIDATION, NULL, 0);
		break;
	default:
		store_remove(&app->store, in->watermark);
		transient(st, "the database did not store the instance");
		break;
	}
}

/* Instances committed together: one flush of the WAL for them, and row
 * locks (the study's, the series') held for no more than that many. */
#define COMMIT_TOGETHER 16

/* The order in which the rows of instances committed together are
 * written: by study, series and SOP instance UID, the order in which a
 * DELETE of a study meets them, so that two requests storing the same
 * instances in other orders, or a store and a delete, wait for each other
 * instead of deadlocking (each deadlock cost a second of PostgreSQL's
 * deadlock_timeout and a 503). */
struct batched {
	struct pending *p;
	size_t at; /* its place in the body */
};

static int by_uids(const void *x, const void *y)
{
	const struct db_new_instance *a = &((const struct batched *)x)->p->in, *b = &((const struct batched *)y)->p->in;
	int c = strcmp(a->study, b->study);
	if (!c)
		c = strcmp(a->series, b->series);
	return c ? c : strcmp(a->sop, b->sop);
}

/* Up to COMMIT_TOGETHER instances from first on: their rows in one
 * transaction (written in by_uids order, answered in body order). Returns
 * the one after the last committed, or first when that did not work out
 * (a statement failed, e.g. a concurrent store of the same instance, or
 * the commit): nothing of it was kept. */
static struct pending *commit_together(struct stow *st, struct pending *first)
{
	struct stored s[COMMIT_TOGETHER];
	struct batched order[COMMIT_TOGETHER];
	struct pending *p = first;
	size_t n = 0;
	bool ok = true;

	for (; p && n < COMMIT_TOGETHER; p = p->next, n++)
		order[n] = (struct batched){ p, n };
	qsort(order, n, sizeof(order[0]), by_uids);
	if (db_begin(st->app->db))
		return first;
	for (size_t k = 0; k < n && ok; k++) {
		struct stored *out = &s[order[k].at];
		ok = store_rows(st->app, &order[k].p->in, out) == DB_STORED || out->rc == DB_EXISTS;
	}
	if (!ok) {
		db_end(st->app->db, false);
		return first;
	}
	if (db_end(st->app->db, true))
		return first;
	struct pending *q = first;
	for (size_t k = 0; k < n; k++, q = q->next)
		outcome(st, q, &s[k]);
	return p;
}

/* Once the body is read: commits the durable instances in body order
 * (keep), several at a time, or removes their files when the request is
 * refused. */
static void commit_pending(struct stow *st, bool keep)
{
	struct pending *p = st->pending;
	while (p) {
		struct pending *next = keep && !st->abort_status && p->next ? commit_together(st, p) : p;
		if (next == p) { /* one on its own (or refused) */
			if (keep && !st->abort_status) {
				struct stored s;
				store_rows(st->app, &p->in, &s);
				outcome(st, p, &s);
			} else {
				store_remove(&st->app->store, p->in.watermark);
			}
			next = p->next;
		}
		for (; p != next; p = p->next)
			validation_release(&p->v);
	}
	st->pending = NULL;
	st->pending_tail = &st->pending;
}

/* The current part, received whole: parsed, validated, stored or refused. */
static void process_instance(struct stow *st)
{
	struct sandbox_parsed p;
	int64_t wm;

	if (parse_part(st, &p))
		goto drop;
	int ex = db_reserve_instance(st->app->db, st->req->partition, p.study, p.series, p.sop, st->upsert, &wm);
	if (ex < 0) {
		transient(st, "the database is unavailable");
		goto drop;
	}
	if (ex > 0) {
		add_failure(st, p.sop_class, p.sop, FAIL_EXISTS, NULL, 0);
		goto drop;
	}
	if (zero_preamble(st)) {
		transient(st, "the file cannot be written");
		goto drop;
	}
	int warning = p.implicit_vr ? WARN_IMPLICIT_VR : p.v.nwarnings ? WARN_VALIDATION : 0;
	struct db_new_instance in;
	new_instance(st, &p, wm, &in);
	commit_instance(st, &in, warning, &p.v);
	goto out;
drop:
	store_abort(st->part);
	st->part = NULL;
out:
	sandbox_parsed_release(&p);
}

static int part_begin(void *ctx, const struct multipart_part *part)
{
	struct stow *st = ctx;

	/* RFC 2387 3.1, as the service reads it: a first part without a
	 * Content-Type has the type parameter's */
	const char *ct = part->content_type ? part->content_type : part->index == 0 ? st->root_type : NULL;
	if (!is_dicom_type(ct)) {
		st->abort_status = 415;
		snprintf(st->abort_msg, sizeof(st->abort_msg), "The specified content type '%s' is not supported.",
			 ct ? ct : "");
		return 1;
	}
	st->part = store_begin(&st->app->store);
	if (!st->part) {
		st->abort_status = 503;
		snprintf(st->abort_msg, sizeof(st->abort_msg), "The server is temporarily unable to store data.");
		return 1;
	}
	st->headlen = 0;
	st->nparts++;
	return 0;
}

static int part_data(void *ctx, const void *data, size_t n)
{
	struct stow *st = ctx;
	const char *p = data;

	if (st->headlen < sizeof(st->head)) {
		size_t take = sizeof(st->head) - st->headlen;
		if (take > n)
			take = n;
		memcpy(st->head + st->headlen, p, take);
		st->headlen += take;
	}
	if (store_write(st->part, data, n)) {
		st->abort_status = 503;
		snprintf(st->abort_msg, sizeof(st->abort_msg), "The server is temporarily unable to store data.");
		return 1;
	}
	return 0;
}

static int part_end(void *ctx)
{
	struct stow *st = ctx;
	process_instance(st);
	return st->abort_status ? 1 : 0;
}

static ssize_t body_read(void *ctx, void *dst, size_t n)
{
	struct stow *st = ctx;
	ssize_t got = st->req->io.read(st->req->io.rctx, dst, n);
	if (got > 0) {
		st->body_bytes += (uint64_t)got;
		if (st->body_bytes > (uint64_t)st->app->cfg.max_request_bytes)
			return -2;
	}
	return got;
}

static void discard_part(struct stow *st)
{
	store_abort(st->part);
	st->part = NULL;
}

static int respond(struct stow *st)
{
	struct request *req = st->req;
	struct buf out;
	int status;

	if (st->nparts == 0)
		return http_send(req, 204, NULL, "", 0);
	if (st->nrefs == 0)
		status = 409;
	else if (st->nfails || (req->api_major >= 2 && st->warned))
		status = 202;
	else
		status = 200;
	buf_init(&out, 0);
	buf_addch(&out, '{');
	bool first = true;
	if (st->path_study && st->nrefs) {
		const char *url = arena_printf(&req->arena, "%s/studies/%s", st->base_url, st->path_study);
		buf_adds(&out, "\"00081190\":{\"vr\":\"UR\",\"Value\":[");
		buf_add_json_str(&out, url, strlen(url));
		buf_adds(&out, "]}");
		first = false;
	}
	if (st->nfails) {
		buf_addf(&out, "%s\"00081198\":{\"vr\":\"SQ\",\"Value\":[", first ? "" : ",");
		buf_add(&out, st->fails.data, st->fails.len);
		buf_adds(&out, "]}");
		first = false;
	}
	if (st->nrefs) {
		buf_addf(&out, "%s\"00081199\":{\"vr\":\"SQ\",\"Value\":[", first ? "" : ",");
		buf_add(&out, st->refs.data, st->refs.len);
		buf_adds(&out, "]}");
	}
	buf_addch(&out, '}');
	if (st->multi_valued) {
		http_add_warning(req, "One or more indexed Dicom tag(s) have multiple values, only first value is indexed.");
	}
	int rc = http_send(req, status, "application/dicom+json", out.data, out.len);
	buf_release(&out);
	return rc;
}

/* A single application/dicom body: one part. Returns MP_OK, 1 when a
 * handler aborted, or the reader's error. */
static int read_single(struct stow *st, const char *ct)
{
	struct multipart_part part = { ct, st->req->content_length, 0 };
	char chunk[65536];
	ssize_t got;

	if (part_begin(st, &part))
		return 1;
	while ((got = body_read(st, chunk, sizeof(chunk))) > 0) {
		if (st->part->size + (uint64_t)got > (uint64_t)st->app->cfg.max_part_bytes)
			return MP_TOO_LARGE;
		if (part_data(st, chunk, (size_t)got))
			return 1;
	}
	if (got < 0)
		return got == -2 ? MP_TOO_LARGE : MP_IO;
	return part_end(st);
}

/* A multipart/related body whose parameters the service accepts (else
 * answered here: 0 with the reply sent is returned as 2). */
static int read_multipart(struct stow *st, const char *ct, const struct multipart_content_type *mct)
{
	struct request *req = st->req;

	if (strcmp(mct->media, "multipart/related"))
		return http_error(req, 415, "The specified content type '%s' is not supported.", ct), 2;
	if (!mct->boundary || !*mct->boundary)
		return http_error(req, 415, "The content type '%s' is either not multipart or is missing boundary.", ct), 2;
	if (mct->start)
		return http_error(req, 400, "The start parameter in multipart/related request is not supported."), 2;
	st->root_type = mct->type;

	struct multipart_handler h = { st, part_begin, part_data, part_end };
	struct multipart_limits lim = { (uint64_t)st->app->cfg.max_part_bytes, (uint64_t)st->app->cfg.max_parts, 16384 };
	int rc = multipart_read(mct->boundary, body_read, st, &h, &lim);
	if (rc == MP_IO && st->body_bytes > (uint64_t)st->app->cfg.max_request_bytes)
		rc = MP_TOO_LARGE;
	return rc;
}

/* The answer once the body has been read (rc as read_single returns). */
static int finish(struct stow *st, int rc)
{
	struct request *req = st->req;

	commit_pending(st, rc == MP_OK);
	if (rc == MP_OK && !st->abort_status)
		return respond(st);
	discard_part(st);
	if (rc == 1 || rc == MP_OK) /* MP_OK: a commit failed (503) */
		return http_error(req, st->abort_status, "%s", st->abort_msg);
	if (rc == MP_TOO_LARGE)
		return http_error(req, 413, "The request exceeded the allowed limit of %lld bytes.",
				  (long long)st->app->cfg.max_part_bytes);
	if (rc == MP_IO)
		return http_error(req, 400, "The request body could not be read.");
	return http_error(req, 400, "The request body is not a valid multipart/related message.");
}

/* Extended query tags, validated as indexed attributes. */
static void load_eqt(struct stow *st)
{
	struct db_eqt tags[128];
	long n = db_eqt_list(st->app->db, tags, 128, 0);
	for (long i = 0; i < n; i++)
		if (strcmp(tags[i].status, "deleting"))
			st->eqt[st->neqt++] = (uint32_t)strtoul(tags[i].path, NULL, 16);
}

/* The expiry headers (managed service, §3.9): all three or none. Returns 0
 * with *ms set (0 for none), or -1 with the 400 sent. */
static int parse_expiry(struct request *req, int64_t *ms)
{
	static const char *const names[] = { "msdicom-expiry-time-milliseconds", "msdicom-expiry-option",
					     "msdicom-expiry-level" };
	static const char *const only[] = { NULL, "RelativeToNow", "Study" };
	const int64_t max = 100LL * 366 * 24 * 3600 * 1000; /* a century */
	const char *v[3];
	int given = 0;

	*ms = 0;
	for (int i = 0; i < 3; i++)
		given += (v[i] = request_header(req, names[i])) != NULL;
	if (!given)
		return 0;
	for (int i = 0; i < 3; i++)
		if (!v[i])
			return http_error(req, 400, "The header '%s' is missing: '%s', '%s' and '%s' go together.", names[i],
					  names[0], names[1], names[2]),
			       -1;
	char *end;
	errno = 0;
	long long t = strtoll(v[0], &end, 10);
	if (errno || end == v[0] || *end || t <= 0 || t > max || !isdigit((unsigned char)*v[0]))
		return http_error(req, 400,
				  "The value '%s' of header '%s' is invalid: a whole number of milliseconds greater than 0 "
				  "(at most %lld) is expected.",
				  v[0], names[0], (long long)max),
		       -1;
	for (int i = 1; i < 3; i++)
		if (strcasecmp(v[i], only[i]))
			return http_error(req, 400, "The value '%s' of header '%s' is not supported: the only supported value is '%s'.",
					  v[i], names[i], only[i]),
			       -1;
	*ms = t;
	return 0;
}

int stow_handle(struct request *req)
{
	struct stow st;
	const char *ct = request_header(req, "Content-Type");
	struct multipart_content_type mct;
	int rc;

	if (req->content_length > req->app->cfg.max_request_bytes)
		return http_error(req, 413, "The request exceeded the allowed limit of %lld bytes.",
				  (long long)req->app->cfg.max_request_bytes);
	if (!ct || multipart_parse_content_type(&req->arena, ct, &mct))
		return http_error(req, 415, "The specified content type '%s' is not supported.", ct ? ct : "");
	/* an empty application/dicom body is an unreadable instance (409, as
	 * the service answers); a multipart body cannot be empty */
	if (req->content_length == 0 && strcmp(mct.media, "application/dicom"))
		return http_error(req, 400, "The request body is missing.");
	memset(&st, 0, sizeof(st));
	if (parse_expiry(req, &st.expiry_ms))
		return 0;
	st.upsert = !strcmp(req->method, "PUT");
	st.pending_tail = &st.pending;
	st.req = req;
	st.app = req->app;
	st.path_study = req->params[PARAM_STUDY];
	st.base_url = api_service_url(req);
	buf_init(&st.refs, 0);
	buf_init(&st.fails, 0);
	load_eqt(&st);
	if (!strcmp(mct.media, "application/dicom") && !is_dicom_type(ct))
		rc = http_error(req, 415, "The specified content type '%s' is not supported.", ct);
	else if (!strcmp(mct.media, "application/dicom"))
		rc = finish(&st, read_single(&st, ct));
	else if ((rc = read_multipart(&st, ct, &mct)) != 2)
		rc = finish(&st, rc);
	else
		rc = 0; /* answered */
	buf_release(&st.refs);
	buf_release(&st.fails);
	return rc;
}
