/* Unit: what an isolated child holds. A one-shot child and a kept worker
 * list their own descriptors from /proc/self/fd while the parent holds a
 * listening socket and an open file, as a responder holds the FastCGI
 * socket and its database connection: the child has /dev/null on 0, its
 * channel to the parent on 3, stdout and stderr, and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/isolate.h"

/* "fd=target;" for each open descriptor but the directory's own */
static void list_fds(struct buf *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], target[256];
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		buf_addf(out, "%s=%s;", e->d_name, target);
	}
	closedir(d);
}

static int fds_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	(void)arg;
	list_fds(out);
	return 0;
}

static int fds_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	struct buf b;
	buf_init(&b, 0);
	list_fds(&b);
	snprintf(err, errlen, "%s", buf_str(&b));
	buf_release(&b);
	return 1;
}

/* Only 0 (/dev/null), 1, 2 and 3 (of kind channel: "pipe:" or "socket:"). */
static void only_own(const char *list, const char *channel)
{
	char *copy = strdup(list), *save = NULL;
	int seen3 = 0;
	for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
		int fd = atoi(item);
		const char *target = strchr(item, '=') + 1;
		if (fd > 3)
			fail_msg("the child holds descriptor %s", item);
		if (fd == 0)
			assert_string_equal(target, "/dev/null");
		if (fd == 3) {
			assert_int_equal(strncmp(target, channel, strlen(channel)), 0);
			seen3 = 1;
		}
	}
	assert_true(seen3);
	free(copy);
}

static int parent_fds[2];

static int setup(void **state)
{
	/* what a responder holds: a listening socket (FastCGI's, on 0 under
	 * spawn-fcgi) and a connection or file */
	parent_fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(parent_fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(parent_fds[0], 1), 0);
	parent_fds[1] = open("/proc/self/status", O_RDONLY);
	assert_true(parent_fds[1] > 2);
	return 0;
}

static int teardown(void **state)
{
	close(parent_fds[0]);
	close(parent_fds[1]);
	return 0;
}

static void run__child_holds_only_its_own(void **state)
{
	struct buf out;
	char err[256];
	buf_init(&out, 0);
	assert_int_equal(isolate_run(fds_in_child, NULL, 10, 0, 0, NULL, &out, err, sizeof(err)), 0);
	only_own(buf_str(&out), "pipe:");
	buf_release(&out);
}

static void worker__kept_child_holds_only_its_own(void **state)
{
	struct isolate_worker w = ISOLATE_WORKER_INIT(fds_in_worker, 0);
	char err[256];
	assert_int_equal(isolate_worker_run(&w, "x", -1, 10, NULL, err, sizeof(err)), 1);
	only_own(err, "socket:");
	isolate_worker_stop(&w);
}

static int open_many(void *arg, struct buf *out, char *err, size_t errlen)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		if (open("/dev/null", O_RDONLY) < 0) {
			snprintf(err, errlen, "open %d refused", i);
			return 7;
		}
	return 0;
}

static void run__descriptor_limit(void **state)
{
	char err[256];
	assert_int_equal(isolate_run(open_many, NULL, 10, 0, 0, NULL, NULL, err, sizeof(err)), 7);
}

static int make_socket(void *arg, struct buf *out, char *err, size_t errlen)
{
	(void)arg;
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 9;
}

static int open_for_writing(void *arg, struct buf *out, char *err, size_t errlen)
{
	int fd = open((const char *)arg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 9;
	close(fd);
	return 0;
}

static int run_program(void *arg, struct buf *out, char *err, size_t errlen)
{
	char *const argv[] = { "/bin/true", NULL };
	execv(argv[0], argv);
	return 9;
}

/* A decoder that a file has taken over cannot reach the network, run a
 * program, or (unless its work writes a file) write anywhere: the child
 * is killed at the attempt. */
static int raise_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	(void)out;
	(void)err;
	(void)errlen;
	raise((int)(intptr_t)arg);
	return 0;
}

static void run__filter_kills_what_decoding_never_does(void **state)
{
	char err[256], path[] = "/tmp/ade-isolate-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(isolate_run(make_socket, NULL, 10, 0, 0, NULL, NULL, err, sizeof(err)), ISOLATE_DIED);
	assert_non_null(strstr(err, "signal 31"));
	assert_int_equal(isolate_run(run_program, NULL, 10, 0, ISOLATE_MAY_WRITE, NULL, NULL, err, sizeof(err)), ISOLATE_DIED);
	/* a crash is the work's; a SIGKILL from outside is not */
	assert_int_equal(isolate_run(raise_in_child, (void *)(intptr_t)SIGABRT, 10, 0, 0, NULL, NULL, err, sizeof(err)),
			 ISOLATE_DIED);
	assert_int_equal(isolate_run(raise_in_child, (void *)(intptr_t)SIGKILL, 10, 0, 0, NULL, NULL, err, sizeof(err)),
			 ISOLATE_KILLED);
	struct isolate_paths own = { { NULL }, { path, NULL } };
	assert_int_equal(isolate_run(open_for_writing, path, 10, 0, 0, &own, NULL, err, sizeof(err)), ISOLATE_DIED);
	assert_int_equal(isolate_run(open_for_writing, path, 10, 0, ISOLATE_MAY_WRITE, &own, NULL, err, sizeof(err)), 0);
	unlink(path);
}

/* arg bytes of a pattern back; "fail" fails with a reason */
static int echo_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	if (!strcmp(arg, "fail")) {
		snprintf(err, errlen, "asked to fail");
		return 7;
	}
	long n = atol(arg);
	for (long i = 0; i < n; i++)
		buf_addch(out, (char)('a' + i % 26));
	return 0;
}

static void worker__results_come_back_whole(void **state)
{
	struct isolate_worker w = ISOLATE_WORKER_INIT(echo_in_worker, 0);
	char err[256];
	/* through the room (up to ISOLATE_ROOM) and over the socket */
	const char *sizes[] = { "0", "1", "70000", "4194304", "4194305", "6000000", "5" };
	for (size_t k = 0; k < 7; k++) {
		struct buf out;
		buf_init(&out, 0);
		assert_int_equal(isolate_worker_run(&w, sizes[k], -1, 10, &out, err, sizeof(err)), 0);
		assert_int_equal(out.len, atol(sizes[k]));
		for (size_t i = 0; i < out.len; i++)
			if (out.data[i] != (char)('a' + i % 26))
				fail_msg("byte %zu of %s differs", i, sizes[k]);
		buf_release(&out);
	}
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(isolate_worker_run(&w, "fail", -1, 10, &out, err, sizeof(err)), 7);
	assert_string_equal(err, "asked to fail");
	assert_int_equal(out.len, 0);
	buf_release(&out);
	/* one child served them all */
	assert_int_equal(w.served, 8);
	assert_non_null(w.room);
	isolate_worker_stop(&w);
	assert_null(w.room);
}

/* How many result rooms the process has mapped, as text. */
static void count_rooms(struct buf *out)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, "isolate-room") != NULL;
	if (f)
		fclose(f);
	buf_addf(out, "%d", n);
}

static int rooms_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	count_rooms(out);
	return 0;
}

static int rooms_in_child(void *arg, struct buf *out, char *err, size_t errlen)
{
	count_rooms(out);
	return 0;
}

/* A worker's room is its child's and its parent's only: another worker's
 * child, or a one-off child, started while it lives does not have it. */
static void worker__room_is_its_own(void **state)
{
	struct isolate_worker a = ISOLATE_WORKER_INIT(rooms_in_worker, 0), b = ISOLATE_WORKER_INIT(rooms_in_worker, 0);
	char err[256];
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(isolate_worker_run(&a, "", -1, 10, &out, err, sizeof(err)), 0);
	assert_string_equal(out.data, "1");
	buf_reset(&out);
	assert_int_equal(isolate_worker_run(&b, "", -1, 10, &out, err, sizeof(err)), 0);
	assert_string_equal(out.data, "1");
	buf_reset(&out);
	assert_int_equal(isolate_run(rooms_in_child, NULL, 10, 0, 0, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out.data, "0");
	buf_release(&out);
	isolate_worker_stop(&a);
	isolate_worker_stop(&b);
}

static int socket_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 9;
}

static int read_one(void *arg, struct buf *out, char *err, size_t errlen)
{
	int fd = open((const char *)arg, O_RDONLY);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return 9;
	}
	close(fd);
	return 0;
}

static int read_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	(void)fd;
	return read_one((void *)arg, out, err, errlen);
}

/* A decoder opens only the file it was given (and /usr): not another
 * stored file, not /etc, not /proc; a kept worker only its directory. */
static void run__opens_only_its_files(void **state)
{
	char err[256], dir[] = "/tmp/ade-isolate-dir-XXXXXX", mine[4200], other[4200];
	if (!isolate_confines_files())
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(mine, sizeof(mine), "%s/mine", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	for (int i = 0; i < 2; i++) {
		int fd = open(i ? other : mine, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	struct isolate_paths own = { { mine, NULL }, { NULL } };
	assert_int_equal(isolate_run(read_one, mine, 10, 0, 0, &own, NULL, err, sizeof(err)), 0);
	assert_int_equal(isolate_run(read_one, other, 10, 0, 0, &own, NULL, err, sizeof(err)), 9);
	assert_string_equal(err, "Permission denied");
	assert_int_equal(isolate_run(read_one, "/etc/hostname", 10, 0, 0, &own, NULL, err, sizeof(err)), 9);
	assert_int_equal(isolate_run(read_one, "/proc/1/status", 10, 0, 0, &own, NULL, err, sizeof(err)), 9);
	assert_int_equal(isolate_run(read_one, "/usr/share/dict", 10, 0, 0, &own, NULL, err, sizeof(err)) == 9 &&
				 !strcmp(err, "Permission denied"),
			 0);
	/* the kept worker: its directory only */
	struct isolate_worker w = ISOLATE_WORKER_INIT(read_in_worker, 0);
	w.paths.read[0] = dir;
	assert_int_equal(isolate_worker_run(&w, other, -1, 10, NULL, err, sizeof(err)), 0);
	assert_int_equal(isolate_worker_run(&w, "/etc/hostname", -1, 10, NULL, err, sizeof(err)), 9);
	isolate_worker_stop(&w);
	unlink(mine);
	unlink(other);
	rmdir(dir);
}

/* A kept worker that may open nothing of the store reads the file whose
 * descriptor comes with a request, and holds it no longer than that
 * request: the next request's worker holds only its own descriptors. */
static int passed_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	if (!strcmp(arg, "list")) {
		list_fds(out);
		return fd < 0 ? 0 : 8;
	}
	char b[64];
	ssize_t n = fd < 0 ? -1 : pread(fd, b, sizeof(b), 0);
	if (n < 0)
		return 9;
	buf_add(out, b, (size_t)n);
	/* and the path itself stays closed to it */
	return read_one((void *)arg, NULL, err, errlen) == 9 ? 0 : 10;
}

static void worker__reads_the_descriptor_it_is_given(void **state)
{
	char err[256], dir[] = "/tmp/ade-isolate-fd-XXXXXX", file[4200];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/stored", dir);
	int fd = open(file, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "DICM and more", 13), 13);
	struct isolate_worker w = ISOLATE_WORKER_INIT(passed_in_worker, 0);
	struct buf out;
	buf_init(&out, 0);
	int want = isolate_confines_files() ? 0 : 10;
	assert_int_equal(isolate_worker_run(&w, file, fd, 10, &out, err, sizeof(err)), want);
	if (!want)
		assert_string_equal(buf_str(&out), "DICM and more");
	buf_reset(&out);
	assert_int_equal(isolate_worker_run(&w, "list", -1, 10, &out, err, sizeof(err)), 0);
	only_own(buf_str(&out), "socket:");
	assert_int_equal(w.served, 2);
	buf_release(&out);
	isolate_worker_stop(&w);
	close(fd);
	unlink(file);
	rmdir(dir);
}

static void worker__filter_kills_socket(void **state)
{
	struct isolate_worker w = ISOLATE_WORKER_INIT(socket_in_worker, 0);
	char err[256];
	assert_int_equal(isolate_worker_run(&w, "x", -1, 10, NULL, err, sizeof(err)), ISOLATE_DIED);
	assert_non_null(strstr(err, "signal 31"));
	isolate_worker_stop(&w);
}

static int dies_in_worker(const char *arg, int fd, struct buf *out, char *err, size_t errlen)
{
	(void)fd;
	(void)out;
	(void)err;
	(void)errlen;
	if (!strcmp(arg, "crash"))
		raise(SIGABRT);
	if (!strcmp(arg, "killed"))
		raise(SIGKILL); /* as the out-of-memory killer would */
	return 0;
}

/* A child lost in a request, or one that has served its requests, is
 * replaced between requests (isolate_worker_renew); one never started or
 * stopped on purpose is left alone. A crash is ISOLATE_DIED, a SIGKILL
 * from outside ISOLATE_KILLED. */
static void worker__renewed_between_requests(void **state)
{
	struct isolate_worker w = ISOLATE_WORKER_INIT(dies_in_worker, 0);
	char err[256];
	(void)state;
	assert_false(isolate_worker_due(&w));
	assert_int_equal(isolate_worker_renew(&w, err, sizeof(err)), 0);
	assert_int_equal(w.fd, -1);

	assert_int_equal(isolate_worker_run(&w, "ok", -1, 10, NULL, err, sizeof(err)), 0);
	long first = w.pid;
	assert_false(isolate_worker_due(&w));
	assert_int_equal(isolate_worker_run(&w, "crash", -1, 10, NULL, err, sizeof(err)), ISOLATE_DIED);
	assert_int_equal(w.fd, -1);
	assert_true(isolate_worker_due(&w));
	assert_int_equal(isolate_worker_renew(&w, err, sizeof(err)), 1);
	/* a SIGKILL it did not send is not the work's doing */
	assert_int_equal(isolate_worker_run(&w, "killed", -1, 10, NULL, err, sizeof(err)), ISOLATE_KILLED);
	assert_int_equal(w.fd, -1);
	assert_true(isolate_worker_due(&w));
	assert_int_equal(isolate_worker_renew(&w, err, sizeof(err)), 1);
	assert_true(w.fd >= 0);
	assert_true(w.pid != first && kill((pid_t)w.pid, 0) == 0);
	assert_int_equal(w.served, 0);
	assert_false(isolate_worker_due(&w));
	assert_int_equal(isolate_worker_renew(&w, err, sizeof(err)), 0);

	long second = w.pid;
	for (unsigned i = 0; i < ISOLATE_WORKER_REQUESTS; i++)
		assert_int_equal(isolate_worker_run(&w, "ok", -1, 10, NULL, err, sizeof(err)), 0);
	assert_int_equal(w.pid, second);
	assert_true(isolate_worker_due(&w));
	assert_int_equal(isolate_worker_renew(&w, err, sizeof(err)), 1);
	assert_true(w.pid != second);
	assert_int_equal(kill((pid_t)second, 0), -1); /* ended and reaped */
	assert_int_equal(isolate_worker_run(&w, "ok", -1, 10, NULL, err, sizeof(err)), 0);
	assert_int_equal(w.served, 1);

	isolate_worker_stop(&w);
	assert_false(isolate_worker_due(&w));
	assert_int_equal(isolate_worker_renew(&w, err, sizeof(err)), 0);
	assert_int_equal(w.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run__child_holds_only_its_own),
		cmocka_unit_test(worker__kept_child_holds_only_its_own),
		cmocka_unit_test(run__descriptor_limit),
		cmocka_unit_test(run__filter_kills_what_decoding_never_does),
		cmocka_unit_test(worker__filter_kills_socket),
		cmocka_unit_test(worker__results_come_back_whole),
		cmocka_unit_test(worker__room_is_its_own),
		cmocka_unit_test(run__opens_only_its_files),
		cmocka_unit_test(worker__reads_the_descriptor_it_is_given),
		cmocka_unit_test(worker__renewed_between_requests),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
