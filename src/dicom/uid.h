/* DICOM UID checks, as the service applies them to path parameters. */
#ifndef ADE_DICOM_UID_H
#define ADE_DICOM_UID_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"

/* Trailing spaces ignored; at most 64 characters of digits and dots,
 * ending in a digit (the service's UidValidation). */
bool uid_is_valid(const char *s, size_t len);
/* Stricter PS3.5 grammar: no empty component, no leading zero. Used where a
 * UID becomes part of anything on disk. */
bool uid_is_strict(const char *s, size_t len);
/* The service's message for an invalid UID named name (arena-owned). */
const char *uid_error_message(struct arena *a, const char *name);

#endif
