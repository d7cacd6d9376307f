/* Lookups kept by a responder ([retrieve] lookup_cache): the answers of
 * small, frequent reads (one instance's file and syntax, a metadata
 * answer's version) by what was asked, each with the count of changes to
 * instances it was read under (store/changes.h). A kept answer is used
 * only while that count is still current, so no committed change is ever
 * missed; any change anywhere on the machine makes all of them old.
 *
 * One table per process, each key in one slot (a newer lookup replaces
 * what was there): no locks, no lists, a fixed size. */
#include "db/db_internal.h"
#include "store/changes.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define LOOKUP_SLOTS 2048 /* a power of two */
#define LOOKUP_KEY 320
#define LOOKUP_VALUE 512

struct lookup_slot {
	uint64_t tag; /* 0: empty */
	uint32_t hash;
	uint16_t klen, vlen;
	char key[LOOKUP_KEY];
	unsigned char value[LOOKUP_VALUE];
};

struct lookup {
	struct changes *changes;
	struct lookup_slot *slots;
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

uint64_t lookup_tag(struct lookup *l)
{
	return l ? changes_tag(l->changes) : 0;
}

size_t lookup_get(struct lookup *l, const char *key, void *value, size_t size)
{
	size_t n = strlen(key);
	if (!l || n > LOOKUP_KEY)
		return 0;
	uint32_t h = hash(key, n);
	const struct lookup_slot *s = &l->slots[h & (LOOKUP_SLOTS - 1)];
	if (!s->tag || s->hash != h || s->klen != n || memcmp(s->key, key, n) || s->vlen > size ||
	    !changes_valid(l->changes, s->tag))
		return 0;
	memcpy(value, s->value, s->vlen);
	return s->vlen;
}

void lookup_put(struct lookup *l, uint64_t tag, const char *key, const void *value, size_t size)
{
	size_t n = strlen(key);
	if (!l || !tag || n > LOOKUP_KEY || size > LOOKUP_VALUE)
		return;
	uint32_t h = hash(key, n);
	struct lookup_slot *s = &l->slots[h & (LOOKUP_SLOTS - 1)];
	s->tag = tag;
	s->hash = h;
	s->klen = (uint16_t)n;
	s->vlen = (uint16_t)size;
	memcpy(s->key, key, n);
	memcpy(s->value, value, size);
}
