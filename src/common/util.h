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
/* A JSON number (a double, any a client sends: 1e300, an infinity from
 * 1e999, a fraction) as a whole number: truncated toward zero, held to
 * lo..hi, NaN as lo. A plain cast of a double no int64_t holds is
 * undefined behaviour. */
int64_t util_whole(double v, int64_t lo, int64_t hi);
/* The n bytes at s on one line: each line break or other control byte
 * (tab aside) becomes a space. For text that quotes what others sent (a
 * client's key in a header, a DICOM value in the log), where a CR LF would
 * start a header or a log entry of their making. */
void util_one_line(char *s, size_t n);
/* --user NAME of dicom-fcgi and outbox-relay: started as root, the process
 * becomes NAME (its uid, primary group and groups) for good. Not root: fine
 * when NAME is the caller, an error otherwise. 0, or -1 with err set. */
int util_become_user(const char *name, char *err, size_t errlen);

#endif
