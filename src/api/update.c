/* POST /v2/studies/$bulkUpdate (§9.3): the request checked as the service
 * checks it (UpdateRequestValidator), then an update operation that
 * outbox-relay carries out. */
#include "api/app.h"
#include "api/json_read.h"
#include "api/params.h"
#include "common/buf.h"
#include "db/update.h"
#include "dicom/dcm.h"
#include "dicom/uid.h"
#include "dicom/validate.h"
#include "http/response.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define MAX_STUDIES 50 /* UpdateTags.MaxStudyInstanceUidLimit */

/* UpdateTags.UpdateStudyFilterTags: the patient identification and
 * demographic attributes and the general study ones that are not
 * sequences; with the name and whether more than one value is allowed
 * (VM 1-n) as fo-dicom's dictionary has them, for its VM message. */
static const struct updatable {
	uint32_t tag;
	const char *name;
	bool many;
} updatable[] = {
	{ DCM_TAG(0x0010, 0x0010), "Patient's Name", false },
	{ DCM_TAG(0x0010, 0x0020), "Patient ID", false },
	{ DCM_TAG(0x0010, 0x1000), "Other Patient IDs", true },
	{ DCM_TAG(0x0010, 0x0022), "Type of Patient ID", false },
	{ DCM_TAG(0x0010, 0x1001), "Other Patient Names", true },
	{ DCM_TAG(0x0010, 0x1005), "Patient's Birth Name", false },
	{ DCM_TAG(0x0010, 0x1060), "Patient's Mother's Birth Name", false },
	{ DCM_TAG(0x0010, 0x1090), "Medical Record Locator", false },
	{ DCM_TAG(0x0010, 0x1010), "Patient's Age", false },
	{ DCM_TAG(0x0010, 0x2180), "Occupation", false },
	{ DCM_TAG(0x0040, 0x3001), "Confidentiality Constraint on Patient Data Description", false },
	{ DCM_TAG(0x0010, 0x0030), "Patient's Birth Date", false },
	{ DCM_TAG(0x0010, 0x0032), "Patient's Birth Time", false },
	{ DCM_TAG(0x0010, 0x0040), "Patient's Sex", false },
	{ DCM_TAG(0x0010, 0x0200), "Quality Control Subject", false },
	{ DCM_TAG(0x0010, 0x1020), "Patient's Size", false },
	{ DCM_TAG(0x0010, 0x1030), "Patient's Weight", false },
	{ DCM_TAG(0x0010, 0x1040), "Patient's Address", false },
	{ DCM_TAG(0x0010, 0x1080), "Military Rank", false },
	{ DCM_TAG(0x0010, 0x1081), "Branch of Service", false },
	{ DCM_TAG(0x0010, 0x2150), "Country of Residence", false },
	{ DCM_TAG(0x0010, 0x2152), "Region of Residence", false },
	{ DCM_TAG(0x0010, 0x2154), "Patient's Telephone Numbers", true },
	{ DCM_TAG(0x0010, 0x2160), "Ethnic Group", false },
	{ DCM_TAG(0x0010, 0x21F0), "Patient's Religious Preference", false },
	{ DCM_TAG(0x0010, 0x4000), "Patient Comments", false },
	{ DCM_TAG(0x0010, 0x2297), "Responsible Person", false },
	{ DCM_TAG(0x0010, 0x2298), "Responsible Person Role", false },
	{ DCM_TAG(0x0010, 0x2299), "Responsible Organization", false },
	{ DCM_TAG(0x0010, 0x2201), "Patient Species Description", false },
	{ DCM_TAG(0x0010, 0x2292), "Patient Breed Description", false },
	{ DCM_TAG(0x0010, 0x2295), "Breed Registration Number", false },
	{ DCM_TAG(0x0010, 0x0021), "Issuer of Patient ID", false },
	{ DCM_TAG(0x0008, 0x0050), "Accession Number", false },
	{ DCM_TAG(0x0008, 0x0090), "Referring Physician's Name", false },
	{ DCM_TAG(0x0008, 0x1030), "Study Description", false },
};

static const struct updatable *find_updatable(uint32_t tag)
{
	for (size_t i = 0; i < sizeof(updatable) / sizeof(updatable[0]); i++)
		if (updatable[i].tag == tag)
			return &updatable[i];
	return NULL;
}

/* One value of a DICOM JSON element as DICOM writes it: a number as text,
 * a person name's groups joined by '='. NULL when it has no such form. */
static const char *dicom_value(struct arena *a, const char *vr, const cJSON *v)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v))
		return arena_printf(a, "%.15g", v->valuedouble);
	if (!strcmp(vr, "PN") && cJSON_IsObject(v)) {
		const char *g[3] = { "Alphabetic", "Ideographic", "Phonetic" };
		const char *out = "";
		int last = -1;
		for (int i = 0; i < 3; i++)
			if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, g[i])))
				last = i;
		for (int i = 0; i <= last; i++) {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, g[i]);
			out = arena_printf(a, "%s%s%s", out, i ? "=" : "", cJSON_IsString(s) ? s->valuestring : "");
		}
		return last < 0 ? NULL : out;
	}
	return NULL;
}

/* Checks one element of changeDataset; its change appended to changes and
 * its normalised JSON to dataset. Returns NULL, or the reason it fails. */
static const char *check_element(struct arena *a, const cJSON *e, uint32_t tag, cJSON *changes, cJSON *dataset)
{
	char kw[64], dict_vr[3];
	const struct updatable *u = find_updatable(tag);
	if (!u)
		return "Updating the tag is not supported";
	dcm_tag_info(tag, kw, sizeof(kw), dict_vr);
	const cJSON *vr = cJSON_GetObjectItemCaseSensitive(e, "vr");
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(e, "Value");
	if (!cJSON_IsString(vr) || strcmp(vr->valuestring, dict_vr))
		return arena_printf(a, "The VR of the attribute must be '%s'", dict_vr);
	if (!cJSON_IsArray(values) || cJSON_GetArraySize(values) == 0)
		return "Updating an attribute to no value is not supported";
	/* the values joined in one buffer: an arena_printf of the join so far
	 * for each value kept every intermediate join, quadratic in a body's
	 * thousands of values (gigabytes for a megabyte's) */
	struct buf joined;
	const char *why = NULL;
	const cJSON *v;
	buf_init(&joined, 0);
	cJSON_ArrayForEach(v, values)
	{
		const char *s = dicom_value(a, dict_vr, v);
		if (!s)
			why = "The value is not a valid DICOM JSON value for its VR";
		else
			why = validate_value(dict_vr, s, strlen(s));
		if (why)
			break;
		if (v != values->child)
			buf_addch(&joined, '\\');
		buf_adds(&joined, s);
	}
	/* fo-dicom's DicomElement.ValidateVM, after the values' own checks
	 * (an LT of more than one value was refused with the body) */
	int count = cJSON_GetArraySize(values);
	if (!why && !u->many && count > 1)
		why = arena_printf(a,
				   "Content \"(%04x,%04x) %s %s\" does not validate VR %s: Number of items %d does not match "
				   "ValueMultiplicity 1",
				   tag >> 16, tag & 0xffff, dict_vr, u->name, dict_vr, count);
	if (why) {
		buf_release(&joined);
		return why;
	}
	char hex[9];
	snprintf(hex, sizeof(hex), "%08X", tag);
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "tag", hex);
	cJSON_AddStringToObject(c, "vr", dict_vr);
	cJSON_AddStringToObject(c, "value", buf_str(&joined));
	buf_release(&joined);
	cJSON_AddItemToArray(changes, c);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "vr", dict_vr);
	cJSON_AddItemToObject(d, "Value", cJSON_Duplicate(values, true));
	cJSON_AddItemToObject(dataset, hex, d);
	return NULL;
}

/* The 400 of a changeDataset that fails: a dataset whose
 * FailedAttributesSequence says why, one ErrorComment an attribute. */
static int answer_failed(struct request *req, const struct buf *comments)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"00741048\":{\"vr\":\"SQ\",\"Value\":[");
	buf_add(&b, comments->data, comments->len);
	buf_adds(&b, "]}}");
	int rc = http_send(req, 400, "application/dicom+json", b.data, b.len);
	buf_release(&b);
	return rc;
}

/* Checks changeDataset into input's changes and changeDataset; answers
 * the 400 itself (returns 1) when an attribute fails. */
static int check_dataset(struct request *req, const cJSON *ds, cJSON *input)
{
	cJSON *changes = cJSON_AddArrayToObject(input, "changes");
	cJSON *dataset = cJSON_AddObjectToObject(input, "changeDataset");
	struct buf comments;
	int nfailed = 0;
	const cJSON *e;

	buf_init(&comments, 0);
	cJSON_ArrayForEach(e, ds)
	{
		uint32_t tag;
		bool hex;
		const char *why;
		if (dcm_parse_tag(e->string, &tag, &hex) || !hex) {
			why = "The attribute is not a tag in hexadecimal";
			tag = 0;
		} else {
			why = check_element(&req->arena, e, tag, changes, dataset);
		}
		if (!why)
			continue;
		char line[512];
		snprintf(line, sizeof(line), "DICOM100: (%04x,%04x) - %s", tag >> 16, tag & 0xffff, why);
		buf_addf(&comments, "%s{\"00000902\":{\"vr\":\"LO\",\"Value\":[", nfailed++ ? "," : "");
		buf_add_json_str(&comments, line, strlen(line));
		buf_adds(&comments, "]}}");
	}
	int rc = nfailed ? (answer_failed(req, &comments), 1) : 0;
	buf_release(&comments);
	return rc;
}

/* studyInstanceUids: present, 1 to 50, each a valid UID. 0, or 1 with
 * the 400 sent. */
static int check_studies(struct request *req, const cJSON *uids)
{
	if (!cJSON_IsArray(uids) || cJSON_GetArraySize(uids) == 0)
		return http_error(req, 400, "The required field 'StudyInstanceUids' is missing or empty."), 1;
	if (cJSON_GetArraySize(uids) > MAX_STUDIES)
		return http_error(req, 400, "StudyInstanceUids count exceeded maximum length '%d'", MAX_STUDIES), 1;
	const cJSON *u;
	cJSON_ArrayForEach(u, uids)
	{
		if (!cJSON_IsString(u) || !uid_is_valid(u->valuestring, strlen(u->valuestring)))
			return http_error(req, 400, "%s", uid_error_message(&req->arena, "StudyInstanceUid")), 1;
	}
	return 0;
}

static int answer_start(struct request *req, int result, const char *op, const char *busy)
{
	const char *base = request_base_url(req);
	struct buf b;

	switch (result) {
	case UPDATE_STARTED:
		buf_init(&b, 0);
		buf_addf(&b, "{\"id\":\"%s\",\"href\":\"%s/%s/operations/%s\"}", op, base, req->api_version, op);
		int rc = http_send(req, 202, "application/json; charset=utf-8", b.data, b.len);
		buf_release(&b);
		return rc;
	case UPDATE_BUSY: {
		/* not http_error, which would drop the Location */
		char msg[160];
		int len = snprintf(msg, sizeof(msg), "There is already an active update operation with ID '%s'.", busy);
		http_add_header(req, "Location", "%s/%s/operations/%s", base, req->api_version, busy);
		return http_send(req, 409, "text/plain; charset=utf-8", msg, (size_t)len);
	}
	default:
		return http_error(req, 503, "The server is temporarily unable to write data.");
	}
}

int update_studies(struct request *req)
{
	char op[33], busy[33];
	int rc = 0;
	enum json_read read;

	/* the action answers 404 before API version 2 (StoreController) */
	if (req->api_major < 2)
		return http_send(req, 404, NULL, "", 0);
	cJSON *j = param_json_body(req, 1 << 20);
	if (!j)
		return 0;
	cJSON *input = cJSON_CreateObject();
	const cJSON *uids = cJSON_GetObjectItem(j, "studyInstanceUids");
	cJSON *ds = cJSON_GetObjectItem(j, "changeDataset");
	if (!cJSON_IsObject(j))
		rc = http_error(req, 400, "The syntax of the request body is invalid.");
	else if (cJSON_IsObject(ds) && (read = json_read_dataset(ds)))
		rc = http_error(req, 400, "%s",
				read == JSON_READ_MANY_TEXT ? JSON_READ_MANY_TEXT_MESSAGE : "The syntax of the request body is invalid.");
	else if (check_studies(req, uids))
		rc = 0;
	else if (!cJSON_IsObject(ds) || !ds->child)
		rc = http_error(req, 400, "The required field 'ChangeDataset' is missing or empty.");
	else if (!check_dataset(req, ds, input)) {
		cJSON_AddStringToObject(input, "partition", req->partition);
		cJSON_AddItemToObject(input, "studyInstanceUids", cJSON_Duplicate(uids, true));
		char *text = cJSON_PrintUnformatted(input);
		rc = answer_start(req, text ? db_update_start(req->app->db, "update", text, op, busy) : UPDATE_FAILED, op, busy);
		free(text);
	}
	cJSON_Delete(input);
	cJSON_Delete(j);
	return rc;
}
