// Shared by the files of the GDCM bridge (src/dicom/dcm_*.cc) and by
// nothing else: GDCM types stay inside src/dicom.
#ifndef ADE_DICOM_DCM_INTERNAL_HH
#define ADE_DICOM_DCM_INTERNAL_HH

#include "dicom/dcm.h"

#include <gdcmAttribute.h>
#include <gdcmDataSet.h>
#include <gdcmDict.h>
#include <gdcmDicts.h>
#include <gdcmFile.h>
#include <gdcmFileExplicitFilter.h>
#include <gdcmGlobal.h>
#include <gdcmImageApplyLookupTable.h>
#include <gdcmImageChangeTransferSyntax.h>
#include <gdcmImageReader.h>
#include <gdcmImageWriter.h>
#include <gdcmJPEG2000Codec.h>
#include <gdcmJPEGCodec.h>
#include <gdcmJPEGLSCodec.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <gdcmWriter.h>

#include <ext/stdio_filebuf.h>
#include <iconv.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <istream>
#include <memory>
#include <set>
#include <streambuf>
#include <string>
#include <vector>

// A data set's character set: the converter to UTF-8 (none for UTF-8 and
// the default repertoire), and whether it reads ISO 2022 escapes itself.
struct charset {
	iconv_t cd = (iconv_t)-1;
	bool keep_escapes = false;
	bool utf8 = false; // ISO_IR 192 declared: bytes that are not UTF-8 are invalid
};

// A stream over bytes in memory (a mapped file): seeks and reads are no
// system calls. It seeks as a file does: past the end too (where reading
// meets the end of the file), not before the start.
struct membuf : std::streambuf {
	off_type beyond = 0; // how far past the end the position is
	membuf(const void *p, size_t n)
	{
		char *b = (char *)p;
		setg(b, b, b + n);
	}
	pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override
	{
		off_type size = egptr() - eback();
		off_type from = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() + beyond : size;
		if (!(which & std::ios_base::in) || off < -from)
			return pos_type(off_type(-1));
		off_type to = from + off;
		beyond = to > size ? to - size : 0;
		setg(eback(), eback() + (to > size ? size : to), egptr());
		return pos_type(to);
	}
	pos_type seekpos(pos_type pos, std::ios_base::openmode which) override
	{
		return seekoff(off_type(pos), std::ios_base::beg, which);
	}
};

struct dcm_file {
	gdcm::Reader reader;
	std::string ts;
	bool implicit = false;
	bool big_endian = false;
	charset cs;
	// where it was opened from: a path, bytes in memory (dcm_open_memory)
	// or a descriptor (dcm_open_fd, not owned)
	std::string path;
	const void *mem = nullptr;
	size_t mem_size = 0;
	int fd = -1;
	std::unique_ptr<std::streambuf> in_buf; // GDCM's stream, but for a path
	std::unique_ptr<std::istream> in;
};

// Helpers shared between the bridge's files.
namespace bridge {
void set_err(char *err, size_t errlen, const char *msg);
// GDCM's own warnings off (bad input is reported through return values).
void quiet_gdcm();
// VR of an element: from the file when explicit, else from the dictionary.
gdcm::VR element_vr(const gdcm::DataElement &de, const gdcm::DataSet &ds);
const char *vr_name(gdcm::VR vr);
// A value without its padding (spaces; NULs for UI).
void trimmed(gdcm::VR vr, const char *p, size_t n, const char **op, size_t *on);
// OB, OD, OF, OL, OV, OW, UN: bulk data.
bool is_bulk(gdcm::VR vr);
// Reads n bytes at off; false when they are not all there.
bool read_at(FILE *fp, long long off, void *dst, size_t n);
uint32_t le32(const unsigned char *p);
// A US attribute of ds; -1 when absent.
long us_attr(const gdcm::DataSet &ds, uint16_t g, uint16_t e);
// RLE colour wider than 8 bits: GDCM 3.0.21 decodes it wrongly.
bool rle_colour_wide(const gdcm::File &file, const gdcm::Pixmap &img);
// Every frame of an RLE image as native little-endian samples.
bool rle_decode(const gdcm::Pixmap &img, std::vector<char> &out);
// A duplicate of fd at its start, or -1 (a duplicate shares the offset:
// each reader here seeks before it reads, and one reads at a time).
int rewound(int fd);
// The file f was opened from, opened again for reading (from its start);
// NULL when it cannot be.
FILE *reopen(const dcm_file *f);
// Whether the data set of the file open on fp (closed here) is sound
// enough to hand to GDCM (dcm_walk.cc). Files without a meta header are
// left to GDCM. why: what is wrong and where, when it is not sound.
bool looks_sound(FILE *fp, std::string &why);
// Whether the pixel data of the file open on fp (closed here) runs past
// its end (a truncated file).
bool pixel_data_truncated(FILE *fp, bool implicit);
// SpecificCharacterSet: open the converter for a data set, close it.
void charset_open(charset &cs, const gdcm::DataSet &ds);
void charset_close(charset &cs);
// Appends text of the data set's character set to out as UTF-8 (what the
// set does not have as U+FFFD; without a set, 8-bit bytes as Latin-1).
void charset_to_utf8(const charset &cs, const char *p, size_t n, std::string &out);
// Whether the bytes hold something the declared set does not have (a set
// declared: UTF-8 or one iconv reads; undeclared 8-bit text is read as
// Latin-1 and not judged).
bool charset_invalid(const charset &cs, const char *p, size_t n);
// The VRs whose values are text in the declared character set.
bool text_vr(gdcm::VR vr);
// Writes w's file (set) into the existing file at path: 0; -1 when GDCM
// cannot; DCM_NO_ROOM when the file system refused (full, an I/O error).
int write_file(gdcm::Writer &w, const char *path);
} // namespace bridge
using namespace bridge;

#endif
