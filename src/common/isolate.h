/* Running untrusted work (GDCM's decoders and encoders fed files from
 * clients) in a child process with limits, so that a crash or a runaway
 * decode costs one request and not the responder. */
#ifndef ADE_ISOLATE_H
#define ADE_ISOLATE_H

#include <stddef.h>

/* The work: returns 0..125 (its own codes), with a reason in err. */
typedef int (*isolate_fn)(void *arg, char *err, size_t errlen);

enum { ISOLATE_NOT_STARTED = -1, ISOLATE_DIED = -2 };

/* Limits for one GDCM decode or encode of a client's file. */
#define ISOLATE_SECONDS 60
#define ISOLATE_MEMORY (2048ULL * 1024 * 1024)

/* Runs fn(arg) in a forked child limited to seconds of CPU and wall time
 * and mem_bytes of address space (not in sanitizer builds). Returns fn's
 * code, ISOLATE_NOT_STARTED, or ISOLATE_DIED (crashed, killed, out of
 * time); err gets the child's reason or what happened to it. The child
 * touches no shared state: it must not use the database or the FastCGI
 * streams, and it ends with _exit. */
int isolate_run(isolate_fn fn, void *arg, int seconds, size_t mem_bytes, char *err, size_t errlen);

#endif
