#include "api/qido_query.h"
#include "api/params.h"
#include "api/query_datetime.h"
#include "dicom/dcm.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

#define T(g, e) DCM_TAG(0x##g, 0x##e)

/* The searchable attributes and their levels (QueryLimit.cs). */
static const struct {
	uint32_t tag;
	unsigned level;
	char vr[3];
} searchable[] = {
	{ T(0020, 000D), QIDO_LEVEL_STUDY, "UI" },  { T(0010, 0010), QIDO_LEVEL_STUDY, "PN" },
	{ T(0010, 0020), QIDO_LEVEL_STUDY, "LO" },  { T(0010, 0030), QIDO_LEVEL_STUDY, "DA" },
	{ T(0008, 0050), QIDO_LEVEL_STUDY, "SH" },  { T(0008, 0090), QIDO_LEVEL_STUDY, "PN" },
	{ T(0008, 0020), QIDO_LEVEL_STUDY, "DA" },  { T(0008, 1030), QIDO_LEVEL_STUDY, "LO" },
	{ T(0008, 0061), QIDO_LEVEL_STUDY, "CS" },  { T(0020, 000E), QIDO_LEVEL_SERIES, "UI" },
	{ T(0008, 0060), QIDO_LEVEL_SERIES, "CS" }, { T(0040, 0244), QIDO_LEVEL_SERIES, "DA" },
	{ T(0008, 1090), QIDO_LEVEL_SERIES, "LO" }, { T(0008, 0018), QIDO_LEVEL_INSTANCE, "UI" },
};

unsigned qido_tag_level(uint32_t tag)
{
	for (size_t i = 0; i < sizeof(searchable) / sizeof(searchable[0]); i++)
		if (searchable[i].tag == tag)
			return searchable[i].level;
	return 0;
}

static const char *searchable_vr(uint32_t tag)
{
	for (size_t i = 0; i < sizeof(searchable) / sizeof(searchable[0]); i++)
		if (searchable[i].tag == tag)
			return searchable[i].vr;
	return "UN";
}

/* Default attributes (QueryResponseBuilder.cs) */
static const uint32_t v1_study[] = { T(0008, 0005), T(0008, 0020), T(0008, 0030), T(0008, 0050), T(0008, 0056),
				     T(0008, 0090), T(0008, 0201), T(0010, 0010), T(0010, 0020), T(0010, 0030),
				     T(0010, 0040), T(0020, 000D), T(0020, 0010), 0 };
static const uint32_t v2_study[] = { T(0020, 000D), T(0008, 0020), T(0008, 1030), T(0008, 0050), T(0008, 0090),
				     T(0010, 0010), T(0010, 0020), T(0010, 0030), 0 };
static const uint32_t all_study[] = { T(0008, 1030), T(0008, 0063), T(0008, 1032), T(0008, 1060), T(0008, 1080),
				      T(0008, 1110), T(0010, 1010), T(0010, 1020), T(0010, 1030), T(0010, 2180),
				      T(0010, 21B0), 0 };
static const uint32_t v1_series[] = { T(0008, 0005), T(0008, 0060), T(0008, 0201), T(0008, 103E), T(0020, 000E),
				      T(0040, 0244), T(0040, 0245), T(0040, 0275), 0 };
static const uint32_t v2_series[] = { T(0020, 000E), T(0008, 0060), T(0040, 0244), T(0008, 1090), 0 };
static const uint32_t all_series[] = { T(0020, 0011), T(0020, 0060), T(0008, 0021), T(0008, 0031), 0 };
static const uint32_t v1_instance[] = { T(0008, 0005), T(0008, 0016), T(0008, 0018), T(0008, 0056), T(0008, 0201),
					T(0020, 0013), T(0028, 0010), T(0028, 0011), T(0028, 0100), T(0028, 0008), 0 };
static const uint32_t v2_instance[] = { T(0008, 0018), 0 };

#define COMPUTED_STUDY_INSTANCES T(0020, 1208)
#define COMPUTED_SERIES_INSTANCES T(0020, 1209)
#define MODALITIES_IN_STUDY T(0008, 0061)

static int level_index(unsigned level)
{
	return level == QIDO_LEVEL_STUDY ? 0 : level == QIDO_LEVEL_SERIES ? 1 : 2;
}

static void add_tag(struct qido_query *q, int li, uint32_t tag)
{
	size_t n = q->ntags[li];
	for (size_t i = 0; i < n; i++)
		if (q->tags[li][i] == tag)
			return;
	if (n == QIDO_MAX_TAGS)
		return;
	size_t i = n;
	while (i > 0 && q->tags[li][i - 1] > tag) {
		q->tags[li][i] = q->tags[li][i - 1];
		i--;
	}
	q->tags[li][i] = tag;
	q->ntags[li]++;
}

static void add_list(struct qido_query *q, int li, const uint32_t *list)
{
	for (; *list; list++)
		add_tag(q, li, *list);
}

const char *qido_trim(struct arena *a, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return arena_strndup(a, s, n);
}

static bool valid_date(const char *s)
{
	if (strlen(s) != 8)
		return false;
	for (int i = 0; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	int m = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

static int bad(struct arena *a, const char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct arena *a, const char **err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*err = arena_strdup(a, msg);
	return -1;
}

/* A path into a sequence ("a.b"): DicomCoreResource
 * SequentialDicomTagsNotSupported, as the service's element validation
 * words it. */
static int sequential(struct arena *a, const char **err, const char *key)
{
	return bad(a, err, "Dicom element '%s' failed validation for VR 'SQ': Sequential dicom tags are currently not "
			   "supported.", key);
}

static int parse_int(struct arena *a, const char **err, const char *v, const char *field, long long min, long long max,
		     int bits, int64_t *out)
{
	const char *why = param_parse_int(a, v, field, min, max, bits, out);
	return why ? bad(a, err, "The query parameter '%s' is invalid. %s", field, why) : 0;
}

static const char unknown_param[] =
	"Invalid query: unknown query parameter '%s'. If the parameter is an attribute keyword, check the casing as they "
	"are case-sensitive. The conformance statement has a list of supported query parameters, attributes and the levels.";
static const char not_queryable[] =
	"Invalid query: AttributeId %s is not queryable.  If the parameter is an attribute keyword, check the casing as "
	"they are case-sensitive. The conformance statement has a list of supported query parameters, attributes and the "
	"levels.";

static const struct qido_eqt *find_eqt(const struct qido_eqt *eqts, size_t n, uint32_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (eqts[i].tag == tag)
			return &eqts[i];
	return NULL;
}

/* A filter's key: an attribute this level searches (or an enabled
 * extended query tag, *eqt), given once. */
static int filter_key(struct arena *a, const struct qido_query *q, const char *key, unsigned allowed,
		      const struct qido_eqt *eqts, size_t neqts, const char **given, uint32_t *tag,
		      const struct qido_eqt **eqt, const char **err)
{
	bool hex;

	if (strchr(key, '.'))
		return sequential(a, err, key);
	if (dcm_parse_tag(key, tag, &hex))
		return bad(a, err, unknown_param, key);
	unsigned level = qido_tag_level(*tag);
	*eqt = level ? NULL : find_eqt(eqts, neqts, *tag);
	if (*eqt)
		level = (*eqt)->level;
	if (!level || !(allowed & level))
		return bad(a, err, not_queryable, key);
	if (*eqt && !(*eqt)->enabled)
		return bad(a, err, "Query is disabled on specified attribute '%s'.", key);
	for (size_t i = 0; i < q->nfilters; i++) {
		if (q->filters[i].tag != *tag)
			continue;
		if (!strcmp(given[i], key))
			return bad(a, err,
				   "Invalid QIDO-RS query. Duplicate AttributeId '%s'. Each attribute is only allowed to be "
				   "specified once.",
				   key);
		return bad(a, err,
			   "Invalid query: attribute '%s' has been specified more than once using different ID formats. "
			   "Each attribute is only allowed to be specified once.",
			   key);
	}
	return 0;
}

static bool is_numeric_vr(const char *vr)
{
	return !strcmp(vr, "IS") || !strcmp(vr, "SL") || !strcmp(vr, "SS") || !strcmp(vr, "UL") || !strcmp(vr, "US") ||
	       !strcmp(vr, "FL") || !strcmp(vr, "FD");
}

/* A number, whole for the integer VRs. */
static int filter_number(struct arena *a, struct qido_filter *f, const char *vr, const char *key, const char *value,
			 const char **err)
{
	char *end;
	bool integral = vr[0] != 'F';
	if (integral)
		(void)strtoll(value, &end, 10);
	else
		(void)strtod(value, &end);
	if (*end || end == value)
		return bad(a, err, "Invalid query: the value '%s' of attribute '%s' is not a valid %s value.", value, key,
			   integral ? "long" : "double");
	f->match = QIDO_NUMBER;
	return 0;
}

static int bad_date(struct arena *a, const char **err, const char *value, const char *kw)
{
	return bad(a, err,
		   "Invalid query: specified Date value '%s' is invalid for attribute '%s'. Date should be valid and "
		   "formatted as yyyyMMdd.",
		   value, kw);
}

/* A date, or a range of dates with either end open. */
static int filter_date(struct arena *a, struct qido_filter *f, uint32_t tag, const char *value, const char **err)
{
	char kw[64], tvr[3];
	const char *dash = strchr(value, '-');

	dcm_tag_info(tag, kw, sizeof(kw), tvr);
	if (dash && strchr(dash + 1, '-'))
		return bad_date(a, err, value, kw);
	if (!dash) {
		if (!valid_date(value))
			return bad_date(a, err, value, kw);
		f->match = QIDO_EXACT;
		return 0;
	}
	const char *lo = arena_strndup(a, value, (size_t)(dash - value));
	const char *hi = dash + 1;
	if (!*lo && !*hi)
		/* DicomCoreResource InvalidRangeValues, line breaks included */
		return bad(a, err, "%s", query_range_empty);
	if (*lo && !valid_date(lo))
		return bad_date(a, err, lo, kw);
	if (*hi && !valid_date(hi))
		return bad_date(a, err, hi, kw);
	if (*lo && *hi && strcmp(lo, hi) > 0)
		/* DicomCoreResource InvalidDateRangeValue */
		return bad(a, err,
			   "Invalid query: specified date range '%s' is invalid.\nThe first part date %s should be lesser "
			   "than or equal to the second part date %s.",
			   value, lo, hi);
	f->match = QIDO_RANGE;
	f->lo = *lo ? lo : NULL;
	f->hi = *hi ? hi : NULL;
	return 0;
}

static int parse_filter(struct arena *a, struct qido_query *q, const char *key, const char *value, unsigned allowed,
			const struct qido_eqt *eqts, size_t neqts, const char **given, const char **err)
{
	const struct qido_eqt *eqt = NULL;
	uint32_t tag;

	if (filter_key(a, q, key, allowed, eqts, neqts, given, &tag, &eqt, err))
		return -1;
	if (!*value)
		return bad(a, err, "Invalid query: AttributeId '%s' has empty string value that is not supported.", key);
	if (q->nfilters == QIDO_MAX_FILTERS)
		return bad(a, err, "Invalid query: too many attributes.");

	struct qido_filter *f = &q->filters[q->nfilters];
	memset(f, 0, sizeof(*f));
	f->tag = tag;
	f->value = value;
	const char *vr = eqt ? eqt->vr : searchable_vr(tag);
	if (eqt) {
		f->eqt_key = eqt->key;
		f->eqt_level = eqt->level;
		if (eqt->has_errors && q->nerroneous < QIDO_MAX_FILTERS)
			q->erroneous[q->nerroneous++] = key;
	}
	if (is_numeric_vr(vr)) {
		if (filter_number(a, f, vr, key, value, err))
			return -1;
	} else if (eqt && (!strcmp(vr, "DT") || !strcmp(vr, "TM"))) {
		/* refused as the service refuses it; its bounds compared with
		 * the values as dicom_eqt_index keeps them (dicom_dt_norm,
		 * dicom_tm_norm) */
		char kw[64], tvr[3];
		dcm_tag_info(tag, kw, sizeof(kw), tvr);
		if (!*kw)
			snprintf(kw, sizeof(kw), "%08X", tag);
		if ((vr[0] == 'D' ? query_datetime : query_time)(a, kw, value, &f->lo, &f->hi, err))
			return -1;
		f->match = QIDO_RANGE;
	} else if (!strcmp(vr, "DA")) {
		if (filter_date(a, f, tag, value, err))
			return -1;
	} else if (!strcmp(vr, "PN")) {
		f->match = QIDO_PN;
	} else if (tag == MODALITIES_IN_STUDY) {
		f->match = QIDO_ANY_SERIES;
	} else {
		f->match = QIDO_EXACT;
	}
	given[q->nfilters] = key;
	q->nfilters++;
	return 0;
}

/* An empty item (an empty value, a trailing comma) is an unknown
 * attribute '' (AggregateCsvModelBinder, QueryParser.ParseIncludeFields). */
int qido_parse_includefield(struct arena *a, const char *value, struct qido_includes *inc, const char **err)
{
	const char *p = value;
	for (bool last = false; !last;) {
		size_t n = strcspn(p, ",");
		const char *item = qido_trim(a, arena_strndup(a, p, n));
		p += n;
		last = *p != ',';
		if (!last)
			p++;
		if (!strcasecmp(item, "all")) {
			inc->all = true;
			continue;
		}
		uint32_t tag;
		bool hex;
		if (strchr(item, '.'))
			return sequential(a, err, item);
		if (dcm_parse_tag(item, &tag, &hex))
			return bad(a, err, "Invalid query: IncludeField has unknown attribute '%s'.", item);
		inc->other = true;
		if (inc->n < QIDO_MAX_TAGS)
			inc->tags[inc->n++] = tag;
	}
	return 0;
}

/* One query parameter: limit, offset, fuzzymatching, includefield, or a
 * filter. */
static int parse_param(struct arena *a, struct qido_query *q, const struct qido_param *param, const struct qido_eqt *eqts,
		       size_t neqts, const char **given, struct qido_includes *inc, const char **err)
{
	const char *name = qido_trim(a, param->name);
	const char *value = qido_trim(a, param->value);

	/* the values are compared with text in the database: they must be
	 * text (an invalid byte sequence used to end in a 503) */
	if (!buf_utf8_valid(name, strlen(name)))
		return bad(a, err, "Invalid query: a query parameter's name is not valid UTF-8.");
	if (!buf_utf8_valid(value, strlen(value)))
		return bad(a, err, "Invalid query: the value of '%s' is not valid UTF-8.", name);
	if (!*name)
		return 0;
	if (!strcasecmp(name, "limit"))
		return parse_int(a, err, value, "Limit", 1, 200, 32, &q->limit);
	if (!strcasecmp(name, "offset"))
		return parse_int(a, err, value, "Offset", 0, INT64_MAX, 64, &q->offset);
	if (!strcasecmp(name, "fuzzymatching")) {
		if (!strcasecmp(value, "true"))
			q->fuzzy = true;
		else if (!strcasecmp(value, "false"))
			q->fuzzy = false;
		else
			return bad(a, err, "The query parameter 'FuzzyMatching' is invalid. The value '%s' is not valid for FuzzyMatching.",
				   value);
		return 0;
	}
	if (!strcasecmp(name, "includefield"))
		return qido_parse_includefield(a, value, inc, err);
	return parse_filter(a, q, name, value, q->levels, eqts, neqts, given, err);
}

/* The level a returned attribute that includefield names comes from. */
static unsigned include_level(const struct qido_query *q, uint32_t t)
{
	unsigned lvl = qido_tag_level(t);
	/* a non-searchable attribute comes from the most specific level returned */
	if (!lvl || !(q->levels & lvl))
		lvl = (q->levels & QIDO_LEVEL_INSTANCE) ? QIDO_LEVEL_INSTANCE
		      : (q->levels & QIDO_LEVEL_SERIES) ? QIDO_LEVEL_SERIES
							: QIDO_LEVEL_STUDY;
	return lvl;
}

/* Returned attributes: defaults, includefield, filtered tags, path UIDs. */
static void returned_attributes(struct qido_query *q, int api_major, const struct qido_includes *inc)
{
	bool v1 = api_major < 2 || inc->all;
	if (q->levels & QIDO_LEVEL_STUDY) {
		add_list(q, 0, v1 ? v1_study : v2_study);
		/* all is QueryResponseBuilder's AllStudyTags: the computed
		 * attributes only when named */
		if (inc->all)
			add_list(q, 0, all_study);
	}
	if (q->levels & QIDO_LEVEL_SERIES) {
		add_list(q, 1, v1 ? v1_series : v2_series);
		if (inc->all)
			add_list(q, 1, all_series);
	}
	if (q->levels & QIDO_LEVEL_INSTANCE)
		add_list(q, 2, v1 ? v1_instance : v2_instance);
	for (size_t i = 0; i < inc->n; i++) {
		uint32_t t = inc->tags[i];
		if (t == COMPUTED_STUDY_INSTANCES && (q->levels & QIDO_LEVEL_STUDY))
			q->computed_study_instances = true;
		else if (t == COMPUTED_SERIES_INSTANCES && (q->levels & QIDO_LEVEL_SERIES))
			q->computed_series_instances = true;
		else if (t == MODALITIES_IN_STUDY && (q->levels & QIDO_LEVEL_STUDY))
			q->computed_modalities = true;
		else
			add_tag(q, level_index(include_level(q, t)), t);
	}
	for (size_t i = 0; i < q->nfilters; i++) {
		if (q->filters[i].tag == MODALITIES_IN_STUDY) {
			q->computed_modalities = true;
			continue;
		}
		unsigned lvl = q->filters[i].eqt_key ? q->filters[i].eqt_level : qido_tag_level(q->filters[i].tag);
		add_tag(q, level_index(lvl), q->filters[i].tag);
	}
	/* the path's UIDs are filters, and filtered attributes are returned:
	 * from their own level, or (every instance holding them) from the
	 * most specific level returned */
	if (q->study)
		add_tag(q, level_index(include_level(q, T(0020, 000D))), T(0020, 000D));
	if (q->series)
		add_tag(q, level_index(include_level(q, T(0020, 000E))), T(0020, 000E));
}

const char *qido_fuzzy_refusal(struct arena *a, const char *keyword, const char *value)
{
	if (!strchr(value, '"'))
		return NULL;
	return arena_printf(a,
			    "Invalid query: specified tag '%s' value '%s' contains unsupported character '\"'. Character is "
			    "not supported with Fuzzy match, try exact match or removing the invalid character. ",
			    keyword, value);
}

/* limit, offset and fuzzymatching bind to their first value (ASP.NET's
 * SimpleTypeModelBinder reads FirstValue): a later one is not looked at. */
static bool bound_before(struct arena *a, const struct qido_param *params, size_t i)
{
	const char *name = qido_trim(a, params[i].name);
	if (strcasecmp(name, "limit") && strcasecmp(name, "offset") && strcasecmp(name, "fuzzymatching"))
		return false;
	for (size_t j = 0; j < i; j++)
		if (!strcasecmp(qido_trim(a, params[j].name), name))
			return true;
	return false;
}

int qido_parse(struct arena *a, enum qido_resource res, int api_major, const char *study, const char *series,
	       const struct qido_param *params, size_t nparams, const struct qido_eqt *eqts, size_t neqts,
	       struct qido_query *q, const char **err)
{
	static const unsigned levels_of[] = {
		[QIDO_ALL_STUDIES] = QIDO_LEVEL_STUDY,
		[QIDO_ALL_SERIES] = QIDO_LEVEL_STUDY | QIDO_LEVEL_SERIES,
		[QIDO_ALL_INSTANCES] = QIDO_LEVEL_STUDY | QIDO_LEVEL_SERIES | QIDO_LEVEL_INSTANCE,
		[QIDO_STUDY_SERIES] = QIDO_LEVEL_SERIES,
		[QIDO_STUDY_INSTANCES] = QIDO_LEVEL_SERIES | QIDO_LEVEL_INSTANCE,
		[QIDO_STUDY_SERIES_INSTANCES] = QIDO_LEVEL_INSTANCE,
	};
	const char *given[QIDO_MAX_FILTERS];
	struct qido_includes inc = { .n = 0 };

	memset(q, 0, sizeof(*q));
	q->resource = res;
	q->levels = levels_of[res];
	q->study = study;
	q->series = series;
	q->limit = 100;
	for (size_t i = 0; i < nparams; i++)
		if (!bound_before(a, params, i) && parse_param(a, q, &params[i], eqts, neqts, given, &inc, err))
			return -1;
	if (inc.all && inc.other)
		return bad(a, err, "Invalid query: cannot specify included fields in addition to 'all'.");
	/* fuzzy matching applies to every person name filter */
	for (size_t i = 0; i < q->nfilters; i++) {
		struct qido_filter *f = &q->filters[i];
		if (f->match != QIDO_PN || !q->fuzzy)
			continue;
		char kw[64], vr[3];
		dcm_tag_info(f->tag, kw, sizeof(kw), vr);
		if (!*kw)
			snprintf(kw, sizeof(kw), "%08X", f->tag);
		if ((*err = qido_fuzzy_refusal(a, kw, f->value)))
			return -1;
		f->match = QIDO_PN_FUZZY;
	}
	returned_attributes(q, api_major, &inc);
	return 0;
}
