/*
 * hook-send.c - sends that carry a destination: sendto() and sendmsg().
 *
 * TCP Fast Open (MSG_FASTOPEN) is a connect hidden in a send: to a
 * tunneled destination it becomes a tunneled connect followed by a plain
 * send, so the SYN never leaves for the real network.
 *
 * SSH carries no datagrams, so the UDP policy is explicit and fails fast: a
 * datagram to a tunneled destination fails with ENETUNREACH (QUIC falls
 * back to TCP), to a denied one with EACCES.  DNS queries a program makes
 * itself (dig, c-ares: UDP to port 53) for a name the rules tunnel or deny
 * are refused with EACCES, so the name never reaches a DNS server.  Plain
 * send()/sendmmsg() on a socket connect()ed to port 53 is checked too: the
 * connect hook marks such sockets.  The shim_send* functions are the
 * hooks' work, shared with syscall() (hook-syscall.c).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "shim.h"

/* Port of a sockaddr (0 if not inet). */
static uint16_t
port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

/*
 * The query name of a DNS message into name ("a.b.c"); returns 0, or -1
 * if buf is not a query we can read (then it is left alone).
 */
static int
dns_qname(const unsigned char *buf, size_t len, char *name, size_t nlen)
{
	size_t off = 12, out = 0, l;

	if (len < 17 || (buf[2] & 0x80) != 0 || buf[4] != 0 || buf[5] == 0)
		return -1;			/* not a query, or no question */
	while (off < len && (l = buf[off]) != 0) {
		if (l > 63 || off + 1 + l > len || out + l + 2 > nlen)
			return -1;
		if (out > 0)
			name[out++] = '.';
		memcpy(name + out, buf + off + 1, l);
		out += l;
		off += 1 + l;
	}
	if (off >= len || out == 0)
		return -1;
	name[out] = '\0';
	return 0;
}

/* Nonzero if a DNS query in buf asks for a name we must not leak. */
static int
dns_leak(const void *buf, size_t len)
{
	const struct shim *st = shim_get();
	char name[PROTO_NAMELEN];

	if (buf == NULL || dns_qname(buf, len, name, sizeof(name)) == -1)
		return 0;
	if (rules_match_name(st->rules, name, 0, NULL) == RULES_DIRECT)
		return 0;
	shim_log(1, "DNS query for %s refused: the rules resolve it remotely",
	    name);
	return 1;
}

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
 * Open to tunnel (the caller connects first), or -1 with errno set.
 */
static int
decide_send(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	const struct shim *st = shim_get();
	struct rules_match m;
	enum rules_action act;
	char name[PROTO_NAMELEN];
	int type;

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
		act = rules_match_name(st->rules, name, port_of(sa), &m);
	} else
		act = rules_match_addr(st->rules, sa, &m);
	/* The common case, a direct datagram, costs no system call. */
	if (act == RULES_DIRECT) {
		if (port_of(sa) == 53 && !(flags & MSG_FASTOPEN) &&
		    dns_leak(buf, len)) {
			errno = EACCES;
			return -1;
		}
		return 0;
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
	int r;

	if (shim_get(), shim_real.sendto == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sa == NULL) {
		if (shim_dns_fd(fd) && dns_leak(buf, len)) {
			errno = EACCES;
			return -1;
		}
		return shim_real.sendto(fd, buf, len, flags, sa, salen);
	}
	if ((r = decide_send(fd, buf, len, flags, sa, salen)) == 0)
		return shim_real.sendto(fd, buf, len, flags, sa, salen);
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
	if (shim_dns_fd(fd) && dns_leak(buf, len)) {
		errno = EACCES;
		return -1;
	}
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
 * for a Fast Open to tunnel (connect first), -1 with errno set.
 */
static int
decide_msg(int fd, const struct msghdr *msg, int flags)
{
	const void *b;
	size_t blen;

	b = first_iov(msg, &blen);
	if (msg->msg_name == NULL) {
		if (shim_dns_fd(fd) && dns_leak(b, blen)) {
			errno = EACCES;
			return -1;
		}
		return 0;
	}
	return decide_send(fd, b, blen, flags, msg->msg_name,
	    msg->msg_namelen);
}

/* The sendmsg() hook's work; syscall(SYS_sendmsg) comes here too. */
ssize_t
shim_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr plain;
	int r;

	if (shim_get(), shim_real.sendmsg == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (msg == NULL || (r = decide_msg(fd, msg, flags)) == 0)
		return shim_real.sendmsg(fd, msg, flags);
	if (r == -1)
		return -1;
	if (shim_connect(fd, msg->msg_name, msg->msg_namelen) == -1)
		return -1;
	plain = *msg;
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
 * tunnel: connected, then sent), or fails (-1, errno) when it is first.
 * Like the kernel, the count sent is returned and the caller goes on.
 */
int
shim_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	unsigned int i;
	ssize_t sent;
	int r = 0;

	if (shim_get(), shim_real.sendmmsg == NULL) {
		errno = ENOSYS;
		return -1;
	}
	for (i = 0; v != NULL && i < n; i++)
		if ((r = decide_msg(fd, &v[i].msg_hdr, flags)) != 0)
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
