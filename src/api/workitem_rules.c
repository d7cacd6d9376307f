/* The service's dataset rules for UPS-RS workitems
 * (WorkitemDatasetValidatorExtension, PS3.4 Table CC.2.5-3): for create and
 * update, what must be there, with or without a value, what must be empty
 * and what may not be there; and the Procedure Step State transitions of
 * PS3.4 Table CC.1.1-2. The top-level attributes and the searchable keys of
 * ReferencedRequestSequence items are checked; deeper sequence items are
 * not. */
#include "api/workitem_rules.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

#define T(g, e) (((uint32_t)(0x##g) << 16) | (uint32_t)(0x##e))

/* The service's requirement codes that matter: present with a value (1),
 * present (2), optional but not empty (3: its ThreeN and OneC codes), must
 * be empty, not allowed. */
enum code { ANY = 0, ONE, TWO, OPT, EMPTY2, NOT_ALLOWED };

struct rule {
	uint32_t tag;
	enum code add, update;
};

static const struct rule rules[] = {
	{ T(0008, 1195), EMPTY2, ANY },           /* TransactionUID */
	{ T(0008, 0016), ONE, NOT_ALLOWED },      /* SOPClassUID */
	{ T(0008, 0018), ONE, NOT_ALLOWED },      /* SOPInstanceUID */
	{ T(0074, 1200), ONE, OPT },              /* ScheduledProcedureStepPriority */
	{ T(0040, 4010), ONE, ONE },              /* ScheduledProcedureStepModificationDateTime */
	{ T(0074, 1204), ONE, OPT },              /* ProcedureStepLabel */
	{ T(0074, 1202), TWO, OPT },              /* WorklistLabel */
	{ T(0074, 1210), TWO, OPT },              /* ScheduledProcessingParametersSequence */
	{ T(0040, 4025), TWO, OPT },              /* ScheduledStationNameCodeSequence */
	{ T(0040, 4026), TWO, OPT },              /* ScheduledStationClassCodeSequence */
	{ T(0040, 4027), TWO, OPT },              /* ScheduledStationGeographicLocationCodeSequence */
	{ T(0040, 4005), ONE, OPT },              /* ScheduledProcedureStepStartDateTime */
	{ T(0040, 4018), TWO, OPT },              /* ScheduledWorkitemCodeSequence */
	{ T(0040, 0400), TWO, OPT },              /* CommentsOnTheScheduledProcedureStep */
	{ T(0040, 4041), ONE, OPT },              /* InputReadinessState */
	{ T(0040, 4021), TWO, OPT },              /* InputInformationSequence */
	{ T(0020, 000D), OPT, OPT },              /* StudyInstanceUID */
	{ T(0010, 0010), TWO, NOT_ALLOWED },      /* PatientName */
	{ T(0010, 0020), OPT, NOT_ALLOWED },      /* PatientID */
	{ T(0010, 1002), TWO, OPT },              /* OtherPatientIDsSequence */
	{ T(0010, 0030), TWO, NOT_ALLOWED },      /* PatientBirthDate */
	{ T(0010, 0040), TWO, NOT_ALLOWED },      /* PatientSex */
	{ T(0038, 0010), TWO, NOT_ALLOWED },      /* AdmissionID */
	{ T(0038, 0014), TWO, NOT_ALLOWED },      /* IssuerOfAdmissionIDSequence */
	{ T(0008, 1080), TWO, NOT_ALLOWED },      /* AdmittingDiagnosesDescription */
	{ T(0008, 1084), TWO, NOT_ALLOWED },      /* AdmittingDiagnosesCodeSequence */
	{ T(0040, A370), TWO, NOT_ALLOWED },      /* ReferencedRequestSequence */
	{ T(0074, 1000), ONE, NOT_ALLOWED },      /* ProcedureStepState */
	{ T(0074, 1002), TWO, OPT },              /* ProcedureStepProgressInformationSequence */
	{ T(0074, 1216), TWO, OPT },              /* UnifiedProcedureStepPerformedProcedureSequence */
};

/* ReferencedRequestSequence items (create) */
static const struct rule request_rules[] = {
	{ T(0020, 000D), ONE, ONE }, /* StudyInstanceUID */
	{ T(0008, 0050), TWO, TWO }, /* AccessionNumber */
	{ T(0040, 1001), TWO, TWO }, /* RequestedProcedureID */
	{ T(0032, 1060), TWO, TWO }, /* RequestedProcedureDescription */
	{ T(0032, 1064), TWO, TWO }, /* RequestedProcedureCodeSequence */
};

static const cJSON *element(const cJSON *ds, uint32_t tag)
{
	char key[9];
	snprintf(key, sizeof(key), "%08X", tag);
	return cJSON_GetObjectItemCaseSensitive(ds, key);
}

bool workitem_has_value(const cJSON *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "Value");
	if (cJSON_GetArraySize(v) == 0)
		return false;
	const cJSON *first = cJSON_GetArrayItem(v, 0);
	return !(cJSON_IsString(first) && !*first->valuestring) && !cJSON_IsNull(first);
}

static const char *check(const struct rule *r, size_t n, const cJSON *ds, bool add, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		enum code c = add ? r[i].add : r[i].update;
		const cJSON *e = element(ds, r[i].tag);
		unsigned g = r[i].tag >> 16, el = r[i].tag & 0xffff;
		if (!e && (c == ONE || c == TWO || c == EMPTY2))
			return snprintf(why, whylen, "The required tag '(%04x,%04x)' is missing.", g, el), why;
		if (e && c == NOT_ALLOWED)
			return snprintf(why, whylen, "The attribute with tag '(%04x,%04x)' cannot be present.", g, el), why;
		if (e && c == EMPTY2 && workitem_has_value(e))
			return snprintf(why, whylen, "The attribute with tag '(%04x,%04x)' must be empty.", g, el), why;
		if (e && (c == ONE || c == OPT) && !workitem_has_value(e))
			return snprintf(why, whylen, "The value for tag '(%04x,%04x)' is missing.", g, el), why;
	}
	return NULL;
}

const char *workitem_check(const cJSON *ds, bool add, char *why, size_t whylen)
{
	const char *bad = check(rules, sizeof(rules) / sizeof(rules[0]), ds, add, why, whylen);
	if (bad || !add)
		return bad;
	const cJSON *item;
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(element(ds, T(0040, A370)), "Value"))
	{
		if ((bad = check(request_rules, sizeof(request_rules) / sizeof(request_rules[0]), item, true, why, whylen)))
			return bad;
	}
	return NULL;
}

/* What completing asks of the dataset (the performed procedure's times). */
const char *workitem_check_final(const cJSON *ds, const char *target, char *why, size_t whylen)
{
	if (strcmp(target, "COMPLETED"))
		return NULL;
	const cJSON *seq = element(ds, T(0074, 1216));
	const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(seq, "Value"), 0);
	static const uint32_t need[] = { T(0040, 4050), T(0040, 4051) };
	if (!item)
		return snprintf(why, whylen, "The required tag '(0074,1216)' is missing."), why;
	for (size_t i = 0; i < 2; i++)
		if (!workitem_has_value(element(item, need[i])))
			return snprintf(why, whylen, "The required tag '(%04x,%04x)' is missing.", need[i] >> 16,
					need[i] & 0xffff),
			       why;
	return NULL;
}

enum transition workitem_transition(const char *state, const char *target, bool txn_matches)
{
	bool scheduled = !strcmp(state, "SCHEDULED"), in_progress = !strcmp(state, "IN PROGRESS");
	bool done = !strcmp(state, "COMPLETED") || !strcmp(state, "CANCELED");
	if (!strcmp(target, "IN PROGRESS")) {
		if (scheduled)
			return TR_OK; /* the claim sets the transaction UID */
		if (!txn_matches)
			return TR_WRONG_TRANSACTION;
		return in_progress ? TR_ALREADY_IN_PROGRESS : TR_FINAL;
	}
	if (!strcmp(target, "COMPLETED") || !strcmp(target, "CANCELED")) {
		if (!txn_matches)
			return TR_WRONG_TRANSACTION;
		if (scheduled)
			return TR_NOT_CLAIMED;
		if (in_progress)
			return TR_OK;
		return !strcmp(state, target) ? TR_ALREADY : TR_FINAL;
	}
	(void)done;
	return TR_BAD_TARGET; /* SCHEDULED, or no state at all */
}
