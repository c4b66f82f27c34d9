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
 * pump.c - the byte pump of an open connection: local socket <-> channel.
 *
 * Each direction moves only when the other side can take it: local ->
 * channel reads at most the remote window (and nothing while the session's
 * output is backed up); channel -> local writes from libssh's buffer in the
 * data callback and leaves what the socket refuses in libssh, which then
 * stops growing the window (window.c decides how far it grows).  So memory
 * per connection is bounded by the SSH window, whatever the reader's speed.
 * Half-close follows OpenSSH's nchan: EOF from the program becomes channel
 * EOF, channel EOF becomes shutdown(SHUT_WR) once every byte before it is
 * delivered.
 *
 * What differs by kind of connection (a remote command's stderr and exit
 * status, X11's rewritten setup) comes through c->ops and c->down_filter;
 * the connection's life is relay.c's.
 *
 * libssh re-entrancy: channel calls may run callbacks of other channels.
 * Callbacks only move bytes and set flags; conns are freed in relay_reap().
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
#define READS_PER_EVENT	4		/* fairness between connections */

/* The buffer every local read goes through (one at a time). */
void
pump_init(struct helper *h)
{
	h->iobuf_len = IOBUF_LEN;
	if ((h->iobuf = malloc(h->iobuf_len)) == NULL)
		fatal("out of memory");
}

/*
 * Bytes for the local end still waiting (ours or libssh's)?  1 or 0.  A
 * flush under way counts: libssh runs our callbacks while it is asked for
 * bytes, and a channel EOF met then must not shut the program's socket
 * before the bytes read just ahead of it are sent (they would be lost:
 * EPIPE, and the program would see the end without them).
 */
int
pump_pending(const struct conn *c)
{
	return c->in_flush || c->down.off < c->down.len || c->down_blocked;
}

/* Channel EOF reached the program: shutdown(SHUT_WR), once. */
void
pump_shutdown_local(struct conn *c)
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

	if (is_stderr && c->ops->stderr_data != NULL)
		return c->ops->stderr_data(c, data, len);
	if (is_stderr || c->dead || c->local_broken)
		return (int)len;		/* nobody to deliver to */
	if (len > BACKLOG_MAX + c->win.target) {
		error("conn %llu: %s:%u: the bastion ignored the channel window "
		    "(%u bytes queued): resetting the connection",
		    (unsigned long long)c->id, c->host, c->port, len);
		c->local_broken = 1;
		relay_kill(c);
		return (int)len;
	}
	if (c->state != CONN_OPEN || pump_pending(c))
		return 0;			/* keep order: flush first */
	if (c->x11_filter) {
		c->down_blocked = 1;		/* down_flush rewrites it */
		pump_update(c);
		return 0;
	}
	n = send(c->local.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			c->down_blocked = 1;
			pump_update(c);
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
		pump_update(c);
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
	if (c->state == CONN_OPEN && !pump_pending(c))
		pump_shutdown_local(c);
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
	if (c->state == CONN_OPEN && !pump_pending(c))
		pump_shutdown_local(c);
	c->h->need_reap = 1;
}

/* Our callbacks on c's channel (libssh keeps a pointer to c->cb). */
void
pump_attach(struct conn *c)
{
	c->cb.userdata = c;
	c->cb.channel_data_function = on_data;
	c->cb.channel_eof_function = on_eof;
	c->cb.channel_close_function = on_close;
	c->cb.channel_exit_status_function = c->ops->exit_status;
	c->cb.channel_exit_signal_function = c->ops->exit_signal;
	ssh_callbacks_init(&c->cb);
	ssh_set_channel_callbacks(c->ch, &c->cb);
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
			int r = c->down_filter(c);

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
	if (!pump_pending(c)) {
		free(c->down.data);	/* idle conns hold no buffer */
		c->down.data = NULL;
		if (c->remote_eof)
			pump_shutdown_local(c);
	}
	c->h->need_reap = 1;
}

/*
 * Bytes window.c's top-up read out of libssh: they come before anything
 * libssh still holds, so they go first (down_flush sends c->down first).
 * Called only when nothing was pending.
 */
void
pump_down_stash(struct conn *c, const char *data, size_t len)
{
	size_t cap = len > DOWN_CHUNK ? len : DOWN_CHUNK;

	if (pump_pending(c) || c->down.data != NULL) {
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
	pump_update(c);
}

/*
 * Hand bytes to the channel.  During a key exchange (or with the window
 * short) libssh takes only some of them and says so: keep the rest, in
 * order, in c->held, and stop reading from the program until it is gone.
 * Returns 0 when everything went, 1 when some is held, -1 on error.
 */
int
pump_send(struct conn *c, const char *data, size_t len)
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
	r = pump_send(c, held.data + held.off, held.len - held.off);
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
		if (pump_send(c, h->iobuf, (size_t)n) != 0)
			return;
		if ((size_t)n < want)
			return;			/* drained the socket */
	}
}

/* Ask epoll for what the pump can use now: reads, writes, both, none. */
void
pump_update(struct conn *c)
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
		relay_kill(c);
		return;
	}
	setsockopt(c->local.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CONN_OPEN;
	c->down_blocked = 1;		/* deliver what waited in libssh */
}

/* The local socket's watch: move bytes both ways. */
void
pump_io(struct helper *h, struct watch *w, uint32_t events)
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
	pump_update(c);
	session_update_interest(h);
}

/*
 * After the session pump: a connection paused for the window or for the
 * session's output (write_pending: still backed up) reads again, after
 * offering what libssh did not take.
 */
void
pump_resume(struct conn *c, int write_pending)
{
	struct helper *h = c->h;

	if (!((c->wait_window && ssh_channel_window_size(c->ch) > 0) ||
	    (c->wait_flush && !write_pending)))
		return;
	c->wait_window = c->wait_flush = 0;
	h->nwaiting--;
	if (c->held.len > 0 && up_write_held(c) != 0)
		return;			/* still held, or failed */
	pump_update(c);
}
