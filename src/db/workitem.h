/* UPS-RS workitems (sql/013): create, read, and the changes of update,
 * state change and cancel under a row lock, so that two clients changing
 * one workitem take turns. */
#ifndef ADE_DB_WORKITEM_H
#define ADE_DB_WORKITEM_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct db;

/* 0 created, 1 it exists already, -1 error. The partition is made when
 * missing (workitem create makes it, as STOW does). */
int db_workitem_create(struct db *db, const char *partition, const char *uid, const char *dataset);

struct db_workitem {
	int64_t key;
	char state[16];
	char *transaction_uid; /* NULL when none */
	char *dataset;         /* DICOM JSON object */
};
void db_workitem_release(struct db_workitem *w);

/* Reads one (1 found, 0 not, -1 error). With lock, begins a transaction
 * and holds the row until db_workitem_save or db_workitem_unlock. */
int db_workitem_get(struct db *db, const char *partition, const char *uid, int lock, struct db_workitem *out);
/* Writes the held row's new state, transaction UID and dataset, and
 * commits (0, or -1 rolled back). */
int db_workitem_save(struct db *db, const struct db_workitem *w);
void db_workitem_unlock(struct db *db);

/* A search: each filter is a column and a value; person names as QIDO
 * reads them; a date-time range's bounds (either may be NULL) written as
 * dicom_dt_norm writes the stored values. */
enum workitem_match { WM_EXACT, WM_PN, WM_PN_FUZZY, WM_RANGE };
struct workitem_filter {
	const char *column;
	enum workitem_match match;
	const char *value, *lo, *hi;
	uint32_t tag; /* the attribute searched for (a sequence's: the one inside it) */
};
/* Appends the matching datasets (JSON objects separated by commas), in
 * creation order, without their TransactionUID and, when returned (a
 * text[] of 8-digit tags) is not NULL, without any attribute it does not
 * name. Returns their count or -1. */
long db_workitem_search(struct db *db, const char *partition, const struct workitem_filter *f, size_t n,
			const char *returned, long limit, long offset, struct buf *out);

#endif
