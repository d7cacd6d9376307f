/* Writing responses: status, headers, body; and the one error writer. */
#ifndef ADE_HTTP_RESPONSE_H
#define ADE_HTTP_RESPONSE_H

#include <stddef.h>

#include "http/request.h"

const char *http_reason(int status);
void http_set_status(struct request *req, int status);
/* Adds a response header; ignored once the head is sent. */
void http_add_header(struct request *req, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sends status line and headers (with CORS headers when the request has an
 * allowed Origin). Returns 0 or -1 when the client is gone. */
int http_send_head(struct request *req);
int http_write(struct request *req, const void *data, size_t len);
int http_writes(struct request *req, const char *s);
/* A whole response with a body in one call. */
int http_send(struct request *req, int status, const char *content_type, const void *body, size_t len);
/* The Retry-After of every 503. */
#define HTTP_RETRY_AFTER_SECONDS 5

/* The one error writer: status with the service's plain-text message body
 * (NULL fmt: empty body, as the service answers 406 from its Accept filter). */
int http_error(struct request *req, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The service's Warning header: 299 {host}: "{msg}" (added to the answer);
 * a msg longer than HTTP_WARNING_MAX bytes is cut there, with "...". */
#define HTTP_WARNING_MAX 4096
void http_add_warning(struct request *req, const char *msg);

/* An answer whose body is msg as a JSON string, as the service's
 * StatusCode(status, message) writes it. */
int http_json_message(struct request *req, int status, const char *msg);

#endif
