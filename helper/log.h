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
 * log.h - helper and launcher logging, in the manner of OpenSSH's log.c.
 *
 * Levels follow ssh's LogLevel: QUIET, FATAL, ERROR, INFO, VERBOSE, DEBUG1-3.
 * Every function preserves errno.  fatal() exits 255: the launcher's and
 * the helper's "tunnelwrap itself failed" status.
 */
#ifndef TW_LOG_H
#define TW_LOG_H

enum log_level {
	LOG_QUIET = 0,
	LOG_FATAL,
	LOG_ERROR,
	LOG_INFO,
	LOG_VERBOSE,
	LOG_DEBUG1,
	LOG_DEBUG2,
	LOG_DEBUG3,
};

/* Prefix every line with name (e.g. "tunnelwrap"), log at or below level. */
void	log_init(const char *name, enum log_level level);
/* Send lines to fd from now on (a log file or /dev/null once detached). */
void	log_set_fd(int fd);
enum log_level log_level(void);
/* From now on log to syslog (the journal) instead of a descriptor. */
void	log_use_syslog(const char *ident);
/* log-syslog.c: kept apart, <syslog.h> takes our level names. */
void	log_syslog_open(const char *ident);
void	log_syslog_write(int level, const char *msg);
int	log_syslog_reachable(char *err, size_t errlen);
/*
 * Copy src to dst, control characters and bytes that are not printable
 * UTF-8 written as \ooo: text from a bastion cannot drive a terminal or
 * forge a log line.  Truncates to fit.
 */
void	str_clean(char *dst, size_t dstlen, const char *src);
/* Parse an ssh LogLevel name; returns -1 if unknown. */
int	log_level_parse(const char *);

void	fatal(const char *, ...) __attribute__((format(printf, 1, 2),
	    noreturn));
void	error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	logit(const char *, ...) __attribute__((format(printf, 1, 2)));
void	verbose(const char *, ...) __attribute__((format(printf, 1, 2)));
void	debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	debug2(const char *, ...) __attribute__((format(printf, 1, 2)));
void	debug3(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
