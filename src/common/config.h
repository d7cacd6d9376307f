/* The process configuration: one INI file (inih) plus a few environment
 * overrides for containers. Every key is listed in the table in config.c
 * and documented in conf/dicom.ini.sample. */
#ifndef ADE_CONFIG_H
#define ADE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config {
	/* [server] */
	char *listen;          /* "" = socket inherited from spawn-fcgi */
	char *base_path;       /* prefix stripped from request paths */
	char *allowed_hosts;   /* Host header names answered besides loopback; "" = any */
	char *log_level;
	int64_t max_request_bytes;
	/* [database] */
	char *db_host, *db_port, *db_name, *db_user, *db_password, *db_options;
	char *db_conninfo;     /* from DICOM_DB_CONNINFO only: wins over the keys */
	/* [store] */
	char *store_dir;
	bool x_sendfile;
	bool x_sendfile2;      /* lighttpd: multipart answers as X-Sendfile2 file ranges */
	int64_t max_part_bytes;
	int64_t max_parts;
	/* [cors] */
	char *cors_allow_origins;
	char *cors_allow_methods;
	char *cors_allow_headers;
	char *cors_expose_headers;
	int64_t cors_max_age;
	char *store_require_mount; /* a path that must be a mount point (shared store); NULL: none */
	/* [retrieve] */
	char *transcoding;     /* "azure": the service's two target syntaxes; "all": every one GDCM writes */
	bool transcode_all;    /* transcoding is "all" */
	bool bulkdata_uri;     /* metadata lists bulk data as BulkDataURI links */
	bool render_cache;     /* rendered images and thumbnails kept with the instance */
	bool metadata_cache;   /* metadata answers of settled instances kept with the newest */
	bool lookup_cache;     /* responders keep lookups while no change is counted (one machine) */
	/* [features] */
	bool data_partitions;  /* routes under /partitions/{name} (the service's EnableDataPartitions) */
	bool export_enabled;   /* POST /export */
	char *export_identity; /* a connection string whose account key stands for the managed identity; NULL: none */
	/* [auth] */
	char *auth_mode;        /* "off" or "token" */
	char *auth_keys;        /* PEM public keys / certificates, or a JWKS document; NULL: none */
	bool auth_verify_signature;
	char *auth_issuers;     /* comma list; "" takes any */
	char *auth_audiences;   /* comma list (the request's service URL is taken too) */
	int64_t auth_clock_skew;
	char *auth_signing_key; /* PEM private key for --mint-token; NULL: none */
	/* [debug] */
	bool debug_enabled;
	/* [events] */
	char *events_service_host;
	char *events_topic;
};

/* ---- the loader: one for the whole file --------------------------------
 * A section is a table of keys, each with its type, where its value goes
 * (an offset into the section's object), its default, its range and the
 * environment variable that overrides it. Sections named "NAME:" take a
 * name after the colon ([subscription:hook]) and get one object a name. */
/* CONFIG_STR: char * (malloc'ed); CONFIG_OPTSTR: the same, NULL when empty;
 * CONFIG_INT: int64_t; CONFIG_BOOL: bool; CONFIG_FN: the key's own setter. */
enum config_type { CONFIG_STR, CONFIG_OPTSTR, CONFIG_INT, CONFIG_BOOL, CONFIG_FN };

struct config_key {
	const char *key;          /* NULL: set from the environment only */
	enum config_type type;
	size_t offset;            /* of the field in the section's object */
	const char *def;          /* default, as the file would say it; NULL: none */
	int64_t min, max;         /* CONFIG_INT */
	const char *env;          /* environment variable that overrides, or NULL */
	/* CONFIG_FN: takes the value into obj; returns NULL, or why not (the
	 * message goes on "[section] key: 'value' ") */
	const char *(*set)(void *obj, const char *value);
};

struct config_section {
	const char *name;         /* "store"; or "subscription:" for named ones */
	const struct config_key *keys;
	size_t nkeys;
	/* the object the keys fill: for a named section, the one of that name
	 * (made with its defaults on first sight) */
	void *(*object)(void *ctx, const char *name);
	void *ctx;
};

/* Sets every key of the table that has a default. Returns 0, or -1 with
 * the reason in err. */
int config_defaults(void *obj, const struct config_key *keys, size_t nkeys, char *err, size_t errlen);
/* Frees the strings the keys of the table put in obj. */
void config_free_strings(void *obj, const struct config_key *keys, size_t nkeys);
/* Sets the key of that name in obj: NULL, CONFIG_UNKNOWN when the table
 * has no such key, or why the value is refused (maybe in why). */
extern const char CONFIG_UNKNOWN[];
const char *config_set_key(void *obj, const struct config_key *keys, size_t nkeys, const char *key, const char *value,
			   char *why, size_t whylen);
/* Reads path (NULL: nothing) into the sections; a key that no section of
 * its section's name has is refused, sections not listed are left to
 * others. Then the environment of every listed unnamed section. Errors
 * name the file, line, section and key. */
int config_read(const char *path, const struct config_section *secs, size_t nsecs, char *err, size_t errlen);

/* Fills cfg with defaults, reads path (NULL: defaults only) with the core
 * sections and extra ones (the relay's), applies the environment,
 * validates. On failure writes the reason into err. */
int config_load_with(struct config *cfg, const char *path, const struct config_section *extra, size_t nextra, char *err,
		     size_t errlen);
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
void config_release(struct config *cfg);
/* The PostgreSQL conninfo built from the keys, with program as its
 * application_name (what pg_stat_activity shows); a [database] conninfo
 * as it is. Caller frees. */
char *config_conninfo(const struct config *cfg, const char *program);

#endif
