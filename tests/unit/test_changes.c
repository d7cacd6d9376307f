/* Unit: the counts of changes to instances (store/changes.h) between
 * processes. A lookup's tag stays valid until another process counts a
 * change; nothing is kept while a live process is between its two counts;
 * a process killed between them turns keeping off for the pause, then it
 * comes back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/changes.h"

#define PAUSE_MS 300

static char dir[] = "/tmp/test_changes.XXXXXX";

static struct changes *open_changes(void)
{
	char err[256];
	struct changes *c = changes_open(dir, PAUSE_MS, err, sizeof(err));
	assert_non_null(c);
	return c;
}

/* A child process that counts one change: whole, or stopped (killed)
 * after the first count, or held between them until told to go on.
 * Returns its pid; go is written to let a held child finish. */
enum how { WHOLE, KILLED, HELD };
static pid_t child(enum how how, int go[2])
{
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct changes *c = open_changes();
		changes_begin(c);
		if (how == KILLED)
			raise(SIGKILL);
		if (how == HELD) {
			char b;
			assert_int_equal(write(ready[1], "r", 1), 1);
			assert_int_equal(read(go[0], &b, 1), 1);
		}
		changes_end(c);
		_exit(0);
	}
	if (how == HELD) {
		char b;
		assert_int_equal(read(ready[0], &b, 1), 1);
	}
	close(ready[0]);
	close(ready[1]);
	return pid;
}

static void reap(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void tag__valid_until_another_process_counts_a_change(void **state)
{
	(void)state;
	struct changes *c = open_changes();
	uint64_t tag = changes_tag(c);
	assert_true(tag != 0);
	assert_true(changes_valid(c, tag));
	assert_true(changes_valid(c, tag)); /* reading changes nothing */
	reap(child(WHOLE, NULL));
	assert_false(changes_valid(c, tag));
	uint64_t next = changes_tag(c);
	assert_true(next != 0 && next != tag);
	assert_true(changes_valid(c, next));
	assert_false(changes_valid(c, 0));
	changes_close(c);
}

static void tag__none_while_a_live_process_is_between_its_counts(void **state)
{
	(void)state;
	int go[2];
	assert_int_equal(pipe(go), 0);
	struct changes *c = open_changes();
	uint64_t before = changes_tag(c);
	pid_t pid = child(HELD, go);
	assert_int_equal(changes_tag(c), 0);
	assert_false(changes_valid(c, before));
	usleep(2 * PAUSE_MS * 1000); /* however long it takes: it is alive, holding the lock */
	assert_int_equal(changes_tag(c), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	reap(pid);
	uint64_t after = changes_tag(c);
	assert_true(after != 0 && after != before); /* no pause: it finished */
	close(go[0]);
	close(go[1]);
	changes_close(c);
}

static void tag__killed_between_counts_pauses_then_comes_back(void **state)
{
	(void)state;
	struct changes *c = open_changes();
	uint64_t before = changes_tag(c);
	reap(child(KILLED, NULL));
	assert_false(changes_valid(c, before));
	assert_int_equal(changes_tag(c), 0); /* made equal again, and paused */
	assert_int_equal(changes_tag(c), 0);
	usleep(PAUSE_MS * 1000 + 100000);
	uint64_t after = changes_tag(c);
	assert_true(after != 0 && after != before);
	assert_true(changes_valid(c, after));
	/* another process sees the same */
	struct changes *d = open_changes();
	assert_int_equal(changes_tag(d), after);
	changes_close(d);
	changes_close(c);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "%s/changes", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tag__valid_until_another_process_counts_a_change),
		cmocka_unit_test(tag__none_while_a_live_process_is_between_its_counts),
		cmocka_unit_test(tag__killed_between_counts_pauses_then_comes_back),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
