/* The export worker of outbox-relay: each instance an export names is
 * copied, byte for byte, to <operation>/results/<study>/<series>/<sop>.dcm
 * in an Azure Blob container (Put Blob, or Put Block and Put Block List in
 * bounded memory for large files); what could not be copied goes to
 * <operation>/errors.log. Blob names are fixed by the operation, so work
 * resumed after a kill rewrites a blob rather than adding one. */
#include "relay/export.h"
#include "common/buf.h"
#include "common/log.h"
#include "relay/azure_storage.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define SINGLE_PUT_MAX (4u << 20) /* larger files go in blocks */
#define BLOCK_SIZE (4u << 20)

struct dest {
	struct az_account a;
	char *container;
	char op[33]; /* the operation id as the service writes it: 32 hex digits */
};

/* useManagedIdentity: the container URL's endpoint, signed with the account
 * key of [features] export_identity (the identity the service would use). */
static int dest_identity(struct dest *d, const char *identity, char *err, size_t errlen)
{
	struct az_account id;
	if (!identity) {
		snprintf(err, errlen, "no managed identity is configured for the relay ([features] export_identity)");
		return -1;
	}
	if (az_account_parse(&id, identity, "blob", err, errlen))
		return -1;
	free(d->a.account);
	d->a.account = id.account;
	id.account = NULL;
	memcpy(d->a.key, id.key, sizeof(d->a.key));
	d->a.keylen = id.keylen;
	free(d->a.sas);
	d->a.sas = NULL;
	az_account_release(&id);
	return 0;
}

static int dest_open(struct dest *d, const char *input, const char *job_id, const char *identity, char *err,
		     size_t errlen)
{
	memset(d, 0, sizeof(*d));
	size_t o = 0;
	for (const char *p = job_id; *p && o < 32; p++)
		if (*p != '-')
			d->op[o++] = *p;
	cJSON *j = cJSON_Parse(input);
	const cJSON *dst = cJSON_GetObjectItemCaseSensitive(j, "destination");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(dst, "blobContainerUri");
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(dst, "connectionString");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(dst, "blobContainerName");
	int rc = -1;
	if (cJSON_IsString(uri)) {
		rc = az_account_from_url(&d->a, uri->valuestring, &d->container, err, errlen);
		if (!rc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(dst, "useManagedIdentity")))
			rc = dest_identity(d, identity, err, errlen);
	} else if (cJSON_IsString(cs) && cJSON_IsString(name)) {
		rc = az_account_parse(&d->a, cs->valuestring, "blob", err, errlen);
		d->container = strdup(name->valuestring);
	} else {
		snprintf(err, errlen, "the destination cannot be read");
	}
	cJSON_Delete(j);
	return rc;
}

static void dest_close(struct dest *d)
{
	az_account_release(&d->a);
	free(d->container);
}

/* The service's error code from a Storage answer (<Code>...</Code>). */
static void storage_error(long status, const char *reply, const char *transport, char *out, size_t outlen)
{
	const char *c = strstr(reply, "<Code>"), *e = c ? strstr(c, "</Code>") : NULL;
	if (!status)
		snprintf(out, outlen, "The destination could not be reached (%s).", transport);
	else if (c && e)
		snprintf(out, outlen, "The destination answered HTTP %ld %.*s.", status, (int)(e - c - 6), c + 6);
	else
		snprintf(out, outlen, "The destination answered HTTP %ld.", status);
}

/* The blob's path under the account. */
static void blob_path(const struct dest *d, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s/%s/%s", d->a.base_path, d->container, d->op, name);
}

static long put(const struct dest *d, const char *path, const char *query, const char *type, const void *p, size_t n,
		bool blob, char *err, size_t errlen)
{
	static const char *const block_blob[] = { "x-ms-blob-type:BlockBlob", NULL };
	struct az_request r = { "PUT", path, query, blob ? block_blob : NULL, type, p, n, 120 };
	char reply[512], transport[32] = "";
	long st = az_send(&d->a, &r, transport, sizeof(transport), reply, sizeof(reply));
	if (st != 201)
		storage_error(st, reply, transport, err, errlen);
	return st;
}

/* Copies one stored object to the blob; 201, or the failing status with
 * why in err. */
static long copy_file(const struct dest *d, struct store_reader *rd, const char *path, char *err, size_t errlen)
{
	size_t first = rd->size < (int64_t)SINGLE_PUT_MAX ? (size_t)rd->size : BLOCK_SIZE;
	char *buf = malloc(first ? first : 1);
	long st = -1;
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rd->size < (int64_t)SINGLE_PUT_MAX) {
		if (store_read_at(rd, buf, first, 0) != (ssize_t)first)
			snprintf(err, errlen, "The stored file could not be read.");
		else
			st = put(d, path, NULL, "application/dicom", buf, first, true, err, errlen);
		free(buf);
		return st;
	}
	struct buf list;
	buf_init(&list, 0);
	buf_adds(&list, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	st = 201;
	int64_t off = 0;
	for (int k = 0; off < rd->size && st == 201; k++) {
		size_t n = rd->size - off < (int64_t)BLOCK_SIZE ? (size_t)(rd->size - off) : BLOCK_SIZE;
		char id[16], b64[24], query[64];
		snprintf(id, sizeof(id), "%06d", k % 1000000);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)id, 6);
		if (store_read_at(rd, buf, n, off) != (ssize_t)n) {
			snprintf(err, errlen, "The stored file could not be read.");
			st = -1;
			break;
		}
		snprintf(query, sizeof(query), "blockid=%s&comp=block", b64);
		st = put(d, path, query, "application/octet-stream", buf, n, false, err, errlen);
		buf_addf(&list, "<Latest>%s</Latest>", b64);
		off += (int64_t)n;
	}
	buf_adds(&list, "</BlockList>");
	if (st == 201)
		st = put(d, path, "comp=blocklist", "application/xml", list.data, list.len, false, err, errlen);
	buf_release(&list);
	free(buf);
	return st;
}

static const char *json_uid(const cJSON *m, const char *tag)
{
	const cJSON *v =
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, tag), "Value"), 0);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The destination refuses every write: a wrong key, a missing container,
 * no answer. Such an export fails as a whole. */
static bool destination_failure(long st)
{
	return st == 0 || st == 401 || st == 403 || st == 404;
}

/* One instance copied. Returns 0 (done, or failed and recorded), 1 when
 * the destination failed as a whole (*failure set), -1 a database error. */
static int export_one(struct update_ctx *u, const struct db_update *job, const struct dest *d,
		      const struct db_update_item *it, char *failure, size_t failurelen)
{
	char err[512] = "", reason[1200], path[1200], name[800];
	cJSON *m = it->metadata ? cJSON_Parse(it->metadata) : NULL;
	const char *se = json_uid(m, "0020000E"), *sop = json_uid(m, "00080018");
	int rc = 0;
	long st = -1;

	if (!m) {
		snprintf(err, sizeof(err), "The instance was deleted before it was exported.");
	} else {
		snprintf(name, sizeof(name), "results/%s/%s/%s.dcm", it->study, se, sop);
		blob_path(d, name, path, sizeof(path));
		struct store_reader *rd = store_open_read(u->store, it->watermark);
		if (!rd)
			snprintf(err, sizeof(err), "The stored file could not be read.");
		else
			st = copy_file(d, rd, path, err, sizeof(err));
		store_close(rd);
	}
	if (st == 201) {
		rc = db_update_mark(u->db, job, it->watermark, false, NULL) ? -1 : 0;
	} else if (st >= 0 && destination_failure(st)) {
		snprintf(failure, failurelen, "%s", err);
		rc = 1;
	} else {
		snprintf(reason, sizeof(reason), "%s%s%s%s%s\t%s", it->study, *se ? "/" : "", se, *sop ? "/" : "", sop, err);
		log_warn("export operation=%s watermark=%lld: %s", job->id, (long long)it->watermark, err);
		rc = db_update_mark(u->db, job, it->watermark, true, reason) ? -1 : 0;
	}
	cJSON_Delete(m);
	return rc;
}

/* The end: errors.log written (when there is something to say), the
 * results recorded. */
static int export_finish(struct update_ctx *u, const struct db_update *job, const struct dest *d, const char *failure)
{
	char path[1200], href[1600], err[512] = "";
	struct buf log;
	buf_init(&log, 0);
	long n = db_export_errors(u->db, job, &log);
	if (n < 0) {
		buf_release(&log);
		return -1;
	}
	if (d->a.endpoint && d->container)
		blob_path(d, "errors.log", path, sizeof(path));
	bool usable = d->a.endpoint && d->container;
	if (failure) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNullToObject(e, "Timestamp");
		cJSON_AddNullToObject(e, "Identifier");
		cJSON_AddStringToObject(e, "Error", failure);
		char *line = cJSON_PrintUnformatted(e);
		buf_addf(&log, "%s\n", line ? line : "");
		free(line);
		cJSON_Delete(e);
	}
	if (usable && log.len &&
	    put(d, path, NULL, "application/x-ndjson", log.data, log.len, true, err, sizeof(err)) != 201 && !failure)
		failure = err;
	buf_release(&log);
	snprintf(href, sizeof(href), "%s/%s/%s/errors.log", usable ? d->a.endpoint : "", usable ? d->container : "",
		 d->op);
	return db_export_finish(u->db, job, u->owner, href, failure);
}

int export_work(struct update_ctx *u, struct update_state *st)
{
	if (!st->held) {
		int c = db_update_claim(u->db, "export", u->owner, u->lease_seconds, &st->job);
		if (c <= 0)
			return c;
		st->held = true;
		log_info("operation id=%s export", st->job.id);
	}
	struct dest d;
	char err[512] = "", failure[600] = "";
	bool bad_dest = dest_open(&d, st->job.input, st->job.id, u->export_identity, err, sizeof(err)) != 0;
	struct db_update_item *items = NULL;
	long n = bad_dest ? 0 : db_update_next(u->db, &st->job, u->owner, u->lease_seconds, u->batch, &items);
	int rc = 1;
	for (long i = 0; i < n && rc > 0; i++) {
		int r = export_one(u, &st->job, &d, &items[i], failure, sizeof(failure));
		if (r)
			rc = r > 0 ? 0 : -1; /* 0 here: the destination failed */
	}
	if (n > 0)
		db_update_items_free(items, n);
	if (bad_dest)
		snprintf(failure, sizeof(failure), "The destination is not usable: %s", err);
	if (n == 0 || *failure) {
		if (export_finish(u, &st->job, &d, *failure ? failure : NULL))
			rc = -1;
		else
			log_info("operation id=%s finished%s%s", st->job.id, *failure ? ": " : "", failure);
		dest_close(&d);
		update_release(st);
		return rc < 0 ? -1 : 1; /* look for the next one */
	}
	dest_close(&d);
	if (n < 0 || rc < 0) {
		update_release(st); /* the lease runs out; this or another relay resumes */
		return -1;
	}
	return 1;
}
