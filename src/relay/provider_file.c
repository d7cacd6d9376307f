/* JSON Lines: one event per line, fsynced before the delivery is recorded
 * (once for the lines of a claimed batch).
 * Several relays may append to one file (relays on several hosts, one
 * shared path): a line goes in one write, so lines never interleave. */
#include "relay/provider.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/banned.h"

struct file_state {
	int fd;
};

static int open_file(struct subscription *s, char *err, size_t errlen)
{
	struct file_state *st = xcalloc(1, sizeof(*st));
	st->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (st->fd < 0) {
		snprintf(err, errlen, "[subscription:%s] path: cannot open '%s': %s", s->name, s->path, strerror(errno));
		free(st);
		return -1;
	}
	s->state = st;
	return 0;
}

/* The line and its newline in one write (O_APPEND: at the end, whole);
 * the rest of a short write after it. */
static bool write_line(int fd, const char *p, size_t n)
{
	struct iovec iov[2] = { { (void *)p, n }, { (void *)"\n", 1 } };
	return util_writev_full(fd, iov, 2);
}

static void outcome_is(struct outcome *out, enum outcome_kind kind, const char *text)
{
	out->http_status = 0;
	out->kind = kind;
	snprintf(out->text, sizeof(out->text), "%s", text);
}

/* The lines of a batch, then one fsync for them all (one a line cost the
 * disk's flush latency per event); none counts as delivered before it. */
static void deliver_many(struct subscription *s, const struct event_out *ev, size_t n, struct outcome *out)
{
	struct file_state *st = s->state;
	bool written = false;

	for (size_t i = 0; i < n; i++) {
		outcome_is(&out[i], OUTCOME_RETRY, "WriteError");
		if (write_line(st->fd, ev[i].body, ev[i].len)) {
			out[i].kind = OUTCOME_DELIVERED;
			written = true;
		} else {
			log_error("cannot write '%s': %s", s->path, strerror(errno));
		}
	}
	if (!written)
		return;
	if (fsync(st->fd)) {
		log_error("cannot fsync '%s': %s", s->path, strerror(errno));
		for (size_t i = 0; i < n; i++)
			out[i].kind = OUTCOME_RETRY;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (out[i].kind == OUTCOME_DELIVERED)
			outcome_is(&out[i], OUTCOME_DELIVERED, "Success");
}

static void deliver(struct subscription *s, const struct event_out *ev, struct outcome *out)
{
	deliver_many(s, ev, 1, out);
}

static void close_file(struct subscription *s)
{
	struct file_state *st = s->state;
	if (st) {
		close(st->fd);
		free(st);
		s->state = NULL;
	}
}

static const struct config_key keys[] = {
	{ "path", CONFIG_OPTSTR, offsetof(struct subscription, path), NULL, 0, 0, NULL, NULL },
};

static const char *missing(const struct subscription *s)
{
	return s->path ? NULL : "path";
}

const struct provider provider_file = { "file", keys, sizeof(keys) / sizeof(keys[0]), missing, open_file, deliver, close_file,
				     deliver_many };
