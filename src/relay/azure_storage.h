/* Azure Storage REST over libcurl, for the queue provider and export to
 * blobs: accounts from connection strings, Shared Key signing (the
 * canonical x-ms-* headers and query parameters of the 2021-08-06 API),
 * or a SAS token instead; path-style endpoints (Azurite) and Azure's. */
#ifndef ADE_RELAY_AZURE_STORAGE_H
#define ADE_RELAY_AZURE_STORAGE_H

#include <stddef.h>

#define AZ_API_VERSION "2021-08-06"

struct az_account {
	char *account;
	unsigned char key[128];
	int keylen;      /* 0: no key (a SAS token signs instead) */
	char *endpoint;  /* e.g. http://127.0.0.1:10001/devstoreaccount1 (no trailing slash) */
	char *base_path; /* the endpoint's path ("" or "/devstoreaccount1") */
	char *sas;       /* a SAS token's query (no '?'), or NULL */
};

/* From a "K=V;K=V" connection string, for service "queue" or "blob" (its
 * QueueEndpoint / BlobEndpoint, else the default one). 0, or -1 with why. */
int az_account_parse(struct az_account *a, const char *connection_string, const char *service, char *err,
		     size_t errlen);
/* From a container URL with a SAS token in its query: the account is the
 * URL's origin (and path base), *container its last path segment (caller
 * frees). 0, or -1 with why. */
int az_account_from_url(struct az_account *a, const char *url, char **container, char *err, size_t errlen);
void az_account_release(struct az_account *a);

/* One request. path: the whole path from the account's base path on
 * ("/queue/messages"); query: its canonical parameters, "name=value"
 * joined by '&' in name order, or NULL; headers: more x-ms-* headers as
 * "x-ms-name:value", in name order (NULL-terminated), or NULL. */
struct az_request {
	const char *verb, *path, *query;
	const char *const *headers;
	const char *content_type;
	const void *body;
	size_t len;
	long timeout_seconds;
};

/* Sends it; returns the HTTP status, or 0 on a transport error (err says
 * which: "TimedOut" or "SocketError"). The answer's first bytes go to
 * reply when given. */
long az_send(const struct az_account *a, const struct az_request *r, char *err, size_t errlen, char *reply,
	     size_t replylen);

#endif
