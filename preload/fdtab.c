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
 * fdtab.c - what the shim remembers about tunneled sockets.
 *
 * Indexed by descriptor and validated by socket inode, so a number the
 * program closed and reused never inherits a stale entry.  A dup()ed
 * number is found by its inode (fdtab_find, for getpeername of a loopback
 * peer only).  Entries are allocated only for tunneled sockets; direct
 * connects never touch this table.  It is the only source of truth about
 * which sockets the shim handed over: nobody else is asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shim.h"

struct fdent {
	uint64_t		ino;
	const struct shim_session *session;	/* whose helper has it */
	int			pending;
	socklen_t		len;
	struct sockaddr_storage	dest;
};

static pthread_mutex_t fdtab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fdent **fdtab;
static size_t fdtab_size;

static int
socket_ino(int fd, uint64_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	*ino = st.st_ino;
	return 0;
}

void
fdtab_set(int fd, const struct sockaddr *dest, socklen_t len, int pending,
    const struct shim_session *session)
{
	struct fdent *e, **grown;
	uint64_t ino;
	size_t n;
	int saved = errno;

	if (fd < 0 || len > sizeof(e->dest) || socket_ino(fd, &ino) == -1)
		goto out;
	pthread_mutex_lock(&fdtab_lock);
	if ((size_t)fd >= fdtab_size) {
		n = fdtab_size ? fdtab_size : 64;
		while (n <= (size_t)fd)
			n *= 2;
		if ((grown = realloc(fdtab, n * sizeof(*fdtab))) == NULL)
			goto unlock;
		memset(grown + fdtab_size, 0,
		    (n - fdtab_size) * sizeof(*fdtab));
		fdtab = grown;
		/* Read without the lock by fdtab_get's fast exit. */
		__atomic_store_n(&fdtab_size, n, __ATOMIC_RELEASE);
	}
	if ((e = fdtab[fd]) == NULL && (e = malloc(sizeof(*e))) == NULL)
		goto unlock;
	e->ino = ino;
	e->session = session;
	e->pending = pending;
	e->len = len;
	memcpy(&e->dest, dest, len);
	fdtab[fd] = e;
 unlock:
	pthread_mutex_unlock(&fdtab_lock);
 out:
	errno = saved;
}

static void
copy_out(const struct fdent *e, struct fdtab_ent *out)
{
	memcpy(&out->dest, &e->dest, e->len);
	out->len = e->len;
	out->pending = e->pending;
	out->ino = e->ino;
	out->session = e->session;
}

int
fdtab_get(int fd, struct fdtab_ent *out)
{
	struct fdent *e;
	uint64_t cur;
	int r = -1, saved = errno;

	if (fd < 0 || __atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE) == 0 ||
	    socket_ino(fd, &cur) == -1)
		goto out;
	pthread_mutex_lock(&fdtab_lock);
	if ((size_t)fd < fdtab_size && (e = fdtab[fd]) != NULL &&
	    e->ino == cur) {
		if (out != NULL)
			copy_out(e, out);
		r = 0;
	}
	pthread_mutex_unlock(&fdtab_lock);
 out:
	errno = saved;
	return r;
}

int
fdtab_find(int fd, struct fdtab_ent *out)
{
	uint64_t cur;
	size_t i;
	int r = -1, saved = errno;

	if (fdtab_get(fd, out) == 0)
		return 0;
	if (fd < 0 || __atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE) == 0 ||
	    socket_ino(fd, &cur) == -1)
		goto out;
	pthread_mutex_lock(&fdtab_lock);
	for (i = 0; i < fdtab_size && r == -1; i++)
		if (fdtab[i] != NULL && fdtab[i]->ino == cur) {
			copy_out(fdtab[i], out);
			r = 0;
		}
	pthread_mutex_unlock(&fdtab_lock);
 out:
	errno = saved;
	return r;
}

void
fdtab_clear_pending(int fd)
{
	pthread_mutex_lock(&fdtab_lock);
	if (fd >= 0 && (size_t)fd < fdtab_size && fdtab[fd] != NULL)
		fdtab[fd]->pending = 0;
	pthread_mutex_unlock(&fdtab_lock);
}

/*
 * Across exec the table is lost but the sockets stay open: the exec hooks
 * pass the entries of descriptors the new image inherits (open, not
 * close-on-exec, still the same socket) in TUNNELWRAP_FDS, one
 * "fd:ino:session:pending:family:port:32 hex digits" per entry, comma
 * separated, and the new image's shim takes them back.  No allocation:
 * this may run in a vfork() child.
 */
size_t
fdtab_export(char *buf, size_t len, const struct shim_session *sessions,
    size_t nsessions)
{
	struct proto_addr pa;
	struct fdent *e;
	uint64_t ino;
	size_t i, k, off = 0;
	int n, flags, sess, saved = errno;
	char hex[33];

	if (__atomic_load_n(&fdtab_size, __ATOMIC_ACQUIRE) == 0 || len == 0)
		return 0;
	pthread_mutex_lock(&fdtab_lock);
	for (i = 0; i < fdtab_size; i++) {
		if ((e = fdtab[i]) == NULL ||
		    (flags = fcntl((int)i, F_GETFD)) == -1 ||
		    (flags & FD_CLOEXEC) || socket_ino((int)i, &ino) == -1 ||
		    ino != e->ino)
			continue;
		proto_addr_from_sockaddr(&pa, (const struct sockaddr *)&e->dest);
		for (k = 0; k < 16; k++)
			snprintf(hex + 2 * k, 3, "%02x", pa.addr[k]);
		sess = e->session != NULL && e->session >= sessions &&
		    e->session < sessions + nsessions ?
		    (int)(e->session - sessions) : -1;
		n = snprintf(buf + off, len - off, "%s%zu:%llu:%d:%d:%u:%u:%s",
		    off > 0 ? "," : "", i, (unsigned long long)e->ino, sess,
		    e->pending, pa.family, pa.port, hex);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';	/* what does not fit is left out */
			break;
		}
		off += (size_t)n;
	}
	pthread_mutex_unlock(&fdtab_lock);
	errno = saved;
	return off;
}

void
fdtab_import(const char *spec, const struct shim_session *sessions,
    size_t nsessions)
{
	struct sockaddr_storage ss;
	struct proto_addr pa;
	unsigned long long ino;
	unsigned family, port, byte;
	uint64_t cur;
	socklen_t len;
	int fd, sess, pending, used, k;
	char hex[33];

	while (spec != NULL && *spec != '\0') {
		if (sscanf(spec, "%d:%llu:%d:%d:%u:%u:%32[0-9a-f]%n", &fd, &ino,
		    &sess, &pending, &family, &port, hex, &used) != 7 ||
		    strlen(hex) != 32)
			return;
		spec += used;
		if (*spec == ',')
			spec++;
		memset(&pa, 0, sizeof(pa));
		pa.family = (uint16_t)family;
		pa.port = (uint16_t)port;
		for (k = 0; k < 16; k++) {
			sscanf(hex + 2 * k, "%2x", &byte);
			pa.addr[k] = (uint8_t)byte;
		}
		/* Only the very socket it was: numbers may have moved on. */
		if (socket_ino(fd, &cur) == -1 || cur != ino ||
		    (len = proto_addr_to_sockaddr(&pa, &ss)) == 0)
			continue;
		fdtab_set(fd, (struct sockaddr *)&ss, len, pending != 0,
		    sess >= 0 && (size_t)sess < nsessions ?
		    &sessions[sess] : NULL);
	}
}

/* fork() while another thread holds the lock must not leave it held. */
void
fdtab_lock_all(void)
{
	pthread_mutex_lock(&fdtab_lock);
}

void
fdtab_unlock_all(void)
{
	pthread_mutex_unlock(&fdtab_lock);
}

/* Resolver sockets: a bitmap, set-only (a reused number costs one parse). */
#define DNS_FDS	65536
static unsigned char dns_bits[DNS_FDS / 8];
int shim_dns_any;

void
shim_dns_mark(int fd)
{
	if (fd < 0 || fd >= DNS_FDS)
		return;
	__atomic_or_fetch(&dns_bits[fd / 8], (unsigned char)(1 << (fd % 8)),
	    __ATOMIC_RELAXED);
	__atomic_store_n(&shim_dns_any, 1, __ATOMIC_RELAXED);
}

int
shim_dns_fd_slow(int fd)
{
	return fd >= 0 && fd < DNS_FDS &&
	    (__atomic_load_n(&dns_bits[fd / 8], __ATOMIC_RELAXED) &
	    (1 << (fd % 8)));
}
