/* What the end-to-end tests share: an HTTP client over libcurl, fixture
 * files made by mkdcm (GDCM), multipart bodies, and direct reads of the
 * database to check rows a client cannot see. */
#ifndef ADE_TEST_CLIENT_H
#define ADE_TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

struct resp {
	long status;
	struct buf headers; /* raw header block */
	struct buf body;
};

/* Skips the program (exit 77) when no stack is configured, or fails it
 * when EMULATOR_REQUIRE_STACK=1 (scripts/check sets it). */
void e2e_init(void);
const char *e2e_base(void);
/* Sends the following requests to another stack (a URL like EMULATOR_URL). */
void e2e_use_base(const char *url);

/* path is appended to EMULATOR_URL. headers: NULL-terminated list of
 * "Name: value". body may be NULL. */
int http_do(const char *method, const char *path, const char *const *headers, const void *body, size_t len,
	    struct resp *r);
/* The HTTP status of a request whose answer is not looked at further, or
 * -1 when none came. */
long http_status(const char *method, const char *path, const char *const *headers, const void *body, size_t len);
/* POST of a file's bytes with Transfer-Encoding: chunked. */
int http_post_file_chunked(const char *path, const char *const *headers, const char *file, struct resp *r);
/* POST of a file's bytes with Content-Length, streamed from disk. */
int http_post_file(const char *path, const char *const *headers, const char *file, struct resp *r);
/* STOW of one file as application/dicom (answers as DICOM JSON). */
int post_dicom_file(const char *path, const char *file, struct resp *r);
/* GET writing the body to a file; returns status in r (body empty). */
int http_get_to_file(const char *path, const char *const *headers, const char *file, struct resp *r);
void resp_release(struct resp *r);
/* Header value (first match, case-insensitive) copied into out; NULL if absent. */
const char *resp_header(const struct resp *r, const char *name, char *out, size_t outlen);
cJSON *resp_json(const struct resp *r); /* caller frees */

/* A new unique UID under 2.25 (static buffer rotation: copy if kept). */
const char *uid_new(void);
/* Writes a DICOM file with mkdcm; args is mkdcm's options after -o.
 * Returns the path (caller frees) or NULL. */
char *make_dcm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Makes a file with mkdcm's options, stores it (POST /v2/studies, one
 * application/dicom body) and removes it. Returns 0 when stored (200). */
int store_made(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* DELETE /v2/studies/{study}: the HTTP status, or -1 when no answer came. */
long delete_study(const char *study);
int file_read(const char *path, struct buf *out);
/* n bytes at p as the file path (made or emptied first): 0, or -1. */
int file_write(const char *path, const void *p, size_t n);
/* multipart/related body of the files, each part application/dicom */
void multipart_body(struct buf *out, const char *boundary, const char *const *files, size_t n, bool part_lengths,
		    bool final_crlf);
/* Splits a multipart response body into parts (bodies only, without part
 * headers); returns the count. parts[i] point into body. */
size_t multipart_split(const struct resp *r, const char **parts, size_t *lens, size_t max, char (*ctypes)[128]);

/* Runs a query with params against the emulator's database and returns the
 * first column of the first row as a number (-1 on error or no row). */
long long db_scalar(const char *sql, const char *p1, const char *p2);

/* Path of the stored file for a watermark. */
void store_file_path(long long watermark, char *out, size_t outlen);

/* DICOM JSON helpers: first string value of tag in obj, or NULL */
const char *dj_str(const cJSON *obj, const char *tag);
long dj_int(const cJSON *obj, const char *tag, long dflt);
const cJSON *dj_seq(const cJSON *obj, const char *tag);

/* Runs a shell command (formatted); its exit status, -1 when it died. */
int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An uncompressed little-endian file's image: its attributes and all its
 * frames' pixel bytes one after another. For decoders' outputs and the
 * emulator's. native_interleave makes colour by plane colour by pixel. */
struct native {
	int rows, cols, spp, bits, planar;
	long frames;
	char pi[32], ts[72];
	struct buf px;
};
int native_read(const char *file, struct native *n);
void native_interleave(struct native *n);
void native_release(struct native *n);
/* A binary PGM or PPM (8-bit) as written by dcmj2pnm. */
int pnm_read(const char *file, struct buf *px, int *width, int *height, int *channels);
#endif
