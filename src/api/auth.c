/* [auth] mode = token: the bearer token every DICOM route needs, checked as
 * the service checks Microsoft Entra ID tokens (signature, issuer,
 * audience, lifetime), and its roles mapped to the service's data-plane
 * roles: DICOM Data Owner may do everything, DICOM Data Reader may read. */
#include "api/app.h"
#include "common/jwt.h"
#include "common/log.h"
#include "http/response.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/banned.h"

#define RESOURCE "https://dicom.healthcareapis.azure.com"

static struct jwt_keys *keys;

int api_auth_init(struct app *app)
{
	char err[256];
	if (strcmp(app->cfg.auth_mode, "token"))
		return 0;
	if (app->cfg.auth_verify_signature && !(keys = jwt_keys_load(app->cfg.auth_keys, err, sizeof(err)))) {
		log_error("[auth] keys: %s", err);
		return -1;
	}
	return 0;
}

enum { ROLE_READER = 1, ROLE_OWNER = 2 };

static int roles_of(const cJSON *claims)
{
	const cJSON *r;
	int roles = 0;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(claims, "roles"))
	{
		if (!cJSON_IsString(r))
			continue;
		if (!strcmp(r->valuestring, "DICOM Data Owner") || !strcmp(r->valuestring, "DicomDataOwner"))
			roles |= ROLE_OWNER;
		else if (!strcmp(r->valuestring, "DICOM Data Reader") || !strcmp(r->valuestring, "DicomDataReader"))
			roles |= ROLE_READER;
	}
	return roles;
}

/* 401 as the service's JWT bearer handler answers: no body, a challenge
 * naming the resource (and, for a token it refused, why). */
static int challenge(struct request *req, const char *why)
{
	if (why)
		http_add_header(req, "WWW-Authenticate",
				"Bearer authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", "
				"resource_id=\"" RESOURCE "\", realm=\"" RESOURCE "\", error=\"invalid_token\", "
				"error_description=\"%s\"",
				why);
	else
		http_add_header(req, "WWW-Authenticate",
				"Bearer authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", "
				"resource_id=\"" RESOURCE "\", realm=\"" RESOURCE "\"");
	http_send(req, 401, NULL, "", 0);
	return 401;
}

int api_authorize(void *ctx, struct request *req, bool read_only)
{
	struct app *app = ctx;
	char why[256];
	if (strcmp(app->cfg.auth_mode, "token"))
		return 0;
	const char *h = request_header(req, "Authorization");
	if (!h)
		return challenge(req, NULL);
	if (strncasecmp(h, "Bearer ", 7))
		return challenge(req, "The authorization header is not a bearer token.");
	const char *tok = h + 7;
	tok += strspn(tok, " ");
	size_t n = strcspn(tok, " ,");
	if (!n || tok[n + strspn(tok + n, " ")])
		return challenge(req, "The authorization header must hold exactly one token.");
	cJSON *claims = jwt_decode(tok, n, app->cfg.auth_verify_signature ? keys : NULL, why, sizeof(why));
	if (!claims)
		return challenge(req, why);
	const struct jwt_rules rules = { app->cfg.auth_issuers, app->cfg.auth_audiences, request_base_url(req),
					 (long long)app->cfg.auth_clock_skew, (long long)time(NULL) };
	const char *bad = jwt_check_claims(claims, &rules, why, sizeof(why));
	int roles = bad ? 0 : roles_of(claims);
	cJSON_Delete(claims);
	if (bad)
		return challenge(req, bad);
	if (!(roles & ROLE_OWNER) && !(read_only && (roles & ROLE_READER))) {
		http_send(req, 403, NULL, "", 0);
		return 403;
	}
	return 0;
}

int api_mint_token(const struct config *cfg, const struct mint_options *m)
{
	char err[256];
	const char *key = m->key ? m->key : cfg->auth_signing_key;
	if (!key) {
		fprintf(stderr, "dicom-fcgi: --mint-token needs [auth] signing_key (DICOM_AUTH_SIGNING_KEY) or --key\n");
		return 1;
	}
	/* the first configured audience and issuer, unless named */
	char aud[512], iss[512];
	size_t n = strcspn(cfg->auth_audiences, ",");
	snprintf(aud, sizeof(aud), "%.*s", (int)n, cfg->auth_audiences);
	n = strcspn(cfg->auth_issuers, ",");
	snprintf(iss, sizeof(iss), "%.*s", (int)n, cfg->auth_issuers);
	long long now = (long long)time(NULL);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "aud", m->audience ? m->audience : aud);
	cJSON_AddStringToObject(p, "iss", m->issuer ? m->issuer : *iss ? iss : "https://sts.windows.net/emulator/");
	cJSON_AddNumberToObject(p, "iat", (double)now);
	cJSON_AddNumberToObject(p, "nbf", (double)(now + 60LL * m->not_before_minutes));
	cJSON_AddNumberToObject(p, "exp", (double)(now + 60LL * m->minutes));
	cJSON_AddStringToObject(p, "sub", "azure-dicom-emulator-developer");
	cJSON *roles = cJSON_AddArrayToObject(p, "roles");
	for (size_t i = 0; i < m->nroles; i++)
		cJSON_AddItemToArray(roles, cJSON_CreateString(m->roles[i]));
	char *payload = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	char *tok = payload ? jwt_mint(key, NULL, payload, err, sizeof(err)) : NULL;
	free(payload);
	if (!tok) {
		fprintf(stderr, "dicom-fcgi: %s\n", err);
		return 1;
	}
	printf("%s\n", tok);
	free(tok);
	return 0;
}
