#include "store/store.h"
#include "common/log.h"
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
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
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

int store_open(struct store *s, const char *dir, char *err, size_t errlen)
{
	char sub[4200];

	s->dir = xstrdup(dir);
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	if (mkdir_p(sub)) {
		snprintf(err, errlen, "cannot create '%s': %s", sub, strerror(errno));
		return -1;
	}
	for (int i = 0; i < 256; i++) {
		snprintf(sub, sizeof(sub), "%s/%02x", dir, i);
		if (mkdir(sub, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create '%s': %s", sub, strerror(errno));
			return -1;
		}
	}
	fsync_dir(dir);
	return 0;
}

void store_release(struct store *s)
{
	free(s->dir);
	s->dir = NULL;
}

int store_tmp_create(struct store *s, char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/tmp/part-XXXXXX", s->dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		log_error("cannot create a temp file in '%s/tmp': %s", s->dir, strerror(errno));
		return -1;
	}
	/* readable by the web server, which may send stored files itself (X-Sendfile) */
	fchmod(fd, 0644);
	return fd;
}

void store_path(const struct store *s, int64_t watermark, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%02x/%lld.dcm", s->dir, (unsigned)(watermark & 0xff), (long long)watermark);
}

int store_commit(struct store *s, int fd, const char *tmp_path, int64_t watermark)
{
	char final[4200], dir[4200];

	/* an fsync error is final for this file: never retried into "success" */
	if (fsync(fd)) {
		log_error("cannot fsync '%s': %s", tmp_path, strerror(errno));
		close(fd);
		unlink(tmp_path);
		return -1;
	}
	close(fd);
	store_path(s, watermark, final, sizeof(final));
	if (rename(tmp_path, final)) {
		log_error("cannot rename '%s' to '%s': %s", tmp_path, final, strerror(errno));
		unlink(tmp_path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%02x", s->dir, (unsigned)(watermark & 0xff));
	if (fsync_dir(dir)) {
		log_error("cannot fsync directory '%s': %s", dir, strerror(errno));
		unlink(final);
		return -1;
	}
	return 0;
}

int store_remove(struct store *s, int64_t watermark)
{
	char path[4200];

	store_path(s, watermark, path, sizeof(path));
	if (unlink(path) && errno != ENOENT) {
		log_warn("cannot remove '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct frame {
	char ts[72];
	char path[4200];
	size_t head_len, tail_len;
};

static struct frame frames[16];
static size_t nframes;

int store_frame_file(struct store *s, const char *boundary, const char *ts, char *path, size_t pathlen,
		     size_t *head_len, size_t *tail_len)
{
	char head[512], tail[128], tmp[4200];
	size_t i;

	for (i = 0; i < nframes; i++)
		if (!strcmp(frames[i].ts, ts))
			goto found;
	if (nframes == sizeof(frames) / sizeof(frames[0]) || strlen(ts) >= sizeof(frames[0].ts))
		return -1;
	int hl = snprintf(head, sizeof(head), "\r\n--%s\r\nContent-Type: application/dicom; transfer-syntax=%s\r\n\r\n",
			  boundary, ts);
	int tl = snprintf(tail, sizeof(tail), "\r\n--%s--\r\n", boundary);
	struct frame *f = &frames[nframes];
	snprintf(f->path, sizeof(f->path), "%s/tmp/frame-%ld-%zu.bin", s->dir, (long)getpid(), nframes);
	snprintf(tmp, sizeof(tmp), "%s.new", f->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, head, (size_t)hl) != hl || write(fd, tail, (size_t)tl) != tl || close(fd) ||
	    rename(tmp, f->path)) {
		unlink(tmp);
		return -1;
	}
	snprintf(f->ts, sizeof(f->ts), "%s", ts);
	f->head_len = (size_t)hl;
	f->tail_len = (size_t)tl;
	i = nframes++;
found:
	snprintf(path, pathlen, "%s", frames[i].path);
	*head_len = frames[i].head_len;
	*tail_len = frames[i].tail_len;
	return 0;
}

void store_sweep_frames(struct store *s)
{
	char dir[4200], path[4600];
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/tmp", s->dir);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		long pid;
		if (sscanf(e->d_name, "frame-%ld-", &pid) != 1)
			continue;
		if (pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
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
		if (store_remove(s, wm[i]) == 0) {
			log_info("removed orphan file watermark=%lld", (long long)wm[i]);
			removed++;
		}
	}
	return removed;
}

long store_sweep_orphans(struct store *s, long min_age, store_known_fn known, void *ctx)
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
