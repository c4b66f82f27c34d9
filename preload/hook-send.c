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
 * hook-send.c - sends that carry a destination: sendto() and sendmsg().
 *
 * TCP Fast Open (MSG_FASTOPEN) is a connect hidden in a send: to a
 * tunneled destination it becomes a tunneled connect followed by a plain
 * send, so the SYN never leaves for the real network.
 *
 * SSH carries no datagrams, so the UDP policy is explicit and fails fast: a
 * datagram to a tunneled destination fails with ENETUNREACH (QUIC falls
 * back to TCP), to a denied one with EACCES.  DNS a program sends itself
 * (port 53) is hook-dns.c's (shim_dns_send): to the system's nameserver it
 * goes to the helper's DNS responder instead, which answers by the rules;
 * to another server, a query about a name the rules tunnel or deny is
 * refused with EACCES, so the name never reaches a DNS server.  The
 * shim_send* functions are the hooks' work, shared with syscall()
 * (hook-syscall.c).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "shim.h"

static int
sock_type(int fd)
{
	int type;
	socklen_t len = sizeof(type);

	if (shim_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return -1;
	return type;
}

/*
 * What to do with a send to sa on fd: 0 to let libc have it, 1 for a Fast
 * Open to tunnel (the caller connects first), 2 to send it to *alt
 * instead (a DNS query to the system's nameserver: the helper's
 * responder), or -1 with errno set.
 */
static int
decide_send(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *sa, socklen_t salen, struct sockaddr_storage *alt,
    socklen_t *altlen)
{
	const struct shim *st = shim_get();
	struct rules_match m;
	enum rules_action act;
	char name[PROTO_NAMELEN];
	int type, r;

	if (!st->active || sa == NULL ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    salen < (sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6)))
		return 0;
	if (shim_is_synthetic(sa)) {
		if (names_reverse(shim_session(NULL), sa, name,
		    sizeof(name)) == -1) {
			errno = ENETUNREACH;
			return -1;
		}
		act = rules_match_name(st->rules, name, shim_port(sa), &m);
	} else
		act = rules_match_addr(st->rules, sa, &m);
	/* The common case, a direct datagram, costs no system call. */
	if (act == RULES_DIRECT) {
		if (flags & MSG_FASTOPEN)
			return 0;
		r = shim_dns_send(fd, sa, salen, buf, len, alt, altlen);
		return r == 1 ? 2 : r;
	}
	if ((type = sock_type(fd)) == -1)
		return -1;
	if (type == SOCK_STREAM)
		return (flags & MSG_FASTOPEN) ? 1 : 0;
	if (act == RULES_DENY) {
		errno = EACCES;
		return -1;
	}
	shim_log(1, "datagram to a tunneled destination refused: SSH carries "
	    "TCP only");
	errno = ENETUNREACH;
	return -1;
}

/* The sendto() hook's work; syscall(SYS_sendto) comes here too. */
ssize_t
shim_sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	struct sockaddr_storage alt;
	socklen_t altlen;
	int r;

	if (shim_get(), shim_real.sendto == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sa == NULL) {
		if (shim_dns_send(fd, NULL, 0, buf, len, NULL, NULL) == -1)
			return -1;
		return shim_real.sendto(fd, buf, len, flags, sa, salen);
	}
	if ((r = decide_send(fd, buf, len, flags, sa, salen, &alt,
	    &altlen)) == 0)
		return shim_real.sendto(fd, buf, len, flags, sa, salen);
	if (r == 2)
		return shim_real.sendto(fd, buf, len, flags,
		    (struct sockaddr *)&alt, altlen);
	if (r == -1)
		return -1;
	/* Fast Open to a tunneled destination: connect, then send. */
	if (shim_connect(fd, sa, salen) == -1)
		return -1;
	return shim_real.sendto(fd, buf, len, flags & ~MSG_FASTOPEN, NULL, 0);
}

SHIM_EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	return shim_sendto(fd, buf, len, flags, sa, salen);
}

SHIM_EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	if (shim_get(), shim_real.sendto == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (shim_dns_send(fd, NULL, 0, buf, len, NULL, NULL) == -1)
		return -1;
	return shim_real.sendto(fd, buf, len, flags, NULL, 0);
}

/* The first iovec of a message, where a DNS query starts. */
static const void *
first_iov(const struct msghdr *msg, size_t *len)
{
	if (msg->msg_iovlen == 0 || msg->msg_iov == NULL) {
		*len = 0;
		return NULL;
	}
	*len = msg->msg_iov[0].iov_len;
	return msg->msg_iov[0].iov_base;
}

/*
 * What to do with one message sent with flags: 0 to let libc have it, 1
 * for a Fast Open to tunnel (connect first), 2 to send it to *alt
 * instead (the DNS responder), -1 with errno set.
 */
static int
decide_msg(int fd, const struct msghdr *msg, int flags,
    struct sockaddr_storage *alt, socklen_t *altlen)
{
	const void *b;
	size_t blen;

	b = first_iov(msg, &blen);
	if (msg->msg_name == NULL)
		return shim_dns_send(fd, NULL, 0, b, blen, NULL, NULL) == -1 ?
		    -1 : 0;
	return decide_send(fd, b, blen, flags, msg->msg_name,
	    msg->msg_namelen, alt, altlen);
}

/* The sendmsg() hook's work; syscall(SYS_sendmsg) comes here too. */
ssize_t
shim_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sockaddr_storage alt;
	socklen_t altlen;
	struct msghdr plain;
	int r;

	if (shim_get(), shim_real.sendmsg == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (msg == NULL || (r = decide_msg(fd, msg, flags, &alt,
	    &altlen)) == 0)
		return shim_real.sendmsg(fd, msg, flags);
	if (r == -1)
		return -1;
	plain = *msg;
	if (r == 2) {
		plain.msg_name = &alt;
		plain.msg_namelen = altlen;
		return shim_real.sendmsg(fd, &plain, flags);
	}
	if (shim_connect(fd, msg->msg_name, msg->msg_namelen) == -1)
		return -1;
	plain.msg_name = NULL;
	plain.msg_namelen = 0;
	return shim_real.sendmsg(fd, &plain, flags & ~MSG_FASTOPEN);
}

SHIM_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return shim_sendmsg(fd, msg, flags);
}

/*
 * The sendmmsg() hook's work; syscall(SYS_sendmmsg) comes here too.  Each
 * message is decided with the flags it is sent with (MSG_FASTOPEN
 * included).  Those libc may send as they are go in one call, up to the
 * first that needs us: that one is sent alone next time (a Fast Open to
 * tunnel: connected, then sent; a query for the DNS responder: sent
 * there), or fails (-1, errno) when it is first.
 * Like the kernel, the count sent is returned and the caller goes on.
 */
int
shim_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct sockaddr_storage alt;
	socklen_t altlen;
	unsigned int i;
	ssize_t sent;
	int r = 0;

	if (shim_get(), shim_real.sendmmsg == NULL) {
		errno = ENOSYS;
		return -1;
	}
	for (i = 0; v != NULL && i < n; i++)
		if ((r = decide_msg(fd, &v[i].msg_hdr, flags, &alt,
		    &altlen)) != 0)
			break;
	if (i > 0 || v == NULL || n == 0)
		return shim_real.sendmmsg(fd, v, i < n ? i : n, flags);
	if (r == -1)
		return -1;
	if ((sent = shim_sendmsg(fd, &v[0].msg_hdr, flags)) == -1)
		return -1;
	v[0].msg_len = (unsigned int)sent;
	return 1;
}

SHIM_EXPORT int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	return shim_sendmmsg(fd, v, n, flags);
}
