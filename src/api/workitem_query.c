/* UPS-RS workitem search parameters (§9.4). */
#include "api/workitem_query.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

/* The searchable attributes (QueryLimit's workitem tags): a keyword or hex
 * path, the column, how it matches. */
static const struct {
	const char *keyword, *hex, *column;
	enum workitem_match match;
} keys[] = {
	{ "PatientName", "00100010", "patient_name_norm", WM_PN },
	{ "PatientID", "00100020", "patient_id", WM_EXACT },
	{ "ReferencedRequestSequence.AccessionNumber", "0040A370.00080050", "accession_number", WM_EXACT },
	{ "ReferencedRequestSequence.RequestedProcedureID", "0040A370.00401001", "requested_procedure_id", WM_EXACT },
	{ "ScheduledProcedureStepStartDateTime", "00404005", "start_datetime", WM_RANGE },
	{ "ScheduledStationNameCodeSequence.CodeValue", "00404025.00080100", "station_name_code", WM_EXACT },
	{ "ScheduledStationClassCodeSequence.CodeValue", "00404026.00080100", "station_class_code", WM_EXACT },
	{ "ScheduledStationGeographicLocationCodeSequence.CodeValue", "00404027.00080100", "station_location_code",
	  WM_EXACT },
	{ "ProcedureStepState", "00741000", "state", WM_EXACT },
	{ "StudyInstanceUID", "0020000D", "study_uid", WM_EXACT },
};

/* One query parameter into a filter; NULL, or the 400's text. */
static const char *search_param(struct arena *a, const char *name, const char *value, struct workitem_filter *f)
{
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (strcmp(name, keys[k].keyword) && strcasecmp(name, keys[k].hex))
			continue;
		*f = (struct workitem_filter){ keys[k].column, keys[k].match, value, NULL, NULL };
		if (f->match == WM_RANGE) {
			const char *dash = strchr(value, '-');
			f->lo = dash ? (dash > value ? arena_strndup(a, value, (size_t)(dash - value)) : NULL) : value;
			f->hi = dash ? (dash[1] ? dash + 1 : NULL) : value;
		}
		return NULL;
	}
	return arena_printf(a,
			    "Invalid workitem query. AttributeId %s is not queryable.  If the parameter is an attribute keyword, "
			    "check the casing as they are case-sensitive. The conformance statement has a list of supported "
			    "query parameters and attributes.",
			    name);
}

int workitem_query_parse(struct arena *a, const struct qido_param *params, size_t nparams, struct workitem_query *q,
			 const char **err)
{
	const char *bad = NULL;

	memset(q, 0, sizeof(*q));
	q->limit = 100;
	for (size_t i = 0; i < nparams && !bad; i++) {
		const char *name = params[i].name, *value = params[i].value;
		if (!strcasecmp(name, "limit") || !strcasecmp(name, "offset")) {
			char *end;
			long long v = strtoll(value, &end, 10);
			bool is_limit = !strcasecmp(name, "limit");
			if (!*value || *end || (is_limit && (v < 1 || v > 200)) || v < 0)
				bad = is_limit ? "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."
					       : "The query parameter 'Offset' is invalid.";
			else if (is_limit)
				q->limit = v;
			else
				q->offset = v;
		} else if (!strcasecmp(name, "fuzzymatching")) {
			q->fuzzy = !strcasecmp(value, "true");
		} else if (!strcasecmp(name, "includefield")) {
			/* every stored attribute is returned already */
		} else if (*name && q->n < WORKITEM_MAX_FILTERS) {
			bad = search_param(a, name, value, &q->filters[q->n++]);
		}
	}
	if (bad) {
		*err = bad;
		return -1;
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->filters[i].match == WM_PN && q->fuzzy)
			q->filters[i].match = WM_PN_FUZZY;
	return 0;
}
