/* Operations that work instance by instance: bulk update ($bulkUpdate:
 * each instance's switch to its new version, sql/011,
 * dicom_update_instance) and export (each instance's blob). Both keep their
 * work list in operation_item. */
#ifndef ADE_DB_UPDATE_H
#define ADE_DB_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

enum { UPDATE_STARTED = 0, UPDATE_BUSY = 1, UPDATE_FAILED = -1 };

/* Starts an operation of type "update" or "export" with input (the JSON
 * the worker reads: partition, and studyInstanceUids, changes and
 * changeDataset, or identifiers and destination), unless one of that type
 * is not finished: UPDATE_BUSY with its id in busy_op. op_id: 32 hex
 * digits. */
int db_update_start(struct db *db, const char *type, const char *input, char op_id[33], char busy_op[33]);

/* A leased update operation. */
struct db_update {
	char id[37];
	char *input; /* the JSON given to db_update_start */
};

/* Leases the oldest unfinished operation of a type and, the first time,
 * lists its work (one item per instance). 1 with job filled, 0 none, -1
 * error. */
int db_update_claim(struct db *db, const char *type, const char *owner, int lease_seconds, struct db_update *job);
void db_update_release(struct db_update *job);

/* An instance still to update: its version when listed, its study, and
 * both forms of its metadata. */
struct db_update_item {
	int64_t watermark;
	char *study, *metadata, *metadata_bulk; /* metadata_bulk may be NULL */
};

/* The next pending items, at most max; renews the lease and the progress.
 * Returns the count (0: all done), or -1 (an error, or the lease lost). */
long db_update_next(struct db *db, const struct db_update *job, const char *owner, int lease_seconds, long max,
		    struct db_update_item **out);
void db_update_items_free(struct db_update_item *items, long n);

/* Switches item old to its new version new (size bytes, already durable),
 * as dicom_update_instance does. Returns 1 updated, 0 gone (the instance
 * changed meanwhile: remove new's file), -1 error; *remove is a watermark
 * whose file now goes (0 none). */
int db_update_instance(struct db *db, const struct db_update *job, int64_t old, int64_t new_wm, int64_t size,
		       const char *metadata, const char *metadata_bulk, const char *host, const char *topic,
		       int64_t *remove);

/* Marks an item done, or failed: with a reason among the operation's
 * errors, or (error NULL) with its study's line alone. */
int db_update_mark(struct db *db, const struct db_update *job, int64_t watermark, bool failed, const char *error);

/* Finishes the operation: its results from its items, succeeded or failed. */
int db_update_finish(struct db *db, const struct db_update *job, const char *owner);

/* Export: appends errors.log (JSON lines {Timestamp, Identifier, Error}
 * for the identifiers not found and the instances not written; a failed
 * item's error is "identifier<TAB>reason"), returns their count or -1;
 * then finishes the operation with its results, failed when failure (the
 * reason) is given. */
struct buf;
long db_export_errors(struct db *db, const struct db_update *job, struct buf *out);
int db_export_finish(struct db *db, const struct db_update *job, const char *owner, const char *error_href,
		     const char *failure);

#endif
