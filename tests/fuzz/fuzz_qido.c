/* libFuzzer: the QIDO query parser (api/qido_query.c) on any parameters:
 * the input is name=value pairs separated by '&', for each resource; and
 * the workitem search parser (api/workitem_query.c) on the same. */
#include "api/qido_query.h"
#include "api/workitem_query.h"
#include "common/arena.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct arena a;
	struct qido_param params[32];
	size_t np = 0;
	struct qido_query q;
	const char *err;
	/* extended query tags: an AS, a DT and a TM (their own parsers) */
	struct qido_eqt eqt[] = { { 0x00101010, 7, QIDO_LEVEL_STUDY, "AS", true, false },
				  { 0x0008002A, 8, QIDO_LEVEL_INSTANCE, "DT", true, false },
				  { 0x00080032, 9, QIDO_LEVEL_INSTANCE, "TM", true, false } };

	arena_init(&a);
	char *text = arena_strndup(&a, (const char *)d, n);
	for (char *p = text; *p && np < 32;) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		params[np].name = p;
		params[np].value = eq ? eq + 1 : "";
		np++;
		if (!amp)
			break;
		p = amp + 1;
	}
	for (int r = QIDO_ALL_STUDIES; r <= QIDO_STUDY_SERIES_INSTANCES; r++)
		for (int v = 1; v <= 2; v++)
			qido_parse(&a, (enum qido_resource)r, v, r >= QIDO_STUDY_SERIES ? "1.2.3" : NULL,
				   r == QIDO_STUDY_SERIES_INSTANCES ? "1.2.4" : NULL, params, np, eqt, 3, &q, &err);
	struct workitem_query w;
	if (!workitem_query_parse(&a, params, np, &w, &err) && w.n > WORKITEM_MAX_FILTERS)
		__builtin_trap();
	arena_release(&a);
	return 0;
}
