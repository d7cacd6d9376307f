#include "http/request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t http_percent_decode(const char *src, size_t len, char *dst, bool plus_is_space)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = src[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= len)
				return -1;
			h = hexval((unsigned char)src[i + 1]);
			l = hexval((unsigned char)src[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			dst[o++] = (char)(h * 16 + l);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			dst[o++] = ' ';
		} else {
			dst[o++] = c;
		}
	}
	dst[o] = '\0';
	return (ssize_t)o;
}

void request_init(struct request *req, struct app *app, const struct http_policy *policy, char **envp,
		  struct http_io io)
{
	const char *cl;

	memset(req, 0, sizeof(*req));
	req->app = app;
	req->policy = policy;
	req->envp = envp;
	req->io = io;
	arena_init(&req->arena);
	buf_init(&req->out_headers, 0);
	req->method = request_env(req, "REQUEST_METHOD");
	if (!req->method)
		req->method = "GET";
	cl = request_env(req, "CONTENT_LENGTH");
	req->content_length = (cl && *cl) ? strtoll(cl, NULL, 10) : -1;
	req->query = "";
	req->status = 200;
}

void request_release(struct request *req)
{
	arena_release(&req->arena);
	buf_release(&req->out_headers);
}

const char *request_env(const struct request *req, const char *name)
{
	size_t n = strlen(name);

	for (char **e = req->envp; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

const char *request_header(const struct request *req, const char *name)
{
	char var[128] = "HTTP_";
	size_t i, o = 5;

	if (!strcasecmp(name, "Content-Type"))
		return request_env(req, "CONTENT_TYPE");
	if (!strcasecmp(name, "Content-Length"))
		return request_env(req, "CONTENT_LENGTH");
	for (i = 0; name[i] && o < sizeof(var) - 1; i++)
		var[o++] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	var[o] = '\0';
	return request_env(req, var);
}

int request_query_next(struct request *req, const char **cursor, const char **name, const char **value)
{
	const char *p = *cursor ? *cursor : req->query;

	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		*cursor = amp ? amp + 1 : p + len;
		if (len == 0) {
			p = *cursor;
			continue;
		}
		char *n = arena_alloc(&req->arena, nlen + 1);
		char *v = arena_alloc(&req->arena, len - nlen + 1);
		if (http_percent_decode(p, nlen, n, true) < 0)
			memcpy(n, p, nlen), n[nlen] = '\0';
		if (eq) {
			if (http_percent_decode(eq + 1, len - nlen - 1, v, true) < 0)
				memcpy(v, eq + 1, len - nlen - 1), v[len - nlen - 1] = '\0';
		} else {
			v[0] = '\0';
		}
		*name = n;
		*value = v;
		return 1;
	}
	*cursor = p;
	return 0;
}

const char *request_query(const struct request *req, const char *name)
{
	const char *cur = NULL, *n, *v;

	while (request_query_next((struct request *)req, &cur, &n, &v))
		if (!strcasecmp(n, name))
			return v;
	return NULL;
}

/* First value of a comma-separated forwarded header, trimmed (arena-owned);
 * NULL when absent or when it holds anything but the characters allowed
 * (the value is written into URLs inside JSON and headers). */
static const char *first_forwarded(struct request *req, const char *header, const char *allowed)
{
	const char *v = request_header(req, header);
	size_t n;

	if (!v)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn(v, ",");
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!n || strspn(v, allowed) < n)
		return NULL;
	return arena_strndup(&req->arena, v, n);
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define HOST_CHARS ALNUM ".-:[]_"
#define PATH_CHARS ALNUM ".-_~/%"

/* A Host header as it may stand in a URL; else NULL. */
static const char *plain_host(const char *h)
{
	return h && *h && strspn(h, HOST_CHARS) == strlen(h) ? h : NULL;
}

const char *request_base_url(struct request *req)
{
	const char *proto = first_forwarded(req, "X-Forwarded-Proto", ALNUM);
	const char *host = first_forwarded(req, "X-Forwarded-Host", HOST_CHARS);
	const char *prefix = first_forwarded(req, "X-Forwarded-Prefix", PATH_CHARS);
	const char *https = request_env(req, "HTTPS");
	const char *base;

	if (!proto)
		proto = (https && (!strcasecmp(https, "on") || !strcmp(https, "1"))) ? "https" : "http";
	if (!host)
		host = plain_host(request_header(req, "Host"));
	if (!host) {
		const char *name = request_env(req, "SERVER_NAME");
		const char *port = request_env(req, "SERVER_PORT");
		host = arena_printf(&req->arena, "%s%s%s", name ? name : "localhost", port ? ":" : "",
				    port ? port : "");
	}
	if (prefix) {
		size_t n = strlen(prefix);
		while (n && prefix[n - 1] == '/')
			n--;
		prefix = arena_strndup(&req->arena, prefix, n);
		if (*prefix && *prefix != '/')
			prefix = arena_printf(&req->arena, "/%s", prefix);
	} else {
		prefix = "";
	}
	base = req->policy ? req->policy->base_path : "";
	return arena_printf(&req->arena, "%s://%s%s%s", proto, host, prefix, base);
}
