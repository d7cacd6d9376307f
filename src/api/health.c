/* Health probes: Azure's /health/check and a plain /health. */
#include "config.h"
#include "api/app.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
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

/* The web server's error handler (lighttpd's server.error-handler, Apache's
 * ErrorDocument): an error it made itself (a responder that died
 * mid-request, a request too large, a timeout) comes back as a GET of the
 * original URI with REDIRECT_STATUS set, and goes out in the service's plain
 * text form instead of the server's HTML. A dead responder is not the
 * client's fault: 503, retryable. Returns 0 when the request is not one. */
int health_server_error(struct request *req)
{
	const char *s = request_env(req, "REDIRECT_STATUS");
	int status = s ? atoi(s) : 0;

	if (status < 400 || status > 599)
		return 0;
	switch (status) {
	case 500:
	case 502:
	case 503:
	case 504:
		http_error(req, 503, "The server is temporarily unable to answer; the request can be tried again.");
		break;
	case 400:
		http_error(req, 400, "The request is invalid.");
		break;
	case 408:
		http_error(req, 408, "The request timed out.");
		break;
	case 413:
		http_error(req, 413, "The request exceeded the allowed size.");
		break;
	case 414:
	case 431:
		http_error(req, status, "The request line or its headers are too long.");
		break;
	default:
		http_error(req, status, "The request failed.");
	}
	return 1;
}
