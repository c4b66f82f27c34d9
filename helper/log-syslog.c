/*
 * log-syslog.c - LogTarget=syslog.  Apart from log.c because <syslog.h>
 * defines LOG_INFO & co., the names of our own (ssh's) levels.
 */
#include <syslog.h>

/* Same order as enum log_level: QUIET FATAL ERROR INFO VERBOSE DEBUG1-3. */
static const int prio[] = { LOG_CRIT, LOG_CRIT, LOG_ERR, LOG_INFO, LOG_INFO,
    LOG_DEBUG, LOG_DEBUG, LOG_DEBUG };

void	log_syslog_open(const char *);
void	log_syslog_write(int, const char *);

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
