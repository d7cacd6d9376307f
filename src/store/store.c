/* The store's public face: every call goes to the backend's table. */
#include "store/store.h"
#include "store/changes.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/banned.h"

/* How long nothing is kept after a process stopped in the middle of
 * counting a change (the database may still be finishing its commit). */
#define CHANGES_PAUSE_MS 10000

int store_open(struct store *s, const char *dir, char *err, size_t errlen)
{
	s->ops = &store_file_ops;
	s->dir = xstrdup(dir);
	s->impl = NULL;
	s->changes = NULL;
	if (s->ops->open(s, err, errlen))
		return -1;
	s->changes = changes_open(dir, CHANGES_PAUSE_MS, err, errlen);
	if (!s->changes) {
		s->ops->release(s);
		s->ops = NULL;
		return -1;
	}
	return 0;
}

void store_release(struct store *s)
{
	changes_close(s->changes);
	s->changes = NULL;
	if (s->ops)
		s->ops->release(s);
	free(s->dir);
	s->dir = NULL;
}

struct store_writer *store_begin(struct store *s)
{
	return s->ops->begin(s);
}

int store_write(struct store_writer *w, const void *p, size_t n)
{
	return w->store->ops->write(w, p, n);
}

int store_write_at(struct store_writer *w, const void *p, size_t n, uint64_t off)
{
	return w->store->ops->write_at(w, p, n, off);
}

int store_commit(struct store_writer *w, int64_t watermark)
{
	return w->store->ops->commit(w, watermark);
}

void store_abort(struct store_writer *w)
{
	if (w)
		w->store->ops->abort(w);
}

struct store_reader *store_open_read(struct store *s, int64_t watermark)
{
	return s->ops->open_read(s, watermark);
}

struct store_reader *store_open_written(struct store_writer *w)
{
	return w->store->ops->open_written(w);
}

ssize_t store_read_at(struct store_reader *r, void *p, size_t n, int64_t off)
{
	return r->store->ops->read_at(r, p, n, off);
}

void store_close(struct store_reader *r)
{
	if (r)
		r->store->ops->close(r);
}

int store_remove(struct store *s, int64_t watermark)
{
	return s->ops->remove(s, watermark);
}

long store_sweep_orphans(struct store *s, long min_age, store_known_fn known, void *ctx)
{
	return s->ops->sweep(s, min_age, known, ctx);
}

void store_sweep_temp(struct store *s, long min_age)
{
	s->ops->sweep_temp(s, min_age);
}

int store_check_mount(const char *path, char *err, size_t errlen)
{
	struct stat here, up;
	char parent[4200];
	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(path, &here) || stat(parent, &up)) {
		snprintf(err, errlen, "[store] require_mount: cannot stat '%s': %s", path, strerror(errno));
		return -1;
	}
	/* another device than its parent's, or the root itself */
	if (here.st_dev != up.st_dev || here.st_ino == up.st_ino)
		return 0;
	snprintf(err, errlen, "[store] require_mount: '%s' is not mounted (refusing to write below it to the local disk)",
		 path);
	return -1;
}

int store_cached(struct store *s, int64_t watermark, const char *key, char *path, size_t n)
{
	return s->ops->cached ? s->ops->cached(s, watermark, key, path, n) : 0;
}

int store_cache_put(struct store *s, int64_t watermark, const char *key, const void *p, size_t n, char *path,
		    size_t pathlen)
{
	return s->ops->cache_put ? s->ops->cache_put(s, watermark, key, p, n, path, pathlen) : 0;
}

int store_cache_get(struct store *s, int64_t watermark, const char *key, struct buf *out)
{
	return s->ops->cache_get ? s->ops->cache_get(s, watermark, key, out) : -1;
}
