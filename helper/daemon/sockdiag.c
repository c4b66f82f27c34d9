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
 * sockdiag.c - the kernel's word on a local TCP socket: its state, its
 * owner and its inode, found by its exact 4-tuple.
 *
 * Two questions need it.  Who is on the other end of a connection to one
 * of our loopback listeners (the proxy serves its own user only, so the
 * peer socket's owner uid decides), and is the program's parked socket
 * still the one in SYN_SENT towards our parking address (a socket that
 * gave up frees its port, which another program may then bind).  Neither
 * has an answer through the socket API: getpeername() says nothing of a
 * SYN_SENT socket, SO_PEERCRED exists only for UNIX sockets.
 *
 * NETLINK_SOCK_DIAG with an inet_diag request that is not a dump looks one
 * socket up the way the kernel routes a packet to it (established, then
 * listening).  Where that is missing (no inet_diag, netlink filtered) the
 * same facts come from /proc/net/tcp{,6}, one line per socket.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

/* One netlink socket for the helper's life: a lookup is two syscalls. */
static int diag_fd = -1;
static uint32_t diag_seq;

/* IPv4 and IPv4-mapped IPv6 as AF_INET, so both tables agree. */
static void
canon(const struct sockaddr *sa, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	struct sockaddr_in *sin = (void *)out;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		sin->sin_family = AF_INET;
		sin->sin_port = sin6->sin6_port;
		memcpy(&sin->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	} else if (sa->sa_family == AF_INET)
		memcpy(out, sa, sizeof(struct sockaddr_in));
	else
		memcpy(out, sa, sizeof(struct sockaddr_in6));
}

/* Address bytes and port (network order) of a canonical address. */
static const void *
addr_bytes(const struct sockaddr_storage *ss, uint16_t *port, size_t *len)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		*port = sin->sin_port;
		*len = 4;
		return &sin->sin_addr;
	}
	*port = sin6->sin6_port;
	*len = 16;
	return &sin6->sin6_addr;
}

/* The netlink lookup: 0, -1/ENOENT (no such socket), -1/other (ask /proc). */
static int
lookup_netlink(const struct sockaddr_storage *l,
    const struct sockaddr_storage *r, struct sockdiag *out)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	} reply;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct inet_diag_msg *dm;
	struct nlmsgerr *ne;
	const void *a;
	uint16_t port;
	size_t alen;
	ssize_t n;

	if (diag_fd == -1 && (diag_fd = socket(AF_NETLINK, SOCK_DGRAM |
	    SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) == -1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = ++diag_seq;
	msg.req.sdiag_family = l->ss_family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0u;
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	a = addr_bytes(l, &port, &alen);
	msg.req.id.idiag_sport = port;
	memcpy(msg.req.id.idiag_src, a, alen);
	a = addr_bytes(r, &port, &alen);
	msg.req.id.idiag_dport = port;
	memcpy(msg.req.id.idiag_dst, a, alen);
	if (sendto(diag_fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nl,
	    sizeof(nl)) != (ssize_t)sizeof(msg))
		return -1;
	/* The kernel answers before sendto returns; skip stale replies. */
	for (;;) {
		while ((n = recv(diag_fd, &reply, sizeof(reply),
		    MSG_DONTWAIT)) == -1 && errno == EINTR)
			;
		if (n < (ssize_t)sizeof(struct nlmsghdr) ||
		    !NLMSG_OK(&reply.nlh, (size_t)n)) {
			errno = EIO;
			return -1;
		}
		if (reply.nlh.nlmsg_seq == diag_seq)
			break;
	}
	if (reply.nlh.nlmsg_type == NLMSG_ERROR) {
		ne = NLMSG_DATA(&reply.nlh);
		errno = ne->error < 0 ? -ne->error : EIO;
		return -1;
	}
	if (reply.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    reply.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(*dm))) {
		errno = EIO;
		return -1;
	}
	dm = NLMSG_DATA(&reply.nlh);
	out->state = dm->idiag_state;
	out->uid = dm->idiag_uid;
	out->ino = dm->idiag_inode;
	return 0;
}

/* "0100007F:1F90" as /proc/net/tcp writes an address (host-order words). */
static void
proc_hex(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	uint32_t w[4];
	uint16_t port;
	size_t alen, i, off = 0;
	const void *a = addr_bytes(ss, &port, &alen);

	memcpy(w, a, alen);
	for (i = 0; i < alen / 4; i++)
		off += snprintf(buf + off, len - off, "%08X", w[i]);
	snprintf(buf + off, len - off, ":%04X", ntohs(port));
}

/* IPv4 as IPv4-mapped IPv6, as /proc/net/tcp6 lists a dual socket. */
static void
map4(const struct sockaddr_storage *ss, struct sockaddr_storage *out)
{
	const struct sockaddr_in *sin = (const void *)ss;
	struct sockaddr_in6 *sin6 = (void *)out;

	memset(out, 0, sizeof(*out));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = sin->sin_port;
	sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6->sin6_addr.s6_addr[12], &sin->sin_addr, 4);
}

/* One table of /proc/net: 0, or -1 with errno ENOENT (or why not read). */
static int
lookup_table(const char *path, const struct sockaddr_storage *l,
    const struct sockaddr_storage *r, struct sockdiag *out)
{
	char want_l[48], want_r[48], got_l[48], got_r[48], line[512];
	unsigned st;
	unsigned long uid, ino;
	FILE *f;
	int found = 0;

	proc_hex(l, want_l, sizeof(want_l));
	proc_hex(r, want_r, sizeof(want_r));
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*d: %47s %47s %x %*s %*s %*s %lu %*d %lu",
		    got_l, got_r, &st, &uid, &ino) == 5 &&
		    strcmp(got_l, want_l) == 0 && strcmp(got_r, want_r) == 0) {
			out->state = (int)st;
			out->uid = (uid_t)uid;
			out->ino = ino;
			found = 1;
		}
	fclose(f);
	if (!found)
		errno = ENOENT;
	return found ? 0 : -1;
}

/* /proc/net/tcp{,6}: an IPv4 pair may belong to an IPv6 socket too. */
static int
lookup_proc(const struct sockaddr_storage *l, const struct sockaddr_storage *r,
    struct sockdiag *out)
{
	struct sockaddr_storage l6, r6;

	if (l->ss_family == AF_INET6)
		return lookup_table("/proc/net/tcp6", l, r, out);
	if (lookup_table("/proc/net/tcp", l, r, out) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	map4(l, &l6);
	map4(r, &r6);
	return lookup_table("/proc/net/tcp6", &l6, &r6, out);
}

/*
 * The TCP socket in our network namespace whose own address is local and
 * whose peer is remote.  Returns 0 with its state (TCP_* numbers), owner
 * uid and inode in out; -1 with errno ENOENT when there is none, or
 * another errno when neither sock_diag nor /proc could be asked.  Note
 * that, as for a packet, a listener on local's port answers when no
 * connection matches: callers check the state.
 */
int
sockdiag_tcp(const struct sockaddr *local, const struct sockaddr *remote,
    struct sockdiag *out)
{
	struct sockaddr_storage l, r;

	canon(local, &l);
	canon(remote, &r);
	if (l.ss_family != r.ss_family ||
	    (l.ss_family != AF_INET && l.ss_family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (lookup_netlink(&l, &r, out) == 0)
		return 0;
	if (errno == ENOENT)
		return -1;
	return lookup_proc(&l, &r, out);
}

/*
 * The connecting side of a connection we accepted on loopback is another
 * socket on this machine: its owner, by the exact 4-tuple.  Anything
 * unclear (the peer gone already, no answer) is -1.
 */
int
sockdiag_peer_uid(int fd, uid_t *uid)
{
	struct sockaddr_storage self, peer;
	socklen_t slen = sizeof(self), plen = sizeof(peer);
	struct sockdiag d;

	if (getsockname(fd, (struct sockaddr *)&self, &slen) == -1 ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) == -1 ||
	    sockdiag_tcp((struct sockaddr *)&peer, (struct sockaddr *)&self,
	    &d) == -1)
		return -1;
	if (d.state != TCP_ESTABLISHED) {
		errno = ENOTCONN;
		return -1;
	}
	*uid = d.uid;
	return 0;
}

/*
 * Root is trusted too: it can read our keys and agent anyway, and a
 * setuid-root program we run (its sockets are root's) uses the proxy and
 * the responder through what the launcher gave it.
 */
int
uid_trusted(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}
