/* Azure Storage Queue: Put Message over HTTP(S) with Shared Key signing,
 * the queue created at start-up when missing (201 or 204), messages base64
 * (as Event Grid writes them) or XML-escaped text. Works against Azurite's
 * path-style URLs and against Azure. */
#include "relay/provider.h"
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

#define QUEUE_API_VERSION "2021-08-06"
#define DEVSTORE_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

struct queue_state {
	char *account;
	unsigned char key[128];
	int keylen;
	char *endpoint;   /* e.g. http://127.0.0.1:10001/devstoreaccount1 (no trailing slash) */
	char *base_path;  /* the endpoint's path ("" or "/devstoreaccount1") */
	int created;
};

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

static int parse_connection_string(struct queue_state *q, const char *cs, char *err, size_t errlen)
{
	char *dev = cs_get(cs, "UseDevelopmentStorage");
	char *key = NULL, *proto = NULL, *suffix = NULL;
	int rc = -1;

	if (dev && !strcasecmp(dev, "true")) {
		q->account = xstrdup("devstoreaccount1");
		key = xstrdup(DEVSTORE_KEY);
		q->endpoint = xstrdup("http://127.0.0.1:10001/devstoreaccount1");
	} else {
		q->account = cs_get(cs, "AccountName");
		key = cs_get(cs, "AccountKey");
		q->endpoint = cs_get(cs, "QueueEndpoint");
		if (!q->account || !key) {
			snprintf(err, errlen, "connection_string: needs AccountName and AccountKey (or UseDevelopmentStorage=true)");
			goto out;
		}
		if (!q->endpoint) {
			proto = cs_get(cs, "DefaultEndpointsProtocol");
			suffix = cs_get(cs, "EndpointSuffix");
			size_t n = strlen(q->account) + 64 + (suffix ? strlen(suffix) : 0);
			q->endpoint = xmalloc(n);
			snprintf(q->endpoint, n, "%s://%s.queue.%s", proto ? proto : "https", q->account,
				 suffix ? suffix : "core.windows.net");
		}
	}
	size_t el = strlen(q->endpoint);
	while (el && q->endpoint[el - 1] == '/')
		q->endpoint[--el] = '\0';
	const char *scheme_end = strstr(q->endpoint, "://");
	const char *path = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	q->base_path = xstrdup(path ? path : "");
	/* base64 gives 3 bytes for 4: a longer key would overrun q->key */
	if ((strlen(key) + 3) / 4 * 3 > sizeof(q->key)) {
		snprintf(err, errlen, "connection_string: AccountKey is longer than %zu bytes", sizeof(q->key));
		goto out;
	}
	q->keylen = EVP_DecodeBlock(q->key, (const unsigned char *)key, (int)strlen(key));
	if (q->keylen <= 0) {
		snprintf(err, errlen, "connection_string: AccountKey is not base64");
		goto out;
	}
	/* EVP_DecodeBlock counts the padding as data */
	size_t kl = strlen(key);
	if (kl >= 1 && key[kl - 1] == '=')
		q->keylen--;
	if (kl >= 2 && key[kl - 2] == '=')
		q->keylen--;
	rc = 0;
out:
	free(dev);
	free(key);
	free(proto);
	free(suffix);
	return rc;
}

/* Authorization: SharedKey account:base64(HMAC-SHA256(key, string-to-sign)) */
static void sign(struct queue_state *q, const char *verb, size_t content_length, const char *content_type,
		 const char *date, const char *path, const char *query_ttl, char *out, size_t outlen)
{
	struct buf s;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	unsigned char b64[128];

	buf_init(&s, 0);
	buf_addf(&s, "%s\n\n\n", verb); /* Content-Encoding, Content-Language: never sent */
	if (content_length)
		buf_addf(&s, "%zu", content_length); /* a zero length is signed as empty */
	buf_addf(&s, "\n\n%s\n\n\n\n\n\n\n", content_type ? content_type : "");
	buf_addf(&s, "x-ms-date:%s\nx-ms-version:%s\n", date, QUEUE_API_VERSION);
	/* path-style endpoints (Azurite) keep the account in the path too */
	buf_addf(&s, "/%s%s", q->account, path);
	if (query_ttl)
		buf_addf(&s, "\nmessagettl:%s", query_ttl);
	HMAC(EVP_sha256(), q->key, q->keylen, (const unsigned char *)s.data, s.len, mac, &maclen);
	EVP_EncodeBlock(b64, mac, (int)maclen);
	snprintf(out, outlen, "Authorization: SharedKey %s:%s", q->account, b64);
	buf_release(&s);
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	if (b->len < 8192)
		buf_add(b, p, size * n);
	return size * n;
}

/* One signed request; returns the HTTP status or 0 on a transport error. */
static long request(struct subscription *s, const char *verb, const char *path, const char *query_ttl,
		    const char *body, size_t len, char *text, size_t textlen)
{
	struct queue_state *q = s->state;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char date[64], auth[256], line[128], url[2048];
	struct buf resp;
	time_t t = time(NULL);
	struct tm tm;
	long status = 0;

	buf_init(&resp, 0);
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	sign(q, verb, len, len ? "application/xml" : NULL, date, path, query_ttl, auth, sizeof(auth));
	snprintf(line, sizeof(line), "x-ms-date: %s", date);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "x-ms-version: " QUEUE_API_VERSION);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, len ? "Content-Type: application/xml" : "Content-Type:");
	h = curl_slist_append(h, "Expect:");
	/* the endpoint already holds the base path; path is the whole request path */
	const char *scheme_end = strstr(q->endpoint, "://");
	const char *host_end = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	int origin_len = host_end ? (int)(host_end - q->endpoint) : (int)strlen(q->endpoint);
	snprintf(url, sizeof(url), "%.*s%s%s%s", origin_len, q->endpoint, path, query_ttl ? "?messagettl=" : "",
		 query_ttl ? query_ttl : "");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, verb);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (!strcmp(verb, "PUT") && !len) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->timeout_seconds);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 300)
			log_warn("queue subscription='%s' %s %s: HTTP %ld %.200s", s->name, verb, path, status, buf_str(&resp));
	} else {
		snprintf(text, textlen, "%s", rc == CURLE_OPERATION_TIMEDOUT ? "TimedOut" : "SocketError");
		log_warn("queue subscription='%s' %s %s failed: %s", s->name, verb, path, curl_easy_strerror(rc));
	}
	buf_release(&resp);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static int create_queue(struct subscription *s)
{
	struct queue_state *q = s->state;
	char path[1024], text[32] = "";
	snprintf(path, sizeof(path), "%s/%s", q->base_path, s->queue_name);
	long st = request(s, "PUT", path, NULL, NULL, 0, text, sizeof(text));
	q->created = st == 201 || st == 204;
	return q->created ? 0 : -1;
}

static int open_queue(struct subscription *s, char *err, size_t errlen)
{
	struct queue_state *q = xcalloc(1, sizeof(*q));
	char why[256];

	s->state = q;
	if (parse_connection_string(q, s->connection_string, why, sizeof(why))) {
		snprintf(err, errlen, "[subscription:%s] %s", s->name, why);
		return -1;
	}
	/* a queue service that is not up yet is retried with the first delivery */
	if (create_queue(s))
		log_warn("queue subscription='%s': cannot create queue '%s' yet", s->name, s->queue_name);
	return 0;
}

static void deliver(struct subscription *s, const struct event_out *ev, struct outcome *out)
{
	struct queue_state *q = s->state;
	struct buf body;
	char path[1024], ttl[24];

	out->http_status = 0;
	out->text[0] = '\0';
	if (!q->created && create_queue(s)) {
		out->kind = OUTCOME_RETRY;
		snprintf(out->text, sizeof(out->text), "QueueUnavailable");
		return;
	}
	buf_init(&body, 0);
	buf_adds(&body, "<QueueMessage><MessageText>");
	if (s->base64) {
		size_t n = 4 * ((ev->len + 2) / 3) + 1;
		unsigned char *b64 = xmalloc(n);
		EVP_EncodeBlock(b64, (const unsigned char *)ev->body, (int)ev->len);
		buf_adds(&body, (const char *)b64);
		free(b64);
	} else {
		for (size_t i = 0; i < ev->len; i++) {
			char ch = ev->body[i];
			if (ch == '&')
				buf_adds(&body, "&amp;");
			else if (ch == '<')
				buf_adds(&body, "&lt;");
			else if (ch == '>')
				buf_adds(&body, "&gt;");
			else
				buf_addch(&body, ch);
		}
	}
	buf_adds(&body, "</MessageText></QueueMessage>");
	snprintf(path, sizeof(path), "%s/%s/messages", q->base_path, s->queue_name);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)s->message_ttl_seconds);
	long st = request(s, "POST", path, ttl, body.data, body.len, out->text, sizeof(out->text));
	out->http_status = (int)st;
	if (st == 201) {
		out->kind = OUTCOME_DELIVERED;
		snprintf(out->text, sizeof(out->text), "Success");
	} else if (st == 400 || st == 403 || st == 413) {
		out->kind = OUTCOME_FATAL;
		snprintf(out->text, sizeof(out->text), "%s", st == 400 ? "BadRequest" : st == 403 ? "Forbidden" : "PayloadTooLarge");
	} else {
		out->kind = OUTCOME_RETRY;
		if (st == 404)
			q->created = 0; /* the queue went away: make it again */
		if (st)
			snprintf(out->text, sizeof(out->text), "%s", st == 404 ? "NotFound" : st == 503 ? "Busy" : "GenericError");
	}
	buf_release(&body);
}

static void close_queue(struct subscription *s)
{
	struct queue_state *q = s->state;
	if (!q)
		return;
	free(q->account);
	free(q->endpoint);
	free(q->base_path);
	free(q);
	s->state = NULL;
}

static const char *set_connection_string_env(void *obj, const char *v)
{
	struct subscription *s = obj;
	const char *e = getenv(v);
	if (!e)
		return "names an environment variable that is not set";
	free(s->connection_string);
	s->connection_string = *e ? xstrdup(e) : NULL;
	return NULL;
}

static const char *set_encoding(void *obj, const char *v)
{
	struct subscription *s = obj;
	if (!strcasecmp(v, "base64"))
		s->base64 = true;
	else if (!strcasecmp(v, "none"))
		s->base64 = false;
	else
		return "must be base64 or none";
	return NULL;
}

#define SUB(f) offsetof(struct subscription, f)
static const struct config_key keys[] = {
	{ "connection_string", CONFIG_OPTSTR, SUB(connection_string), NULL, 0, 0, NULL, NULL },
	{ "connection_string_env", CONFIG_FN, 0, NULL, 0, 0, NULL, set_connection_string_env },
	{ "queue_name", CONFIG_OPTSTR, SUB(queue_name), NULL, 0, 0, NULL, NULL },
	{ "message_encoding", CONFIG_FN, 0, "base64", 0, 0, NULL, set_encoding },
	{ "message_ttl_seconds", CONFIG_INT, SUB(message_ttl_seconds), "604800", -1, 2000000000, NULL, NULL },
};

static const char *missing(const struct subscription *s)
{
	return !s->connection_string ? "connection_string" : !s->queue_name ? "queue_name" : NULL;
}

const struct provider provider_queue = { "azure_storage_queue", keys, sizeof(keys) / sizeof(keys[0]), missing,
					 open_queue, deliver, close_queue };
