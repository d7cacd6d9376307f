/* The file backend of the store: store/<2 hex>/<watermark>.dcm, written
 * to store/tmp first and renamed in, fsynced both ways; answers kept
 * (renderings, metadata) in store/cache/<2 hex>/<watermark>/ (not
 * fsynced: a cache). */
#include "store/store.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include "common/banned.h"

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0750) && errno != EEXIST)
		return -1;
	return 0;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int file_open(struct store *s, char *err, size_t errlen)
{
	char sub[4200];

	snprintf(sub, sizeof(sub), "%s/tmp", s->dir);
	if (mkdir_p(sub)) {
		snprintf(err, errlen, "cannot create '%s': %s", sub, strerror(errno));
		return -1;
	}
	for (int i = 0; i < 256; i++) {
		snprintf(sub, sizeof(sub), "%s/%02x", s->dir, i);
		if (mkdir(sub, 0750) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create '%s': %s", sub, strerror(errno));
			return -1;
		}
	}
	fsync_dir(s->dir);
	return 0;
}

static void file_release(struct store *s)
{
	(void)s;
}

static void object_path(const struct store *s, int64_t watermark, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%02x/%lld.dcm", s->dir, (unsigned)(watermark & 0xff), (long long)watermark);
}

struct file_writer {
	struct store_writer w;
	int fd;
	char path[4200];
};

static struct store_writer *file_begin(struct store *s)
{
	struct file_writer *fw = xcalloc(1, sizeof(*fw));

	snprintf(fw->path, sizeof(fw->path), "%s/tmp/part-XXXXXX", s->dir);
	fw->fd = mkostemp(fw->path, O_CLOEXEC);
	if (fw->fd < 0) {
		log_error("cannot create a temp file in '%s/tmp': %s", s->dir, strerror(errno));
		free(fw);
		return NULL;
	}
	/* readable by the web server, which may send stored files itself
	 * (X-Sendfile): as the same user, or as the group the responders run
	 * with (www-data in the packages); nobody else */
	fchmod(fw->fd, 0640);
	fw->w.store = s;
	fw->w.path = fw->path;
	return &fw->w;
}

static int file_write(struct store_writer *w, const void *data, size_t n)
{
	struct file_writer *fw = (struct file_writer *)w;

	if (!util_write_full(fw->fd, data, n)) {
		log_error("cannot write '%s': %s", fw->path, strerror(errno));
		return -1;
	}
	w->size += (uint64_t)n;
	return 0;
}

static int file_write_at(struct store_writer *w, const void *p, size_t n, uint64_t off)
{
	struct file_writer *fw = (struct file_writer *)w;
	return pwrite(fw->fd, p, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

static void file_abort(struct store_writer *w)
{
	struct file_writer *fw = (struct file_writer *)w;
	if (fw->fd >= 0)
		close(fw->fd);
	unlink(fw->path);
	free(fw);
}

static int file_commit(struct store_writer *w, int64_t watermark)
{
	struct file_writer *fw = (struct file_writer *)w;
	struct store *s = w->store;
	char final[4200], dir[4200];

	/* an fsync error is final for this file: never retried into "success" */
	if (fsync(fw->fd)) {
		log_error("cannot fsync '%s': %s", fw->path, strerror(errno));
		file_abort(w);
		return -1;
	}
	close(fw->fd);
	fw->fd = -1;
	object_path(s, watermark, final, sizeof(final));
	if (rename(fw->path, final)) {
		log_error("cannot rename '%s' to '%s': %s", fw->path, final, strerror(errno));
		file_abort(w);
		return -1;
	}
	free(fw);
	snprintf(dir, sizeof(dir), "%s/%02x", s->dir, (unsigned)(watermark & 0xff));
	if (fsync_dir(dir)) {
		log_error("cannot fsync directory '%s': %s", dir, strerror(errno));
		unlink(final);
		return -1;
	}
	return 0;
}

struct file_reader {
	struct store_reader r;
	char path[4200];
};

static struct store_reader *read_path(struct store *s, const char *path)
{
	struct file_reader *fr = xcalloc(1, sizeof(*fr));
	struct stat st;

	snprintf(fr->path, sizeof(fr->path), "%s", path);
	fr->r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fr->r.fd < 0 || fstat(fr->r.fd, &st)) {
		log_error("cannot open '%s': %s", path, strerror(errno));
		if (fr->r.fd >= 0)
			close(fr->r.fd);
		free(fr);
		return NULL;
	}
	fr->r.store = s;
	fr->r.path = fr->path;
	fr->r.size = st.st_size;
	return &fr->r;
}

static struct store_reader *file_open_read(struct store *s, int64_t watermark)
{
	char path[4200];
	object_path(s, watermark, path, sizeof(path));
	return read_path(s, path);
}

static struct store_reader *file_open_written(struct store_writer *w)
{
	return read_path(w->store, w->path);
}

static ssize_t file_read_at(struct store_reader *r, void *p, size_t n, int64_t off)
{
	struct file_reader *fr = (struct file_reader *)r;
	ssize_t got;
	while ((got = pread(fr->r.fd, p, n, (off_t)off)) < 0 && errno == EINTR)
		;
	return got;
}

static void file_close(struct store_reader *r)
{
	struct file_reader *fr = (struct file_reader *)r;
	close(fr->r.fd);
	free(fr);
}

static void cache_dir(const struct store *s, int64_t watermark, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/cache/%02x/%lld", s->dir, (unsigned)(watermark & 0xff), (long long)watermark);
}

/* The answers kept for an object, and their directory. */
static void cache_remove(struct store *s, int64_t watermark)
{
	char dir[4200], path[4600];
	DIR *d;
	struct dirent *e;

	cache_dir(s, watermark, dir, sizeof(dir));
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int file_remove(struct store *s, int64_t watermark)
{
	char path[4200];

	cache_remove(s, watermark);
	object_path(s, watermark, path, sizeof(path));
	if (unlink(path) && errno != ENOENT) {
		log_warn("cannot remove '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int file_cached(struct store *s, int64_t watermark, const char *key, char *path, size_t n)
{
	char dir[4200];

	cache_dir(s, watermark, dir, sizeof(dir));
	snprintf(path, n, "%s/%s", dir, key);
	return access(path, R_OK) == 0;
}

static int file_cache_get(struct store *s, int64_t watermark, const char *key, struct buf *out)
{
	char path[4600], chunk[65536];
	ssize_t got = 0;

	if (!file_cached(s, watermark, key, path, sizeof(path)))
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)got);
	close(fd);
	return got < 0 ? -1 : 0;
}

/* Written to tmp and renamed in, so that a reader sees a whole file or
 * none. An object removed meanwhile (a delete racing the answer) takes
 * the new answer with it. */
static int file_cache_put(struct store *s, int64_t watermark, const char *key, const void *p, size_t n,
			  char *path, size_t pathlen)
{
	char dir[4200], obj[4200];
	struct store_writer *w = file_begin(s);

	if (!w)
		return 0;
	cache_dir(s, watermark, dir, sizeof(dir));
	snprintf(path, pathlen, "%s/%s", dir, key);
	/* the object's directory, made when it is the first answer kept
	 * (its parents exist but for the first of its bucket) */
	if (file_write(w, p, n) || (mkdir(dir, 0750) && errno != EEXIST && mkdir_p(dir)) || rename(w->path, path)) {
		log_warn("cannot keep the answer '%s': %s", path, strerror(errno));
		file_abort(w);
		return 0;
	}
	struct file_writer *fw = (struct file_writer *)w;
	close(fw->fd);
	free(fw);
	object_path(s, watermark, obj, sizeof(obj));
	if (access(obj, F_OK)) {
		cache_remove(s, watermark);
		return 0;
	}
	return 1;
}

/* Temp files older than min_age belong to requests that died with their
 * responder; newer ones may be another responder's upload in progress. */
static void file_sweep_temp(struct store *s, long min_age)
{
	char dir[4200], path[4600];
	DIR *d;
	struct dirent *e;
	time_t now = time(NULL);

	snprintf(dir, sizeof(dir), "%s/tmp", s->dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		if (strncmp(e->d_name, "part-", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!stat(path, &st) && now - st.st_mtime > min_age)
			unlink(path);
	}
	closedir(d);
}

#define SWEEP_BATCH 512

static long sweep_batch(struct store *s, const int64_t *wm, size_t n, store_known_fn known, void *ctx)
{
	unsigned char k[SWEEP_BATCH];
	long removed = 0;

	if (known(ctx, wm, n, k))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (k[i])
			continue;
		if (file_remove(s, wm[i]) == 0) {
			log_info("removed orphan file watermark=%lld", (long long)wm[i]);
			removed++;
		}
	}
	return removed;
}

static long file_sweep(struct store *s, long min_age, store_known_fn known, void *ctx)
{
	int64_t batch[SWEEP_BATCH];
	size_t n = 0;
	long removed = 0;
	time_t now = time(NULL);
	char dir[4200], path[4600];

	for (int sub = 0; sub < 256; sub++) {
		snprintf(dir, sizeof(dir), "%s/%02x", s->dir, sub);
		DIR *d = opendir(dir);
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d))) {
			long long wm;
			char tail[8];
			struct stat st;
			if (sscanf(e->d_name, "%lld%7s", &wm, tail) != 2 || strcmp(tail, ".dcm"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			/* young files may belong to a store that has not committed yet */
			if (stat(path, &st) || now - st.st_mtime < min_age)
				continue;
			batch[n++] = wm;
			if (n == SWEEP_BATCH) {
				long r = sweep_batch(s, batch, n, known, ctx);
				if (r < 0) {
					closedir(d);
					return -1;
				}
				removed += r;
				n = 0;
			}
		}
		closedir(d);
	}
	if (n) {
		long r = sweep_batch(s, batch, n, known, ctx);
		if (r < 0)
			return -1;
		removed += r;
	}
	return removed;
}

const struct store_ops store_file_ops = {
	.name = "file",
	.open = file_open,
	.release = file_release,
	.begin = file_begin,
	.write = file_write,
	.write_at = file_write_at,
	.commit = file_commit,
	.abort = file_abort,
	.open_read = file_open_read,
	.open_written = file_open_written,
	.read_at = file_read_at,
	.close = file_close,
	.remove = file_remove,
	.sweep = file_sweep,
	.sweep_temp = file_sweep_temp,
	.cached = file_cached,
	.cache_put = file_cache_put,
	.cache_get = file_cache_get,
};
