/* The service's store validation (§3.2): what fails an instance and what
 * only warns, by API version. Pure C over the bridge's element walk. */
#ifndef ADE_DICOM_VALIDATE_H
#define ADE_DICOM_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "dicom/dcm.h"

struct validation {
	/* ErrorComment texts, "DICOM100: (gggg,eeee) - message", each NUL-terminated */
	struct buf errors;       /* failures: the instance is not stored */
	size_t nerrors;
	struct buf warnings;     /* v2: stored, attribute dropped from metadata and index */
	size_t nwarnings;
	uint32_t dropped[256];   /* top-level tags dropped (v2) */
	size_t ndropped;
	bool multi_valued_index; /* an indexed attribute has several values: only the first is indexed */
};

void validation_init(struct validation *v);
void validation_release(struct validation *v);
/* Validates f for API major version (1 or 2); extra lists more indexed
 * attributes (the extended query tags). Returns 0 when it may be stored. */
int validate_instance(const struct dcm_file *f, int api_major, const uint32_t *extra, size_t nextra,
		      struct validation *v);

/* Checks one value of VR vr with the service's minimum rules; returns NULL
 * when valid, else the reason (static). */
const char *validate_value(const char *vr, const char *value, size_t len);

#endif
