/* Small helpers with no better home. */
#ifndef ADE_UTIL_H
#define ADE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A random (version 4) UUID as 36 characters plus NUL. */
void util_uuid(char out[37]);
/* Milliseconds of a monotonic clock. */
uint64_t util_now_ms(void);

#endif
