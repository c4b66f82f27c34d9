/*
 * hook-socket.c - getpeername() and getsockopt(SO_ERROR) for tunneled
 * sockets.
 *
 * The kernel would name the helper's loopback relay as the peer; the
 * program connected to something else, so getpeername() answers with that.
 *
 * SO_ERROR of a socket parked by a non-blocking connect needs care around
 * two kernel facts (see hook-connect.c and helper/relay.c):
 *  - when the helper moves the socket from the parking listener to the
 *    relay it disconnects it first (connect(AF_UNSPEC)), which sets
 *    ECONNRESET and wakes pollers for the microseconds until the re-connect
 *    starts.  A program woken in that window must not see a failure, so a
 *    transient ECONNRESET on a pending socket waits for the re-connect.
 *  - a failed channel is reported by connecting the socket to a closed
 *    loopback port, so the kernel says ECONNREFUSED; the helper recorded the
 *    real reason (EACCES, ETIMEDOUT, ...), which we fetch once.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "shim.h"

#define SWITCH_WAIT_NS	(50 * 1000 * 1000)	/* upper bound; ~20 us seen */

static int
tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (shim_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	return ti.tcpi_state;
}

/* Wait (bounded) for the helper to finish moving the socket. */
static int
await_switch(int fd, int err)
{
	struct timespec pause = { 0, 20 * 1000 };
	long waited = 0;
	socklen_t len;
	int state;

	while (err == ECONNRESET && waited < SWITCH_WAIT_NS) {
		state = tcp_state(fd);
		if (state == TCP_SYN_SENT || state == TCP_ESTABLISHED) {
			len = sizeof(err);
			if (shim_real.getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &err, &len) == -1)
				return errno;
			return err;
		}
		nanosleep(&pause, NULL);
		waited += pause.tv_nsec;
		len = sizeof(err);
		if (shim_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == 0 && err == 0)
			err = ECONNRESET;	/* still switching */
	}
	return err;
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
	if (err == ECONNRESET)
		err = await_switch(fd, err);
	if (err == ECONNREFUSED) {
		err = real_reason(ino, err);
		fdtab_clear_pending(fd);
	} else if (err == 0 && tcp_state(fd) == TCP_ESTABLISHED)
		fdtab_clear_pending(fd);
	memcpy(val, &err, sizeof(int));
	return r;
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
	if (sa == NULL || len == NULL ||
	    fdtab_get(fd, &dest, &dlen, &pending, NULL) == -1)
		return shim_real.getpeername(fd, sa, len);
	if (pending && (state = tcp_state(fd)) != TCP_ESTABLISHED) {
		errno = ENOTCONN;
		return -1;
	}
	/* Truncate like the kernel does, but report the full length. */
	memcpy(sa, &dest, *len < dlen ? *len : dlen);
	*len = dlen;
	return 0;
}
