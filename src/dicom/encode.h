/* JPEG (libjpeg-turbo) and PNG (libpng) from 8-bit pixels. */
#ifndef ADE_DICOM_ENCODE_H
#define ADE_DICOM_ENCODE_H

#include <stddef.h>

#include "common/buf.h"

/* channels 1 (grey) or 3 (RGB); rows top to bottom. Append the encoded
 * image to out; 0 or -1 with a reason in err. */
int encode_jpeg(const unsigned char *px, int width, int height, int channels, int quality, struct buf *out, char *err,
		size_t errlen);
/* encode_jpeg's general path (scanlines through the library's colour
 * conversion), which encode_jpeg leaves for grey images of whole 8-sample
 * blocks wide; the same bytes either way (tests/unit/test_encode.c). */
int encode_jpeg_scanlines(const unsigned char *px, int width, int height, int channels, int quality, struct buf *out,
			  char *err, size_t errlen);
int encode_png(const unsigned char *px, int width, int height, int channels, struct buf *out, char *err, size_t errlen);

/* Shrinks an image to fit within max_width x max_height, keeping its
 * aspect ratio (never enlarges): each output pixel is the rounded mean of
 * the source box [x*w/ow, (x+1)*w/ow) x [y*h/oh, (y+1)*h/oh). Returns a
 * malloc'ed image in *out with its size, or -1 when out of memory. */
int scale_fit(const unsigned char *px, int width, int height, int channels, int max_width, int max_height,
	      unsigned char **out, int *out_width, int *out_height);

#endif
