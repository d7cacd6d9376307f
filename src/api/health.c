/* Health probes: Azure's /health/check and a plain /health. */
#include "config.h"
#include "api/app.h"
#include "http/response.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

int health_check(struct request *req)
{
	int ok = db_ping(req->app->db) == 0;
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"overallStatus\":\"%s\",\"details\":[{\"name\":\"DicomDataStore\",\"status\":\"%s\","
		 "\"description\":\"%s\"}]}",
		 ok ? "Healthy" : "Unhealthy", ok ? "Healthy" : "Unhealthy",
		 ok ? "Successfully connected to the data store." : "Failed to connect to the data store.");
	return http_send(req, ok ? 200 : 503, "application/json; charset=utf-8", body, strlen(body));
}

int health_simple(struct request *req)
{
	char ver[32] = "";
	int ok = db_ping(req->app->db) == 0;
	char body[256];

	if (ok)
		db_server_version(req->app->db, ver, sizeof(ver));
	snprintf(body, sizeof(body), "{\"status\":\"%s\",\"database\":{\"status\":\"%s\",\"version\":\"%s\"},"
		 "\"version\":\"%s\"}",
		 ok ? "healthy" : "unhealthy", ok ? "ok" : "unavailable", ver, PACKAGE_VERSION);
	return http_send(req, ok ? 200 : 503, "application/json", body, strlen(body));
}
