/* Header value pieces: shared by the Accept and Content-Type parsers. */
#ifndef ADE_HTTP_TOKEN_H
#define ADE_HTTP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"

/* A copy of s[0..n) without surrounding spaces and tabs, optionally without
 * surrounding double quotes and lower-cased (arena-owned). */
char *http_token(struct arena *a, const char *s, size_t n, bool lower, bool unquote);

/* The next item of a comma-separated list at *list, without surrounding
 * spaces, in *item and *len (borrowed from the list); advances *list.
 * False when no item is left. */
bool http_list_next(const char **list, const char **item, size_t *len);

#endif
