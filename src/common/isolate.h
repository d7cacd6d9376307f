/* Running untrusted work (GDCM's decoders and encoders fed files from
 * clients) in a child process with limits, so that a crash or a runaway
 * decode costs one request and not the responder. */
#ifndef ADE_ISOLATE_H
#define ADE_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* The work: returns 0..125 (its own codes), with a reason in err; what it
 * appends to out comes back to the parent when it returns 0. */
typedef int (*isolate_fn)(void *arg, struct buf *out, char *err, size_t errlen);

/* ISOLATE_KILLED: a child ended by a SIGKILL its parent did not send (the
 * system's out-of-memory killer, an operator): not the work's doing. */
enum { ISOLATE_NOT_STARTED = -1, ISOLATE_DIED = -2, ISOLATE_KILLED = -3 };

/* Limits for one GDCM decode or encode of a client's file. */
#define ISOLATE_SECONDS 60
#define ISOLATE_MEMORY (2048ULL * 1024 * 1024)
/* A child's descriptors at most, and how far it may write into a file (a
 * transcoded copy; also its stderr, the log, which is appended to). */
#define ISOLATE_FILES 32
#define ISOLATE_WRITE_BYTES (4ULL * 1024 * 1024 * 1024)
/* The most a child's work may send back. */
#define ISOLATE_MAX_OUTPUT (512ULL * 1024 * 1024)

/* Runs fn(arg) in a forked child limited to seconds of CPU and wall time,
 * mem_bytes of address space (not in sanitizer builds), ISOLATE_FILES
 * descriptors and ISOLATE_WRITE_BYTES a file, with none of the parent's
 * descriptors but stdout and stderr (0 is /dev/null), and a system call
 * filter: no sockets, no connecting, no executing, no tracing, no forking,
 * no signals to others, and, without ISOLATE_MAY_WRITE, nothing that
 * opens a file for writing or changes the file system; the child is killed
 * (SIGSYS) when it tries. Returns fn's
 * code, ISOLATE_NOT_STARTED, ISOLATE_DIED (crashed, killed, out of
 * time) or ISOLATE_KILLED; err gets the child's reason or what happened to
 * it, out (may be NULL) what the work appended to its buffer when it
 * returned 0. The child
 * touches no shared state: it must not use the database or the FastCGI
 * streams, and it ends with _exit. */
enum { ISOLATE_MAY_WRITE = 1 << 0 }; /* the work writes files (a transcoded copy) */

/* What a child may open at all (Landlock, where the kernel has it; else
 * the system call filter alone holds): /usr (libraries, character set
 * modules), /dev/null and its own /proc entries, the files or directories
 * in read read-only, the files in write for reading and writing. Nothing
 * else: not the store's other files, not /etc, not other processes' /proc
 * entries. NULL-terminated lists. */
struct isolate_paths {
	const char *read[3];
	const char *write[2];
};

/* Whether the kernel confines children's files (Landlock): 1 or 0. */
int isolate_confines_files(void);

int isolate_run(isolate_fn fn, void *arg, int seconds, size_t mem_bytes, unsigned flags,
		const struct isolate_paths *paths, struct buf *out, char *err, size_t errlen);

/* A kept child for small, frequent work (a fork costs about a millisecond):
 * it serves one request after another, each a string and, when the caller
 * gives one, an open descriptor passed over its socket (the child reads a
 * file it could not open itself; it is closed after the request), until
 * it dies, is stopped, or has served ISOLATE_WORKER_REQUESTS; a crash or a
 * stall costs the request under way, and the next one starts a new child
 * (unless isolate_worker_renew, below, did between the two).
 * What the work appends to out comes back when it returns 0: through a
 * memory room the child shares with its parent (ISOLATE_ROOM bytes, made
 * for each child, no descriptor of it left to either) when it fits, else
 * over the socket. fd is -1 when the request carries none. */
typedef int (*isolate_str_fn)(const char *arg, int fd, struct buf *out, char *err, size_t errlen);

struct isolate_worker {
	isolate_str_fn fn;
	size_t mem_bytes;
	int fd;          /* our end of the socket pair; -1 when no child */
	long pid;
	unsigned served;
	struct isolate_paths paths; /* what the child may open, for every request */
	unsigned char *room;        /* shared with the child for its results, or NULL */
	bool lost;                  /* its last child was lost in a request (died, stalled, did not start) */
};

#define ISOLATE_WORKER_REQUESTS 1000
#define ISOLATE_ROOM (4U * 1024 * 1024)
#define ISOLATE_WORKER_INIT(f, mem) { (f), (mem), -1, 0, 0, { { NULL }, { NULL } }, NULL, false }

/* Runs w->fn(arg, a copy of fd) in the worker's child (started when
 * needed) within seconds; fd -1 for none. Returns fn's code (0..125),
 * ISOLATE_NOT_STARTED, ISOLATE_DIED or ISOLATE_KILLED, as isolate_run; out
 * (may be NULL) gets what the work appended to its buffer when it returned
 * 0 (ISOLATE_MAX_OUTPUT at most). */
int isolate_worker_run(struct isolate_worker *w, const char *arg, int fd, int seconds, struct buf *out, char *err,
		       size_t errlen);
/* Whether the worker's child is due for replacement: it has served
 * ISOLATE_WORKER_REQUESTS, or it was lost in a request (it died, was
 * stopped for its time, or a new one did not start). A worker that never
 * had a child, or whose child was stopped (isolate_worker_stop), is not. */
bool isolate_worker_due(const struct isolate_worker *w);
/* Between requests: starts a new child in place of a due one, so that the
 * next request does not wait for the start. Returns 1 when it started one
 * (the caller may warm it up), 0 when none was due, or ISOLATE_NOT_STARTED
 * with err set (the next request tries again). */
int isolate_worker_renew(struct isolate_worker *w, char *err, size_t errlen);
/* Ends the child, if any. */
void isolate_worker_stop(struct isolate_worker *w);

#endif
