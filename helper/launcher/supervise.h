/*
 * supervise.h - run COMMAND under a seccomp user-notification filter, the
 * launcher staying as its parent and deciding each connect (supervise.c).
 */
#ifndef TW_SUPERVISE_H
#define TW_SUPERVISE_H

#include <stddef.h>

struct rules;

struct supervise_session {
	const char	*name;		/* the rules' session name */
	const char	*path;		/* its helper's control socket */
};

struct supervise_conf {
	const struct rules		*rules;
	const struct supervise_session	*sessions;	/* default first */
	size_t				 nsessions;
};

/*
 * Can this kernel run a supervised program (user notification with
 * CONTINUE, pidfd_getfd, a known system call table)?  Returns 0, or -1
 * with the reason in why.
 */
int	supervise_probe(char *why, size_t len);

/*
 * Run path (argv as its arguments, argv[0] included) under the filter,
 * supervising it and whatever it starts until it exits; signals we get
 * are passed on to it.  Returns 0 and its wait status in *wstatus, or -1
 * with the reason in why when the filter could not be set up: then
 * nothing has run, and the caller may run the program another way.
 */
int	supervise_run(const char *path, char **argv,
	    const struct supervise_conf *, int *wstatus, char *why,
	    size_t len);

#endif
