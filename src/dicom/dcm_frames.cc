// The GDCM bridge, frames: where each frame's bytes are in a stored file.
#include "dicom/dcm_internal.hh"

#include <cstring>
#include <memory>

// ---- frames -------------------------------------------------------------

bool bridge::read_at(FILE *fp, long long off, void *dst, size_t n)
{
	return fseeko(fp, (off_t)off, SEEK_SET) == 0 && fread(dst, 1, n, fp) == n;
}

uint32_t bridge::le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The main (7FE0,0010) element: scanning the file for the tag, a header
 * that is well-formed for this file, and a length that fits (the frames'
 * size for native data; undefined and an item next for encapsulated data).
 * The last such element wins: an icon image sequence holds an earlier one. */
static bool find_pixel_data(FILE *fp, bool implicit, long long native_size, long long *value, uint32_t *len)
{
	static const unsigned char tag[4] = { 0xE0, 0x7F, 0x10, 0x00 };
	long long base = 0, file_size;
	bool found = false;

	if (fseeko(fp, 0, SEEK_END) != 0)
		return false;
	file_size = (long long)ftello(fp);
	/* native data that is the file's last element (the common case) needs
	 * no scan: no later element could hold a value that long */
	const long long hdr = implicit ? 8 : 12;
	for (long long l = native_size; native_size >= 0 && l <= native_size + 1; l++) {
		unsigned char h[12];
		long long at = file_size - l - hdr;
		if (at < 0 || !read_at(fp, at, h, (size_t)hdr) || memcmp(h, tag, 4) != 0 ||
		    le32(h + hdr - 4) != (uint64_t)l)
			continue;
		if (!implicit && !((h[4] == 'O' && (h[5] == 'B' || h[5] == 'W')) && h[6] == 0 && h[7] == 0))
			continue;
		*value = at + hdr;
		*len = (uint32_t)l;
		return true;
	}
	/* read in pieces of at most 1 MiB (not zeroed first: every byte looked at is read) */
	const size_t cap = (size_t)std::min<long long>(1 << 20, std::max<long long>(file_size, 4));
	std::unique_ptr<unsigned char[]> b(new unsigned char[cap]);
	while (base < file_size) {
		size_t n = (size_t)std::min<long long>((long long)cap, file_size - base);
		if (!read_at(fp, base, b.get(), n))
			return found;
		/* each place the tag's bytes appear (memmem skips ahead fast) */
		for (size_t i = 0; i + 4 <= n; i++) {
			const unsigned char *hit = (const unsigned char *)memmem(b.get() + i, n - i, tag, 4);
			if (!hit)
				break;
			i = (size_t)(hit - b.get());
			long long at = base + (long long)i;
			unsigned char h[20];
			if (!read_at(fp, at, h, sizeof(h)) && !read_at(fp, at, h, 12))
				continue;
			long long v;
			uint32_t l;
			if (implicit) {
				l = le32(h + 4);
				v = at + 8;
			} else {
				if (!((h[4] == 'O' && (h[5] == 'B' || h[5] == 'W')) && h[6] == 0 && h[7] == 0))
					continue;
				l = le32(h + 8);
				v = at + 12;
			}
			bool ok;
			if (l == 0xFFFFFFFFu) {
				unsigned char it[4];
				ok = read_at(fp, v, it, 4) && le32(it) == 0xE000FFFEu;
			} else {
				ok = v + (long long)l <= file_size && (native_size < 0 || (long long)l >= native_size);
			}
			if (ok) {
				*value = v;
				*len = l;
				found = true;
			}
		}
		if (n < cap)
			break;
		base += (long long)n - 3; /* a tag may straddle two reads */
	}
	return found;
}

// A US attribute's first value in a little-endian data set; 0 when absent.
long bridge::us_attr(const gdcm::DataSet &ds, uint16_t g, uint16_t e)
{
	gdcm::Tag t(g, e);
	if (!ds.FindDataElement(t))
		return 0;
	const gdcm::ByteValue *bv = ds.GetDataElement(t).GetByteValue();
	if (!bv || bv->GetLength() < 2)
		return 0;
	const unsigned char *p = (const unsigned char *)bv->GetPointer();
	return (long)(p[0] | p[1] << 8);
}

// The bytes of one native frame; -1 when frames cannot be cut that way.
// 1-bit frames run on without byte alignment, so several of them can only
// be cut when each fills whole bytes.
static long long native_frame_size(const dcm_file *f, long nframes)
{
	const gdcm::DataSet &ds = f->reader.GetFile().GetDataSet();
	long r = us_attr(ds, 0x0028, 0x0010), c = us_attr(ds, 0x0028, 0x0011), spp = us_attr(ds, 0x0028, 0x0002),
	     bits = us_attr(ds, 0x0028, 0x0100);
	char v[32];

	if (spp == 0)
		spp = 1;
	long long fbits = (r > 0 && c > 0 && bits > 0 && nframes > 0) ? (long long)r * c * spp * bits : -1;
	// native YBR_FULL_422 keeps two chroma samples for each two pixels
	if (fbits > 0 && spp == 3 && dcm_get_string(f, DCM_TAG(0x0028, 0x0004), v, sizeof(v)) == 1 &&
	    !strcmp(v, "YBR_FULL_422"))
		fbits = fbits / 3 * 2;
	return fbits < 0 || (fbits % 8 && nframes > 1) ? -1 : (fbits + 7) / 8;
}

// Encapsulated pixel data from value: the offset table (bot), then each
// fragment's item position, value offset and length. False when the items
// do not parse.
struct fragments {
	std::vector<uint32_t> bot;
	std::vector<long long> item, off, len;
};

// Whether the pixel data elements of the file run past its end. Walks the
// file for (7FE0,0010) headers (an icon's, the image's), skipping each
// value once judged so that its bytes are never taken for a header: a
// defined length must end within the file, an encapsulated value must end
// with its sequence delimiter within the file.
bool bridge::pixel_data_truncated(FILE *fp, bool implicit)
{
	static const unsigned char tag[4] = { 0xE0, 0x7F, 0x10, 0x00 };
	if (!fp)
		return false;
	long long size = -1, at = 0;
	if (fseeko(fp, 0, SEEK_END) == 0)
		size = (long long)ftello(fp);
	std::vector<unsigned char> b(1 << 16);
	bool truncated = false;
	while (!truncated && size > 0 && at + 8 <= size) {
		size_t n = (size_t)std::min<long long>((long long)b.size(), size - at);
		if (!read_at(fp, at, b.data(), n))
			break;
		size_t i = 0;
		while (i + 4 <= n && memcmp(&b[i], tag, 4))
			i++;
		if (i + 4 > n) {
			at += (long long)n - 3; /* a tag may straddle two reads */
			if (n < b.size())
				break;
			continue;
		}
		long long h = at + (long long)i;
		unsigned char hd[12];
		if (!read_at(fp, h, hd, implicit ? 8 : 12)) {
			truncated = true; /* a header cut short */
			break;
		}
		bool explicit_ok = (hd[4] == 'O' && (hd[5] == 'B' || hd[5] == 'W')) && hd[6] == 0 && hd[7] == 0;
		if (!implicit && !explicit_ok) {
			at = h + 1;
			continue;
		}
		uint32_t len = le32(implicit ? hd + 4 : hd + 8);
		long long v = h + (implicit ? 8 : 12);
		if (len != 0xFFFFFFFFu) {
			truncated = v + (long long)len > size;
			at = v + (long long)len;
			continue;
		}
		/* encapsulated: items up to the sequence delimiter */
		bool closed = false;
		for (long long p = v; !closed && !truncated;) {
			unsigned char it[8];
			if (!read_at(fp, p, it, 8)) {
				truncated = true;
				break;
			}
			uint32_t itag = le32(it), ilen = le32(it + 4);
			if (itag == 0xE0DDFFFEu) {
				closed = true;
				at = p + 8;
			} else if (itag != 0xE000FFFEu || ilen == 0xFFFFFFFFu || p + 8 + (long long)ilen > size) {
				truncated = true;
			} else {
				p += 8 + (long long)ilen;
			}
		}
	}
	fclose(fp);
	return truncated;
}

// At most this many fragments a frame: the work and the ranges string of
// a file of millions of empty fragments stay bounded.
#define MAX_FRAGMENTS_A_FRAME 1024

static bool read_fragments(FILE *fp, long long value, long nframes, fragments &fr)
{
	long long at = value;
	unsigned char h[8];
	size_t most = (size_t)(nframes > 0 ? nframes : 1) * MAX_FRAGMENTS_A_FRAME;

	for (bool first = true;; first = false) {
		if (!read_at(fp, at, h, 8))
			return false;
		uint32_t tag = le32(h), ilen = le32(h + 4);
		if (tag == 0xE0DDFFFEu)
			return !fr.off.empty();
		if (tag != 0xE000FFFEu || ilen == 0xFFFFFFFFu || fr.off.size() >= most)
			return false;
		/* an offset table has an entry a frame, no more */
		if (first && ilen / 4 > (uint32_t)(nframes > 0 ? nframes : 1))
			return false;
		if (first) {
			for (uint32_t k = 0; k + 4 <= ilen; k += 4) {
				unsigned char b[4];
				if (!read_at(fp, at + 8 + k, b, 4))
					return false;
				fr.bot.push_back(le32(b));
			}
		} else {
			fr.item.push_back(at);
			fr.off.push_back(at + 8);
			fr.len.push_back(ilen);
		}
		at += 8 + (long long)ilen;
	}
}

// Which fragments make each frame: by the offset table, one fragment a
// frame, or all of them for a single frame. False when that cannot be
// told without decoding (several frames, no table).
static bool group_fragments(const fragments &fr, long nframes, std::vector<std::vector<size_t>> &frames)
{
	if (fr.bot.size() == (size_t)nframes && nframes > 0) {
		long long base = fr.item[0];
		for (long i = 0; i < nframes; i++) {
			long long from = base + fr.bot[i], to = i + 1 < nframes ? base + fr.bot[i + 1] : (1LL << 62);
			std::vector<size_t> one;
			for (size_t k = 0; k < fr.item.size(); k++)
				if (fr.item[k] >= from && fr.item[k] < to)
					one.push_back(k);
			frames.push_back(one);
		}
	} else if ((long)fr.off.size() == nframes) {
		for (long i = 0; i < nframes; i++)
			frames.push_back({ (size_t)i });
	} else if (nframes == 1) {
		std::vector<size_t> one;
		for (size_t k = 0; k < fr.off.size(); k++)
			one.push_back(k);
		frames.push_back(one);
	} else {
		return false;
	}
	return true;
}

// The frames of an open file: -1, 0 (no pixel data) or their number.
static long locate_frames(const dcm_file *f, FILE *fp, struct buf *out)
{
	char v[32];
	long nframes = 1;

	if (f->big_endian || f->ts == "1.2.840.10008.1.2.1.99")
		return -1; /* positions in the file are not those of the data set */
	if (dcm_get_string(f, DCM_TAG(0x0028, 0x0008), v, sizeof(v)) == 1)
		nframes = atol(v);
	long long fsize = native_frame_size(f, nframes);
	long long value = -1;
	uint32_t len = 0;
	if (!find_pixel_data(fp, f->implicit, fsize < 0 ? -1 : fsize * nframes, &value, &len))
		return 0;
	if (len != 0xFFFFFFFFu) {
		/* native: frames one after the other */
		if (fsize < 0 || nframes > (long long)len / (fsize > 0 ? fsize : 1))
			return -1; /* (divided: a NumberOfFrames of 12 digits would overflow the product) */
		for (long i = 0; i < nframes; i++)
			buf_addf(out, "%s%lld:%lld", i ? ";" : "", value + i * fsize, fsize);
		return nframes;
	}
	fragments fr;
	std::vector<std::vector<size_t>> frames;
	if (!read_fragments(fp, value, nframes, fr) || !group_fragments(fr, nframes, frames))
		return -1;
	for (size_t i = 0; i < frames.size(); i++) {
		if (i)
			buf_addch(out, ';');
		for (size_t k = 0; k < frames[i].size(); k++)
			buf_addf(out, "%s%lld:%lld", k ? "," : "", fr.off[frames[i][k]], fr.len[frames[i][k]]);
	}
	return (long)frames.size();
}

extern "C" long dcm_frame_ranges_of(const struct dcm_file *f, struct buf *out)
{
	long result = -1;
	FILE *fp = reopen(f);
	if (fp) {
		try {
			result = locate_frames(f, fp, out);
		} catch (...) {
			result = -1;
		}
		fclose(fp);
	}
	return result;
}

extern "C" long dcm_frame_ranges(const char *path, struct buf *out)
{
	char err[64];
	dcm_file *f = dcm_open(path, err, sizeof(err));
	if (!f)
		return -1;
	long result = dcm_frame_ranges_of(f, out);
	dcm_free(f);
	return result;
}
