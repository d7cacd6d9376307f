/* JSON Web Tokens signed with RS256, as Microsoft Entra ID issues them:
 * keys from a PEM file (public keys or certificates) or a JWKS document,
 * the signature checked with OpenSSL, the claims read with cJSON; and
 * tokens made with a private key, for tests and developers. */
#ifndef ADE_COMMON_JWT_H
#define ADE_COMMON_JWT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct cJSON;
struct jwt_keys;

/* Loads the verification keys at path: a JWKS document (JSON with
 * "keys", RSA keys by "kid") or PEM public keys / certificates. NULL with
 * why in err. */
struct jwt_keys *jwt_keys_load(const char *path, char *err, size_t errlen);
void jwt_keys_free(struct jwt_keys *k);

/* Splits and reads token; with keys, checks its RS256 signature (by its
 * "kid" when the keys have ids). Returns the payload (caller frees with
 * cJSON_Delete), or NULL with the reason in why. "alg": "none" and any
 * algorithm but RS256 are refused, checked or not. */
struct cJSON *jwt_decode(const char *token, size_t len, const struct jwt_keys *keys, char *why, size_t whylen);

/* What a token's claims must hold: an issuer among issuers (a comma
 * list; "" takes any), an audience among audiences (a comma list) or equal
 * to base_url, and a lifetime around now, skew seconds either way. */
struct jwt_rules {
	const char *issuers;
	const char *audiences;
	const char *base_url;
	long long skew;
	long long now;
};

/* NULL when claims hold to rules, else why (written into why: the
 * service's words for an expired token, a wrong issuer or audience). */
const char *jwt_check_claims(const struct cJSON *claims, const struct jwt_rules *rules, char *why, size_t whylen);

/* p's n bytes in base64url without padding (a token's parts), appended
 * to out. */
void jwt_b64url(const void *p, size_t n, struct buf *out);

/* A token for payload (a JSON object's text), signed RS256 with the
 * private key in the PEM file at key_path, "kid" in its header when
 * given. Caller frees; NULL with why in err. */
char *jwt_mint(const char *key_path, const char *kid, const char *payload, char *err, size_t errlen);

#endif
