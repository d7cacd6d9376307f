#include "dicom/encode.h"

#include <stdio.h> /* before jpeglib.h, which needs FILE */

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
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

int encode_jpeg(const unsigned char *px, int width, int height, int channels, int quality, struct buf *out, char *err,
		size_t errlen)
{
	struct jpeg_compress_struct c;
	struct jpeg_fail f;
	unsigned char *mem = NULL;
	unsigned long size = 0;

	c.err = jpeg_std_error(&f.mgr);
	f.mgr.error_exit = jpeg_fail_exit;
	if (setjmp(f.jump)) {
		snprintf(err, errlen, "jpeg: %s", f.msg);
		jpeg_destroy_compress(&c);
		free(mem);
		return -1;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &mem, &size);
	c.image_width = (JDIMENSION)width;
	c.image_height = (JDIMENSION)height;
	c.input_components = channels;
	c.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * (size_t)width * (size_t)channels);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	int rc = buf_add(out, mem, size);
	free(mem);
	return rc;
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
