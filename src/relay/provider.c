/* The provider table: every delivery provider the relay knows, by name. */
#include "relay/provider.h"

#include <string.h>

#include "common/banned.h"

const struct provider *const providers[] = { &provider_webhook, &provider_file, &provider_queue, &provider_debug };
const size_t nproviders = sizeof(providers) / sizeof(providers[0]);

const struct provider *provider_find(const char *name)
{
	for (size_t i = 0; i < nproviders; i++)
		if (!strcmp(providers[i]->name, name))
			return providers[i];
	return NULL;
}
