/* libFuzzer: the store-time parse, as a responder runs it: the file is
 * parsed by GDCM in the sandbox's kept child (sandbox_parse: the checks,
 * validation, both metadata forms, the indexed attributes), whose crashes
 * on corrupted files (GDCM's own assertions) cost that child and not the
 * caller, and whose answer the caller reads field by field. What is fuzzed
 * is that the caller always gets an answer: no crash, no hang, whatever
 * the file; scripts/fuzz also fails a run whose children reported a
 * sanitizer error in our code. */
#include "dicom/sandbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];
static struct sandbox sb;

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char err[256];
	if (!*path) {
		snprintf(path, sizeof(path), "/tmp/fuzz-probe-%d.dcm", (int)getpid());
		sandbox_init(&sb);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(d, 1, n, f);
	fclose(f);
	struct sandbox_parsed p;
	sandbox_parse(&sb, path, 2, NULL, 0, &p, err, sizeof(err));
	sandbox_parsed_release(&p);
	return 0;
}
