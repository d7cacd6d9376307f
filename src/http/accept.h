/* Accept header parsing and the service's negotiation rules. */
#ifndef ADE_HTTP_ACCEPT_H
#define ADE_HTTP_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"

struct accept_item {
	const char *media;     /* lower case; for multipart/related: its type parameter */
	bool multipart;
	const char *ts;        /* transfer-syntax parameter, NULL when absent */
	double q;
};

/* Parses a whole Accept header into items (arena-owned), sorted by q
 * descending, stable. Returns the count, -1 if malformed. */
int accept_parse(struct arena *a, const char *header, struct accept_item **items);

/* The service's filter for application/dicom+json responses: true when any
 * listed type matches (*\/\*, application/\*, application/json,
 * application/dicom+json); false for no header at all. */
bool accept_allows_dicom_json(const char *header);

enum accept_resource { ACCEPT_STUDY, ACCEPT_SERIES, ACCEPT_INSTANCE };

struct accept_choice {
	bool multipart;
	const char *ts;        /* "*" (original) or a transfer syntax UID */
	const char *media;     /* "application/dicom" */
};

#define TS_EXPLICIT_LE "1.2.840.10008.1.2.1"
#define TS_IMPLICIT_LE "1.2.840.10008.1.2"
#define TS_JPEG2000_LOSSLESS "1.2.840.10008.1.2.4.90"

/* Chooses the response form for a WADO retrieve of a study, series or
 * instance (§4.2). The service transcodes to explicit VR little endian
 * and JPEG 2000 lossless only; all (transcoding "all") also offers
 * implicit VR little endian, RLE, JPEG baseline, extended and lossless,
 * JPEG-LS and lossy JPEG 2000. Returns 0, or -1 when nothing acceptable
 * (406). */
int accept_negotiate_retrieve(struct arena *a, const char *header, enum accept_resource res, bool all,
			      struct accept_choice *out);

/* The same for frames: application/octet-stream (single or multipart;
 * explicit VR little endian unless transfer-syntax=*), image/jp2
 * (multipart only, JPEG 2000 lossless), and *\/\* (multipart, original);
 * with all, also image/jpeg, image/jls, image/dicom-rle and lossy
 * image/jp2, single part or multipart (PS3.18 table 8.7.3-2). */
int accept_negotiate_frames(struct arena *a, const char *header, bool all, struct accept_choice *out);

/* Bulk data (PS3.18 §8.7.4): application/octet-stream, single part or
 * multipart, and *\/\* (multipart). */
int accept_negotiate_bulkdata(struct arena *a, const char *header, struct accept_choice *out);

#endif
