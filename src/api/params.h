/* Query parameters with the service's model-binding errors (400). */
#ifndef ADE_API_PARAMS_H
#define ADE_API_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/qido_query.h"
#include "http/request.h"

/* name is matched case-insensitively; field is the service's property name
 * used in its messages ("Limit"). Each returns 0, or writes the 400 and
 * returns -1. */
int param_int(struct request *req, const char *name, const char *field, int64_t min, int64_t max, int64_t dflt,
	      int64_t *out);

/* An integer query value as ASP.NET binds it to an int (bits 32) or a
 * long (64) with [Range(min, max)]: NULL, or the model state's reason
 * ("The value '' is invalid.", "The value 'x' is not valid for Limit.",
 * "The field Limit must be between 1 and 200."), in the arena. */
const char *param_parse_int(struct arena *a, const char *v, const char *field, int64_t min, int64_t max, int bits,
			    int64_t *out);
int param_bool(struct request *req, const char *name, const char *field, bool dflt, bool *out);

/* A frames list from the path ("1,3,5"): each an Int32 as .NET parses
 * it with NumberStyles.Any ("1.0" is 1), each at least 1, at most max of
 * them. Returns 0, or writes the 400 and returns -1. */
int param_frames(struct request *req, const char *list, long *frames, size_t max, size_t *n);

/* Parses an ISO 8601 date-time that must carry a zone (Z or +hh:mm);
 * writes a form PostgreSQL reads into out and, when round_trip is not
 * NULL, .NET's round-trip ("O") form into it (40 bytes). Returns 0, -1 when
 * malformed, -2 when the zone is missing. */
int param_parse_time(const char *s, char *out, size_t outlen, char *round_trip);

/* Reads a JSON request body (Content-Type application/json) of at most max
 * bytes. Returns the parsed value (caller frees with cJSON_Delete), or NULL
 * with the service's 415, 413 or 400 written. */
struct cJSON *param_json_body(struct request *req, size_t max);
/* The same for another media type (application/dicom+json for workitems). */
struct cJSON *param_json_body_as(struct request *req, size_t max, const char *media);

/* The query's parameters (decoded) into out, in order: their count, or
 * -1 when there are more than max (the caller answers "Invalid query:
 * too many query parameters."). */
long param_query_list(struct request *req, struct qido_param *out, size_t max);

#endif
