/* Changes to instances, counted in a file of the store directory that
 * every process of this machine maps: what lets a responder keep the
 * answers of its lookups (where an instance's file is, a metadata
 * answer's version) and still never answer from one that a committed
 * change made old.
 *
 * A process that changes instances' rows (store, delete, update, expiry)
 * counts the change as started before the statement that makes it visible
 * (COMMIT) and as finished after it, holding a shared lock on the file in
 * between. A lookup reads the counters before it asks the database: when
 * they are equal, its answer can be kept under that count; a kept answer
 * is used while both counters still have that value. So any change that
 * committed after the lookup began has moved them.
 *
 * A process killed between the two counts leaves them unequal: nothing is
 * kept. The next lookup that finds no process in that window (the lock is
 * free: the kernel drops a dead process's lock) makes them equal again,
 * and nothing is kept for pause_ms more, the time the database may still
 * take to finish the dead process's commit.
 *
 * The file is memory shared by the processes of one machine: processes of
 * other hosts over a shared file system do not see each other's counts
 * ([retrieve] lookup_cache says when lookups are kept). */
#ifndef ADE_STORE_CHANGES_H
#define ADE_STORE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct changes;

/* Maps dir/changes (made when missing). NULL with err. */
struct changes *changes_open(const char *dir, long pause_ms, char *err, size_t errlen);
void changes_close(struct changes *c);

/* Whether dir is on a file system of this machine's own (not NFS, SMB,
 * Ceph, FUSE...): where other hosts cannot be changing instances. */
bool changes_local(const char *dir);

/* Around the statement that makes a change to instances visible. */
void changes_begin(struct changes *c);
void changes_end(struct changes *c);

/* Before a lookup: the count its answer can be kept under, or 0 when it
 * cannot (a change is being made, or was cut short moments ago). */
uint64_t changes_tag(struct changes *c);
/* Whether an answer kept under tag is still the database's. */
bool changes_valid(struct changes *c, uint64_t tag);

#endif
