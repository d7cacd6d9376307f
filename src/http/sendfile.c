#include "http/sendfile.h"
#include "http/response.h"
#include "common/buf.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/banned.h"

void sendfile_init(struct sendfile_framing *f, const char *dir)
{
	char path[4600];
	DIR *d;
	struct dirent *e;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
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

/* Writes this answer's framing into the next slot: for each syntax of
 * parts (heads[i] is the offset of part i's head, lens[i] its length),
 * "\r\n--B\r\nContent-Type: application/dicom; transfer-syntax=TS\r\n\r\n",
 * then the tail "\r\n--B--\r\n" at *tail. Returns 0 and the file's path,
 * or -1. */
static int write_framing(struct sendfile_framing *f, struct arena *a, const char *boundary,
			 const struct sendfile_part *parts, size_t n, size_t *heads, size_t *lens, size_t *tail,
			 const char **path)
{
	struct buf b;
	char tmp[4300];
	int rc = -1;

	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < i && strcmp(parts[k].ts, parts[i].ts))
			k++;
		if (k < i) { /* the same syntax as an earlier part: its head */
			heads[i] = heads[k];
			lens[i] = lens[k];
			continue;
		}
		heads[i] = b.len;
		buf_addf(&b, "\r\n--%s\r\nContent-Type: application/dicom; transfer-syntax=%s\r\n\r\n", boundary, parts[i].ts);
		lens[i] = b.len - heads[i];
	}
	*tail = b.len;
	buf_addf(&b, "\r\n--%s--\r\n", boundary);
	*path = arena_printf(a, "%s/frame-%ld-%lu.bin", f->dir, (long)getpid(), f->seq++ % SENDFILE_SLOTS);
	snprintf(tmp, sizeof(tmp), "%s.new", *path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0) {
		bool ok = write(fd, b.data, b.len) == (ssize_t)b.len;
		if (!close(fd) && ok && !rename(tmp, *path))
			rc = 0;
		else
			unlink(tmp);
	}
	buf_release(&b);
	return rc;
}

/* Appends path to the header value, percent-encoding what lighttpd would
 * take for a separator. */
static void add_encoded(struct buf *b, const char *path)
{
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '/' ||
		    *p == '.' || *p == '-' || *p == '_')
			buf_addch(b, (char)*p);
		else
			buf_addf(b, "%%%02X", *p);
	}
}

int sendfile_single(struct request *req, const char *path)
{
	http_add_header(req, "X-Sendfile", "%s", path);
	return http_send_head(req);
}

/* Framing, instance, framing, ..., tail: all file ranges. */
int sendfile_multipart(struct request *req, struct sendfile_framing *f, const struct sendfile_part *parts, size_t n)
{
	size_t *heads = arena_alloc(&req->arena, n * sizeof(*heads)), *lens = arena_alloc(&req->arena, n * sizeof(*lens));
	size_t tail;
	char boundary[37];
	const char *frame;
	struct buf h;

	util_uuid(boundary);
	if (write_framing(f, &req->arena, boundary, parts, n, heads, lens, &tail, &frame))
		return 1;
	buf_init(&h, 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(&h, ", ");
		add_encoded(&h, frame);
		/* the first head without its leading CRLF */
		buf_addf(&h, " %zu-%zu, ", heads[i] + (i ? 0 : 2), heads[i] + lens[i] - 1);
		add_encoded(&h, parts[i].path);
		if (parts[i].size > 0)
			buf_addf(&h, " 0-%lld", (long long)parts[i].size - 1);
		else
			buf_adds(&h, " 0-0"); /* never stored: an empty file fails to parse */
	}
	buf_adds(&h, ", ");
	add_encoded(&h, frame);
	buf_addf(&h, " %zu-%zu", tail, tail + strlen(boundary) + 7);
	http_add_header(req, "Content-Type", "multipart/related; boundary=%s", boundary);
	http_add_header(req, "X-Sendfile2", "%s", buf_str(&h));
	buf_release(&h);
	return http_send_head(req) ? -1 : 0;
}
