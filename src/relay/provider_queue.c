/* Azure Storage Queue: Put Message over HTTP(S) with Shared Key signing,
 * the queue created at start-up when missing (201 or 204), messages base64
 * (as Event Grid writes them) or XML-escaped text. Works against Azurite's
 * path-style URLs and against Azure. */
#include "relay/provider.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"

#include "relay/azure_storage.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

struct queue_state {
	struct az_account a;
	int created;
};

/* One signed request; returns the HTTP status or 0 on a transport error. */
static long request(struct subscription *s, const char *verb, const char *path, const char *query, const char *body,
		    size_t len, char *text, size_t textlen)
{
	struct queue_state *q = s->state;
	struct az_request r = { verb, path, query, NULL, len ? "application/xml" : NULL, body, len, (long)s->timeout_seconds };
	char reply[256];
	long st = az_send(&q->a, &r, text, textlen, reply, sizeof(reply));
	if (st >= 300)
		log_warn("queue subscription='%s' %s %s: HTTP %ld %.200s", s->name, verb, path, st, reply);
	return st;
}

static int create_queue(struct subscription *s)
{
	struct queue_state *q = s->state;
	char path[1024], text[32] = "";
	snprintf(path, sizeof(path), "%s/%s", q->a.base_path, s->queue_name);
	long st = request(s, "PUT", path, NULL, NULL, 0, text, sizeof(text));
	q->created = st == 201 || st == 204;
	return q->created ? 0 : -1;
}

static int open_queue(struct subscription *s, char *err, size_t errlen)
{
	struct queue_state *q = xcalloc(1, sizeof(*q));
	char why[256];

	s->state = q;
	if (az_account_parse(&q->a, s->connection_string, "queue", why, sizeof(why))) {
		snprintf(err, errlen, "[subscription:%s] connection_string: %s", s->name, why);
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
	char path[1024], ttl[40];

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
	snprintf(path, sizeof(path), "%s/%s/messages", q->a.base_path, s->queue_name);
	snprintf(ttl, sizeof(ttl), "messagettl=%lld", (long long)s->message_ttl_seconds);
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
	az_account_release(&q->a);
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
					 open_queue, deliver, close_queue, NULL };
