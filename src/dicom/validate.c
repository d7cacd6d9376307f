#include "dicom/validate.h"
#include "dicom/uid.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

#define T_SOP_CLASS DCM_TAG(0x0008, 0x0016)
#define T_SOP_INSTANCE DCM_TAG(0x0008, 0x0018)
#define T_STUDY DCM_TAG(0x0020, 0x000D)
#define T_SERIES DCM_TAG(0x0020, 0x000E)
#define T_PATIENT_ID DCM_TAG(0x0010, 0x0020)

static const struct {
	uint32_t tag;
	int required; /* 1 = required with a value, 2 = PatientID (value required in v1 only) */
	int indexed;
} known[] = {
	{ DCM_TAG(0x0008, 0x0016), 1, 0 }, /* SOPClassUID */
	{ DCM_TAG(0x0008, 0x0018), 1, 1 }, /* SOPInstanceUID */
	{ DCM_TAG(0x0008, 0x0020), 0, 1 }, /* StudyDate */
	{ DCM_TAG(0x0008, 0x0050), 0, 1 }, /* AccessionNumber */
	{ DCM_TAG(0x0008, 0x0060), 0, 1 }, /* Modality */
	{ DCM_TAG(0x0008, 0x0090), 0, 1 }, /* ReferringPhysicianName */
	{ DCM_TAG(0x0008, 0x1030), 0, 1 }, /* StudyDescription */
	{ DCM_TAG(0x0008, 0x1090), 0, 1 }, /* ManufacturerModelName */
	{ DCM_TAG(0x0010, 0x0010), 0, 1 }, /* PatientName */
	{ DCM_TAG(0x0010, 0x0020), 2, 1 }, /* PatientID */
	{ DCM_TAG(0x0010, 0x0030), 0, 1 }, /* PatientBirthDate */
	{ DCM_TAG(0x0020, 0x000D), 1, 1 }, /* StudyInstanceUID */
	{ DCM_TAG(0x0020, 0x000E), 1, 1 }, /* SeriesInstanceUID */
	{ DCM_TAG(0x0040, 0x0244), 0, 1 }, /* PerformedProcedureStepStartDate */
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

void validation_init(struct validation *v)
{
	memset(v, 0, sizeof(*v));
	buf_init(&v->errors, 0);
	buf_init(&v->warnings, 0);
}

void validation_release(struct validation *v)
{
	buf_release(&v->errors);
	buf_release(&v->warnings);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int valid_da(const char *s, size_t n)
{
	if (n != 8)
		return 0;
	for (size_t i = 0; i < 8; i++)
		if (!is_digit(s[i]))
			return 0;
	int m = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Past a fraction of a second at i ('.' and 1 to 6 digits), if there is
 * one: the index after it, i when there is none, 0 when it is wrong (i is
 * past the digits before it, never 0). */
static size_t after_fraction(const char *s, size_t n, size_t i)
{
	if (i >= n || s[i] != '.')
		return i;
	size_t f = 0;
	for (i++; i < n && is_digit(s[i]); i++)
		f++;
	return f >= 1 && f <= 6 ? i : 0;
}

static int valid_tm(const char *s, size_t n)
{
	/* HH[MM[SS[.F{1-6}]]], the colon form of old files tolerated */
	size_t i = 0, digits = 0;
	while (i < n && (is_digit(s[i]) || s[i] == ':')) {
		if (is_digit(s[i]))
			digits++;
		i++;
	}
	if (digits < 2 || digits > 6 || digits % 2)
		return 0;
	i = after_fraction(s, n, i);
	return i && i == n;
}

static int valid_dt(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_digit(s[i]))
		i++;
	if (i < 4 || i > 14 || i % 2)
		return 0;
	if (!(i = after_fraction(s, n, i)))
		return 0;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		size_t z = 0;
		for (i++; i < n && is_digit(s[i]); i++)
			z++;
		if (z != 4)
			return 0;
	}
	return i == n;
}

static int has_control(const char *s, size_t n, int allow_layout)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b)
			continue; /* escape sequences of ISO 2022 */
		if (allow_layout && (c == '\r' || c == '\n' || c == '\f' || c == '\t'))
			continue;
		if (c < 0x20 || c == 0x7f)
			return 1;
	}
	return 0;
}

static int only_spaces(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ')
			return 0;
	return 1;
}

/* DA as fo-dicom reads it: one date or a range of two, each YYYYMMDD. */
static const char *fo_date(const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	if (dash && memchr(dash + 1, '-', n - (size_t)(dash + 1 - s)))
		return "value contains too many range separators '-'";
	for (int part = 0; part < (dash ? 2 : 1); part++) {
		const char *p = part ? dash + 1 : s;
		size_t len = part ? n - (size_t)(dash + 1 - s) : dash ? (size_t)(dash - s) : n;
		while (len && p[len - 1] == ' ')
			len--;
		if (!len)
			continue;
		for (size_t i = 0; i < len; i++)
			if (len != 8 || !is_digit(p[i]))
				return "one of the date values does not match the pattern YYYYMMDD";
		if ((p[4] - '0') * 10 + (p[5] - '0') > 12)
			return "month component exceeds the value 12";
		if ((p[6] - '0') * 10 + (p[7] - '0') > 31)
			return "day component exceeds the value 31";
	}
	return NULL;
}

static int valid_ds(const char *s, size_t n)
{
	/* ^[+-]?((0|[1-9][0-9]*)([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$ */
	size_t i = 0, d = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		for (i++; i < n && is_digit(s[i]); i++)
			d++;
		if (!d)
			return 0;
	} else {
		size_t start = i;
		for (; i < n && is_digit(s[i]); i++)
			d++;
		if (!d || (d > 1 && s[start] == '0'))
			return 0;
		if (i < n && s[i] == '.')
			for (i++; i < n && is_digit(s[i]); i++)
				;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < n && is_digit(s[i]); i++)
			e++;
		if (!e)
			return 0;
	}
	return i == n;
}

/* PN: up to 3 groups of up to 64 characters and 5 components. */
static const char *fo_person_name(const char *s, size_t n)
{
	int groups = 1, comps = 1;
	size_t glen = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '=') {
			if (glen > 64)
				return "value exceeds maximum length of 64 characters";
			if (i < n && ++groups > 3)
				return "value contains too many groups";
			glen = 0;
			continue;
		}
		glen++;
	}
	if (has_control(s, n, 0))
		return "value contains invalid control character";
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			comps = 1;
		else if (s[i] == '^' && ++comps > 5)
			return "value contains too many components";
	}
	return NULL;
}

/* One value (no backslash), as fo-dicom's DicomValidation judges it (the
 * texts of its DicomValidationException): what the service's v2 reports
 * as a warning. NULL when valid. */
const char *validate_value(const char *vr, const char *s, size_t n)
{
	if (!strcmp(vr, "DA"))
		return fo_date(s, n);
	if (!strcmp(vr, "TM"))
		return valid_tm(s, n) ? NULL : "value does not mach pattern HH or HHMM or HHMMSS or HHMMSS.F{1-6}";
	if (!strcmp(vr, "DT"))
		return valid_dt(s, n) ? NULL : "value does not mach pattern YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]]";
	if (!strcmp(vr, "UI")) {
		if (n > 64)
			return "value exceeds maximum length of 64 characters";
		for (size_t i = 0; i < n; i++)
			if (!is_digit(s[i]) && s[i] != '.')
				return "value contains invalid characters other than '0'-'9' and '.'";
		return uid_is_valid(s, n) ? NULL : "components must not have leading zeros";
	}
	if (!strcmp(vr, "AE")) {
		if (n > 16)
			return "value exceeds maximum length of 16 characters";
		if (only_spaces(s, n))
			return "value may not consist only of spaces";
		return has_control(s, n, 0) ? "value contains invalid control character" : NULL;
	}
	if (!strcmp(vr, "CS")) {
		if (n > 16)
			return "value exceeds maximum length of 16 characters";
		for (size_t i = 0; i < n; i++)
			if (!((s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i]) || s[i] == ' ' || s[i] == '_'))
				return "value contains invalid character. Only uppercase character, digits, space and underscore "
				       "alre allowed";
		return NULL;
	}
	if (!strcmp(vr, "SH")) {
		if (has_control(s, n, 0))
			return "value contains invalid character";
		return n > 16 ? "value exceeds maximum length of 16 characters" : NULL;
	}
	if (!strcmp(vr, "LO")) {
		if (n > 64)
			return "value exceeds maximum length of 64 characters";
		return has_control(s, n, 0) ? "value contains invalid character" : NULL;
	}
	if (!strcmp(vr, "AS"))
		return n == 4 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && strchr("DWMY", s[3]) && s[3]
			       ? NULL
			       : "value does not have pattern 000[DWMY]";
	if (!strcmp(vr, "IS")) {
		size_t i = 0;
		long long v = 0;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == n)
			return "value is not an integer string";
		for (; i < n; i++) {
			if (!is_digit(s[i]))
				return "value is not an integer string";
			if (v < 10000000000LL)
				v = v * 10 + (s[i] - '0');
		}
		return v > (s[0] == '-' ? 2147483648LL : 2147483647LL) ? "value too large to fit 32 bit integer" : NULL;
	}
	if (!strcmp(vr, "DS")) {
		if (n > 16)
			return "value exceeds maximum length of 16 characters";
		return valid_ds(s, n) ? NULL : "value is no decimal string";
	}
	if (!strcmp(vr, "PN"))
		return fo_person_name(s, n);
	return NULL;
}

/* The first value of an element as the minimum validator
 * (ElementMinimumValidator) judges it, with its texts: what the service
 * refuses for indexed attributes in v1 and the required ones in v2. NULL
 * when valid. */
static const char *validate_minimum(const char *vr, const char *s, size_t n, size_t raw_len, char *buf, size_t buflen)
{
	static const struct {
		const char *vr;
		size_t len;
	} fixed[] = { { "FD", 8 }, { "FL", 4 }, { "SL", 4 }, { "SS", 2 }, { "UL", 4 }, { "US", 2 } };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(vr, fixed[i].vr))
			continue;
		if (raw_len && raw_len >= fixed[i].len)
			return NULL;
		snprintf(buf, buflen, "Value length is not %zu.", fixed[i].len);
		return raw_len ? buf : NULL;
	}
	if (!n)
		return NULL; /* empty values pass */
	if (!strcmp(vr, "AE") || !strcmp(vr, "CS") || !strcmp(vr, "SH"))
		return n > 16 ? "Value length exceeds maximum length of 16." : NULL;
	if (!strcmp(vr, "AS"))
		return n != 4 ? "Value length is not 4." : NULL;
	if (!strcmp(vr, "DA"))
		return valid_da(s, n) ? NULL : "Value cannot be parsed as a valid date.";
	if (!strcmp(vr, "DT"))
		return valid_dt(s, n) ? NULL : "Value cannot be parsed as a valid DateTime.";
	if (!strcmp(vr, "TM"))
		return valid_tm(s, n) ? NULL : "Value cannot be parsed as a valid Time.";
	if (!strcmp(vr, "IS"))
		return validate_value("IS", s, n) ? "Value cannot be parsed as a valid integer string." : NULL;
	if (!strcmp(vr, "LO")) {
		if (n > 64)
			return "Value length exceeds maximum length of 64.";
		return has_control(s, n, 0) ? "Value contains invalid character." : NULL;
	}
	if (!strcmp(vr, "PN")) {
		const char *why = fo_person_name(s, n);
		if (!why)
			return NULL;
		if (strstr(why, "groups"))
			return "Value contains more than 3 groups.";
		if (strstr(why, "maximum length"))
			return "One or more group of person name exceeds maxium length of 64.";
		if (strstr(why, "components"))
			return "Value contains more than 5 components.";
		return "Value contains invalid character.";
	}
	if (!strcmp(vr, "UI"))
		return uid_is_valid(s, n) ? NULL
					  : "DICOM Identifier is invalid. Value length should not exceed the maximum length of 64 "
					    "characters. Value should contain characters in '0'-'9' and '.'. Each component must start "
					    "with non-zero number.";
	return NULL;
}

static void trim(const char **s, size_t *n, int nul_too)
{
	while (*n && ((*s)[*n - 1] == ' ' || (nul_too && (*s)[*n - 1] == '\0')))
		(*n)--;
	while (*n && **s == ' ')
		(*s)++, (*n)--;
}

static bool is_string_vr(const char *vr)
{
	static const char *const strvr[] = { "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI" };
	for (size_t i = 0; i < sizeof(strvr) / sizeof(strvr[0]); i++)
		if (!strcmp(vr, strvr[i]))
			return true;
	return false;
}

/* The width of a binary number VR's values; 0 for the others. */
static size_t binary_width(const char *vr)
{
	if (!strcmp(vr, "US") || !strcmp(vr, "SS"))
		return 2;
	if (!strcmp(vr, "UL") || !strcmp(vr, "SL") || !strcmp(vr, "FL") || !strcmp(vr, "AT"))
		return 4;
	if (!strcmp(vr, "FD") || !strcmp(vr, "UV") || !strcmp(vr, "SV"))
		return 8;
	return 0;
}

/* The first value of a string element, trimmed. */
static void first_value(const struct dcm_element *e, const char **v, size_t *vn)
{
	size_t n = e->len;
	while (n && e->value[n - 1] == '\0')
		n--;
	const char *bs = memchr(e->value, '\\', n);
	*v = e->value;
	*vn = bs ? (size_t)(bs - e->value) : n;
	trim(v, vn, 1);
}

/* The number of values (fo-dicom's Count): 0 when empty. */
static long value_count(const struct dcm_element *e)
{
	size_t w = binary_width(e->vr);
	if (!e->value || !e->len)
		return 0;
	if (w)
		return (long)(e->len / w);
	if (!is_string_vr(e->vr))
		return -1; /* not counted: LT, ST, UT, OB, ... */
	long c = 1;
	for (size_t i = 0; i < e->len; i++)
		c += e->value[i] == '\\';
	return c;
}

/* fo-dicom's DicomElement.Validate: each value, then the multiplicity.
 * Writes the message ("Content \"...\" does not validate VR ..: ...") into
 * msg and returns 1 when the element does not validate. */
static int check_fodicom(const struct dcm_element *e, char *msg, size_t msglen)
{
	const char *s = e->value;
	size_t n = e->len;

	if (!s || !n)
		return 0;
	if (is_string_vr(e->vr)) {
		/* strings ending in NULs are judged without them (the service's leniency) */
		while (n && s[n - 1] == '\0')
			n--;
		for (size_t start = 0, i = 0; i <= n; i++) {
			if (i < n && s[i] != '\\')
				continue;
			const char *v = s + start;
			size_t vn = i - start;
			trim(&v, &vn, 1);
			const char *why = vn ? validate_value(e->vr, v, vn) : NULL;
			if (why) {
				snprintf(msg, msglen, "Content \"%.*s\" does not validate VR %s: %s", (int)(vn > 200 ? 200 : vn), v,
					 e->vr, why);
				return 1;
			}
			start = i + 1;
		}
	}
	/* the multiplicity of public tags (not for the Other VRs and UC; PN
	 * only PatientName, at most 3) */
	char name[128], vm[16];
	int min, max;
	long count = value_count(e);
	if (count <= 0 || (e->tag >> 16) % 2 || dcm_tag_vm(e->tag, name, sizeof(name), vm, sizeof(vm), &min, &max))
		return 0;
	if (!strcmp(e->vr, "PN")) {
		if (e->tag != DCM_TAG(0x0010, 0x0010) || count <= 3)
			return 0;
		snprintf(vm, sizeof(vm), "1-3");
	} else if (count >= min && count <= max) {
		return 0;
	}
	snprintf(msg, msglen, "Content \"(%04x,%04x) %s %s\" does not validate VR %s: Number of items %ld does not match "
			      "ValueMultiplicity %s",
		 e->tag >> 16, e->tag & 0xffff, e->vr, name, e->vr, count, vm);
	return 1;
}

/* The minimum validator's judgement of an element (its first value),
 * with the service's words ("Dicom element 'StudyDate' failed validation
 * for VR 'DA': ..."); 1 with msg written when it fails. */
static int check_minimum(const struct dcm_element *e, char *msg, size_t msglen)
{
	char buf[64], kw[64], vr[3];
	const char *v = "";
	size_t vn = 0;

	if (!e->value || !e->len)
		return 0;
	/* the tag's keyword (GetFriendlyName); a private tag's path */
	dcm_tag_info(e->tag, kw, sizeof(kw), vr);
	if ((e->tag >> 16) % 2 || !*kw)
		snprintf(kw, sizeof(kw), "%08X", e->tag);
	/* judged by the VR the standard gives it, not one the file claims (a
	 * UID declared LO would pass the rules for LO): ErrorMessageUnexpectedVR */
	if (e->from_file_vr && *kw && strcmp(vr, "UN") && strcmp(vr, e->vr) && !((e->tag >> 16) % 2)) {
		snprintf(msg, msglen,
			 "Dicom element '%s' failed validation for VR '%s': The extended query tag '%s' is expected to have VR "
			 "'%s' but has '%s' in file.",
			 kw, e->vr, kw, vr, e->vr);
		return 1;
	}
	if (is_string_vr(e->vr))
		first_value(e, &v, &vn);
	const char *why = validate_minimum(e->vr, v, vn, e->len, buf, sizeof(buf));
	if (!why)
		return 0;
	snprintf(msg, msglen, "Dicom element '%s' failed validation for VR '%s': %s", kw, e->vr, why);
	return 1;
}

static void add_comment(struct buf *b, uint32_t tag, const char *msg)
{
	buf_addf(b, "DICOM100: (%04x,%04x) - %s", tag >> 16, tag & 0xffff, msg);
	buf_addch(b, '\0');
}

struct walk {
	int api;
	struct validation *v;
	unsigned seen_required; /* bit per known[] index */
	const uint32_t *extra;  /* extended query tags: indexed too */
	size_t nextra;
};

static void add_error(struct walk *w, uint32_t tag, const char *msg)
{
	add_comment(&w->v->errors, tag, msg);
	w->v->nerrors++;
}

/* A required attribute (RequiredCoreTags): present with a value (v2 lets
 * PatientID be empty, with a warning), and valid for the minimum
 * validator. */
static void check_required(struct walk *w, const struct dcm_element *e, int idx)
{
	const char *s = e->value;
	size_t n = e->len;
	char msg[512];

	if (s)
		trim(&s, &n, 1);
	if (!s || !n) {
		snprintf(msg, sizeof(msg), "The required tag '(%04x,%04x)' is missing.", e->tag >> 16, e->tag & 0xffff);
		if (known[idx].required == 2 && w->api >= 2) {
			add_comment(&w->v->warnings, e->tag, msg);
			w->v->nwarnings++;
		} else {
			add_error(w, e->tag, msg);
		}
		return;
	}
	if (check_minimum(e, msg, sizeof(msg)))
		add_error(w, e->tag, msg);
}

/* Text with bytes its declared SpecificCharacterSet does not have: the
 * message, in v1's words (the minimum validator's invalid character) or
 * v2's. 1 when it is so. */
static int charset_message(const struct dcm_element *e, char *msg, size_t msglen, bool v1)
{
	char keyword[64], vr[3];
	if (!e->text_invalid)
		return 0;
	dcm_tag_info(e->tag, keyword, sizeof(keyword), vr);
	if (v1)
		snprintf(msg, msglen, "Dicom element '%s' failed validation for VR '%s': Value contains invalid character.",
			 *keyword ? keyword : "Unknown", e->vr);
	else
		snprintf(msg, msglen, "Value contains bytes that are not valid in the declared SpecificCharacterSet");
	return 1;
}

static int on_element(void *ctx, const struct dcm_element *e)
{
	struct walk *w = ctx;
	char msg[512];
	int idx = -1;

	for (size_t i = 0; i < NKNOWN; i++)
		if (known[i].tag == e->tag)
			idx = (int)i;
	bool extra = false;
	for (size_t i = 0; i < w->nextra && !extra; i++)
		extra = w->extra[i] == e->tag;
	if (e->tag >> 16 == 0x0002 || ((e->tag >> 16) % 2 && !extra))
		return 0; /* meta header and private tags are not validated, unless indexed */
	int required = idx >= 0 && known[idx].required;
	int indexed = (idx >= 0 && known[idx].indexed) || extra;
	if (idx >= 0)
		w->seen_required |= 1u << idx;
	/* several values where the first is indexed: the Warning header (v2:
	 * only the required attributes are indexed that way) */
	if ((w->api < 2 ? indexed : required) && value_count(e) > 1)
		w->v->multi_valued_index = true;
	if (required) {
		/* judged by the minimum validator only: never dropped */
		check_required(w, e, idx);
		return 0;
	}
	if (w->api < 2) {
		/* v1: the indexed attributes, by the minimum validator; text its
		 * declared character set does not have is an invalid character */
		if (indexed && (check_minimum(e, msg, sizeof(msg)) || charset_message(e, msg, sizeof(msg), true)))
			add_error(w, e->tag, msg);
		return 0;
	}
	/* v2: every other attribute, by fo-dicom's validation (and the
	 * declared character set): a warning, and the attribute dropped from
	 * what is kept */
	if (!check_fodicom(e, msg, sizeof(msg)) && !charset_message(e, msg, sizeof(msg), false))
		return 0;
	add_comment(&w->v->warnings, e->tag, msg);
	w->v->nwarnings++;
	if (w->v->ndropped < sizeof(w->v->dropped) / sizeof(w->v->dropped[0]))
		w->v->dropped[w->v->ndropped++] = e->tag;
	return 0;
}

int validate_instance(const struct dcm_file *f, int api_major, const uint32_t *extra, size_t nextra,
		      struct validation *v)
{
	struct walk w = { api_major, v, 0, extra, nextra };

	if (dcm_foreach(f, on_element, &w) < 0) {
		add_comment(&v->errors, 0, "The DICOM instance is invalid.");
		v->nerrors++;
		return -1;
	}
	for (size_t i = 0; i < NKNOWN; i++) {
		if (!known[i].required || (w.seen_required & (1u << i)))
			continue;
		char msg[128];
		snprintf(msg, sizeof(msg), "The required tag '(%04x,%04x)' is missing.", known[i].tag >> 16,
			 known[i].tag & 0xffff);
		add_comment(&v->errors, known[i].tag, msg);
		v->nerrors++;
	}
	return v->nerrors ? -1 : 0;
}
