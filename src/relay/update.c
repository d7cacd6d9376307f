/* The bulk update worker of outbox-relay: each instance of the operation's
 * studies gets a new version, its file written (in the sandbox) and made
 * durable before the transaction that switches the instance to it. */
#include "relay/update.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"
#include "dicom/dcm.h"
#include "dicom/sandbox.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define MAX_CHANGES 64

/* The operation's request, as the API wrote it. */
struct spec {
	cJSON *input;
	const char *partition;
	const cJSON *dataset; /* changeDataset: the elements, in DICOM JSON */
	struct dcm_change changes[MAX_CHANGES + 1];
	size_t n;
	bool non_ascii;
};

static int spec_parse(const char *text, struct spec *s)
{
	memset(s, 0, sizeof(*s));
	s->input = cJSON_Parse(text);
	const cJSON *part = cJSON_GetObjectItemCaseSensitive(s->input, "partition");
	const cJSON *changes = cJSON_GetObjectItemCaseSensitive(s->input, "changes");
	s->dataset = cJSON_GetObjectItemCaseSensitive(s->input, "changeDataset");
	if (!cJSON_IsString(part) || !cJSON_IsArray(changes) || !cJSON_IsObject(s->dataset))
		return -1;
	s->partition = part->valuestring;
	const cJSON *c;
	cJSON_ArrayForEach(c, changes)
	{
		const cJSON *tag = cJSON_GetObjectItemCaseSensitive(c, "tag");
		const cJSON *vr = cJSON_GetObjectItemCaseSensitive(c, "vr");
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(c, "value");
		if (s->n == MAX_CHANGES || !cJSON_IsString(tag) || !cJSON_IsString(vr) || strlen(vr->valuestring) != 2 ||
		    !cJSON_IsString(value))
			return -1;
		struct dcm_change *d = &s->changes[s->n++];
		d->tag = (uint32_t)strtoul(tag->valuestring, NULL, 16);
		memcpy(d->vr, vr->valuestring, 3);
		d->value = value->valuestring;
		for (const char *p = d->value; *p; p++)
			s->non_ascii |= (unsigned char)*p >= 0x80;
	}
	return 0;
}

/* The metadata with the changed elements in place (new ones in tag
 * order), compact as the store writes it. */
static char *patch(const char *metadata, const cJSON *dataset)
{
	cJSON *m = cJSON_Parse(metadata);
	if (!cJSON_IsObject(m)) {
		cJSON_Delete(m);
		return NULL;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, dataset)
	{
		cJSON *copy = cJSON_Duplicate(e, true);
		if (cJSON_GetObjectItemCaseSensitive(m, e->string)) {
			cJSON_ReplaceItemInObjectCaseSensitive(m, e->string, copy);
			continue;
		}
		int at = 0; /* before the first element of a greater tag */
		for (const cJSON *x = m->child; x && strcmp(x->string, e->string) < 0; x = x->next)
			at++;
		cJSON_InsertItemInArray(m, at, copy); /* keyed: Duplicate kept the key */
	}
	char *out = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	return out;
}

/* Whether the metadata's SpecificCharacterSet can hold UTF-8 text: none
 * given (then it becomes ISO_IR 192) or ISO_IR 192 itself. *absent tells
 * which. */
static bool utf8_ok(const char *metadata, bool *absent)
{
	cJSON *m = cJSON_Parse(metadata);
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "00080005"), "Value");
	bool ok = true;
	*absent = cJSON_GetArraySize(cs) == 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, cs)
	{
		if (cJSON_IsString(v) && *v->valuestring && strcmp(v->valuestring, "ISO_IR 192"))
			ok = false;
	}
	cJSON_Delete(m);
	return ok;
}

static const char *json_uid(const cJSON *m, const char *tag)
{
	const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, tag), "Value"), 0);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The changes for one instance (its metadata), into changes (room for
 * MAX_CHANGES + 1) and dataset (a copy of the update's): text beyond ASCII
 * needs a file whose character set is UTF-8, declared when the file
 * declares none. Returns their number, with err set when the instance's
 * character set cannot hold them. */
static size_t changes_for(const struct spec *s, const char *metadata, struct dcm_change *changes, cJSON *dataset,
			  char *err, size_t errlen)
{
	size_t n = s->n;
	memcpy(changes, s->changes, n * sizeof(*changes));
	bool absent = false;
	if (s->non_ascii && !utf8_ok(metadata, &absent)) {
		snprintf(err, errlen, "the instance's SpecificCharacterSet cannot hold the new non-ASCII values");
	} else if (s->non_ascii && absent) {
		changes[n++] = (struct dcm_change){ DCM_TAG(0x0008, 0x0005), "CS", "ISO_IR 192" };
		cJSON *cs = cJSON_CreateObject();
		cJSON_AddStringToObject(cs, "vr", "CS");
		const char *v[] = { "ISO_IR 192" };
		cJSON_AddItemToObject(cs, "Value", cJSON_CreateStringArray(v, 1));
		cJSON_AddItemToObject(dataset, "00080005", cs);
	}
	return n;
}

/* One instance: its new version written, made durable, switched to. 0
 * done (updated, gone or failed and recorded), -1 a database error,
 * NO_ROOM when this host cannot make the new version now (the store full,
 * an I/O error, no child to write it could be started): not the
 * instance's fault, so it stays pending, as the service's activities are
 * retried. */
enum { NO_ROOM = 1 };
#define NO_ROOM_PAUSE_MS 5000
static int update_one(struct update_ctx *u, const struct db_update *job, const struct spec *s,
		      const struct db_update_item *it)
{
	int64_t remove = 0, wm = 0;
	char err[256] = "";
	if (!it->metadata) /* deleted since it was listed */
		return db_update_instance(u->db, job, it->watermark, 0, 0, "{}", NULL, u->host, u->topic, &remove) < 0 ? -1 : 0;

	cJSON *m = cJSON_Parse(it->metadata);
	char where[600];
	snprintf(where, sizeof(where),
		 "Instance UIDs - PartitionName: %s, StudyInstanceUID: %s, SeriesInstanceUID: %s, SOPInstanceUID: %s",
		 s->partition, it->study, json_uid(m, "0020000E"), json_uid(m, "00080018"));
	int reserved = db_reserve_instance(u->db, s->partition, it->study, json_uid(m, "0020000E"), json_uid(m, "00080018"),
					   true, &wm);
	cJSON_Delete(m);
	if (reserved < 0)
		return -1;

	struct dcm_change changes[MAX_CHANGES + 1];
	cJSON *dataset = cJSON_Duplicate(s->dataset, true);
	size_t n = changes_for(s, it->metadata, changes, dataset, err, sizeof(err));

	struct store_writer *w = NULL;
	struct store_reader *r = NULL;
	char *meta = NULL, *bulk = NULL;
	int64_t size = -1;
	bool no_room = false;
	if (!*err) {
		r = store_open_read(u->store, it->watermark);
		w = r && r->path ? store_begin(u->store) : NULL;
		int up = w ? sandbox_update(r->path, w->path, changes, n, err, sizeof(err)) : 0;
		if (!r || !r->path) {
			snprintf(err, sizeof(err), "the stored file cannot be read");
		} else if (!w || up == SANDBOX_NO_ROOM || up == SANDBOX_RETRY) { /* not the instance's fault */
			no_room = true;
			if (!w)
				snprintf(err, sizeof(err), "the new file cannot be made");
		} else if (up) {
			; /* err says why */
		} else {
			struct store_reader *nw = store_open_written(w);
			size = nw ? nw->size : -1;
			store_close(nw);
			meta = patch(it->metadata, dataset);
			bulk = it->metadata_bulk ? patch(it->metadata_bulk, dataset) : NULL;
			if (size < 0 || !meta || (it->metadata_bulk && !bulk))
				snprintf(err, sizeof(err), "the new version cannot be made");
		}
	}
	store_close(r);
	cJSON_Delete(dataset);
	int rc = 0;
	if (no_room) {
		store_abort(w);
		log_warn("update operation=%s watermark=%lld left for later: %s", job->id, (long long)it->watermark, err);
		rc = NO_ROOM;
	} else if (*err) {
		store_abort(w);
		log_warn("update operation=%s watermark=%lld failed: %s", job->id, (long long)it->watermark, err);
		char reason[1024];
		snprintf(reason, sizeof(reason), "%s: %s", where, err);
		rc = db_update_mark(u->db, job, it->watermark, true, reason);
	} else if (store_commit(w, wm)) {
		/* a passing failure of this host: the item stays pending */
		log_warn("update operation=%s watermark=%lld left for later: the new version cannot be kept", job->id,
			 (long long)it->watermark);
		rc = NO_ROOM;
	} else {
		int up = db_update_instance(u->db, job, it->watermark, wm, size, meta, bulk, u->host, u->topic, &remove);
		if (up == 0)
			store_remove(u->store, wm); /* the instance changed meanwhile */
		else if (up > 0 && remove)
			store_remove(u->store, remove); /* an intermediate version */
		/* an error leaves the new file: the orphan sweep takes it if no row does */
		rc = up < 0 ? -1 : 0;
	}
	free(meta);
	free(bulk);
	return rc;
}

/* An instance whose new version the store had no room for: left for
 * later (NO_ROOM: the job held, the next try in a few seconds) until it
 * has waited retry_seconds, then failed with its study's line alone, as
 * the service fails a study once its activity's retries (four, over about
 * 13 minutes) are spent. 0 failed, -1 a database error. */
static int no_room(struct update_ctx *u, struct update_state *st, int64_t watermark)
{
	uint64_t now = util_now_ms();
	if (st->waiting != watermark) {
		st->waiting = watermark;
		st->waiting_since = now;
	}
	if (now - st->waiting_since >= (uint64_t)u->retry_seconds * 1000) {
		log_warn("update operation=%s watermark=%lld failed: the store had no room for its new version for %lld s",
			 st->job.id, (long long)watermark, (long long)u->retry_seconds);
		st->waiting = 0;
		return db_update_mark(u->db, &st->job, watermark, true, NULL) ? -1 : 0;
	}
	/* held (the lease renewed at the next step, within half of it) */
	uint64_t pause = (uint64_t)u->lease_seconds * 1000 / 2;
	st->pause_until = now + (pause < NO_ROOM_PAUSE_MS ? pause : NO_ROOM_PAUSE_MS);
	return NO_ROOM;
}

int update_work(struct update_ctx *u, struct update_state *st)
{
	if (st->held && util_now_ms() < st->pause_until)
		return 0;
	if (!st->held) {
		int c = db_update_claim(u->db, "update", u->owner, u->lease_seconds, &st->job);
		if (c <= 0)
			return c;
		st->held = true;
		log_info("operation id=%s update", st->job.id);
	}
	struct spec s;
	if (spec_parse(st->job.input, &s)) {
		log_error("operation id=%s: its input cannot be read", st->job.id);
		cJSON_Delete(s.input);
		update_release(st);
		return -1;
	}
	struct db_update_item *items;
	long n = db_update_next(u->db, &st->job, u->owner, u->lease_seconds, u->batch, &items);
	int rc = 1;
	for (long i = 0; i < n && rc > 0; i++) {
		int one = update_one(u, &st->job, &s, &items[i]);
		if (one == NO_ROOM)
			one = no_room(u, st, items[i].watermark);
		else
			st->waiting = 0;
		rc = one < 0 ? -1 : one == NO_ROOM ? 0 : rc;
	}
	if (n > 0)
		db_update_items_free(items, n);
	cJSON_Delete(s.input);
	if (n == 0) {
		if (db_update_finish(u->db, &st->job, u->owner))
			rc = -1;
		else
			log_info("operation id=%s finished", st->job.id);
		update_release(st);
		return rc < 0 ? -1 : 1; /* look for the next one */
	}
	if (n < 0 || rc < 0) {
		update_release(st); /* the lease runs out; this or another relay resumes */
		return -1;
	}
	return rc;
}

void update_release(struct update_state *st)
{
	if (st->held)
		db_update_release(&st->job);
	st->held = false;
	st->waiting = 0;
}
