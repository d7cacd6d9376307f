/* Shared by the files of src/db: nothing outside it includes this. */
#ifndef ADE_DB_INTERNAL_H
#define ADE_DB_INTERNAL_H

#include <libpq-fe.h>

struct db;

/* Runs sql with n text parameters; returns the result when its status is
 * want (caller PQclears), else logs and returns NULL. */
PGresult *db_exec(struct db *db, ExecStatusType want, const char *sql, int n, const char *const *vals);

#endif
