/*
 * Copyright (c) 2026 tunnelwrap developers <dev@tunnelwrap.test>
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

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

/* Length of the valid UTF-8 sequence at s that is not a C1 control, or 0. */
static size_t
utf8_printable(const unsigned char *s)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* Second-byte limits that rule out overlong forms and surrogates. */
	if (s[0] == 0xc2)
		lo = 0xa0;			/* U+0080-U+009F: C1 controls */
	else if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void
str_clean(char *dst, size_t dstlen, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, n;

	if (dstlen == 0)
		return;
	while (*s != '\0') {
		if (*s >= 0x20 && *s < 0x7f)
			n = 1;
		else if ((n = utf8_printable(s)) == 0) {
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, 5, "\\%03o", *s++);
			o += 4;
			continue;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
}

static void
do_log(enum log_level level, const char *fmt, va_list ap)
{
	char raw[1024], buf[1024], stamp[32] = "";
	struct tm tm;
	time_t t;
	int saved = errno, n;

	if (level > log_current)
		return;
	/* Bastions supply some of the text: never let it reach a terminal raw. */
	vsnprintf(raw, sizeof(raw), fmt, ap);
	str_clean(buf, sizeof(buf), raw);
	if (log_syslog) {
		log_syslog_write(level, buf);
		errno = saved;
		return;
	}
	if (log_stamp) {
		t = time(NULL);
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S ", &tm);
	}
	n = snprintf(raw, sizeof(raw), "%s%s: %s", stamp, log_name, buf);
	if (n < 0 || (size_t)n >= sizeof(raw) - 1)
		n = sizeof(raw) - 2;
	raw[n++] = '\n';
	if (write(log_fd, raw, n) < 0) {
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
