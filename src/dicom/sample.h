#ifndef ADE_DICOM_SAMPLE_H
#define ADE_DICOM_SAMPLE_H

#include <stddef.h>

#include "common/buf.h"

/* Appends to b a sound instance the size of a CT image (Secondary Capture,
 * 512 x 512 pixels of 12 bits in 16, explicit VR little endian, SOP
 * instance UID DICOM_SAMPLE_SOP), made here for sandbox_warm: the kept children
 * parse and render it before a responder's first request. Returns where its
 * pixels are in b, *length their bytes. */
#define DICOM_SAMPLE_SOP "2.25.1.1.1"
size_t dicom_sample(struct buf *b, size_t *length);

#endif
