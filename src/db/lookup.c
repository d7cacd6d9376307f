/* Lookups kept by a responder ([retrieve] lookup_cache): the answers of
 * small, frequent reads (one instance's file and syntax, a metadata
 * answer's version) by what was asked, each with the count of changes to
 * instances it was read under (store/changes.h). A kept answer is used
 * only while that count is still current, so no committed change is ever
 * missed; any change anywhere on the machine makes all of them old.
 *
 * One table per process: a key is in one of a set of four slots (a new
 * lookup takes an empty one, or one kept under an older count, or the one
 * least recently kept); no locks, no lists, a fixed size.
 *
 * Beside it, the frame ranges of stored files by watermark. A watermark
 * names one file for good (a change makes a new one), so these need no
 * count: one slot each, a newer one taking it. */
#include "db/db_internal.h"
#include "store/changes.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define LOOKUP_SLOTS 2048 /* a power of two */
#define LOOKUP_WAYS 4    /* slots a key may be in */
#define LOOKUP_KEY 320
#define LOOKUP_VALUE 512

struct lookup_slot {
	uint64_t tag;  /* 0: empty */
	uint64_t kept; /* when, in this table's puts */
	uint32_t hash;
	uint16_t klen, vlen;
	char key[LOOKUP_KEY];
	unsigned char value[LOOKUP_VALUE];
};

#define RANGES_SLOTS 256     /* a power of two */
#define RANGES_LONGEST 16384 /* about 800 frames */

struct ranges_slot {
	int64_t watermark; /* 0: empty */
	char *ranges;
};

struct lookup {
	struct changes *changes;
	struct lookup_slot *slots;
	uint64_t kept; /* puts so far */
	struct ranges_slot ranges[RANGES_SLOTS];
};

struct lookup *lookup_new(struct changes *changes)
{
	struct lookup *l = xcalloc(1, sizeof(*l));
	l->changes = changes;
	l->slots = xcalloc(LOOKUP_SLOTS, sizeof(*l->slots));
	return l;
}

void lookup_free(struct lookup *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < RANGES_SLOTS; i++)
		free(l->ranges[i].ranges);
	free(l->slots);
	free(l);
}

static uint32_t hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

/* The slots a key may be in: a set of LOOKUP_WAYS next to each other. */
static struct lookup_slot *set_of(struct lookup *l, uint32_t h)
{
	return &l->slots[(h & (LOOKUP_SLOTS / LOOKUP_WAYS - 1)) * LOOKUP_WAYS];
}

static struct lookup_slot *find(struct lookup *l, uint32_t h, const char *key, size_t n)
{
	struct lookup_slot *set = set_of(l, h);
	for (int i = 0; i < LOOKUP_WAYS; i++)
		if (set[i].tag && set[i].hash == h && set[i].klen == n && !memcmp(set[i].key, key, n))
			return &set[i];
	return NULL;
}

size_t lookup_get(struct lookup *l, const char *key, void *value, size_t size, uint64_t *tag)
{
	size_t n = strlen(key);
	*tag = 0;
	if (!l || n > LOOKUP_KEY)
		return 0;
	const struct lookup_slot *s = find(l, hash(key, n), key, n);
	if (s && s->vlen <= size && changes_valid(l->changes, s->tag)) {
		memcpy(value, s->value, s->vlen);
		return s->vlen;
	}
	*tag = changes_tag(l->changes); /* before the database is asked */
	return 0;
}

void lookup_put(struct lookup *l, uint64_t tag, const char *key, const void *value, size_t size)
{
	size_t n = strlen(key);
	if (!l || !tag || n > LOOKUP_KEY || size > LOOKUP_VALUE)
		return;
	uint32_t h = hash(key, n);
	struct lookup_slot *s = find(l, h, key, n);
	if (!s) { /* an empty or old slot of its set, else the one least recently kept */
		struct lookup_slot *set = set_of(l, h);
		s = &set[0];
		for (int i = 0; i < LOOKUP_WAYS; i++) {
			if (set[i].tag != tag) { /* empty (0) or kept under an older count */
				s = &set[i];
				break;
			}
			if (set[i].kept < s->kept)
				s = &set[i];
		}
	}
	s->tag = tag;
	s->kept = ++l->kept;
	s->hash = h;
	s->klen = (uint16_t)n;
	s->vlen = (uint16_t)size;
	memcpy(s->key, key, n);
	memcpy(s->value, value, size);
}

static struct ranges_slot *ranges_slot(struct lookup *l, int64_t watermark)
{
	return &l->ranges[(uint64_t)watermark & (RANGES_SLOTS - 1)];
}

const char *lookup_ranges_get(struct lookup *l, int64_t watermark)
{
	if (!l || watermark <= 0)
		return NULL;
	const struct ranges_slot *s = ranges_slot(l, watermark);
	return s->watermark == watermark ? s->ranges : NULL;
}

void lookup_ranges_put(struct lookup *l, int64_t watermark, const char *ranges, size_t len)
{
	if (!l || watermark <= 0 || len > RANGES_LONGEST)
		return;
	struct ranges_slot *s = ranges_slot(l, watermark);
	free(s->ranges);
	s->ranges = xmalloc(len + 1);
	memcpy(s->ranges, ranges, len);
	s->ranges[len] = '\0';
	s->watermark = watermark;
}
