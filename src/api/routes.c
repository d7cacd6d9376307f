/* The route table: the whole HTTP surface of dicom-fcgi at a glance. */
#include "api/app.h"
#include "http/response.h"

#include <strings.h>

#include "common/banned.h"

#define P ROUTE_PARTITIONED
#define J ROUTE_DICOM_JSON
#define MK ROUTE_MAKES_PARTITION

const struct route api_routes[] = {
	{ "GET", "/health/check", health_check, ROUTE_UNVERSIONED },
	{ "GET", "/health", health_simple, ROUTE_UNVERSIONED },
	{ "GET", "/debug/events", debug_events_list, ROUTE_UNVERSIONED },
	{ "DELETE", "/debug/events", debug_events_clear, ROUTE_UNVERSIONED | ROUTE_WRITE },
	{ "GET", "/debug/events/stats", debug_events_stats, ROUTE_UNVERSIONED },
	{ "POST", "/debug/events/replay", debug_events_replay, ROUTE_UNVERSIONED | ROUTE_BODY | ROUTE_WRITE },

	{ "POST", "/studies", stow_handle, ROUTE_BODY | ROUTE_WRITE | P | J | MK },
	/* before /studies/{study}: a literal segment wins over a parameter */
	{ "POST", "/studies/$bulkUpdate", update_studies, ROUTE_BODY | ROUTE_WRITE | P },
	{ "POST", "/studies/{study}", stow_handle, ROUTE_BODY | ROUTE_WRITE | P | J | MK },
	/* upsert: an existing instance is replaced (managed service, v2) */
	{ "PUT", "/studies", stow_handle, ROUTE_BODY | ROUTE_WRITE | P | J | MK | ROUTE_V2 },
	{ "PUT", "/studies/{study}", stow_handle, ROUTE_BODY | ROUTE_WRITE | P | J | MK | ROUTE_V2 },

	{ "GET", "/studies", qido_studies, P | J },
	{ "GET", "/series", qido_series, P | J },
	{ "GET", "/instances", qido_instances, P | J },
	{ "GET", "/studies/{study}/series", qido_study_series, P | J },
	{ "GET", "/studies/{study}/instances", qido_study_instances, P | J },
	{ "GET", "/studies/{study}/series/{series}/instances", qido_study_series_instances, P | J },

	{ "GET", "/studies/{study}", wado_retrieve, P },
	{ "GET", "/studies/{study}/metadata", wado_metadata, P | J },
	{ "GET", "/studies/{study}/series/{series}", wado_retrieve, P },
	{ "GET", "/studies/{study}/series/{series}/metadata", wado_metadata, P | J },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}", wado_retrieve, P },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/metadata", wado_metadata, P | J },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/frames/{frames}", wado_frames, P },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/rendered", wado_rendered_instance, P },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/frames/{frames}/rendered", wado_rendered_frame, P },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/bulkdata/{path*}", wado_bulkdata, P },
	{ "GET", "/studies/{study}/thumbnail", wado_thumbnail, P },
	{ "GET", "/studies/{study}/series/{series}/thumbnail", wado_thumbnail, P },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/thumbnail", wado_thumbnail, P },
	{ "GET", "/studies/{study}/series/{series}/instances/{instance}/frames/{frames}/thumbnail", wado_thumbnail_frame, P },

	{ "POST", "/extendedquerytags", eqt_add, ROUTE_BODY | ROUTE_WRITE },
	{ "GET", "/extendedquerytags", eqt_list, 0 },
	{ "GET", "/extendedquerytags/{tag}", eqt_get, 0 },
	{ "DELETE", "/extendedquerytags/{tag}", eqt_delete, ROUTE_WRITE },
	{ "PATCH", "/extendedquerytags/{tag}", eqt_patch, ROUTE_BODY | ROUTE_WRITE },
	{ "GET", "/extendedquerytags/{tag}/errors", eqt_errors, 0 },
	{ "GET", "/operations/{id}", operation_get, 0 },

	/* UPS-RS: a workitem is made by its create (and its partition with it) */
	{ "POST", "/workitems", workitem_create, ROUTE_BODY | ROUTE_WRITE | P | J | MK },
	{ "GET", "/workitems", workitem_search, P | J },
	{ "GET", "/workitems/{workitem}", workitem_retrieve, P | J },
	{ "POST", "/workitems/{workitem}", workitem_update, ROUTE_BODY | ROUTE_WRITE | P | J },
	{ "PUT", "/workitems/{workitem}/state", workitem_state, ROUTE_BODY | ROUTE_WRITE | P | J },
	{ "POST", "/workitems/{workitem}/cancelrequest", workitem_cancel, ROUTE_BODY | ROUTE_WRITE | P | J },

	{ "GET", "/partitions", partitions_list, 0 },
	{ "POST", "/export", export_start, ROUTE_BODY | ROUTE_WRITE | P },

	{ "GET", "/changefeed", changefeed_list, 0 },
	{ "GET", "/changefeed/latest", changefeed_latest, 0 },

	{ "DELETE", "/studies/{study}", delete_handle, ROUTE_WRITE | P },
	{ "DELETE", "/studies/{study}/series/{series}", delete_handle, ROUTE_WRITE | P },
	{ "DELETE", "/studies/{study}/series/{series}/instances/{instance}", delete_handle, ROUTE_WRITE | P },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

const char *api_service_url(struct request *req)
{
	const char *base = request_base_url(req);
	const char *version = req->api_version, *slash = *version ? "/" : "";
	if (!req->app->policy.partitions)
		return arena_printf(&req->arena, "%s%s%s", base, slash, version);
	return arena_printf(&req->arena, "%s%s%s/partitions/%s", base, slash, version, req->partition);
}

int api_not_found(struct request *req)
{
	/* named by the level asked for, not the level missing: retrieve
	 * (InstanceStoreExtensions) and delete (SqlIndexDataStore) alike */
	if (req->params[PARAM_INSTANCE])
		return http_error(req, 404, "The specified instance cannot be found.");
	if (req->params[PARAM_SERIES])
		return http_error(req, 404, "The specified series cannot be found.");
	return http_error(req, 404, "The specified study cannot be found.");
}

bool api_request_original(struct request *req)
{
	const char *v = request_header(req, "msdicom-request-original");
	return v && !strcasecmp(v, "true");
}
