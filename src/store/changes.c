/* Changes to instances, counted in a shared mapping of dir/changes (see
 * changes.h for the rules). */
#include "store/changes.h"
#include "common/log.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

#define CHANGES_SIZE 4096

/* The file's first bytes (the rest is zero). */
struct shared {
	uint64_t started, finished;
	int64_t paused_until; /* CLOCK_BOOTTIME, ns: nothing kept before */
};

struct changes {
	int fd;
	struct shared *sh;
	long pause_ms;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The file's size and blocks: 0, or -1 with errno. */
static int allocate(int fd, off_t size)
{
	int e = posix_fallocate(fd, 0, CHANGES_SIZE);
	if (e == EOPNOTSUPP || e == EINVAL) { /* a file system without it: zeros written */
		static const char zeros[CHANGES_SIZE];
		if (size >= CHANGES_SIZE)
			return 0;
		e = pwrite(fd, zeros + size, (size_t)(CHANGES_SIZE - size), size) == CHANGES_SIZE - size ? 0 : errno;
	}
	errno = e;
	return e ? -1 : 0;
}

struct changes *changes_open(const char *dir, long pause_ms, char *err, size_t errlen)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/changes", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	/* its blocks allocated now: a write to a mapped hole of a full file
	 * system would kill the process (SIGBUS) */
	if (fd < 0 || fstat(fd, &st) || allocate(fd, st.st_size)) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	void *p = mmap(NULL, CHANGES_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map '%s': %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct changes *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->sh = p;
	c->pause_ms = pause_ms;
	return c;
}

void changes_close(struct changes *c)
{
	if (!c)
		return;
	munmap(c->sh, CHANGES_SIZE);
	close(c->fd);
	free(c);
}

bool changes_local(const char *dir)
{
	/* file systems that other hosts may share (statfs(2) f_type) */
	static const unsigned long shared[] = {
		0x6969,     /* NFS */
		0x517b,     /* SMB */
		0xfe534d42, /* SMB2 */
		0xff534d42, /* CIFS */
		0x00c36400, /* Ceph */
		0x65735546, /* FUSE (GlusterFS, sshfs, ...) */
		0x01021997, /* 9p */
		0x5346414f, /* AFS */
		0x7461636f, /* OCFS2 */
		0x01161970, /* GFS2 */
		0x47504653, /* GPFS */
		0x0bd00bd0, /* Lustre */
	};
	struct statfs st;
	if (statfs(dir, &st))
		return false;
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		if ((unsigned long)st.f_type == shared[i])
			return false;
	return true;
}

void changes_begin(struct changes *c)
{
	/* held until changes_end: a lookup that gets the lock exclusively
	 * knows that no live process is between the two counts */
	while (flock(c->fd, LOCK_SH) && errno == EINTR)
		;
	__atomic_add_fetch(&c->sh->started, 1, __ATOMIC_SEQ_CST);
}

void changes_end(struct changes *c)
{
	__atomic_add_fetch(&c->sh->finished, 1, __ATOMIC_SEQ_CST);
	flock(c->fd, LOCK_UN);
}

/* The counters are unequal: when no live process holds the lock, one died
 * between its counts; they are made equal, and nothing is kept for a
 * while (its commit may still be finishing in the database). */
static void recover(struct changes *c)
{
	if (flock(c->fd, LOCK_EX | LOCK_NB))
		return; /* a change is being made */
	uint64_t s = __atomic_load_n(&c->sh->started, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->sh->finished, __ATOMIC_SEQ_CST) != s) {
		__atomic_store_n(&c->sh->paused_until, now_ns() + (int64_t)c->pause_ms * 1000000, __ATOMIC_SEQ_CST);
		__atomic_store_n(&c->sh->finished, s, __ATOMIC_SEQ_CST);
		log_warn("a process stopped while it committed a change to instances: no lookup is kept for %ld ms",
			 c->pause_ms);
	}
	flock(c->fd, LOCK_UN);
}

uint64_t changes_tag(struct changes *c)
{
	uint64_t s = __atomic_load_n(&c->sh->started, __ATOMIC_SEQ_CST);
	uint64_t f = __atomic_load_n(&c->sh->finished, __ATOMIC_SEQ_CST);
	if (s != f) {
		recover(c);
		return 0;
	}
	if (__atomic_load_n(&c->sh->paused_until, __ATOMIC_SEQ_CST) > now_ns())
		return 0;
	return s + 1;
}

bool changes_valid(struct changes *c, uint64_t tag)
{
	return tag && __atomic_load_n(&c->sh->started, __ATOMIC_SEQ_CST) + 1 == tag &&
	       __atomic_load_n(&c->sh->finished, __ATOMIC_SEQ_CST) + 1 == tag;
}
