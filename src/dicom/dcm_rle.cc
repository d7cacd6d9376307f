// The GDCM bridge, RLE: our own PS3.5 annex G decoder for what GDCM
// 3.0.21 decodes wrongly.
#include "dicom/dcm_internal.hh"

// GDCM 3.0.21's RLE decoder puts the byte segments of colour samples wider
// than 8 bits in the wrong order (dcmtk's dcmdrle decodes them right):
// those files are decoded by rle_decode instead.
bool bridge::rle_colour_wide(const gdcm::File &file, const gdcm::Pixmap &img)
{
	const gdcm::PixelFormat &pf = img.GetPixelFormat();
	return file.GetHeader().GetDataSetTransferSyntax() == gdcm::TransferSyntax::RLELossless &&
	       pf.GetSamplesPerPixel() > 1 && pf.GetBitsAllocated() > 8;
}

// PS3.5 annex G: each frame one fragment, a 64-byte header of segment
// offsets, one PackBits segment per byte of each sample (most significant
// first). Appends every frame as native little-endian samples, colour by
// pixel. False when the data does not fit the image.
bool bridge::rle_decode(const gdcm::Pixmap &img, std::vector<char> &out)
{
	const gdcm::SequenceOfFragments *sf = img.GetDataElement().GetSequenceOfFragments();
	const gdcm::PixelFormat &pf = img.GetPixelFormat();
	size_t spp = pf.GetSamplesPerPixel(), bytes = pf.GetBitsAllocated() / 8;
	size_t n = (size_t)img.GetDimension(0) * img.GetDimension(1);
	size_t frames = img.GetNumberOfDimensions() > 2 ? img.GetDimension(2) : 1;
	if (!sf || sf->GetNumberOfFragments() != frames || bytes == 0 || spp * bytes > 15)
		return false;
	out.assign(n * spp * bytes * frames, 0);
	for (size_t f = 0; f < frames; f++) {
		const gdcm::ByteValue *bv = sf->GetFragment((unsigned)f).GetByteValue();
		if (!bv || bv->GetLength() < 64)
			return false;
		const unsigned char *frag = (const unsigned char *)bv->GetPointer();
		size_t flen = bv->GetLength();
		if (le32(frag) != spp * bytes)
			return false;
		char *dst = out.data() + f * n * spp * bytes;
		for (size_t seg = 0; seg < spp * bytes; seg++) {
			size_t start = le32(frag + 4 + 4 * seg);
			size_t end = seg + 1 < spp * bytes ? le32(frag + 8 + 4 * seg) : flen;
			if (start < 64 || end > flen || start > end)
				return false;
			size_t sample = seg / bytes, byte = bytes - 1 - seg % bytes; // little endian out
			size_t i = 0, at = start;
			auto put = [&](unsigned char v) {
				if (i < n)
					dst[(i * spp + sample) * bytes + byte] = (char)v;
				i++;
			};
			while (at < end && i < n) {
				int h = (signed char)frag[at++];
				if (h >= 0) {
					for (int k = 0; k <= h && at < end; k++)
						put(frag[at++]);
				} else if (h != -128 && at < end) {
					unsigned char v = frag[at++];
					for (int k = 0; k <= -h; k++)
						put(v);
				}
			}
			if (i < n)
				return false;
		}
	}
	return true;
}
