/* A parsed QIDO-RS query, as src/api/qido_query.c makes it and
 * db_qido() runs it. */
#ifndef ADE_DB_QIDO_H
#define ADE_DB_QIDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum qido_resource {
	QIDO_ALL_STUDIES,            /* /studies */
	QIDO_ALL_SERIES,             /* /series */
	QIDO_ALL_INSTANCES,          /* /instances */
	QIDO_STUDY_SERIES,           /* /studies/{s}/series */
	QIDO_STUDY_INSTANCES,        /* /studies/{s}/instances */
	QIDO_STUDY_SERIES_INSTANCES, /* /studies/{s}/series/{se}/instances */
};

enum qido_level { QIDO_LEVEL_STUDY = 1, QIDO_LEVEL_SERIES = 2, QIDO_LEVEL_INSTANCE = 4 };

enum qido_match { QIDO_EXACT, QIDO_RANGE, QIDO_PN, QIDO_PN_FUZZY, QIDO_ANY_SERIES, QIDO_NUMBER };

/* An extended query tag QIDO may search (status ready). */
struct qido_eqt {
	uint32_t tag;
	int key;
	unsigned level;  /* enum qido_level */
	char vr[3];
	bool enabled;
	bool has_errors;
};

struct qido_filter {
	uint32_t tag;
	enum qido_match match;
	int eqt_key;          /* 0 for the core attributes */
	unsigned eqt_level;
	const char *value;     /* exact, PN */
	const char *lo, *hi;  /* range: either may be NULL */
};

#define QIDO_MAX_FILTERS 32
#define QIDO_MAX_TAGS 128

struct qido_query {
	enum qido_resource resource;
	unsigned levels;       /* the levels the resource returns (enum qido_level bits) */
	const char *study, *series; /* from the path */
	struct qido_filter filters[QIDO_MAX_FILTERS];
	size_t nfilters;
	/* attributes returned: per level, sorted, unique */
	uint32_t tags[3][QIDO_MAX_TAGS];
	size_t ntags[3];
	bool computed_study_instances, computed_series_instances, computed_modalities;
	int64_t limit, offset;
	bool fuzzy;
	/* query keys that name extended query tags with indexing errors */
	const char *erroneous[QIDO_MAX_FILTERS];
	size_t nerroneous;
};

struct db;

/* Runs q in partition; appends the matches as DICOM JSON objects separated
 * by commas to out. Returns the number of matches, or -1. */
long db_qido(struct db *db, const char *partition, const struct qido_query *q, struct buf *out);

#endif
