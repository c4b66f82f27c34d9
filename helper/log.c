/*
 * log.c - leveled logging to stderr or a log file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_name = "tunnelwrap";
static enum log_level log_current = LOG_INFO;
static int log_fd = STDERR_FILENO;
static int log_stamp;			/* timestamps once writing to a file */
static int log_syslog;			/* LogTarget=syslog */

static const struct {
	const char	*name;
	enum log_level	 level;
} log_names[] = {
	{ "QUIET", LOG_QUIET }, { "FATAL", LOG_FATAL },
	{ "ERROR", LOG_ERROR }, { "INFO", LOG_INFO },
	{ "VERBOSE", LOG_VERBOSE }, { "DEBUG", LOG_DEBUG1 },
	{ "DEBUG1", LOG_DEBUG1 }, { "DEBUG2", LOG_DEBUG2 },
	{ "DEBUG3", LOG_DEBUG3 },
};

void
log_init(const char *name, enum log_level level)
{
	log_name = name;
	log_current = level;
}

void
log_set_fd(int fd)
{
	log_fd = fd;
	log_stamp = !isatty(fd);
}

void
log_use_syslog(const char *ident)
{
	log_syslog_open(ident);
	log_syslog = 1;
}

enum log_level
log_level(void)
{
	return log_current;
}

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcasecmp(s, log_names[i].name) == 0)
			return log_names[i].level;
	return -1;
}

static void
do_log(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024], stamp[32] = "";
	struct tm tm;
	time_t t;
	int saved = errno, n;

	if (level > log_current)
		return;
	if (log_syslog) {
		vsnprintf(buf, sizeof(buf), fmt, ap);
		log_syslog_write(level, buf);
		errno = saved;
		return;
	}
	if (log_stamp) {
		t = time(NULL);
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S ", &tm);
	}
	n = snprintf(buf, sizeof(buf), "%s%s: ", stamp, log_name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	n = strlen(buf);
	buf[n++] = '\n';
	if (write(log_fd, buf, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

#define LOGFN(fn, level)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	do_log(level, fmt, ap);				\
	va_end(ap);					\
}

LOGFN(error, LOG_ERROR)
LOGFN(logit, LOG_INFO)
LOGFN(verbose, LOG_VERBOSE)
LOGFN(debug, LOG_DEBUG1)
LOGFN(debug2, LOG_DEBUG2)
LOGFN(debug3, LOG_DEBUG3)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	do_log(LOG_FATAL, fmt, ap);
	va_end(ap);
	exit(255);
}
