/* UPS-RS workitem search parameters (§9.4): the service's model binding
 * (QueryOptions, QueryOptionsExtensions.ToBaseQueryParameters), then its
 * WorkitemQueryParser: each filter in the order given, then includefield. */
#include "api/workitem_query.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/params.h"
#include "api/query_datetime.h"
#include "common/buf.h"
#include "dicom/dcm.h"

#include "common/banned.h"

#define T(g, e) ((uint32_t)(0x##g##e))

/* The searchable attributes (QueryLimit's workitem tags): the path of
 * tags (a sequence's attribute is two), the column, how it matches. */
static const struct {
	uint32_t path[2];
	const char *column;
	enum workitem_match match;
} keys[] = {
	{ { T(0010, 0010) }, "patient_name_norm", WM_PN },
	{ { T(0010, 0020) }, "patient_id", WM_EXACT },
	{ { T(0040, A370), T(0008, 0050) }, "accession_number", WM_EXACT },
	{ { T(0040, A370), T(0040, 1001) }, "requested_procedure_id", WM_EXACT },
	{ { T(0040, 4005) }, "start_datetime", WM_RANGE },
	{ { T(0040, 4025), T(0008, 0100) }, "station_name_code", WM_EXACT },
	{ { T(0040, 4026), T(0008, 0100) }, "station_class_code", WM_EXACT },
	{ { T(0040, 4027), T(0008, 0100) }, "station_location_code", WM_EXACT },
	{ { T(0074, 1000) }, "state", WM_EXACT },
	{ { T(0020, 000D) }, "study_uid", WM_EXACT },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The attributes every search result carries (WorkitemQueryResponseBuilder
 * RequiredReturnTags: return key types 1 and 2, PS3.4 table CC.2.5-3). */
static const char required[] = "00080005,00080016,00080018,00741200,00741204,00741202,00741210,00404025,00404026,"
			       "00404027,00404034,00404005,00404018,00404041,00404021,0020000D,00100010,00100020,"
			       "00100021,00100024,00101002,00100030,00100040,00380010,00380014,00081080,00081084,"
			       "0040A370,00102000,001021C0,00380050,00741000,00741002";

/* Keeps a refusal (arena_printf's) in *err: -1. */
static int refuse(const char **err, const char *msg)
{
	*err = msg;
	return -1;
}

/* A key ("PatientID", "00100020", "ReferencedRequestSequence.00080050"):
 * each part a keyword or hex tag, as DicomTagParser reads a path; its
 * index in keys, or -1 with the 400 written. */
static int find_key(struct arena *a, const char *name, const char **err)
{
	uint32_t path[3] = { 0 };
	size_t n = 0;
	bool nested = false;

	for (const char *p = name;; p++) {
		size_t len = strcspn(p, ".");
		uint32_t tag;
		bool hex;
		if (dcm_parse_tag(arena_strndup(a, p, len), &tag, &hex))
			goto unsupported;
		if (n < 3)
			path[n++] = tag;
		else
			nested = true;
		p += len;
		if (!*p)
			break;
	}
	if (n > 2 || nested)
		return refuse(err, "Nested Dicom sequence tags are currently not supported.");
	for (size_t k = 0; k < NKEYS; k++)
		if (keys[k].path[0] == path[0] && keys[k].path[1] == path[1])
			return (int)k;
unsupported:
	return refuse(err, arena_printf(a,
					"Invalid workitem query. AttributeId %s is not queryable.  If the parameter is "
					"an attribute keyword, check the casing as they are case-sensitive. The "
					"conformance statement has a list of supported query parameters and attributes.",
					name));
}

/* One filter (ParseFilterCondition): its key, its value, not twice. */
static int parse_filter(struct arena *a, struct workitem_query *q, const char *name, const char *value,
			const char **err)
{
	int k = find_key(a, name, err);
	if (k < 0)
		return -1;
	if (!*value)
		return refuse(err, arena_printf(a,
						"Invalid query: AttributeId '%s' has empty string value that is not "
						"supported.",
						name));
	struct workitem_filter *f = &q->filters[q->n];
	*f = (struct workitem_filter){
		.column = keys[k].column,
		.match = keys[k].match,
		.value = value,
		.tag = keys[k].path[1] ? keys[k].path[1] : keys[k].path[0], /* a sequence's: the one inside */
	};
	if (f->match == WM_RANGE &&
	    query_datetime(a, "ScheduledProcedureStepStartDateTime", value, &f->lo, &f->hi, err))
		return -1;
	if (f->match == WM_PN && q->fuzzy) {
		const char *refusal = qido_fuzzy_refusal(a, "PatientName", value);
		if (refusal) {
			*err = refusal;
			return -1;
		}
		f->match = WM_PN_FUZZY;
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->filters[i].column == f->column)
			return refuse(err, arena_printf(a,
							"Invalid query: attribute '%s' has been specified more than "
							"once using different ID formats. Each attribute is only "
							"allowed to be specified once.",
							name));
	q->n++;
	return 0;
}

static bool known(const char *name)
{
	return !strcasecmp(name, "limit") || !strcasecmp(name, "offset") || !strcasecmp(name, "fuzzymatching") ||
	       !strcasecmp(name, "includefield");
}

/* The model binding of params (trimmed): limit, offset and
 * fuzzymatching (the first value of each counts); then no filter named
 * twice. */
static int bind(struct arena *a, const struct qido_param *params, size_t nparams, struct workitem_query *q,
		const char **err)
{
	bool seen_limit = false, seen_offset = false, seen_fuzzy = false;
	for (size_t i = 0; i < nparams; i++) {
		const char *name = params[i].name, *value = params[i].value, *why = NULL;
		if (!buf_utf8_valid(name, strlen(name)))
			return refuse(err, "Invalid query: a query parameter's name is not valid UTF-8.");
		if (!buf_utf8_valid(value, strlen(value)))
			return refuse(err,
				      arena_printf(a, "Invalid query: the value of '%s' is not valid UTF-8.", name));
		if (!strcasecmp(name, "limit") && !seen_limit) {
			seen_limit = true;
			if ((why = param_parse_int(a, value, "Limit", 1, 200, 32, &q->limit)))
				return refuse(err, arena_printf(a, "The query parameter 'Limit' is invalid. %s", why));
		} else if (!strcasecmp(name, "offset") && !seen_offset) {
			seen_offset = true;
			if ((why = param_parse_int(a, value, "Offset", 0, INT64_MAX, 64, &q->offset)))
				return refuse(err, arena_printf(a, "The query parameter 'Offset' is invalid. %s", why));
		} else if (!strcasecmp(name, "fuzzymatching") && !seen_fuzzy) {
			seen_fuzzy = true;
			if (strcasecmp(value, "true") && strcasecmp(value, "false"))
				return refuse(err, arena_printf(a,
								"The query parameter 'FuzzyMatching' is invalid. The "
								"value '%s' is not valid for "
								"FuzzyMatching.",
								value));
			q->fuzzy = !strcasecmp(value, "true");
		}
	}
	for (size_t i = 0; i < nparams; i++) {
		const char *name = params[i].name;
		if (!*name || known(name))
			continue;
		for (size_t j = 0; j < i; j++) {
			const char *first = params[j].name;
			if (!strcasecmp(first, name))
				return refuse(err, arena_printf(a,
								"Invalid QIDO-RS query. Duplicate AttributeId '%s'. "
								"Each attribute is only allowed "
								"to be specified once.",
								first));
		}
	}
	return 0;
}

int workitem_query_parse(struct arena *a, const struct qido_param *params, size_t nparams, struct workitem_query *q,
			 const char **err)
{
	struct qido_includes inc = { .n = 0 };
	struct qido_param *p = arena_alloc(a, (nparams ? nparams : 1) * sizeof(*p));

	memset(q, 0, sizeof(*q));
	q->limit = 100;
	for (size_t i = 0; i < nparams; i++) /* names and values trimmed once (the service's Trim()) */
		p[i] = (struct qido_param){ qido_trim(a, params[i].name), qido_trim(a, params[i].value) };
	if (bind(a, p, nparams, q, err))
		return -1;
	for (size_t i = 0; i < nparams; i++)
		if (*p[i].name && !known(p[i].name) && parse_filter(a, q, p[i].name, p[i].value, err))
			return -1;
	/* includefield: what the results keep besides the required
	 * attributes and those searched for */
	for (size_t i = 0; i < nparams; i++)
		if (!strcasecmp(p[i].name, "includefield") && qido_parse_includefield(a, p[i].value, &inc, err))
			return -1;
	if (inc.all && inc.other)
		return refuse(err, "Invalid query: cannot specify included fields in addition to 'all'.");
	if (!inc.all) {
		struct buf b;
		buf_init(&b, 0);
		buf_addf(&b, "{%s", required);
		for (size_t i = 0; i < inc.n; i++)
			buf_addf(&b, ",%08X", inc.tags[i]);
		for (size_t i = 0; i < q->n; i++) /* a sequence's attribute: its last tag (QueryTag.Tag) */
			buf_addf(&b, ",%08X", q->filters[i].tag);
		buf_addch(&b, '}');
		q->returned = arena_strdup(a, buf_str(&b));
		buf_release(&b);
	}
	return 0;
}
