#include "events/envelope.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

int envelope_event(enum event_schema schema, const char *stored, struct buf *out)
{
	cJSON *eg = cJSON_Parse(stored);
	if (!eg)
		return -1;
	if (schema == SCHEMA_EVENTGRID) {
		/* the stored event, compact, its keys in Azure's order */
		char *text = cJSON_PrintUnformatted(eg);
		int rc = text ? buf_adds(out, text) : -1;
		free(text);
		cJSON_Delete(eg);
		return rc;
	}
	cJSON *ce = cJSON_CreateObject();
	/* CloudEvents 1.0: the attributes Event Grid maps to (cloud-event-schema.md) */
	static const struct {
		const char *from, *to;
	} map[] = {
		{ "topic", "source" }, { "subject", "subject" }, { "eventType", "type" },
		{ "eventTime", "time" }, { "id", "id" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(eg, map[i].from);
		if (v)
			cJSON_AddItemToObject(ce, map[i].to, cJSON_Duplicate(v, 1));
	}
	cJSON *data = cJSON_GetObjectItemCaseSensitive(eg, "data");
	if (data)
		cJSON_AddItemToObject(ce, "data", cJSON_Duplicate(data, 1));
	cJSON_AddStringToObject(ce, "specversion", "1.0");
	char *text = cJSON_PrintUnformatted(ce);
	int rc = text ? buf_adds(out, text) : -1;
	free(text);
	cJSON_Delete(ce);
	cJSON_Delete(eg);
	return rc;
}
