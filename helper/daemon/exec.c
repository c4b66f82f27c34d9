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
 * exec.c - remote commands on the shared session (tunnelwrap -e), with
 * X11 and agent forwarding.
 *
 * An exec is a conn (relay.c) of its own kind (exec_ops, at the end)
 * whose channel is a "session": opening it takes a few steps (open,
 * pty-req, x11-req, auth-agent-req, exec), each a non-blocking libssh call
 * retried after pumps.  Its local end is the
 * launcher's stdin/stdout socket; stderr data goes to a second socket.  The
 * launcher's control connection stays with the exec: WINCH messages arrive
 * on it, and the exit status leaves on it when the command is over.
 *
 * X11: the bastion sees a fake cookie; the first packet of every X11
 * channel (the client's setup request) must carry it, and we swap in the
 * local display's real cookie before it reaches the X server, as OpenSSH
 * does.  Agent channels are connected to the launcher's ssh-agent socket.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "helper.h"
#include "log.h"

#define X11_SETUP_MAX	4096	/* a setup request bigger than this is bogus */

static void	exec_err_io(struct helper *, struct watch *, uint32_t);
static int	x11_rewrite(struct conn *);

static int
unhex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = strlen(hex), i;
	unsigned v;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

static void
exec_ctl_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct conn *c = w->arg;
	struct {
		struct proto_hdr	hdr;
		struct proto_winch	winch;
	} m;
	ssize_t n;

	(void)events;
	n = recv(w->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_WAITALL);
	if (n == (ssize_t)sizeof(m) && m.hdr.magic == PROTO_MAGIC &&
	    m.hdr.type == PROTO_WINCH && m.hdr.len == sizeof(m.winch)) {
		if (c->ch != NULL && c->state == CONN_OPEN)
			ssh_channel_change_pty_size(c->ch, m.winch.cols,
			    m.winch.rows);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The launcher is gone (or spoke nonsense): end the command. */
	debug("exec %llu: launcher left", (unsigned long long)c->id);
	watch_del(h, w);
	close(w->fd);
	w->fd = -1;
	c->ctl = -1;
	c->local_broken = 1;
	h->need_reap = 1;
}

/*
 * -e from the launcher: run cmd remotely with fds[0] as its stdio and
 * fds[1] as its stderr (taken); ctl gets the exit status, or 255 and why.
 * ctl.c has checked the request (both descriptors, terminated strings).
 */
void
exec_request(struct helper *h, int ctl, const struct proto_exec *req,
    const char *cmd, int fds[PROTO_MAX_FDS])
{
	struct exec_state *x;
	struct conn *c;

	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->cmd = strdup(cmd)) == NULL)
		fatal("out of memory");
	x->req = *req;
	x->exit_status = -1;
	x->err.fd = fds[1];
	x->err.fn = exec_err_io;
	c = exec_start(h, fds[0], x);
	fds[0] = fds[1] = -1;
	x->err.arg = c;
	x->ctlw.fd = ctl;
	x->ctlw.fn = exec_ctl_io;
	x->ctlw.arg = c;
	c->ctl = ctl;
	watch_set(h, &x->ctlw, EPOLLIN);
	if (req->flags & PROTO_EXEC_X11)
		h->x11_exec = c;
	if (req->flags & PROTO_EXEC_AGENT)
		h->agent_exec = c;
	verbose("exec %llu: %s%s%s%s", (unsigned long long)c->id, x->cmd,
	    req->flags & PROTO_EXEC_PTY ? " (pty)" : "",
	    req->flags & PROTO_EXEC_X11 ? " (X11)" : "",
	    req->flags & PROTO_EXEC_AGENT ? " (agent)" : "");
}

/*
 * One step of opening an exec's channel; returns SSH_OK once the command
 * runs, SSH_AGAIN, or SSH_ERROR.
 */
static int
exec_try_open(struct conn *c)
{
	struct exec_state *x = c->exec;
	const struct proto_exec *r = &x->req;
	int rc = SSH_OK;

	switch (x->step) {
	case EXEC_OPEN:
		if ((rc = ssh_channel_open_session(c->ch)) != SSH_OK)
			return rc;
		x->step = EXEC_PTY;
		/* FALLTHROUGH */
	case EXEC_PTY:
		if ((r->flags & PROTO_EXEC_PTY) && (rc =
		    ssh_channel_request_pty_size(c->ch, r->term[0] ? r->term :
		    "xterm", r->cols ? r->cols : 80, r->rows ? r->rows : 24))
		    != SSH_OK)
			return rc;
		x->step = EXEC_X11;
		/* FALLTHROUGH */
	case EXEC_X11:
		if ((r->flags & PROTO_EXEC_X11) && (rc =
		    ssh_channel_request_x11(c->ch, 0, r->x11_proto, r->x11_fake,
		    (int)r->x11_screen)) != SSH_OK) {
			if (rc == SSH_ERROR)
				error("exec: the bastion refused X11 "
				    "forwarding (sshd_config X11Forwarding?)");
			return rc;
		}
		x->step = EXEC_AGENT;
		/* FALLTHROUGH */
	case EXEC_AGENT:
		if ((r->flags & PROTO_EXEC_AGENT) && (rc =
		    ssh_channel_request_auth_agent(c->ch)) != SSH_OK) {
			if (rc == SSH_ERROR)
				error("exec: the bastion refused agent "
				    "forwarding (sshd_config "
				    "AllowAgentForwarding?)");
			return rc;
		}
		x->step = EXEC_RUN;
		/* FALLTHROUGH */
	case EXEC_RUN:
		if ((rc = ssh_channel_request_exec(c->ch, x->cmd)) != SSH_OK)
			return rc;
		x->step = EXEC_RUNNING;
		/* FALLTHROUGH */
	case EXEC_RUNNING:
		break;
	}
	return SSH_OK;
}

/* stderr of the remote command: written as it comes, bounded by libssh. */
static int
exec_stderr(struct conn *c, const void *data, uint32_t len)
{
	struct exec_state *x = c->exec;
	ssize_t n;

	if (x->err.fd < 0)
		return (int)len;
	if (x->err_blocked)
		return 0;
	n = send(x->err.fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return (int)len;	/* nobody reads it: drop */
		n = 0;
	}
	if ((uint32_t)n < len) {
		x->err_blocked = 1;
		watch_set(c->h, &x->err, EPOLLOUT);
	}
	return (int)n;
}

static void
exec_err_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct conn *c = w->arg;
	struct exec_state *x = c->exec;
	char buf[16384];
	int n;

	(void)events;
	x->err_blocked = 0;
	watch_set(h, w, 0);
	while (c->ch != NULL && (n = ssh_channel_poll(c->ch, 1)) > 0) {
		n = ssh_channel_read_nonblocking(c->ch, buf, sizeof(buf), 1);
		if (n <= 0 || exec_stderr(c, buf, (uint32_t)n) < n)
			break;		/* the rest waits for EPOLLOUT */
	}
	h->need_reap = 1;
}

static void
exec_exit_status(ssh_session s, ssh_channel ch, int status, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)ch;
	c->exec->exit_status = status;
}

static void
exec_exit_signal(ssh_session s, ssh_channel ch, const char *sig, int core,
    const char *errmsg, const char *lang, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)ch;
	(void)errmsg;
	(void)lang;
	snprintf(c->exec->exit_signal, sizeof(c->exec->exit_signal), "%s%s",
	    sig ? sig : "?", core ? " (core dumped)" : "");
}

/* The end: tell the launcher how the command ended. */
static void
exec_finish(struct conn *c)
{
	struct helper *h = c->h;
	struct exec_state *x = c->exec;
	char text[64] = "";
	int status;

	if (x->failure != 0) {
		snprintf(text, sizeof(text), "cannot run it: %s",
		    strerror(x->failure));
		status = 255;
	} else if (x->exit_signal[0] != '\0') {
		snprintf(text, sizeof(text), "signal %s", x->exit_signal);
		status = 255;
	} else
		status = x->exit_status >= 0 ? x->exit_status : 255;
	if (x->ctlw.fd >= 0) {
		watch_del(h, &x->ctlw);
		ctl_reply(x->ctlw.fd, PROTO_EXEC, status, text, strlen(text));
		close(x->ctlw.fd);
	}
	c->ctl = -1;
	if (x->err.fd >= 0) {
		watch_del(h, &x->err);
		close(x->err.fd);
	}
	if (h->x11_exec == c)
		h->x11_exec = NULL;
	if (h->agent_exec == c)
		h->agent_exec = NULL;
	free(x->cmd);
	free(x);
	c->exec = NULL;
}

/* The bastion opens an X11 channel: connect it to the local display. */
ssh_channel
exec_x11_open(ssh_session s, const char *addr, int port, void *userdata)
{
	struct helper *h = userdata;
	struct exec_state *x;
	ssh_channel ch;
	struct conn *c;

	(void)addr;
	(void)port;
	if (h->x11_exec == NULL || (x = h->x11_exec->exec) == NULL)
		return NULL;
	if ((ch = ssh_channel_new(s)) == NULL)
		return NULL;
	c = relay_forwarded_unix(h, ch, x->req.x11_path, "X11");
	if (c != NULL) {
		c->x11_fake_len = unhex(x->req.x11_fake, c->x11_fake,
		    sizeof(c->x11_fake));
		c->x11_real_len = unhex(x->req.x11_real, c->x11_real,
		    sizeof(c->x11_real));
		c->x11_filter = 1;
		c->down_filter = x11_rewrite;
	}
	return ch;
}

/* The bastion opens an agent channel: connect it to the launcher's agent. */
ssh_channel
exec_agent_open(ssh_session s, void *userdata)
{
	struct helper *h = userdata;
	ssh_channel ch;

	if (h->agent_exec == NULL || h->agent_exec->exec == NULL ||
	    (ch = ssh_channel_new(s)) == NULL)
		return NULL;
	relay_forwarded_unix(h, ch, h->agent_exec->exec->req.agent, "agent");
	return ch;
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/*
 * The X11 setup request sits at the start of c->down: check the fake
 * cookie and put the real one in its place.  Returns 1 when done, 0 to
 * wait for more bytes, -1 to refuse the connection.
 */
static int
x11_rewrite(struct conn *c)
{
	unsigned char *p = (unsigned char *)c->down.data + c->down.off;
	size_t len = c->down.len - c->down.off, nlen, dlen, need;
	static const char proto[] = "MIT-MAGIC-COOKIE-1";

	if (len < 12)
		return 0;
	if (p[0] == 'B') {
		nlen = (size_t)p[6] << 8 | p[7];
		dlen = (size_t)p[8] << 8 | p[9];
	} else if (p[0] == 'l') {
		nlen = (size_t)p[7] << 8 | p[6];
		dlen = (size_t)p[9] << 8 | p[8];
	} else
		return -1;
	need = 12 + pad4(nlen) + pad4(dlen);
	if (need > X11_SETUP_MAX)
		return -1;
	if (len < need)
		return 0;
	if (nlen != sizeof(proto) - 1 || memcmp(p + 12, proto, nlen) != 0 ||
	    (int)dlen != c->x11_fake_len || c->x11_real_len != c->x11_fake_len ||
	    memcmp(p + 12 + pad4(nlen), c->x11_fake, dlen) != 0) {
		error("X11 connection with a wrong cookie refused");
		return -1;
	}
	memcpy(p + 12 + pad4(nlen), c->x11_real, dlen);
	c->x11_filter = 0;
	return 1;
}

/* The command never ran (err): exec_finish() tells the launcher. */
static void
exec_failed(struct conn *c, int err)
{
	c->exec->failure = err;
	c->graceful = 1;
}

/* stderr bytes still wait for the launcher to read them? */
static int
exec_busy(const struct conn *c)
{
	return c->exec != NULL && c->exec->err_blocked;
}

static const struct conn_ops exec_ops = {
	.name = "exec",
	.open = exec_try_open,
	.open_each_pump = 1,
	.opened = relay_local_ready,
	.failed = exec_failed,
	.stderr_data = exec_stderr,
	.busy = exec_busy,
	.ends_at_close = 1,
	.freed = exec_finish,
	.exit_status = exec_exit_status,
	.exit_signal = exec_exit_signal,
};

/*
 * A conn running the remote command x, fd its stdio socket; relay.c opens
 * its channel now or after a reconnect.
 */
struct conn *
exec_start(struct helper *h, int fd, struct exec_state *x)
{
	struct conn *c = relay_conn_new(h, &exec_ops, "-e");

	c->local.fd = fd;
	c->exec = x;
	c->pid = getpid();
	strlcpy(c->comm, "-e", sizeof(c->comm));
	strlcpy(c->host, x->cmd, sizeof(c->host));
	relay_start_or_wait(c);
	return c;
}
