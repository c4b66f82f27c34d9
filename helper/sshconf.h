/*
 * sshconf.h - ssh configuration for the helper's session.
 */
#ifndef TW_SSHCONF_H
#define TW_SSHCONF_H

#include <stddef.h>

enum {
	STRICT_ASK = 0,		/* ssh's default: ask on a terminal */
	STRICT_YES,
	STRICT_ACCEPT_NEW,
	STRICT_NO,
};

/*
 * Split "[user@]host[:port]"; host may be "[v6]" with a port or a bare
 * IPv6 address without one.  Returns 0 or -1 if malformed; *port is 0 when
 * absent, user "" when absent.
 */
int	sshconf_split_dest(const char *dest, char *user, size_t ulen,
	    char *host, size_t hlen, int *port);
/* StrictHostKeyChecking value -> STRICT_*. */
int	sshconf_strict(const char *);

#endif
