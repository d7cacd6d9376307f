// The GDCM bridge. Nothing GDCM-typed leaves this file.
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

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <set>
#include <string>
#include <vector>

struct dcm_file {
	gdcm::Reader reader;
	std::string ts;
	bool implicit = false;
	bool big_endian = false;
};

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

// GDCM prints warnings about odd files to stderr; bad input is reported
// through our own return values instead.
static void quiet_gdcm()
{
	static bool done;
	if (!done) {
		gdcm::Trace::SetWarning(false);
		gdcm::Trace::SetDebug(false);
		done = true;
	}
}

extern "C" struct dcm_file *dcm_open(const char *path, char *err, size_t errlen)
{
	dcm_file *f = nullptr;
	quiet_gdcm();
	try {
		f = new dcm_file();
		f->reader.SetFileName(path);
		// the pixel data's value is skipped, not loaded (GDCM reads the
		// stop tag itself otherwise)
		std::set<gdcm::Tag> skip = { gdcm::Tag(0x7fe0, 0x0010) };
		if (!f->reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip)) {
			set_err(err, errlen, "The DICOM instance is invalid.");
			delete f;
			return nullptr;
		}
		const gdcm::File &file = f->reader.GetFile();
		const gdcm::FileMetaInformation &h = file.GetHeader();
		const gdcm::TransferSyntax &ts = h.GetDataSetTransferSyntax();
		const char *s = gdcm::TransferSyntax::GetTSString(ts);
		f->ts = s ? s : "";
		// GDCM pads UIDs to even length with a NUL
		while (!f->ts.empty() && (f->ts.back() == '\0' || f->ts.back() == ' '))
			f->ts.pop_back();
		f->implicit = ts.IsImplicit();
		f->big_endian = ts.GetSwapCode() == gdcm::SwapCode::BigEndian;
		return f;
	} catch (const std::exception &e) {
		set_err(err, errlen, "The DICOM instance is invalid.");
	} catch (...) {
		set_err(err, errlen, "The DICOM instance is invalid.");
	}
	delete f;
	return nullptr;
}

extern "C" void dcm_free(struct dcm_file *f)
{
	delete f;
}

extern "C" const char *dcm_transfer_syntax(const struct dcm_file *f)
{
	return f->ts.c_str();
}

extern "C" bool dcm_is_implicit_vr(const struct dcm_file *f)
{
	return f->implicit;
}

// VR of an element: from the file when explicit, else from the dictionary.
static gdcm::VR element_vr(const gdcm::DataElement &de, const gdcm::DataSet &ds)
{
	gdcm::VR vr = de.GetVR();
	if (vr != gdcm::VR::INVALID && vr != gdcm::VR::UN)
		return vr;
	const gdcm::Tag &t = de.GetTag();
	if (t.IsGroupLength())
		return gdcm::VR::UL;
	if (t.IsPrivate()) {
		if (t.IsPrivateCreator())
			return gdcm::VR::LO;
		if (vr == gdcm::VR::INVALID)
			return gdcm::VR(gdcm::VR::UN); // implicit private: unknown
		return vr;
	}
	try {
		const gdcm::Dicts &dicts = gdcm::Global::GetInstance().GetDicts();
		const gdcm::DictEntry &entry = dicts.GetDictEntry(t);
		gdcm::VR dv = entry.GetVR();
		if (dv == gdcm::VR::INVALID)
			return gdcm::VR::UN;
		// ambiguous dictionary VRs: pick the little-endian reading
		if (dv == gdcm::VR::US_SS || dv == gdcm::VR::US_SS_OW)
			return gdcm::VR::US;
		if (dv == gdcm::VR::OB_OW)
			return gdcm::VR::OW;
		return dv;
	} catch (...) {
		return gdcm::VR::UN;
	}
	(void)ds;
}

static const char *vr_name(gdcm::VR vr)
{
	const char *s = gdcm::VR::GetVRString(vr);
	return s ? s : "UN";
}

static bool trim_both(gdcm::VR vr)
{
	return !(vr == gdcm::VR::LT || vr == gdcm::VR::ST || vr == gdcm::VR::UT || vr == gdcm::VR::UR);
}

// Value text without padding: trailing spaces (and NULs), leading spaces for
// most string VRs.
static void trimmed(gdcm::VR vr, const char *p, size_t n, const char **op, size_t *on)
{
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\0'))
		n--;
	if (trim_both(vr))
		while (n && *p == ' ')
			p++, n--;
	*op = p;
	*on = n;
}

extern "C" int dcm_get_string(const struct dcm_file *f, uint32_t tag, char *out, size_t outlen)
{
	try {
		const gdcm::DataSet &ds = f->reader.GetFile().GetDataSet();
		gdcm::Tag t((uint16_t)(tag >> 16), (uint16_t)(tag & 0xffff));
		if (outlen)
			out[0] = '\0';
		if (!ds.FindDataElement(t))
			return -1;
		const gdcm::DataElement &de = ds.GetDataElement(t);
		const gdcm::ByteValue *bv = de.GetByteValue();
		if (!bv || bv->GetLength() == 0)
			return 0;
		gdcm::VR vr = element_vr(de, ds);
		const char *p = bv->GetPointer();
		size_t n = bv->GetLength();
		if (vr != gdcm::VR::LT && vr != gdcm::VR::ST && vr != gdcm::VR::UT && vr != gdcm::VR::UR) {
			const char *bs = (const char *)memchr(p, '\\', n);
			if (bs)
				n = (size_t)(bs - p);
		}
		trimmed(vr, p, n, &p, &n);
		if (n == 0)
			return 0;
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 1;
	} catch (...) {
		return -1;
	}
}

extern "C" int dcm_foreach(const struct dcm_file *f, int (*cb)(void *ctx, const struct dcm_element *e), void *ctx)
{
	try {
		const gdcm::DataSet &ds = f->reader.GetFile().GetDataSet();
		for (const gdcm::DataElement &de : ds.GetDES()) {
			dcm_element e;
			const gdcm::Tag &t = de.GetTag();
			e.tag = ((uint32_t)t.GetGroup() << 16) | t.GetElement();
			gdcm::VR vr = element_vr(de, ds);
			snprintf(e.vr, sizeof(e.vr), "%s", vr_name(vr));
			e.from_file_vr = de.GetVR() != gdcm::VR::INVALID;
			const gdcm::ByteValue *bv = de.GetByteValue();
			e.value = bv ? bv->GetPointer() : nullptr;
			e.len = bv ? (size_t)bv->GetLength() : 0;
			int rc = cb(ctx, &e);
			if (rc)
				return rc;
		}
		return 0;
	} catch (...) {
		return -1;
	}
}

// ---- dictionary -------------------------------------------------------

static void vr_out(gdcm::VR vr, char out[3])
{
	if (vr == gdcm::VR::US_SS || vr == gdcm::VR::US_SS_OW)
		vr = gdcm::VR::US;
	else if (vr == gdcm::VR::OB_OW)
		vr = gdcm::VR::OW;
	snprintf(out, 3, "%s", vr == gdcm::VR::INVALID ? "UN" : vr_name(vr));
}

extern "C" int dcm_keyword_tag(const char *keyword, uint32_t *tag, char vr[3])
{
	try {
		const gdcm::Dict &d = gdcm::Global::GetInstance().GetDicts().GetPublicDict();
		gdcm::Tag t;
		const gdcm::DictEntry &e = d.GetDictEntryByKeyword(keyword, t);
		if (t == gdcm::Tag(0xffff, 0xffff) || !e.GetKeyword() || strcmp(e.GetKeyword(), keyword))
			return -1;
		*tag = ((uint32_t)t.GetGroup() << 16) | t.GetElement();
		if (vr)
			vr_out(e.GetVR(), vr);
		return 0;
	} catch (...) {
		return -1;
	}
}

extern "C" int dcm_parse_tag(const char *s, uint32_t *tag, bool *is_hex)
{
	*is_hex = strlen(s) == 8 && strspn(s, "0123456789abcdefABCDEF") == 8;
	if (*is_hex) {
		*tag = (uint32_t)strtoul(s, nullptr, 16);
		return 0;
	}
	return dcm_keyword_tag(s, tag, nullptr);
}

extern "C" void dcm_tag_info(uint32_t tag, char *keyword, size_t kwlen, char vr[3])
{
	if (kwlen)
		keyword[0] = '\0';
	snprintf(vr, 3, "UN");
	try {
		gdcm::Tag t((uint16_t)(tag >> 16), (uint16_t)(tag & 0xffff));
		if (t.IsPrivate())
			return;
		const gdcm::DictEntry &e = gdcm::Global::GetInstance().GetDicts().GetDictEntry(t);
		if (e.GetKeyword() && kwlen)
			snprintf(keyword, kwlen, "%s", e.GetKeyword());
		vr_out(e.GetVR(), vr);
	} catch (...) {
	}
}

// ---- DICOM JSON -------------------------------------------------------

static bool is_bulk(gdcm::VR vr)
{
	return vr == gdcm::VR::OB || vr == gdcm::VR::OD || vr == gdcm::VR::OF || vr == gdcm::VR::OL ||
	       vr == gdcm::VR::OV || vr == gdcm::VR::OW || vr == gdcm::VR::UN || vr == gdcm::VR::OB_OW ||
	       vr == gdcm::VR::INVALID;
}

// Is s (n bytes) a number in JSON's grammar?
static bool json_number(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return false;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !(s[i] >= '0' && s[i] <= '9'))
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !(s[i] >= '0' && s[i] <= '9'))
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

static void add_number_text(struct buf *out, const char *p, size_t n)
{
	if (json_number(p, n)) {
		buf_add(out, p, n);
		return;
	}
	std::string s(p, n);
	char *end = nullptr;
	double d = strtod(s.c_str(), &end);
	if (end && *end == '\0' && std::isfinite(d)) {
		if (d == std::floor(d) && std::fabs(d) < 1e15)
			buf_addf(out, "%.0f", d);
		else
			buf_addf(out, "%.17g", d);
	} else {
		buf_add_json_str(out, p, n);
	}
}

template <typename T> static T load(const char *p, bool swap)
{
	T v;
	unsigned char b[sizeof(T)];
	memcpy(b, p, sizeof(T));
	if (swap)
		for (size_t i = 0; i < sizeof(T) / 2; i++) {
			unsigned char c = b[i];
			b[i] = b[sizeof(T) - 1 - i];
			b[sizeof(T) - 1 - i] = c;
		}
	memcpy(&v, b, sizeof(T));
	return v;
}

static void add_float(struct buf *out, double d, bool single)
{
	if (!std::isfinite(d)) {
		buf_adds(out, std::isnan(d) ? "\"NaN\"" : (d > 0 ? "\"Infinity\"" : "\"-Infinity\""));
		return;
	}
	buf_addf(out, single ? "%.9g" : "%.17g", d);
}

static void write_dataset(const gdcm::DataSet &ds, struct buf *out, bool swap, const uint32_t *skip, size_t nskip,
			  const std::string *bulk);

static void write_values(const gdcm::DataElement &de, gdcm::VR vr, struct buf *out, bool swap)
{
	const gdcm::ByteValue *bv = de.GetByteValue();
	const char *p = bv ? bv->GetPointer() : nullptr;
	size_t n = bv ? (size_t)bv->GetLength() : 0;
	if (!p || n == 0)
		return;

	// binary numbers
	size_t w = 0;
	switch (vr) {
	case gdcm::VR::US: case gdcm::VR::SS: w = 2; break;
	case gdcm::VR::UL: case gdcm::VR::SL: case gdcm::VR::FL: case gdcm::VR::AT: w = 4; break;
	case gdcm::VR::FD: case gdcm::VR::UV: case gdcm::VR::SV: w = 8; break;
	default: break;
	}
	if (w) {
		size_t count = n / w;
		if (count == 0)
			return;
		buf_adds(out, ",\"Value\":[");
		for (size_t i = 0; i < count; i++) {
			const char *q = p + i * w;
			if (i)
				buf_addch(out, ',');
			switch (vr) {
			case gdcm::VR::US: buf_addf(out, "%u", (unsigned)load<uint16_t>(q, swap)); break;
			case gdcm::VR::SS: buf_addf(out, "%d", (int)load<int16_t>(q, swap)); break;
			case gdcm::VR::UL: buf_addf(out, "%lu", (unsigned long)load<uint32_t>(q, swap)); break;
			case gdcm::VR::SL: buf_addf(out, "%ld", (long)load<int32_t>(q, swap)); break;
			case gdcm::VR::UV: buf_addf(out, "%llu", (unsigned long long)load<uint64_t>(q, swap)); break;
			case gdcm::VR::SV: buf_addf(out, "%lld", (long long)load<int64_t>(q, swap)); break;
			case gdcm::VR::FL: add_float(out, load<float>(q, swap), true); break;
			case gdcm::VR::FD: add_float(out, load<double>(q, swap), false); break;
			case gdcm::VR::AT:
				buf_addf(out, "\"%04X%04X\"", (unsigned)load<uint16_t>(q, swap),
					 (unsigned)load<uint16_t>(q + 2, swap));
				break;
			default: break;
			}
		}
		buf_addch(out, ']');
		return;
	}

	// strings; LT, ST, UT and UR hold one value, backslash included
	bool single = vr == gdcm::VR::LT || vr == gdcm::VR::ST || vr == gdcm::VR::UT || vr == gdcm::VR::UR;
	const char *tp;
	size_t tn;
	trimmed(vr, p, n, &tp, &tn);
	if (tn == 0)
		return;
	buf_adds(out, ",\"Value\":[");
	size_t start = 0;
	bool first = true;
	for (size_t i = 0; i <= tn; i++) {
		if (i < tn && (single || tp[i] != '\\'))
			continue;
		const char *vp;
		size_t vn;
		trimmed(vr, tp + start, i - start, &vp, &vn);
		if (!first)
			buf_addch(out, ',');
		first = false;
		if (vn == 0) {
			buf_adds(out, "null");
		} else if (vr == gdcm::VR::PN) {
			// Alphabetic=Ideographic=Phonetic
			static const char *const groups[] = { "Alphabetic", "Ideographic", "Phonetic" };
			buf_addch(out, '{');
			size_t gs = 0;
			int g = 0;
			bool any = false;
			for (size_t j = 0; j <= vn && g < 3; j++) {
				if (j < vn && vp[j] != '=')
					continue;
				if (j > gs) {
					if (any)
						buf_addch(out, ',');
					buf_addf(out, "\"%s\":", groups[g]);
					buf_add_json_str(out, vp + gs, j - gs);
					any = true;
				}
				g++;
				gs = j + 1;
			}
			buf_addch(out, '}');
		} else if (vr == gdcm::VR::IS || vr == gdcm::VR::DS) {
			add_number_text(out, vp, vn);
		} else {
			buf_add_json_str(out, vp, vn);
		}
		start = i + 1;
	}
	buf_addch(out, ']');
}

// bulk: NULL leaves bulk data out (as the service does); else the tag path
// so far ("" at the top, "00081140/2/" in a sequence's second item), and
// bulk data becomes a BulkDataURI "bulkdata/{path}{tag}"
static void write_element(const gdcm::DataElement &de, const gdcm::DataSet &ds, struct buf *out, bool swap,
			  const std::string *bulk)
{
	gdcm::VR vr = element_vr(de, ds);
	const gdcm::Tag &t = de.GetTag();
	char tag[9];
	snprintf(tag, sizeof(tag), "%04X%04X", t.GetGroup(), t.GetElement());
	buf_addf(out, "\"%s\":{\"vr\":\"%s\"", tag, vr_name(vr));
	if (vr == gdcm::VR::SQ) {
		gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
		if (sq && sq->GetNumberOfItems() > 0) {
			buf_adds(out, ",\"Value\":[");
			for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); i++) {
				if (i > 1)
					buf_addch(out, ',');
				std::string inner = bulk ? *bulk + tag + "/" + std::to_string(i) + "/" : std::string();
				write_dataset(sq->GetItem(i).GetNestedDataSet(), out, swap, nullptr, 0, bulk ? &inner : nullptr);
			}
			buf_addch(out, ']');
		}
	} else if (is_bulk(vr)) {
		if (!de.IsEmpty())
			buf_addf(out, ",\"BulkDataURI\":\"bulkdata/%s%s\"", bulk->c_str(), tag);
	} else {
		write_values(de, vr, out, swap);
	}
	buf_addch(out, '}');
}

static void write_dataset(const gdcm::DataSet &ds, struct buf *out, bool swap, const uint32_t *skip, size_t nskip,
			  const std::string *bulk)
{
	bool first = true;
	buf_addch(out, '{');
	for (const gdcm::DataElement &de : ds.GetDES()) {
		const gdcm::Tag &t = de.GetTag();
		if (t.IsGroupLength() || t.GetGroup() == 0x0002 || t.GetGroup() == 0xfffe)
			continue;
		uint32_t tag = ((uint32_t)t.GetGroup() << 16) | t.GetElement();
		bool skipped = false;
		for (size_t i = 0; i < nskip && !skipped; i++)
			skipped = skip[i] == tag;
		if (skipped)
			continue;
		if (tag == 0x7FE00010u && bulk && bulk->empty())
			continue; // listed by dcm_write_json
		gdcm::VR vr = element_vr(de, ds);
		if (is_bulk(vr) && !bulk)
			continue;
		if (!first)
			buf_addch(out, ',');
		first = false;
		write_element(de, ds, out, swap, bulk);
	}
	buf_addch(out, '}');
}

extern "C" int dcm_write_json(const struct dcm_file *f, struct buf *out, const uint32_t *skip, size_t nskip,
			      bool bulk_links)
{
	try {
		const gdcm::DataSet &ds = f->reader.GetFile().GetDataSet();
		std::string top;
		size_t start = out->len;
		write_dataset(ds, out, f->big_endian, skip, nskip, bulk_links ? &top : nullptr);
		// the pixel data, whether or not dcm_open read its header: an image has it
		if (bulk_links && ds.FindDataElement(gdcm::Tag(0x0028, 0x0010))) {
			gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(f->ts.c_str());
			gdcm::Attribute<0x0028, 0x0100> bits = {};
			if (ds.FindDataElement(bits.GetTag()))
				bits.SetFromDataElement(ds.GetDataElement(bits.GetTag()));
			bool wide = bits.GetValue() > 8;
			bool encapsulated = ts != gdcm::TransferSyntax::TS_END && ts.IsEncapsulated();
			out->len--; // reopen the object
			buf_addf(out, "%s\"7FE00010\":{\"vr\":\"%s\",\"BulkDataURI\":\"bulkdata/7FE00010\"}}",
				 out->len - start > 1 ? "," : "", wide && !encapsulated ? "OW" : "OB");
		}
		return 0;
	} catch (...) {
		return -1;
	}
}

// ---- bulk data ----------------------------------------------------------

extern "C" int dcm_bulk_value(const char *path, const uint32_t *tags, const long *items, size_t depth,
			      struct buf *out)
{
	quiet_gdcm();
	try {
		gdcm::Reader r;
		r.SetFileName(path);
		std::set<gdcm::Tag> skip = { gdcm::Tag(0x7fe0, 0x0010) };
		if (depth == 0 || !r.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip))
			return -1;
		const gdcm::FileMetaInformation &h = r.GetFile().GetHeader();
		bool swap = h.GetDataSetTransferSyntax().GetSwapCode() == gdcm::SwapCode::BigEndian;
		const gdcm::DataSet *ds = &r.GetFile().GetDataSet();
		for (size_t d = 0;; d++) {
			gdcm::Tag t((uint16_t)(tags[d] >> 16), (uint16_t)(tags[d] & 0xffff));
			if (!ds->FindDataElement(t))
				return 0;
			const gdcm::DataElement &de = ds->GetDataElement(t);
			gdcm::VR vr = element_vr(de, *ds);
			if (d + 1 == depth) {
				const gdcm::ByteValue *bv = de.GetByteValue();
				if (!is_bulk(vr) || !bv)
					return 0;
				size_t at = out->len, n = bv->GetLength();
				buf_add(out, bv->GetPointer(), n);
				// little endian, as explicit VR little endian has it
				size_t w = vr == gdcm::VR::OW ? 2 : (vr == gdcm::VR::OF || vr == gdcm::VR::OL) ? 4
					   : (vr == gdcm::VR::OD || vr == gdcm::VR::OV)			    ? 8
												    : 1;
				if (swap && w > 1)
					for (size_t i = 0; i + w <= n; i += w)
						std::reverse(out->data + at + i, out->data + at + i + w);
				return 1;
			}
			gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
			if (!sq || items[d] < 1 || (size_t)items[d] > sq->GetNumberOfItems())
				return 0;
			ds = &sq->GetItem((gdcm::SequenceOfItems::SizeType)items[d]).GetNestedDataSet();
		}
	} catch (...) {
		return -1;
	}
}

// ---- frames -------------------------------------------------------------

static bool read_at(FILE *fp, long long off, void *dst, size_t n)
{
	return fseeko(fp, (off_t)off, SEEK_SET) == 0 && fread(dst, 1, n, fp) == n;
}

static uint32_t le32(const unsigned char *p)
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
static long us_attr(const gdcm::DataSet &ds, uint16_t g, uint16_t e)
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

// What to_display maps to 8 bits: one frame's samples and how to read them.
struct display_in {
	const unsigned char *src;
	size_t n; // pixels
	int spp, bits, stored;
	bool is_signed, planar, ybr, invert;
	double slope, intercept;
	bool windowed;
	double c, w;
};

// 8-bit pixels for display (malloc'ed; NULL when out of memory): grey
// (channels 1) after the rescale, the window (else the frame's minimum to
// maximum, PS3.3 C.11.2.1.2's linear function) and MONOCHROME1's
// inversion; colour (channels 3) as RGB.
static unsigned char *to_display(const display_in &d, int *channels)
{
	const unsigned char *src = d.src;
	size_t n = d.n, bpp = (size_t)d.bits / 8;
	int bits = d.bits, stored = d.stored > 0 && d.stored < d.bits ? d.stored : d.bits;
	bool is_signed = d.is_signed;
	auto sample = [&](size_t i) -> double {
		const unsigned char *p = src + i * bpp;
		uint32_t u = bits == 8 ? p[0] : bits == 16 ? (uint32_t)(p[0] | p[1] << 8) : le32(p);
		if (stored < 32) {
			u &= (1u << stored) - 1; // bits above BitsStored are not the value's
			if (is_signed && (u >> (stored - 1)) & 1)
				return (double)u - (double)(1ull << stored);
		} else if (is_signed) {
			return (double)(int32_t)u;
		}
		return (double)u;
	};
	unsigned char *out = (unsigned char *)malloc(n * (d.spp == 3 ? 3 : 1));
	if (!out)
		return nullptr;
	if (d.spp == 3) {
		int shift = bits - 8;
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < 3; k++) {
				size_t idx = d.planar ? (size_t)k * n + i : i * 3 + (size_t)k;
				double v = sample(idx);
				out[i * 3 + (size_t)k] = (unsigned char)((long)v >> shift);
			}
		if (d.ybr) // PS3.3 C.7.6.3.1.2
			for (size_t i = 0; i < n; i++) {
				unsigned char *p = out + i * 3;
				double y = p[0], cb = p[1] - 128.0, cr = p[2] - 128.0;
				double rgb[3] = { y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb };
				for (int k = 0; k < 3; k++)
					p[k] = (unsigned char)std::lround(rgb[k] < 0 ? 0 : rgb[k] > 255 ? 255 : rgb[k]);
			}
		*channels = 3;
		return out;
	}
	double slope = d.slope == 0 ? 1 : d.slope, intercept = d.intercept, c = d.c, w = d.w;
	// the samples' range: for the window when the file has none, and for
	// a table of every value in it when that is small (16 bits or fewer)
	double smin = 1e300, smax = -1e300;
	for (size_t i = 0; i < n; i++) {
		double v = sample(i);
		smin = std::min(smin, v);
		smax = std::max(smax, v);
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
	if (n > 0 && smax - smin < 65536) {
		std::vector<unsigned char> table((size_t)(smax - smin) + 1);
		for (size_t k = 0; k < table.size(); k++)
			table[k] = display(smin + (double)k);
		for (size_t i = 0; i < n; i++)
			out[i] = table[(size_t)(sample(i) - smin)];
	} else {
		for (size_t i = 0; i < n; i++)
			out[i] = display(sample(i));
	}
	*channels = 1;
	return out;
}

// GDCM 3.0.21's RLE decoder puts the byte segments of colour samples wider
// than 8 bits in the wrong order (dcmtk's dcmdrle decodes them right):
// those files are decoded by rle_decode instead.
static bool rle_colour_wide(const gdcm::File &file, const gdcm::Pixmap &img)
{
	const gdcm::PixelFormat &pf = img.GetPixelFormat();
	return file.GetHeader().GetDataSetTransferSyntax() == gdcm::TransferSyntax::RLELossless &&
	       pf.GetSamplesPerPixel() > 1 && pf.GetBitsAllocated() > 8;
}

// PS3.5 annex G: each frame one fragment, a 64-byte header of segment
// offsets, one PackBits segment per byte of each sample (most significant
// first). Appends every frame as native little-endian samples, colour by
// pixel. False when the data does not fit the image.
static bool rle_decode(const gdcm::Pixmap &img, std::vector<char> &out)
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

extern "C" int dcm_render_frame(const char *path, long frame, unsigned char **pixels, int *width, int *height,
				int *channels, char *err, size_t errlen)
{
	quiet_gdcm();
	*pixels = nullptr;
	try {
		gdcm::ImageReader reader;
		reader.SetFileName(path);
		if (!reader.Read()) {
			gdcm::Reader plain;
			plain.SetFileName(path);
			if (plain.Read() && !plain.GetFile().GetDataSet().FindDataElement(gdcm::Tag(0x7fe0, 0x0010)))
				return 1; /* no pixel data */
			set_err(err, errlen, "the pixel data cannot be decoded");
			return -1;
		}
		gdcm::Image image = reader.GetImage();
		bool own_rle = rle_colour_wide(reader.GetFile(), image);
		gdcm::PhotometricInterpretation pi = image.GetPhotometricInterpretation();
		if (pi == gdcm::PhotometricInterpretation::PALETTE_COLOR) {
			gdcm::ImageApplyLookupTable lut;
			lut.SetInput(image);
			if (!lut.Apply()) {
				set_err(err, errlen, "the palette cannot be applied");
				return -1;
			}
			image = lut.GetOutput();
		}
		pi = image.GetPhotometricInterpretation();
		// GDCM decodes YBR_FULL and YBR_FULL_422 (JPEG, or native 4:2:2
		// upsampled) to full YCbCr samples: made RGB below
		bool ybr = pi == gdcm::PhotometricInterpretation::YBR_FULL || pi == gdcm::PhotometricInterpretation::YBR_FULL_422;
		long cols = image.GetDimension(0), rows = image.GetDimension(1);
		long nframes = image.GetNumberOfDimensions() > 2 ? image.GetDimension(2) : 1;
		if (frame < 1 || frame > nframes)
			return 1;
		const gdcm::PixelFormat &pf = image.GetPixelFormat();
		int spp = pf.GetSamplesPerPixel(), bits = pf.GetBitsAllocated();
		bool is_signed = pf.GetPixelRepresentation() == 1;
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
			// one bit a pixel, the first in each byte's lowest bit (PS3.5
			// 8.1.1), frames one after the other: made one byte a pixel
			if (all.size() * 8 < n * (size_t)frame) {
				set_err(err, errlen, "the pixel data is shorter than its frames");
				return -1;
			}
			std::vector<char> unpacked(n);
			for (size_t i = 0, b = n * (size_t)(frame - 1); i < n; i++, b++)
				unpacked[i] = (char)((all[b / 8] >> (b % 8)) & 1);
			all.swap(unpacked);
			bits = 8;
			frame = 1;
		}
		size_t bpp = (size_t)bits / 8;
		size_t fbytes = n * spp * bpp;
		if (all.size() < fbytes * (size_t)frame) {
			set_err(err, errlen, "the pixel data is shorter than its frames");
			return -1;
		}
		const unsigned char *src = (const unsigned char *)all.data() + fbytes * (size_t)(frame - 1);
		const gdcm::DataSet &ds = reader.GetFile().GetDataSet();
		display_in d = {};
		d.src = src;
		d.n = n;
		d.spp = spp;
		d.bits = bits;
		d.stored = bits; // GDCM's buffer holds the values as they are
		d.is_signed = is_signed;
		d.planar = !own_rle && image.GetPlanarConfiguration() == 1;
		d.ybr = ybr;
		d.invert = pi == gdcm::PhotometricInterpretation::MONOCHROME1;
		d.slope = image.GetSlope();
		d.intercept = image.GetIntercept();
		bool hc, hw;
		d.c = first_ds(ds, 0x0028, 0x1050, &hc);
		d.w = first_ds(ds, 0x0028, 0x1051, &hw);
		d.windowed = hc && hw;
		unsigned char *out = to_display(d, channels);
		if (!out) {
			set_err(err, errlen, "out of memory");
			return -1;
		}
		*pixels = out;
		*width = (int)cols;
		*height = (int)rows;
		return 0;
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
	} catch (...) {
		set_err(err, errlen, "rendering failed");
	}
	return -1;
}

// ---- transcoding ------------------------------------------------------

// Rewrites the file at path with another PhotometricInterpretation.
static int relabel(const char *path, const char *pi, char *err, size_t errlen)
{
	gdcm::Reader r;
	r.SetFileName(path);
	if (!r.Read()) {
		set_err(err, errlen, "cannot read the transcoded file");
		return -1;
	}
	gdcm::DataElement de(gdcm::Tag(0x0028, 0x0004));
	de.SetVR(gdcm::VR::CS);
	de.SetByteValue(pi, (uint32_t)strlen(pi));
	r.GetFile().GetDataSet().Replace(de);
	gdcm::Writer w;
	w.SetFileName(path);
	w.SetFile(r.GetFile());
	w.CheckFileMetaInformationOff();
	if (!w.Write()) {
		set_err(err, errlen, "cannot write the transcoded file");
		return -1;
	}
	return 0;
}

extern "C" int dcm_transcode(const char *src, const char *dst, const char *ts, char *err, size_t errlen)
{
	quiet_gdcm();
	try {
		gdcm::TransferSyntax target = gdcm::TransferSyntax::GetTSType(ts);
		if (target == gdcm::TransferSyntax::TS_END) {
			set_err(err, errlen, "unknown transfer syntax");
			return -1;
		}
		gdcm::ImageReader ir;
		ir.SetFileName(src);
		if (ir.Read()) {
			gdcm::ImageChangeTransferSyntax change;
			change.SetTransferSyntax(target);
			// (the filter keeps a counted reference to its input)
			gdcm::SmartPointer<gdcm::Image> native;
			if (rle_colour_wide(ir.GetFile(), ir.GetImage())) {
				// decoded here, then handed to GDCM as native data
				std::vector<char> px;
				if (!rle_decode(ir.GetImage(), px)) {
					set_err(err, errlen, "the RLE data does not fit the image");
					return -1;
				}
				native = new gdcm::Image(ir.GetImage());
				gdcm::DataElement pd(gdcm::Tag(0x7fe0, 0x0010));
				pd.SetVR(gdcm::VR::OW);
				pd.SetByteValue(px.data(), (uint32_t)px.size());
				native->SetDataElement(pd);
				native->SetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
				native->SetPlanarConfiguration(0);
				change.SetInput(*native);
			} else {
				change.SetInput(ir.GetImage());
			}
			// the lossy syntaxes: GDCM's encoders would otherwise write
			// lossless bit streams under a lossy label
			gdcm::JPEGCodec jpeg;
			gdcm::JPEGLSCodec jpegls;
			gdcm::JPEG2000Codec j2k;
			if (target == gdcm::TransferSyntax::JPEGBaselineProcess1 ||
			    target == gdcm::TransferSyntax::JPEGExtendedProcess2_4) {
				jpeg.SetLossless(false);
				jpeg.SetQuality(DCM_LOSSY_JPEG_QUALITY);
				change.SetUserCodec(&jpeg);
			} else if (target == gdcm::TransferSyntax::JPEGLSNearLossless) {
				jpegls.SetLossless(false);
				jpegls.SetLossyError(DCM_LOSSY_JPEGLS_ERROR);
				change.SetUserCodec(&jpegls);
			} else if (target == gdcm::TransferSyntax::JPEG2000) {
				j2k.SetRate(0, DCM_LOSSY_J2K_RATIO);
				change.SetUserCodec(&j2k);
			}
			// GDCM labels 16-bit JPEG bit streams as baseline or extended
			// (8 and 12 bits at most): refused here rather than sent invalid
			if ((target == gdcm::TransferSyntax::JPEGBaselineProcess1 ||
			     target == gdcm::TransferSyntax::JPEGExtendedProcess2_4) &&
			    ir.GetImage().GetPixelFormat().GetBitsAllocated() != 8) {
				set_err(err, errlen, "lossy JPEG needs 8-bit samples");
				return -1;
			}
			if (!change.Change()) {
				set_err(err, errlen, "the pixel data cannot be transcoded");
				return -1;
			}
			if (target.IsLossy()) {
				// PS3.3 C.7.6.1.1.5: once lossy, always marked lossy
				gdcm::DataSet &ds = ir.GetFile().GetDataSet();
				const char *method = target == gdcm::TransferSyntax::JPEGLSNearLossless ? "ISO_14495_1 "
						     : target == gdcm::TransferSyntax::JPEG2000	       ? "ISO_15444_1 "
											       : "ISO_10918_1 ";
				gdcm::DataElement flag(gdcm::Tag(0x0028, 0x2110)), m(gdcm::Tag(0x0028, 0x2114));
				flag.SetVR(gdcm::VR::CS);
				flag.SetByteValue("01", 2);
				m.SetVR(gdcm::VR::CS);
				m.SetByteValue(method, 12);
				ds.Replace(flag);
				ds.Replace(m);
			}
			gdcm::ImageWriter w;
			w.SetFileName(dst);
			w.SetFile(ir.GetFile());
			w.SetImage(change.GetOutput());
			if (!w.Write()) {
				set_err(err, errlen, "cannot write the transcoded file");
				return -1;
			}
			// GDCM's lossy JPEG encoder stores colour as YCbCr (libjpeg's
			// default) but keeps the label RGB: the label is put right
			if ((target == gdcm::TransferSyntax::JPEGBaselineProcess1 ||
			     target == gdcm::TransferSyntax::JPEGExtendedProcess2_4) &&
			    change.GetOutput().GetPhotometricInterpretation() == gdcm::PhotometricInterpretation::RGB)
				return relabel(dst, "YBR_FULL_422", err, errlen);
			return 0;
		}
		// no image: only a change of encoding is possible
		if (target != gdcm::TransferSyntax::ExplicitVRLittleEndian &&
		    target != gdcm::TransferSyntax::ImplicitVRLittleEndian) {
			set_err(err, errlen, "an instance without pixel data can only be sent uncompressed");
			return -1;
		}
		gdcm::Reader r;
		r.SetFileName(src);
		if (!r.Read()) {
			set_err(err, errlen, "The DICOM instance is invalid.");
			return -1;
		}
		gdcm::FileExplicitFilter fef;
		fef.SetFile(r.GetFile());
		if (target == gdcm::TransferSyntax::ExplicitVRLittleEndian && !fef.Change()) {
			set_err(err, errlen, "cannot make the data set explicit");
			return -1;
		}
		gdcm::FileMetaInformation &h = r.GetFile().GetHeader();
		h.SetDataSetTransferSyntax(target);
		gdcm::DataElement tsde(gdcm::Tag(0x0002, 0x0010));
		tsde.SetVR(gdcm::VR::UI);
		std::string uid = ts;
		if (uid.size() % 2)
			uid.push_back('\0');
		tsde.SetByteValue(uid.data(), (uint32_t)uid.size());
		h.Replace(tsde);
		gdcm::Writer w;
		w.SetFileName(dst);
		w.SetFile(r.GetFile());
		// the meta header is rebuilt (group length, syntax)
		if (!w.Write()) {
			set_err(err, errlen, "cannot write the transcoded file");
			return -1;
		}
		return 0;
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
	} catch (...) {
		set_err(err, errlen, "transcoding failed");
	}
	return -1;
}

extern "C" int dcm_render_native(const char *path, long long offset, long long length, unsigned char **pixels,
				 int *width, int *height, int *channels, char *err, size_t errlen)
{
	*pixels = nullptr;
	dcm_file *f = dcm_open(path, err, errlen);
	if (!f)
		return -1;
	int rc = 1;
	FILE *fp = nullptr;
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
		{
			std::vector<unsigned char> frame((size_t)length);
			fp = fopen(path, "rb");
			if (!fp || !read_at(fp, offset, frame.data(), frame.size())) {
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
			d.src = frame.data();
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
		}
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
		rc = -1;
	} catch (...) {
		set_err(err, errlen, "rendering failed");
		rc = -1;
	}
done:
	if (fp)
		fclose(fp);
	dcm_free(f);
	return rc;
}

static int count_element(void *ctx, const struct dcm_element *e)
{
	(void)e;
	++*(long *)ctx;
	return 0;
}

extern "C" int dcm_probe(const char *path, char *err, size_t errlen)
{
	dcm_file *f = dcm_open(path, err, errlen);
	if (!f)
		return -1;
	struct buf json;
	long n = 0;
	char v[72];
	buf_init(&json, 0);
	int rc = dcm_write_json(f, &json, nullptr, 0, false) || dcm_write_json(f, &json, nullptr, 0, true) ? -1 : 0;
	dcm_foreach(f, count_element, &n);
	dcm_get_string(f, DCM_TAG(0x0008, 0x0018), v, sizeof(v));
	buf_release(&json);
	dcm_free(f);
	if (rc)
		set_err(err, errlen, "The DICOM instance is invalid.");
	return rc;
}
