/* UPS-RS workitem rules (api/workitem_rules.c): dataset requirements and
 * Procedure Step State transitions. */
#ifndef ADE_API_WORKITEM_RULES_H
#define ADE_API_WORKITEM_RULES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether a DICOM JSON element has a (non-empty) first value. */
bool workitem_has_value(const cJSON *e);

/* The requirements of create (add) or update; NULL when ds meets them,
 * else the service's message in why. */
const char *workitem_check(const cJSON *ds, bool add, char *why, size_t whylen);

/* What the dataset must hold to reach target (COMPLETED: the performed
 * procedure's start and end times); NULL, or why not. */
const char *workitem_check_final(const cJSON *ds, const char *target, char *why, size_t whylen);

enum transition {
	TR_OK,
	TR_WRONG_TRANSACTION,   /* C301: missing or not the claiming one */
	TR_ALREADY_IN_PROGRESS, /* C302 */
	TR_FINAL,               /* C300: COMPLETED or CANCELED already */
	TR_ALREADY,             /* B304/B306: already in the state asked for */
	TR_NOT_CLAIMED,         /* C310: SCHEDULED, never claimed */
	TR_BAD_TARGET,          /* C303/C307: not a state one may ask for */
};
/* PS3.4 Table CC.1.1-2 for a change of state to target. */
enum transition workitem_transition(const char *state, const char *target, bool txn_matches);

#endif
