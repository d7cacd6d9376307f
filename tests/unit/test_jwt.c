/* common/jwt.c: tokens minted with a fresh RSA key verify against its PEM
 * public key and against the same key as a JWKS document (by kid); a
 * changed payload, another key, "alg": "none" and malformed tokens do not;
 * and the claims' checks, times out of any integer's range included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/jwt.h"

static char dir[] = "/tmp/test_jwt.XXXXXX";
static char priv[128], pub[128], jwks[128], other[128];

static EVP_PKEY *make_key(const char *priv_path, const char *pub_path)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	FILE *f = fopen(priv_path, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	if (pub_path) {
		f = fopen(pub_path, "w");
		PEM_write_PUBKEY(f, k);
		fclose(f);
	}
	return k;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(priv, sizeof(priv), "%s/key.pem", dir);
	snprintf(pub, sizeof(pub), "%s/public.pem", dir);
	snprintf(jwks, sizeof(jwks), "%s/jwks.json", dir);
	snprintf(other, sizeof(other), "%s/other.pem", dir);
	EVP_PKEY *k = make_key(priv, pub);
	EVP_PKEY_free(make_key(other, NULL));
	/* the same public key as a JWK, beside a decoy of another kid */
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e);
	unsigned char nb[512], eb[16];
	struct buf ns, es;
	buf_init(&ns, 0);
	buf_init(&es, 0);
	jwt_b64url(nb, (size_t)BN_bn2bin(n, nb), &ns);
	jwt_b64url(eb, (size_t)BN_bn2bin(e, eb), &es);
	FILE *f = fopen(jwks, "w");
	fprintf(f, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"decoy\",\"n\":\"%s\",\"e\":\"AQAB\"},"
		   "{\"kty\":\"EC\",\"kid\":\"ec\"},{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"%s\",\"e\":\"%s\"}]}",
		buf_str(&es), buf_str(&ns), buf_str(&es));
	fclose(f);
	buf_release(&ns);
	buf_release(&es);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(k);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(priv);
	unlink(pub);
	unlink(jwks);
	unlink(other);
	rmdir(dir);
	return 0;
}

static void jwt__minted_token__verifies_with_pem_and_jwks(void **state)
{
	(void)state;
	char err[256], why[256];
	struct jwt_keys *pem = jwt_keys_load(pub, err, sizeof(err));
	struct jwt_keys *set = jwt_keys_load(jwks, err, sizeof(err));
	assert_non_null(pem);
	assert_non_null(set);
	char *tok = jwt_mint(priv, "k1", "{\"aud\":\"x\",\"roles\":[\"DICOM Data Owner\"]}", err, sizeof(err));
	assert_non_null(tok);
	cJSON *p = jwt_decode(tok, strlen(tok), pem, why, sizeof(why));
	assert_non_null(p);
	assert_string_equal(cJSON_GetObjectItem(p, "aud")->valuestring, "x");
	cJSON_Delete(p);
	p = jwt_decode(tok, strlen(tok), set, why, sizeof(why));
	assert_non_null(p);
	cJSON_Delete(p);
	/* the kid picks the key: a token naming the decoy fails */
	char *decoy = jwt_mint(priv, "decoy", "{}", err, sizeof(err));
	assert_null(jwt_decode(decoy, strlen(decoy), set, why, sizeof(why)));
	assert_string_equal(why, "The signature is invalid.");
	free(decoy);

	/* a payload changed after signing */
	char *forged = strdup(tok);
	char *dot = strchr(forged, '.') + 1;
	dot[2] = dot[2] == 'A' ? 'B' : 'A';
	assert_null(jwt_decode(forged, strlen(forged), pem, why, sizeof(why)));
	free(forged);
	/* another key */
	char *alien = jwt_mint(other, NULL, "{}", err, sizeof(err));
	assert_null(jwt_decode(alien, strlen(alien), pem, why, sizeof(why)));
	assert_string_equal(why, "The signature is invalid.");
	/* without keys (verify_signature = false) the signature is not read */
	p = jwt_decode(alien, strlen(alien), NULL, why, sizeof(why));
	assert_non_null(p);
	cJSON_Delete(p);
	free(alien);
	free(tok);
	jwt_keys_free(pem);
	jwt_keys_free(set);
}

static void jwt__none_and_malformed__refused(void **state)
{
	(void)state;
	char why[256];
	/* {"alg":"none"} . {"a":1} . (empty) */
	const char *none = "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.";
	assert_null(jwt_decode(none, strlen(none), NULL, why, sizeof(why)));
	assert_string_equal(why, "The token's algorithm is not RS256.");
	const char *bad[] = { "", "abc", "a.b", "a.b.c.d", ".eyJhIjoxfQ.", "eyJhbGciOiJSUzI1NiJ9.!!!.x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(jwt_decode(bad[i], strlen(bad[i]), NULL, why, sizeof(why)));
	char err[256];
	assert_null(jwt_keys_load("/nonexistent/keys.pem", err, sizeof(err)));
}

/* The claims' lifetime, issuer and audience, with the service's reasons. */
static const char *check(const char *payload, char *why, size_t whylen)
{
	static const struct jwt_rules rules = { "https://sts.windows.net/t/, https://login.microsoftonline.com/t/v2.0",
						"api://emulator", "http://localhost:8080", 300, 1764800000 };
	cJSON *claims = cJSON_Parse(payload);
	assert_non_null(claims);
	const char *bad = jwt_check_claims(claims, &rules, why, whylen);
	cJSON_Delete(claims);
	return bad;
}

static void jwt__claims__lifetime_issuer_audience(void **state)
{
	(void)state;
	char why[256];
	assert_null(check("{\"exp\":1764803600,\"nbf\":1764800000,\"iss\":\"https://sts.windows.net/t/\","
			  "\"aud\":\"api://emulator\"}",
			  why, sizeof(why)));
	/* the skew: 300 s either way */
	assert_null(check("{\"exp\":1764799800,\"nbf\":1764800250,\"iss\":\"https://login.microsoftonline.com/t/v2.0\","
			  "\"aud\":[\"api://other\",\"http://localhost:8080\"]}",
			  why, sizeof(why)));
	assert_string_equal(check("{\"exp\":1764799000}", why, sizeof(why)), "The token expired at '12/03/2025 21:56:40'.");
	assert_string_equal(check("{\"exp\":1764803600,\"nbf\":1764801000}", why, sizeof(why)),
			    "The token is not valid before '12/03/2025 22:30:00'.");
	assert_string_equal(check("{\"nbf\":1}", why, sizeof(why)), "The token has no expiration time.");
	assert_string_equal(check("{\"exp\":\"1764803600\"}", why, sizeof(why)), "The token has no expiration time.");
	assert_string_equal(check("{\"exp\":1764803600,\"iss\":\"https://sts.windows.net/other/\"}", why, sizeof(why)),
			    "The issuer is invalid.");
	assert_string_equal(check("{\"exp\":1764803600,\"iss\":\"https://sts.windows.net/t/\",\"aud\":\"api://emulator2\"}",
				  why, sizeof(why)),
			    "The audience is invalid.");
}

/* Times no integer holds are dates all the same: before 1970 is 1970,
 * beyond the year 9999 its end (once undefined behaviour, found by
 * fuzz_jwt: 1e300 converted to long long). */
static void jwt__claims__out_of_range_times_clamped(void **state)
{
	(void)state;
	char why[256];
	const char *tail = ",\"iss\":\"https://sts.windows.net/t/\",\"aud\":\"api://emulator\"}";
	char p[256];
	snprintf(p, sizeof(p), "{\"exp\":1e300%s", tail);
	assert_null(check(p, why, sizeof(why)));
	snprintf(p, sizeof(p), "{\"exp\":1e999,\"nbf\":-1e999%s", tail);
	assert_null(check(p, why, sizeof(why)));
	assert_string_equal(check("{\"exp\":-1e300}", why, sizeof(why)), "The token expired at '01/01/1970 00:00:00'.");
	assert_string_equal(check("{\"exp\":1e300,\"nbf\":9.9e18}", why, sizeof(why)),
			    "The token is not valid before '12/31/9999 23:59:59'.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jwt__minted_token__verifies_with_pem_and_jwks),
		cmocka_unit_test(jwt__none_and_malformed__refused),
		cmocka_unit_test(jwt__claims__lifetime_issuer_audience),
		cmocka_unit_test(jwt__claims__out_of_range_times_clamped),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
