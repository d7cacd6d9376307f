/* Extended query tags and operations: their rows, and the reindex steps the
 * relay's worker takes. */
#ifndef ADE_DB_EQT_H
#define ADE_DB_EQT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct db;

struct db_eqt {
	int key;
	char path[9];
	char vr[3];
	char private_creator[65];
	char level[9];        /* study, series, instance */
	char status[9];       /* adding, ready, deleting */
	char query_status[9]; /* enabled, disabled */
	int error_count;
	char operation[33];   /* 32 hex digits, "" when none */
};

struct db_new_eqt {
	const char *path, *vr, *private_creator, *level;
};

/* All tags (at most max), ordered by path. Returns the count or -1. */
long db_eqt_list(struct db *db, struct db_eqt *out, long max, long offset);
/* One tag by path: 1 found, 0 not, -1 error. */
int db_eqt_get(struct db *db, const char *path, struct db_eqt *out);
long db_eqt_count(struct db *db);

enum { EQT_ADDED = 0, EQT_EXISTS = 1, EQT_BUSY = 2, EQT_TOO_MANY = 3, EQT_FAILED = -1 };
/* Adds the tags and one reindex operation for them, in one transaction.
 * EQT_BUSY when a reindex is active (its id in busy_op), EQT_EXISTS when
 * a path is taken, EQT_TOO_MANY past max_tags. op_id gets 32 hex digits. */
int db_eqt_add(struct db *db, const struct db_new_eqt *tags, size_t n, int max_tags, char op_id[33], char busy_op[33]);
/* 1 deleted, 0 not found, -1 error. */
int db_eqt_delete(struct db *db, const char *path);
/* 1 updated, 0 not found, -1 error. */
int db_eqt_set_query_status(struct db *db, const char *path, const char *query_status);
/* The tag's errors as JSON objects (comma-separated) into out; count or -1. */
long db_eqt_errors(struct db *db, int tag_key, long limit, long offset, struct buf *out);

struct db_operation {
	char id[33];
	char type[16];
	char status[16];
	char created[40], updated[40];
	int percent;
	char **resources; /* tag paths; caller frees with db_operation_release */
	size_t nresources;
	char *results;    /* JSON object, or NULL */
};
/* 1 found, 0 not, -1 error. id: 32 hex digits or a dashed GUID. */
int db_operation_get(struct db *db, const char *id, struct db_operation *out);
void db_operation_release(struct db_operation *op);

/* The worker: lease the oldest active operation (1, id and tags filled;
 * 0 none; -1 error), then advance it batch by batch, each batch one
 * transaction; finish marks the tags ready. */
struct db_reindex {
	char id[37];
	int *tag_keys;
	size_t ntags;
	int64_t cursor, end;
};
int db_reindex_claim(struct db *db, const char *owner, int lease_seconds, struct db_reindex *job);
/* Returns 1 when more is left, 0 when the operation is complete, -1 error. */
int db_reindex_step(struct db *db, const char *owner, int lease_seconds, int batch, struct db_reindex *job);
void db_reindex_release(struct db_reindex *job);

/* The searchable tags (status ready) for QIDO. Returns the count or -1. */
long db_eqt_ready(struct db *db, struct db_eqt *out, long max);

#endif
