/* The schema compiled in from the files under sql/ (build-aux/sql2c.sh):
 * numbered steps, applied once each in order, and the functions, applied
 * with CREATE OR REPLACE at every migrate. */
#ifndef ADE_DB_SCHEMA_H
#define ADE_DB_SCHEMA_H

#include <stdbool.h>

struct schema_step {
	int version;
	const char *name;
	const char *sql;
};

struct schema_function {
	const char *name;
	bool early; /* the numbered steps use it: applied before them too */
	const char *sql;
};

extern const struct schema_step schema_steps[];
extern const unsigned schema_nsteps;
extern const struct schema_function schema_functions[];
extern const unsigned schema_nfunctions;

#endif
