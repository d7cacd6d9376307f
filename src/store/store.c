/* The store's public face: every call goes to the backend's table. */
#include "store/store.h"
#include "common/xalloc.h"

#include <stdlib.h>

#include "common/banned.h"

int store_open(struct store *s, const char *dir, char *err, size_t errlen)
{
	s->ops = &store_file_ops;
	s->dir = xstrdup(dir);
	s->impl = NULL;
	return s->ops->open(s, err, errlen);
}

void store_release(struct store *s)
{
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
