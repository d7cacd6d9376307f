// The GDCM bridge, DICOM JSON (PS3.18 F.2): a data set as the service
// writes it, bulk data left out or listed as BulkDataURI links.
#include "dicom/dcm_internal.hh"

// ---- DICOM JSON -------------------------------------------------------

bool bridge::is_bulk(gdcm::VR vr)
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

// A DS or IS value as a JSON number when it is one that JSON parsers and
// PostgreSQL read (a finite double: "1e999999" is eight valid DS
// characters that overflow both), else as a string.
static void add_number_text(struct buf *out, const char *p, size_t n)
{
	std::string s(p, n); // (short strings stay in the object itself)
	char *end = nullptr;
	double d = strtod(s.c_str(), &end);
	bool finite = end && *end == '\0' && std::isfinite(d);
	if (finite && json_number(p, n)) {
		buf_add(out, p, n);
		return;
	}
	if (finite) {
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

static void write_dataset(const gdcm::DataSet &ds, struct buf *out, bool swap, const charset &cs, const uint32_t *skip,
			  size_t nskip, const std::string *bulk);

// The width of a binary number VR's values; 0 for the others.
static size_t binary_width(gdcm::VR vr)
{
	switch (vr) {
	case gdcm::VR::US: case gdcm::VR::SS: return 2;
	case gdcm::VR::UL: case gdcm::VR::SL: case gdcm::VR::FL: case gdcm::VR::AT: return 4;
	case gdcm::VR::FD: case gdcm::VR::UV: case gdcm::VR::SV: return 8;
	default: return 0;
	}
}

// Binary numbers, w bytes each.
static void write_binary(const char *p, size_t n, size_t w, gdcm::VR vr, struct buf *out, bool swap)
{
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
			buf_addf(out, "\"%04X%04X\"", (unsigned)load<uint16_t>(q, swap), (unsigned)load<uint16_t>(q + 2, swap));
			break;
		default: break;
		}
	}
	buf_addch(out, ']');
}

// A person name: Alphabetic=Ideographic=Phonetic as an object.
static void write_person_name(const char *vp, size_t vn, struct buf *out)
{
	static const char *const groups[] = { "Alphabetic", "Ideographic", "Phonetic" };
	size_t gs = 0;
	int g = 0;
	bool any = false;

	buf_addch(out, '{');
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
}

static void write_values(const gdcm::DataElement &de, gdcm::VR vr, struct buf *out, bool swap, const charset &cs)
{
	const gdcm::ByteValue *bv = de.GetByteValue();
	const char *p = bv ? bv->GetPointer() : nullptr;
	size_t n = bv ? (size_t)bv->GetLength() : 0;
	if (!p || n == 0)
		return;
	if (size_t w = binary_width(vr)) {
		write_binary(p, n, w, vr, out, swap);
		return;
	}
	// strings; LT, ST, UT and UR hold one value, backslash included
	bool single = vr == gdcm::VR::LT || vr == gdcm::VR::ST || vr == gdcm::VR::UT || vr == gdcm::VR::UR;
	const char *tp;
	size_t tn;
	trimmed(vr, p, n, &tp, &tn);
	if (tn == 0)
		return;
	// text in the declared character set, as UTF-8 (before splitting: a
	// GBK or Shift-JIS trail byte may be a backslash)
	std::string utf8;
	if (text_vr(vr)) {
		charset_to_utf8(cs, tp, tn, utf8);
		tp = utf8.data();
		tn = utf8.size();
	}
	buf_adds(out, ",\"Value\":[");
	size_t start = 0;
	for (size_t i = 0; i <= tn; i++) {
		if (i < tn && (single || tp[i] != '\\'))
			continue;
		const char *vp;
		size_t vn;
		trimmed(vr, tp + start, i - start, &vp, &vn);
		if (start)
			buf_addch(out, ',');
		if (vn == 0)
			buf_adds(out, "null");
		else if (vr == gdcm::VR::PN)
			write_person_name(vp, vn, out);
		else if (vr == gdcm::VR::IS || vr == gdcm::VR::DS)
			add_number_text(out, vp, vn);
		else
			buf_add_json_str(out, vp, vn);
		start = i + 1;
	}
	buf_addch(out, ']');
}

// bulk: NULL leaves bulk data out (as the service does); else the tag path
// so far ("" at the top, "00081140/2/" in a sequence's second item), and
// bulk data becomes a BulkDataURI "bulkdata/{path}{tag}"
static void write_element(const gdcm::DataElement &de, const gdcm::DataSet &ds, struct buf *out, bool swap,
			  const charset &cs, const std::string *bulk)
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
				write_dataset(sq->GetItem(i).GetNestedDataSet(), out, swap, cs, nullptr, 0, bulk ? &inner : nullptr);
			}
			buf_addch(out, ']');
		}
	} else if (is_bulk(vr)) {
		if (!de.IsEmpty())
			buf_addf(out, ",\"BulkDataURI\":\"bulkdata/%s%s\"", bulk->c_str(), tag);
	} else {
		write_values(de, vr, out, swap, cs);
	}
	buf_addch(out, '}');
}

static void write_dataset(const gdcm::DataSet &ds, struct buf *out, bool swap, const charset &cs, const uint32_t *skip,
			  size_t nskip, const std::string *bulk)
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
		write_element(de, ds, out, swap, cs, bulk);
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
		write_dataset(ds, out, f->big_endian, f->cs, skip, nskip, bulk_links ? &top : nullptr);
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
