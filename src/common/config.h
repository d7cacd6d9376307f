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
	/* [retrieve] */
	char *transcoding;     /* "azure": the service's two target syntaxes; "all": every one GDCM writes */
	bool transcode_all;    /* transcoding is "all" */
	bool bulkdata_uri;     /* metadata lists bulk data as BulkDataURI links */
	/* [debug] */
	bool debug_enabled;
	/* [events] */
	char *events_service_host;
	char *events_topic;
};

/* Fills cfg with defaults, reads path (NULL: defaults only), applies the
 * environment, validates. On failure writes the reason into err. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
void config_release(struct config *cfg);
/* The PostgreSQL conninfo built from the keys (caller frees). */
char *config_conninfo(const struct config *cfg);

#endif
