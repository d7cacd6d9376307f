#include "dicom/encode.h"

#include <stdio.h> /* before jpeglib.h, which needs FILE */

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail_exit(j_common_ptr cinfo)
{
	struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, f->msg);
	longjmp(f->jump, 1);
}

/* The encoder writes straight into the caller's buffer (jpeg_mem_dest's own
 * buffer starts at 4 KiB and is copied at each doubling, then once more). */
struct jpeg_buf_dest {
	struct jpeg_destination_mgr mgr;
	struct buf *out;
	size_t start; /* out->len when encoding began, to undo a failure */
};

static void jpeg_buf_fail(j_compress_ptr c)
{
	struct jpeg_fail *f = (struct jpeg_fail *)c->err;
	snprintf(f->msg, sizeof f->msg, "the image is too large");
	longjmp(f->jump, 1);
}

/* The free room of out, from its end: all of it the encoder's; less than
 * wanted near out's cap, failing only when not even a little is left. */
static void jpeg_buf_room(j_compress_ptr c, size_t want)
{
	struct jpeg_buf_dest *d = (struct jpeg_buf_dest *)c->dest;
	if (buf_reserve(d->out, want) && buf_reserve(d->out, 4096))
		jpeg_buf_fail(c);
	d->mgr.next_output_byte = (JOCTET *)d->out->data + d->out->len;
	d->mgr.free_in_buffer = d->out->cap - d->out->len - 1;
}

static void jpeg_buf_init(j_compress_ptr c)
{
	/* about what quality 100 makes of a grey CT image, so that one
	 * reservation is usually all */
	jpeg_buf_room(c, (size_t)c->image_width * c->image_height * (size_t)c->input_components * 5 / 8 + 4096);
}

static boolean jpeg_buf_empty(j_compress_ptr c)
{
	struct jpeg_buf_dest *d = (struct jpeg_buf_dest *)c->dest;
	d->out->len = d->out->cap - 1; /* the whole room was written */
	jpeg_buf_room(c, d->out->len - d->start + 4096);
	return TRUE;
}

static void jpeg_buf_term(j_compress_ptr c)
{
	struct jpeg_buf_dest *d = (struct jpeg_buf_dest *)c->dest;
	d->out->len = d->out->cap - 1 - d->mgr.free_in_buffer;
	d->out->data[d->out->len] = '\0';
}

/* Grey rows whose width is whole 8-sample blocks go to the DCT as they are
 * (raw data): the colour "conversion" of grey to grey and the edge
 * expansion would copy each sample one at a time. The bottom edge is
 * expanded as the library does, by repeating the last row. */
static void jpeg_write_grey_raw(j_compress_ptr c, const unsigned char *px, int width, int height)
{
	JSAMPROW rows[DCTSIZE];
	JSAMPARRAY planes[1] = { rows };
	for (int y = 0; y < height; y += DCTSIZE) {
		for (int i = 0; i < DCTSIZE; i++) {
			int r = y + i < height ? y + i : height - 1;
			rows[i] = (JSAMPROW)(px + (size_t)r * (size_t)width);
		}
		jpeg_write_raw_data(c, planes, DCTSIZE);
	}
}

static int jpeg_encode(const unsigned char *px, int width, int height, int channels, int quality, bool raw,
		       struct buf *out, char *err, size_t errlen)
{
	struct jpeg_compress_struct c;
	struct jpeg_fail f;
	struct jpeg_buf_dest d = { .out = out, .start = out->len };

	c.err = jpeg_std_error(&f.mgr);
	f.mgr.error_exit = jpeg_fail_exit;
	if (setjmp(f.jump)) {
		snprintf(err, errlen, "jpeg: %s", f.msg);
		jpeg_destroy_compress(&c);
		if (out->cap) {
			out->len = d.start;
			out->data[d.start] = '\0';
		}
		return -1;
	}
	jpeg_create_compress(&c);
	d.mgr.init_destination = jpeg_buf_init;
	d.mgr.empty_output_buffer = jpeg_buf_empty;
	d.mgr.term_destination = jpeg_buf_term;
	c.dest = &d.mgr;
	c.image_width = (JDIMENSION)width;
	c.image_height = (JDIMENSION)height;
	c.input_components = channels;
	c.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	c.raw_data_in = raw;
	jpeg_start_compress(&c, TRUE);
	if (raw) {
		jpeg_write_grey_raw(&c, px, width, height);
	} else {
		while (c.next_scanline < c.image_height) {
			JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * (size_t)width * (size_t)channels);
			jpeg_write_scanlines(&c, &row, 1);
		}
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return 0;
}

int encode_jpeg(const unsigned char *px, int width, int height, int channels, int quality, struct buf *out, char *err,
		size_t errlen)
{
	bool raw = channels == 1 && width % DCTSIZE == 0;
	return jpeg_encode(px, width, height, channels, quality, raw, out, err, errlen);
}

int encode_jpeg_scanlines(const unsigned char *px, int width, int height, int channels, int quality, struct buf *out,
			  char *err, size_t errlen)
{
	return jpeg_encode(px, width, height, channels, quality, false, out, err, errlen);
}

static void png_to_buf(png_structp p, png_bytep data, png_size_t n)
{
	if (buf_add(png_get_io_ptr(p), data, n))
		png_error(p, "the image is too large");
}

static void png_flush_nothing(png_structp p)
{
	(void)p;
}

int encode_png(const unsigned char *px, int width, int height, int channels, struct buf *out, char *err, size_t errlen)
{
	png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = p ? png_create_info_struct(p) : NULL;

	if (!p || !info) {
		snprintf(err, errlen, "png: out of memory");
		png_destroy_write_struct(&p, info ? &info : NULL);
		return -1;
	}
	if (setjmp(png_jmpbuf(p))) {
		snprintf(err, errlen, "png: encoding failed");
		png_destroy_write_struct(&p, &info);
		return -1;
	}
	png_set_write_fn(p, out, png_to_buf, png_flush_nothing);
	png_set_IHDR(p, info, (png_uint_32)width, (png_uint_32)height, 8, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(p, info);
	for (int y = 0; y < height; y++)
		png_write_row(p, (png_const_bytep)(px + (size_t)y * (size_t)width * (size_t)channels));
	png_write_end(p, info);
	png_destroy_write_struct(&p, &info);
	return 0;
}

int scale_fit(const unsigned char *px, int width, int height, int channels, int max_width, int max_height,
	      unsigned char **out, int *out_width, int *out_height)
{
	long long w = width, h = height, ow = w, oh = h;

	if (w > max_width || h > max_height) {
		if (w * max_height >= h * max_width) { /* the width limits */
			ow = max_width;
			oh = (h * max_width + w / 2) / w;
		} else {
			oh = max_height;
			ow = (w * max_height + h / 2) / h;
		}
		if (ow < 1)
			ow = 1;
		if (oh < 1)
			oh = 1;
	}
	unsigned char *o = malloc((size_t)(ow * oh * channels));
	if (!o)
		return -1;
	for (long long y = 0; y < oh; y++) {
		long long y0 = y * h / oh, y1 = (y + 1) * h / oh;
		for (long long x = 0; x < ow; x++) {
			long long x0 = x * w / ow, x1 = (x + 1) * w / ow, n = (y1 - y0) * (x1 - x0);
			for (int c = 0; c < channels; c++) {
				long long sum = 0;
				for (long long sy = y0; sy < y1; sy++)
					for (long long sx = x0; sx < x1; sx++)
						sum += px[(sy * w + sx) * channels + c];
				o[(y * ow + x) * channels + c] = (unsigned char)((sum + n / 2) / n);
			}
		}
	}
	*out = o;
	*out_width = (int)ow;
	*out_height = (int)oh;
	return 0;
}
