/* Event envelopes: the stored Event Grid event as each schema sends it. */
#ifndef ADE_EVENTS_ENVELOPE_H
#define ADE_EVENTS_ENVELOPE_H

#include "common/buf.h"

enum event_schema { SCHEMA_EVENTGRID, SCHEMA_CLOUDEVENTS };

/* The event as one JSON object in schema (appended to out). For Event
 * Grid that is the stored event itself; for CloudEvents 1.0 the same
 * fields under their CloudEvents names. Returns 0 or -1. */
int envelope_event(enum event_schema schema, const char *stored, struct buf *out);

#endif
