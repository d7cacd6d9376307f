/* Answers whose bytes the web server sends itself with sendfile(2):
 * X-Sendfile (lighttpd's x-sendfile, Apache's mod_xsendfile) for one file,
 * X-Sendfile2 (lighttpd) for a multipart answer made of file ranges, its
 * framing kept in small files made once per process and syntax. */
#ifndef ADE_HTTP_SENDFILE_H
#define ADE_HTTP_SENDFILE_H

#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

/* The framing of X-Sendfile2 answers: a small file per answer, with a
 * boundary of its own (a boundary fixed per process would let stored bytes
 * forge parts in another client's answer), written into a ring of slots:
 * a slot is rewritten (by rename, so an open copy stays whole) only
 * SENDFILE_SLOTS answers later, long after the web server opened it. */
#define SENDFILE_SLOTS 64

struct sendfile_framing {
	char dir[4096];      /* where the framing files live (the store's tmp) */
	unsigned long seq;   /* answers so far: the next slot */
};

/* Sets up the framing of this process in dir, and removes the framing
 * files of processes that are gone. */
void sendfile_init(struct sendfile_framing *f, const char *dir);

/* The head of an answer whose body is the file at path. Content-Type and
 * the like are added before. Returns http_send_head's result. */
int sendfile_single(struct request *req, const char *path);

struct sendfile_part {
	const char *path;
	int64_t size;
	const char *ts;      /* the part's transfer syntax */
};

/* A multipart/related answer of whole files (application/dicom parts).
 * Returns 0 (sent), -1 (client gone), or 1 when the framing files cannot
 * be made and the caller should stream instead. */
int sendfile_multipart(struct request *req, struct sendfile_framing *f, const struct sendfile_part *parts, size_t n);

#endif
