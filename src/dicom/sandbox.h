/* The sandbox: every decode of a client's file that can crash or stall
 * GDCM or a codec goes through here, and runs in a child process with
 * limits (common/isolate.h), so that such a file costs one request and
 * not the responder. Handlers call these, never isolate_* or fork.
 *
 * Isolated: the store-time probe (a kept child a responder), decoding for
 * display, transcoding, the rewrite of a bulk update. Still in the responder (cheap, no codec; to be
 * moved behind the same walls): frame offsets, bulk values, the
 * uncompressed rendering fast path. */
#ifndef ADE_DICOM_SANDBOX_H
#define ADE_DICOM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/isolate.h"

/* A responder's sandbox: lives in struct app. */
struct sandbox {
	struct isolate_worker prober; /* kept child for the store-time probe */
};

void sandbox_init(struct sandbox *sb);
void sandbox_release(struct sandbox *sb);

/* Parses the file at path as a store does, in the kept child: 0 when GDCM
 * reads it whole, -1 with a reason (unreadable, or it crashed or stalled
 * the parser). */
int sandbox_probe(struct sandbox *sb, const char *path, char *err, size_t errlen);

/* Writes src transcoded to syntax ts into dst (an existing file). 0, or -1
 * with a reason. */
int sandbox_transcode(const char *src, const char *dst, const char *ts, char *err, size_t errlen);

/* Writes src with the bulk update's n changes applied into dst (an existing
 * file), as dcm_update does. 0, or -1 with a reason. */
struct dcm_change;
int sandbox_update(const char *src, const char *dst, const struct dcm_change *c, size_t n, char *err, size_t errlen);

/* How to show a frame: JPEG (quality 1-100) or PNG, shrunk to fit a
 * viewport when max_width is set (thumbnails). */
struct render_opts {
	bool png;
	int quality;
	int max_width, max_height;
};

enum { SANDBOX_NO_FRAME = 1 };

/* Appends frame (1-based) of the file at path, rendered as o says, to img.
 * 0, SANDBOX_NO_FRAME when there is no such frame or no pixel data, -1
 * with a reason. */
int sandbox_render(const char *path, long frame, const struct render_opts *o, struct buf *img, char *err,
		   size_t errlen);

/* The same for one frame of an uncompressed file, read at offset (length
 * bytes) in the responder: 0, 1 when the file is not of that kind
 * (sandbox_render serves it), -1 with a reason. */
int sandbox_render_native(const char *path, long long offset, long long length, const struct render_opts *o,
			  struct buf *img, char *err, size_t errlen);

/* Where the frames of the file at path are (dcm_frame_ranges). */
long sandbox_frame_ranges(const char *path, struct buf *out);

/* A bulk element's value (dcm_bulk_value). */
int sandbox_bulk_value(const char *path, const uint32_t *tags, const long *items, size_t depth, struct buf *out);

#endif
