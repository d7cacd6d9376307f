/* Every SQL statement lives under src/db; nothing else sees libpq. */
#ifndef ADE_DB_H
#define ADE_DB_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct db;

/* Connects (caller frees with db_free). NULL with a reason in err. */
struct db *db_connect(const char *conninfo, char *err, size_t errlen);
/* db_connect, once a second until it works, seconds have passed or *stop
 * (may be NULL) is set: a database that is still starting is waited for. */
struct db *db_connect_wait(const char *conninfo, int seconds, volatile sig_atomic_t *stop, char *err, size_t errlen);
void db_free(struct db *db);
/* Counts the connection's changes to instances in changes (store/
 * changes.h) from now on; with keep, also keeps the answers of lookups
 * (db_list_instances of one instance, db_metadata's version) while no
 * change is counted. changes stays the caller's. */
struct changes;
void db_count_changes(struct db *db, struct changes *changes, bool keep);
/* Settings of the session (SQL statements, e.g. SET), applied now and
 * again on every reconnection. Returns 0, or -1 logged. */
int db_set_session(struct db *db, const char *sql);
/* At the start of a request: ends a transaction a failed request left open
 * and re-establishes a broken connection. Returns 0 when usable. */
int db_ensure(struct db *db);
/* Applies the compiled-in schema steps not yet applied, under an advisory
 * lock so that concurrent starters apply each step once. */
int db_migrate(struct db *db, char *err, size_t errlen);
/* Returns 0 when the database answers. */
int db_ping(struct db *db);
/* The server version as text into out. */
int db_server_version(struct db *db, char *out, size_t outlen);

/* A responder's warm-up (api/warm.c) stores made-up instances in a
 * transaction it rolls back. db_warm_begin begins it with the change feed's
 * inserts held off (SHARE ROW EXCLUSIVE: other stores and warm-ups wait the
 * few milliseconds of it; 2 s at most for the lock, else -1) and notes the
 * change feed sequence; db_warm_end puts the sequence back and rolls back,
 * so that no change feed sequence number is lost to the warm-up. */
struct db_warm {
	char last[24];
	bool called;
};
int db_warm_begin(struct db *db, struct db_warm *w);
void db_warm_end(struct db *db, const struct db_warm *w);

/* In one round trip: does the instance exist (1 yes, 0 no, -1 error), and
 * when it does not, a new watermark for it in *watermark. With replace
 * (upsert) it is never said to exist: the new watermark is for the new
 * version. */
int db_reserve_instance(struct db *db, const char *partition, const char *study, const char *series,
			const char *sop, bool replace, int64_t *watermark);

struct db_new_instance {
	const char *partition, *study, *series, *sop, *sop_class, *ts;
	int64_t watermark, size;
	const char *metadata;
	const char *metadata_bulk; /* with BulkDataURI links ("bulkdata/..."); may be NULL */
	/* study-level attributes, NULL when absent */
	const char *patient_id, *patient_name, *patient_birth_date, *accession, *referring, *study_date,
		*study_description;
	/* series-level */
	const char *modality, *pps_start_date, *model;
	/* event envelope */
	const char *host, *topic;
	/* the study expires this many milliseconds from now; 0: never */
	int64_t expiry_ms;
	/* PUT: an existing instance is replaced */
	bool upsert;
	/* where its frames are in the file (as kept for frames requests); may be NULL */
	const char *frame_ranges;
};

/* DB_INVALID: the database refused the instance's data itself (a data
 * exception, SQLSTATE class 22: metadata jsonb cannot read, text not in
 * the database's encoding): the client's file, not a passing failure. */
enum { DB_STORED = 0, DB_EXISTS = 1, DB_INVALID = 2, DB_FAILED = -1 };

/* Several statements in one transaction: db_begin, then db_end with commit
 * (COMMIT; -1 when a statement failed inside, which then rolls back, or
 * when the commit fails) or without (ROLLBACK). */
int db_begin(struct db *db);
int db_end(struct db *db, bool commit);

/* One transaction: rows, change feed row, outbox row. With in->upsert an
 * existing instance is replaced: replaced[] then holds the watermarks of
 * its versions (files to remove: the latest, and the original of an
 * updated one), else 0s. Run on its own, a store that lost a race to
 * another transaction (a deadlock) is run again, and one that met a
 * concurrent store of the same instance is DB_EXISTS. Inside the caller's
 * transaction (db_begin) either loses that transaction: DB_FAILED, and
 * the caller rolls back and stores the instances one by one. */
int db_store_instance(struct db *db, const struct db_new_instance *in, int64_t *sequence, int64_t replaced[2]);

struct db_instance_ref {
	int64_t watermark;
	int64_t size;
	char *study, *series, *sop, *ts; /* owned by the list */
};

struct db_instance_list {
	struct db_instance_ref *items;
	size_t n;
};

void db_instance_list_release(struct db_instance_list *l);

/* Instances of a study, series (sop NULL) or one instance, ordered by
 * series then instance watermark; with original, an updated instance's
 * original version (its watermark and size) instead of its latest. */
int db_list_instances(struct db *db, const char *partition, const char *study, const char *series,
		      const char *sop, bool original, struct db_instance_list *out);

/* How long a set of instances stays unchanged before its metadata answer
 * is kept (an interval in PostgreSQL's words): a study being uploaded is
 * not, so that no answer is kept for each of its sizes. */
#define DB_METADATA_SETTLED "2 seconds"

/* A metadata answer's version: the ETag the service uses ("{max
 * watermark}-{count}", or the watermark for one instance), and what a kept
 * answer is named by and goes with. An instance's metadata never changes
 * under its watermark (an update makes a new one), which is what makes a
 * kept answer named so right; a schema step that rewrote instance.metadata
 * in place would have to remove the kept answers (the metadata-* files
 * under store/cache/). */
struct db_metadata_version {
	char etag[64];
	int64_t latest; /* the highest watermark among the instances */
	/* a file name for the answer: its shape, original or latest, the ETag,
	 * latest and a sum of hashes of the instances' watermarks (the ETag
	 * alone can name two sets when stores commit out of order and a
	 * delete follows) */
	char key[160];
	bool settled; /* the set's newest instance is older than DB_METADATA_SETTLED */
};

/* Appends "[meta,meta,...]" to out and gives its version. With bulk_url
 * (the service URL, e.g. "http://host/v2"), bulk data is listed as
 * BulkDataURI links under it; NULL leaves bulk data out. With original, an
 * updated instance's original metadata (msdicom-request-original). With
 * version_only, the version alone (one small aggregate, for If-None-Match
 * and kept answers); else both from one statement. Returns the number of
 * instances, or -1. */
long db_metadata(struct db *db, const char *partition, const char *study, const char *series, const char *sop,
		 const char *bulk_url, bool original, struct buf *out, struct db_metadata_version *ver,
		 bool version_only);

struct db_changefeed_query {
	bool by_time;            /* v2: time window; v1: sequence window */
	bool latest;             /* only the latest entry */
	int64_t offset, limit;
	const char *start, *end; /* v2 window, NULL for open ends */
	bool include_metadata;
};

/* Appends the change feed entries as JSON objects separated by commas
 * (the caller adds the brackets). Returns the number of entries or -1. */
long db_changefeed(struct db *db, const struct db_changefeed_query *q, struct buf *out);

/* LISTEN on channel; db_wait then waits up to timeout_ms for notifications:
 * what they said (DB_WOKE_EVENTS, DB_WOKE_OPERATION: a payload
 * "operation"), 0 time-out, -1 the connection failed. */
#define DB_WOKE_EVENTS 1
#define DB_WOKE_OPERATION 2
int db_listen(struct db *db, const char *channel);
int db_wait(struct db *db, int timeout_ms);

/* Compares two times PostgreSQL reads: <0, 0, >0 (0 also on error). */
int db_time_cmp(struct db *db, const char *a, const char *b);

/* The cached frame ranges of an instance version (caller frees; NULL when
 * not computed yet), and keeping them. */
int db_frame_ranges_get(struct db *db, int64_t watermark, char **ranges);
int db_frame_ranges_set(struct db *db, int64_t watermark, const char *ranges);

/* Of the n watermarks, marks in known[i] (1/0) those an instance row has.
 * Returns 0 or -1. */
int db_watermarks_known(struct db *db, const int64_t *wm, size_t n, unsigned char *known);
/* The same as the store's orphan sweep asks it (ctx: the struct db). */
int db_store_known(void *ctx, const int64_t *wm, size_t n, unsigned char *known);

/* Whether a data partition of that name exists: 1, 0, or -1. */
int db_partition_exists(struct db *db, const char *name);
/* Appends the partitions as the service lists them, {"partitionKey",
 * "partitionName", "createdDate"} separated by commas. Returns the count
 * or -1. */
long db_partitions(struct db *db, struct buf *out);

/* Deletes and returns the watermarks whose files may now be removed. */
int db_delete(struct db *db, const char *partition, const char *study, const char *series, const char *sop,
	      const char *host, const char *topic, int64_t **watermarks, size_t *n);

/* Deletes one study whose expiry time has passed, as db_delete does; n is 0
 * when none is due (or another relay holds it). */
int db_expire(struct db *db, const char *host, const char *topic, int64_t **watermarks, size_t *n);

#endif
