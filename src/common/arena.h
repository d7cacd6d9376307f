/* A per-request arena: many small allocations, released in one call. */
#ifndef ADE_ARENA_H
#define ADE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
};

void arena_init(struct arena *a);
/* Frees every block; the arena may be used again. */
void arena_release(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);                 /* arena-owned */
char *arena_strdup(struct arena *a, const char *s);          /* arena-owned */
char *arena_strndup(struct arena *a, const char *s, size_t n); /* arena-owned */
char *arena_printf(struct arena *a, const char *fmt, ...)     /* arena-owned */
	__attribute__((format(printf, 2, 3)));

#endif
