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
 * sshg.h - asking ssh itself what a destination means (`ssh -G`), for the
 * launcher (which names the helper by the answer) and the helper (which
 * applies it).  No libssh here: the launcher links libc only.
 */
#ifndef TW_SSHG_H
#define TW_SSHG_H

#include <stddef.h>

/* What ssh -G is asked about: the same inputs ssh would get. */
struct sshg_query {
	const char		*ssh_config;	/* -F, or NULL */
	const char *const	*options;	/* -o Key=Value */
	size_t			 noptions;
	const char *const	*identities;	/* -i */
	size_t			 nidentities;
	const char		*dest;		/* [user@]host[:port] */
};

/*
 * Split "[user@]host[:port]"; host may be "[v6]" with a port or a bare
 * IPv6 address without one.  Returns 0 or -1 if malformed; *port is 0 when
 * absent, user "" when absent.
 */
int	sshg_split_dest(const char *dest, char *user, size_t ulen,
	    char *host, size_t hlen, int *port);
/*
 * Run `ssh -G` for q.  Returns ssh's exit status (0: *out holds its
 * output, malloc'd), 127 when ssh could not be run, -1 when q->dest is
 * malformed; on failure err holds the first line ssh printed on stderr.
 * *out is always malloc'd or NULL, for free().
 */
int	sshg_resolve(const struct sshg_query *q, char **out, char *err,
	    size_t errlen);
/*
 * Value of the first "key value" line in ssh -G output, copied into buf;
 * NULL when absent or longer than len - 1.
 */
char	*sshg_value(const char *out, const char *key, char *buf, size_t len);

#endif
