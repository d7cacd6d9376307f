/* The durable file store: one file per instance version, named by its
 * watermark, store/<2 hex>/<watermark>.dcm. Temp files live in store/tmp on
 * the same file system so that rename is atomic. */
#ifndef ADE_STORE_H
#define ADE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store {
	char *dir;
};

int store_open(struct store *s, const char *dir, char *err, size_t errlen);
void store_release(struct store *s);
/* Creates an empty temp file; fills path. Returns an fd or -1. */
int store_tmp_create(struct store *s, char *path, size_t pathlen);
/* Makes the temp file durable under its watermark name: fsync the file,
 * rename, fsync the directory. Closes fd. Returns 0 or -1 (the temp file
 * is removed on failure). */
int store_commit(struct store *s, int fd, const char *tmp_path, int64_t watermark);
void store_path(const struct store *s, int64_t watermark, char *out, size_t outlen);
int store_remove(struct store *s, int64_t watermark);

/* The multipart framing for X-Sendfile2 answers: a small file holding
 * "\r\n--B\r\nContent-Type: application/dicom; transfer-syntax=TS\r\n\r\n"
 * followed by "\r\n--B--\r\n", made once per process and syntax.
 * head_len is the length of the first piece. Returns 0 or -1. */
int store_frame_file(struct store *s, const char *boundary, const char *ts, char *path, size_t pathlen,
		     size_t *head_len, size_t *tail_len);
/* Calls known() with batches of watermarks of stored files older than
 * min_age seconds; removes those it says have no row. Returns the number
 * removed, or -1. */
typedef int (*store_known_fn)(void *ctx, const int64_t *wm, size_t n, unsigned char *known);
long store_sweep_orphans(struct store *s, long min_age, store_known_fn known, void *ctx);

/* Removes framing files of responders that are gone. */
void store_sweep_frames(struct store *s);

#endif
