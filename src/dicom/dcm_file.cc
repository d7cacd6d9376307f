// The GDCM bridge, file and attributes: open a client's file, read its
// elements and their values, the standard dictionary, and the store-time
// probe. Nothing GDCM-typed leaves src/dicom.
#include "dicom/dcm_internal.hh"

#include <climits>
#include <unordered_map>

void bridge::set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

// GDCM prints warnings about odd files to stderr; bad input is reported
// through our own return values instead.
void bridge::quiet_gdcm()
{
	static bool done;
	if (!done) {
		gdcm::Trace::SetWarning(false);
		gdcm::Trace::SetDebug(false);
		done = true;
	}
}

int bridge::rewound(int fd)
{
	return lseek(fd, 0, SEEK_SET) == 0 ? dup(fd) : -1;
}

FILE *bridge::reopen(const dcm_file *f)
{
	if (f->mem)
		return fmemopen((void *)f->mem, f->mem_size, "rb");
	if (f->fd < 0)
		return fopen(f->path.c_str(), "rb");
	int d = rewound(f->fd);
	FILE *fp = d >= 0 ? fdopen(d, "rb") : nullptr;
	if (!fp && d >= 0)
		close(d);
	return fp;
}

// Parses f, whose source (path or memory) is set: the look before GDCM,
// then GDCM up to the pixel data. false with a reason in err.
static bool parse(dcm_file *f, char *err, size_t errlen)
{
	std::string why;
	if (!looks_sound(reopen(f), why)) {
		set_err(err, errlen, ("The DICOM instance is invalid: " + why + ".").c_str());
		return false;
	}
	if (f->mem || f->fd >= 0) {
		if (f->mem)
			f->in_buf.reset(new membuf(f->mem, f->mem_size));
		else
			f->in_buf.reset(new __gnu_cxx::stdio_filebuf<char>(rewound(f->fd), std::ios::in));
		f->in.reset(new std::istream(f->in_buf.get()));
		if (f->fd >= 0 && !((__gnu_cxx::stdio_filebuf<char> *)f->in_buf.get())->is_open())
			f->in->setstate(std::ios::badbit);
		f->reader.SetStream(*f->in);
	} else {
		f->reader.SetFileName(f->path.c_str());
	}
	// the pixel data's value is skipped, not loaded (GDCM reads the
	// stop tag itself otherwise)
	std::set<gdcm::Tag> skip = { gdcm::Tag(0x7fe0, 0x0010) };
	if (!f->reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip)) {
		set_err(err, errlen, "The DICOM instance is invalid.");
		return false;
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
	charset_open(f->cs, file.GetDataSet());
	return true;
}

// dcm_open, dcm_open_memory and dcm_open_fd: f parsed, or deleted and NULL.
static dcm_file *opened(dcm_file *f, char *err, size_t errlen)
{
	quiet_gdcm();
	try {
		if (parse(f, err, errlen))
			return f;
	} catch (...) {
		set_err(err, errlen, "The DICOM instance is invalid.");
	}
	delete f;
	return nullptr;
}

// A new dcm_file reading path (NULL: a source set after), or NULL (out of
// memory: the child's limit).
static dcm_file *made(const char *path, char *err, size_t errlen)
{
	try {
		std::unique_ptr<dcm_file> f(new dcm_file());
		if (path)
			f->path = path;
		return f.release();
	} catch (...) {
		set_err(err, errlen, "The DICOM instance is invalid.");
		return nullptr;
	}
}

extern "C" struct dcm_file *dcm_open(const char *path, char *err, size_t errlen)
{
	dcm_file *f = made(path, err, errlen);
	return f ? opened(f, err, errlen) : nullptr;
}

extern "C" struct dcm_file *dcm_open_memory(const void *data, size_t size, char *err, size_t errlen)
{
	if (!size) {
		set_err(err, errlen, "The DICOM instance is invalid.");
		return nullptr;
	}
	dcm_file *f = made(nullptr, err, errlen);
	if (!f)
		return nullptr;
	f->mem = data;
	f->mem_size = size;
	return opened(f, err, errlen);
}

extern "C" struct dcm_file *dcm_open_fd(int fd, char *err, size_t errlen)
{
	dcm_file *f = made(nullptr, err, errlen);
	if (!f)
		return nullptr;
	f->fd = fd;
	return opened(f, err, errlen);
}

extern "C" void dcm_free(struct dcm_file *f)
{
	if (f)
		charset_close(f->cs);
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
gdcm::VR bridge::element_vr(const gdcm::DataElement &de, const gdcm::DataSet &ds)
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

const char *bridge::vr_name(gdcm::VR vr)
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
void bridge::trimmed(gdcm::VR vr, const char *p, size_t n, const char **op, size_t *on)
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
		std::string text;
		if (text_vr(vr)) {
			charset_to_utf8(f->cs, p, n, text); /* (the index holds UTF-8) */
			p = text.data();
			n = text.size();
		}
		if (n >= outlen) {
			n = outlen - 1;
			while (n && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--; /* not inside a UTF-8 sequence */
		}
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
			e.text_invalid = e.value && text_vr(vr) && charset_invalid(f->cs, e.value, e.len);
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

// The public dictionary by keyword, made once a process: GDCM's
// GetDictEntryByKeyword walks the whole dictionary (about 100 us for a
// keyword it does not know, a few for one it does). The first entry of a
// keyword in tag order, as that walk finds it; entries without one are
// not named so.
struct keyword_entry {
	uint32_t tag;
	gdcm::VR vr;
};

static const std::unordered_map<std::string, keyword_entry> &keyword_index()
{
	static const std::unordered_map<std::string, keyword_entry> index = [] {
		std::unordered_map<std::string, keyword_entry> m;
		const gdcm::Dict &d = gdcm::Global::GetInstance().GetDicts().GetPublicDict();
		for (gdcm::Dict::ConstIterator it = d.Begin(); it != d.End(); ++it) {
			const char *k = it->second.GetKeyword();
			if (k && *k)
				m.emplace(k, keyword_entry{ ((uint32_t)it->first.GetGroup() << 16) | it->first.GetElement(),
							    it->second.GetVR() });
		}
		return m;
	}();
	return index;
}

extern "C" int dcm_keyword_tag(const char *keyword, uint32_t *tag, char vr[3])
{
	try {
		const auto &index = keyword_index();
		auto found = index.find(keyword);
		if (found == index.end())
			return -1;
		*tag = found->second.tag;
		if (vr)
			vr_out(found->second.vr, vr);
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

extern "C" int dcm_tag_vm(uint32_t tag, char *name, size_t namelen, char *vm, size_t vmlen, int *min, int *max)
{
	try {
		gdcm::Tag t((uint16_t)(tag >> 16), (uint16_t)(tag & 0xffff));
		if (t.IsPrivate())
			return -1;
		const gdcm::DictEntry &e = gdcm::Global::GetInstance().GetDicts().GetDictEntry(t);
		const char *s = gdcm::VM::GetVMString(e.GetVM());
		if (!e.GetName() || !*e.GetName() || !s || !*s)
			return -1;
		snprintf(name, namelen, "%s", e.GetName());
		snprintf(vm, vmlen, "%s", s);
		/* "1", "1-3", "1-n", "2-2n" */
		char *end;
		*min = (int)strtol(s, &end, 10);
		*max = *min;
		if (*end == '-')
			*max = strchr(end, 'n') ? INT_MAX : (int)strtol(end + 1, nullptr, 10);
		return *min > 0 ? 0 : -1;
	} catch (...) {
		return -1;
	}
}

static int count_element(void *ctx, const struct dcm_element *e)
{
	(void)e;
	++*(long *)ctx;
	return 0;
}

extern "C" int dcm_check(const struct dcm_file *f, struct buf *meta, struct buf *bulk, char *err, size_t errlen)
{
	long n = 0;
	char v[72];
	int rc = dcm_write_json(f, meta, nullptr, 0, false) || dcm_write_json(f, bulk, nullptr, 0, true) ? -1 : 0;
	dcm_foreach(f, count_element, &n);
	dcm_get_string(f, DCM_TAG(0x0008, 0x0018), v, sizeof(v));
	/* the pixel data is not loaded by the parse: a file cut inside it
	 * would be stored whole-looking and fail every later read */
	const char *why = rc ? "The DICOM instance is invalid." : nullptr;
	if (!rc && !f->big_endian && f->ts != "1.2.840.10008.1.2.1.99" && pixel_data_truncated(reopen(f), f->implicit)) {
		rc = -1;
		why = "The DICOM instance is truncated.";
	}
	if (rc)
		set_err(err, errlen, why);
	return rc;
}

