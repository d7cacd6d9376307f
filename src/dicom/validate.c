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
	const char *keyword;
	int required; /* 1 = required with a value, 2 = PatientID (value required in v1 only) */
	int indexed;
} known[] = {
	{ DCM_TAG(0x0008, 0x0016), "SOPClassUID", 1, 0 },
	{ DCM_TAG(0x0008, 0x0018), "SOPInstanceUID", 1, 1 },
	{ DCM_TAG(0x0008, 0x0020), "StudyDate", 0, 1 },
	{ DCM_TAG(0x0008, 0x0050), "AccessionNumber", 0, 1 },
	{ DCM_TAG(0x0008, 0x0060), "Modality", 0, 1 },
	{ DCM_TAG(0x0008, 0x0090), "ReferringPhysicianName", 0, 1 },
	{ DCM_TAG(0x0008, 0x1030), "StudyDescription", 0, 1 },
	{ DCM_TAG(0x0008, 0x1090), "ManufacturerModelName", 0, 1 },
	{ DCM_TAG(0x0010, 0x0010), "PatientName", 0, 1 },
	{ DCM_TAG(0x0010, 0x0020), "PatientID", 2, 1 },
	{ DCM_TAG(0x0010, 0x0030), "PatientBirthDate", 0, 1 },
	{ DCM_TAG(0x0020, 0x000D), "StudyInstanceUID", 1, 1 },
	{ DCM_TAG(0x0020, 0x000E), "SeriesInstanceUID", 1, 1 },
	{ DCM_TAG(0x0040, 0x0244), "PerformedProcedureStepStartDate", 0, 1 },
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
	if (i < n && s[i] == '.') {
		size_t f = 0;
		for (i++; i < n && is_digit(s[i]); i++)
			f++;
		if (f < 1 || f > 6)
			return 0;
	}
	return i == n;
}

static int valid_dt(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_digit(s[i]))
		i++;
	if (i < 4 || i > 14 || i % 2)
		return 0;
	if (i < n && s[i] == '.') {
		size_t f = 0;
		for (i++; i < n && is_digit(s[i]); i++)
			f++;
		if (f < 1 || f > 6)
			return 0;
	}
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

/* One value (no backslash) */
const char *validate_value(const char *vr, const char *s, size_t n)
{
	if (!strcmp(vr, "DA"))
		return valid_da(s, n) ? NULL : "one of the date values does not match the pattern YYYYMMDD";
	if (!strcmp(vr, "TM"))
		return valid_tm(s, n) ? NULL : "value does not match pattern HH[MM[SS[.F{1-6}]]]";
	if (!strcmp(vr, "DT"))
		return valid_dt(s, n) ? NULL : "value does not mach pattern YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]]";
	if (!strcmp(vr, "UI"))
		return uid_is_valid(s, n) ? NULL : "DICOM Identifier is invalid";
	if (!strcmp(vr, "AE") || !strcmp(vr, "CS") || !strcmp(vr, "SH")) {
		if (n > 16)
			return "Value exceeds maximum length of 16 characters.";
		if (!strcmp(vr, "CS")) {
			for (size_t i = 0; i < n; i++)
				if (!((s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i]) || s[i] == ' ' || s[i] == '_'))
					return "Value contains invalid character.";
		}
		return has_control(s, n, 0) ? "Value contains invalid character." : NULL;
	}
	if (!strcmp(vr, "LO")) {
		if (n > 64)
			return "Value exceeds maximum length of 64 characters.";
		return has_control(s, n, 0) ? "Value contains invalid character." : NULL;
	}
	if (!strcmp(vr, "AS")) {
		if (n != 4 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !strchr("DWMY", s[3]))
			return "Value length should be 4 and match nnnD, nnnW, nnnM or nnnY.";
		return NULL;
	}
	if (!strcmp(vr, "IS")) {
		size_t i = 0;
		if (n > 12)
			return "Value exceeds maximum length of 12 characters.";
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == n)
			return "Value is not a valid integer string.";
		for (; i < n; i++)
			if (!is_digit(s[i]))
				return "Value is not a valid integer string.";
		return NULL;
	}
	if (!strcmp(vr, "DS")) {
		if (n > 16)
			return "Value exceeds maximum length of 16 characters.";
		for (size_t i = 0; i < n; i++)
			if (!(is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
				return "Value is not a valid decimal string.";
		return NULL;
	}
	if (!strcmp(vr, "PN")) {
		int groups = 1, comps = 1;
		size_t glen = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '=') {
				if (++groups > 3)
					return "Value contains more than 3 component groups.";
				comps = 1;
				glen = 0;
				continue;
			}
			if (s[i] == '^' && ++comps > 5)
				return "Value contains more than 5 components.";
			if (++glen > 64)
				return "Value exceeds maximum length of 64 characters.";
		}
		return has_control(s, n, 0) ? "Value contains invalid character." : NULL;
	}
	return NULL;
}

static void trim(const char **s, size_t *n, int nul_too)
{
	while (*n && ((*s)[*n - 1] == ' ' || (nul_too && (*s)[*n - 1] == '\0')))
		(*n)--;
	while (*n && **s == ' ')
		(*s)++, (*n)--;
}

/* Checks every value of an element; NULL or the first reason. */
static const char *check_element(const struct dcm_element *e)
{
	const char *s = e->value;
	size_t n = e->len;

	if (!s || !n)
		return NULL;
	if (!strcmp(e->vr, "US") || !strcmp(e->vr, "SS"))
		return n % 2 ? "Value length is not expected." : NULL;
	if (!strcmp(e->vr, "UL") || !strcmp(e->vr, "SL") || !strcmp(e->vr, "FL"))
		return n % 4 ? "Value length is not expected." : NULL;
	if (!strcmp(e->vr, "FD"))
		return n % 8 ? "Value length is not expected." : NULL;
	static const char *const strvr[] = { "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI" };
	int is_str = 0;
	for (size_t i = 0; i < sizeof(strvr) / sizeof(strvr[0]); i++)
		is_str |= !strcmp(e->vr, strvr[i]);
	if (!is_str)
		return NULL;
	/* strings ending in NULs are judged without them (the service's leniency) */
	while (n && s[n - 1] == '\0')
		n--;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '\\')
			continue;
		const char *v = s + start;
		size_t vn = i - start;
		trim(&v, &vn, 1);
		if (vn) {
			const char *why = validate_value(e->vr, v, vn);
			if (why)
				return why;
		}
		start = i + 1;
	}
	return NULL;
}

static const char *keyword_of(uint32_t tag)
{
	for (size_t i = 0; i < NKNOWN; i++)
		if (known[i].tag == tag)
			return known[i].keyword;
	return NULL;
}

static void add_comment(struct buf *b, uint32_t tag, const char *msg)
{
	buf_addf(b, "DICOM100: (%04x,%04x) - %s", tag >> 16, tag & 0xffff, msg);
	buf_addch(b, '\0');
}

static void add_failed_value(struct buf *b, const struct dcm_element *e, const char *why)
{
	char msg[512];
	const char *kw = keyword_of(e->tag);
	char tagname[16];

	if (!kw) {
		snprintf(tagname, sizeof(tagname), "(%04x,%04x)", e->tag >> 16, e->tag & 0xffff);
		kw = tagname;
	}
	if (!strcmp(e->vr, "UI") && !strcmp(why, "DICOM Identifier is invalid"))
		snprintf(msg, sizeof(msg),
			 "Dicom element '%s' failed validation for VR 'UI': DICOM Identifier is invalid. Value length should "
			 "not exceed the maximum length of 64 characters. Value should contain characters in '0'-'9' and "
			 "'.'. Each component must start with non-zero number.",
			 kw);
	else if (!strcmp(e->vr, "DA") || !strcmp(e->vr, "DT") || !strcmp(e->vr, "TM")) {
		const char *v = e->value;
		size_t n = e->len;
		trim(&v, &n, 1);
		snprintf(msg, sizeof(msg), "Content \"%.*s\" does not validate VR %s: %s", (int)(n > 64 ? 64 : n), v, e->vr,
			 why);
	}
	else
		snprintf(msg, sizeof(msg), "Dicom element '%s' failed validation for VR '%s': %s", kw, e->vr, why);
	add_comment(b, e->tag, msg);
}

struct walk {
	int api;
	struct validation *v;
	unsigned seen_required; /* bit per known[] index */
	const uint32_t *extra;  /* extended query tags: indexed too */
	size_t nextra;
};

static int on_element(void *ctx, const struct dcm_element *e)
{
	struct walk *w = ctx;
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
	int indexed = idx >= 0 && known[idx].indexed;
	for (size_t i = 0; i < w->nextra && !indexed; i++)
		indexed = w->extra[i] == e->tag;
	if (indexed && e->value && memchr(e->value, '\\', e->len))
		w->v->multi_valued_index = true;
	if (idx >= 0)
		w->seen_required |= 1u << idx;

	const char *why = check_element(e);
	if (required) {
		/* required with a value (PatientID: v2 accepts an empty one, with a warning) */
		const char *s = e->value;
		size_t n = e->len;
		if (s)
			trim(&s, &n, 1);
		if (!s || !n) {
			char msg[128];
			snprintf(msg, sizeof(msg), "The required tag '(%04x,%04x)' is missing.", e->tag >> 16, e->tag & 0xffff);
			if (known[idx].required == 2 && w->api >= 2) {
				add_comment(&w->v->warnings, e->tag, msg);
				w->v->nwarnings++;
			} else {
				add_comment(&w->v->errors, e->tag, msg);
				w->v->nerrors++;
			}
			return 0;
		}
		if (why) {
			add_failed_value(&w->v->errors, e, why);
			w->v->nerrors++;
		}
		return 0;
	}
	if (!why)
		return 0;
	if (w->api < 2) {
		if (indexed) {
			add_failed_value(&w->v->errors, e, why);
			w->v->nerrors++;
		}
		return 0;
	}
	add_failed_value(&w->v->warnings, e, why);
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
