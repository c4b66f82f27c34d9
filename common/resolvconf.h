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
