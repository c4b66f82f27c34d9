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
 * relay.c - the life of a tunneled connection: made, channel opened (now
 * or after a reconnect), failed, reaped.
 *
 * Every connection has a kind, and what differs between kinds lives with
 * the kind, behind c->ops (struct conn_ops, after dropbear's per-channel-
 * type struct): how its channel opens, what its local end learns when it
 * opens or fails, a remote command's stderr and exit status.  The kinds:
 * a program's handed-over socket (handover.c: parked, then completed or
 * failed), a socket accepted by a -L/-D listener or the DNS responder
 * (accepted_ops, below; proxy.c adds its replies as accept_hooks), a
 * channel the bastion opened for -R (forwarded_ops, below) and a remote
 * command (exec.c).  Once open, pump.c moves the bytes.
 *
 * libssh re-entrancy: channel calls may run callbacks of other channels.
 * Callbacks only move bytes and set flags; conns are freed in relay_reap().
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "helper.h"
#include "log.h"

#define OPEN_TIMEOUT	60		/* seconds for a channel to open */

/* Parking listeners, the read buffer, the connection list; fatal if not. */
void
relay_init(struct helper *h)
{
	handover_init(h);
	pump_init(h);
	TAILQ_INIT(&h->conns);
}

/* Mark c for the next reap (never freed inside a callback). */
void
relay_kill(struct conn *c)
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

/*
 * The channel will not carry c (err, as a TCP connect would report it):
 * tell its local end through its kind, then reap it.
 */
void
relay_failed(struct conn *c, int err)
{
	verbose("conn %llu: %s:%u: %s", (unsigned long long)c->id, c->host,
	    c->port, strerror(err));
	if (err == EACCES && c->state == CONN_OPENING)
		note_prohibited(c);
	if (c->ops->failed != NULL)
		c->ops->failed(c, err);
	if (c->sockdup >= 0) {
		close(c->sockdup);
		c->sockdup = -1;
	}
	relay_kill(c);
}

/*
 * The channel opened for a local end that is already connected (accepted,
 * a remote command's socket): send what came before the open, then relay.
 * An opened hook for kinds that need nothing else.
 */
void
relay_local_ready(struct conn *c)
{
	/* What a held part of it waits for: pump_send() arranges. */
	if (c->pre.len > 0 && pump_send(c, c->pre.data, c->pre.len) < 0) {
		relay_failed(c, ECONNABORTED);
		return;
	}
	free(c->pre.data);
	c->pre.data = NULL;
	c->pre.len = 0;
	if (c->hooks != NULL)
		c->hooks->opened(c);
	c->state = CONN_OPEN;
	c->down_blocked = 1;
	pump_update(c);
}

static void
conn_opened(struct conn *c)
{
	debug("conn %llu: channel open to %s:%u", (unsigned long long)c->id,
	    c->host, c->port);
	c->ops->opened(c);
}

/* Try to advance a channel open; returns 1 if the conn left OPENING. */
static int
conn_try_open(struct conn *c)
{
	int rc;

	rc = c->ops->open(c);
	if (rc == SSH_AGAIN) {
		c->h->open_retries++;
		if (monotime() >= c->deadline && !c->abandoned) {
			/* Answer the program now; reap the channel later. */
			c->abandoned = 1;
			relay_failed(c, ETIMEDOUT);
			c->dead = 0;
		}
		return 0;
	}
	c->h->nopening--;
	if (c->abandoned) {
		relay_kill(c);
		return 1;
	}
	if (rc == SSH_OK)
		conn_opened(c);
	else {
		/* The bastion's own words, like ssh's "open failed: ...". */
		verbose("conn %llu: %s:%u: %s", (unsigned long long)c->id,
		    c->host, c->port, ssh_get_error(c->h->ssh));
		relay_failed(c, open_errno(c->h->ssh));
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
	return full || c->ops->open_each_pump || ssh_channel_is_open(c->ch);
}

/* Open the channel now, or wait for a reconnect (up to ConnectTimeout). */
void
relay_start_or_wait(struct conn *c)
{
	if (c->h->session_up) {
		relay_start(c);
		return;
	}
	c->state = CONN_WAITING;
	c->deadline = monotime() + c->h->cfg.connect_timeout;
	c->h->nqueued++;
}

/* Create the channel and send the open; the conn goes OPENING. */
void
relay_start(struct conn *c)
{
	struct helper *h = c->h;

	if ((c->ch = ssh_channel_new(h->ssh)) == NULL) {
		c->state = CONN_FAILED;
		relay_failed(c, ENOMEM);
		return;
	}
	pump_attach(c);
	c->state = CONN_OPENING;
	c->deadline = monotime() + OPEN_TIMEOUT;
	h->nopening++;
	conn_try_open(c);
}

/*
 * A new connection of the kind ops, named rule in status; never fails
 * (out of memory is fatal).  The caller sets its ends up.
 */
struct conn *
relay_conn_new(struct helper *h, const struct conn_ops *ops, const char *rule)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("out of memory");
	c->h = h;
	c->ops = ops;
	c->id = ++h->next_id;
	c->ctl = -1;
	c->sockdup = -1;
	c->local.fd = -1;
	c->local.fn = pump_io;
	c->local.arg = c;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	strlcpy(c->rule, rule, sizeof(c->rule));
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	h->nconns++;
	h->total_conns++;
	return c;
}

/* A direct-tcpip channel to c's host and port: SSH_OK, SSH_AGAIN, ... */
int
relay_open_direct(struct conn *c)
{
	return ssh_channel_open_forward(c->ch, c->host, c->port, "127.0.0.1",
	    0);
}

/* An accepted socket's open failed: its listener's reply, then close. */
static void
accepted_failed(struct conn *c, int err)
{
	if (c->hooks != NULL)
		c->hooks->failed(c, err);
	c->graceful = 1;		/* let the error reply arrive */
}

static const struct conn_ops accepted_ops = {
	.name = "accepted",
	.open = relay_open_direct,
	.opened = relay_local_ready,
	.failed = accepted_failed,
};

/* The bastion opened the channel; our end connects (CONN_LOCAL). */
static const struct conn_ops forwarded_ops = {
	.name = "forwarded",
};

/*
 * A conn for an accepted, connected socket fd (a -L/-D listener, the DNS
 * responder): pre (prelen bytes) goes first on the channel to host:port;
 * hooks answer the client.  Never fails: a failed open fails the conn.
 */
struct conn *
relay_accepted(struct helper *h, int fd, const char *host, uint16_t port,
    const char *origin, const struct accept_hooks *hooks, int proxy,
    const void *pre, size_t prelen)
{
	struct conn *c = relay_conn_new(h, &accepted_ops, origin);
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
	relay_start_or_wait(c);
	return c;
}

/* A non-blocking TCP connect to host:port; the fd, or -1 with errno. */
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

/*
 * A channel the bastion opened (-R, publish): connect host:port here and
 * relay once connected; a target that refuses ends the channel.
 */
void
relay_forwarded(struct helper *h, ssh_channel ch, const char *host,
    uint16_t port, const char *origin, const char *from, int fromport)
{
	struct conn *c = relay_conn_new(h, &forwarded_ops, origin);
	int fd;

	c->ch = ch;
	c->port = port;
	c->pid = getpid();
	snprintf(c->comm, sizeof(c->comm), "-R");
	strlcpy(c->host, host, sizeof(c->host));
	pump_attach(c);
	verbose("conn %llu: %s from %s:%d -> %s:%u", (unsigned long long)c->id,
	    origin, from ? from : "?", fromport, host, port);
	if ((fd = relay_dial(host, port)) == -1) {
		verbose("conn %llu: %s: cannot connect to %s:%u: %s",
		    (unsigned long long)c->id, origin, host, port,
		    strerror(errno));
		relay_kill(c);
		return;
	}
	c->local.fd = fd;
	c->state = CONN_LOCAL;
	watch_set(h, &c->local, EPOLLOUT);
}

/* A channel the bastion opened for a local UNIX socket (X11, agent). */
struct conn *
relay_forwarded_unix(struct helper *h, ssh_channel ch, const char *path,
    const char *origin)
{
	struct conn *c = relay_conn_new(h, &forwarded_ops, origin);
	struct sockaddr_un sun;
	int fd;

	c->ch = ch;
	c->pid = getpid();
	strlcpy(c->comm, origin, sizeof(c->comm));
	strlcpy(c->host, path, sizeof(c->host));
	pump_attach(c);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		relay_kill(c);
		return c;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		verbose("conn %llu: %s: cannot connect to %s: %s",
		    (unsigned long long)c->id, origin, path, strerror(errno));
		close(fd);
		relay_kill(c);
		return c;
	}
	c->local.fd = fd;
	c->state = CONN_LOCAL;
	watch_set(h, &c->local, EPOLLOUT);
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

/*
 * After the session pump: channel opens that may have an answer advance,
 * and connections paused for the window or the session's output resume.
 */
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
		} else
			pump_resume(c, write_pending);
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
	if (pump_pending(c) || (c->ops->busy != NULL && c->ops->busy(c)))
		return 0;
	/* The exit status comes after the EOF: a command waits for close. */
	if (c->ops->ends_at_close)
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
	if (c->ops->freed != NULL)
		c->ops->freed(c);
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

/* Free every finished or dead conn, except channels still opening. */
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
		    !pump_pending(c))
			pump_shutdown_local(c);
		if (conn_done(c))
			conn_free(h, c);
		else if (c->state == CONN_OPEN)
			pump_update(c);
	}
}

/* Fail every conn with err: open ones reset, the rest answered err. */
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
			relay_kill(c);
		} else {
			c->state = CONN_FAILED;
			relay_failed(c, err);
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
			relay_kill(c);
		} else if (c->state == CONN_OPENING && !c->abandoned) {
			h->nopening--;
			c->state = CONN_WAITING;
			c->deadline = now + h->cfg.connect_timeout;
			h->nqueued++;
		} else if (c->state == CONN_OPENING) {
			h->nopening--;
			c->state = CONN_FAILED;
			relay_kill(c);
		}
	}
}

/* The session is back: open the channels of conns still wanted. */
void
relay_session_up(struct helper *h)
{
	struct conn *c;

	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->dead || c->state != CONN_WAITING)
			continue;
		h->nqueued--;
		if (c->ops->wanted != NULL && !c->ops->wanted(c))
			continue;
		relay_start(c);
	}
}

/* Once a second: queued conns past their deadline fail (ETIMEDOUT). */
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
		relay_failed(c, ETIMEDOUT);
	}
}