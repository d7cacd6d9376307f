/* Small helpers with no better home. */
#ifndef ADE_UTIL_H
#define ADE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A random (version 4) UUID as 36 characters plus NUL. */
void util_uuid(char out[37]);
/* Milliseconds of a monotonic clock. */
uint64_t util_now_ms(void);
/* Writes exactly n bytes to fd (a file or a pipe), again after EINTR;
 * false on error, with errno set. */
bool util_write_full(int fd, const void *buf, size_t n);
/* The same for the n buffers of iov, in one writev when the kernel takes
 * them whole (O_APPEND: written together at the end); iov is used up. */
struct iovec;
bool util_writev_full(int fd, struct iovec *iov, int n);
/* --user NAME of dicom-fcgi and outbox-relay: started as root, the process
 * becomes NAME (its uid, primary group and groups) for good. Not root: fine
 * when NAME is the caller, an error otherwise. 0, or -1 with err set. */
int util_become_user(const char *name, char *err, size_t errlen);

#endif
