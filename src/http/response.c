#include "http/response.h"
#include "common/util.h"
#include "http/token.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 424: return "Failed Dependency";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void http_set_status(struct request *req, int status)
{
	req->status = status;
}

void http_add_header(struct request *req, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (req->head_sent)
		return;
	buf_addf(&req->out_headers, "%s: ", name);
	size_t from = req->out_headers.len;
	va_start(ap, fmt);
	buf_vaddf(&req->out_headers, fmt, ap);
	va_end(ap);
	/* a value holds no line break or other control byte, whatever a client
	 * put into what it echoes (a workitem's tag, a Host, a UID): a CR LF
	 * there would end the header and start one of the client's choosing */
	util_one_line(req->out_headers.data + from, req->out_headers.len - from);
	buf_adds(&req->out_headers, "\r\n");
}

/* Is origin in the comma-separated allow list? */
static int origin_allowed(const char *list, const char *origin)
{
	size_t olen = strlen(origin), m;
	const char *item;

	while (http_list_next(&list, &item, &m)) {
		if ((m == 1 && *item == '*') || (m == olen && !strncasecmp(item, origin, m)))
			return 1;
		/* "http://localhost:*": that scheme and host on any port (or none) */
		if (m > 2 && item[m - 1] == '*' && item[m - 2] == ':' && olen >= m - 2 &&
		    !strncasecmp(item, origin, m - 2)) {
			const char *port = origin + m - 2;
			if (!*port || (*port == ':' && port[1] && strspn(port + 1, "0123456789") == strlen(port + 1)))
				return 1;
		}
	}
	return 0;
}

static void add_cors(struct request *req, struct buf *h)
{
	const struct http_policy *p = req->policy;
	const char *origin = request_header(req, "Origin");

	if (!p || !origin || !*p->cors_origins || !origin_allowed(p->cors_origins, origin))
		return;
	if (!strcmp(p->cors_origins, "*"))
		buf_adds(h, "Access-Control-Allow-Origin: *\r\n");
	else
		buf_addf(h, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", origin);
	if (!strcmp(req->method, "OPTIONS")) {
		buf_addf(h, "Access-Control-Allow-Methods: %s\r\n", p->cors_methods);
		const char *want = request_header(req, "Access-Control-Request-Headers");
		/* echo what was asked for when every header is allowed */
		if (want && !strcmp(p->cors_headers, "*"))
			buf_addf(h, "Access-Control-Allow-Headers: %s\r\n", want);
		else
			buf_addf(h, "Access-Control-Allow-Headers: %s\r\n", p->cors_headers);
		buf_addf(h, "Access-Control-Max-Age: %ld\r\n", p->cors_max_age);
	} else if (*p->cors_expose) {
		buf_addf(h, "Access-Control-Expose-Headers: %s\r\n", p->cors_expose);
	}
}

int http_send_head(struct request *req)
{
	struct buf h;
	int rc;

	if (req->head_sent)
		return 0;
	buf_init(&h, 0);
	buf_addf(&h, "Status: %d %s\r\n", req->status, http_reason(req->status));
	buf_add(&h, req->out_headers.data, req->out_headers.len);
	add_cors(req, &h);
	buf_adds(&h, "\r\n");
	req->head_sent = true;
	rc = req->io.write(req->io.wctx, h.data, h.len);
	buf_release(&h);
	return rc;
}

int http_write(struct request *req, const void *data, size_t len)
{
	if (!req->head_sent && http_send_head(req))
		return -1;
	if (!len)
		return 0;
	req->bytes_out += len;
	return req->io.write(req->io.wctx, data, len);
}

int http_writes(struct request *req, const char *s)
{
	return http_write(req, s, strlen(s));
}

int http_send(struct request *req, int status, const char *content_type, const void *body, size_t len)
{
	http_set_status(req, status);
	if (content_type)
		http_add_header(req, "Content-Type", "%s", content_type);
	http_add_header(req, "Content-Length", "%zu", len);
	if (http_send_head(req))
		return -1;
	return http_write(req, body, len);
}

int http_error(struct request *req, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (req->head_sent)
		return -1; /* too late: the client sees a truncated body */
	buf_reset(&req->out_headers);
	/* a failure that is not the client's: worth retrying, and when */
	if (status == 503)
		http_add_header(req, "Retry-After", "%d", HTTP_RETRY_AFTER_SECONDS);
	if (!fmt)
		return http_send(req, status, NULL, "", 0);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return http_send(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

void http_add_warning(struct request *req, const char *msg)
{
	const char *host = request_header(req, "Host");
	size_t hl = host ? strcspn(host, ":") : 0, n = strlen(msg);
	const char *more = "";
	/* a long message (a workitem update's thousands of unknown tags) is cut:
	 * lighttpd answers 503 for a backend's header of 64 KiB, Apache's
	 * mod_proxy_fcgi for a line of 8 KiB, when the request was carried out */
	if (n > HTTP_WARNING_MAX) {
		n = HTTP_WARNING_MAX;
		while (n && ((unsigned char)msg[n] & 0xc0) == 0x80) /* not inside a UTF-8 character */
			n--;
		more = "...";
	}
	http_add_header(req, "Warning", "299 %.*s: \"%.*s%s\"", (int)hl, host ? host : "", (int)n, msg, more);
}

int http_json_message(struct request *req, int status, const char *msg)
{
	struct buf b;
	buf_init(&b, 0);
	buf_add_json_str(&b, msg, strlen(msg));
	int rc = http_send(req, status, "application/json; charset=utf-8", b.data, b.len);
	buf_release(&b);
	return rc;
}
