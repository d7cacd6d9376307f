/* Allocation that aborts on out-of-memory: for small, bounded allocations. */
#ifndef ADE_XALLOC_H
#define ADE_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);      /* caller frees */
void *xcalloc(size_t n, size_t size); /* caller frees */
void *xrealloc(void *p, size_t n); /* caller frees */
char *xstrdup(const char *s); /* caller frees */
char *xstrndup(const char *s, size_t n); /* caller frees */

#endif
