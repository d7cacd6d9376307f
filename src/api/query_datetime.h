/* DICOM DT and TM values in a search, as the service reads them
 * (BaseQueryParser: ParseDateOrTimeTagValue, ParseDateTime,
 * ParseTimeTagValue, ParseTime). Pure C. */
#ifndef ADE_API_QUERY_DATETIME_H
#define ADE_API_QUERY_DATETIME_H

#include "common/arena.h"

/* DicomCoreResource InvalidRangeValues, line breaks included: a range
 * ("-") whose two ends are both empty. */
extern const char query_range_empty[];

/* A date-time (yyyy to yyyyMMddHHmmss.FFFFFF, a real one, no UTC offset)
 * or a range of them ("a-b", either end open) of the attribute keyword.
 * Sets *lo and *hi to its bounds written as yyyyMMddHHmmss.ffffff (as
 * sql/functions/dicom_dt_norm writes stored values; NULL for an open end,
 * both the same for one date-time) and returns 0, or returns -1 with the
 * service's 400 message in *err (arena-owned). */
int query_datetime(struct arena *a, const char *keyword, const char *value, const char **lo, const char **hi,
		   const char **err);

/* The same for a time (fo-dicom's DicomTime formats: HHmmss.FFFFFF and
 * others, HH mandatory), its bounds written as HHmmss.ffffff (as
 * sql/functions/dicom_tm_norm writes stored values). */
int query_time(struct arena *a, const char *keyword, const char *value, const char **lo, const char **hi,
	       const char **err);

#endif
