// The GDCM bridge, frames: where each frame's bytes are in a stored file.
#include "dicom/dcm_internal.hh"

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
	std::vector<unsigned char> b(1 << 20);
	long long base = 0, file_size;
	bool found = false;

	if (fseeko(fp, 0, SEEK_END) != 0)
		return false;
	file_size = (long long)ftello(fp);
	while (base < file_size) {
		size_t want = b.size();
		if (!read_at(fp, base, b.data(), (size_t)std::min<long long>((long long)want, file_size - base))) {
			want = (size_t)(file_size - base);
			if (!read_at(fp, base, b.data(), want))
				return found;
		}
		size_t n = (size_t)std::min<long long>((long long)b.size(), file_size - base);
		for (size_t i = 0; i + 4 <= n; i++) {
			if (memcmp(&b[i], tag, 4))
				continue;
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
		if (n < b.size())
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

extern "C" long dcm_frame_ranges(const char *path, struct buf *out)
{
	char err[64];
	dcm_file *f = dcm_open(path, err, sizeof(err));
	if (!f)
		return -1;
	long result = -1;
	FILE *fp = nullptr;
	try {
		if (f->big_endian || f->ts == "1.2.840.10008.1.2.1.99")
			goto done; /* positions in the file are not those of the data set */
		char v[32];
		const gdcm::DataSet &ds = f->reader.GetFile().GetDataSet();
		auto us = [&](uint16_t g, uint16_t e) { return us_attr(ds, g, e); };
		long r = us(0x0028, 0x0010), c = us(0x0028, 0x0011), spp = us(0x0028, 0x0002), bits = us(0x0028, 0x0100);
		long nframes = 1;
		if (dcm_get_string(f, DCM_TAG(0x0028, 0x0008), v, sizeof(v)) == 1)
			nframes = atol(v);
		if (spp == 0)
			spp = 1;
		fp = fopen(path, "rb");
		if (!fp)
			goto done;
		// a frame's bytes; 1-bit frames run on without byte alignment, so
		// several of them can only be cut when each fills whole bytes
		long long fbits = (r > 0 && c > 0 && bits > 0 && nframes > 0) ? (long long)r * c * spp * bits : -1;
		// native YBR_FULL_422 keeps two chroma samples for each two pixels
		if (fbits > 0 && spp == 3 && dcm_get_string(f, DCM_TAG(0x0028, 0x0004), v, sizeof(v)) == 1 &&
		    !strcmp(v, "YBR_FULL_422"))
			fbits = fbits / 3 * 2;
		long long fsize = fbits < 0 || (fbits % 8 && nframes > 1) ? -1 : (fbits + 7) / 8;
		long long fsize_native = fsize < 0 ? -1 : fsize * nframes;
		long long value = -1;
		uint32_t len = 0;
		if (!find_pixel_data(fp, f->implicit, fsize_native, &value, &len)) {
			result = 0; /* no pixel data */
			goto done;
		}
		if (len != 0xFFFFFFFFu) {
			/* native: frames one after the other */
			if (fsize < 0 || fsize * nframes > (long long)len)
				goto done;
			for (long i = 0; i < nframes; i++)
				buf_addf(out, "%s%lld:%lld", i ? ";" : "", value + i * fsize, fsize);
			result = nframes;
			goto done;
		}
		/* encapsulated: the offset table, then one item per fragment */
		std::vector<uint32_t> bot;
		std::vector<long long> frag_item, frag_off, frag_len;
		long long at = value;
		unsigned char h[8];
		for (bool first = true;; first = false) {
			if (!read_at(fp, at, h, 8))
				goto done;
			uint32_t tag = le32(h), ilen = le32(h + 4);
			if (tag == 0xE0DDFFFEu)
				break;
			if (tag != 0xE000FFFEu || ilen == 0xFFFFFFFFu)
				goto done;
			if (first) {
				for (uint32_t k = 0; k + 4 <= ilen; k += 4) {
					unsigned char b[4];
					if (!read_at(fp, at + 8 + k, b, 4))
						goto done;
					bot.push_back(le32(b));
				}
			} else {
				frag_item.push_back(at);
				frag_off.push_back(at + 8);
				frag_len.push_back(ilen);
			}
			at += 8 + (long long)ilen;
		}
		if (frag_off.empty())
			goto done;
		std::vector<std::vector<size_t>> frames;
		if (bot.size() == (size_t)nframes && nframes > 0) {
			long long base = frag_item[0];
			for (long i = 0; i < nframes; i++) {
				long long from = base + bot[i], to = i + 1 < nframes ? base + bot[i + 1] : (1LL << 62);
				std::vector<size_t> fr;
				for (size_t k = 0; k < frag_item.size(); k++)
					if (frag_item[k] >= from && frag_item[k] < to)
						fr.push_back(k);
				frames.push_back(fr);
			}
		} else if ((long)frag_off.size() == nframes) {
			for (long i = 0; i < nframes; i++)
				frames.push_back({ (size_t)i });
		} else if (nframes == 1) {
			std::vector<size_t> fr;
			for (size_t k = 0; k < frag_off.size(); k++)
				fr.push_back(k);
			frames.push_back(fr);
		} else {
			goto done; /* several frames, fragments without an offset table: would need decoding */
		}
		for (size_t i = 0; i < frames.size(); i++) {
			if (i)
				buf_addch(out, ';');
			for (size_t k = 0; k < frames[i].size(); k++)
				buf_addf(out, "%s%lld:%lld", k ? "," : "", frag_off[frames[i][k]], frag_len[frames[i][k]]);
		}
		result = (long)frames.size();
	} catch (...) {
		result = -1;
	}
done:
	if (fp)
		fclose(fp);
	dcm_free(f);
	return result;
}
