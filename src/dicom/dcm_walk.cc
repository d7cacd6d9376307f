// The GDCM bridge: a look at a client's file before GDCM reads it.
#include "dicom/dcm_internal.hh"

#include <climits>
#include <cstdarg>
#include <zlib.h>

// GDCM meets some malformed files with work out of all proportion to their
// size (a 1 KB file with an element of VR "XX" cost seconds of CPU and
// GBs of allocation). Explicit VR little endian data sets (and every
// encapsulated syntax) are walked here first, header by header, values
// skipped: an unknown VR, a length past the end or nesting beyond reason
// refuses the file before GDCM sees it. Explicit VR big endian ones too,
// and implicit VR little endian ones (GDCM zeroed 1.3 GB for a PatientName
// 0x4D000000 bytes long: 5 s): their lengths, and the sequences the
// dictionary or an undefined length shows. A deflated data set is walked
// as it is inflated, its values inflated and dropped (GDCM inflated it
// whole and then met the same lengths: 4.5 s for a 1 KB file). A data set
// with no file meta header is walked in each syntax GDCM may read it in.

// A deflated data set read forward as the walk asks: the bytes at a place
// past the last read (those before it inflated and dropped), or again
// those of the last read (a header read twice).
struct inflated {
	z_stream z;
	unsigned char in[65536];
	long long at;            /* the data set's bytes inflated so far */
	unsigned char last[16];  /* the last read, if that short */
	long long last_at;
	size_t last_n;
	bool end, bad;           /* the stream ended; not as deflate data should */
};

struct walker {
	FILE *fp;
	long long size;          /* LLONG_MAX when inflated: found at the end */
	long elements;
	bool implicit;           /* the data set's elements have no VR */
	bool big;                /* its numbers are big endian */
	inflated *inf;           /* the data set is deflated: read through this */
	long long last_at;       /* the last element's place, tag, value's end and length */
	uint32_t last_tag;
	long long last_end, last_len;
	std::string why;         /* the first reason the file was refused */
};

// false, the reason kept (the first one: the place where the walk failed,
// not the callers that return its false): "<what> at byte <at>".
static bool refuse(walker &w, long long at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool refuse(walker &w, long long at, const char *fmt, ...)
{
	if (!w.why.empty())
		return false;
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	char where[96];
	snprintf(where, sizeof(where), " at byte %lld%s", at, w.inf ? " of the inflated data set" : "");
	w.why = std::string(what) + where;
	return false;
}

// Up to n inflated bytes into out (NULL: dropped); 0 at the end.
static size_t inflate_some(FILE *fp, inflated &f, unsigned char *out, size_t n)
{
	unsigned char junk[16384];
	size_t k = out ? n : std::min(n, sizeof(junk));
	f.z.next_out = out ? out : junk;
	f.z.avail_out = (uInt)std::min(k, (size_t)UINT_MAX);
	uInt asked = f.z.avail_out;
	while (f.z.avail_out == asked && !f.end) {
		if (f.z.avail_in == 0) {
			size_t got = fread(f.in, 1, sizeof(f.in), fp);
			f.z.next_in = f.in;
			f.z.avail_in = (uInt)got;
			if (got == 0) {
				f.end = f.bad = true; /* deflate data that stops short */
				break;
			}
		}
		int rc = inflate(&f.z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			f.end = true;
		else if (rc != Z_OK)
			f.end = f.bad = true;
	}
	size_t got = asked - f.z.avail_out;
	f.at += (long long)got;
	return got;
}

static bool get_inflated(walker &w, long long at, unsigned char *dst, size_t n)
{
	inflated &f = *w.inf;
	size_t have = 0;
	if (at >= f.last_at && at < f.last_at + (long long)f.last_n && f.at == f.last_at + (long long)f.last_n) {
		have = std::min(n, (size_t)(f.last_at + (long long)f.last_n - at));
		memcpy(dst, f.last + (at - f.last_at), have);
	} else if (at < f.at) {
		return false; /* the walk reads forward */
	}
	while (f.at < at)
		if (!inflate_some(w.fp, f, nullptr, (size_t)(at - f.at)))
			return false;
	for (size_t got; have < n; have += got)
		if (!(got = inflate_some(w.fp, f, dst + have, n - have)))
			return false;
	if (n <= sizeof(f.last)) {
		memcpy(f.last, dst, n);
		f.last_at = at;
		f.last_n = n;
	}
	return true;
}

static bool get(walker &w, long long at, unsigned char *dst, size_t n)
{
	if (w.inf)
		return get_inflated(w, at, dst, n);
	return at >= 0 && at + (long long)n <= w.size && fseeko(w.fp, (off_t)at, SEEK_SET) == 0 &&
	       fread(dst, 1, n, w.fp) == n;
}

// Whether the walk stopped where an inflated data set ends, between two
// of its elements: its end, found.
static bool inflated_end(const walker &w, long long pos)
{
	return w.inf && w.inf->end && !w.inf->bad && w.inf->at == pos;
}

/* Whether the two characters at v are one of the VRs in list (pairs). */
static bool vr_in(const char *list, const unsigned char *v)
{
	for (; list[0] && list[1]; list += 2)
		if (v[0] == (unsigned char)list[0] && v[1] == (unsigned char)list[1])
			return true;
	return false;
}

static bool known_vr(const unsigned char *v)
{
	return vr_in("AEASATCSDADSDTFDFLISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV", v);
}

static bool long_form(const unsigned char *v)
{
	return vr_in("OBODOFOLOVOWSQSVUCUNURUTUV", v);
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* A number of the data set, in its byte order. */
static uint16_t w16(const walker &w, const unsigned char *p)
{
	return w.big ? (uint16_t)(p[0] << 8 | p[1]) : le16(p);
}

static uint32_t w32(const walker &w, const unsigned char *p)
{
	return w.big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : le32(p);
}

/* Whether the standard dictionary has the element as a sequence. */
static bool dict_sq(uint16_t g, uint16_t e)
{
	return gdcm::Global::GetInstance().GetDicts().GetDictEntry(gdcm::Tag(g, e)).GetVR() == gdcm::VR::SQ;
}

// What an element's header says of its value: where it ends (-1: at its
// delimiter), whether it holds items to walk (a sequence, or fragments:
// raw).
struct value {
	long long end;
	bool items, raw;
};

enum { NOT_DATA = -1, STOP = 1 };

// One implicit VR element at pos (its 8-byte header in h): pos past its
// header, its value in *v.
static int implicit_element(const unsigned char *h, long long &pos, value *v)
{
	uint16_t g = le16(h), e = le16(h + 2);
	uint32_t len = le32(h + 4);
	pos += 8;
	v->raw = g == 0x7FE0 && e == 0x0010;
	v->end = len == 0xFFFFFFFFu ? -1 : pos + (long long)len;
	v->items = v->end < 0 || (!v->raw && dict_sq(g, e));
	return 0;
}

// One explicit VR element at pos (its first 8 bytes in h): pos past its
// header, its value in *v; NOT_DATA (the reason kept) for an unknown VR,
// or an undefined length where none may be; STOP for a sequence encoded
// as UN (implicit inside: GDCM judges it).
static int explicit_element(walker &w, unsigned char *h, long long &pos, value *v)
{
	uint16_t g = w16(w, h), e = w16(w, h + 2);
	if (!known_vr(h + 4))
		return refuse(w, pos, "element (%04X,%04X) has no known VR (0x%02X%02X)", g, e, h[4], h[5]), NOT_DATA;
	long long hdr = 8;
	uint32_t len = w16(w, h + 6);
	if (long_form(h + 4)) {
		if (!get(w, pos, h, 12))
			return refuse(w, pos, "the data set ends inside element (%04X,%04X)'s header", g, e), NOT_DATA;
		len = w32(w, h + 8);
		hdr = 12;
	}
	pos += hdr;
	bool sq = h[4] == 'S' && h[5] == 'Q';
	v->raw = false;
	if (len != 0xFFFFFFFFu) {
		v->end = pos + (long long)len;
		v->items = sq;
		return 0;
	}
	if (h[4] == 'U' && h[5] == 'N')
		return STOP;
	if (!long_form(h + 4))
		return refuse(w, pos - hdr, "element (%04X,%04X) of VR %c%c has an undefined length", g, e, h[4], h[5]),
		       NOT_DATA;
	// a sequence, or encapsulated pixel data: items to the delimiter
	v->end = -1;
	v->items = true;
	v->raw = !sq;
	return 0;
}

// The data set ended where an element's header was to be read at pos:
// false, with the reason. A deflated one's size is known only at its end,
// so a value that runs past it shows here.
static bool cut_short(walker &w, long long pos)
{
	if (w.inf && w.inf->bad)
		return refuse(w, pos, "deflate data that is broken or stops short");
	if (w.inf && w.inf->end && w.inf->at < pos && w.last_end == pos)
		return refuse(w, w.last_at, "element (%04X,%04X)'s length (%lld) runs past the end of the data set",
			      w.last_tag >> 16, w.last_tag & 0xFFFF, w.last_len);
	return refuse(w, pos, "the data set ends inside an element's header");
}

// Walks from pos to end (or, inside an undefined length, to its
// delimiter, after which pos is left). False when the bytes are not a
// data set of the walker's syntax. raw: the items hold bytes (the
// fragments of encapsulated pixel data), not data sets. *stop is set when
// the rest cannot be walked this way (a sequence encoded as UN, implicit
// inside): GDCM judges it.
static bool walk(walker &w, long long &pos, long long end, int depth, bool to_delimiter, bool raw, bool *stop)
{
	unsigned char h[12];

	if (depth > 16)
		return refuse(w, pos, "sequences nested deeper than 16");
	while (pos < end) {
		if (++w.elements > 10000000)
			return refuse(w, pos, "more than 10,000,000 elements");
		if (!get(w, pos, h, 8))
			return (depth == 0 && !to_delimiter && inflated_end(w, pos)) || cut_short(w, pos);
		uint16_t g = w16(w, h), e = w16(w, h + 2);
		long long at = pos;
		if (g == 0xFFFE) {
			uint32_t len = w32(w, h + 4);
			pos += 8;
			if (e == 0xE00D || e == 0xE0DD)
				return to_delimiter || refuse(w, at, "a delimiter (FFFE,%04X) that ends nothing", e);
			if (e != 0xE000)
				return refuse(w, at, "(FFFE,%04X) where an item or a delimiter belongs", e);
			if (len == 0xFFFFFFFFu) {
				if (raw)
					return refuse(w, at, "a fragment of the pixel data without a length");
				if (!walk(w, pos, end, depth + 1, true, false, stop))
					return false;
			} else {
				long long item_end = pos + (long long)len;
				if (item_end > end)
					return refuse(w, at, "an item's length (%u) runs past the end of %s", len,
						      depth ? "its sequence" : "the data set");
				if (!raw && !walk(w, pos, item_end, depth + 1, false, false, stop))
					return false;
				pos = item_end;
			}
			if (*stop)
				return true;
			continue;
		}
		if (raw)
			return refuse(w, at, "element (%04X,%04X) among the fragments of the pixel data", g, e);
		value v;
		int k = w.implicit ? implicit_element(h, pos, &v) : explicit_element(w, h, pos, &v);
		if (k == STOP) {
			*stop = true;
			return true;
		}
		if (k == NOT_DATA)
			return false;
		if (v.end > end)
			return refuse(w, at, "element (%04X,%04X)'s length (%lld) runs past the end of %s", g, e, v.end - pos,
				      depth ? "its item" : "the data set");
		w.last_at = at;
		w.last_tag = (uint32_t)g << 16 | e;
		w.last_end = v.end;
		w.last_len = v.end - pos;
		if (v.items && !walk(w, pos, v.end < 0 ? end : v.end, depth + 1, v.end < 0, v.raw, stop))
			return false;
		if (*stop)
			return true;
		if (v.end >= 0)
			pos = v.end;
	}
	if (to_delimiter)
		return refuse(w, pos, "a value of undefined length ends without its delimiter");
	return pos == end || refuse(w, pos, "an element's header runs past the end of its item");
}

enum { META_NONE = 0, META_READ = 1, META_LEFT = 2 };

// A file meta header whose first element has no VR, read as GDCM reads
// it, implicit VR (a tag, then a 4-byte length) from pos: META_LEFT (its
// data set left to GDCM), or -1 when an element's length runs past the
// end of the file.
static int implicit_meta(walker &w, long long pos)
{
	unsigned char h[8];
	while (get(w, pos, h, 8) && le16(h) == 0x0002) {
		uint32_t len = le32(h + 4);
		if (len == 0xFFFFFFFFu || pos + 8 + (long long)len > w.size)
			return refuse(w, pos, "file meta element (0002,%04X)'s length (%u) runs past the end of the file",
				      le16(h + 2), len),
			       -1;
		pos += 8 + (long long)len;
	}
	return META_LEFT;
}

// The file's data set syntax from its meta header, and where the data set
// starts: META_READ; META_NONE when there is no meta header ("DICM"
// missing), META_LEFT for one this walk does not read (an implicit VR
// one, its first VR unknown), whose data set is left to GDCM; -1 when an
// element of it runs past the end of the file (GDCM would allocate its
// length first: 4 GB for a length of 0xFFFFFF01; in an implicit VR
// header, where GDCM reads the first element's VR and length as one
// 4-byte length, 1.3 GB zeroed for a length of 0x50000000: 4 s for a 1 KB
// file), or when a later element has an unknown VR (GDCM then read the
// header again from elsewhere, took "DICM" for a length and zeroed 1.3 GB:
// seconds of CPU for a 1 KB file).
static int meta_syntax(walker &w, std::string &ts, long long &start)
{
	unsigned char h[12];
	if (!get(w, 128, h, 4) || memcmp(h, "DICM", 4))
		return META_NONE;
	long long pos = 132;
	if (get(w, pos, h, 8) && le16(h) == 0x0002 && !known_vr(h + 4))
		return implicit_meta(w, pos);
	while (get(w, pos, h, 8) && le16(h) == 0x0002) {
		uint16_t e = le16(h + 2);
		if (!known_vr(h + 4))
			return refuse(w, pos, "file meta element (0002,%04X) has no known VR (0x%02X%02X)", e, h[4], h[5]),
			       -1;
		uint32_t len = long_form(h + 4) ? (get(w, pos, h, 12) ? le32(h + 8) : 0xFFFFFFFFu) : le16(h + 6);
		long long hdr = long_form(h + 4) ? 12 : 8;
		if (len == 0xFFFFFFFFu || pos + hdr + (long long)len > w.size)
			return refuse(w, pos, "file meta element (0002,%04X)'s length runs past the end of the file", e), -1;
		if (e == 0x0010 && len < 128) {
			char v[128];
			if (!get(w, pos + hdr, (unsigned char *)v, len))
				return META_LEFT;
			ts.assign(v, len);
			while (!ts.empty() && (ts.back() == '\0' || ts.back() == ' '))
				ts.pop_back();
		}
		pos += hdr + (long long)len;
	}
	start = pos;
	return META_READ;
}

// Walks the deflated data set that starts at start (raw deflate, as PS3.5
// A.5 has it; a zlib or gzip wrapper is not deflate data) as it inflates.
static bool walk_inflated(walker &w, long long start)
{
	std::unique_ptr<inflated> f(new inflated());
	if (fseeko(w.fp, (off_t)start, SEEK_SET) || inflateInit2(&f->z, -MAX_WBITS) != Z_OK)
		return true; /* GDCM says why */
	f->last_at = -1;
	w.inf = f.get();
	w.size = LLONG_MAX;
	long long pos = 0;
	bool stop = false;
	bool ok = walk(w, pos, LLONG_MAX, 0, false, false, &stop);
	inflateEnd(&f->z);
	w.inf = nullptr;
	return ok;
}

// A data set with no file meta header, from the file's first byte, as
// GDCM reads one: in the syntax its first element's header suggests
// (explicit VR little endian when its VR is known, else implicit), or
// another. False, with the first syntax's reason, when it is none of
// explicit and implicit VR little endian and explicit VR big endian: GDCM
// would take bytes of the file for a length and zero that much (842 MB,
// 3 s of the child, for an 868-byte file fuzz_probe made).
static bool raw_sound(walker &w)
{
	unsigned char h[8];
	if (!get(w, 0, h, 8))
		return true; /* GDCM says why */
	bool expl = known_vr(h + 4);
	const bool implicit[] = { !expl, expl, false }, big[] = { false, false, true };
	std::string first;
	for (int i = 0; i < 3; i++) {
		w.implicit = implicit[i];
		w.big = big[i];
		w.elements = 0;
		w.why.clear();
		long long pos = 0;
		bool stop = false;
		if (walk(w, pos, w.size, 0, false, false, &stop))
			return true;
		if (i == 0)
			first = w.why;
	}
	w.why = first;
	return false;
}

bool bridge::looks_sound(FILE *fp, std::string &why)
{
	walker w = { fp, -1, 0, false, false, nullptr, -1, 0, -1, 0, std::string() };
	std::string ts;
	long long start = 0;
	bool ok = true;

	if (!w.fp)
		return true; /* GDCM says why */
	if (fseeko(w.fp, 0, SEEK_END) == 0)
		w.size = (long long)ftello(w.fp);
	int meta = w.size > 0 ? meta_syntax(w, ts, start) : META_LEFT;
	if (meta < 0)
		ok = false;
	else if (meta == META_NONE)
		ok = raw_sound(w);
	else if (meta == META_READ && ts == "1.2.840.10008.1.2.1.99")
		ok = walk_inflated(w, start);
	else if (meta == META_READ) {
		bool stop = false;
		w.implicit = ts == "1.2.840.10008.1.2";
		w.big = ts == "1.2.840.10008.1.2.2";
		ok = walk(w, start, w.size, 0, false, false, &stop);
	}
	fclose(w.fp);
	why = ok ? std::string() : w.why.empty() ? std::string("the data set cannot be read") : w.why;
	return ok;
}
