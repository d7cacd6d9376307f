/* QIDO-RS (§5): search studies, series and instances. */
#include "api/app.h"
#include "api/params.h"
#include "api/qido_query.h"
#include "db/eqt.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static int search(struct request *req, enum qido_resource res)
{
	struct qido_param params[64];
	const char *err = NULL;
	struct qido_query q;
	struct buf out;

	long n = param_query_list(req, params, sizeof(params) / sizeof(params[0]));
	if (n < 0)
		return http_error(req, 400, "Invalid query: too many query parameters.");
	/* the extended query tags that are ready */
	struct db_eqt tags[128];
	struct qido_eqt eqts[128];
	long ntags = db_eqt_ready(req->app->db, tags, 128);
	if (ntags < 0)
		return http_error(req, 503, "The server is temporarily unable to read data.");
	for (long i = 0; i < ntags; i++) {
		eqts[i].tag = (uint32_t)strtoul(tags[i].path, NULL, 16);
		eqts[i].key = tags[i].key;
		eqts[i].level = !strcmp(tags[i].level, "study") ? QIDO_LEVEL_STUDY
				: !strcmp(tags[i].level, "series") ? QIDO_LEVEL_SERIES
								   : QIDO_LEVEL_INSTANCE;
		snprintf(eqts[i].vr, sizeof(eqts[i].vr), "%s", tags[i].vr);
		eqts[i].enabled = !strcmp(tags[i].query_status, "enabled");
		eqts[i].has_errors = tags[i].error_count > 0;
	}
	if (qido_parse(&req->arena, res, req->api_major, req->params[PARAM_STUDY], req->params[PARAM_SERIES], params, (size_t)n,
		       eqts, (size_t)ntags, &q, &err))
		return http_error(req, 400, "%s", err);
	if (q.nerroneous) {
		struct buf h;
		buf_init(&h, 0);
		for (size_t i = 0; i < q.nerroneous; i++)
			buf_addf(&h, "%s%s", i ? "," : "", q.erroneous[i]);
		http_add_header(req, "erroneous-dicom-attributes", "%s", buf_str(&h));
		buf_release(&h);
	}
	buf_init(&out, 0);
	buf_addch(&out, '[');
	long found = db_qido(req->app->db, req->partition, &q, &out);
	if (found < 0) {
		buf_release(&out);
		return http_error(req, 503, "The server is temporarily unable to read data.");
	}
	buf_addch(&out, ']');
	int rc = found == 0 ? http_send(req, 204, NULL, "", 0)
			    : http_send(req, 200, "application/dicom+json", out.data, out.len);
	buf_release(&out);
	return rc;
}

int qido_studies(struct request *req) { return search(req, QIDO_ALL_STUDIES); }
int qido_series(struct request *req) { return search(req, QIDO_ALL_SERIES); }
int qido_instances(struct request *req) { return search(req, QIDO_ALL_INSTANCES); }
int qido_study_series(struct request *req) { return search(req, QIDO_STUDY_SERIES); }
int qido_study_instances(struct request *req) { return search(req, QIDO_STUDY_INSTANCES); }
int qido_study_series_instances(struct request *req) { return search(req, QIDO_STUDY_SERIES_INSTANCES); }
