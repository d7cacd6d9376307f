/* QIDO-RS search: one statement made of fixed fragments, every value a
 * parameter. Results come newest first, as the service pages them. */
#include "db/qido.h"
#include "db/db_internal.h"
#include "common/log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define MAX_PARAMS (8 + 3 * QIDO_MAX_FILTERS)
#define TAG(g, e) ((uint32_t)(((uint32_t)(g) << 16) | (uint32_t)(e)))

struct sql {
	struct buf text;
	const char *values[MAX_PARAMS];
	char *owned[MAX_PARAMS];
	int n;
};

/* Adds a parameter and returns its $ number. */
static int param(struct sql *s, const char *value, bool copy)
{
	if (s->n == MAX_PARAMS)
		return s->n; /* cannot happen: filters are bounded */
	s->owned[s->n] = copy ? strdup(value) : NULL;
	s->values[s->n] = copy ? s->owned[s->n] : value;
	return ++s->n;
}

static void tags_param(struct sql *s, const uint32_t *tags, size_t n)
{
	struct buf b;
	buf_init(&b, 0);
	buf_addch(&b, '{');
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%s%08X", i ? "," : "", tags[i]);
	buf_addch(&b, '}');
	param(s, buf_str(&b), true);
	buf_release(&b);
}

struct column {
	uint32_t tag;
	const char *expr;     /* column expression */
	int ci;               /* compare case-insensitively */
	const char *prefixes; /* a person name's word prefixes (sql/021) */
	int uid;              /* a UID: one row a value, so one plan for every value */
	int code;             /* a code of few values (CS): a value is written into the statement */
};

static const struct column columns[] = {
	{ TAG(0x0020, 0x000D), "s.study_uid", 0, NULL, 1, 0 },
	{ TAG(0x0010, 0x0010), "s.patient_name_norm", 0, "s.patient_name_prefixes", 0, 0 },
	{ TAG(0x0010, 0x0020), "s.patient_id", 1, NULL, 0, 0 },
	{ TAG(0x0010, 0x0030), "s.patient_birth_date", 0, NULL, 0, 0 },
	{ TAG(0x0008, 0x0050), "s.accession_number", 1, NULL, 0, 0 },
	{ TAG(0x0008, 0x0090), "s.referring_physician_name_norm", 0, "s.referring_physician_name_prefixes", 0, 0 },
	{ TAG(0x0008, 0x0020), "s.study_date", 0, NULL, 0, 0 },
	{ TAG(0x0008, 0x1030), "s.study_description", 1, NULL, 0, 0 },
	{ TAG(0x0020, 0x000E), "se.series_uid", 0, NULL, 1, 0 },
	{ TAG(0x0008, 0x0060), "se.modality", 1, NULL, 0, 1 },
	{ TAG(0x0040, 0x0244), "se.performed_procedure_step_start_date", 0, NULL, 0, 0 },
	{ TAG(0x0008, 0x1090), "se.manufacturer_model_name", 1, NULL, 0, 0 },
	{ TAG(0x0008, 0x0018), "i.sop_uid", 0, NULL, 1, 0 },
};

static const struct column *column_of(uint32_t tag)
{
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		if (columns[i].tag == tag)
			return &columns[i];
	return NULL;
}

/* Whether a filter's value is written into the statement rather than
 * passed as a parameter: an exact match on a code of few values (Modality)
 * whose characters are a code string's (PS3.5 CS: letters, digits, space,
 * underscore; so no quote can be among them). Each value is then a
 * statement of its own, planned once a connection for that value: a
 * common and a rare code want different plans (the newest rows walked, or
 * the index), and a parameter made PostgreSQL plan at every call to tell
 * them apart (0.3 - 0.7 ms). */
static bool written(const struct qido_filter *f)
{
	const struct column *c = column_of(f->tag);
	if (f->eqt_key || !((f->match == QIDO_EXACT && c && c->code) || f->match == QIDO_ANY_SERIES))
		return false;
	size_t n = strspn(f->value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _");
	return n > 0 && n <= 16 && !f->value[n];
}

/* Fuzzy person-name matching: every word of the query starts a word of
 * the name, i.e. is among the name's word prefixes (prefixes, an array
 * expression; what dicom_pn_fuzzy says, in a form the GIN indexes of
 * sql/021 answer). */
static void add_pn_fuzzy(struct sql *s, const char *prefixes, const char *value)
{
	buf_addf(&s->text, " AND %s @> string_to_array(dicom_pn_norm($%d), ' ')", prefixes, param(s, value, false));
}

/* A filter on an extended query tag: a value of the tag at its level. */
static void add_eqt_filter(struct sql *s, const struct qido_filter *f)
{
	struct buf *t = &s->text;
	char key[16];

	snprintf(key, sizeof(key), "%d", f->eqt_key);
	buf_addf(t, " AND EXISTS (SELECT 1 FROM extended_query_tag_value v WHERE v.tag_key = $%d::int AND ",
		 param(s, key, true));
	if (f->eqt_level == QIDO_LEVEL_STUDY)
		buf_adds(t, "v.partition_key = s.partition_key AND v.study_uid = s.study_uid");
	else if (f->eqt_level == QIDO_LEVEL_SERIES)
		buf_adds(t, "v.series_key = se.series_key");
	else
		buf_adds(t, "v.watermark = i.watermark");
	switch (f->match) {
	case QIDO_NUMBER:
		buf_addf(t, " AND v.num_value = $%d::float8", param(s, f->value, false));
		break;
	case QIDO_RANGE:
		if (f->lo)
			buf_addf(t, " AND v.text_value >= $%d", param(s, f->lo, false));
		if (f->hi)
			buf_addf(t, " AND v.text_value <= $%d", param(s, f->hi, false));
		break;
	case QIDO_PN:
		buf_addf(t, " AND v.pn_norm = dicom_pn_norm($%d)", param(s, f->value, false));
		break;
	case QIDO_PN_FUZZY:
		add_pn_fuzzy(s, "dicom_pn_prefixes(v.pn_norm)", f->value);
		break;
	default:
		buf_addf(t, " AND lower(v.text_value) = lower($%d)", param(s, f->value, false));
		break;
	}
	buf_addch(t, ')');
}

static void add_filter(struct sql *s, const struct qido_filter *f)
{
	const struct column *c = column_of(f->tag);
	struct buf *t = &s->text;

	if (f->eqt_key) {
		add_eqt_filter(s, f);
		return;
	}

	if (f->match == QIDO_ANY_SERIES) {
		buf_adds(t, " AND EXISTS (SELECT 1 FROM series m WHERE m.study_key = s.study_key AND lower(m.modality) = ");
		if (written(f))
			buf_addf(t, "lower('%s'))", f->value);
		else
			buf_addf(t, "lower($%d))", param(s, f->value, false));
		return;
	}
	if (!c)
		return;
	switch (f->match) {
	case QIDO_RANGE:
		if (f->lo)
			buf_addf(t, " AND %s >= $%d", c->expr, param(s, f->lo, false));
		if (f->hi)
			buf_addf(t, " AND %s <= $%d", c->expr, param(s, f->hi, false));
		break;
	case QIDO_PN:
		buf_addf(t, " AND %s = dicom_pn_norm($%d)", c->expr, param(s, f->value, false));
		break;
	case QIDO_PN_FUZZY:
		add_pn_fuzzy(s, c->prefixes ? c->prefixes : "NULL::text[]", f->value);
		break;
	default:
		if (written(f))
			buf_addf(t, " AND lower(%s) = lower('%s')", c->expr, f->value);
		else if (c->ci)
			buf_addf(t, " AND lower(%s) = lower($%d)", c->expr, param(s, f->value, false));
		else
			buf_addf(t, " AND %s = $%d", c->expr, param(s, f->value, false));
		break;
	}
}

/* The attributes returned: each level's from its latest instance's
 * metadata, those the study and series rows keep from the latest instance
 * that had a value over them, and the computed ones. */
/* The attributes of tag list parameter t from instance alias a, and
 * from the level's kept attributes attrs (NULL: none), which win. When
 * every tag of t is among dicom_head_tags and the instance has its head
 * (sql/017), the head (and attrs, whose tags are among them too) less the
 * head's other tags (worked out once a query): no function call a row.
 * Else, as before the heads, the whole metadata picked. */
static void level_attributes(struct sql *s, const char *a, const char *attrs, int t)
{
	buf_addf(&s->text,
		 "CASE WHEN %s.head IS NOT NULL AND $%d::text[] <@ dicom_head_tags() THEN (%s.head%s%s) - "
		 "(SELECT COALESCE(array_agg(x), '{}') FROM unnest(dicom_head_tags()) x WHERE x <> ALL ($%d::text[])) "
		 "ELSE dicom_pick(%s.metadata, $%d)",
		 a, t, a, attrs ? " || " : "", attrs ? attrs : "", t, a, t);
	if (attrs)
		buf_addf(&s->text, " || dicom_pick(%s, $%d)", attrs, t);
	buf_adds(&s->text, " END");
}

static void select_attributes(struct sql *s, const struct qido_query *q)
{
	buf_adds(&s->text, "SELECT ('{}'::jsonb");
	if (q->levels & QIDO_LEVEL_STUDY) {
		tags_param(s, q->tags[0], q->ntags[0]);
		buf_adds(&s->text, " || COALESCE((SELECT ");
		level_attributes(s, "l", "s.attrs", s->n);
		buf_addf(&s->text,
			 " FROM instance l WHERE l.partition_key = s.partition_key "
			 "AND l.study_uid = s.study_uid ORDER BY l.watermark DESC LIMIT 1), dicom_pick(s.attrs, $%d))",
			 s->n);
	}
	if (q->levels & QIDO_LEVEL_SERIES) {
		tags_param(s, q->tags[1], q->ntags[1]);
		buf_adds(&s->text, " || COALESCE((SELECT ");
		level_attributes(s, "l", "se.attrs", s->n);
		buf_addf(&s->text,
			 " FROM instance l WHERE l.series_key = se.series_key "
			 "ORDER BY l.watermark DESC LIMIT 1), dicom_pick(se.attrs, $%d))",
			 s->n);
	}
	if (q->levels & QIDO_LEVEL_INSTANCE) {
		tags_param(s, q->tags[2], q->ntags[2]);
		buf_adds(&s->text, " || ");
		level_attributes(s, "i", NULL, s->n);
	}
	if (q->computed_modalities)
		buf_adds(&s->text, " || COALESCE((SELECT jsonb_build_object('00080061', jsonb_build_object('vr', 'CS', "
				   "'Value', jsonb_agg(DISTINCT m.modality ORDER BY m.modality))) FROM series m "
				   "WHERE m.study_key = s.study_key AND m.modality IS NOT NULL HAVING count(*) > 0), '{}'::jsonb)");
	if (q->computed_study_instances)
		buf_adds(&s->text, " || jsonb_build_object('00201208', jsonb_build_object('vr', 'IS', 'Value', "
				   "jsonb_build_array((SELECT count(*) FROM instance c WHERE c.partition_key = s.partition_key "
				   "AND c.study_uid = s.study_uid))))");
	if (q->computed_series_instances)
		buf_adds(&s->text, " || jsonb_build_object('00201209', jsonb_build_object('vr', 'IS', 'Value', "
				   "jsonb_build_array((SELECT count(*) FROM instance c WHERE c.series_key = se.series_key))))");
	buf_adds(&s->text, ")::text");
}

/* How many keys the page's search reads at most, written into the
 * statement (a power of two, at least 16, over offset + limit), or 0 to
 * leave the page's bounds as parameters only. A statement is prepared once
 * a connection, but PostgreSQL plans it anew at every call (a custom plan)
 * while its LIMIT and OFFSET are parameters: a generic plan must assume
 * they take a tenth of the rows, and costs more. With a written bound it
 * keeps one generic plan after five calls and plans no more ("all
 * studies" planned in 0.3 - 0.7 ms). Only where the plan is the same for
 * every value: no filter, UIDs (one row each), or values written into the
 * statement (a plan for each of them, see written). Any other filter keeps a
 * plan made for its values at every call: a rare or absent value (a
 * Modality of SR in a CT archive, a PatientID) is best found through its
 * index, a common one by walking the newest rows, and only the values
 * tell which (a generic plan would walk a whole table for a rare one). */
#define QIDO_BOUND_MAX 4096

static long long page_bound(const struct qido_query *q)
{
	for (size_t k = 0; k < q->nfilters; k++) {
		const struct qido_filter *f = &q->filters[k];
		const struct column *c = column_of(f->tag);
		if (!written(f) && (f->eqt_key || f->match != QIDO_EXACT || !c || !c->uid))
			return 0;
	}
	if (q->offset < 0 || q->limit < 0 || q->offset > QIDO_BOUND_MAX || q->limit > QIDO_BOUND_MAX)
		return 0;
	long long bound = 16;
	while (bound < q->offset + q->limit)
		bound *= 2;
	return bound <= QIDO_BOUND_MAX ? bound : 0;
}

long db_qido(struct db *db, const char *partition, const struct qido_query *q, struct buf *out)
{
	struct sql s = { .n = 0 };
	char lim[24], off[24];
	bool series = q->levels & QIDO_LEVEL_SERIES, instance = q->levels & QIDO_LEVEL_INSTANCE;
	long n = -1;

	buf_init(&s.text, 0);
	snprintf(lim, sizeof(lim), "%lld", (long long)q->limit);
	snprintf(off, sizeof(off), "%lld", (long long)q->offset);
	int p_part = param(&s, partition, false);
	int p_lim = param(&s, lim, false);
	int p_off = param(&s, off, false);

	/* the page's rows are found first (keys only) and their attributes
	 * made after, so that rows an offset skips cost no metadata */
	long long bound = page_bound(q);
	select_attributes(&s, q);
	/* the page's keys (within the first bound of them, when bound) */
	buf_adds(&s.text, bound ? " FROM (SELECT * FROM (SELECT" : " FROM (SELECT");
	buf_adds(&s.text, instance ? " i.watermark, se.series_key, s.study_key, i.watermark AS o"
				     " FROM instance i JOIN series se ON se.series_key = i.series_key"
				     " JOIN study s ON s.study_key = se.study_key"
			  : series ? " se.series_key, s.study_key, se.series_key AS o"
				     " FROM series se JOIN study s ON s.study_key = se.study_key"
				   : " s.study_key, s.study_key AS o FROM study s");
	buf_addf(&s.text, " WHERE s.partition_key = (SELECT partition_key FROM partition WHERE partition_name = $%d)",
		 p_part);
	if (q->study)
		buf_addf(&s.text, " AND s.study_uid = $%d", param(&s, q->study, false));
	if (q->series)
		buf_addf(&s.text, " AND se.series_uid = $%d", param(&s, q->series, false));
	for (size_t k = 0; k < q->nfilters; k++)
		add_filter(&s, &q->filters[k]);
	/* newest first: studies and series by key, instances by watermark, as
	 * the service orders them (SqlQueryGenerator); each row of the page
	 * looked up by key (OFFSET 0 keeps these lookups
	 * from being planned as joins over whole tables) */
	buf_addf(&s.text, " ORDER BY %s DESC", instance ? "i.watermark" : series ? "se.series_key" : "s.study_key");
	if (bound)
		buf_addf(&s.text, " LIMIT %lld) b ORDER BY b.o DESC", bound);
	buf_addf(&s.text, " OFFSET $%d LIMIT $%d) k"
			  " CROSS JOIN LATERAL (SELECT * FROM study s WHERE s.study_key = k.study_key OFFSET 0) s",
		 p_off, p_lim);
	if (instance || series)
		buf_adds(&s.text, " CROSS JOIN LATERAL (SELECT * FROM series se WHERE se.series_key = k.series_key OFFSET 0) se");
	if (instance)
		buf_adds(&s.text, " CROSS JOIN LATERAL (SELECT * FROM instance i WHERE i.watermark = k.watermark OFFSET 0) i");
	buf_adds(&s.text, " ORDER BY k.o DESC");

	PGresult *r = db_exec_text(db, PGRES_TUPLES_OK, buf_str(&s.text), s.n, s.values);
	if (r) {
		n = PQntuples(r);
		for (int k = 0; k < n; k++) {
			if (k)
				buf_addch(out, ',');
			buf_add(out, PQgetvalue(r, k, 0), (size_t)PQgetlength(r, k, 0));
		}
		PQclear(r);
	}
	for (int k = 0; k < s.n; k++)
		free(s.owned[k]);
	buf_release(&s.text);
	return n;
}
