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
 * ctl.c - the control socket: requests from shims and launchers.
 *
 * Only our own uid is served (SO_PEERCRED on every accepted client); the
 * socket also lives in a 0700 directory, but a check that does not depend
 * on file modes is the one that holds.  Clients are read without blocking
 * and at most one request each; proto_check_request() vets every header
 * before a byte of body is trusted, and a bad client is dropped alone.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

struct ctl_client {
	struct watch	 w;
	struct ucred	 cred;
	struct proto_hdr hdr;
	union {
		struct proto_connect	connect;
		struct proto_name	name;
		struct proto_addr	addr;
		struct proto_outcome	outcome;
		struct proto_attach	attach;
		struct proto_forward	forward;
		struct proto_exec	exec;
		struct proto_status	status;
	} body;
	char		*tail;		/* FORWARD: bytes past the struct */
	size_t		 got;		/* bytes of hdr+body received */
	int		 passed[PROTO_MAX_FDS];	/* SCM_RIGHTS, or -1 */
	int		 attached;	/* ATTACH: held until EOF */
};

static void	client_io(struct helper *, struct watch *, uint32_t);

void
ctl_reply(int fd, uint16_t type, int status, const void *body, size_t len)
{
	static const char zeros[sizeof(struct proto_names) +
	    sizeof(struct proto_name)];
	struct proto_hdr h;
	ssize_t want = proto_reply_len(type);
	int r;

	/* Replies have a fixed size per type, zero-filled on error. */
	if (want > 0 && len == 0) {
		body = zeros;
		len = (size_t)want;
	}
	proto_hdr_init(&h, type | PROTO_REPLY, (uint32_t)len, status);
	if ((r = proto_send(fd, &h, body, len, -1)) < 0)
		debug("control reply: %s", strerror(-r));
}

static void
client_free(struct helper *h, struct ctl_client *cl, int close_fd)
{
	int i;

	watch_del(h, &cl->w);
	if (close_fd)
		close(cl->w.fd);
	for (i = 0; i < PROTO_MAX_FDS; i++)
		if (cl->passed[i] >= 0)
			close(cl->passed[i]);
	free(cl->tail);
	if (cl->attached) {
		h->attached--;
		debug("launcher pid %d detached, %u left", (int)cl->cred.pid,
		    h->attached);
	}
	free(cl);
}

/*
 * A launcher counted until its process exits (PROTO_ATTACH_PID): it
 * becomes COMMAND by exec, so the process is what stays attached.
 */
struct pid_attach {
	struct watch		 w;	/* a pidfd, readable once pid exits */
	pid_t			 pid;
	TAILQ_ENTRY(pid_attach)	 entry;
};

static void
pid_detach(struct helper *h, struct pid_attach *pa)
{
	watch_del(h, &pa->w);
	close(pa->w.fd);
	TAILQ_REMOVE(&h->pid_attached, pa, entry);
	h->attached--;
	debug("launcher pid %d exited, %u left", (int)pa->pid, h->attached);
	free(pa);
}

static void
pid_exited(struct helper *h, struct watch *w, uint32_t events)
{
	(void)events;
	pid_detach(h, w->arg);
}

static int
attach_by_pid(struct helper *h, pid_t pid)
{
	struct pid_attach *pa;
	int fd;

	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return -1;			/* kernel before 5.3 */
	if ((pa = calloc(1, sizeof(*pa))) == NULL) {
		close(fd);
		return -1;
	}
	pa->pid = pid;
	pa->w.fd = fd;
	pa->w.fn = pid_exited;
	pa->w.arg = pa;
	watch_set(h, &pa->w, EPOLLIN);
	TAILQ_INSERT_TAIL(&h->pid_attached, pa, entry);
	h->attached++;
	debug("launcher pid %d attached until it exits", (int)pid);
	return 0;
}

void
ctl_free_attached(struct helper *h)
{
	while (!TAILQ_EMPTY(&h->pid_attached))
		pid_detach(h, TAILQ_FIRST(&h->pid_attached));
}

static void
send_status(struct helper *h, int fd, uint32_t format)
{
	struct timeval tv = { 2, 0 };
	char *text = format == PROTO_STATUS_JSON ? status_json(h) :
	    format == PROTO_STATUS_TOP ? status_top(h) : status_text(h);
	int fl;

	/* The text may exceed the socket buffer: let it block, bounded. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	ctl_reply(fd, PROTO_STATUS, 0, text, strlen(text));
	free(text);
}

/* EXEC: its stdio and stderr came along, and its strings are strings. */
static int
exec_request_ok(const struct proto_exec *req, const int fds[PROTO_MAX_FDS])
{
	return fds[0] >= 0 && fds[1] >= 0 &&
	    memchr(req->term, 0, sizeof(req->term)) != NULL &&
	    memchr(req->x11_path, 0, sizeof(req->x11_path)) != NULL &&
	    memchr(req->agent, 0, sizeof(req->agent)) != NULL;
}

/* A complete request: act on it.  Returns 1 if the client stays. */
static int
dispatch(struct helper *h, struct ctl_client *cl)
{
	struct proto_names names;
	struct proto_name rep;
	const struct proto_addr *dest;
	const char *name;
	int fd = cl->w.fd, err;

	switch (cl->hdr.type) {
	case PROTO_CONNECT:
		watch_del(h, &cl->w);
		/*
		 * The supervisor hands over a socket of the program it
		 * supervises (same uid: the socket's owner let it in).
		 */
		handover_request(h, fd, &cl->body.connect, cl->passed[0],
		    (cl->body.connect.flags & PROTO_CONNECT_SUPERVISED) &&
		    cl->body.connect.pid > 0 ? (pid_t)cl->body.connect.pid :
		    cl->cred.pid);
		cl->passed[0] = -1;
		cl->w.fd = -1;			/* now owned by the conn */
		return 0;
	case PROTO_RESOLVE:
		cl->body.name.name[PROTO_NAMELEN - 1] = '\0';
		memset(&names, 0, sizeof(names));
		err = names_assign(&h->names, cl->body.name.name, &names.v4,
		    &names.v6);
		if (err == 0)
			debug("resolve %s: remote", cl->body.name.name);
		ctl_reply(fd, PROTO_RESOLVE, err, &names, sizeof(names));
		return 0;
	case PROTO_REVERSE:
		memset(&rep, 0, sizeof(rep));
		if ((name = names_lookup(&h->names, &cl->body.addr)) != NULL)
			strlcpy(rep.name, name, sizeof(rep.name));
		ctl_reply(fd, PROTO_REVERSE, name ? 0 : ENOENT, &rep,
		    sizeof(rep));
		return 0;
	case PROTO_PEER:
		dest = handover_peer(h, &cl->body.addr);
		ctl_reply(fd, PROTO_PEER, dest ? 0 : ENOENT, dest,
		    dest ? sizeof(*dest) : 0);
		return 0;
	case PROTO_EXEC:
		if (!exec_request_ok(&cl->body.exec, cl->passed)) {
			ctl_reply(fd, PROTO_EXEC, 255, "bad exec request",
			    16);
			return 0;
		}
		watch_del(h, &cl->w);
		exec_request(h, fd, &cl->body.exec, cl->tail, cl->passed);
		cl->w.fd = -1;			/* now owned by the exec */
		return 0;
	case PROTO_FORWARD:
		if (cl->body.forward.kind == PROTO_FWD_DNS)
			dns_request(h, fd, cl->tail, cl->hdr.len -
			    sizeof(cl->body.forward));
		else
			fwd_request(h, fd, &cl->body.forward, cl->tail,
			    cl->hdr.len - sizeof(cl->body.forward));
		return 0;
	case PROTO_OUTCOME:
		ctl_reply(fd, PROTO_OUTCOME,
		    handover_outcome(h, cl->body.outcome.ino), NULL, 0);
		return 0;
	case PROTO_ATTACH:
		if ((cl->body.attach.flags & PROTO_ATTACH_PID) &&
		    attach_by_pid(h, cl->cred.pid) == 0) {
			ctl_reply(fd, PROTO_ATTACH, PROTO_ATTACHED_BY_PID,
			    NULL, 0);
			return 0;
		}
		cl->attached = 1;
		h->attached++;
		debug("launcher pid %d attached", (int)cl->cred.pid);
		ctl_reply(fd, PROTO_ATTACH, 0, NULL, 0);
		return 1;
	case PROTO_STATUS:
		send_status(h, fd, cl->body.status.format);
		return 0;
	case PROTO_STOP:
		logit("stop requested by pid %d", (int)cl->cred.pid);
		ctl_reply(fd, PROTO_STOP, 0, NULL, 0);
		h->quit = 1;
		return 0;
	}
	return 0;
}

/* What client_read() left: more to read now, wait for epoll, or freed. */
enum client_state { CLIENT_MORE, CLIENT_WAIT, CLIENT_GONE };

/* Read what the client has sent so far; act once a whole request is in. */
static enum client_state
client_read(struct helper *h, struct watch *w)
{
	struct ctl_client *cl = w->arg;
	size_t want;
	char *dst;
	int r, chk;

	if (cl->attached) {
		/* A held connection says nothing more: readable means gone. */
		client_free(h, cl, 1);
		return CLIENT_GONE;
	}
	if (cl->got < sizeof(cl->hdr)) {
		want = sizeof(cl->hdr) - cl->got;
		dst = (char *)&cl->hdr + cl->got;
	} else if (cl->got < sizeof(cl->hdr) + proto_request_len(cl->hdr.type)) {
		want = sizeof(cl->hdr) + proto_request_len(cl->hdr.type) -
		    cl->got;
		dst = (char *)&cl->body + (cl->got - sizeof(cl->hdr));
	} else {
		size_t off = cl->got - sizeof(cl->hdr) -
		    proto_request_len(cl->hdr.type);

		want = sizeof(cl->hdr) + cl->hdr.len - cl->got;
		dst = cl->tail + off;
	}
	r = proto_recv_some(w->fd, dst, want, cl->passed, PROTO_MAX_FDS);
	if (r <= 0) {
		if (r == 0 || (r != -EAGAIN && r != -EINTR)) {
			client_free(h, cl, 1);
			return CLIENT_GONE;
		}
		return CLIENT_WAIT;
	}
	cl->got += r;
	if (cl->got == sizeof(cl->hdr)) {
		if ((chk = proto_check_request(&cl->hdr)) != 0) {
			if (chk == PROTO_ERR_VERSION) {
				ctl_reply(w->fd, cl->hdr.type, EPROTO, NULL,
				    0);
			}
			debug("control: bad request from pid %d dropped",
			    (int)cl->cred.pid);
			client_free(h, cl, 1);
			return CLIENT_GONE;
		}
		if (cl->hdr.len > proto_request_len(cl->hdr.type) &&
		    (cl->tail = calloc(1, cl->hdr.len -
		    proto_request_len(cl->hdr.type) + 1)) == NULL)
			fatal("out of memory");
	}
	if (cl->got < sizeof(cl->hdr) || cl->got < sizeof(cl->hdr) +
	    cl->hdr.len)
		return CLIENT_MORE;	/* the body usually came with it */
	if (dispatch(h, cl))
		return CLIENT_WAIT;	/* held (ATTACH): EOF ends it */
	client_free(h, cl, cl->w.fd >= 0);
	return CLIENT_GONE;
}

static void
client_io(struct helper *h, struct watch *w, uint32_t events)
{
	(void)events;
	while (client_read(h, w) == CLIENT_MORE)
		;
}

static void
ctl_accept(struct helper *h, struct watch *w, uint32_t events)
{
	enum client_state st;
	struct ctl_client *cl;
	socklen_t len;
	int fd;

	(void)events;
	while ((fd = listener_accept(h, w)) != -1) {
		if ((cl = calloc(1, sizeof(*cl))) == NULL)
			fatal("out of memory");
		len = sizeof(cl->cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cl->cred,
		    &len) == -1 || cl->cred.uid != getuid()) {
			logit("control: refused uid %d (pid %d)",
			    (int)cl->cred.uid, (int)cl->cred.pid);
			close(fd);
			free(cl);
			continue;
		}
		cl->passed[0] = cl->passed[1] = -1;
		cl->w.fd = fd;
		cl->w.fn = client_io;
		cl->w.arg = cl;
		/*
		 * The request usually came in with the connection: serve it
		 * now, and watch the connection only if it is still there.
		 */
		while ((st = client_read(h, &cl->w)) == CLIENT_MORE)
			;
		if (st == CLIENT_WAIT)
			watch_set(h, &cl->w, EPOLLIN);
	}
}

void
ctl_init(struct helper *h)
{
	struct sockaddr_un sun;
	char tmp[sizeof(sun.sun_path)];
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* Bind at a private name, then rename into place: never half-made. */
	if (snprintf(tmp, sizeof(tmp), "%s.%d", h->cfg.socket_path,
	    (int)getpid()) >= (int)sizeof(tmp))
		fatal("socket path too long: %s", h->cfg.socket_path);
	strlcpy(sun.sun_path, tmp, sizeof(sun.sun_path));
	unlink(tmp);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, SOMAXCONN) == -1)
		fatal("control socket %s: %s", tmp, strerror(errno));
	if (stat(tmp, &st) == -1)
		fatal("control socket %s: %s", tmp, strerror(errno));
	h->ctl_ino = st.st_ino;		/* to remove only our own at exit */
	h->ctl_dev = st.st_dev;
	if (rename(tmp, h->cfg.socket_path) == -1) {
		unlink(tmp);
		fatal("control socket %s: %s", h->cfg.socket_path,
		    strerror(errno));
	}
	h->ctl.fd = fd;
	h->ctl.fn = ctl_accept;
	h->ctl.arg = h;
	watch_set(h, &h->ctl, EPOLLIN);
}
