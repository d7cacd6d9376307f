/* The debug sink: events count as delivered at once, so the debug view of
 * dicom-fcgi (which reads the tables) shows them. EVENT_PROVIDERS calls it
 * in_memory. */
#include "relay/provider.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

static int open_debug(struct subscription *s, char *err, size_t errlen)
{
	return 0;
}

static void deliver(struct subscription *s, const struct event_out *ev, struct outcome *out)
{
	out->kind = OUTCOME_DELIVERED;
	out->http_status = 0;
	snprintf(out->text, sizeof(out->text), "Success");
}

static void close_debug(struct subscription *s)
{
}

const struct provider provider_debug = { "debug", NULL, 0, NULL, open_debug, deliver, close_debug, NULL };
