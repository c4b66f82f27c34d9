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
 * log-syslog.c - LogTarget=syslog.  Apart from log.c because <syslog.h>
 * defines LOG_INFO & co., the names of our own (ssh's) levels.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* Same order as enum log_level: QUIET FATAL ERROR INFO VERBOSE DEBUG1-3. */
static const int prio[] = { LOG_CRIT, LOG_CRIT, LOG_ERR, LOG_INFO, LOG_INFO,
    LOG_DEBUG, LOG_DEBUG, LOG_DEBUG };

void	log_syslog_open(const char *);
void	log_syslog_write(int, const char *);
int	log_syslog_reachable(char *, size_t);

/*
 * Is anything listening at the syslog socket (/dev/log), as syslog(3)
 * would reach it (datagram, else stream)?  0 if so; -1 with the reason in
 * err otherwise: syslog(3) itself drops every line in silence then.
 */
int
log_syslog_reachable(char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, e, i;
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	for (i = 0, e = 0; i < 2; i++) {
		if ((fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) == -1) {
			e = errno;
			break;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			return 0;
		}
		e = errno;
		close(fd);
		if (e != EPROTOTYPE)
			break;
	}
	snprintf(err, errlen, "%s: %s", _PATH_LOG, strerror(e));
	return -1;
}

void
log_syslog_open(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_USER);
}

void
log_syslog_write(int level, const char *msg)
{
	if (level < 0 || level >= (int)(sizeof(prio) / sizeof(prio[0])))
		level = 3;
	syslog(prio[level], "%s", msg);
}
