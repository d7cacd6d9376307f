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

/* One POST; returns the HTTP status, 0 on a transport error (text says which). */
static long post(struct subscription *s, const char *event_type, const char *body, size_t len, int delivery_count,
		 struct buf *resp, char *text, size_t textlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[512], name[256];
	long status = 0;

	upper(name, sizeof(name), s->name);
	h = curl_slist_append(h, s->schema == SCHEMA_CLOUDEVENTS ? "Content-Type: application/cloudevents+json; charset=utf-8"
								 : "Content-Type: application/json; charset=utf-8");
	snprintf(line, sizeof(line), "aeg-event-type: %s", event_type);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "aeg-subscription-name: %s", name);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "aeg-delivery-count: %d", delivery_count);
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
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->timeout_seconds);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	} else {
		snprintf(text, textlen, "%s", rc == CURLE_OPERATION_TIMEDOUT ? "TimedOut"
					      : (rc == CURLE_COULDNT_RESOLVE_HOST) ? "ResolutionError"
										 : "SocketError");
		log_warn("webhook subscription='%s' failed: %s", s->name, curl_easy_strerror(rc));
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static void deliver(struct subscription *s, const struct event_out *ev, struct outcome *out)
{
	struct buf body, resp;
	buf_init(&body, 0);
	buf_init(&resp, 0);
	/* Event Grid schema: always an array (of one); CloudEvents: one event */
	if (s->schema == SCHEMA_EVENTGRID) {
		buf_addch(&body, '[');
		buf_add(&body, ev->body, ev->len);
		buf_addch(&body, ']');
	} else {
		buf_add(&body, ev->body, ev->len);
	}
	out->text[0] = '\0';
	long st = post(s, "Notification", body.data, body.len, ev->attempt - 1, &resp, out->text, sizeof(out->text));
	out->http_status = (int)st;
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
	buf_release(&body);
	buf_release(&resp);
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
	long st = post(s, "SubscriptionValidation", body.data, body.len, 0, &resp, text, sizeof(text));
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
	if (s->handshake && s->schema == SCHEMA_EVENTGRID)
		return handshake(s, err, errlen);
	return 0;
}

static void close_webhook(struct subscription *s)
{
	(void)s;
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
					   open_webhook, deliver, close_webhook };
