#include "common/log.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

static enum log_level current = LOG_INFO;
static const char *ident = "dicom";
static const char *const names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level) { current = level; }
void log_set_ident(const char *s) { ident = s; }

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	char msg[2048], stamp[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	const char *base;

	if (level > current)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one line an entry: a line break in what a message quotes (a DICOM
	 * value, a reason from a library, a client's text) would start a line
	 * of its own that reads as an entry */
	util_one_line(msg, strlen(msg));
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	fprintf(stderr, "%s.%03ldZ %s[%ld] %s %s:%d %s\n", stamp, (long)tv.tv_usec / 1000, ident,
		(long)getpid(), names[level], base, line, msg);
}
