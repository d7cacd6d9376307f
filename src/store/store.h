/* The store: one object per instance version, named by its watermark,
 * behind an operations table so that another backend (Azure Blob) can sit
 * beside the file one. It owns every file operation on instances: writing
 * a new one durably, reading stored ones (by range, or by path for the web
 * server's X-Sendfile), removing, sweeping. It knows no HTTP.
 *
 * The file backend (store_file.c): store/<2 hex>/<watermark>.dcm, temp
 * files in store/tmp on the same file system so that rename is atomic,
 * answers kept (renderings, metadata) in store/cache/<2 hex>/<watermark>/. */
#ifndef ADE_STORE_H
#define ADE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

struct store_ops;

struct changes;

struct store {
	const struct store_ops *ops;
	char *dir;  /* where it is: the file backend's directory */
	void *impl; /* the backend's */
	struct changes *changes; /* changes to instances counted (store/changes.h: dir/changes) */
};

/* A new object being written (an upload, or a scratch file made from a
 * stored one). Backends extend it; path is a local copy that parsers read. */
struct store_writer {
	struct store *store;
	const char *path;
	uint64_t size;
};

/* A stored object (or a written scratch one) open for reading. path is
 * its local file when the backend has one (for parsers and X-Sendfile),
 * else NULL; fd that file open for reading (the reader's: not to be
 * closed), else -1. */
struct store_reader {
	struct store *store;
	const char *path;
	int64_t size;
	int fd;
};

typedef int (*store_known_fn)(void *ctx, const int64_t *wm, size_t n, unsigned char *known);

struct store_ops {
	const char *name;
	int (*open)(struct store *s, char *err, size_t errlen);
	void (*release)(struct store *s);
	struct store_writer *(*begin)(struct store *s);
	int (*write)(struct store_writer *w, const void *p, size_t n);
	int (*write_at)(struct store_writer *w, const void *p, size_t n, uint64_t off);
	int (*commit)(struct store_writer *w, int64_t watermark);
	void (*abort)(struct store_writer *w);
	struct store_reader *(*open_read)(struct store *s, int64_t watermark);
	struct store_reader *(*open_written)(struct store_writer *w);
	ssize_t (*read_at)(struct store_reader *r, void *p, size_t n, int64_t off);
	void (*close)(struct store_reader *r);
	int (*remove)(struct store *s, int64_t watermark);
	long (*sweep)(struct store *s, long min_age, store_known_fn known, void *ctx);
	void (*sweep_temp)(struct store *s, long min_age);
	int (*cached)(struct store *s, int64_t watermark, const char *key, char *path, size_t n);
	int (*cache_put)(struct store *s, int64_t watermark, const char *key, const void *p, size_t n, char *path,
			 size_t pathlen);
	int (*cache_get)(struct store *s, int64_t watermark, const char *key, struct buf *out);
};

extern const struct store_ops store_file_ops;

/* Whether path is a mount point, for a store on a shared file system that
 * must not be written to the local disk below it when unmounted: 0, or -1
 * with err. */
int store_check_mount(const char *path, char *err, size_t errlen);

/* Opens the store at dir with the file backend. 0, or -1 with err. */
int store_open(struct store *s, const char *dir, char *err, size_t errlen);
void store_release(struct store *s);

/* ---- writing: begin, write, then commit or abort -------------------------- */

/* A new, empty object; NULL when the store cannot take one (logged). The
 * writer is the store's until commit or abort, which free it. */
struct store_writer *store_begin(struct store *s);
int store_write(struct store_writer *w, const void *p, size_t n);
/* Overwrites bytes already written (the preamble). */
int store_write_at(struct store_writer *w, const void *p, size_t n, uint64_t off);
/* Makes it durable under its watermark in the order of DESIGN.md (file
 * fsynced, renamed, directory fsynced) before any row points at it.
 * Frees w. Returns 0, or -1 with nothing left behind. */
int store_commit(struct store_writer *w, int64_t watermark);
/* Drops it. Frees w; NULL is fine. */
void store_abort(struct store_writer *w);

/* ---- reading -------------------------------------------------------------- */

/* A stored object; NULL when missing or unreadable (logged). */
struct store_reader *store_open_read(struct store *s, int64_t watermark);
/* What a writer has written so far (a scratch file), before its abort. */
struct store_reader *store_open_written(struct store_writer *w);
/* Up to n bytes at off: the number read, 0 at the end, -1 on error. */
ssize_t store_read_at(struct store_reader *r, void *p, size_t n, int64_t off);
void store_close(struct store_reader *r);

/* ---- removing ------------------------------------------------------------- */

int store_remove(struct store *s, int64_t watermark);
/* Calls known() with batches of watermarks of objects older than min_age
 * seconds; removes those it says have no row. Returns the number removed,
 * or -1. */
long store_sweep_orphans(struct store *s, long min_age, store_known_fn known, void *ctx);
/* Removes temp objects older than min_age seconds (requests that died). */
void store_sweep_temp(struct store *s, long min_age);

/* ---- answers kept for an object: renderings, metadata (a cache, not fsynced) ---- */

/* Whether an answer named key (a file name) is kept for the object:
 * 1 with its local path (for X-Sendfile), else 0. */
int store_cached(struct store *s, int64_t watermark, const char *key, char *path, size_t n);
/* Keeps an answer for the object: 1 with its local path (as
 * store_cached gives it), else 0 (a failure is only logged). It goes with
 * the object (store_remove). */
int store_cache_put(struct store *s, int64_t watermark, const char *key, const void *p, size_t n, char *path,
		    size_t pathlen);
/* Appends a kept rendering to out (when the web server cannot send the
 * file itself): 0, or -1 when there is none or it cannot be read. */
int store_cache_get(struct store *s, int64_t watermark, const char *key, struct buf *out);

#endif
