/* Shared by the files of src/db: nothing outside it includes this. */
#ifndef ADE_DB_INTERNAL_H
#define ADE_DB_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/* Runs sql with n text parameters; returns the result when its status is
 * want (caller PQclears), else logs and returns NULL. */
PGresult *db_exec(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals);

/* A fixed statement run as db_exec_fixed does, its result returned
 * whatever its status (for callers that read the SQLSTATE; PQclear it);
 * NULL when the connection cannot be used. */
PGresult *db_run_fixed(struct db *db, const char *sql, int n, const char *const *vals);

/* db_exec for a fixed statement (a string literal, known by its address)
 * that runs often: prepared on the connection the first time. */
PGresult *db_exec_fixed(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals);

/* db_exec for a text made per request whose values are all parameters
 * (a search form): prepared on the connection the first time it is seen,
 * then only bound and executed. */
PGresult *db_exec_text(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals);

/* Appends the first column of every row of r, separated by commas, and
 * clears r. Returns the number of rows, or -1 when r is NULL. */
struct buf;
long db_json_rows(PGresult *r, struct buf *out);
/* The number of rows of r, which it clears; -1 when r is NULL (failed). */
long db_row_count(PGresult *r);
/* The first row's first column of r as a number, r cleared; -1 when r is
 * NULL (failed) or has no row. */
long db_first_long(PGresult *r);

/* Runs a statement without parameters or rows (BEGIN, COMMIT...): 0, or
 * -1 (logged). */
int db_cmd(struct db *db, const char *sql);

/* Operations (db/eqt.c). Begins the transaction that starts an operation
 * of this type, under a lock: is one not finished (1, its id in busy_op
 * as 32 hex digits; 0 no; -1 error)? The caller rolls back unless 0. Then:
 * commits the transaction that made operation uuid, wakes the workers and
 * writes its id as 32 hex digits (0, or -1). */
int db_operation_begin(struct db *db, const char *type, char busy_op[33]);
int db_operation_commit(struct db *db, const char *uuid, char op_id[33]);

/* Kept lookups (db/lookup.c; db_count_changes). lookup_get: the kept
 * answer of key, copied to value (at most size bytes): its length; or 0
 * when none is current, with *tag the count under which the answer the
 * caller now reads from the database is to be kept (read before it asks:
 * 0, not to be kept). lookup_put: keeps one. All take the connection's
 * table, NULL when lookups are not kept. */
struct changes;
struct lookup *lookup_new(struct changes *changes);
void lookup_free(struct lookup *l);
size_t lookup_get(struct lookup *l, const char *key, void *value, size_t size, uint64_t *tag);
void lookup_put(struct lookup *l, uint64_t tag, const char *key, const void *value, size_t size);
struct lookup *db_lookups(struct db *db);
/* The frame ranges of the file of watermark, kept beside the lookups
 * (which file a watermark names never changes): the kept text, borrowed
 * until the next put, or NULL. */
const char *lookup_ranges_get(struct lookup *l, int64_t watermark);
void lookup_ranges_put(struct lookup *l, int64_t watermark, const char *ranges, size_t len);

/* Around a statement that changes instances' rows: outside a transaction
 * the change is counted around it (db_change_end after it); inside one,
 * around the transaction's COMMIT. */
void db_change_begin(struct db *db);
void db_change_end(struct db *db);

/* Races between transactions: a deadlock (40P01) or a serialization
 * failure (40001) rolls back the transaction that lost it, and the same
 * statements run again may well succeed. db_lost_race says whether r is
 * one; db_in_transaction whether a statement would run inside an open
 * transaction (which then is to be run again whole, not the statement);
 * db_race_pause waits a few milliseconds more at each attempt before the
 * next. A lost race is run again up to DB_RACE_TRIES times in all. */
#define DB_RACE_TRIES 4
bool db_lost_race(const PGresult *r);
bool db_in_transaction(const struct db *db);
void db_race_pause(int attempt);

/* db_run_fixed of a statement that changes instances' rows, between
 * db_change_begin and db_change_end; run on its own (no transaction
 * open), it is run again while it loses races (what and, when not NULL,
 * uid name it in the log). */
PGresult *db_run_fixed_change(struct db *db, const char *what, const char *uid, const char *sql, int n,
			      const char *const *vals);

#endif
