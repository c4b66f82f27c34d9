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

/* StrictHostKeyChecking value -> STRICT_*. */
int	sshconf_strict(const char *);

#endif
