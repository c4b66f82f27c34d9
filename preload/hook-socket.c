/*
 * hook-socket.c - getpeername() and getsockopt(SO_ERROR) for tunneled
 * sockets.
 *
 * The kernel would name the helper's parking address as the peer; the
 * program connected to something else, so getpeername() answers with that,
 * from fdtab, or after an exec (fdtab is gone) from the helper.
 *
 * A tunneled connect that fails is reported by the kernel as ECONNRESET
 * (the helper disconnects the parked socket); the helper recorded the real
 * reason (ECONNREFUSED, EACCES, ETIMEDOUT, ...), which SO_ERROR returns.
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

/* The reason the helper recorded for a failed parked connect. */
static int
real_reason(uint64_t ino, int kernel_err)
{
	struct proto_outcome req;
	int status;

	memset(&req, 0, sizeof(req));
	req.ino = ino;
	if (shim_session(NULL) == NULL ||
	    ipc_call(shim_session(NULL), PROTO_OUTCOME, &req, sizeof(req), -1,
	    NULL, 0, &status, 0) < 0 || status == 0)
		return kernel_err;
	return status;
}

SHIM_EXPORT int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	uint64_t ino;
	int pending, err, r;

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
	if (fdtab_get(fd, NULL, NULL, &pending, &ino) == -1 || !pending)
		return r;
	memcpy(&err, val, sizeof(int));
	if (err != 0) {
		err = real_reason(ino, err);
		fdtab_clear_pending(fd);
	} else if (tcp_state(fd) == TCP_ESTABLISHED)
		fdtab_clear_pending(fd);
	memcpy(val, &err, sizeof(int));
	return r;
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    sin6->sin6_addr.s6_addr[12] == 127);
	return 0;
}

/*
 * Not in fdtab (inherited across exec, or dup'ed): a loopback peer may be
 * the helper's; ask it by our socket's address.  Only loopback peers pay.
 */
static int
peer_from_helper(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage peer, local, dest;
	socklen_t plen = sizeof(peer), llen = sizeof(local), dlen;
	struct proto_addr req, rep;
	int status, saved;

	if (shim_real.getpeername(fd, (struct sockaddr *)&peer, &plen) == -1)
		return -1;
	saved = errno;
	if (!is_loopback(&peer) || shim_session(NULL) == NULL ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) == -1)
		goto real;
	proto_addr_from_sockaddr(&req, (struct sockaddr *)&local);
	if (ipc_call(shim_session(NULL), PROTO_PEER, &req, sizeof(req), -1,
	    &rep, sizeof(rep), &status, 0) < 0 || status != 0 ||
	    (dlen = proto_addr_to_sockaddr(&rep, &dest)) == 0)
		goto real;
	memcpy(sa, &dest, *len < dlen ? *len : dlen);
	*len = dlen;
	errno = saved;
	return 0;
 real:
	memcpy(sa, &peer, *len < plen ? *len : plen);
	*len = plen;
	errno = saved;
	return 0;
}

SHIM_EXPORT int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage dest;
	socklen_t dlen;
	int pending, state;

	if (shim_real.getpeername == NULL) {
		shim_get();
		if (shim_real.getpeername == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (sa == NULL || len == NULL)
		return shim_real.getpeername(fd, sa, len);
	if (fdtab_get(fd, &dest, &dlen, &pending, NULL) == -1)
		return peer_from_helper(fd, sa, len);
	if (pending && (state = tcp_state(fd)) != TCP_ESTABLISHED) {
		errno = ENOTCONN;
		return -1;
	}
	/* Truncate like the kernel does, but report the full length. */
	memcpy(sa, &dest, *len < dlen ? *len : dlen);
	*len = dlen;
	return 0;
}
