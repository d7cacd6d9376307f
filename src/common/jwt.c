#include "common/jwt.h"
#include "common/buf.h"
#include "common/util.h"
#include "common/xalloc.h"

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/banned.h"

#define MAX_KEYS 32

struct jwt_keys {
	EVP_PKEY *key[MAX_KEYS];
	char *kid[MAX_KEYS]; /* NULL when the key has none (PEM) */
	size_t n;
};

/* base64url (no padding) to bytes; -1 when it is not base64url. */
static long b64url_decode(const char *s, size_t n, unsigned char **out)
{
	struct buf t;
	buf_init(&t, 0);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+' || c == '/' || c == '=') {
			buf_release(&t);
			return -1;
		}
		buf_addch(&t, c == '-' ? '+' : c == '_' ? '/' : c);
	}
	if (t.len % 4 == 1) {
		buf_release(&t);
		return -1;
	}
	size_t pad = (4 - t.len % 4) % 4;
	for (size_t i = 0; i < pad; i++)
		buf_addch(&t, '=');
	*out = xmalloc(t.len / 4 * 3 + 1);
	int got = EVP_DecodeBlock(*out, (const unsigned char *)t.data, (int)t.len);
	buf_release(&t);
	if (got < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return got - (long)pad;
}

void jwt_b64url(const void *p, size_t n, struct buf *out)
{
	unsigned char *t = xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock(t, (const unsigned char *)p, (int)n);
	for (int i = 0; i < len; i++)
		if (t[i] != '=')
			buf_addch(out, t[i] == '+' ? '-' : t[i] == '/' ? '_' : (char)t[i]);
	free(t);
}

/* An RSA public key from a JWK's n and e. */
static EVP_PKEY *jwk_rsa(const cJSON *jwk)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(jwk, "n"), *e = cJSON_GetObjectItemCaseSensitive(jwk, "e");
	unsigned char *nb = NULL, *eb = NULL;
	EVP_PKEY *key = NULL;
	if (!cJSON_IsString(n) || !cJSON_IsString(e))
		return NULL;
	long nl = b64url_decode(n->valuestring, strlen(n->valuestring), &nb);
	long el = b64url_decode(e->valuestring, strlen(e->valuestring), &eb);
	BIGNUM *bn = nl > 0 ? BN_bin2bn(nb, (int)nl, NULL) : NULL, *be = el > 0 ? BN_bin2bn(eb, (int)el, NULL) : NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (bn && be && bld && ctx && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
	    EVP_PKEY_fromdata_init(ctx) > 0)
		EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn);
	BN_free(be);
	free(nb);
	free(eb);
	return key;
}

static int load_jwks(struct jwt_keys *k, const char *text, char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(text);
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(j, "keys"), *jwk;
	cJSON_ArrayForEach(jwk, keys)
	{
		const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
		if (!cJSON_IsString(kty) || strcmp(kty->valuestring, "RSA") || k->n == MAX_KEYS)
			continue;
		EVP_PKEY *key = jwk_rsa(jwk);
		if (!key)
			continue;
		k->key[k->n] = key;
		k->kid[k->n++] = cJSON_IsString(kid) ? xstrdup(kid->valuestring) : NULL;
	}
	cJSON_Delete(j);
	if (!k->n)
		snprintf(err, errlen, "no RSA key in the JWKS document");
	return k->n ? 0 : -1;
}

static int load_pem(struct jwt_keys *k, FILE *f, char *err, size_t errlen)
{
	for (;;) {
		long at = ftell(f);
		EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		if (!key) {
			fseek(f, at, SEEK_SET);
			X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
			if (!cert)
				break;
			key = X509_get_pubkey(cert);
			X509_free(cert);
		}
		if (key && k->n < MAX_KEYS)
			k->key[k->n++] = key;
		else
			EVP_PKEY_free(key);
	}
	if (!k->n)
		snprintf(err, errlen, "no public key or certificate in the PEM file");
	return k->n ? 0 : -1;
}

struct jwt_keys *jwt_keys_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s'", path);
		return NULL;
	}
	char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	struct jwt_keys *k = xcalloc(1, sizeof(*k));
	const char *p = text + strspn(text, " \t\r\n");
	int rc = -1;
	if (*p == '{') {
		rc = load_jwks(k, text, err, errlen);
	} else {
		rewind(f);
		rc = load_pem(k, f, err, errlen);
	}
	fclose(f);
	if (rc) {
		jwt_keys_free(k);
		return NULL;
	}
	return k;
}

void jwt_keys_free(struct jwt_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		EVP_PKEY_free(k->key[i]);
		free(k->kid[i]);
	}
	free(k);
}

static bool verify_rs256(EVP_PKEY *key, const char *data, size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		  EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* Part i (0-2) of a token: where it is and how long. */
static bool split(const char *token, size_t len, const char *part[3], size_t plen[3])
{
	const char *p = token, *end = token + len;
	for (int i = 0; i < 3; i++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		if ((i < 2) != (dot != NULL))
			return false;
		part[i] = p;
		plen[i] = (size_t)((dot ? dot : end) - p);
		p = dot ? dot + 1 : end;
	}
	return plen[0] && plen[1];
}

static cJSON *decode_json(const char *p, size_t n)
{
	unsigned char *raw;
	long len = b64url_decode(p, n, &raw);
	if (len < 0)
		return NULL;
	cJSON *j = cJSON_ParseWithLength((const char *)raw, (size_t)len);
	free(raw);
	return cJSON_IsObject(j) ? j : (cJSON_Delete(j), NULL);
}

cJSON *jwt_decode(const char *token, size_t len, const struct jwt_keys *keys, char *why, size_t whylen)
{
	const char *part[3];
	size_t plen[3];
	if (!split(token, len, part, plen)) {
		snprintf(why, whylen, "The token is malformed.");
		return NULL;
	}
	cJSON *head = decode_json(part[0], plen[0]);
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(head, "alg");
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(head, "kid");
	if (!head || !cJSON_IsString(alg) || strcmp(alg->valuestring, "RS256")) {
		snprintf(why, whylen, "The token's algorithm is not RS256.");
		cJSON_Delete(head);
		return NULL;
	}
	if (keys) {
		unsigned char *sig = NULL;
		long siglen = b64url_decode(part[2], plen[2], &sig);
		bool ok = false;
		for (size_t i = 0; siglen > 0 && i < keys->n && !ok; i++) {
			if (keys->kid[i] && cJSON_IsString(kid) && strcmp(keys->kid[i], kid->valuestring))
				continue;
			ok = verify_rs256(keys->key[i], token, plen[0] + 1 + plen[1], sig, (size_t)siglen);
		}
		free(sig);
		if (!ok) {
			snprintf(why, whylen, "The signature is invalid.");
			cJSON_Delete(head);
			return NULL;
		}
	}
	cJSON_Delete(head);
	cJSON *payload = decode_json(part[1], plen[1]);
	if (!payload)
		snprintf(why, whylen, "The token's payload is not a JSON object.");
	return payload;
}

char *jwt_mint(const char *key_path, const char *kid, const char *payload, char *err, size_t errlen)
{
	FILE *f = fopen(key_path, "rb");
	EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!key) {
		snprintf(err, errlen, "no private key in '%s'", key_path);
		return NULL;
	}
	struct buf t;
	buf_init(&t, 0);
	char head[256];
	if (kid)
		snprintf(head, sizeof(head), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	else
		snprintf(head, sizeof(head), "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
	jwt_b64url((const unsigned char *)head, strlen(head), &t);
	buf_addch(&t, '.');
	jwt_b64url((const unsigned char *)payload, strlen(payload), &t);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	bool ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		  EVP_DigestSign(md, sig, &siglen, (const unsigned char *)t.data, t.len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	if (!ok) {
		buf_release(&t);
		snprintf(err, errlen, "signing failed");
		return NULL;
	}
	buf_addch(&t, '.');
	jwt_b64url(sig, siglen, &t);
	char *out = xstrdup(buf_str(&t));
	buf_release(&t);
	return out;
}

/* Whether item (a comma list's member) is in list. */
static bool in_list(const char *list, const char *item)
{
	size_t il = strlen(item);
	for (const char *p = list; *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && n == il && !strncmp(p, item, n))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static bool audience_ok(const struct jwt_rules *r, const cJSON *aud)
{
	const cJSON *a;
	if (cJSON_IsString(aud))
		return in_list(r->audiences, aud->valuestring) || !strcmp(aud->valuestring, r->base_url);
	cJSON_ArrayForEach(a, aud)
	{
		if (cJSON_IsString(a) && (in_list(r->audiences, a->valuestring) || !strcmp(a->valuestring, r->base_url)))
			return true;
	}
	return false;
}

/* A NumericDate claim (seconds since 1970, any JSON number) as a time the
 * checks can add to and print: before 1970 (or NaN) is 1970, after the
 * end of the year 9999 is that end. A token may carry 1e300 or (through
 * cJSON's strtod) an infinity; converting those to an integer unclamped
 * is undefined behaviour, and gmtime_r fails beyond its years. */
static long long numeric_date(double v)
{
	return util_whole(v, 0, 253402300799); /* to 9999-12-31T23:59:59Z */
}

static void utc(long long t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%m/%d/%Y %H:%M:%S", &tm);
}

const char *jwt_check_claims(const cJSON *claims, const struct jwt_rules *r, char *why, size_t whylen)
{
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(claims, "iss");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
	const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");
	long long now = r->now, skew = r->skew;
	char t[40];

	if (!cJSON_IsNumber(exp))
		return snprintf(why, whylen, "The token has no expiration time."), why;
	if (numeric_date(exp->valuedouble) + skew < now) {
		utc(numeric_date(exp->valuedouble), t, sizeof(t));
		return snprintf(why, whylen, "The token expired at '%s'.", t), why;
	}
	if (cJSON_IsNumber(nbf) && numeric_date(nbf->valuedouble) - skew > now) {
		utc(numeric_date(nbf->valuedouble), t, sizeof(t));
		return snprintf(why, whylen, "The token is not valid before '%s'.", t), why;
	}
	if (*r->issuers && (!cJSON_IsString(iss) || !in_list(r->issuers, iss->valuestring)))
		return snprintf(why, whylen, "The issuer is invalid."), why;
	if (!audience_ok(r, cJSON_GetObjectItemCaseSensitive(claims, "aud")))
		return snprintf(why, whylen, "The audience is invalid."), why;
	return NULL;
}
