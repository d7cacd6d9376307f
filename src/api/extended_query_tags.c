/* Extended query tags (§8): add (a reindex operation), list, get, delete,
 * PATCH queryStatus, and the errors found while indexing. */
#include "api/app.h"
#include "api/params.h"
#include "api/qido_query.h"
#include "db/eqt.h"
#include "dicom/dcm.h"
#include "http/response.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define MAX_TAGS 128

static const char *const supported_vrs[] = { "AE", "AS", "CS", "DA", "DT", "FD", "FL", "IS", "LO",
					     "PN", "SH", "SL", "SS", "TM", "UI", "UL", "US" };
static const char *const all_vrs[] = { "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB",
				       "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM",
				       "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV" };

static bool in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, list[i]))
			return true;
	return false;
}

/* A tag path: 8 hex digits or a keyword; into 8 upper-case hex digits. */
static int parse_path(const char *s, char out[9], uint32_t *tag)
{
	bool hex;
	if (dcm_parse_tag(s, tag, &hex))
		return -1;
	snprintf(out, 9, "%08X", *tag);
	return 0;
}

/* One tag as the service lists it. */
static void add_entry(struct request *req, struct buf *b, const struct db_eqt *e)
{
	const char *base = request_base_url(req);
	buf_addf(b, "{\"path\":\"%s\",\"vr\":\"%s\"", e->path, e->vr);
	if (*e->private_creator) {
		buf_adds(b, ",\"privateCreator\":");
		buf_add_json_str(b, e->private_creator, strlen(e->private_creator));
	}
	buf_addf(b, ",\"level\":\"%s\",\"status\":\"%s\",\"queryStatus\":\"%s\"", e->level, e->status, e->query_status);
	if (e->error_count > 0)
		buf_addf(b, ",\"errors\":{\"count\":%d,\"href\":\"%s/%s/extendedquerytags/%s/errors\"}", e->error_count, base,
			 req->api_version, e->path);
	if (*e->operation)
		buf_addf(b, ",\"operation\":{\"id\":\"%s\",\"href\":\"%s/%s/operations/%s\"}", e->operation, base,
			 req->api_version, e->operation);
	buf_addch(b, '}');
}

static int send_json(struct request *req, int status, const struct buf *b)
{
	return http_send(req, status, "application/json; charset=utf-8", b->data, b->len);
}

/* The body's string property (names compare case-insensitively). */
static const char *prop(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool blank(const char *s)
{
	if (!s)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* The model first: each element an object with Path and Level, the
 * level's name one of three. Returns 0, or the status with the 400 sent. */
static int check_model(struct request *req, const cJSON *j, int n)
{
	for (int i = 0; i < n; i++) {
		const cJSON *e = cJSON_GetArrayItem(j, i);
		const char *path = prop(e, "Path"), *level = prop(e, "Level");
		if (!cJSON_IsObject(e))
			return http_error(req, 400, "The syntax of the request body is invalid."), 400;
		if (blank(path) || blank(level)) {
			const char *p = blank(path) ? "Path" : "Level";
			return http_error(req, 400,
					  "The field '[%d].%s' in request body is invalid: The Dicom Tag Property %s must be "
					  "specified and must not be null, empty or whitespace",
					  i, p, p),
			       400;
		}
		if (strcasecmp(level, "Study") && strcasecmp(level, "Series") && strcasecmp(level, "Instance"))
			return http_error(req, 400,
					  "The field '$[%d].Level' in request body is invalid: Expected value '%s' to be one of "
					  "the following values: ['Instance', 'Series', 'Study']",
					  i, level),
			       400;
	}
	return 0;
}

/* Private tags (odd groups) and, among them, private creator elements
 * (xxxx,0010-00FF). */
static bool is_private(uint32_t tag)
{
	return (tag >> 16) % 2 == 1;
}

static bool is_creator_element(uint32_t tag)
{
	return is_private(tag) && (tag & 0xffff) >= 0x0010 && (tag & 0xffff) <= 0x00ff;
}

/* One tag as asked for, and as it is added. */
struct eqt_in {
	char path[9], vr[3], level[9];
};

/* The VR a tag is indexed with (into want): the one asked for, checked
 * against the dictionary, or the dictionary's; private tags need theirs
 * and a creator. Returns 0, or the status with the 400 sent. */
static int decide_vr(struct request *req, const char *path, uint32_t tag, const char *vr, const char *creator,
		     char want[3])
{
	bool private_tag = is_private(tag), creator_element = is_creator_element(tag);
	char kw[64], dict_vr[3];

	dcm_tag_info(tag, kw, sizeof(kw), dict_vr);
	want[0] = '\0';
	if (vr && *vr) {
		for (int c = 0; c < 2 && vr[c]; c++)
			want[c] = (char)toupper((unsigned char)vr[c]);
		want[2] = '\0';
		if (strlen(vr) != 2 || !in_list(want, all_vrs, sizeof(all_vrs) / sizeof(all_vrs[0])))
			return http_error(req, 400, "The VR code '%s' for tag '%s' is invalid.", vr, path), 400;
	}
	if (!private_tag && !*kw && !*want)
		return http_error(req, 400, "The vr for tag '%s' is missing.", path), 400;
	if (private_tag && !creator_element) {
		if (!*want)
			return http_error(req, 400, "The vr for tag '%s' is missing.", path), 400;
		if (blank(creator))
			return http_error(req, 400, "The private creator for private tag '%s' is missing.", path), 400;
		if (strlen(creator) > 64)
			return http_error(req, 400, "The private creator '%s' for tag '%s' is invalid.", creator, path), 400;
	} else {
		if (!blank(creator))
			return http_error(req, 400, "The private creator for tag '%s' is not empty.", path), 400;
		if (creator_element)
			snprintf(want, 3, "LO");
		else if (!*want)
			snprintf(want, 3, "%s", dict_vr);
		else if (*kw && strcmp(want, dict_vr))
			return http_error(req, 400,
					  "The VR code '%s' is incorrectly specified for '%s'. The expected VR code for it is "
					  "'%s'. Retry this request either with the correct VR code or without specifying it.",
					  vr, path, dict_vr),
			       400;
	}
	if (!in_list(want, supported_vrs, sizeof(supported_vrs) / sizeof(supported_vrs[0])))
		return http_error(req, 400, "The VR code '%s' specified for tag '%s' is not supported.", want, path), 400;
	return 0;
}

/* Element i of the body into in[i] and out: parsed, not given twice, not
 * a tag QIDO has already, its VR decided. Returns 0, or the status with
 * the 400 sent. */
static int check_tag(struct request *req, const cJSON *e, int i, struct eqt_in *in, struct db_new_eqt *out)
{
	const char *path = prop(e, "Path"), *vr = prop(e, "VR"), *creator = prop(e, "PrivateCreator");
	const char *level = prop(e, "Level");
	uint32_t tag;
	int st;

	if (parse_path(path, in[i].path, &tag))
		return http_error(req, 400, "The extended query tag '%s' is invalid as it cannot be parsed into a valid Dicom Tag.",
				  path),
		       400;
	for (int k = 0; k < i; k++)
		if (!strcmp(in[k].path, in[i].path))
			return http_error(req, 400, "The extended query tag '%s' has been specified before.", path), 400;
	if (qido_tag_level(tag))
		return http_error(req, 400, "The query tag '%s' is already supported.", path), 400;
	if ((st = decide_vr(req, path, tag, vr, creator, in[i].vr)))
		return st;
	snprintf(in[i].level, sizeof(in[i].level), "%s",
		 !strcasecmp(level, "Study") ? "study" : !strcasecmp(level, "Series") ? "series" : "instance");
	out->path = in[i].path;
	out->vr = in[i].vr;
	out->private_creator = is_private(tag) && !is_creator_element(tag) ? creator : NULL;
	out->level = in[i].level;
	return 0;
}

/* The answer to an add: 202 with the operation, or why not. */
static int answer_add(struct request *req, int result, const char *op, const char *busy)
{
	const char *base = request_base_url(req);
	struct buf b;
	int rc;

	switch (result) {
	case EQT_ADDED:
		buf_init(&b, 0);
		buf_addf(&b, "{\"id\":\"%s\",\"href\":\"%s/%s/operations/%s\"}", op, base, req->api_version, op);
		http_add_header(req, "Location", "%s/%s/operations/%s", base, req->api_version, op);
		rc = send_json(req, 202, &b);
		buf_release(&b);
		return rc;
	case EQT_EXISTS:
		return http_error(req, 409, "One or more extended query tags already exist.");
	case EQT_BUSY: {
		char msg[160];
		int len = snprintf(msg, sizeof(msg), "There is already an active re-index operation with ID '%s'.", busy);
		http_add_header(req, "Location", "%s/%s/operations/%s", base, req->api_version, busy);
		return http_send(req, 409, "text/plain; charset=utf-8", msg, (size_t)len);
	}
	case EQT_TOO_MANY:
		return http_error(req, 503, "Extended query tags exceeds max allowed count '%d'.", MAX_TAGS);
	default:
		return http_error(req, 503, "The server is temporarily unable to write data.");
	}
}

int eqt_add(struct request *req)
{
	struct db_new_eqt tags[MAX_TAGS + 1];
	struct eqt_in in[MAX_TAGS + 1];
	char op[33], busy[33];
	int rc = 0;

	cJSON *j = param_json_body(req, 1 << 20);
	if (!j)
		return 0;
	if (!cJSON_IsArray(j)) {
		cJSON_Delete(j);
		return http_error(req, 400, "The syntax of the request body is invalid.");
	}
	int n = cJSON_GetArraySize(j);
	if (n == 0)
		rc = http_error(req, 400, "The extended query tag(s) is missing.");
	else if (n > MAX_TAGS)
		rc = http_error(req, 503, "Extended query tags exceeds max allowed count '%d'.", MAX_TAGS);
	else if (!check_model(req, j, n)) {
		int st = 0;
		for (int i = 0; i < n && !st; i++)
			st = check_tag(req, cJSON_GetArrayItem(j, i), i, in, &tags[i]);
		if (!st)
			rc = answer_add(req, db_eqt_add(req->app->db, tags, (size_t)n, MAX_TAGS, op, busy), op, busy);
	}
	cJSON_Delete(j);
	return rc;
}

int eqt_list(struct request *req)
{
	int64_t limit, offset;
	struct db_eqt *tags;
	struct buf b;

	if (param_int(req, "limit", "Limit", 1, 200, 100, &limit) || param_int(req, "offset", "Offset", 0, INT64_MAX, 0, &offset))
		return 0;
	tags = calloc((size_t)limit, sizeof(*tags));
	long n = tags ? db_eqt_list(req->app->db, tags, (long)limit, (long)offset) : -1;
	if (n < 0) {
		free(tags);
		return http_error(req, 503, "The server is temporarily unable to read data.");
	}
	buf_init(&b, 0);
	buf_addch(&b, '[');
	for (long i = 0; i < n; i++) {
		if (i)
			buf_addch(&b, ',');
		add_entry(req, &b, &tags[i]);
	}
	buf_addch(&b, ']');
	int rc = send_json(req, 200, &b);
	buf_release(&b);
	free(tags);
	return rc;
}

/* The tag of the path parameter: 1 found (in e), 0 answered (400/404/503). */
static int find(struct request *req, struct db_eqt *e)
{
	const char *given = req->params[PARAM_TAG];
	char path[9];
	uint32_t tag;

	if (parse_path(given, path, &tag)) {
		http_error(req, 400, "The extended query tag '%s' is invalid as it cannot be parsed into a valid Dicom Tag.", given);
		return 0;
	}
	int f = db_eqt_get(req->app->db, path, e);
	if (f < 0) {
		http_error(req, 503, "The server is temporarily unable to read data.");
		return 0;
	}
	if (!f) {
		/* the tag's path, also when asked by keyword (ExtendedQueryTagNotFound) */
		http_error(req, 404, "The specified extended query tag with tag path %s cannot be found.", path);
		return 0;
	}
	return 1;
}

int eqt_get(struct request *req)
{
	struct db_eqt e;
	struct buf b;

	if (!find(req, &e))
		return 0;
	buf_init(&b, 0);
	add_entry(req, &b, &e);
	int rc = send_json(req, 200, &b);
	buf_release(&b);
	return rc;
}

int eqt_delete(struct request *req)
{
	struct db_eqt e;

	if (!find(req, &e))
		return 0;
	if (db_eqt_delete(req->app->db, e.path) < 0)
		return http_error(req, 503, "The server is temporarily unable to delete data.");
	return http_send(req, 204, NULL, "", 0);
}

int eqt_patch(struct request *req)
{
	struct db_eqt e;
	struct buf b;

	if (!find(req, &e))
		return 0;
	cJSON *j = param_json_body(req, 4096);
	if (!j)
		return 0;
	const char *qs = prop(j, "queryStatus");
	int rc;
	if (!qs || (strcasecmp(qs, "Enabled") && strcasecmp(qs, "Disabled"))) {
		rc = http_error(req, 400,
				"The field '$.queryStatus' in request body is invalid: Expected value '%s' to be one of the "
				"following values: ['Disabled', 'Enabled']",
				qs ? qs : "");
		cJSON_Delete(j);
		return rc;
	}
	if (db_eqt_set_query_status(req->app->db, e.path, !strcasecmp(qs, "Enabled") ? "enabled" : "disabled") < 0 ||
	    db_eqt_get(req->app->db, e.path, &e) != 1) {
		cJSON_Delete(j);
		return http_error(req, 503, "The server is temporarily unable to write data.");
	}
	cJSON_Delete(j);
	buf_init(&b, 0);
	add_entry(req, &b, &e);
	rc = send_json(req, 200, &b);
	buf_release(&b);
	return rc;
}

int eqt_errors(struct request *req)
{
	struct db_eqt e;
	int64_t limit, offset;
	struct buf b;

	if (param_int(req, "limit", "Limit", 1, 200, 100, &limit) || param_int(req, "offset", "Offset", 0, INT64_MAX, 0, &offset))
		return 0;
	if (!find(req, &e))
		return 0;
	buf_init(&b, 0);
	buf_addch(&b, '[');
	if (db_eqt_errors(req->app->db, e.key, (long)limit, (long)offset, &b) < 0) {
		buf_release(&b);
		return http_error(req, 503, "The server is temporarily unable to read data.");
	}
	buf_addch(&b, ']');
	int rc = send_json(req, 200, &b);
	buf_release(&b);
	return rc;
}

int operation_get(struct request *req)
{
	struct db_operation op;
	struct buf b;
	const char *base = request_base_url(req);

	int f = db_operation_get(req->app->db, req->params[PARAM_ID], &op);
	if (f < 0)
		return http_error(req, 503, "The server is temporarily unable to read data.");
	if (!f)
		return http_send(req, 404, NULL, "", 0); /* the service's NotFound(): no body */
	/* v1 still calls a finished operation completed */
	const char *status = op.status;
	if (req->api_major < 2 && !strcmp(status, "succeeded"))
		status = "completed";
	buf_init(&b, 0);
	buf_addf(&b, "{\"operationId\":\"%s\",\"type\":\"%s\",\"createdTime\":\"%s\",\"lastUpdatedTime\":\"%s\",\"status\":\"%s\","
		     "\"percentComplete\":%d",
		 op.id, op.type, op.created, op.updated, status, op.percent);
	/* a reindex names its tags; an update has results when done */
	if (!strcmp(op.type, "reindex")) {
		buf_adds(&b, ",\"resources\":[");
		for (size_t i = 0; i < op.nresources; i++)
			buf_addf(&b, "%s\"%s/%s/extendedquerytags/%s\"", i ? "," : "", base, req->api_version, op.resources[i]);
		buf_addch(&b, ']');
	}
	if (op.results)
		buf_addf(&b, ",\"results\":%s", op.results);
	buf_addch(&b, '}');
	bool active = !strcmp(op.status, "notStarted") || !strcmp(op.status, "running");
	if (active)
		http_add_header(req, "Location", "%s/%s/operations/%s", base, req->api_version, op.id);
	int rc = send_json(req, active ? 202 : 200, &b);
	buf_release(&b);
	db_operation_release(&op);
	return rc;
}
