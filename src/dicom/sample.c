/* An instance made here, not read from anywhere: the warm-up's. */
#include "dicom/sample.h"
#include "common/xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* One element of explicit VR little endian, its value padded to even
 * length (UIDs with a NUL, text with a space). */
static void sample_element(struct buf *b, uint16_t group, uint16_t element, const char *vr, const void *v, size_t n)
{
	bool long_form = !strcmp(vr, "OB") || !strcmp(vr, "OW");
	size_t len = n + (n & 1);
	unsigned char h[12] = { (unsigned char)group, (unsigned char)(group >> 8), (unsigned char)element,
				(unsigned char)(element >> 8), (unsigned char)vr[0], (unsigned char)vr[1] };
	if (long_form) {
		h[8] = (unsigned char)len, h[9] = (unsigned char)(len >> 8);
		h[10] = (unsigned char)(len >> 16), h[11] = (unsigned char)(len >> 24);
	} else {
		h[6] = (unsigned char)len, h[7] = (unsigned char)(len >> 8);
	}
	buf_add(b, h, long_form ? 12 : 8);
	buf_add(b, v, n);
	if (n & 1)
		buf_addch(b, !strcmp(vr, "UI") ? '\0' : ' ');
}

static void sample_text(struct buf *b, uint16_t group, uint16_t element, const char *vr, const char *v)
{
	sample_element(b, group, element, vr, v, strlen(v));
}

static void sample_us(struct buf *b, uint16_t element, unsigned v)
{
	unsigned char le[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	sample_element(b, 0x0028, element, "US", le, 2);
}

size_t dicom_sample(struct buf *b, size_t *length)
{
	static const char sc[] = "1.2.840.10008.5.1.4.1.1.7", ts[] = "1.2.840.10008.1.2.1";
	static const char study[] = "2.25.1", series[] = "2.25.1.1", sop[] = DICOM_SAMPLE_SOP;
	static const unsigned char version[2] = { 0, 1 };
	const unsigned side = 512;
	struct buf meta;
	buf_init(&meta, 0);
	sample_element(&meta, 0x0002, 0x0001, "OB", version, 2);
	sample_text(&meta, 0x0002, 0x0002, "UI", sc);
	sample_text(&meta, 0x0002, 0x0003, "UI", sop);
	sample_text(&meta, 0x0002, 0x0010, "UI", ts);
	for (int i = 0; i < 128; i++)
		buf_addch(b, '\0');
	buf_adds(b, "DICM");
	unsigned char glen[4] = { (unsigned char)meta.len, (unsigned char)(meta.len >> 8), 0, 0 };
	sample_element(b, 0x0002, 0x0000, "UL", glen, 4);
	buf_add(b, meta.data, meta.len);
	buf_release(&meta);
	sample_text(b, 0x0008, 0x0016, "UI", sc);
	sample_text(b, 0x0008, 0x0018, "UI", sop);
	sample_text(b, 0x0008, 0x0020, "DA", "20260101");
	sample_text(b, 0x0008, 0x0060, "CS", "OT");
	sample_text(b, 0x0010, 0x0010, "PN", "Warm^Up");
	sample_text(b, 0x0010, 0x0020, "LO", "WARM");
	sample_text(b, 0x0020, 0x000D, "UI", study);
	sample_text(b, 0x0020, 0x000E, "UI", series);
	sample_us(b, 0x0002, 1);
	sample_text(b, 0x0028, 0x0004, "CS", "MONOCHROME2");
	sample_us(b, 0x0010, side);
	sample_us(b, 0x0011, side);
	sample_us(b, 0x0100, 16);
	sample_us(b, 0x0101, 12);
	sample_us(b, 0x0102, 11);
	sample_us(b, 0x0103, 0);
	*length = (size_t)side * side * 2;
	unsigned char *pixels = xcalloc(*length, 1);
	for (size_t i = 0; i < *length; i += 2)
		pixels[i] = (unsigned char)(i / 2); /* a range of values, for the window */
	size_t at = b->len + 12;
	sample_element(b, 0x7FE0, 0x0010, "OW", pixels, *length);
	free(pixels);
	return at;
}
