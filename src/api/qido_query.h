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

/* Which level a searchable tag belongs to; 0 when it is not searchable. */
unsigned qido_tag_level(uint32_t tag);

#endif
