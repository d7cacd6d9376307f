#include "relay/azure_storage.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/banned.h"

#define DEVSTORE_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

/* Value of key in a "K=V;K=V" connection string (caller frees), or NULL. */
static char *cs_get(const char *cs, const char *key)
{
	size_t kl = strlen(key);
	const char *p = cs;
	while (*p) {
		size_t n = strcspn(p, ";");
		if (n > kl && !strncasecmp(p, key, kl) && p[kl] == '=')
			return xstrndup(p + kl + 1, n - kl - 1);
		p += n;
		if (*p == ';')
			p++;
	}
	return NULL;
}

/* The endpoint without trailing slashes, and its path. */
static void set_endpoint(struct az_account *a, char *endpoint)
{
	a->endpoint = endpoint;
	size_t el = strlen(a->endpoint);
	while (el && a->endpoint[el - 1] == '/')
		a->endpoint[--el] = '\0';
	const char *scheme_end = strstr(a->endpoint, "://");
	const char *path = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	a->base_path = xstrdup(path ? path : "");
}

static int set_key(struct az_account *a, const char *key, char *err, size_t errlen)
{
	/* base64 gives 3 bytes for 4: a longer key would overrun a->key */
	size_t kl = strlen(key);
	if ((kl + 3) / 4 * 3 > sizeof(a->key)) {
		snprintf(err, errlen, "AccountKey is longer than %zu bytes", sizeof(a->key));
		return -1;
	}
	a->keylen = EVP_DecodeBlock(a->key, (const unsigned char *)key, (int)kl);
	if (a->keylen <= 0) {
		snprintf(err, errlen, "AccountKey is not base64");
		a->keylen = 0;
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as data */
	if (kl >= 1 && key[kl - 1] == '=')
		a->keylen--;
	if (kl >= 2 && key[kl - 2] == '=')
		a->keylen--;
	return 0;
}

int az_account_parse(struct az_account *a, const char *cs, const char *service, char *err, size_t errlen)
{
	char *dev = cs_get(cs, "UseDevelopmentStorage");
	char *key = NULL, *proto = NULL, *suffix = NULL, *endpoint;
	char name[32];
	int rc = -1;

	memset(a, 0, sizeof(*a));
	snprintf(name, sizeof(name), "%sEndpoint", !strcmp(service, "blob") ? "Blob" : "Queue");
	if (dev && !strcasecmp(dev, "true")) {
		a->account = xstrdup("devstoreaccount1");
		key = xstrdup(DEVSTORE_KEY);
		endpoint = xstrdup(!strcmp(service, "blob") ? "http://127.0.0.1:10000/devstoreaccount1"
							    : "http://127.0.0.1:10001/devstoreaccount1");
	} else {
		a->account = cs_get(cs, "AccountName");
		key = cs_get(cs, "AccountKey");
		endpoint = cs_get(cs, name);
		if (!a->account || !key) {
			free(endpoint);
			snprintf(err, errlen, "the connection string needs AccountName and AccountKey (or UseDevelopmentStorage=true)");
			goto out;
		}
		if (!endpoint) {
			proto = cs_get(cs, "DefaultEndpointsProtocol");
			suffix = cs_get(cs, "EndpointSuffix");
			size_t n = strlen(a->account) + 64 + (suffix ? strlen(suffix) : 0);
			endpoint = xmalloc(n);
			snprintf(endpoint, n, "%s://%s.%s.%s", proto ? proto : "https", a->account, service,
				 suffix ? suffix : "core.windows.net");
		}
	}
	set_endpoint(a, endpoint);
	rc = set_key(a, key, err, errlen);
out:
	free(dev);
	free(key);
	free(proto);
	free(suffix);
	return rc;
}

int az_account_from_url(struct az_account *a, const char *url, char **container, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	*container = NULL;
	const char *q = strchr(url, '?');
	const char *scheme_end = strstr(url, "://");
	const char *path = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	if (!scheme_end || (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) || !path || (q && q < path)) {
		snprintf(err, errlen, "blobContainerUri is not an http(s) URL of a container");
		return -1;
	}
	size_t plen = q ? (size_t)(q - path) : strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	const char *last = path + plen;
	while (last > path && last[-1] != '/')
		last--;
	if (last == path + plen) {
		snprintf(err, errlen, "blobContainerUri names no container");
		return -1;
	}
	*container = xstrndup(last, (size_t)(path + plen - last));
	/* the endpoint: everything before the container segment */
	set_endpoint(a, xstrndup(url, (size_t)(last - url)));
	a->account = xstrdup("");
	a->sas = q && q[1] ? xstrdup(q + 1) : NULL;
	return 0;
}

void az_account_release(struct az_account *a)
{
	free(a->account);
	free(a->endpoint);
	free(a->base_path);
	free(a->sas);
	memset(a, 0, sizeof(*a));
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Authorization: SharedKey account:base64(HMAC-SHA256(key, string-to-sign)) */
static void sign(const struct az_account *a, const struct az_request *r, const char *const *xms, size_t nxms,
		 char *out, size_t outlen)
{
	struct buf s;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	unsigned char b64[128];

	buf_init(&s, 0);
	buf_addf(&s, "%s\n\n\n", r->verb); /* Content-Encoding, Content-Language: never sent */
	if (r->len)
		buf_addf(&s, "%zu", r->len); /* a zero length is signed as empty */
	buf_addf(&s, "\n\n%s\n\n\n\n\n\n\n", r->content_type ? r->content_type : "");
	for (size_t i = 0; i < nxms; i++)
		buf_addf(&s, "%s\n", xms[i]);
	/* path-style endpoints (Azurite) keep the account in the path too */
	buf_addf(&s, "/%s%s", a->account, r->path);
	for (const char *p = r->query; p && *p;) {
		size_t n = strcspn(p, "&"), eq = strcspn(p, "=");
		if (eq > n)
			eq = n;
		buf_addf(&s, "\n%.*s:%.*s", (int)eq, p, eq < n ? (int)(n - eq - 1) : 0, eq < n ? p + eq + 1 : "");
		p += n;
		if (*p == '&')
			p++;
	}
	HMAC(EVP_sha256(), a->key, a->keylen, (const unsigned char *)s.data, s.len, mac, &maclen);
	EVP_EncodeBlock(b64, mac, (int)maclen);
	snprintf(out, outlen, "Authorization: SharedKey %s:%s", a->account, b64);
	buf_release(&s);
}

struct reply {
	char *p;
	size_t n, len;
};

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	struct reply *rp = ud;
	size_t k = size * n;
	if (rp->p && rp->len + 1 < rp->n) {
		size_t take = k < rp->n - rp->len - 1 ? k : rp->n - rp->len - 1;
		memcpy(rp->p + rp->len, p, take);
		rp->len += take;
		rp->p[rp->len] = '\0';
	}
	return k;
}

long az_send(const struct az_account *a, const struct az_request *r, char *err, size_t errlen, char *reply,
	     size_t replylen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char date[64], auth[256], line[128];
	const char *xms[16];
	size_t nxms = 0;
	time_t t = time(NULL);
	struct tm tm;
	long status = 0;
	struct reply rp = { reply, replylen, 0 };

	if (reply && replylen)
		reply[0] = '\0';
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(line, sizeof(line), "x-ms-date:%s", date);
	xms[nxms++] = line;
	xms[nxms++] = "x-ms-version:" AZ_API_VERSION;
	for (size_t i = 0; r->headers && r->headers[i] && nxms < 16; i++)
		xms[nxms++] = r->headers[i];
	qsort(xms, nxms, sizeof(*xms), cmp_str);
	for (size_t i = 0; i < nxms; i++)
		h = curl_slist_append(h, xms[i]);
	if (a->keylen) {
		sign(a, r, xms, nxms, auth, sizeof(auth));
		h = curl_slist_append(h, auth);
	}
	char ct[160];
	snprintf(ct, sizeof(ct), "Content-Type:%s%s", r->content_type ? " " : "", r->content_type ? r->content_type : "");
	h = curl_slist_append(h, ct);
	h = curl_slist_append(h, "Expect:");

	/* the endpoint already holds the base path; path is the whole request path */
	const char *scheme_end = strstr(a->endpoint, "://");
	const char *host_end = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	int origin_len = host_end ? (int)(host_end - a->endpoint) : (int)strlen(a->endpoint);
	struct buf url;
	buf_init(&url, 0);
	buf_addf(&url, "%.*s%s", origin_len, a->endpoint, r->path);
	if (r->query || a->sas)
		buf_addf(&url, "?%s%s%s", r->query ? r->query : "", r->query && a->sas ? "&" : "", a->sas ? a->sas : "");
	curl_easy_setopt(c, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->verb);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (!strcmp(r->verb, "GET") || !strcmp(r->verb, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->len ? r->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT, r->timeout_seconds > 0 ? r->timeout_seconds : 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rp);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	} else {
		snprintf(err, errlen, "%s", rc == CURLE_OPERATION_TIMEDOUT ? "TimedOut" : "SocketError");
		log_warn("azure storage %s %s failed: %s", r->verb, r->path, curl_easy_strerror(rc));
	}
	buf_release(&url);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}
