/* The GDCM bridge: the only code that sees GDCM. Opaque handles, C types,
 * every C++ exception caught at the boundary and turned into -1 plus a
 * message. */
#ifndef ADE_DICOM_DCM_H
#define ADE_DICOM_DCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DCM_TAG(g, e) ((uint32_t)(((uint32_t)(g) << 16) | (uint32_t)(e)))

struct dcm_file;

/* Parses the file's meta header and data set up to the pixel data (which is
 * not loaded). Returns a handle (caller frees with dcm_free) or NULL with a
 * reason in err. */
struct dcm_file *dcm_open(const char *path, char *err, size_t errlen);
/* The same for a file's bytes in memory (a mapped file), which must stay
 * there until dcm_free: no system call reads or seeks. */
struct dcm_file *dcm_open_memory(const void *data, size_t size, char *err, size_t errlen);
/* The same for the file open on fd (read through duplicates of it; fd
 * stays the caller's, open until dcm_free). */
struct dcm_file *dcm_open_fd(int fd, char *err, size_t errlen);
void dcm_free(struct dcm_file *f);

/* Reads the open file as a store does (both JSON forms, appended to meta
 * and bulk, every element, the pixel data's length against the file's):
 * in the store-time child, so that a
 * client's file that crashes GDCM (Debian's build aborts on assertions for
 * some truncated files) costs that child. Returns 0, or -1 with a reason. */
int dcm_check(const struct dcm_file *f, struct buf *meta, struct buf *bulk, char *err, size_t errlen);

/* Transfer syntax UID of the file (borrowed until dcm_free); "" when the
 * file has no meta header and the syntax had to be guessed. */
const char *dcm_transfer_syntax(const struct dcm_file *f);
/* True when the data set is encoded with implicit VR. */
bool dcm_is_implicit_vr(const struct dcm_file *f);

/* The first value of a top-level element as text, trimmed of padding
 * (spaces, and NULs for UI). Returns 1 and fills out when present with a
 * value, 0 when present but empty, -1 when absent. out is always
 * NUL-terminated; longer values are cut. */
int dcm_get_string(const struct dcm_file *f, uint32_t tag, char *out, size_t outlen);

struct dcm_element {
	uint32_t tag;
	char vr[3];          /* from the file, or the dictionary for implicit VR; "UN" if unknown */
	const char *value;   /* raw bytes (borrowed during the callback); NULL for sequences */
	size_t len;
	bool from_file_vr;   /* VR was written in the file (explicit VR) */
	bool text_invalid;   /* text (SH, LO, ST, LT, UT, PN, UC) with bytes its declared
	                        SpecificCharacterSet does not have */
};

/* Calls cb for each top-level element in tag order; stops when cb returns
 * non-zero and returns that value. */
int dcm_foreach(const struct dcm_file *f, int (*cb)(void *ctx, const struct dcm_element *e), void *ctx);

/* Appends the data set as a DICOM JSON object (PS3.18 F.2), leaving out
 * the top-level tags in skip. Bulk data (OB, OD, OF, OL, OV, OW, UN) is
 * left out, recursively, as the service does; with bulk_links it is listed
 * as {"vr":..,"BulkDataURI":"bulkdata/{path}"} instead, path being the tag
 * ("7FE00010") or, inside sequences, tag/item/tag with items from 1
 * ("00089215/1/00091001"); an image's pixel data is listed as 7FE00010.
 * Returns 0 or -1. */
int dcm_write_json(const struct dcm_file *f, struct buf *out, const uint32_t *skip, size_t nskip, bool bulk_links);

/* The standard dictionary: a keyword ("PatientName", case-sensitive) to
 * its tag and VR; 0 when known, -1 otherwise. vr may be NULL. */
int dcm_keyword_tag(const char *keyword, uint32_t *tag, char vr[3]);
/* An attribute as requests name it: 8 hex digits (*is_hex) or a keyword.
 * 0, or -1 when it is neither. */
int dcm_parse_tag(const char *s, uint32_t *tag, bool *is_hex);
/* The keyword and VR of a tag; keyword "" and vr "UN" when unknown. */
void dcm_tag_info(uint32_t tag, char *keyword, size_t kwlen, char vr[3]);
/* The dictionary's name ("Pixel Spacing") and value multiplicity of a
 * public tag: its text ("2-2n") and bounds (max INT_MAX for "n"). 0, or -1
 * when the tag is private or unknown. */
int dcm_tag_vm(uint32_t tag, char *name, size_t namelen, char *vm, size_t vmlen, int *min, int *max);

/* Appends to out the value of the bulk data element (OB, OW, OF, OD, OL,
 * OV, UN) of the file at path at tags[0] / items[0] / tags[1] / ...
 * (depth tags; items 1-based, depth - 1 of them), in little-endian byte
 * order. Elements after the pixel data are not reached. Returns 1, 0 when
 * there is no such bulk data element, -1 when the file cannot be read. */
int dcm_bulk_value(const char *path, const uint32_t *tags, const long *items, size_t depth, struct buf *out);

/* Where the frames of the file at path are: appends to out one entry per
 * frame, "offset:length" ranges joined by ',', frames by ';' (a compressed
 * frame may span several fragments). Returns the number of frames, 0 when
 * the file has no pixel data, -1 when its pixel data cannot be located
 * this way (deflated or big-endian files: transcode them first). */
long dcm_frame_ranges(const char *path, struct buf *out);
/* The same for f, already open (the store-time parse). */
long dcm_frame_ranges_of(const struct dcm_file *f, struct buf *out);

/* Decodes frame (1-based) of the file open on fd (read from its start;
 * its offset moves) into 8-bit pixels for display: grey (channels 1)
 * after the rescale, the file's first window (else the frame's minimum to
 * maximum) and MONOCHROME1's inversion; RGB (channels 3) for colour,
 * palettes applied. *pixels is malloc'ed (caller
 * frees), rows top to bottom. Returns 0, 1 when there is no such frame or
 * no pixel data, -1 with a reason in err. */
int dcm_render_frame(int fd, long frame, unsigned char **pixels, int *width, int *height, int *channels, char *err,
		     size_t errlen);

/* The same for one frame of an uncompressed little-endian file of size
 * bytes at data (mapped), at offset (length bytes), without decoding
 * anything: grey (MONOCHROME1/2) or RGB/YBR_FULL of 8, 16 or 32 bits.
 * Returns 0, 1 when the file is not of that kind (dcm_render_frame serves
 * it), -1 with a reason in err. */
int dcm_render_native(const void *data, size_t size, long long offset, long long length, unsigned char **pixels,
		      int *width, int *height, int *channels, char *err, size_t errlen);

/* One frame's samples as the renderings map them to 8 bits, and how to
 * read them: n pixels of spp samples (1 grey, 3 colour: interleaved, or
 * planes when planar) of bits (8, 16 or 32) allocated, little endian, of
 * which the low stored bits are the value (two's complement when
 * is_signed); grey rescaled by slope and intercept, windowed by c and w
 * when windowed (else from the frame's minimum to maximum) and inverted
 * when invert (MONOCHROME1); colour YBR_FULL when ybr (8 bits). */
struct dcm_display {
	const unsigned char *src;
	size_t n;
	int spp, bits, stored;
	bool is_signed, planar, ybr, invert;
	double slope, intercept;
	bool windowed;
	double c, w;
};
/* The 8-bit pixels of d (malloc'ed, n * channels bytes; NULL when out of
 * memory): grey (channels 1) or RGB (channels 3). What dcm_render_frame
 * and dcm_render_native do once they have the samples. */
unsigned char *dcm_to_display(const struct dcm_display *d, int *channels);

/* What dcm_transcode and dcm_update answer when their output could not be
 * written for want of room or by an I/O error: the host's fault, not the
 * file's. */
enum { DCM_NO_ROOM = -2 };

/* Writes src transcoded to transfer syntax ts into dst (an existing file).
 * Lossy targets use these settings: JPEG quality, JPEG-LS's largest error
 * per sample, JPEG 2000's compression ratio. Returns 0, or -1 with a
 * reason in err. */
#define DCM_LOSSY_JPEG_QUALITY 90
#define DCM_LOSSY_JPEGLS_ERROR 2
#define DCM_LOSSY_J2K_RATIO 5
int dcm_transcode(const char *src, const char *dst, const char *ts, char *err, size_t errlen);

/* One attribute a bulk update sets: its tag, VR and value as DICOM encodes
 * it (values separated by backslashes, a person name's groups by '='). */
struct dcm_change {
	uint32_t tag;
	char vr[3];
	const char *value;
};

/* The implementation class UID the service writes into an updated file. */
#define DCM_UPDATE_IMPLEMENTATION_UID "1.3.6.1.4.1.311.129"

/* Writes src with the n changes applied into dst (an existing file): every
 * other element, the pixel data bytes among them, as it was; the file
 * meta's ImplementationClassUID becomes DCM_UPDATE_IMPLEMENTATION_UID.
 * Returns 0, or -1 with a reason in err, DCM_NO_ROOM when dst could not be
 * written for want of room or by an I/O error (the host's fault, not the
 * file's). */
int dcm_update(const char *src, const char *dst, const struct dcm_change *c, size_t n, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
