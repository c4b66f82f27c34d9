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
 * resolvconf.h - the system's nameservers, as /etc/resolv.conf names them.
 *
 * Shared by the shim (hook-dns.c) and the launcher's seccomp supervisor
 * (supervise.c): a program's own DNS socket to one of these goes to the
 * helper's DNS responder instead.  No allocation; libc only.
 */
#ifndef TW_RESOLVCONF_H
#define TW_RESOLVCONF_H

#include <sys/socket.h>

#define RESOLVCONF_MAX	3	/* MAXNS: glibc reads no more */

struct resolvconf {
	struct sockaddr_storage	 ns[RESOLVCONF_MAX + 1];
	int			 nns;
};

/*
 * Read the nameservers of path (ports left 0).  With none there, the
 * loopback defaults glibc and Go's resolver use: 127.0.0.1, and ::1 too
 * when also_v6 (Go asks both).  Never fails: an unreadable file counts
 * as empty.
 */
void	resolvconf_load(struct resolvconf *, const char *path, int also_v6);

/* Nonzero if sa (port aside; v4-mapped too) is one of rc's nameservers. */
int	resolvconf_has(const struct resolvconf *, const struct sockaddr *sa);

#endif
