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
 * handover.c - a program's socket taken over: checked, parked, completed
 * or failed; its connection's kind (struct conn_ops) for relay.c.
 *
 * Parking.  The program's own socket arrives with the CONNECT request,
 * always non-blocking (the shim makes a blocking connect wait for us).  We
 * park it at once: connect it to a listener of ours whose accept queue is
 * full, so its SYN is dropped and it sits in SYN_SENT, polling neither
 * writable nor in error - exactly what a connect in progress looks like.
 * Then relay.c opens the direct-tcpip channel.
 *
 * On success we complete the parked connect from our side with a TCP
 * simultaneous open: a socket bound (SO_REUSEPORT) to the parking address
 * connects to the program socket's address; the program's SYN_SENT socket
 * sees the crossed SYN, and both ends reach ESTABLISHED.  The program's
 * socket goes straight from "in progress" to "connected", with no state in
 * between that a poller could wake up to; our end of the pair is the relay
 * socket (pump.c).  On failure we disconnect the parked socket (connect
 * AF_UNSPEC): the program sees the connect fail (SO_ERROR), and the shim
 * replaces the kernel's ECONNRESET with the reason recorded here
 * (handover_outcome()).
 *
 * The completion is never blind.  A parked socket can give up while the
 * channel opens (TCP_SYNCNT, TCP_USER_TIMEOUT, shutdown()) and free its
 * port for anyone to bind; the program can close it (our copy keeps it
 * alive).  So we complete only a socket the program still holds
 * (handover_held()) and the kernel still shows in SYN_SENT, from its
 * parking-time address towards the parking address, with its own inode
 * (sock_diag, still_parked()).  And since it may give up between that
 * check and our SYN, nothing is relayed until the pair is checked again
 * (PAIRING, pair_io()): the socket at the far end of our connection must
 * be the program's own, by inode.  Otherwise the channel is closed and
 * whoever answered is reset.
 *
 * Trust.  The socket arrives by SCM_RIGHTS: our copy shares the program's
 * open file, so everything on it - O_NONBLOCK, options, its network
 * namespace - is the program's to change at any moment, and our copy keeps
 * it alive even after the program has closed its own.  So the helper never
 * trusts one look: it refuses a socket it cannot park correctly (another
 * network namespace, bound to a device), parks it without ever blocking
 * whatever the program does to O_NONBLOCK, and asks again, at completion,
 * whether the program still holds it.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71		/* Linux 6.1 */
#endif

/* Are the two /proc/.../ns/net files the same namespace?  -1: unknown. */
static int
same_ns_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) == -1 || stat(b, &sb) == -1)
		return -1;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Is the socket in our network namespace?  The helper parks and completes
 * connections on its own loopback: a socket from another namespace would
 * be parked against whatever listens on that namespace's 127.0.0.1.  The
 * socket's own namespace (SO_NETNS_COOKIE, Linux 6.1) decides; before
 * that, the requesting process's.  Returns 1, 0, or 1 when nothing can
 * tell (the process's /proc entry closed to us).
 */
static int
same_netns(const struct helper *h, int fd, pid_t pid)
{
	uint64_t mine, theirs;
	socklen_t len = sizeof(theirs), mlen = sizeof(mine);
	char path[64];
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &theirs, &len) == 0 &&
	    getsockopt(h->park4, SOL_SOCKET, SO_NETNS_COOKIE, &mine,
	    &mlen) == 0)
		return theirs == mine;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	r = same_ns_file("/proc/self/ns/net", path);
	return r != 0;
}

/*
 * Can the program's socket be parked here?  Returns 0, or the errno the
 * program's connect gets, with the reason for the log in why.
 */
int
handover_check(struct helper *h, int fd, pid_t pid, char *why, size_t len)
{
	char dev[IFNAMSIZ + 1];
	socklen_t dlen = IFNAMSIZ;

	if (!same_netns(h, fd, pid)) {
		snprintf(why, len, "its socket is in another network "
		    "namespace than the helper; tunnelwrap parks connections on "
		    "the helper's loopback: run it in the helper's namespace, or "
		    "with its own helper (XDG_RUNTIME_DIR)");
		return ENETUNREACH;
	}
	/*
	 * SO_BINDTODEVICE (curl --interface): the parking SYN would leave
	 * through that device and never arrive.  A tunneled connection does
	 * not leave through any device of ours: say so at once.
	 */
	memset(dev, 0, sizeof(dev));
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dlen) == 0 &&
	    dev[0] != '\0' && strcmp(dev, "lo") != 0) {
		snprintf(why, len, "its socket is bound to device %s "
		    "(SO_BINDTODEVICE, e.g. curl --interface): a tunneled "
		    "connection leaves through the SSH session, not a device",
		    dev);
		return ENETUNREACH;
	}
	return 0;
}

/*
 * connect(2) the program's socket to sa without ever blocking.  The
 * program shares O_NONBLOCK with our copy and may clear it at any moment
 * (another thread; a shim that gave up waiting), and a blocking connect
 * towards the parking listener, which drops every SYN, would hold the
 * whole helper for the SYN retries (about 127 s).  Setting O_NONBLOCK
 * ourselves would leave a window as well; SO_SNDTIMEO bounds a blocking
 * connect instead (to one clock tick), after which it simply stays in
 * progress, as a non-blocking one does.  The option is the program's, so
 * it is put back.  Returns 0 when the connect is under way (or done), -1
 * with errno otherwise.
 */
int
handover_connect(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct timeval old, tick = { 0, 1 };
	socklen_t olen = sizeof(old);
	int r, e;

	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old, &olen) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tick, sizeof(tick)) == -1)
		return -1;
	r = connect(fd, sa, salen);
	e = errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old, sizeof(old));
	/* Timed out (blocking), interrupted, or restarted: still in progress. */
	if (r == -1 && e != EINPROGRESS && e != EALREADY && e != EINTR) {
		errno = e;
		return -1;
	}
	return 0;
}

/* Is socket:[ino] among pid's descriptors?  1, 0, or -1 (cannot look). */
static int
proc_holds(pid_t pid, uint64_t ino)
{
	char path[300], link[64], want[64];
	struct dirent *d;
	DIR *dir;
	ssize_t n;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -1;
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)ino);
	while (!found && (d = readdir(dir)) != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "/proc/%d/fd/%s",
		    (int)pid, d->d_name) >= sizeof(path) ||
		    (n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(dir);
	return found;
}

/*
 * Does the program still hold its socket (inode ino)?  Our copy (dup)
 * keeps the socket alive after the program closed it, so the socket itself
 * cannot tell; the program's descriptor table can.  kcmp(KCMP_FILE) says
 * whether its descriptor prog_fd (the number the shim sent) is still the
 * open file our dup is: one system call on the common path.  When it is
 * not (the program may have moved the socket with dup2), the inode is
 * looked for among all its descriptors before concluding.  A process that
 * is gone holds nothing.  Where neither can be asked (a non-dumpable
 * program, kcmp filtered by a seccomp profile) the answer is yes: the
 * caller's state checks still keep the stream from anyone else.  Returns
 * 1 or 0.
 */
int
handover_held(pid_t pid, int prog_fd, int dup, uint64_t ino)
{
	long r;
	int p;

	r = syscall(SYS_kcmp, (pid_t)getpid(), pid, KCMP_FILE, dup, prog_fd);
	if (r == 0)
		return 1;
	if (r == -1 && errno == ESRCH)
		return 0;
	if (r == -1 && errno != EBADF)
		return 1;
	p = proc_holds(pid, ino);
	return p != 0;
}

/* --- parking and completion --------------------------------------------- */

/* The parking listeners (IPv4, and IPv6 where there is ::1); fatal if not. */
void
handover_init(struct helper *h)
{
	h->park4 = park_open(AF_INET, &h->park4_addr, &h->park4_len,
	    &h->park_fill[0]);
	if (h->park4 == -1)
		fatal("parking listener on 127.0.0.1: %s", strerror(errno));
	h->park6 = park_open(AF_INET6, &h->park6_addr, &h->park6_len,
	    &h->park_fill[1]);
	if (h->park6 == -1)
		verbose("no IPv6 loopback: IPv6 sockets park v4-mapped");
}

/* Where a socket of family parks: ::1, else the v4-mapped 127.0.0.1. */
static socklen_t
park_addr(const struct helper *h, int family, struct sockaddr_storage *out)
{
	const struct sockaddr_in *v4 = (const void *)&h->park4_addr;
	struct sockaddr_in6 *m = (void *)out;

	if (family == AF_INET) {
		*out = h->park4_addr;
		return h->park4_len;
	}
	if (h->park6 != -1) {
		*out = h->park6_addr;
		return h->park6_len;
	}
	memset(out, 0, sizeof(*out));
	m->sin6_family = AF_INET6;
	m->sin6_port = v4->sin_port;
	m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m->sin6_addr.s6_addr[12], &v4->sin_addr, 4);
	return sizeof(*m);
}

/* A v4-mapped IPv6 address as plain IPv4 (what is on the wire). */
static void
unmap(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (void *)ss;
	struct sockaddr_in sin;

	if (ss->ss_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
}

static int
sock_family(int fd)
{
	int dom;
	socklen_t len = sizeof(dom);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == -1)
		return -1;
	return dom;
}

static void
record_outcome(struct helper *h, uint64_t ino, int err)
{
	struct outcome *o = &h->outcomes[h->next_outcome++ % OUTCOMES];

	o->ino = ino;
	o->err = err;
}

/* The errno a failed hand-over of socket ino gave, or 0 if none known. */
int
handover_outcome(struct helper *h, uint64_t ino)
{
	size_t i;

	for (i = 0; i < OUTCOMES; i++)
		if (h->outcomes[i].ino == ino && ino != 0)
			return h->outcomes[i].err;
	return 0;
}

/*
 * Fail a parked connect: disconnecting it (connect AF_UNSPEC) is the one
 * state change, straight to "failed", that a poller sees.
 */
static void
unpark_failed(struct conn *c)
{
	struct sockaddr unspec;

	memset(&unspec, 0, sizeof(unspec));
	unspec.sa_family = AF_UNSPEC;
	if (connect(c->sockdup, &unspec, sizeof(unspec)) == -1)
		debug("conn %llu: disconnect: %s", (unsigned long long)c->id,
		    strerror(errno));
}

/* Same family (v4-mapped counts as IPv4), address and port? */
static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct sockaddr_storage x = *a, y = *b;
	const struct sockaddr_in *x4 = (void *)&x, *y4 = (void *)&y;
	const struct sockaddr_in6 *x6 = (void *)&x, *y6 = (void *)&y;

	unmap(&x);
	unmap(&y);
	if (x.ss_family != y.ss_family)
		return 0;
	if (x.ss_family == AF_INET)
		return x4->sin_port == y4->sin_port &&
		    x4->sin_addr.s_addr == y4->sin_addr.s_addr;
	return x.ss_family == AF_INET6 && x6->sin6_port == y6->sin6_port &&
	    IN6_ARE_ADDR_EQUAL(&x6->sin6_addr, &y6->sin6_addr);
}

/*
 * Is the program's socket still parked: the kernel's socket with the
 * 4-tuple it parked with (its address then, the parking address) is in
 * SYN_SENT and is the program's (inode)?  One that gave up has left
 * SYN_SENT and freed its port; one connected again goes elsewhere.
 */
static int
still_parked(const struct conn *c)
{
	struct sockaddr_storage park;
	struct sockdiag d;

	park_addr(c->h, c->family, &park);
	return sockdiag_tcp((const struct sockaddr *)&c->local_addr,
	    (const struct sockaddr *)&park, &d) == 0 &&
	    d.state == TCP_SYN_SENT && d.ino == c->ino;
}

/*
 * The channel opened, but the program's socket no longer waits for it
 * (why): nobody gets the stream.  Closing the conn closes the channel at
 * the bastion and resets whatever our relay socket reached.  A socket
 * still parked fails as a connect fails; any other is left alone: it is
 * not ours to touch.
 */
static void
abandon_parked(struct conn *c, const char *why)
{
	verbose("conn %llu: %s:%u: %s: channel closed, nothing relayed",
	    (unsigned long long)c->id, c->host, c->port, why);
	if (c->parked && !still_parked(c))
		c->parked = 0;
	relay_failed(c, ECONNABORTED);
}

/*
 * Our completing connect finished (or failed).  Relay only if the socket
 * at the far end of it is the program's own: the kernel's socket with the
 * mirror 4-tuple (the program's parking-time address, our parking
 * address) must carry the program socket's inode and be connected.  A
 * 4-tuple names one connection, so that is the program's socket talking
 * to ours.  Anything else - the port taken by another listener between
 * the check and our SYN, nobody there - closes the channel.
 */
static void
pair_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct conn *c = w->arg;
	struct sockaddr_storage self, peer;
	socklen_t slen = sizeof(self), plen = sizeof(peer);
	socklen_t elen = sizeof(int);
	struct sockdiag d;
	int err = 0;

	(void)events;
	if (c->dead || c->state != CONN_PAIRING)
		return;
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
	    err != 0 ||
	    getsockname(w->fd, (struct sockaddr *)&self, &slen) == -1 ||
	    getpeername(w->fd, (struct sockaddr *)&peer, &plen) == -1) {
		if (err == 0 && errno == ENOTCONN)
			return;			/* not yet */
		abandon_parked(c, "nobody answered at the program's port");
		return;
	}
	if (!same_addr(&peer, &c->local_addr) ||
	    sockdiag_tcp((struct sockaddr *)&c->local_addr,
	    (struct sockaddr *)&self, &d) == -1 || d.ino != c->ino ||
	    (d.state != TCP_ESTABLISHED && d.state != TCP_FIN_WAIT1 &&
	    d.state != TCP_FIN_WAIT2)) {
		abandon_parked(c, "another socket took the program's port");
		return;
	}
	/* Our copy must go: the program's close() has to really close it. */
	close(c->sockdup);
	c->sockdup = -1;
	c->parked = 0;
	c->local.fn = pump_io;
	c->state = CONN_OPEN;
	/* Writable now; deliver what already arrived. */
	c->down_blocked = 1;
	pump_update(c);
	session_update_interest(h);
}

/*
 * Complete the parked connect by a simultaneous open from the parking
 * address (see the top of this file).  Our socket becomes the relay end.
 */
static int
complete_parked(struct conn *c)
{
	struct helper *h = c->h;
	struct sockaddr_storage prog, park;
	socklen_t plen, klen;
	int fd, one = 1;

	/* The address it parked from: one that gave up reports 0.0.0.0. */
	prog = c->local_addr;
	/* A SYN_SENT socket reports no peer: recompute where it parked. */
	park_addr(h, c->family, &park);
	unmap(&prog);
	unmap(&park);
	klen = park.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	plen = klen;
	if ((fd = socket(park.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* On loopback a crossing SYN is never lost: one unanswered means
	 * the port is not the program's any more; fail in ~3 s, not 2 min. */
	setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&park, klen) == -1 ||
	    (connect(fd, (struct sockaddr *)&prog, plen) == -1 &&
	    errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * Connect a program's UNIX socket to us: a private abstract listener,
 * our connect on the program's socket (immediate: the backlog has room),
 * then the accept, checked to be our own connect (SO_PEERCRED pid) so that
 * nobody else can slip into the window.  Returns our end or -1.
 */
static int
unix_pair(struct conn *c)
{
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t len = sizeof(cred), alen;
	int l, fd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	alen = offsetof(struct sockaddr_un, sun_path) + 1 +
	    snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "tunnelwrap.%d.%llu", (int)getpid(), (unsigned long long)c->id);
	if ((l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(l, (struct sockaddr *)&sun, alen) == -1 || listen(l, 1) == -1 ||
	    connect(c->sockdup, (struct sockaddr *)&sun, alen) == -1 ||
	    (fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.pid != getpid()) {
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	close(l);
	return fd;
}

/*
 * The channel opened: complete the parked connect (see the top of this
 * file); the bytes flow once the pair is checked (pair_io()).
 */
static void
tcp_opened(struct conn *c)
{
	int fd;

	if (!handover_held(c->pid, c->prog_fd, c->sockdup, c->ino)) {
		abandon_parked(c, "the program closed its socket");
		return;
	}
	if (!still_parked(c)) {
		abandon_parked(c, "the program's connect gave up");
		return;
	}
	if ((fd = complete_parked(c)) == -1) {
		error("conn %llu: completing the connect: %s",
		    (unsigned long long)c->id, strerror(errno));
		relay_failed(c, ECONNABORTED);
		return;
	}
	c->local.fd = fd;
	c->local.fn = pair_io;
	c->state = CONN_PAIRING;
	watch_set(c->h, &c->local, EPOLLOUT);
}

/* The channel opened: connect the program's UNIX socket to us, answer. */
static void
unix_opened(struct conn *c)
{
	int fd;

	if ((fd = unix_pair(c)) == -1) {
		relay_failed(c, ECONNABORTED);
		return;
	}
	ctl_reply(c->ctl, PROTO_CONNECT, 0, NULL, 0);
	close(c->ctl);
	c->ctl = -1;
	/* Our copy must go: the program's close() has to really close it. */
	close(c->sockdup);
	c->sockdup = -1;
	c->local.fd = fd;
	c->state = CONN_OPEN;
	/* Writable once established; then deliver what already arrived. */
	c->down_blocked = 1;
	pump_update(c);
}

/*
 * No channel for the program's socket (err): recorded before the program
 * can observe it, then a parked connect fails, and a request still
 * waiting for its answer gets err.
 */
static void
handover_failed(struct conn *c, int err)
{
	record_outcome(c->h, c->ino, err);
	if (c->parked && c->sockdup >= 0)
		unpark_failed(c);
	if (c->ctl >= 0) {
		ctl_reply(c->ctl, PROTO_CONNECT, err, NULL, 0);
		close(c->ctl);
		c->ctl = -1;
	}
}

/* A direct-streamlocal channel to c's path: SSH_OK, SSH_AGAIN, ... */
static int
unix_open(struct conn *c)
{
	return ssh_channel_open_forward_unix(c->ch, c->host, "127.0.0.1", 0);
}

static int	parked_wanted(struct conn *);

/* A program's TCP socket, parked, then completed or failed. */
static const struct conn_ops tcp_ops = {
	.name = "handover",
	.open = relay_open_direct,
	.opened = tcp_opened,
	.failed = handover_failed,
	.wanted = parked_wanted,
};

/* A program's AF_UNIX socket (`tunnel unix:`): answered when open. */
static const struct conn_ops unix_ops = {
	.name = "handover unix",
	.open = unix_open,
	.opened = unix_opened,
	.failed = handover_failed,
};

/* Check the handed-over socket; returns 0 or the errno to answer. */
static int
check_socket(struct conn *c, int fd)
{
	struct sockaddr_storage peer;
	struct stat st;
	socklen_t len;
	int type, flags;

	len = sizeof(type);
	if (fd < 0 || fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM || (c->family = sock_family(fd)) == -1 ||
	    (c->family != AF_INET && c->family != AF_INET6))
		return EINVAL;
	c->ino = st.st_ino;
	len = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
		return EISCONN;
	/* Parking a blocking socket would block us: the shim never sends one. */
	if ((flags = fcntl(fd, F_GETFL)) == -1 || !(flags & O_NONBLOCK))
		return EINVAL;
	return 0;
}

/* `tunnel unix:PATH`: open a direct-streamlocal channel, reply when done. */
static void
request_unix(struct conn *c, const struct proto_connect *req)
{
	int type = 0;
	socklen_t len = sizeof(type);

	c->ops = &unix_ops;
	snprintf(c->host, sizeof(c->host), "%s", req->host);
	if (c->host[0] != '/' || c->sockdup < 0 ||
	    sock_family(c->sockdup) != AF_UNIX ||
	    getsockopt(c->sockdup, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		relay_failed(c, EINVAL);	/* abstract names stay local */
		return;
	}
	if (log_level() >= LOG_VERBOSE)
		verbose("conn %llu: %s[%d] -> unix:%s (%s)",
		    (unsigned long long)c->id, relay_comm(c), (int)c->pid,
		    c->host, c->rule);
	if (!c->h->session_up) {
		relay_failed(c, ENETUNREACH);
		return;
	}
	relay_start(c);
}

/*
 * A program's CONNECT request with its socket (sockfd, ours to keep): park
 * it and open the channel, answering on ctl (EINPROGRESS, or an errno).
 */
void
handover_request(struct helper *h, int ctl, const struct proto_connect *req,
    int sockfd, pid_t pid)
{
	struct conn *c = relay_conn_new(h, &tcp_ops, "");
	struct sockaddr_storage ss;
	socklen_t len;
	const char *name;
	char why[256];
	int err;

	c->ctl = ctl;
	c->sockdup = sockfd;
	c->prog_fd = req->fd;
	c->pid = pid;
	c->port = req->dest.port;
	c->dest = req->dest;
	snprintf(c->rule, sizeof(c->rule), "%.*s", (int)sizeof(req->rule) - 1,
	    req->rule);
	if (memchr(req->host, '\0', sizeof(req->host)) == NULL) {
		relay_failed(c, EINVAL);
		return;
	}
	if (req->flags & PROTO_CONNECT_UNIX) {
		request_unix(c, req);
		return;
	}
	if (req->host[0] != '\0')
		snprintf(c->host, sizeof(c->host), "%s", req->host);
	else if ((name = names_lookup(&h->names, &req->dest)) != NULL)
		snprintf(c->host, sizeof(c->host), "%s", name);
	else if (proto_addr_to_sockaddr(&req->dest, &ss) == 0 ||
	    inet_ntop(req->dest.family, req->dest.addr, c->host,
	    sizeof(c->host)) == NULL) {
		relay_failed(c, EINVAL);
		return;
	}
	names_ref(&h->names, c->host, 1);
	c->named = 1;
	if ((err = check_socket(c, sockfd)) != 0) {
		relay_failed(c, err);
		return;
	}
	if ((err = handover_check(h, sockfd, pid, why, sizeof(why))) != 0) {
		snprintf(h->notice, sizeof(h->notice), "%.30s[%d] -> %.100s:%u "
		    "refused: %s", relay_comm(c), (int)pid, c->host, c->port,
		    why);
		verbose("conn %llu: %s", (unsigned long long)c->id, h->notice);
		relay_failed(c, err);
		return;
	}
	if (log_level() >= LOG_VERBOSE)
		verbose("conn %llu: %s[%d] -> %s:%u (%s)",
		    (unsigned long long)c->id, relay_comm(c), (int)pid, c->host,
		    c->port, c->rule);
	len = park_addr(h, c->family, &ss);
	if (handover_connect(sockfd, (struct sockaddr *)&ss, len) == -1) {
		relay_failed(c, errno);
		return;
	}
	c->parked = 1;
	len = sizeof(c->local_addr);
	getsockname(sockfd, (struct sockaddr *)&c->local_addr, &len);
	/* The channel open goes out first: the bastion's round trip starts
	 * while we answer the program. */
	relay_start_or_wait(c);
	if (c->ctl >= 0) {
		ctl_reply(ctl, PROTO_CONNECT, EINPROGRESS, NULL, 0);
		close(ctl);
		c->ctl = -1;
	}
}

/*
 * The destination of the tunneled connection whose program end has local
 * address local (after exec the shim has forgotten it); NULL if none.
 */
const struct proto_addr *
handover_peer(struct helper *h, const struct proto_addr *local)
{
	struct proto_addr a;
	struct conn *c;

	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->dead)
			continue;
		proto_addr_from_sockaddr(&a, (struct sockaddr *)&c->local_addr);
		if (a.family == local->family && a.port == local->port &&
		    memcmp(a.addr, local->addr, 16) == 0)
			return &c->dest;
	}
	return NULL;
}

/*
 * A parked socket waited out a reconnect: does the program still want
 * it?  If it closed the socket, or its connect gave up, no channel is
 * opened for it at all.  Returns 1, or 0 with the conn failed.
 */
static int
parked_wanted(struct conn *c)
{
	if (!c->parked)
		return 1;
	if (!handover_held(c->pid, c->prog_fd, c->sockdup, c->ino)) {
		verbose("conn %llu: %s:%u: the program closed its socket while "
		    "the session was down: no channel", (unsigned long long)c->id,
		    c->host, c->port);
		c->state = CONN_FAILED;
		relay_failed(c, ECONNABORTED);
		return 0;
	}
	if (!still_parked(c)) {
		verbose("conn %llu: %s:%u: the program's connect gave up while "
		    "the session was down: no channel",
		    (unsigned long long)c->id, c->host, c->port);
		c->parked = 0;
		c->state = CONN_FAILED;
		relay_failed(c, ETIMEDOUT);
		return 0;
	}
	return 1;
}
