// The GDCM bridge, character sets: the text of a data set, in the
// character set its SpecificCharacterSet (0008,0005) declares, as UTF-8
// (iconv). PS3.3 C.12.1.1.2 and PS3.5 6.1.
#include "dicom/dcm_internal.hh"

#include <cerrno>

// PS3.3 C.12.1.1.2's defined terms (without and with code extensions) and
// the iconv name of each.
static const struct {
	const char *term;
	const char *iconv;
} sets[] = {
	{ "ISO_IR 100", "ISO-8859-1" },	 { "ISO 2022 IR 100", "ISO-8859-1" }, { "ISO_IR 101", "ISO-8859-2" },
	{ "ISO 2022 IR 101", "ISO-8859-2" }, { "ISO_IR 109", "ISO-8859-3" },	 { "ISO 2022 IR 109", "ISO-8859-3" },
	{ "ISO_IR 110", "ISO-8859-4" },	 { "ISO 2022 IR 110", "ISO-8859-4" }, { "ISO_IR 144", "ISO-8859-5" },
	{ "ISO 2022 IR 144", "ISO-8859-5" }, { "ISO_IR 127", "ISO-8859-6" },	 { "ISO 2022 IR 127", "ISO-8859-6" },
	{ "ISO_IR 126", "ISO-8859-7" },	 { "ISO 2022 IR 126", "ISO-8859-7" }, { "ISO_IR 138", "ISO-8859-8" },
	{ "ISO 2022 IR 138", "ISO-8859-8" }, { "ISO_IR 148", "ISO-8859-9" },	 { "ISO 2022 IR 148", "ISO-8859-9" },
	{ "ISO_IR 203", "ISO-8859-15" },	 { "ISO 2022 IR 203", "ISO-8859-15" }, { "ISO_IR 166", "TIS-620" },
	{ "ISO 2022 IR 166", "TIS-620" },	 { "ISO_IR 13", "JIS_X0201" },	 { "ISO 2022 IR 13", "JIS_X0201" },
	{ "ISO 2022 IR 87", "ISO-2022-JP-2" }, { "ISO 2022 IR 159", "ISO-2022-JP-2" }, { "ISO 2022 IR 149", "EUC-KR" },
	{ "ISO 2022 IR 58", "EUC-CN" },	 { "GB18030", "GB18030" },		 { "GBK", "GBK" },
	{ "ISO_IR 192", "UTF-8" },
};

// The iconv name for the data set's terms: the multi-byte ones first (a
// "\ISO 2022 IR 87" data set also has ASCII), else the last single-byte.
static const char *iconv_name(const std::string &terms, bool *keep_escapes)
{
	const char *name = nullptr;
	size_t pos = 0;
	*keep_escapes = false;
	while (pos <= terms.size()) {
		size_t end = terms.find('\\', pos);
		if (end == std::string::npos)
			end = terms.size();
		std::string t = terms.substr(pos, end - pos);
		while (!t.empty() && (t.back() == ' ' || t.back() == '\0'))
			t.pop_back();
		while (!t.empty() && t.front() == ' ')
			t.erase(0, 1);
		for (const auto &s : sets) {
			if (t != s.term)
				continue;
			bool japanese = !strcmp(s.iconv, "ISO-2022-JP-2");
			if (japanese || !name || strcmp(name, "ISO-2022-JP-2")) {
				name = s.iconv;
				*keep_escapes = japanese;
			}
		}
		pos = end + 1;
	}
	return name;
}

void bridge::charset_open(charset &cs, const gdcm::DataSet &ds)
{
	cs.cd = (iconv_t)-1;
	gdcm::Tag t(0x0008, 0x0005);
	if (!ds.FindDataElement(t))
		return;
	const gdcm::ByteValue *bv = ds.GetDataElement(t).GetByteValue();
	if (!bv || !bv->GetLength())
		return;
	const char *name = iconv_name(std::string(bv->GetPointer(), bv->GetLength()), &cs.keep_escapes);
	if (name && strcmp(name, "UTF-8"))
		cs.cd = iconv_open("UTF-8", name);
	cs.utf8 = name && !strcmp(name, "UTF-8");
}

void bridge::charset_close(charset &cs)
{
	if (cs.cd != (iconv_t)-1)
		iconv_close(cs.cd);
	cs.cd = (iconv_t)-1;
}

bool bridge::text_vr(gdcm::VR vr)
{
	return vr == gdcm::VR::SH || vr == gdcm::VR::LO || vr == gdcm::VR::ST || vr == gdcm::VR::LT ||
	       vr == gdcm::VR::UT || vr == gdcm::VR::PN || vr == gdcm::VR::UC;
}

// The length of a well-formed UTF-8 sequence at p, or 0.
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
				: p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	if (!n || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) || (p[0] == 0xf0 && p[1] < 0x90) ||
	    (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

static void add_latin1(std::string &out, unsigned char c)
{
	out.push_back((char)(0xc0 | c >> 6));
	out.push_back((char)(0x80 | (c & 0x3f)));
}

// Without a converter: UTF-8 as it is, other bytes as Latin-1 (files that
// declare nothing but carry 8-bit text mostly mean that).
static void plain(const char *p, size_t n, std::string &out)
{
	const unsigned char *s = (const unsigned char *)p;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(s + i, n - i);
		if (k) {
			out.append(p + i, k);
			i += k;
		} else {
			add_latin1(out, s[i++]);
		}
	}
}

void bridge::charset_to_utf8(const charset &cs, const char *p, size_t n, std::string &out)
{
	if (cs.cd == (iconv_t)-1) {
		plain(p, n, out);
		return;
	}
	// ISO 2022 escape sequences select the sets a value switches between:
	// iconv's ISO-2022-JP-2 reads them; for the others the declared set is
	// the only one, so they are dropped (ESC, intermediates, final byte)
	std::string in;
	if (cs.keep_escapes) {
		in.assign(p, n);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (p[i] != 0x1b) {
				in.push_back(p[i]);
				continue;
			}
			while (i + 1 < n && p[i + 1] >= 0x20 && p[i + 1] <= 0x2f)
				i++;
			if (i + 1 < n)
				i++;
		}
	}
	iconv(cs.cd, nullptr, nullptr, nullptr, nullptr); // the initial state
	char buf[1024];
	char *src = in.empty() ? nullptr : &in[0];
	size_t left = in.size();
	while (left) {
		char *dst = buf;
		size_t room = sizeof(buf);
		size_t r = iconv(cs.cd, &src, &left, &dst, &room);
		out.append(buf, (size_t)(dst - buf));
		if (r == (size_t)-1 && errno != E2BIG) {
			out.append("\xef\xbf\xbd"); // U+FFFD for what the set does not have
			src++;
			left--;
			iconv(cs.cd, nullptr, nullptr, nullptr, nullptr);
		}
	}
	char *dst = buf;
	size_t room = sizeof(buf);
	iconv(cs.cd, nullptr, nullptr, &dst, &room);
	out.append(buf, (size_t)(dst - buf));
}

bool bridge::charset_invalid(const charset &cs, const char *p, size_t n)
{
	if (cs.utf8) {
		const unsigned char *s = (const unsigned char *)p;
		for (size_t i = 0; i < n;) {
			size_t k = utf8_len(s + i, n - i);
			if (!k)
				return true;
			i += k;
		}
		return false;
	}
	if (cs.cd == (iconv_t)-1)
		return false;
	// converted, the text holds U+FFFD where it had none: a byte the set lacks
	std::string out;
	charset_to_utf8(cs, p, n, out);
	size_t before = 0, after = 0;
	for (size_t i = 0; i + 2 < n; i++)
		before += !memcmp(p + i, "\xef\xbf\xbd", 3);
	for (size_t i = 0; i + 2 < out.size(); i++)
		after += !memcmp(out.data() + i, "\xef\xbf\xbd", 3);
	return after > before;
}
