/* Schema steps compiled in from the files under sql/ (build-aux/sql2c.sh). */
#ifndef ADE_DB_SCHEMA_H
#define ADE_DB_SCHEMA_H

struct schema_step {
	int version;
	const char *name;
	const char *sql;
};

extern const struct schema_step schema_steps[];
extern const unsigned schema_nsteps;

#endif
