/* What lives for the whole process: configuration, database, store. */
#ifndef ADE_API_APP_H
#define ADE_API_APP_H

#include <stddef.h>

#include "common/config.h"
#include "db/db.h"
#include "dicom/sandbox.h"
#include "http/sendfile.h"
#include "http/request.h"
#include "http/router.h"
#include "store/store.h"

/* Everything a responder keeps between requests lives here, built once
 * before the accept loop: no other process-wide state. */
struct app {
	struct config cfg;
	struct db *db;
	struct store store;
	struct http_policy policy;
	struct sandbox sandbox;          /* isolated decoding, the kept probe child */
	struct sendfile_framing framing; /* X-Sendfile2 multipart framing files */
	char *chunk;                     /* APP_CHUNK bytes for streaming files out */
};

#define APP_CHUNK (256 * 1024)

extern const struct route api_routes[];
extern const size_t api_nroutes;

/* Handlers, one file per API area */
int stow_handle(struct request *req);
/* Before a responder's first request: its kept children started and run
 * once, and the statements of a store and a lookup run in a transaction
 * rolled back (api/warm.c). 0, or -1 with a reason. */
int api_warm(struct app *app, char *err, size_t errlen);
/* POST /v2/studies/$bulkUpdate: starts an update operation (api/update.c) */
int update_studies(struct request *req);
/* UPS-RS workitems (api/workitem.c) */
int workitem_create(struct request *req);
int workitem_retrieve(struct request *req);
int workitem_update(struct request *req);
int workitem_state(struct request *req);
int workitem_cancel(struct request *req);
int workitem_search(struct request *req);
/* POST /v{n}/export: starts an export operation (api/export.c) */
int export_start(struct request *req);
/* GET /v{n}/partitions; and for the router, whether a partition exists
 * (1, 0, -1), ctx the struct app (api/partitions.c) */
int partitions_list(struct request *req);
int api_partition_exists(void *ctx, const char *name);
/* [auth] (api/auth.c): the keys loaded at start (0, or -1 logged); the
 * router's check of a request's bearer token (0 allowed, else the 401 or
 * 403 sent and returned), ctx the struct app; and --mint-token. */
int api_auth_init(struct app *app);
int api_authorize(void *ctx, struct request *req, bool read_only);
struct mint_options {
	const char *roles[8];
	size_t nroles;
	long minutes;            /* lifetime; negative: expired already */
	long not_before_minutes; /* nbf from now */
	const char *audience, *issuer, *key;
};
int api_mint_token(const struct config *cfg, const struct mint_options *m);
/* msdicom-request-original: true (retrieve and metadata): an updated
 * instance's original version is asked for. */
bool api_request_original(struct request *req);
int wado_retrieve(struct request *req);
int wado_metadata(struct request *req);
int wado_frames(struct request *req);
int wado_bulkdata(struct request *req);
int wado_rendered_instance(struct request *req);
int wado_rendered_frame(struct request *req);
int wado_thumbnail(struct request *req);
int wado_thumbnail_frame(struct request *req);
int delete_handle(struct request *req);
int qido_studies(struct request *req);
int qido_series(struct request *req);
int qido_instances(struct request *req);
int qido_study_series(struct request *req);
int qido_study_instances(struct request *req);
int qido_study_series_instances(struct request *req);
int changefeed_list(struct request *req);
int changefeed_latest(struct request *req);
int eqt_add(struct request *req);
int eqt_list(struct request *req);
int eqt_get(struct request *req);
int eqt_delete(struct request *req);
int eqt_patch(struct request *req);
int eqt_errors(struct request *req);
int operation_get(struct request *req);
int debug_events_list(struct request *req);
int debug_events_stats(struct request *req);
int debug_events_clear(struct request *req);
int debug_events_replay(struct request *req);
int health_check(struct request *req);
int health_simple(struct request *req);
int health_server_error(struct request *req);

/* 404 with the service's message for the level the path asks for. */
int api_not_found(struct request *req);
/* The URL the request's resources live under: scheme, host, base path,
 * version and partition ("http://host/v2", ".../v2/partitions/p"). */
const char *api_service_url(struct request *req);
/* Where the frames of an instance's stored file (at path) are,
 * "offset:length,...;..." per frame (malloc'ed into *ranges): computed once
 * and kept in the index.
 * Returns the number of frames (0: no pixel data), or -1 when the file's
 * frames cannot be located as stored (big endian, deflated). */
long api_stored_ranges(struct app *app, const struct db_instance_ref *it, const char *path, char **ranges);
/* The stored file of an instance, open for reading (caller closes with
 * store_close); NULL with a 500 answered and logged when it is missing. */
struct store_reader *api_open_file(struct request *req, const struct db_instance_ref *it);
/* Byte ranges of a file. */
struct range {
	int64_t off, len;
};
/* The ranges of frame n (1-based) of such a string, in the request's
 * arena, with their total length; 0 when there is no such frame. */
size_t api_frame_ranges(struct request *req, const char *all, long n, struct range **out, uint64_t *len);

#endif
