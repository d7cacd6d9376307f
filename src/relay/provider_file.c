/* JSON Lines: one event per line, fsynced before the delivery is recorded. */
#include "relay/provider.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

static void deliver(struct subscription *s, const struct event_out *ev, struct outcome *out)
{
	struct file_state *st = s->state;

	out->http_status = 0;
	if (!util_write_full(st->fd, ev->body, ev->len) || !util_write_full(st->fd, "\n", 1)) {
		log_error("cannot write '%s': %s", s->path, strerror(errno));
		out->kind = OUTCOME_RETRY;
		snprintf(out->text, sizeof(out->text), "WriteError");
		return;
	}
	if (fsync(st->fd)) {
		log_error("cannot fsync '%s': %s", s->path, strerror(errno));
		out->kind = OUTCOME_RETRY;
		snprintf(out->text, sizeof(out->text), "WriteError");
		return;
	}
	out->kind = OUTCOME_DELIVERED;
	snprintf(out->text, sizeof(out->text), "Success");
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

const struct provider provider_file = { "file", keys, sizeof(keys) / sizeof(keys[0]), missing, open_file, deliver, close_file, NULL };
