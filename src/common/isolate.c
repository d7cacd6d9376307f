#include "common/isolate.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_AS_LIMIT 1 /* AddressSanitizer reserves far more address space than it uses */
#endif

int isolate_run(isolate_fn fn, void *arg, int seconds, size_t mem_bytes, char *err, size_t errlen)
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
		char why[512] = "";
		struct rlimit cpu = { (rlim_t)seconds, (rlim_t)seconds + 1 };
		close(p[0]);
		setrlimit(RLIMIT_CPU, &cpu);
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
#ifndef NO_AS_LIMIT
		if (mem_bytes) {
			struct rlimit as = { (rlim_t)mem_bytes, (rlim_t)mem_bytes };
			setrlimit(RLIMIT_AS, &as);
		}
#else
		(void)mem_bytes;
#endif
		signal(SIGALRM, SIG_DFL);
		alarm((unsigned)seconds + 1);
		int rc = fn(arg, why, sizeof(why));
		if (rc && *why) {
			ssize_t w = write(p[1], why, strlen(why));
			(void)w;
		}
		_exit(rc < 0 || rc > 125 ? 125 : rc);
	}
	close(p[1]);

	/* the child's reason, then its end; both within the time allowed */
	size_t got = 0;
	uint64_t deadline = util_now_ms() + (uint64_t)(seconds + 2) * 1000;
	for (;;) {
		uint64_t now = util_now_ms();
		if (now >= deadline)
			break;
		struct pollfd pf = { p[0], POLLIN, 0 };
		int r = poll(&pf, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(p[0], err + got, got + 1 < errlen ? errlen - got - 1 : 0);
		if (n <= 0)
			break; /* end of file: the child has ended (or is ending) */
		got += (size_t)n;
	}
	if (errlen)
		err[got < errlen ? got : errlen - 1] = '\0';
	close(p[0]);

	int status = 0;
	pid_t w;
	/* the pipe's end comes a moment before the child can be reaped: short
	 * naps first (a fixed 5 ms nap cost every isolated request 5 ms) */
	long nap_ns = 20 * 1000;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && util_now_ms() < deadline) {
		struct timespec ts = { 0, nap_ns };
		nanosleep(&ts, NULL);
		if (nap_ns < 5 * 1000 * 1000)
			nap_ns *= 2;
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "the work ran out of time");
		log_warn("isolated work killed after %d s", seconds);
		return ISOLATE_DIED;
	}
	if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "the decoder failed (signal %d)", WTERMSIG(status));
		log_warn("isolated work died signal=%d", WTERMSIG(status));
		return ISOLATE_DIED;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : ISOLATE_DIED;
}
