/* QIDO-RS query parsing (§5.2-5.6): which resource, which filters, which
 * attributes to return. Pure C; the SQL lives in src/db/. */
#ifndef ADE_API_QIDO_QUERY_H
#define ADE_API_QIDO_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "db/qido.h"

/* A query parameter as the request gave it, already percent-decoded. */
struct qido_param {
	const char *name, *value;
};

/* Parses params into q. api_major chooses the default attributes. On a
 * client error returns -1 with the service's message in err (arena-owned). */
int qido_parse(struct arena *a, enum qido_resource res, int api_major, const char *study, const char *series,
	       const struct qido_param *params, size_t nparams, const struct qido_eqt *eqts, size_t neqts,
	       struct qido_query *q, const char **err);

/* What includefield asked for. */
struct qido_includes {
	uint32_t tags[QIDO_MAX_TAGS];
	size_t n;
	bool all, other;
};
/* One includefield value, a comma list (the parameter may repeat), into
 * inc: 0, or -1 with the service's message in err. */
int qido_parse_includefield(struct arena *a, const char *value, struct qido_includes *inc, const char **err);

/* A fuzzy person name search's value with a double quote, which the
 * service cannot search for (ParseFuzzyMatchingTagValue): its 400
 * message (arena-owned), or NULL. */
const char *qido_fuzzy_refusal(struct arena *a, const char *keyword, const char *value);

/* s without the spaces and tabs around it (arena-owned). */
const char *qido_trim(struct arena *a, const char *s);

/* Which level a searchable tag belongs to; 0 when it is not searchable. */
unsigned qido_tag_level(uint32_t tag);

#endif
