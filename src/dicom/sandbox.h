/* The sandbox: every decode of a client's file that can crash or stall
 * GDCM or a codec goes through here, and runs in a child process with
 * limits (common/isolate.h), so that such a file costs one request and
 * not the responder. Handlers call these, never isolate_* or fork.
 *
 * Isolated: the store-time parse (a kept child a responder, which sends
 * back what the store needs: identity, validation, metadata, indexed
 * attributes), decoding for display (another kept child, which is given
 * each file's open descriptor and may open none), frame offsets, bulk
 * values, transcoding, the rewrite of a bulk update. In the responder: only the
 * uncompressed rendering fast path, which reads a frame's bytes at offsets
 * the child found and needs no parser. */
#ifndef ADE_DICOM_SANDBOX_H
#define ADE_DICOM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/isolate.h"
#include "dicom/validate.h"

/* A responder's sandbox: lives in struct app. */
struct sandbox {
	struct isolate_worker parser; /* kept child for the store-time parse */
	struct isolate_worker renderer; /* kept child for decoding for display */
	uint64_t renew_after;           /* no sandbox_renew before (ms), after one that failed */
};

void sandbox_init(struct sandbox *sb);
void sandbox_release(struct sandbox *sb);

/* The indexed attributes a stored instance gives its rows, in this order. */
enum {
	PARSED_PATIENT_ID, PARSED_PATIENT_NAME, PARSED_BIRTH_DATE, PARSED_ACCESSION, PARSED_REFERRING,
	PARSED_STUDY_DATE, PARSED_STUDY_DESCRIPTION, PARSED_MODALITY, PARSED_PPS_START_DATE, PARSED_MODEL,
	PARSED_NATTRS
};

/* What a store needs of an instance, read by GDCM in the kept child. */
struct sandbox_parsed {
	char study[72], series[72], sop[72], sop_class[72];
	char ts[72];                  /* "" when the file has no meta header */
	bool implicit_vr;
	struct validation v;          /* errors, warnings, multi_valued_index (dropped: not sent) */
	struct buf meta, bulk;        /* DICOM JSON without and with bulk data links, dropped attributes left out */
	char *attrs[PARSED_NATTRS];   /* NULL when absent, empty or dropped */
	char *frame_ranges;           /* where the frames are (dcm_frame_ranges), checked against
				       * the file's size; NULL when none or not told */
};

/* Not the file's fault: the child (kept or one-shot) could not be started,
 * or was killed from outside (ISOLATE_KILLED), or the file could not be
 * opened for it. The caller answers 503, or tries again later. */
enum { SANDBOX_RETRY = 3 };

/* Parses the file at path in the kept child as the store does (GDCM reads
 * it whole: dcm_open_memory and dcm_check, so that a file that crashes or
 * stalls GDCM costs the child, which opens no file: it is handed the
 * descriptor and maps it; then validate_instance for api_major with the extended
 * query tags eqt, then both JSON forms). Returns 0 with p filled (refused
 * when p->v.nerrors), -1 with a reason (unreadable, crashed or stalled
 * the parser, or an answer that does not add up), or SANDBOX_RETRY with a
 * reason. Release p either way. */
int sandbox_parse(struct sandbox *sb, const char *path, int api_major, const uint32_t *eqt, size_t neqt,
		  struct sandbox_parsed *p, char *err, size_t errlen);
void sandbox_parsed_release(struct sandbox_parsed *p);

/* Starts the kept children and has them parse and render an instance made
 * here, so that a responder's first STOW and first rendering do not wait
 * for a child's start and first run (8 - 15 ms more than later ones). 0,
 * or -1 with a reason. */
int sandbox_warm(struct sandbox *sb, char *err, size_t errlen);
/* Between requests: a kept child due for replacement (its requests served,
 * or lost in a request) is replaced and the two warmed up as above, so that
 * the next request does not pay for it. 1 when it did, 0 when there was
 * nothing to do, -1 with a reason; after a failure, nothing is tried for
 * SANDBOX_RENEW_PAUSE_MS (the requests start what they need, as before). */
#define SANDBOX_RENEW_PAUSE_MS 10000
int sandbox_renew(struct sandbox *sb, char *err, size_t errlen);

/* Writes src transcoded to syntax ts into dst (an existing file). 0, or -1
 * with a reason, or SANDBOX_NO_ROOM (below) when dst could not be
 * written, or SANDBOX_RETRY when its child could not be started. */
int sandbox_transcode(const char *src, const char *dst, const char *ts, char *err, size_t errlen);

/* Writes src with the bulk update's n changes applied into dst (an existing
 * file), as dcm_update does. 0, or -1 with a reason, or SANDBOX_NO_ROOM
 * when dst could not be written (no room, an I/O error: worth trying
 * again later), or SANDBOX_RETRY when its child could not be started. */
enum { SANDBOX_NO_ROOM = 2 };
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

/* Appends frame (1-based) of the file open on fd (the caller's, left
 * open), rendered as o says in sb's kept render child, to img. offset and
 * length: where the frame lies in the file, as the index keeps it (-1 when
 * it does not): an uncompressed frame is then made 8-bit in place, without
 * a decoder. 0,
 * SANDBOX_NO_FRAME when there is no such frame or no pixel data, -1 or
 * SANDBOX_RETRY with a reason. */
int sandbox_render(struct sandbox *sb, int fd, long frame, long long offset, long long length,
		   const struct render_opts *o, struct buf *img, char *err, size_t errlen);

/* Where the frames of the file at path are (dcm_frame_ranges), found in a
 * child; -1 also when the child fails. */
long sandbox_frame_ranges(const char *path, struct buf *out);

/* A bulk element's value (dcm_bulk_value), read in a child; -1 also when
 * the child fails. */
int sandbox_bulk_value(const char *path, const uint32_t *tags, const long *items, size_t depth, struct buf *out);

#endif
