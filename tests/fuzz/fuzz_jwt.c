/* libFuzzer: a bearer token as any client may send it (common/jwt.c): split,
 * base64url, the header's algorithm, the RS256 signature against a key made
 * at start, and the payload's claims (lifetime, issuer, audience) as
 * [auth] checks them, with verify_signature on (keys) and off (none).
 * An input that starts with '{' is a header's and a payload's JSON
 * (split at the first NUL byte) that the harness encodes into a token, so
 * that mutations reach the claims; any other input is the token itself. */
#include "common/buf.h"
#include "common/jwt.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct jwt_keys *keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char path[] = "/tmp/fuzz_jwt.XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	EVP_PKEY *k = EVP_RSA_gen(2048);
	if (!f || !k || !PEM_write_PUBKEY(f, k))
		abort();
	fclose(f);
	keys = jwt_keys_load(path, err, sizeof(err));
	unlink(path);
	EVP_PKEY_free(k);
	if (!keys)
		abort();
	return 0;
}

static void one(const char *token, size_t n)
{
	static const struct jwt_rules rules = { "https://sts.windows.net/t/, https://login.microsoftonline.com/t/v2.0",
						"https://dicom.healthcareapis.azure.com,api://emulator",
						"http://localhost:8080", 300, 1764800000 };
	char why[256];
	cJSON *claims = jwt_decode(token, n, keys, why, sizeof(why));
	if (claims)
		abort(); /* nothing here is signed with the key */
	claims = jwt_decode(token, n, NULL, why, sizeof(why));
	if (claims) {
		jwt_check_claims(claims, &rules, why, sizeof(why));
		cJSON_Delete(claims);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!n || d[0] != '{') {
		one((const char *)d, n);
		return 0;
	}
	const uint8_t *nul = memchr(d, 0, n);
	size_t hl = nul ? (size_t)(nul - d) : n;
	struct buf t;
	buf_init(&t, 0);
	jwt_b64url(d, hl, &t);
	buf_addch(&t, '.');
	if (nul)
		jwt_b64url(nul + 1, n - hl - 1, &t);
	buf_adds(&t, ".AQAB");
	one(t.data, t.len);
	buf_release(&t);
	return 0;
}
