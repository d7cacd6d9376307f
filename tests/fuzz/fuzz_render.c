/* libFuzzer: the mapping of a frame's samples to 8 bits for /rendered
 * (dcm_to_display: rescale, window, MONOCHROME1, YBR_FULL, planes; the
 * values a client's file carries) and the JPEG and PNG encoding of the
 * result (dicom/encode.c), without GDCM. Input: a byte of flags, one of
 * BitsStored, the slope, intercept, window centre and width as the 8 bytes
 * of a double each (NaN, infinities and denormals included), a byte of
 * width, one of quality (and PNG instead of JPEG), one of a viewport to
 * shrink to (scale_fit: thumbnails, viewport=); the rest are the samples, copied to a block of
 * exactly their size so that ASan sees a read past them. Only what the
 * callers pass: 1 or 3 samples a pixel, 8, 16 or 32 bits, YBR_FULL with
 * 8. */
#include "dicom/dcm.h"
#include "dicom/encode.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { HEAD = 2 + 4 * 8 + 3, MAX_PIXELS = 64 * 1024 };

static double read_double(const uint8_t *p)
{
	double v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n <= HEAD)
		return 0;
	static const int bits_of[] = { 8, 16, 32, 16 };
	struct dcm_display in = { 0 };
	uint8_t flags = d[0];
	in.spp = flags & 1 ? 3 : 1;
	in.planar = flags & 2;
	in.bits = bits_of[flags >> 6];
	in.ybr = (flags & 4) && in.spp == 3 && in.bits == 8;
	in.invert = flags & 8;
	in.is_signed = flags & 16;
	in.windowed = flags & 32;
	in.stored = d[1] % 40;
	in.slope = read_double(d + 2);
	in.intercept = read_double(d + 10);
	in.c = read_double(d + 18);
	in.w = read_double(d + 26);
	int width = 1 + d[34] % 64, quality = 1 + (d[35] & 127) % 100, box = d[36] % 80;
	bool png = d[35] & 128;

	size_t per = (size_t)in.spp * (size_t)(in.bits / 8), pixels = (n - HEAD) / per;
	int height = (int)(pixels / (size_t)width);
	if (height < 1 || pixels > MAX_PIXELS)
		return 0;
	in.n = (size_t)width * (size_t)height;
	unsigned char *samples = malloc(in.n * per);
	memcpy(samples, d + HEAD, in.n * per);
	in.src = samples;

	int channels = 0;
	unsigned char *px = dcm_to_display(&in, &channels);
	free(samples);
	if (!px)
		return 0;
	if (channels != in.spp)
		abort(); /* the caller encodes channels per pixel */
	/* every byte of the answer read: ASan sees one that is not there */
	volatile unsigned sum = 0;
	for (size_t i = 0; i < in.n * (size_t)channels; i++)
		sum += px[i];
	if (box) { /* the viewport: box means */
		unsigned char *small;
		int w2, h2;
		if (scale_fit(px, width, height, channels, box, box, &small, &w2, &h2)) {
			free(px);
			return 0;
		}
		if (w2 < 1 || h2 < 1 || w2 > box || h2 > box || w2 > width || h2 > height)
			abort(); /* not within the box, or enlarged */
		for (size_t i = 0; i < (size_t)w2 * (size_t)h2 * (size_t)channels; i++)
			sum += small[i];
		free(px);
		px = small;
		width = w2;
		height = h2;
	}
	struct buf img;
	char err[256];
	buf_init(&img, 0);
	int rc = png ? encode_png(px, width, height, channels, &img, err, sizeof(err))
		     : encode_jpeg(px, width, height, channels, quality, &img, err, sizeof(err));
	if (rc == 0 && img.len < 2)
		abort(); /* an image was said to be made */
	buf_release(&img);
	free(px);
	return 0;
}
