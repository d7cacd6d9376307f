/* DELETE of a study, series or instance (§6): one transaction writes the
 * change feed and outbox rows; files go after the commit. */
#include "api/app.h"
#include "common/log.h"
#include "http/response.h"

#include <stdlib.h>

#include "common/banned.h"

int delete_handle(struct request *req)
{
	struct app *app = req->app;
	const char *study = req->params[PARAM_STUDY], *series = req->params[PARAM_SERIES],
		   *sop = req->params[PARAM_INSTANCE];
	int64_t *wms;
	size_t n;

	if (db_delete(app->db, req->partition, study, series, sop, app->cfg.events_service_host, app->cfg.events_topic,
		      &wms, &n))
		return http_error(req, 503, "The server is temporarily unable to delete data.");
	if (n == 0) {
		free(wms);
		return api_not_found(req);
	}
	for (size_t i = 0; i < n; i++)
		store_remove(&app->store, wms[i]);
	log_info("deleted instances=%zu study='%s'", n, study);
	free(wms);
	return http_send(req, 204, NULL, "", 0);
}
