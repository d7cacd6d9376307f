// The GDCM bridge, rendering: one frame as 8-bit grey or RGB for display,
// decoded by GDCM or, uncompressed, read straight from the file.
#include "dicom/dcm_internal.hh"

#include <endian.h>
#include <ext/stdio_filebuf.h>
#include <istream>
#include <unistd.h>

// ---- rendering ----------------------------------------------------------

static double first_ds(const gdcm::DataSet &ds, uint16_t g, uint16_t e, bool *found)
{
	*found = false;
	gdcm::Tag t(g, e);
	if (!ds.FindDataElement(t))
		return 0;
	const gdcm::ByteValue *bv = ds.GetDataElement(t).GetByteValue();
	if (!bv || !bv->GetLength())
		return 0;
	std::string v(bv->GetPointer(), bv->GetLength());
	size_t bs = v.find('\\');
	if (bs != std::string::npos)
		v.resize(bs);
	char *end = nullptr;
	double d = strtod(v.c_str(), &end);
	*found = end && end != v.c_str();
	return d;
}

// What to_display maps to 8 bits (dcm.h).
typedef struct dcm_display display_in;

// GCC vectorizes a loop at -O2 only when no scalar remainder is left
// ("very cheap"); the range of a frame's samples takes one (its length is
// any), and its minimum and maximum over 16-byte vectors took 146 us for a
// 512 x 512 frame of 16 bits mapped afresh, 315 us one sample at a time.
#if defined(__GNUC__) && !defined(__clang__)
#define VECTORIZED __attribute__((optimize("vect-cost-model=cheap")))
#else
#define VECTORIZED
#endif

// Samples of B (8 or 16) bits allocated, little endian, of which the low
// stored bits are the value, two's complement when S (signed): the loops
// over a frame have no branch, for either.
template <int B, bool S> struct small_samples {
	const unsigned char *src;
	uint32_t mask;
	int up; // shifts that move the stored bits' sign to bit 31 and back
	small_samples(const unsigned char *s, int stored)
		: src(s), mask(stored >= 32 ? 0xffffffffu : (1u << stored) - 1), up(32 - stored)
	{
	}
	int32_t operator()(size_t i) const
	{
		uint32_t u;
		if (B == 8) {
			u = src[i];
		} else {
			uint16_t le;
			memcpy(&le, src + 2 * i, 2);
			u = le16toh(le);
		}
		return S ? (int32_t)(u << up) >> up : (int32_t)(u & mask);
	}
	// their range over n samples
	VECTORIZED void range(size_t n, int32_t *lo, int32_t *hi) const
	{
		int32_t mn = INT32_MAX, mx = INT32_MIN;
		for (size_t i = 0; i < n; i++) {
			int32_t x = (*this)(i);
			mn = x < mn ? x : mn;
			mx = x > mx ? x : mx;
		}
		*lo = mn;
		*hi = mx;
	}
	// out[i] = table[sample i - base]
	void map(size_t n, const unsigned char *table, int32_t base, unsigned char *out) const
	{
		for (size_t i = 0; i < n; i++)
			out[i] = table[(size_t)((*this)(i)-base)];
	}
};

// What grey_to_display needs of samples of 8 or 16 bits: their range, and
// each one's display value from a table from the lowest.
struct small_view {
	const unsigned char *src;
	int bits, stored;
	bool is_signed;
	template <typename F> void with(F f) const
	{
		if (bits == 8 && is_signed)
			f(small_samples<8, true>(src, stored));
		else if (bits == 8)
			f(small_samples<8, false>(src, stored));
		else if (is_signed)
			f(small_samples<16, true>(src, stored));
		else
			f(small_samples<16, false>(src, stored));
	}
};

// The stored bits of a sample (BitsStored of BitsAllocated).
static int stored_bits(const display_in &d)
{
	return d.stored > 0 && d.stored < d.bits ? d.stored : d.bits;
}

// Sample i's value: little endian, the low stored bits, two's complement
// when signed.
static double sample_at(const display_in &d, size_t i)
{
	const unsigned char *p = d.src + i * ((size_t)d.bits / 8);
	int stored = stored_bits(d);
	uint32_t u = d.bits == 8 ? p[0] : d.bits == 16 ? (uint32_t)(p[0] | p[1] << 8) : le32(p);
	if (stored < 32) {
		u &= (1u << stored) - 1; // bits above BitsStored are not the value's
		if (d.is_signed && (u >> (stored - 1)) & 1)
			return (double)u - (double)(1ull << stored);
	} else if (d.is_signed) {
		return (double)(int32_t)u;
	}
	return (double)u;
}

// Colour samples as RGB, 3 bytes a pixel.
static void colour_to_display(const display_in &d, unsigned char *out)
{
	size_t n = d.n;
	int shift = d.bits - 8;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 3; k++) {
			size_t idx = d.planar ? (size_t)k * n + i : i * 3 + (size_t)k;
			out[i * 3 + (size_t)k] = (unsigned char)((long)sample_at(d, idx) >> shift);
		}
	if (d.ybr) // PS3.3 C.7.6.3.1.2
		for (size_t i = 0; i < n; i++) {
			unsigned char *p = out + i * 3;
			double y = p[0], cb = p[1] - 128.0, cr = p[2] - 128.0;
			double rgb[3] = { y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb };
			for (int k = 0; k < 3; k++)
				p[k] = (unsigned char)std::lround(rgb[k] < 0 ? 0 : rgb[k] > 255 ? 255 : rgb[k]);
		}
}

// Grey samples, one byte a pixel: after the rescale, the window (else the
// frame's minimum to maximum, PS3.3 C.11.2.1.2's linear function) and
// MONOCHROME1's inversion.
static void grey_to_display(const display_in &d, unsigned char *out)
{
	size_t n = d.n;
	double slope = d.slope == 0 ? 1 : d.slope, intercept = d.intercept, c = d.c, w = d.w;
	// the samples' range: for the window when the file has none, and for
	// a table of every value in it when that is small (16 bits or fewer);
	// samples of 8 or 16 bits are read as integers, twice (a copy of them
	// would cost more than reading them again)
	double smin = 1e300, smax = -1e300;
	const bool small = d.bits == 8 || d.bits == 16;
	const small_view sv = { d.src, d.bits, stored_bits(d), d.is_signed };
	if (small && n > 0) {
		int32_t lo, hi;
		sv.with([&](const auto &s) { s.range(n, &lo, &hi); });
		smin = lo;
		smax = hi;
	} else {
		for (size_t i = 0; i < n; i++) {
			double v = sample_at(d, i);
			smin = std::min(smin, v);
			smax = std::max(smax, v);
		}
	}
	if (!d.windowed || w < 1) {
		double lo = std::min(smin * slope + intercept, smax * slope + intercept);
		double hi = std::max(smin * slope + intercept, smax * slope + intercept);
		c = (lo + hi) / 2 + 0.5;
		w = hi - lo + 1;
		if (w < 1)
			w = 1;
	}
	double lo_edge = c - 0.5 - (w - 1) / 2, hi_edge = c - 0.5 + (w - 1) / 2;
	auto display = [&](double s) -> unsigned char {
		double v = s * slope + intercept, y;
		if (v <= lo_edge)
			y = 0;
		else if (v > hi_edge)
			y = 255;
		else
			y = ((v - (c - 0.5)) / (w > 1 ? w - 1 : 1) + 0.5) * 255;
		long q = std::lround(y);
		q = q < 0 ? 0 : q > 255 ? 255 : q;
		return (unsigned char)(d.invert ? 255 - q : q);
	};
	if (n == 0 || smax - smin >= 65536) {
		for (size_t i = 0; i < n; i++)
			out[i] = display(sample_at(d, i));
		return;
	}
	std::vector<unsigned char> table((size_t)(smax - smin) + 1);
	for (size_t k = 0; k < table.size(); k++)
		table[k] = display(smin + (double)k);
	if (small) {
		sv.with([&](const auto &s) { s.map(n, table.data(), (int32_t)smin, out); });
	} else {
		for (size_t i = 0; i < n; i++)
			out[i] = table[(size_t)(sample_at(d, i) - smin)];
	}
}

// 8-bit pixels for display (malloc'ed; NULL when out of memory): grey
// (channels 1) or colour (channels 3, RGB).
static unsigned char *to_display(const display_in &d, int *channels)
{
	*channels = d.spp == 3 ? 3 : 1;
	unsigned char *out = (unsigned char *)malloc(d.n * (size_t)*channels);
	if (!out)
		return nullptr;
	if (d.spp == 3)
		colour_to_display(d, out);
	else
		grey_to_display(d, out);
	return out;
}

extern "C" unsigned char *dcm_to_display(const struct dcm_display *d, int *channels)
{
	return to_display(*d, channels);
}

// The open file fd read from its start as a stream (over a copy of fd,
// which the stream closes; the copy shares fd's offset).
struct fd_stream {
	__gnu_cxx::stdio_filebuf<char> buf;
	std::istream in;
	explicit fd_stream(int fd) : buf(rewound(fd), std::ios::in), in(&buf)
	{
		if (!buf.is_open())
			in.setstate(std::ios::badbit);
	}
};

// The image of the file, palettes applied: 0, 1 when the file has no
// pixel data, -1 with a reason.
static int read_image(gdcm::ImageReader &reader, fd_stream &file, int fd, gdcm::Image &image, char *err,
		      size_t errlen)
{
	reader.SetStream(file.in);
	if (!file.in.good() || !reader.Read()) {
		fd_stream again(fd);
		gdcm::Reader plain;
		plain.SetStream(again.in);
		if (again.in.good() && plain.Read() &&
		    !plain.GetFile().GetDataSet().FindDataElement(gdcm::Tag(0x7fe0, 0x0010)))
			return 1;
		set_err(err, errlen, "the pixel data cannot be decoded");
		return -1;
	}
	image = reader.GetImage();
	if (image.GetPhotometricInterpretation() == gdcm::PhotometricInterpretation::PALETTE_COLOR) {
		gdcm::ImageApplyLookupTable lut;
		lut.SetInput(image);
		if (!lut.Apply()) {
			set_err(err, errlen, "the palette cannot be applied");
			return -1;
		}
		image = lut.GetOutput();
	}
	return 0;
}

// One bit a pixel, the first in each byte's lowest bit (PS3.5 8.1.1),
// frames one after the other: frame (1-based) made one byte a pixel.
static bool unpack_bits(std::vector<char> &all, size_t n, long frame)
{
	if (all.size() * 8 < n * (size_t)frame)
		return false;
	std::vector<char> unpacked(n);
	for (size_t i = 0, b = n * (size_t)(frame - 1); i < n; i++, b++)
		unpacked[i] = (char)((all[b / 8] >> (b % 8)) & 1);
	all.swap(unpacked);
	return true;
}

// The display parameters of a decoded frame at src.
static display_in display_of(const gdcm::Image &image, const gdcm::DataSet &ds, const unsigned char *src, size_t n,
			     int bits, bool own_rle)
{
	gdcm::PhotometricInterpretation pi = image.GetPhotometricInterpretation();
	display_in d = {};
	bool hc, hw;

	d.src = src;
	d.n = n;
	d.spp = image.GetPixelFormat().GetSamplesPerPixel();
	d.bits = bits;
	d.stored = bits; // GDCM's buffer holds the values as they are
	d.is_signed = image.GetPixelFormat().GetPixelRepresentation() == 1;
	d.planar = !own_rle && image.GetPlanarConfiguration() == 1;
	// GDCM decodes YBR_FULL and YBR_FULL_422 (JPEG, or native 4:2:2
	// upsampled) to full YCbCr samples: made RGB by to_display
	d.ybr = pi == gdcm::PhotometricInterpretation::YBR_FULL || pi == gdcm::PhotometricInterpretation::YBR_FULL_422;
	d.invert = pi == gdcm::PhotometricInterpretation::MONOCHROME1;
	d.slope = image.GetSlope();
	d.intercept = image.GetIntercept();
	d.c = first_ds(ds, 0x0028, 0x1050, &hc);
	d.w = first_ds(ds, 0x0028, 0x1051, &hw);
	d.windowed = hc && hw;
	return d;
}

static int render(int fd, long frame, unsigned char **pixels, int *width, int *height, int *channels, char *err,
		  size_t errlen)
{
	fd_stream file(fd);
	gdcm::ImageReader reader;
	gdcm::Image image;
	int r = read_image(reader, file, fd, image, err, errlen);
	if (r)
		return r;
	bool own_rle = rle_colour_wide(reader.GetFile(), reader.GetImage());
	gdcm::PhotometricInterpretation pi = image.GetPhotometricInterpretation();
	bool ybr = pi == gdcm::PhotometricInterpretation::YBR_FULL || pi == gdcm::PhotometricInterpretation::YBR_FULL_422;
	long cols = image.GetDimension(0), rows = image.GetDimension(1);
	long nframes = image.GetNumberOfDimensions() > 2 ? image.GetDimension(2) : 1;
	if (frame < 1 || frame > nframes)
		return 1;
	const gdcm::PixelFormat &pf = image.GetPixelFormat();
	int spp = pf.GetSamplesPerPixel(), bits = pf.GetBitsAllocated();
	if ((bits != 1 && bits != 8 && bits != 16 && bits != 32) || (spp != 1 && spp != 3) || (bits == 1 && spp != 1) ||
	    (ybr && bits != 8)) {
		set_err(err, errlen, "this pixel format cannot be rendered");
		return -1;
	}
	std::vector<char> all;
	if (own_rle ? !rle_decode(image, all) : (all.resize(image.GetBufferLength()), !image.GetBuffer(all.data()))) {
		set_err(err, errlen, "the pixel data cannot be decoded");
		return -1;
	}
	size_t n = (size_t)rows * cols;
	if (bits == 1) {
		if (!unpack_bits(all, n, frame)) {
			set_err(err, errlen, "the pixel data is shorter than its frames");
			return -1;
		}
		bits = 8;
		frame = 1;
	}
	size_t fbytes = n * spp * ((size_t)bits / 8);
	if (all.size() < fbytes * (size_t)frame) {
		set_err(err, errlen, "the pixel data is shorter than its frames");
		return -1;
	}
	const unsigned char *src = (const unsigned char *)all.data() + fbytes * (size_t)(frame - 1);
	display_in d = display_of(image, reader.GetFile().GetDataSet(), src, n, bits, own_rle);
	unsigned char *out = to_display(d, channels);
	if (!out) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	*pixels = out;
	*width = (int)cols;
	*height = (int)rows;
	return 0;
}

extern "C" int dcm_render_frame(int fd, long frame, unsigned char **pixels, int *width, int *height, int *channels,
				char *err, size_t errlen)
{
	quiet_gdcm();
	*pixels = nullptr;
	try {
		return render(fd, frame, pixels, width, height, channels, err, errlen);
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
	} catch (...) {
		set_err(err, errlen, "rendering failed");
	}
	return -1;
}

extern "C" int dcm_render_native(const void *data, size_t size, long long offset, long long length,
				 unsigned char **pixels, int *width, int *height, int *channels, char *err, size_t errlen)
{
	*pixels = nullptr;
	dcm_file *f = dcm_open_memory(data, size, err, errlen);
	if (!f)
		return -1;
	int rc = 1;
	try {
		const gdcm::DataSet &ds = f->reader.GetFile().GetDataSet();
		char pi[32] = "";
		dcm_get_string(f, DCM_TAG(0x0028, 0x0004), pi, sizeof(pi));
		display_in d = {};
		long rows = us_attr(ds, 0x0028, 0x0010), cols = us_attr(ds, 0x0028, 0x0011);
		d.spp = (int)us_attr(ds, 0x0028, 0x0002);
		d.bits = (int)us_attr(ds, 0x0028, 0x0100);
		d.stored = (int)us_attr(ds, 0x0028, 0x0101);
		d.is_signed = us_attr(ds, 0x0028, 0x0103) == 1;
		d.planar = us_attr(ds, 0x0028, 0x0006) == 1;
		d.invert = !strcmp(pi, "MONOCHROME1");
		d.ybr = !strcmp(pi, "YBR_FULL");
		bool grey = d.invert || !strcmp(pi, "MONOCHROME2"), colour = !strcmp(pi, "RGB") || d.ybr;
		// what this path reads: native little endian, grey or full colour,
		// whole bytes a sample, and a frame of exactly its size
		if ((f->ts != "1.2.840.10008.1.2" && f->ts != "1.2.840.10008.1.2.1") || f->big_endian || rows <= 0 ||
		    cols <= 0 || !((grey && d.spp == 1) || (colour && d.spp == 3)) ||
		    (d.bits != 8 && d.bits != 16 && d.bits != 32) || (d.ybr && d.bits != 8) ||
		    length != (long long)rows * cols * d.spp * (d.bits / 8) || offset < 0)
			goto done;
		if ((unsigned long long)offset > size || (unsigned long long)length > size - (unsigned long long)offset) {
			set_err(err, errlen, "the pixel data is shorter than its frames");
			rc = -1;
			goto done;
		}
		bool hs, hi, hc, hw;
		d.slope = first_ds(ds, 0x0028, 0x1053, &hs);
		d.intercept = first_ds(ds, 0x0028, 0x1052, &hi);
		if (!hs)
			d.slope = 1;
		d.c = first_ds(ds, 0x0028, 0x1050, &hc);
		d.w = first_ds(ds, 0x0028, 0x1051, &hw);
		d.windowed = hc && hw;
		d.src = (const unsigned char *)data + offset;
		d.n = (size_t)rows * cols;
		*pixels = to_display(d, channels);
		if (!*pixels) {
			set_err(err, errlen, "out of memory");
			rc = -1;
			goto done;
		}
		*width = (int)cols;
		*height = (int)rows;
		rc = 0;
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
		rc = -1;
	} catch (...) {
		set_err(err, errlen, "rendering failed");
		rc = -1;
	}
done:
	dcm_free(f);
	return rc;
}
