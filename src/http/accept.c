#include "http/accept.h"
#include "http/token.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/banned.h"

/* Splits at sep outside double quotes; returns length of the first piece. */
static size_t span_unquoted(const char *s, char sep)
{
	size_t i = 0;
	bool q = false;

	for (; s[i]; i++) {
		if (s[i] == '"')
			q = !q;
		else if (s[i] == sep && !q)
			break;
	}
	return i;
}

int accept_parse(struct arena *a, const char *header, struct accept_item **items)
{
	size_t cap = 8, n = 0;
	struct accept_item *v = arena_alloc(a, cap * sizeof(*v));
	const char *p = header;

	if (!header)
		return 0;
	while (*p) {
		size_t len = span_unquoted(p, ',');
		const char *item = p;
		p += len;
		if (*p == ',')
			p++;
		size_t mlen = span_unquoted(item, ';');
		if (mlen > len)
			mlen = len;
		const char *media = http_token(a, item, mlen, true, false);
		if (!*media)
			continue;
		if (!strchr(media, '/'))
			return -1;
		struct accept_item it = { media, false, NULL, 1.0 };
		const char *type_param = NULL;
		const char *params = item + mlen;
		const char *end = item + len;
		while (params < end && *params == ';') {
			params++;
			size_t pl = span_unquoted(params, ';');
			if (params + pl > end)
				pl = (size_t)(end - params);
			const char *eq = memchr(params, '=', pl);
			if (eq) {
				const char *k = http_token(a, params, (size_t)(eq - params), true, false);
				const char *val = http_token(a, eq + 1, pl - (size_t)(eq + 1 - params), false, true);
				if (!strcmp(k, "q"))
					it.q = strtod(val, NULL);
				else if (!strcmp(k, "type"))
					type_param = http_token(a, val, strlen(val), true, false);
				else if (!strcmp(k, "transfer-syntax"))
					it.ts = val;
			}
			params += pl;
		}
		if (!strcmp(media, "multipart/related")) {
			/* the media type is the type parameter's: without one, the
			 * service matches nothing (MediaTypeHeaderValueExtensions) */
			it.multipart = true;
			it.media = type_param ? type_param : "";
		}
		if (n == cap) {
			struct accept_item *nv = arena_alloc(a, cap * 2 * sizeof(*nv));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = it;
	}
	/* stable insertion sort by q descending */
	for (size_t i = 1; i < n; i++) {
		struct accept_item t = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1].q < t.q) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
	*items = v;
	return (int)n;
}

static bool media_matches_json(const char *m)
{
	return !strcmp(m, "*/*") || !strcmp(m, "application/*") || !strcmp(m, "application/json") ||
	       !strcmp(m, "application/dicom+json");
}

bool accept_allows_dicom_json(const char *header)
{
	struct arena a;
	struct accept_item *items;
	bool ok = false;

	if (!header)
		return false;
	arena_init(&a);
	int n = accept_parse(&a, header, &items);
	for (int i = 0; i < n && !ok; i++)
		ok = !items[i].multipart && media_matches_json(items[i].media);
	arena_release(&a);
	return ok;
}

/* What GDCM writes and transcoding "all" offers beyond the service's two
 * (big endian and deflate are retired as targets and only read). */
static const char *const extended_targets[] = {
	TS_IMPLICIT_LE,		  "1.2.840.10008.1.2.5",    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
	"1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
	"1.2.840.10008.1.2.4.91",
};

static bool in_list(const char *ts, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ts, list[i]))
			return true;
	return false;
}

static bool ts_acceptable(const char *ts, bool all)
{
	if (!strcmp(ts, "*") || !strcmp(ts, TS_EXPLICIT_LE) || !strcmp(ts, TS_JPEG2000_LOSSLESS))
		return true;
	return all && in_list(ts, extended_targets, sizeof(extended_targets) / sizeof(extended_targets[0]));
}

/* What one Accept item offers, as a choice: true with c filled in, or
 * false when the item is not one this resource can serve. */
typedef bool (*accept_offer_fn)(const struct accept_item *it, enum accept_resource res, bool all,
				struct accept_choice *c);

static bool retrieve_offer(const struct accept_item *it, enum accept_resource res, bool all, struct accept_choice *c)
{
	if (!strcmp(it->media, "*/*")) {
		c->multipart = true;
		c->ts = it->ts ? it->ts : "*";
	} else if (!strcmp(it->media, "application/dicom")) {
		if (!it->multipart && res != ACCEPT_INSTANCE)
			return false;
		c->multipart = it->multipart;
		c->ts = it->ts ? it->ts : TS_EXPLICIT_LE;
	} else {
		return false;
	}
	c->media = "application/dicom";
	return ts_acceptable(c->ts, all);
}

/* The compressed frame media types of PS3.18 table 8.7.3-2 with their
 * default and allowed syntaxes: with transcoding "all", every one; as the
 * service does, only image/jp2 (multipart, JPEG 2000 lossless). */
static const struct frame_media {
	const char *media;
	const char *ts[4]; /* the first is the default */
	bool azure;
} frame_media[] = {
	{ "image/jp2", { TS_JPEG2000_LOSSLESS, "1.2.840.10008.1.2.4.91" }, true },
	{ "image/jpeg", { "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70" }, false },
	{ "image/jls", { "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81" }, false },
	{ "image/dicom-rle", { "1.2.840.10008.1.2.5" }, false },
};

/* application/octet-stream (single or multipart, explicit VR little
 * endian unless transfer-syntax=*) and *\/\* (multipart, original). */
static bool octet_offer(const struct accept_item *it, enum accept_resource res, bool all, struct accept_choice *c)
{
	(void)res;
	(void)all;
	if (strcmp(it->media, "*/*") && strcmp(it->media, "application/octet-stream"))
		return false;
	bool any = !strcmp(it->media, "*/*");
	c->multipart = any || it->multipart;
	c->ts = it->ts ? it->ts : any ? "*" : TS_EXPLICIT_LE;
	c->media = "application/octet-stream";
	return !strcmp(c->ts, "*") || !strcmp(c->ts, TS_EXPLICIT_LE);
}

static bool frames_offer(const struct accept_item *it, enum accept_resource res, bool all, struct accept_choice *c)
{
	if (!strcmp(it->media, "*/*") || !strcmp(it->media, "application/octet-stream"))
		return octet_offer(it, res, all, c);
	for (size_t i = 0; i < sizeof(frame_media) / sizeof(frame_media[0]); i++) {
		const struct frame_media *m = &frame_media[i];
		if (strcmp(it->media, m->media) || !(all || m->azure))
			continue;
		if (!it->multipart && !all)
			return false;
		c->multipart = it->multipart;
		c->ts = it->ts ? it->ts : m->ts[0];
		c->media = m->media;
		if (!all)
			return !strcmp(c->ts, m->ts[0]);
		for (size_t k = 0; k < 4 && m->ts[k]; k++)
			if (!strcmp(c->ts, m->ts[k]))
				return true;
		return false;
	}
	return false;
}

/* The first item on offer wins, unless a later one of at least its q asks
 * for the original syntax and it does not. */
static int negotiate(struct arena *a, const char *header, enum accept_resource res, bool all, accept_offer_fn offer,
		     struct accept_choice *out)
{
	struct accept_item *items;
	int n = accept_parse(a, header, &items);
	int best = -1;
	struct accept_choice cand[64];

	if (n <= 0)
		return -1;
	for (int i = 0; i < n && i < 64; i++) {
		if (!offer(&items[i], res, all, &cand[i]))
			continue;
		if (best < 0 || (items[i].q >= items[best].q && !strcmp(cand[i].ts, "*") && strcmp(cand[best].ts, "*")))
			best = i;
	}
	if (best < 0)
		return -1;
	*out = cand[best];
	return 0;
}

int accept_negotiate_retrieve(struct arena *a, const char *header, enum accept_resource res, bool all,
			      struct accept_choice *out)
{
	return negotiate(a, header, res, all, retrieve_offer, out);
}

int accept_negotiate_frames(struct arena *a, const char *header, bool all, struct accept_choice *out)
{
	return negotiate(a, header, ACCEPT_INSTANCE, all, frames_offer, out);
}

int accept_negotiate_bulkdata(struct arena *a, const char *header, struct accept_choice *out)
{
	return negotiate(a, header, ACCEPT_INSTANCE, false, octet_offer, out);
}
