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
 * hook-socket.c - getpeername() and getsockopt(SO_ERROR) for tunneled
 * sockets.
 *
 * The kernel would name the helper's parking address as the peer; the
 * program connected to something else, so getpeername() answers with that,
 * from fdtab.  A socket the program got from elsewhere (across exec, over
 * a UNIX socket) is not in it and names the parking address (README,
 * Limits).
 *
 * A tunneled connect that fails is reported by the kernel as ECONNRESET
 * (the helper disconnects the parked socket); the helper that has the
 * socket recorded the real reason (ECONNREFUSED, EACCES, ETIMEDOUT, ...),
 * which SO_ERROR returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "shim.h"

static int
tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (shim_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	return ti.tcpi_state;
}

int
shim_parked_reason(const struct fdtab_ent *e, int kernel_err)
{
	struct proto_outcome req;
	int status;

	memset(&req, 0, sizeof(req));
	req.ino = e->ino;
	if (e->session == NULL ||
	    ipc_call(e->session, PROTO_OUTCOME, &req, sizeof(req), -1,
	    NULL, 0, &status, 0) < 0 || status == 0)
		return kernel_err;
	return status;
}

SHIM_EXPORT int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct fdtab_ent e;
	int err, r;

	if (shim_real.getsockopt == NULL) {
		shim_get();
		if (shim_real.getsockopt == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	r = shim_real.getsockopt(fd, level, name, val, len);
	if (r == -1 || level != SOL_SOCKET || name != SO_ERROR ||
	    val == NULL || len == NULL || *len < sizeof(int))
		return r;
	if (fdtab_get(fd, &e) == -1 || !e.pending)
		return r;
	memcpy(&err, val, sizeof(int));
	if (err != 0) {
		err = shim_parked_reason(&e, err);
		fdtab_clear_pending(fd);
	} else if (tcp_state(fd) == TCP_ESTABLISHED)
		fdtab_clear_pending(fd);
	memcpy(val, &err, sizeof(int));
	return r;
}

/* Truncate like the kernel does, but report the full length. */
static int
give_peer(const struct sockaddr_storage *ss, socklen_t slen,
    struct sockaddr *sa, socklen_t *len)
{
	memcpy(sa, ss, *len < slen ? *len : slen);
	*len = slen;
	return 0;
}

/*
 * The shim's own table says which sockets it handed over; nobody else is
 * asked, so a direct socket costs no message and can never be taken for
 * a tunneled one.  Another number of a tunneled socket (dup, dup2) is
 * found by its inode; that search runs only for loopback peers, as a
 * tunneled socket's real peer is the helper's loopback parking address.
 */
SHIM_EXPORT int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct fdtab_ent e;
	int saved;

	if (shim_real.getpeername == NULL) {
		shim_get();
		if (shim_real.getpeername == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (sa == NULL || len == NULL)
		return shim_real.getpeername(fd, sa, len);
	if (fdtab_get(fd, &e) == -1) {
		if (shim_real.getpeername(fd, (struct sockaddr *)&peer,
		    &plen) == -1)
			return -1;
		saved = errno;
		if (!addr_is_loopback(&peer) || fdtab_find(fd, &e) == -1) {
			errno = saved;
			return give_peer(&peer, plen, sa, len);
		}
		errno = saved;
	}
	if (e.pending && tcp_state(fd) != TCP_ESTABLISHED) {
		errno = ENOTCONN;
		return -1;
	}
	return give_peer(&e.dest, e.len, sa, len);
}
