#include "common/isolate.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <linux/landlock.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <seccomp.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

/* AddressSanitizer reserves far more address space than it uses (gcc says
 * so with __SANITIZE_ADDRESS__, clang with __has_feature) */
#if defined(__SANITIZE_ADDRESS__)
#define NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_AS_LIMIT 1
#endif
#endif

enum io_way { IO_READ, IO_SEND };

/* Reads or sends (a socket: no SIGPIPE) exactly n bytes;
 * false on end of file or error. */
static bool io_full(int fd, void *buf, size_t n, enum io_way way)
{
	char *p = buf;
	while (n) {
		ssize_t r = way == IO_SEND ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static bool read_full(int fd, void *buf, size_t n)
{
	return io_full(fd, buf, n, IO_READ);
}

static bool send_full(int fd, const void *buf, size_t n)
{
	return io_full(fd, (void *)buf, n, IO_SEND);
}


/* Reads the child's pipe into got until its end or the deadline (seconds
 * and two more from now), which it returns. Past got's cap the rest is
 * drained and dropped (the work then fails on its own size). */
static uint64_t collect(int fd, int seconds, struct buf *got, bool *overflow)
{
	uint64_t deadline = util_now_ms() + (uint64_t)(seconds + 2) * 1000;
	char chunk[65536];

	for (;;) {
		uint64_t now = util_now_ms();
		if (now >= deadline)
			break;
		struct pollfd pf = { fd, POLLIN, 0 };
		int r = poll(&pf, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* end of file: the child has ended (or is ending) */
		if (buf_add(got, chunk, (size_t)n))
			*overflow = true;
	}
	return deadline;
}

/* A child's walls. Its descriptors: /dev/null on 0, stdout and stderr
 * kept (the log, where sanitizers report), its one channel to the parent
 * moved to 3, every other one closed: nothing of the responder's (the
 * FastCGI listening socket on 0, the request's connection, the database
 * connection) reaches code that decodes a client's file. Returns the
 * channel's new number. */
static int child_descriptors(int channel)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0); /* (dup2 clears close-on-exec on 0) */
		if (null != 0)
			close(null);
	}
	if (channel != 3 && dup2(channel, 3) < 0)
		_exit(125);
	if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0)
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
	return 3;
}

/* Its system calls: what decoding a file needs, and none of what would
 * let a compromised decoder reach further (the network, other programs,
 * other processes, and unless may_write, the file system). */
static void set_filter(bool may_write)
{
	static const int denied[] = {
		SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept),
		SCMP_SYS(accept4), SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
		SCMP_SYS(process_vm_writev), SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(kill), SCMP_SYS(setuid),
		SCMP_SYS(setgid), SCMP_SYS(mount), SCMP_SYS(chroot), SCMP_SYS(pivot_root), SCMP_SYS(unshare),
		SCMP_SYS(setns), SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(keyctl), SCMP_SYS(add_key),
	};
	static const int changes[] = {
		SCMP_SYS(creat), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat),
		SCMP_SYS(renameat2), SCMP_SYS(truncate), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
		SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat), SCMP_SYS(chmod),
		SCMP_SYS(fchmodat), SCMP_SYS(chown), SCMP_SYS(fchownat), SCMP_SYS(utimensat),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = ctx ? 0 : -1;

	for (size_t i = 0; !rc && i < sizeof(denied) / sizeof(denied[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, denied[i], 0);
	for (size_t i = 0; !rc && !may_write && i < sizeof(changes) / sizeof(changes[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, changes[i], 0);
	/* opening for writing, or creating */
	static const int opens[] = { SCMP_SYS(open), SCMP_SYS(openat) };
	static const unsigned long wflags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC };
	for (size_t i = 0; !rc && !may_write && i < 2; i++)
		for (size_t k = 0; !rc && k < sizeof(wflags) / sizeof(wflags[0]); k++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, opens[i], 1,
					      i ? SCMP_A2(SCMP_CMP_MASKED_EQ, wflags[k], wflags[k])
						: SCMP_A1(SCMP_CMP_MASKED_EQ, wflags[k], wflags[k]));
	if (!rc)
		rc = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	if (rc)
		_exit(125); /* no filter, no work */
}

/* ---- Landlock: what a child may open --------------------------------------- */

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE /* Linux 6.2 (ABI 3); Debian 12's headers are 6.1's */
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE)
#define FS_ALL (FS_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                   \
		LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                \
		LANDLOCK_ACCESS_FS_MAKE_SYM)

static long landlock_abi(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

int isolate_confines_files(void)
{
	return landlock_abi() >= 1;
}

/* One rule: access to path (and below it, for a directory). */
static void allow(int ruleset, const char *path, unsigned long long access, unsigned long long handled)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= FS_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	struct landlock_path_beneath_attr pb = { .allowed_access = access & handled, .parent_fd = fd };
	syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
}

/* In the child, before the system call filter: from here on it opens only
 * what paths lists, /usr, /dev/null and its own /proc entries. A kernel without Landlock leaves
 * the filter alone to hold; one that refuses the rules ends the child. */
static void set_paths(const struct isolate_paths *paths)
{
	long abi = landlock_abi();
	if (abi < 1)
		return;
	unsigned long long handled = FS_ALL;
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	struct landlock_ruleset_attr ra = { .handled_access_fs = handled };
	int rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rs < 0)
		_exit(125);
	unsigned long long rd = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	unsigned long long rw = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	allow(rs, "/usr", rd | LANDLOCK_ACCESS_FS_EXECUTE, handled);
	allow(rs, "/dev/null", rw, handled);
	/* its own /proc entries (the process it is now, not the parent's):
	 * libraries read their own maps */
	allow(rs, "/proc/self", rd, handled);
	for (size_t i = 0; paths && i < sizeof(paths->read) / sizeof(paths->read[0]) && paths->read[i]; i++)
		allow(rs, paths->read[i], rd, handled);
	for (size_t i = 0; paths && i < sizeof(paths->write) / sizeof(paths->write[0]) && paths->write[i]; i++)
		allow(rs, paths->write[i], rw, handled);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, rs, 0))
		_exit(125);
	close(rs);
}

/* Its limits: no core files, ISOLATE_FILES descriptors, files written up
 * to fsize bytes, mem_bytes of address space (not in sanitizer builds),
 * and seconds of CPU when seconds > 0. */
static void set_limits(int seconds, size_t mem_bytes, unsigned long long fsize)
{
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	setrlimit(RLIMIT_NOFILE, &(struct rlimit){ ISOLATE_FILES, ISOLATE_FILES });
	setrlimit(RLIMIT_FSIZE, &(struct rlimit){ (rlim_t)fsize, (rlim_t)fsize });
	if (seconds > 0)
		setrlimit(RLIMIT_CPU, &(struct rlimit){ (rlim_t)seconds, (rlim_t)seconds + 1 });
#ifndef NO_AS_LIMIT
	if (mem_bytes)
		setrlimit(RLIMIT_AS, &(struct rlimit){ (rlim_t)mem_bytes, (rlim_t)mem_bytes });
#else
	(void)mem_bytes;
#endif
	signal(SIGALRM, SIG_DFL);
}

/* In the child: the work, then its result (or reason) down the pipe. */
__attribute__((noreturn)) static void run_child(isolate_fn fn, void *arg, int seconds, size_t mem_bytes, unsigned flags,
						const struct isolate_paths *paths, int fd)
{
	char why[512] = "";
	struct buf result;

	fd = child_descriptors(fd);
	set_limits(seconds, mem_bytes, ISOLATE_WRITE_BYTES);
	alarm((unsigned)seconds + 1);
	set_paths(paths);
	set_filter(flags & ISOLATE_MAY_WRITE);
	buf_init(&result, 0);
	int rc = fn(arg, &result, why, sizeof(why));
	/* the result on success, else the reason: the exit code says which */
	if (rc == 0 ? !util_write_full(fd, result.data, result.len) : *why && !util_write_full(fd, why, strlen(why)))
		rc = 125;
	_exit(rc < 0 || rc > 125 ? 125 : rc);
}

/* A child that died of a signal: the reason into err, logged. A SIGKILL
 * was not its own doing (its CPU limit ends it with SIGXCPU; a child its
 * parent kills for its time is told apart before this): it came from
 * outside, the system's out-of-memory killer or an operator. */
static int died_of(int status, char *err, size_t errlen)
{
	snprintf(err, errlen, "the decoder failed (signal %d)", WTERMSIG(status));
	log_warn("isolated work died signal=%d", WTERMSIG(status));
	return WTERMSIG(status) == SIGKILL ? ISOLATE_KILLED : ISOLATE_DIED;
}

/* Waits for the child (killing it past the deadline): its exit code, or
 * ISOLATE_DIED or ISOLATE_KILLED with what happened in err. */
static int reap(pid_t pid, uint64_t deadline, int seconds, char *err, size_t errlen)
{
	int status = 0;
	pid_t w;

	/* the pipe's end comes as the child exits (its work never closes the
	 * pipe), so waiting is brief; and a child that stalls after all is
	 * ended by its own alarm, so the wait is bounded either way */
	if (util_now_ms() < deadline) {
		while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
	} else {
		w = waitpid(pid, &status, WNOHANG);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "the work ran out of time");
		log_warn("isolated work killed after %d s", seconds);
		return ISOLATE_DIED;
	}
	if (WIFSIGNALED(status))
		return died_of(status, err, errlen);
	return WIFEXITED(status) ? WEXITSTATUS(status) : ISOLATE_DIED;
}

int isolate_run(isolate_fn fn, void *arg, int seconds, size_t mem_bytes, unsigned flags,
		const struct isolate_paths *paths, struct buf *out, char *err, size_t errlen)
{
	int p[2];
	pid_t pid;

	if (errlen)
		err[0] = '\0';
	if (pipe(p)) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return ISOLATE_NOT_STARTED;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		return ISOLATE_NOT_STARTED;
	}
	if (pid == 0) {
		close(p[0]);
		run_child(fn, arg, seconds, mem_bytes, flags, paths, p[1]);
	}
	close(p[1]);

	/* the child's result or reason, then its end; within the time allowed */
	struct buf got;
	bool overflow = false;
	buf_init(&got, ISOLATE_MAX_OUTPUT);
	uint64_t deadline = collect(p[0], seconds, &got, &overflow);
	close(p[0]);
	int rc = reap(pid, deadline, seconds, err, errlen);
	if (rc == 0 && overflow) {
		snprintf(err, errlen, "the result is larger than %llu bytes", ISOLATE_MAX_OUTPUT);
		rc = ISOLATE_DIED;
	} else if (rc == 0 && out) {
		buf_add(out, got.data, got.len);
	} else if (rc > 0 && errlen) {
		snprintf(err, errlen, "%.*s", (int)(got.len < errlen ? got.len : errlen - 1), buf_str(&got));
	}
	buf_release(&got);
	return rc;
}

/* ---- a kept worker ------------------------------------------------------- */

#define WORKER_KEPT_MEMORY (64 * 1024 * 1024)

/* Room for one descriptor's control message. */
union one_fd {
	struct cmsghdr head;
	char room[CMSG_SPACE(sizeof(int))];
};

/* A request's head: its length, with fd (SCM_RIGHTS) when fd >= 0. */
static bool send_head(int sock, uint32_t len, int fd)
{
	struct iovec iov = { &len, sizeof(len) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	union one_fd c;
	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.room;
		m.msg_controllen = sizeof(c.room);
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof(int));
	}
	ssize_t r;
	while ((r = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	/* the descriptor went with the first byte; the rest of a short send */
	return r > 0 && (r == sizeof(len) || send_full(sock, (char *)&len + r, sizeof(len) - (size_t)r));
}

/* In the child: a request's head, and the descriptor that came with it
 * (-1 when none). */
static bool recv_head(int sock, uint32_t *len, int *fd)
{
	struct iovec iov = { len, sizeof(*len) };
	union one_fd c;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.room, .msg_controllen = sizeof(c.room) };
	ssize_t r;
	*fd = -1;
	while ((r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return false;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(h), sizeof(int));
	return r == sizeof(*len) || read_full(sock, (char *)len + r, sizeof(*len) - (size_t)r);
}

/* A result's length with this bit: in the room, not on the socket. */
#define IN_ROOM 0x80000000u

/* The child's loop: [length u32, maybe a descriptor][arg] in, [code u8]
 * [length u32][result, or the reason] out; a result that fits the room
 * goes there instead, its length marked IN_ROOM and nothing after it. */
static void worker_loop(struct isolate_worker *w, int fd)
{
	struct buf result;
	buf_init(&result, 0);
	for (;;) {
		uint32_t len;
		int file;
		char arg[4096], why[256] = "";
		if (!recv_head(fd, &len, &file) || len >= sizeof(arg) || !read_full(fd, arg, len))
			_exit(0);
		arg[len] = '\0';
		buf_reset(&result);
		int rc = w->fn(arg, file, &result, why, sizeof(why));
		if (file >= 0)
			close(file);
		unsigned char code = (unsigned char)(rc < 0 || rc > 125 ? 125 : rc);
		const char *p = code ? why : result.data;
		uint32_t n = (uint32_t)(code ? strlen(why) : result.len), mark = n;
		if (!code && w->room && n <= ISOLATE_ROOM) {
			memcpy(w->room, p, n);
			mark = n | IN_ROOM;
			n = 0;
		}
		if (!send_full(fd, &code, 1) || !send_full(fd, &mark, sizeof(mark)) || (n && !send_full(fd, p, n)))
			_exit(0);
	}
}

/* A new child's room: anonymous shared memory that only the two mappings
 * hold (its descriptor closed before the fork, so the child cannot shrink
 * it under the parent), and only this child's (MADV_DONTFORK after its
 * fork); NULL, and results over the socket, when the kernel gives none. */
static unsigned char *room_new(void)
{
	int fd = memfd_create("isolate-room", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *p = ftruncate(fd, ISOLATE_ROOM) ? MAP_FAILED
					       : mmap(NULL, ISOLATE_ROOM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void room_free(struct isolate_worker *w)
{
	if (w->room)
		munmap(w->room, ISOLATE_ROOM);
	w->room = NULL;
}

static int worker_end(struct isolate_worker *w, bool kill_it);

static int worker_start(struct isolate_worker *w, char *err, size_t errlen)
{
	int sv[2];
	w->lost = true; /* until the child runs */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "cannot create a socket pair: %s", strerror(errno));
		return -1;
	}
	w->room = room_new();
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		room_free(w);
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = child_descriptors(sv[1]);
		set_limits(0, w->mem_bytes, ISOLATE_WRITE_BYTES);
		/* memory freed by one request stays for the next (up to
		 * WORKER_KEPT_MEMORY), not given back and faulted in again: a
		 * decoded 512 x 512 frame and its copies are past glibc's
		 * default thresholds, and their page faults and heap trims
		 * were a fifth of a compressed rendering's time */
		mallopt(M_MMAP_THRESHOLD, WORKER_KEPT_MEMORY / 2);
		mallopt(M_TRIM_THRESHOLD, WORKER_KEPT_MEMORY);
		signal(SIGPIPE, SIG_DFL);
		set_paths(&w->paths);
		set_filter(false);
		worker_loop(w, fd);
		_exit(0);
	}
	close(sv[1]);
	w->fd = sv[0];
	w->pid = pid;
	w->served = 0;
	w->lost = false;
	/* the room is this child's alone: no later child (another worker's,
	 * a one-off) inherits it, to read or change another's result */
	if (w->room && madvise(w->room, ISOLATE_ROOM, MADV_DONTFORK)) {
		snprintf(err, errlen, "cannot keep the result room to one child: %s", strerror(errno));
		worker_end(w, true);
		return -1;
	}
	return 0;
}

/* Ends the child: SIGKILL when kill is set, else the end of its input. */
static int worker_end(struct isolate_worker *w, bool kill_it)
{
	int status = 0;
	if (w->fd < 0)
		return 0;
	close(w->fd);
	w->fd = -1;
	if (kill_it) {
		kill((pid_t)w->pid, SIGKILL);
		w->lost = true;
	}
	while (waitpid((pid_t)w->pid, &status, 0) < 0 && errno == EINTR)
		;
	w->pid = 0;
	room_free(w);
	return status;
}

void isolate_worker_stop(struct isolate_worker *w)
{
	worker_end(w, false);
}

/* What came back for a request: [code u8][length u32][payload]; the
 * result into out (code 0), the reason into err (else). Returns the code,
 * or ISOLATE_DIED with the worker ended. */
static int worker_answer(struct isolate_worker *w, struct buf *out, char *err, size_t errlen)
{
	unsigned char code;
	uint32_t n;

	if (!read_full(w->fd, &code, 1)) {
		int status = worker_end(w, true);
		if (WIFSIGNALED(status))
			return died_of(status, err, errlen);
		snprintf(err, errlen, "the worker ended");
		return ISOLATE_DIED;
	}
	if (!read_full(w->fd, &n, sizeof(n)) || (n & ~IN_ROOM) > ISOLATE_MAX_OUTPUT ||
	    ((n & IN_ROOM) && (code || !w->room || (n & ~IN_ROOM) > ISOLATE_ROOM))) {
		worker_end(w, true);
		snprintf(err, errlen, "the worker ended");
		return ISOLATE_DIED;
	}
	if (n & IN_ROOM) { /* (bytes the child may still change: read as any result) */
		if (out && buf_add(out, w->room, n & ~IN_ROOM)) {
			worker_end(w, true);
			snprintf(err, errlen, "the result is too large");
			return ISOLATE_DIED;
		}
		return 0;
	}
	/* a result goes straight to out, a reason to got */
	struct buf got, *into = code == 0 && out ? out : &got;
	size_t had = into->len;
	char chunk[65536];
	buf_init(&got, 0);
	for (uint32_t left = n; left;) {
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);
		if (!read_full(w->fd, chunk, k) || buf_add(into, chunk, k)) {
			if (into == out && out->data) /* out as it was */
				out->data[out->len = had] = '\0';
			buf_release(&got);
			worker_end(w, true);
			snprintf(err, errlen, "the worker ended");
			return ISOLATE_DIED;
		}
		left -= (uint32_t)k;
	}
	if (code && errlen)
		snprintf(err, errlen, "%.*s", (int)(n < errlen ? n : errlen - 1), n ? got.data : "");
	buf_release(&got);
	return code;
}

bool isolate_worker_due(const struct isolate_worker *w)
{
	return w->fd >= 0 ? w->served >= ISOLATE_WORKER_REQUESTS : w->lost;
}

int isolate_worker_renew(struct isolate_worker *w, char *err, size_t errlen)
{
	if (!isolate_worker_due(w))
		return 0;
	worker_end(w, false);
	return worker_start(w, err, errlen) ? ISOLATE_NOT_STARTED : 1;
}

int isolate_worker_run(struct isolate_worker *w, const char *arg, int fd, int seconds, struct buf *out, char *err,
		       size_t errlen)
{
	size_t len = strlen(arg);
	if (errlen)
		err[0] = '\0';
	if (len >= 4096) {
		snprintf(err, errlen, "the argument is too long");
		return ISOLATE_NOT_STARTED;
	}
	if (w->fd >= 0 && w->served >= ISOLATE_WORKER_REQUESTS)
		worker_end(w, false);
	if (w->fd < 0 && worker_start(w, err, errlen))
		return ISOLATE_NOT_STARTED;
	uint32_t l32 = (uint32_t)len;
	if (!send_head(w->fd, l32, fd) || !send_full(w->fd, arg, len)) {
		/* the child went since the last request: once more with a new one */
		worker_end(w, true);
		if (worker_start(w, err, errlen))
			return ISOLATE_NOT_STARTED;
		if (!send_head(w->fd, l32, fd) || !send_full(w->fd, arg, len)) {
			worker_end(w, true);
			snprintf(err, errlen, "the worker does not take requests");
			return ISOLATE_DIED;
		}
	}
	w->served++;
	struct pollfd pf = { w->fd, POLLIN, 0 };
	int r;
	while ((r = poll(&pf, 1, seconds * 1000)) < 0 && errno == EINTR)
		;
	if (r == 0) {
		worker_end(w, true);
		snprintf(err, errlen, "the work ran out of time");
		log_warn("isolated work killed after %d s", seconds);
		return ISOLATE_DIED;
	}
	return worker_answer(w, out, err, errlen);
}
