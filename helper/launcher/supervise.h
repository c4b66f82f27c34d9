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
