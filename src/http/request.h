/* One HTTP request as the responder sees it, and its response state. */
#ifndef ADE_HTTP_REQUEST_H
#define ADE_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/arena.h"
#include "common/buf.h"

struct app;

struct request;

/* Settings the HTTP layer needs from the configuration (borrowed). */
struct http_policy {
	const char *base_path;        /* configured mount point, "" for none */
	const char *cors_origins;     /* "*" or a comma list ("http://localhost:*": any port); "" = CORS off */
	const char *cors_methods;
	const char *cors_headers;
	const char *cors_expose;
	long cors_max_age;
	bool partitions;               /* data partitions enabled */
	const char *allowed_hosts;    /* Host names answered (and loopback ones); NULL or "" = any */
	/* with partitions: does the named one exist (1, 0, -1 error)? NULL: any does */
	int (*partition_exists)(void *ctx, const char *name);
	void *partition_ctx;
	/* authentication: 0 to go on, else the answer (401, 403) is sent;
	 * read_only for GET and HEAD. NULL: every request goes on. */
	int (*authorize)(void *ctx, struct request *req, bool read_only);
	void *auth_ctx;
};

/* Where the body comes from and where the response goes: FastCGI streams in
 * production, memory in unit tests. */
struct http_io {
	void *rctx;
	/* Reads up to n bytes; returns the count, 0 at end of body, -1 on error. */
	ssize_t (*read)(void *rctx, void *dst, size_t n);
	void *wctx;
	/* Writes all n bytes; returns 0, or -1 when the client is gone. */
	int (*write)(void *wctx, const void *src, size_t n);
};

enum { PARAM_STUDY, PARAM_SERIES, PARAM_INSTANCE, PARAM_FRAMES, PARAM_TAG, PARAM_ID, PARAM_PATH, PARAM_WORKITEM, PARAM_MAX };

struct request {
	struct app *app;
	struct arena arena;
	struct http_io io;
	char **envp;               /* borrowed until the request finishes */

	const struct http_policy *policy; /* borrowed, may be NULL */
	const char *method;
	const char *path;          /* decoded path, base path and prefixes removed */
	const char *query;         /* raw query string, "" when none */
	int64_t content_length;    /* -1 when not given */

	/* Filled in by the router */
	int api_major;             /* 1 or 2; 0 = unversioned route */
	const char *api_version;   /* "v1", "v1.0-prerelease", "v2" or "" */
	const char *partition;     /* partition name or NULL */
	const char *params[PARAM_MAX];

	/* response state */
	int status;
	bool head_sent;
	struct buf out_headers;
	uint64_t bytes_out;
	char request_id[40];
};

/* Prepares req from a CGI environment. Returns 0. */
void request_init(struct request *req, struct app *app, const struct http_policy *policy, char **envp,
		  struct http_io io);
void request_release(struct request *req);

/* CGI variable, or NULL (borrowed until the request finishes). */
const char *request_env(const struct request *req, const char *name);
/* Request header by its HTTP name, e.g. "Content-Type"; NULL if absent. */
const char *request_header(const struct request *req, const char *name);
/* Query parameter value, percent-decoded (arena-owned); NULL if absent.
 * Names compare case-insensitively, as the service does. */
const char *request_query(const struct request *req, const char *name);

/* Iterates the query: returns 1 with name/value (arena-owned, decoded) or 0 at end. */
int request_query_next(struct request *req, const char **cursor, const char **name, const char **value);

/* "scheme://host[:port]prefix" as the client sees the service (arena-owned),
 * honouring X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix. */
const char *request_base_url(struct request *req);

/* Percent-decodes into dst (at least len+1 bytes); returns the decoded length,
 * or -1 on a bad escape or an encoded NUL. */
ssize_t http_percent_decode(const char *src, size_t len, char *dst, bool plus_is_space);

#endif
