/* libFuzzer: Accept negotiation (http/accept.c) for retrieve, frames and
 * bulk data, on any header. */
#include "common/arena.h"
#include "http/accept.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char header[2048];
	struct arena a;
	struct accept_item *items;
	struct accept_choice c;
	size_t k = n < sizeof(header) - 1 ? n : sizeof(header) - 1;
	memcpy(header, d, k);
	header[k] = '\0';
	arena_init(&a);
	accept_parse(&a, header, &items);
	for (int r = ACCEPT_STUDY; r <= ACCEPT_INSTANCE; r++) {
		accept_negotiate_retrieve(&a, header, (enum accept_resource)r, false, &c);
		accept_negotiate_retrieve(&a, header, (enum accept_resource)r, true, &c);
	}
	accept_negotiate_frames(&a, header, false, &c);
	accept_negotiate_frames(&a, header, true, &c);
	accept_negotiate_bulkdata(&a, header, &c);
	arena_release(&a);
	return 0;
}
