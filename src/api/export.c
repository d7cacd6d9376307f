/* POST /v{n}[/partitions/{name}]/export (§9.5): studies, series and
 * instances named by identifiers copied to an Azure Blob container by
 * outbox-relay, as a long-running operation. */
#include "api/app.h"
#include "api/params.h"
#include "db/update.h"
#include "dicom/uid.h"
#include "http/response.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define MAX_IDENTIFIERS 10000

/* "study", "study/series" or "study/series/instance", each a valid UID. */
static bool valid_identifier(const char *s)
{
	int parts = 0;
	while (*s) {
		size_t n = strcspn(s, "/");
		if (!uid_is_valid(s, n) || ++parts > 3)
			return false;
		s += n;
		if (*s == '/' && !*++s)
			return false;
	}
	return parts > 0;
}

/* The type of a {"type", "settings"} object; NULL when absent. */
static const char *type_of(const cJSON *o)
{
	const cJSON *t = cJSON_GetObjectItem(o, "type");
	return cJSON_IsString(t) ? t->valuestring : NULL;
}

static const char *str_setting(const cJSON *settings, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(settings, name);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* Checks the source into input's identifiers; NULL, or the 400's text. */
static const char *check_source(struct request *req, const cJSON *src, cJSON *input)
{
	const char *type = type_of(src);
	if (!type || strcasecmp(type, "identifiers"))
		return arena_printf(&req->arena, "Unsupported export source '%s'.", type ? type : "");
	const cJSON *values = cJSON_GetObjectItem(cJSON_GetObjectItem(src, "settings"), "values");
	int n = cJSON_GetArraySize(values);
	if (!cJSON_IsArray(values) || n == 0)
		return "The export source settings need 'values': one or more identifiers.";
	if (n > MAX_IDENTIFIERS)
		return arena_printf(&req->arena, "The export source has more than %d identifiers.", MAX_IDENTIFIERS);
	cJSON *ids = cJSON_AddArrayToObject(input, "identifiers");
	const cJSON *v;
	cJSON_ArrayForEach(v, values)
	{
		if (!cJSON_IsString(v) || !valid_identifier(v->valuestring))
			return arena_printf(&req->arena, "The string '%s' was not recognized as a valid DICOM identifier.",
					    cJSON_IsString(v) ? v->valuestring : "");
		cJSON_AddItemToArray(ids, cJSON_CreateString(v->valuestring));
	}
	return NULL;
}

/* Checks the destination into input's destination; NULL, or the 400's text. */
static const char *check_destination(struct request *req, const cJSON *dst, cJSON *input)
{
	const char *type = type_of(dst);
	if (!type || strcasecmp(type, "azureblob"))
		return arena_printf(&req->arena, "Unsupported export destination '%s'.", type ? type : "");
	const cJSON *settings = cJSON_GetObjectItem(dst, "settings");
	const char *uri = str_setting(settings, "blobContainerUri");
	const char *cs = str_setting(settings, "connectionString");
	const char *name = str_setting(settings, "blobContainerName");
	bool identity = cJSON_IsTrue(cJSON_GetObjectItem(settings, "useManagedIdentity"));
	if (identity && !req->app->cfg.export_identity)
		return "No managed identity is configured here ([features] export_identity): give a connectionString and "
		       "blobContainerName, or a blobContainerUri with a SAS token.";
	if (identity && (!uri || cs || name))
		return "useManagedIdentity needs a blobContainerUri (and no connectionString or blobContainerName).";
	if (uri && (cs || name))
		return "Give either blobContainerUri, or connectionString and blobContainerName, not both.";
	if (!uri && (!cs || !name))
		return "The export destination needs blobContainerUri, or connectionString and blobContainerName.";
	if (uri && strncasecmp(uri, "http://", 7) && strncasecmp(uri, "https://", 8))
		return "The blobContainerUri must be an http or https URL.";
	cJSON *d = cJSON_AddObjectToObject(input, "destination");
	if (uri) {
		cJSON_AddStringToObject(d, "blobContainerUri", uri);
		if (identity)
			cJSON_AddTrueToObject(d, "useManagedIdentity");
	} else {
		cJSON_AddStringToObject(d, "connectionString", cs);
		cJSON_AddStringToObject(d, "blobContainerName", name);
	}
	return NULL;
}

int export_start(struct request *req)
{
	char op[33], busy[33];
	const char *why = NULL;
	int rc = 0;

	if (!req->app->cfg.export_enabled)
		return http_send(req, 404, NULL, "", 0);
	cJSON *j = param_json_body(req, 4 << 20);
	if (!j)
		return 0;
	cJSON *input = cJSON_CreateObject();
	if (!cJSON_IsObject(j))
		why = "The syntax of the request body is invalid.";
	else if (!(why = check_source(req, cJSON_GetObjectItem(j, "source"), input)))
		why = check_destination(req, cJSON_GetObjectItem(j, "destination"), input);
	if (why) {
		rc = http_error(req, 400, "%s", why);
	} else {
		cJSON_AddStringToObject(input, "partition", req->partition);
		char *text = cJSON_PrintUnformatted(input);
		int started = text ? db_update_start(req->app->db, "export", text, op, busy) : UPDATE_FAILED;
		free(text);
		if (started != UPDATE_STARTED) {
			rc = http_error(req, 503, "The server is temporarily unable to write data.");
		} else {
			const char *base = request_base_url(req);
			struct buf b;
			buf_init(&b, 0);
			buf_addf(&b, "{\"id\":\"%s\",\"href\":\"%s/%s/operations/%s\"}", op, base, req->api_version, op);
			http_add_header(req, "Location", "%s/%s/operations/%s", base, req->api_version, op);
			rc = http_send(req, 202, "application/json; charset=utf-8", b.data, b.len);
			buf_release(&b);
		}
	}
	cJSON_Delete(input);
	cJSON_Delete(j);
	return rc;
}
