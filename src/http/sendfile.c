#include "http/sendfile.h"
#include "http/response.h"
#include "common/buf.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
	util_uuid(f->boundary);
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

/* The framing file of syntax ts: "\r\n--B\r\nContent-Type: application/dicom;
 * transfer-syntax=TS\r\n\r\n" then "\r\n--B--\r\n". Its index, or -1. */
static int framing_file(struct sendfile_framing *f, const char *ts)
{
	char head[512], tail[128], tmp[4300];

	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->files[i].ts, ts))
			return (int)i;
	if (f->n == sizeof(f->files) / sizeof(f->files[0]) || strlen(ts) >= sizeof(f->files[0].ts))
		return -1;
	int hl = snprintf(head, sizeof(head), "\r\n--%s\r\nContent-Type: application/dicom; transfer-syntax=%s\r\n\r\n",
			  f->boundary, ts);
	int tl = snprintf(tail, sizeof(tail), "\r\n--%s--\r\n", f->boundary);
	size_t i = f->n;
	char path[sizeof(f->files[0].path)];
	snprintf(path, sizeof(path), "%s/frame-%ld-%zu.bin", f->dir, (long)getpid(), i);
	memcpy(f->files[i].path, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, head, (size_t)hl) != hl || write(fd, tail, (size_t)tl) != tl || close(fd) ||
	    rename(tmp, f->files[i].path)) {
		unlink(tmp);
		return -1;
	}
	snprintf(f->files[i].ts, sizeof(f->files[i].ts), "%s", ts);
	f->files[i].head_len = (size_t)hl;
	f->files[i].tail_len = (size_t)tl;
	f->n++;
	return (int)i;
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
	struct buf h;

	buf_init(&h, 0);
	for (size_t i = 0; i < n; i++) {
		int k = framing_file(f, parts[i].ts);
		if (k < 0) {
			buf_release(&h);
			return 1;
		}
		size_t head_len = f->files[k].head_len, tail_len = f->files[k].tail_len;
		if (i)
			buf_adds(&h, ", ");
		add_encoded(&h, f->files[k].path);
		buf_addf(&h, " %d-%zu, ", i ? 0 : 2, head_len - 1);
		add_encoded(&h, parts[i].path);
		if (parts[i].size > 0)
			buf_addf(&h, " 0-%lld", (long long)parts[i].size - 1);
		else
			buf_adds(&h, " 0-0"); /* never stored: an empty file fails to parse */
		if (i == n - 1) {
			buf_adds(&h, ", ");
			add_encoded(&h, f->files[k].path);
			buf_addf(&h, " %zu-%zu", head_len, head_len + tail_len - 1);
		}
	}
	http_add_header(req, "Content-Type", "multipart/related; boundary=%s", f->boundary);
	http_add_header(req, "X-Sendfile2", "%s", buf_str(&h));
	buf_release(&h);
	return http_send_head(req) ? -1 : 0;
}
