/* A request's DICOM JSON dataset (bulk update's changeDataset, a
 * workitem's) read as the service reads it: with fo-dicom 5.1.2's
 * DicomJsonConverter, whose quirks decide what the service stores and
 * which bodies it refuses before any validation of its own. */
#ifndef ADE_API_JSON_READ_H
#define ADE_API_JSON_READ_H

struct cJSON;

enum json_read {
	JSON_READ_OK = 0,
	/* an LT, UT, UR or UC of more than one value: fo-dicom takes one
	 * (Enumerable.Single), and the service answers the exception with a
	 * plain-text 400, JSON_READ_MANY_TEXT_MESSAGE */
	JSON_READ_MANY_TEXT,
	/* a value of a number VR that is not one (a string that does not parse
	 * as one, a number out of the VR's range): fo-dicom's JsonException,
	 * the service's "The syntax of the request body is invalid."; and a
	 * person name that is not an object, on which the service's reader
	 * never returns */
	JSON_READ_MALFORMED,
};

#define JSON_READ_MANY_TEXT_MESSAGE "Sequence contains more than one element"

/* Reads ds and its sequences' items in order, as fo-dicom does, up to the
 * first element it would refuse; what it keeps is left in ds: an ST's
 * first value only, and of a text VR's values only the strings (fo-dicom
 * skips numbers and the like there). */
enum json_read json_read_dataset(struct cJSON *ds);

#endif
