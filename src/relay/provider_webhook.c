/* Webhook delivery as Event Grid does it (delivery-and-retry.md,
 * webhook-event-delivery.md): POST, Event Grid's headers, 30 s time-out,
 * success only on 200-204, 400/401/403/413 never retried. */
#include "relay/provider.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/banned.h"

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	if (b->len < 65536)
		buf_add(b, p, size * n);
	return size * n;
}

static void upper(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src[i] && i < n - 1; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? (char)(src[i] - 'a' + 'A') : src[i];
	dst[i] = '\0';
}

/* Deliveries in flight at once, each on a connection kept between
 * batches (Event Grid does not promise an order either). */
#define IN_FLIGHT 8

/* One POST to the subscription's URL. */
struct post {
	const char *event_type;
	const char *body;
	size_t len;
	int delivery_count;
	struct buf *resp;   /* the answer's first 64 KiB, or NULL */
	long status;        /* out: the HTTP status, 0 on a transport error */
	char text[96];      /* out: which transport error */
};

struct conn {
	CURL *easy;
	struct curl_slist *headers;
	struct buf sink;    /* answers nobody reads */
	struct post *p;     /* NULL when free */
};

struct webhook {
	CURLM *multi;
	struct conn conn[IN_FLIGHT];
};

static struct curl_slist *post_headers(const struct subscription *s, const struct post *p)
{
	char line[512], name[256];
	struct curl_slist *h = NULL;

	upper(name, sizeof(name), s->name);
	h = curl_slist_append(h, s->schema == SCHEMA_CLOUDEVENTS ? "Content-Type: application/cloudevents+json; charset=utf-8"
								 : "Content-Type: application/json; charset=utf-8");
	snprintf(line, sizeof(line), "aeg-event-type: %s", p->event_type);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "aeg-subscription-name: %s", name);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "aeg-delivery-count: %d", p->delivery_count);
	h = curl_slist_append(h, line);
	if (s->schema == SCHEMA_EVENTGRID) {
		h = curl_slist_append(h, "aeg-data-version: 1");
		h = curl_slist_append(h, "aeg-metadata-version: 1");
	} else {
		h = curl_slist_append(h, "aeg-metadata-version: 1.0");
	}
	h = curl_slist_append(h, "Expect:");
	for (size_t i = 0; i < s->nheaders; i++)
		h = curl_slist_append(h, s->headers[i]);
	return h;
}

static void start_post(struct subscription *s, struct conn *k, struct post *p)
{
	CURL *c = k->easy;

	k->headers = post_headers(s, p);
	/* a reset handle keeps its live connection */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, k->headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)p->len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->timeout_seconds);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	buf_reset(&k->sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, p->resp ? p->resp : &k->sink);
	k->p = p;
	p->status = 0;
	p->text[0] = '\0';
}

static void end_post(struct subscription *s, struct conn *k, CURLcode rc)
{
	struct post *p = k->p;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &p->status);
	} else {
		snprintf(p->text, sizeof(p->text), "%s", rc == CURLE_OPERATION_TIMEDOUT ? "TimedOut"
						      : (rc == CURLE_COULDNT_RESOLVE_HOST) ? "ResolutionError"
											 : "SocketError");
		log_warn("webhook subscription='%s' failed: %s", s->name, curl_easy_strerror(rc));
	}
	curl_slist_free_all(k->headers);
	k->headers = NULL;
	k->p = NULL;
}

/* The finished transfers: their posts get their status, their
 * connections are free again. Returns how many finished. */
static size_t reap(struct subscription *s, struct webhook *w)
{
	CURLMsg *m;
	int left;
	size_t done = 0;

	while ((m = curl_multi_info_read(w->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		for (int i = 0; i < IN_FLIGHT; i++) {
			struct conn *k = &w->conn[i];
			if (k->p && k->easy == m->easy_handle) {
				CURLcode rc = m->data.result;
				curl_multi_remove_handle(w->multi, k->easy);
				end_post(s, k, rc);
				done++;
				break;
			}
		}
	}
	return done;
}

/* Runs the posts, IN_FLIGHT at a time, until every one has its status. */
static void run_posts(struct subscription *s, struct post *p, size_t n)
{
	struct webhook *w = s->state;
	size_t next = 0, active = 0;

	while (next < n || active) {
		for (int i = 0; i < IN_FLIGHT && next < n; i++) {
			struct conn *k = &w->conn[i];
			if (k->p)
				continue;
			start_post(s, k, &p[next++]);
			curl_multi_add_handle(w->multi, k->easy);
			active++;
		}
		int running;
		curl_multi_perform(w->multi, &running);
		active -= reap(s, w);
		if (active)
			curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
	}
}

/* Event Grid's reading of an answer (transport: the error when none came). */
static void outcome_of(long st, const char *transport, struct outcome *out)
{
	out->http_status = (int)st;
	snprintf(out->text, sizeof(out->text), "%s", transport);
	if (st >= 200 && st <= 204) {
		out->kind = OUTCOME_DELIVERED;
		snprintf(out->text, sizeof(out->text), "Success");
	} else if (st == 400 || st == 401 || st == 403 || st == 413) {
		out->kind = OUTCOME_FATAL;
		snprintf(out->text, sizeof(out->text), "%s",
			 st == 400 ? "BadRequest" : st == 401 ? "Unauthorized" : st == 403 ? "Forbidden" : "PayloadTooLarge");
	} else {
		out->kind = OUTCOME_RETRY;
		if (st)
			snprintf(out->text, sizeof(out->text), "%s",
				 st == 404 ? "NotFound" : st == 408 ? "TimedOut" : st == 503 ? "Busy" : "GenericError");
	}
}

static void deliver_many(struct subscription *s, const struct event_out *ev, size_t n, struct outcome *out)
{
	struct post *p = xcalloc(n ? n : 1, sizeof(*p));
	struct buf *bodies = xcalloc(n ? n : 1, sizeof(*bodies));

	for (size_t i = 0; i < n; i++) {
		struct buf *b = &bodies[i];
		buf_init(b, 0);
		/* Event Grid schema: always an array (of one); CloudEvents: one event */
		if (s->schema == SCHEMA_EVENTGRID) {
			buf_addch(b, '[');
			buf_add(b, ev[i].body, ev[i].len);
			buf_addch(b, ']');
		} else {
			buf_add(b, ev[i].body, ev[i].len);
		}
		p[i] = (struct post){ "Notification", b->data, b->len, ev[i].attempt - 1, NULL, 0, "" };
	}
	run_posts(s, p, n);
	for (size_t i = 0; i < n; i++) {
		outcome_of(p[i].status, p[i].text, &out[i]);
		buf_release(&bodies[i]);
	}
	free(bodies);
	free(p);
}

static void deliver(struct subscription *s, const struct event_out *ev, struct outcome *out)
{
	deliver_many(s, ev, 1, out);
}

/* The Event Grid schema's validation handshake: the endpoint must answer
 * 200 with {"validationResponse": code}. */
static int handshake(struct subscription *s, char *err, size_t errlen)
{
	char code[37], id[37], now[40], text[64] = "";
	struct buf body, resp;
	time_t t = time(NULL);
	struct tm tm;

	util_uuid(code);
	util_uuid(id);
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.0000000Z", &tm);
	buf_init(&body, 0);
	buf_init(&resp, 0);
	buf_addf(&body,
		 "[{\"id\":\"%s\",\"topic\":\"\",\"subject\":\"\",\"data\":{\"validationCode\":\"%s\",\"validationUrl\":null},"
		 "\"eventType\":\"Microsoft.EventGrid.SubscriptionValidationEvent\",\"eventTime\":\"%s\","
		 "\"metadataVersion\":\"1\",\"dataVersion\":\"2\"}]",
		 id, code, now);
	struct post p = { "SubscriptionValidation", body.data, body.len, 0, &resp, 0, "" };
	run_posts(s, &p, 1);
	long st = p.status;
	snprintf(text, sizeof(text), "%s", p.text);
	int rc = -1;
	if (st == 200) {
		cJSON *j = cJSON_Parse(buf_str(&resp));
		cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, "validationResponse") : NULL;
		if (cJSON_IsString(v) && !strcmp(v->valuestring, code))
			rc = 0;
		cJSON_Delete(j);
	}
	if (rc)
		/* the URL without its query: Azure Functions put their key there (?code=) */
		snprintf(err, errlen, "[subscription:%s] validation handshake with '%.*s' failed (HTTP %ld%s%s)", s->name,
			 (int)strcspn(s->url, "?#"), s->url,
			 st, *text ? ", " : "", text);
	buf_release(&body);
	buf_release(&resp);
	return rc;
}

static int open_webhook(struct subscription *s, char *err, size_t errlen)
{
	struct webhook *w = xcalloc(1, sizeof(*w));
	bool ok = (w->multi = curl_multi_init()) != NULL;
	for (int i = 0; i < IN_FLIGHT; i++) {
		buf_init(&w->conn[i].sink, 0);
		ok &= (w->conn[i].easy = curl_easy_init()) != NULL;
	}
	s->state = w;
	if (!ok) {
		snprintf(err, errlen, "[subscription:%s] libcurl cannot be set up", s->name);
		return -1;
	}
	if (s->handshake && s->schema == SCHEMA_EVENTGRID)
		return handshake(s, err, errlen);
	return 0;
}

static void close_webhook(struct subscription *s)
{
	struct webhook *w = s->state;
	if (!w)
		return;
	for (int i = 0; i < IN_FLIGHT; i++) {
		if (w->conn[i].easy)
			curl_easy_cleanup(w->conn[i].easy);
		buf_release(&w->conn[i].sink);
	}
	if (w->multi)
		curl_multi_cleanup(w->multi);
	free(w);
	s->state = NULL;
}

static const char *set_url(void *obj, const char *v)
{
	struct subscription *s = obj;
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
		return "must be an http:// or https:// URL";
	free(s->url);
	s->url = xstrdup(v);
	return NULL;
}

static const char *add_header(void *obj, const char *v)
{
	struct subscription *s = obj;
	if (!strchr(v, ':'))
		return "must be 'Name: value'";
	if (!strncasecmp(v, "aeg-", 4))
		return "must not use the aeg- prefix (Event Grid's own headers)";
	s->headers = xrealloc(s->headers, (s->nheaders + 1) * sizeof(*s->headers));
	s->headers[s->nheaders++] = xstrdup(v);
	return NULL;
}

static const struct config_key keys[] = {
	{ "url", CONFIG_FN, 0, NULL, 0, 0, NULL, set_url },
	{ "header", CONFIG_FN, 0, NULL, 0, 0, NULL, add_header },
	{ "validation_handshake", CONFIG_BOOL, offsetof(struct subscription, handshake), "false", 0, 0, NULL, NULL },
};

static const char *missing(const struct subscription *s)
{
	return s->url ? NULL : "url";
}

const struct provider provider_webhook = { "webhook", keys, sizeof(keys) / sizeof(keys[0]), missing,
					   open_webhook, deliver, close_webhook, deliver_many };
