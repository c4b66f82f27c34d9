/*
 * relay.c - tunneled connections: channel open, hand-over, byte relay.
 *
 * Hand-over.  The program's own socket arrives with the CONNECT request,
 * always non-blocking (the shim makes a blocking connect wait for us).  We
 * park it at once: connect it to a listener of ours whose accept queue is
 * full, so its SYN is dropped and it sits in SYN_SENT, polling neither
 * writable nor in error - exactly what a connect in progress looks like.
 * Then we open the direct-tcpip channel.
 *
 * On success we complete the parked connect from our side with a TCP
 * simultaneous open: a socket bound (SO_REUSEPORT) to the parking address
 * connects to the program socket's address; the program's SYN_SENT socket
 * sees the crossed SYN, and both ends reach ESTABLISHED.  The program's
 * socket goes straight from "in progress" to "connected", with no state in
 * between that a poller could wake up to; our end of the pair is the relay
 * socket.  On failure we disconnect the parked socket (connect AF_UNSPEC):
 * the program sees the connect fail (SO_ERROR), and the shim replaces the
 * kernel's ECONNRESET with the reason recorded here (relay_outcome()).
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
 * Relay.  Each direction moves only when the other side can take it:
 * local -> channel reads at most the remote window (and nothing while the
 * session's output is backed up); channel -> local writes from libssh's
 * buffer in the data callback and leaves what the socket refuses in libssh,
 * which then stops growing the window.  So memory per connection is
 * bounded by the SSH window, whatever the reader's speed.  Half-close
 * follows OpenSSH's nchan: EOF from the program becomes channel EOF, channel
 * EOF becomes shutdown(SHUT_WR) once every byte before it is delivered.
 *
 * libssh re-entrancy: channel calls may run callbacks of other channels.
 * Callbacks only move bytes and set flags; conns are freed in relay_reap().
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "helper.h"
#include "log.h"

#define IOBUF_LEN	(256 * 1024)	/* one read from a local socket */
#define DOWN_CHUNK	(64 * 1024)
/*
 * Data libssh holds for a channel beyond what it can legitimately hold: it
 * grants 1.28 MB of window and tops it up only below 640 KB queued, and
 * window.c grants at most the connection's target (on_data adds it).  A
 * bastion that sends past that ignores flow control.
 */
#define BACKLOG_MAX	(4 * 1024 * 1024)
#define OPEN_TIMEOUT	60		/* seconds for a channel to open */
#define READS_PER_EVENT	4		/* fairness between connections */

static void	local_io(struct helper *, struct watch *, uint32_t);
static void	pair_io(struct helper *, struct watch *, uint32_t);
static void	conn_update(struct conn *);
static void	conn_start(struct conn *);
static void	conn_kill(struct conn *);
static int	up_write(struct conn *, const char *, size_t);

/* --- parking ------------------------------------------------------------ */

void
relay_init(struct helper *h)
{
	h->park4 = park_open(AF_INET, &h->park4_addr, &h->park4_len,
	    &h->park_fill[0]);
	if (h->park4 == -1)
		fatal("parking listener on 127.0.0.1: %s", strerror(errno));
	h->park6 = park_open(AF_INET6, &h->park6_addr, &h->park6_len,
	    &h->park_fill[1]);
	if (h->park6 == -1)
		verbose("no IPv6 loopback: IPv6 sockets park v4-mapped");
	h->iobuf_len = IOBUF_LEN;
	if ((h->iobuf = malloc(h->iobuf_len)) == NULL)
		fatal("out of memory");
	TAILQ_INIT(&h->conns);
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

/* --- outcomes ----------------------------------------------------------- */

static void
record_outcome(struct helper *h, uint64_t ino, int err)
{
	struct outcome *o = &h->outcomes[h->next_outcome++ % OUTCOMES];

	o->ino = ino;
	o->err = err;
}

int
relay_outcome(struct helper *h, uint64_t ino)
{
	size_t i;

	for (i = 0; i < OUTCOMES; i++)
		if (h->outcomes[i].ino == ino && ino != 0)
			return h->outcomes[i].err;
	return 0;
}

/* --- channel callbacks -------------------------------------------------- */

static int
down_pending(const struct conn *c)
{
	return c->down.off < c->down.len || c->down_blocked;
}

static void
local_shutdown(struct conn *c)
{
	if (c->local_shut || c->local.fd < 0)
		return;
	shutdown(c->local.fd, SHUT_WR);
	c->local_shut = 1;
}

/* The data callback's work: returns how many of len bytes were taken. */
static int
deliver(struct conn *c, void *data, uint32_t len, int is_stderr)
{
	ssize_t n;

	if (is_stderr && c->exec != NULL)
		return exec_stderr(c, data, len);
	if (is_stderr || c->dead || c->local_broken)
		return (int)len;		/* nobody to deliver to */
	if (len > BACKLOG_MAX + c->win.target) {
		error("conn %llu: %s:%u: the bastion ignored the channel window "
		    "(%u bytes queued): resetting the connection",
		    (unsigned long long)c->id, c->host, c->port, len);
		c->local_broken = 1;
		conn_kill(c);
		return (int)len;
	}
	if (c->state != CONN_OPEN || c->in_flush || down_pending(c))
		return 0;			/* keep order: flush first */
	if (c->x11_filter) {
		c->down_blocked = 1;		/* down_flush rewrites it */
		conn_update(c);
		return 0;
	}
	n = send(c->local.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			c->down_blocked = 1;
			conn_update(c);
			return 0;
		}
		debug("conn %llu: local write: %s",
		    (unsigned long long)c->id, strerror(errno));
		c->local_broken = 1;
		c->h->need_reap = 1;
		return (int)len;
	}
	c->bytes_down += n;
	if ((uint32_t)n < len) {
		c->down_blocked = 1;
		conn_update(c);
	}
	return (int)n;
}

static int
on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct conn *c = userdata;
	int taken;

	(void)s;
	(void)ch;
	taken = deliver(c, data, len, is_stderr);
	if (!is_stderr)
		window_data(c, len, (uint32_t)taken);
	return taken;
}

static void
on_eof(ssh_session s, ssh_channel ch, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)ch;
	c->remote_eof = 1;
	if (c->state == CONN_OPEN && !down_pending(c))
		local_shutdown(c);
	c->h->need_reap = 1;
}

static void
on_close(ssh_session s, ssh_channel ch, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)ch;
	c->remote_eof = 1;
	c->remote_closed = 1;
	if (c->state == CONN_OPEN && !down_pending(c))
		local_shutdown(c);
	c->h->need_reap = 1;
}

/* --- connection life ---------------------------------------------------- */

static void
conn_kill(struct conn *c)
{
	c->dead = 1;
	c->h->need_reap = 1;
}

/* SSH channel-open failure -> the errno a TCP connect would have given. */
static int
open_errno(ssh_session s)
{
	const char *e = ssh_get_error(s), *p;
	int code;

	if ((p = strstr(e, "error (")) == NULL ||
	    sscanf(p, "error (%d)", &code) != 1)
		return ENETUNREACH;		/* session trouble */
	if (code == 1)				/* administratively prohibited */
		return EACCES;
	if (strstr(p, "timed out") != NULL)
		return ETIMEDOUT;
	if (strstr(p, "No route") != NULL)
		return EHOSTUNREACH;
	if (strstr(p, "unreachable") != NULL)
		return ENETUNREACH;
	if (strstr(p, "not known") != NULL || strstr(p, "name resolution") ||
	    strstr(p, "unknown host") != NULL || strstr(p, "No address"))
		return EHOSTUNREACH;
	return ECONNREFUSED;
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

/*
 * The bastion forbids forwarding: say so once per session at the default
 * level (and in -O status), every time at -v, with the keywords to check.
 */
static void
note_prohibited(struct conn *c)
{
	struct helper *h = c->h;

	snprintf(h->notice, sizeof(h->notice), "the bastion refused a "
	    "channel to %.200s:%u (administratively prohibited): check sshd_config "
	    "AllowTcpForwarding and PermitOpen there", c->host, c->port);
	if (!h->told_prohibited) {
		logit("%s", h->notice);
		h->told_prohibited = 1;
	} else
		verbose("%s", h->notice);
}

static void
conn_failed(struct conn *c, int err)
{
	verbose("conn %llu: %s:%u: %s", (unsigned long long)c->id, c->host,
	    c->port, strerror(err));
	if (err == EACCES && c->state == CONN_OPENING)
		note_prohibited(c);
	/* Recorded before the program can observe the failure. */
	record_outcome(c->h, c->ino, err);
	if (c->kind == CONN_ACCEPTED) {
		if (c->hooks != NULL)
			c->hooks->failed(c, err);
		c->graceful = 1;		/* let the error reply arrive */
	} else if (c->kind == CONN_EXEC) {
		c->exec->failure = err;
		c->graceful = 1;
	} else {
		if (c->parked && c->sockdup >= 0)
			unpark_failed(c);
		if (c->ctl >= 0) {
			ctl_reply(c->ctl, PROTO_CONNECT, err, NULL, 0);
			close(c->ctl);
			c->ctl = -1;
		}
	}
	if (c->sockdup >= 0) {
		close(c->sockdup);
		c->sockdup = -1;
	}
	conn_kill(c);
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
	conn_failed(c, ECONNABORTED);
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
	c->local.fn = local_io;
	c->state = CONN_OPEN;
	/* Writable now; deliver what already arrived. */
	c->down_blocked = 1;
	conn_update(c);
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

static void
conn_opened(struct conn *c)
{
	int fd;

	debug("conn %llu: channel open to %s:%u", (unsigned long long)c->id,
	    c->host, c->port);
	if (c->kind == CONN_ACCEPTED || c->kind == CONN_EXEC) {
		/* What a held part of it waits for: up_write() arranges. */
		if (c->pre.len > 0 && up_write(c, c->pre.data, c->pre.len) < 0) {
			conn_failed(c, ECONNABORTED);
			return;
		}
		free(c->pre.data);
		c->pre.data = NULL;
		c->pre.len = 0;
		if (c->hooks != NULL)
			c->hooks->opened(c);
		c->state = CONN_OPEN;
		c->down_blocked = 1;
		conn_update(c);
		return;
	}
	if (c->kind == CONN_UNIX) {
		if ((fd = unix_pair(c)) == -1) {
			conn_failed(c, ECONNABORTED);
			return;
		}
		ctl_reply(c->ctl, PROTO_CONNECT, 0, NULL, 0);
		close(c->ctl);
		c->ctl = -1;
	} else {
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
			conn_failed(c, ECONNABORTED);
			return;
		}
		c->local.fd = fd;
		c->local.fn = pair_io;
		c->state = CONN_PAIRING;
		watch_set(c->h, &c->local, EPOLLOUT);
		return;
	}
	/* Our copy must go: the program's close() has to really close it. */
	close(c->sockdup);
	c->sockdup = -1;
	c->local.fd = fd;
	c->state = CONN_OPEN;
	/* Writable once established; then deliver what already arrived. */
	c->down_blocked = 1;
	conn_update(c);
}

/* Try to advance a channel open; returns 1 if the conn left OPENING. */
static int
conn_try_open(struct conn *c)
{
	int rc;

	if (c->kind == CONN_EXEC)
		rc = exec_try_open(c);
	else if (c->kind == CONN_UNIX)
		rc = ssh_channel_open_forward_unix(c->ch, c->host, "127.0.0.1",
		    0);
	else
		rc = ssh_channel_open_forward(c->ch, c->host, c->port,
		    "127.0.0.1", 0);
	if (rc == SSH_AGAIN) {
		c->h->open_retries++;
		if (monotime() >= c->deadline && !c->abandoned) {
			/* Answer the program now; reap the channel later. */
			c->abandoned = 1;
			conn_failed(c, ETIMEDOUT);
			c->dead = 0;
		}
		return 0;
	}
	c->h->nopening--;
	if (c->abandoned) {
		conn_kill(c);
		return 1;
	}
	if (rc == SSH_OK)
		conn_opened(c);
	else {
		/* The bastion's own words, like ssh's "open failed: ...". */
		verbose("conn %llu: %s:%u: %s", (unsigned long long)c->id,
		    c->host, c->port, ssh_get_error(c->h->ssh));
		conn_failed(c, open_errno(c->h->ssh));
	}
	return 1;
}

/*
 * Did some channel open get refused since the last scan?  libssh marks a
 * refusal only in the session's error text ("Channel opening failure:
 * channel N error (...)", what open_errno() reads), so any change of that
 * text since the last scan says yes.  Updates the copy.
 */
static int
open_refused(struct helper *h)
{
	const char *e = ssh_get_error(h->ssh);

	if (strncmp(e, h->open_err, sizeof(h->open_err) - 1) == 0)
		return 0;
	strlcpy(h->open_err, e, sizeof(h->open_err));
	return 1;
}

/*
 * Can asking again for c's channel open make progress?  Each retry of an
 * open still unanswered makes libssh poll the session socket (and may run
 * other channels' callbacks): retrying every opening channel after every
 * pump was O(n^2) in a connection storm.  An answer is one of two packets
 * that libssh has already processed in the pump: a confirmation opens the
 * channel (a flag read for free), a refusal changes the session's error
 * text (open_refused()).  So only confirmed opens are retried, unless full
 * (some open was refused, or a second passed: deadlines).  A remote
 * command advances through channel requests, whose answers leave no such
 * mark: it is asked on every pump, as before; there are few.
 */
static int
open_may_advance(struct conn *c, int full)
{
	return full || c->kind == CONN_EXEC || ssh_channel_is_open(c->ch);
}

/* Our callbacks on c's channel (libssh keeps a pointer to c->cb). */
static void
conn_callbacks(struct conn *c)
{
	c->cb.userdata = c;
	c->cb.channel_data_function = on_data;
	c->cb.channel_eof_function = on_eof;
	c->cb.channel_close_function = on_close;
	if (c->kind == CONN_EXEC) {
		c->cb.channel_exit_status_function = exec_exit_status;
		c->cb.channel_exit_signal_function = exec_exit_signal;
	}
	ssh_callbacks_init(&c->cb);
	ssh_set_channel_callbacks(c->ch, &c->cb);
}

/* Open the channel now, or wait for a reconnect (up to ConnectTimeout). */
static void
conn_start_or_wait(struct conn *c)
{
	if (c->h->session_up) {
		conn_start(c);
		return;
	}
	c->state = CONN_WAITING;
	c->deadline = monotime() + c->h->cfg.connect_timeout;
	c->h->nqueued++;
}

/* Create the channel and send the open; the conn goes OPENING. */
static void
conn_start(struct conn *c)
{
	struct helper *h = c->h;

	if ((c->ch = ssh_channel_new(h->ssh)) == NULL) {
		c->state = CONN_FAILED;
		conn_failed(c, ENOMEM);
		return;
	}
	conn_callbacks(c);
	c->state = CONN_OPENING;
	c->deadline = monotime() + OPEN_TIMEOUT;
	h->nopening++;
	conn_try_open(c);
}

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

static struct conn *
conn_new(struct helper *h, enum conn_kind kind, const char *rule)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("out of memory");
	c->h = h;
	c->kind = kind;
	c->id = ++h->next_id;
	c->ctl = -1;
	c->sockdup = -1;
	c->local.fd = -1;
	c->local.fn = local_io;
	c->local.arg = c;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	strlcpy(c->rule, rule, sizeof(c->rule));
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	h->nconns++;
	h->total_conns++;
	return c;
}

struct conn *
relay_accepted(struct helper *h, int fd, const char *host, uint16_t port,
    const char *origin, const struct accept_hooks *hooks, int proxy,
    const void *pre, size_t prelen)
{
	struct conn *c = conn_new(h, CONN_ACCEPTED, origin);
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->local.fd = fd;
	c->hooks = hooks;
	c->proxy = proxy;
	c->port = port;
	c->pid = getpid();
	strlcpy(c->comm, origin, sizeof(c->comm));
	strlcpy(c->host, host, sizeof(c->host));
	if (prelen > 0) {
		if ((c->pre.data = malloc(prelen)) == NULL)
			fatal("out of memory");
		memcpy(c->pre.data, pre, prelen);
		c->pre.len = prelen;
	}
	verbose("conn %llu: %s -> %s:%u", (unsigned long long)c->id, origin,
	    host, port);
	conn_start_or_wait(c);
	return c;
}

int
relay_dial(const char *host, uint16_t port)
{
	struct addrinfo hints, *res = NULL;
	char serv[8];
	int fd = -1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0 || res == NULL) {
		errno = EHOSTUNREACH;
		return -1;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) != -1 &&
	    connect(fd, res->ai_addr, res->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(res);
	return fd;
}

void
relay_forwarded(struct helper *h, ssh_channel ch, const char *host,
    uint16_t port, const char *origin, const char *from, int fromport)
{
	struct conn *c = conn_new(h, CONN_FORWARDED, origin);
	int fd;

	c->ch = ch;
	c->port = port;
	c->pid = getpid();
	snprintf(c->comm, sizeof(c->comm), "-R");
	strlcpy(c->host, host, sizeof(c->host));
	conn_callbacks(c);
	verbose("conn %llu: %s from %s:%d -> %s:%u", (unsigned long long)c->id,
	    origin, from ? from : "?", fromport, host, port);
	if ((fd = relay_dial(host, port)) == -1) {
		verbose("conn %llu: %s: cannot connect to %s:%u: %s",
		    (unsigned long long)c->id, origin, host, port,
		    strerror(errno));
		conn_kill(c);
		return;
	}
	c->local.fd = fd;
	c->state = CONN_LOCAL;
	watch_set(h, &c->local, EPOLLOUT);
}

struct conn *
relay_forwarded_unix(struct helper *h, ssh_channel ch, const char *path,
    const char *origin)
{
	struct conn *c = conn_new(h, CONN_FORWARDED, origin);
	struct sockaddr_un sun;
	int fd;

	c->ch = ch;
	c->pid = getpid();
	strlcpy(c->comm, origin, sizeof(c->comm));
	strlcpy(c->host, path, sizeof(c->host));
	conn_callbacks(c);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		conn_kill(c);
		return c;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		verbose("conn %llu: %s: cannot connect to %s: %s",
		    (unsigned long long)c->id, origin, path, strerror(errno));
		close(fd);
		conn_kill(c);
		return c;
	}
	c->local.fd = fd;
	c->state = CONN_LOCAL;
	watch_set(h, &c->local, EPOLLOUT);
	return c;
}

struct conn *
relay_exec(struct helper *h, int fd, struct exec_state *x)
{
	struct conn *c = conn_new(h, CONN_EXEC, "-e");

	c->local.fd = fd;
	c->exec = x;
	c->pid = getpid();
	strlcpy(c->comm, "-e", sizeof(c->comm));
	strlcpy(c->host, x->cmd, sizeof(c->host));
	conn_start_or_wait(c);
	return c;
}

/*
 * The program's name, read from /proc when first needed (status, -v):
 * not on every connect, which is the hot path.
 */
const char *
relay_comm(struct conn *c)
{
	char path[64];
	ssize_t n;
	int fd;

	if (c->comm[0] != '\0' || c->comm_tried)
		return c->comm;
	c->comm_tried = 1;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)c->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return c->comm;
	n = read(fd, c->comm, sizeof(c->comm) - 1);
	c->comm[n > 0 ? n : 0] = '\0';
	c->comm[strcspn(c->comm, "\n")] = '\0';
	close(fd);
	return c->comm;
}

/* `tunnel unix:PATH`: open a direct-streamlocal channel, reply when done. */
static void
relay_connect_unix(struct conn *c, const struct proto_connect *req)
{
	int type = 0;
	socklen_t len = sizeof(type);

	c->kind = CONN_UNIX;
	snprintf(c->host, sizeof(c->host), "%s", req->host);
	if (c->host[0] != '/' || c->sockdup < 0 ||
	    sock_family(c->sockdup) != AF_UNIX ||
	    getsockopt(c->sockdup, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM) {
		conn_failed(c, EINVAL);	/* abstract names stay local */
		return;
	}
	if (log_level() >= LOG_VERBOSE)
		verbose("conn %llu: %s[%d] -> unix:%s (%s)",
		    (unsigned long long)c->id, relay_comm(c), (int)c->pid,
		    c->host, c->rule);
	if (!c->h->session_up) {
		conn_failed(c, ENETUNREACH);
		return;
	}
	conn_start(c);
}

void
relay_connect(struct helper *h, int ctl, const struct proto_connect *req,
    int sockfd, pid_t pid)
{
	struct conn *c = conn_new(h, CONN_SHIM, "");
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
		conn_failed(c, EINVAL);
		return;
	}
	if (req->flags & PROTO_CONNECT_UNIX) {
		relay_connect_unix(c, req);
		return;
	}
	if (req->host[0] != '\0')
		snprintf(c->host, sizeof(c->host), "%s", req->host);
	else if ((name = names_lookup(&h->names, &req->dest)) != NULL)
		snprintf(c->host, sizeof(c->host), "%s", name);
	else if (proto_addr_to_sockaddr(&req->dest, &ss) == 0 ||
	    inet_ntop(req->dest.family, req->dest.addr, c->host,
	    sizeof(c->host)) == NULL) {
		conn_failed(c, EINVAL);
		return;
	}
	names_ref(&h->names, c->host, 1);
	c->named = 1;
	if ((err = check_socket(c, sockfd)) != 0) {
		conn_failed(c, err);
		return;
	}
	if ((err = handover_check(h, sockfd, pid, why, sizeof(why))) != 0) {
		snprintf(h->notice, sizeof(h->notice), "%.30s[%d] -> %.100s:%u "
		    "refused: %s", relay_comm(c), (int)pid, c->host, c->port,
		    why);
		verbose("conn %llu: %s", (unsigned long long)c->id, h->notice);
		conn_failed(c, err);
		return;
	}
	if (log_level() >= LOG_VERBOSE)
		verbose("conn %llu: %s[%d] -> %s:%u (%s)",
		    (unsigned long long)c->id, relay_comm(c), (int)pid, c->host,
		    c->port, c->rule);
	len = park_addr(h, c->family, &ss);
	if (handover_connect(sockfd, (struct sockaddr *)&ss, len) == -1) {
		conn_failed(c, errno);
		return;
	}
	c->parked = 1;
	len = sizeof(c->local_addr);
	getsockname(sockfd, (struct sockaddr *)&c->local_addr, &len);
	/* The channel open goes out first: the bastion's round trip starts
	 * while we answer the program. */
	conn_start_or_wait(c);
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
relay_peer(struct helper *h, const struct proto_addr *local)
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

/* Deliver what libssh holds for this channel; see on_data for order. */
static void
down_flush(struct conn *c)
{
	ssize_t n;
	int avail;

	c->down_blocked = 0;
	c->in_flush = 1;
	for (;;) {
		if (c->down.off < c->down.len) {
			n = send(c->local.fd, c->down.data + c->down.off,
			    c->down.len - c->down.off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					c->down_blocked = 1;
					break;
				}
				c->local_broken = 1;
				break;
			}
			c->down.off += n;
			c->bytes_down += n;
			continue;
		}
		if (!c->x11_filter)
			c->down.off = c->down.len = 0;
		avail = ssh_channel_poll(c->ch, 0);
		if (avail <= 0)
			break;
		if (c->down.data == NULL &&
		    (c->down.data = malloc(DOWN_CHUNK)) == NULL)
			fatal("out of memory");
		if (c->down.len >= DOWN_CHUNK) {
			c->local_broken = 1;	/* X11 setup far too big */
			break;
		}
		n = ssh_channel_read_nonblocking(c->ch, c->down.data +
		    c->down.len, avail < (int)(DOWN_CHUNK - c->down.len) ?
		    avail : (int)(DOWN_CHUNK - c->down.len), 0);
		if (n <= 0)
			break;
		window_taken(c, (uint32_t)n);
		c->down.len += n;
		if (c->x11_filter) {
			int r = x11_rewrite(c);

			if (r == -1) {
				c->local_broken = 1;
				break;
			}
			if (r == 0) {
				/* Not all of it yet; more data wakes us. */
				c->down.off = 0;
				continue;
			}
		}
	}
	c->in_flush = 0;
	if (!down_pending(c)) {
		free(c->down.data);	/* idle conns hold no buffer */
		c->down.data = NULL;
		if (c->remote_eof)
			local_shutdown(c);
	}
	c->h->need_reap = 1;
}

int
relay_down_pending(const struct conn *c)
{
	return down_pending(c);
}

/*
 * Bytes window.c's top-up read out of libssh: they come before anything
 * libssh still holds, so they go first (down_flush sends c->down first).
 * Called only when nothing was pending.
 */
void
relay_down_stash(struct conn *c, const char *data, size_t len)
{
	size_t cap = len > DOWN_CHUNK ? len : DOWN_CHUNK;

	if (down_pending(c) || c->down.data != NULL) {
		/* Never reorder: append (the buffer holds what is left). */
		char *p = realloc(c->down.data, c->down.len + cap);

		if (p == NULL)
			fatal("out of memory");
		c->down.data = p;
	} else if ((c->down.data = malloc(cap)) == NULL)
		fatal("out of memory");
	memcpy(c->down.data + c->down.len, data, len);
	c->down.len += len;
	c->down_blocked = 1;		/* down_flush on the next EPOLLOUT */
	conn_update(c);
}

/*
 * Hand bytes to the channel.  During a key exchange (or with the window
 * short) libssh takes only some of them and says so: keep the rest, in
 * order, in c->held, and stop reading from the program until it is gone.
 * Returns 0 when everything went, 1 when some is held, -1 on error.
 */
static int
up_write(struct conn *c, const char *data, size_t len)
{
	struct helper *h = c->h;
	int w;

	w = ssh_channel_write(c->ch, data, (uint32_t)len);
	if (w < 0) {
		/* Never drop bytes silently: fail the connection. */
		error("conn %llu: channel write of %zu: %s",
		    (unsigned long long)c->id, len, ssh_get_error(h->ssh));
		c->local_broken = 1;
		h->need_reap = 1;
		return -1;
	}
	c->bytes_up += (uint64_t)w;
	if ((size_t)w == len)
		return 0;
	if ((c->held.data = malloc(len - (size_t)w)) == NULL)
		fatal("out of memory");
	memcpy(c->held.data, data + w, len - (size_t)w);
	c->held.off = 0;
	c->held.len = len - (size_t)w;
	if (!c->wait_window && !c->wait_flush)
		h->nwaiting++;
	c->wait_flush = 1;
	return 1;
}

/* Offer the held bytes again; 0 once none are left. */
static int
up_write_held(struct conn *c)
{
	struct chunk held = c->held;
	int r;

	memset(&c->held, 0, sizeof(c->held));
	r = up_write(c, held.data + held.off, held.len - held.off);
	free(held.data);
	return r;
}

static void
up_read(struct conn *c)
{
	struct helper *h = c->h;
	uint32_t win;
	size_t want;
	ssize_t n;
	int i;

	for (i = 0; i < READS_PER_EVENT; i++) {
		if (session_congested(h)) {
			c->wait_flush = 1;	/* session output backed up */
			h->nwaiting++;
			return;
		}
		if ((win = ssh_channel_window_size(c->ch)) == 0) {
			c->wait_window = 1;
			h->nwaiting++;
			return;
		}
		/* What the window allows; the session socket had room (what
		 * it refuses waits in libssh: one read's worth at most). */
		want = win < h->iobuf_len ? win : h->iobuf_len;
		n = read(c->local.fd, h->iobuf, want);
		if (n == 0) {
			c->local_eof = 1;
			ssh_channel_send_eof(c->ch);
			h->need_reap = 1;
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			debug("conn %llu: local read: %s",
			    (unsigned long long)c->id, strerror(errno));
			c->local_broken = 1;
			h->need_reap = 1;
			return;
		}
		if (up_write(c, h->iobuf, (size_t)n) != 0)
			return;
		if ((size_t)n < want)
			return;			/* drained the socket */
	}
}

static void
conn_update(struct conn *c)
{
	uint32_t want = 0;

	if (c->state != CONN_OPEN || c->dead || c->local.fd < 0)
		return;
	if (!c->local_eof && !c->wait_window && !c->wait_flush &&
	    !c->local_broken && !c->remote_closed)
		want |= EPOLLIN;
	if (c->down_blocked)
		want |= EPOLLOUT;
	watch_set(c->h, &c->local, want);
}

/* -R: the target's connect finished (or failed). */
static void
local_connected(struct conn *c)
{
	socklen_t len = sizeof(int);
	int err = 0, one = 1;

	if (getsockopt(c->local.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		verbose("conn %llu: %s: connect to %s:%u: %s",
		    (unsigned long long)c->id, c->rule, c->host, c->port,
		    strerror(err ? err : errno));
		conn_kill(c);
		return;
	}
	setsockopt(c->local.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CONN_OPEN;
	c->down_blocked = 1;		/* deliver what waited in libssh */
}

static void
local_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct conn *c = w->arg;

	if (c->dead)
		return;
	if (c->state == CONN_LOCAL) {
		local_connected(c);
		if (c->dead)
			return;
		events |= EPOLLOUT;
	}
	if (c->state != CONN_OPEN)
		return;
	if (events & EPOLLOUT)
		down_flush(c);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->local_eof &&
	    !c->local_broken)
		up_read(c);
	conn_update(c);
	session_update_interest(h);
}

void
relay_after_pump(struct helper *h)
{
	struct conn *c, *next;
	int write_pending, full;

	if (!h->session_up || (h->nopening == 0 && h->nwaiting == 0))
		return;
	/* Channel opens only advance when packets came in (or a second). */
	if (!h->pumped && h->nwaiting == 0 && monotime() == h->last_open_scan)
		return;
	full = open_refused(h);
	full = h->nopening > 0 && (full || monotime() != h->last_open_scan);
	h->pumped = 0;
	h->last_open_scan = monotime();
	write_pending = session_congested(h);
	for (c = TAILQ_FIRST(&h->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead)
			continue;
		if (c->state == CONN_OPENING) {
			if (open_may_advance(c, full))
				conn_try_open(c);
		} else if ((c->wait_window &&
		    ssh_channel_window_size(c->ch) > 0) ||
		    (c->wait_flush && !write_pending)) {
			if (c->held.len > 0) {
				c->wait_window = c->wait_flush = 0;
				h->nwaiting--;
				if (up_write_held(c) != 0)
					continue;	/* still held, or failed */
				conn_update(c);
				continue;
			}
			c->wait_window = c->wait_flush = 0;
			h->nwaiting--;
			conn_update(c);
		}
	}
	session_update_interest(h);
}

/* Decide whether an open conn is finished; see the half-close notes. */
static int
conn_done(struct conn *c)
{
	if (c->dead)
		return 1;
	if (c->state != CONN_OPEN)
		return 0;
	if (c->local_broken)
		return 1;
	if (down_pending(c) || (c->exec != NULL && c->exec->err_blocked))
		return 0;
	/* The exit status comes after the EOF: a command waits for close. */
	if (c->kind == CONN_EXEC)
		return c->remote_closed;
	return c->remote_closed || (c->remote_eof && c->local_eof);
}

static void
conn_free(struct helper *h, struct conn *c)
{
	struct linger lg = { 1, 0 };

	TAILQ_REMOVE(&h->conns, c, entry);
	h->nconns--;
	window_conn_free(c);
	if (c->wait_window || c->wait_flush)
		h->nwaiting--;
	if (c->exec != NULL)
		exec_finish(h, c);
	if (c->local.fd >= 0) {
		watch_del(h, &c->local);
		/* A connection cut short must look cut short: reset it. */
		if (!c->graceful && (c->local_broken || !c->remote_eof))
			setsockopt(c->local.fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
		close(c->local.fd);
	}
	if (c->sockdup >= 0)
		close(c->sockdup);
	if (c->ctl >= 0)
		close(c->ctl);
	if (c->ch != NULL) {
		ssh_remove_channel_callbacks(c->ch, &c->cb);
		if (h->session_up && ssh_channel_is_open(c->ch))
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	if (c->named)
		names_ref(&h->names, c->host, -1);
	h->freed_up += c->bytes_up;
	h->freed_down += c->bytes_down;
	debug("conn %llu: closed, %llu bytes up, %llu down",
	    (unsigned long long)c->id, (unsigned long long)c->bytes_up,
	    (unsigned long long)c->bytes_down);
	free(c->down.data);
	free(c->pre.data);
	free(c->held.data);
	free(c);
}

void
relay_reap(struct helper *h)
{
	struct conn *c, *next;

	h->need_reap = 0;
	for (c = TAILQ_FIRST(&h->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CONN_OPENING && !c->dead)
			continue;		/* never free a channel opening */
		if (c->state == CONN_OPEN && !c->dead && c->remote_eof &&
		    !down_pending(c))
			local_shutdown(c);
		if (conn_done(c))
			conn_free(h, c);
		else if (c->state == CONN_OPEN)
			conn_update(c);
	}
}

void
relay_fail_all(struct helper *h, int err)
{
	struct conn *c;

	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->dead)
			continue;
		if (c->state == CONN_OPENING)
			h->nopening--;
		else if (c->state == CONN_WAITING)
			h->nqueued--;
		if (c->state == CONN_OPEN) {
			c->local_broken = 1;
			conn_kill(c);
		} else {
			c->state = CONN_FAILED;
			conn_failed(c, err);
		}
	}
}

/*
 * libssh frees every channel with the session, so they are let go of
 * here; bytes in flight on open connections are lost, which the program
 * must learn (reset), while connects in progress simply wait.
 */
void
relay_session_down(struct helper *h)
{
	struct conn *c;
	time_t now = monotime();

	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->ch != NULL) {
			ssh_remove_channel_callbacks(c->ch, &c->cb);
			c->ch = NULL;
		}
		if (c->wait_window || c->wait_flush) {
			c->wait_window = c->wait_flush = 0;
			h->nwaiting--;
		}
		if (c->dead)
			continue;
		if (c->state == CONN_OPEN || c->state == CONN_LOCAL ||
		    c->state == CONN_PAIRING) {
			c->local_broken = 1;
			conn_kill(c);
		} else if (c->state == CONN_OPENING && !c->abandoned) {
			h->nopening--;
			c->state = CONN_WAITING;
			c->deadline = now + h->cfg.connect_timeout;
			h->nqueued++;
		} else if (c->state == CONN_OPENING) {
			h->nopening--;
			c->state = CONN_FAILED;
			conn_kill(c);
		}
	}
}

/*
 * A parked socket waited out a reconnect: does the program still want
 * it?  If it closed the socket, or its connect gave up, no channel is
 * opened for it at all.  Returns 1, or 0 with the conn failed.
 */
static int
parked_wanted(struct conn *c)
{
	if (!handover_held(c->pid, c->prog_fd, c->sockdup, c->ino)) {
		verbose("conn %llu: %s:%u: the program closed its socket while "
		    "the session was down: no channel", (unsigned long long)c->id,
		    c->host, c->port);
		c->state = CONN_FAILED;
		conn_failed(c, ECONNABORTED);
		return 0;
	}
	if (!still_parked(c)) {
		verbose("conn %llu: %s:%u: the program's connect gave up while "
		    "the session was down: no channel",
		    (unsigned long long)c->id, c->host, c->port);
		c->parked = 0;
		c->state = CONN_FAILED;
		conn_failed(c, ETIMEDOUT);
		return 0;
	}
	return 1;
}

void
relay_session_up(struct helper *h)
{
	struct conn *c;

	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->dead || c->state != CONN_WAITING)
			continue;
		h->nqueued--;
		if (c->kind == CONN_SHIM && c->parked && !parked_wanted(c))
			continue;
		conn_start(c);
	}
}

void
relay_tick(struct helper *h)
{
	struct conn *c;
	time_t now = monotime();

	if (h->nqueued == 0)
		return;
	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->dead || c->state != CONN_WAITING || now < c->deadline)
			continue;
		h->nqueued--;
		c->state = CONN_FAILED;
		conn_failed(c, ETIMEDOUT);
	}
}
