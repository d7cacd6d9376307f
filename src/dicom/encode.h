/* JPEG (libjpeg-turbo) and PNG (libpng) from 8-bit pixels. */
#ifndef ADE_DICOM_ENCODE_H
#define ADE_DICOM_ENCODE_H

#include <stddef.h>

#include "common/buf.h"

/* channels 1 (grey) or 3 (RGB); rows top to bottom. Append the encoded
 * image to out; 0 or -1 with a reason in err. */
int encode_jpeg(const unsigned char *px, int width, int height, int channels, int quality, struct buf *out, char *err,
		size_t errlen);
int encode_png(const unsigned char *px, int width, int height, int channels, struct buf *out, char *err, size_t errlen);

#endif
