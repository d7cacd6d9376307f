/* A growable byte buffer: never NULL after buf_init, always NUL-terminated,
 * with a size cap because what goes into it is often untrusted. */
#ifndef ADE_BUF_H
#define ADE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0 = no cap */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Returns 0, or -1 when the cap would be exceeded (nothing appended). */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* JSON string literal with quotes; invalid UTF-8 bytes are taken as Latin-1,
 * NUL bytes left out (PostgreSQL's jsonb refuses \u0000). */
int buf_add_json_str(struct buf *b, const char *s, size_t len);
/* Whether s is well-formed UTF-8 (as PostgreSQL takes it). */
bool buf_utf8_valid(const char *s, size_t len);
void buf_reset(struct buf *b);
/* Room for at least extra more bytes (and the NUL) after len, for a writer
 * that fills data + len directly and then moves len; 0 or -1 (cap). */
int buf_reserve(struct buf *b, size_t extra);
/* Hands the contents to the caller (caller frees) and empties the buffer. */
char *buf_detach(struct buf *b, size_t *len);
/* Read-only view: borrowed until the next change to b. */
static inline const char *buf_str(const struct buf *b) { return b->data ? b->data : ""; }

#ifdef __cplusplus
}
#endif

#endif
