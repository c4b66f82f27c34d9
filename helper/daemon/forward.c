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
 * forward.c - ssh's -L, -R and -D on the shared session, and publish.
 *
 * Local (-L) and dynamic (-D) forwards are listeners of ours; what they
 * accept becomes a conn with its local end already connected (relay.c),
 * for -D after the proxy handshake (proxy.c).  Remote forwards (-R, and
 * the listeners programs publish) are tcpip-forward global requests; libssh
 * has one slot for those, so they go out one at a time from a queue, and
 * are asked again after a reconnect.  Forwarded-tcpip channel opens arrive
 * through the session's message callback and become conns whose local end
 * we connect to the target.  A published listener is watched (by socket
 * inode in /proc/net/tcp*) and its remote forward cancelled once the
 * program closes it.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "../common/synth.h"
#include "../rules/rules.h"
#include "helper.h"
#include "log.h"

static const char *
kind_name(int kind)
{
	switch (kind) {
	case PROTO_FWD_LOCAL:
		return "-L";
	case PROTO_FWD_REMOTE:
		return "-R";
	case PROTO_FWD_DYNAMIC:
		return "-D";
	case PROTO_FWD_PUBLISH:
		return "publish";
	}
	return "?";
}

/* Bind and target strings come from our own parsers: no quote or
 * control character gets here, but make sure. */
static const char *
json_safe(const char *s)
{
	return strpbrk(s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\t\n\r") ?
	    "(unprintable)" : s;
}

static const char *
state_name(int st)
{
	switch (st) {
	case FWD_PENDING:
		return "pending";
	case FWD_REQUESTING:
		return "requesting";
	case FWD_ACTIVE:
		return "active";
	case FWD_FAILED:
		return "FAILED";
	case FWD_CANCELLING:
		return "cancelling";
	}
	return "?";
}

/*
 * Who holds a local TCP port, for the "port in use" message: the first
 * process with a listening socket on it, as "NAME[PID]", or "".
 */
static void
port_holder(uint16_t port, char *buf, size_t len)
{
	static const char *const tabs[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512], path[300], link[64], want[64], comm[32];
	unsigned long ino = 0;
	unsigned lport, st;
	struct dirent *pd, *fd;
	DIR *pdir, *fdir;
	size_t i;
	FILE *f;

	buf[0] = '\0';
	for (i = 0; i < 2 && ino == 0; i++) {
		if ((f = fopen(tabs[i], "re")) == NULL)
			continue;
		while (ino == 0 && fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x "
			    "%x %*s %*s %*s %*d %*d %lu", &lport, &st, &ino) != 3 ||
			    lport != port || st != 0x0a)
				ino = 0;
		}
		fclose(f);
	}
	if (ino == 0 || (pdir = opendir("/proc")) == NULL)
		return;
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	while (buf[0] == '\0' && (pd = readdir(pdir)) != NULL) {
		if (pd->d_name[0] < '0' || pd->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pd->d_name);
		if ((fdir = opendir(path)) == NULL)
			continue;
		while ((fd = readdir(fdir)) != NULL) {
			ssize_t n;

			if ((size_t)snprintf(path, sizeof(path), "/proc/%s/fd/%s",
			    pd->d_name, fd->d_name) >= sizeof(path) ||
			    (n = readlink(path, link, sizeof(link) - 1)) <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) != 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm",
			    pd->d_name);
			comm[0] = '\0';
			if ((f = fopen(path, "re")) != NULL) {
				if (fgets(comm, sizeof(comm), f) == NULL)
					comm[0] = '\0';
				fclose(f);
			}
			comm[strcspn(comm, "\n")] = '\0';
			if ((size_t)snprintf(buf, len, "%s[%s]", comm,
			    pd->d_name) >= len)
				buf[0] = '\0';
			break;
		}
		closedir(fdir);
	}
	closedir(pdir);
}

/*
 * Bind the listeners for -L/-D: as ssh, one per address of the bind name
 * (localhost: 127.0.0.1 and ::1; "*": 0.0.0.0 and ::), at most two, so
 * that a client of either family finds the port.  Returns the first fd,
 * the second in *alt (or -1); -1 with the reason in err when one is taken
 * (unlike ssh, which warns: a port half taken is an error here too), or
 * when none could be bound.  An address this host lacks (no IPv6) is
 * skipped.  Port 0 (an ephemeral port) gets one listener.
 */
static int
fwd_listen(const char *bind_addr, uint16_t port, int *alt, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage first;
	socklen_t firstlen = 0;
	char serv[8], holder[64];
	int fd = -1, s, one = 1, e = 0;

	*alt = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	/* As ssh: loopback unless an address is named ("*" = all). */
	if (getaddrinfo(*bind_addr == '\0' ? "localhost" :
	    strcmp(bind_addr, "*") == 0 ? NULL : bind_addr, serv, &hints,
	    &res) != 0 || res == NULL) {
		snprintf(err, errlen, "cannot resolve bind address \"%s\"",
		    bind_addr);
		return -1;
	}
	for (ai = res; ai != NULL && *alt == -1; ai = ai->ai_next) {
		/* A name listed twice for one address (hosts files do). */
		if (fd != -1 && ai->ai_addrlen == firstlen &&
		    memcmp(ai->ai_addr, &first, firstlen) == 0)
			continue;
		if ((s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1)
			continue;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* "::" beside 0.0.0.0: each family its own socket. */
		if (ai->ai_family == AF_INET6)
			setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(s, SOMAXCONN) == 0) {
			if (fd == -1) {
				fd = s;
				firstlen = ai->ai_addrlen;
				memcpy(&first, ai->ai_addr, firstlen);
			} else
				*alt = s;
			if (port == 0)
				break;
			continue;
		}
		e = errno;
		close(s);
		if (e != EADDRNOTAVAIL && e != EAFNOSUPPORT) {
			if (fd != -1)
				close(fd);
			if (*alt != -1)
				close(*alt);
			fd = *alt = -1;
			break;
		}
	}
	freeaddrinfo(res);
	if (fd == -1) {
		port_holder(port, holder, sizeof(holder));
		snprintf(err, errlen, "cannot listen on %s port %u: %s%s%s",
		    *bind_addr ? bind_addr : "localhost", port, strerror(e),
		    *holder ? ", held by " : "", holder);
	}
	return fd;
}

/*
 * A proxy on loopback is for its user alone: through it, any local user
 * could reach the intranet with our session, since SOCKS has no password
 * here.  The peer's socket is ours when the kernel says its owner is our
 * uid (or root's: see uid_trusted).  Anything unclear is a refusal.
 * Returns 1 to serve fd.
 */
static int
peer_allowed(struct fwd *f, int fd)
{
	uid_t uid = (uid_t)-1;
	int known;

	if (!f->owner_only)
		return 1;
	known = sockdiag_peer_uid(fd, &uid) == 0;
	if (known && uid_trusted(uid))
		return 1;
	f->refused++;
	if (f->refused == 1)
		logit("%s %u: refused a connection from %s %u: a proxy on "
		    "loopback serves uid %u only (bind it to another address "
		    "to share it)", kind_name(f->kind), f->port,
		    known ? "uid" : "unknown user, error", known ?
		    (unsigned)uid : (unsigned)errno, (unsigned)geteuid());
	else
		verbose("%s %u: refused a connection from uid %d",
		    kind_name(f->kind), f->port, known ? (int)uid : -1);
	return 0;
}

static void
fwd_accept(struct helper *h, struct watch *w, uint32_t events)
{
	struct fwd *f = w->arg;
	struct linger lg = { 1, 0 };
	int fd;

	(void)events;
	while ((fd = listener_accept(h, w)) != -1) {
		if (!peer_allowed(f, fd)) {
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			continue;
		}
		if (f->kind == PROTO_FWD_DYNAMIC)
			proxy_accept(h, fd, f);
		else
			relay_accepted(h, fd, f->target, f->target_port,
			    f->origin, NULL, 0, NULL, 0);
	}
}

static void
rules_error(void *arg, const char *msg)
{
	(*(int *)arg)++;
	error("-D: %s", msg);
}

static struct fwd *
fwd_find(struct helper *h, const struct proto_forward *req, const char *tail)
{
	struct fwd *f;

	TAILQ_FOREACH(f, &h->fwds, entry) {
		if (f->kind != (int)req->kind || strcmp(f->bind, req->bind) != 0)
			continue;
		/* An ephemeral proxy is shared by launchers with the same rules. */
		if (req->port == 0 && f->auto_proxy && tail != NULL &&
		    f->rules_text != NULL && strcmp(f->rules_text, tail) == 0)
			return f;
		if (req->port != 0 && f->port == req->port)
			return f;
	}
	return NULL;
}

/* Tell the requester which port an ephemeral listener got. */
static void
reply_port(int ctl, const struct fwd *f)
{
	char text[16];

	snprintf(text, sizeof(text), "%u", f->port);
	ctl_reply(ctl, PROTO_FORWARD, 0, text, strlen(text));
}

void
fwd_request(struct helper *h, int ctl, const struct proto_forward *req,
    const char *tail, size_t taillen)
{
	char err[512] = "";
	struct fwd *f;
	int errors = 0;

	if (memchr(req->bind, '\0', sizeof(req->bind)) == NULL ||
	    memchr(req->target, '\0', sizeof(req->target)) == NULL ||
	    memchr(req->origin, '\0', sizeof(req->origin)) == NULL ||
	    req->kind < PROTO_FWD_LOCAL || req->kind > PROTO_FWD_PUBLISH) {
		ctl_reply(ctl, PROTO_FORWARD, EINVAL, NULL, 0);
		return;
	}
	if ((f = fwd_find(h, req, tail)) != NULL) {
		/* Already held (another launcher asked): fine if the same. */
		if (f->auto_proxy) {
			reply_port(ctl, f);
			return;
		}
		if (strcmp(f->target, req->target) == 0 &&
		    f->target_port == req->target_port) {
			if (f->kind == PROTO_FWD_PUBLISH) {
				f->ino = req->ino;
				f->pid = req->pid;
			}
			ctl_reply(ctl, PROTO_FORWARD, 0, NULL, 0);
		} else {
			snprintf(err, sizeof(err), "%s %u is already forwarded "
			    "to %s:%u", kind_name(f->kind), f->port, f->target,
			    f->target_port);
			ctl_reply(ctl, PROTO_FORWARD, EADDRINUSE, err,
			    strlen(err));
		}
		return;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("out of memory");
	f->h = h;
	f->kind = req->kind;
	f->port = req->port;
	f->target_port = req->target_port;
	f->pid = req->pid;
	f->ino = req->ino;
	strlcpy(f->bind, req->bind, sizeof(f->bind));
	strlcpy(f->target, req->target, sizeof(f->target));
	strlcpy(f->origin, req->origin, sizeof(f->origin));
	f->listen.fd = f->listen_alt.fd = -1;
	if (f->kind == PROTO_FWD_DYNAMIC && taillen > 0 &&
	    rules_parse_string(tail, "-D rules", &f->rules, rules_error,
	    &errors) == -1) {
		ctl_reply(ctl, PROTO_FORWARD, EINVAL, NULL, 0);
		free(f);
		return;
	}
	if (f->kind == PROTO_FWD_LOCAL || f->kind == PROTO_FWD_DYNAMIC) {
		if ((f->listen.fd = fwd_listen(f->bind, f->port,
		    &f->listen_alt.fd, err, sizeof(err))) == -1) {
			error("%s %u: %s", kind_name(f->kind), f->port, err);
			ctl_reply(ctl, PROTO_FORWARD, EADDRINUSE, err,
			    strlen(err));
			rules_free(f->rules);
			free(f);
			return;
		}
		f->listen.fn = f->listen_alt.fn = fwd_accept;
		f->listen.arg = f->listen_alt.arg = f;
		if (f->kind == PROTO_FWD_DYNAMIC) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);

			/* As ssh's GatewayPorts: a non-loopback bind
			 * address is the user's choice to share it. */
			f->owner_only = getsockname(f->listen.fd,
			    (struct sockaddr *)&ss, &len) == -1 ||
			    addr_is_loopback(&ss);
		}
		watch_set(h, &f->listen, EPOLLIN);
		if (f->listen_alt.fd >= 0)
			watch_set(h, &f->listen_alt, EPOLLIN);
		f->state = FWD_ACTIVE;
		if (f->port == 0) {
			/* The proxy for programs the shim cannot reach. */
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);

			getsockname(f->listen.fd, (struct sockaddr *)&ss, &len);
			f->port = ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
			f->auto_proxy = 1;
			if (tail != NULL && (f->rules_text = strdup(tail)) == NULL)
				fatal("out of memory");
			TAILQ_INSERT_TAIL(&h->fwds, f, entry);
			verbose("proxy for unreachable programs on port %u",
			    f->port);
			reply_port(ctl, f);
			return;
		}
	} else
		f->state = FWD_PENDING;	/* sent by fwd_pump() */
	verbose("%s %s%s%u -> %s:%u (%s)", kind_name(f->kind), f->bind,
	    *f->bind ? ":" : "", f->port, f->target, f->target_port,
	    f->origin);
	TAILQ_INSERT_TAIL(&h->fwds, f, entry);
	ctl_reply(ctl, PROTO_FORWARD, 0, NULL, 0);
}

/* The bastion-side bind address of a remote forward, ssh's default. */
static const char *
remote_bind(const struct fwd *f)
{
	if (*f->bind == '\0')
		return "localhost";
	if (strcmp(f->bind, "*") == 0)
		return "";
	return f->bind;
}

static void
fwd_free(struct helper *h, struct fwd *f)
{
	TAILQ_REMOVE(&h->fwds, f, entry);
	if (f->listen.fd >= 0) {
		watch_del(h, &f->listen);
		close(f->listen.fd);
	}
	if (f->listen_alt.fd >= 0) {
		watch_del(h, &f->listen_alt);
		close(f->listen_alt.fd);
	}
	rules_free(f->rules);
	free(f->rules_text);
	free(f);
}

/*
 * Advance the remote-forward queue: one global request at a time (libssh
 * keeps one reply slot).  Called after pumps and once a second.
 */
void
fwd_pump(struct helper *h)
{
	struct fwd *f;
	int rc, bound = 0;

	if (!h->session_up)
		return;
	if ((f = h->fwd_inflight) == NULL) {
		TAILQ_FOREACH(f, &h->fwds, entry)
			if (f->state == FWD_PENDING ||
			    f->state == FWD_CANCELLING)
				break;
		if (f == NULL)
			return;
		h->fwd_inflight = f;
		if (f->state == FWD_PENDING)
			f->state = FWD_REQUESTING;
	}
	if (f->state == FWD_CANCELLING)
		rc = ssh_channel_cancel_forward(h->ssh, remote_bind(f),
		    f->remote_port);
	else
		rc = ssh_channel_listen_forward(h->ssh, remote_bind(f),
		    f->port, &bound);
	if (rc == SSH_AGAIN)
		return;
	h->fwd_inflight = NULL;
	if (f->state == FWD_CANCELLING) {
		verbose("%s %u: remote forward cancelled", kind_name(f->kind),
		    f->remote_port);
		fwd_free(h, f);
		return;
	}
	if (rc == SSH_OK) {
		f->state = FWD_ACTIVE;
		f->remote_port = f->port ? f->port : (uint16_t)bound;
		f->err[0] = '\0';
		logit("%s: bastion listens on %s port %u for %s:%u",
		    kind_name(f->kind), *remote_bind(f) ? remote_bind(f) : "*",
		    f->remote_port, f->target, f->target_port);
	} else {
		f->state = FWD_FAILED;
		snprintf(f->err, sizeof(f->err), "the bastion refused to "
		    "listen on port %u (taken, or not permitted: see sshd's "
		    "AllowTcpForwarding and GatewayPorts)", f->port);
		error("%s %u: %s", kind_name(f->kind), f->port, f->err);
	}
	session_update_interest(h);
}

/* After a reconnect every remote forward must be asked for again. */
void
fwd_session_down(struct helper *h)
{
	struct fwd *f, *next;

	h->fwd_inflight = NULL;
	for (f = TAILQ_FIRST(&h->fwds); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (f->state == FWD_CANCELLING)
			fwd_free(h, f);
		else if (f->kind == PROTO_FWD_REMOTE ||
		    f->kind == PROTO_FWD_PUBLISH)
			f->state = FWD_PENDING;
	}
}

/* Does the socket with inode ino still listen? */
static int
still_listening(uint64_t ino)
{
	static const char *const tabs[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];
	unsigned long i_ino;
	unsigned st;
	size_t i;
	FILE *f;
	int found = 0;

	for (i = 0; i < 2 && !found; i++) {
		if ((f = fopen(tabs[i], "re")) == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, " %*d: %*s %*s %x %*s %*s %*s %*d %*d "
			    "%lu", &st, &i_ino) == 2 && st == 0x0a &&
			    i_ino == ino)
				found = 1;
		fclose(f);
	}
	return found;
}

/* Once a second: cancel published forwards whose listener is gone. */
void
fwd_tick(struct helper *h)
{
	struct fwd *f, *next;

	for (f = TAILQ_FIRST(&h->fwds); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (f->kind != PROTO_FWD_PUBLISH || f->state == FWD_CANCELLING ||
		    f == h->fwd_inflight || still_listening(f->ino))
			continue;
		verbose("publish %u: pid %d closed its listener", f->port,
		    (int)f->pid);
		if (f->state == FWD_ACTIVE && h->session_up)
			f->state = FWD_CANCELLING;
		else
			fwd_free(h, f);
	}
	fwd_pump(h);
}

/*
 * libssh hands us channel opens the bastion initiates.  Forwarded-tcpip
 * ones for a forward of ours are accepted and connected to its target;
 * everything else gets libssh's default answer (refused).
 */
int
fwd_message(ssh_session s, ssh_message msg, void *arg)
{
	struct helper *h = arg;
	ssh_channel ch;
	struct fwd *f;
	int port;

	(void)s;
	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_subtype(msg) != SSH_CHANNEL_FORWARDED_TCPIP)
		return 1;
	port = ssh_message_channel_request_open_destination_port(msg);
	TAILQ_FOREACH(f, &h->fwds, entry)
		if ((f->kind == PROTO_FWD_REMOTE ||
		    f->kind == PROTO_FWD_PUBLISH) && f->state == FWD_ACTIVE &&
		    f->remote_port == port)
			break;
	if (f == NULL)
		return 1;
	if ((ch = ssh_message_channel_request_open_reply_accept(msg)) == NULL)
		return 0;
	f->accepted++;
	relay_forwarded(h, ch, f->target, f->target_port, f->origin,
	    ssh_message_channel_request_open_originator(msg),
	    ssh_message_channel_request_open_originator_port(msg));
	return 0;
}

void
fwd_status(struct helper *h, void (*put)(void *, const char *, ...),
    void *arg)
{
	struct fwd *f;

	if (TAILQ_EMPTY(&h->fwds))
		return;
	put(arg, "forwards\n");
	TAILQ_FOREACH(f, &h->fwds, entry) {
		if (f->kind == PROTO_FWD_DYNAMIC)
			put(arg, "  %-8s %s%s%u (SOCKS5/HTTP proxy)  %s  %s\n",
			    kind_name(f->kind), f->bind, *f->bind ? ":" : "",
			    f->port, state_name(f->state), f->origin);
		else if (f->kind == PROTO_FWD_LOCAL)
			put(arg, "  %-8s %s%s%u -> %s:%u  %s  %s\n",
			    kind_name(f->kind), f->bind, *f->bind ? ":" : "",
			    f->port, f->target, f->target_port,
			    state_name(f->state), f->origin);
		else
			put(arg, "  %-8s bastion %s:%u -> %s:%u  %s%s%s  %s, "
			    "%u connections\n", kind_name(f->kind),
			    *remote_bind(f) ? remote_bind(f) : "*",
			    f->remote_port ? f->remote_port : f->port,
			    f->target, f->target_port, state_name(f->state),
			    *f->err ? ": " : "", f->err, f->origin,
			    f->accepted);
	}
}

void
fwd_free_all(struct helper *h)
{
	while (!TAILQ_EMPTY(&h->fwds))
		fwd_free(h, TAILQ_FIRST(&h->fwds));
}

/* The forwards as a JSON array, for -O status --json. */
void
fwd_json(struct helper *h, void (*put)(void *, const char *, ...), void *arg)
{
	struct fwd *f;
	const char *sep = "";

	put(arg, "[");
	TAILQ_FOREACH(f, &h->fwds, entry) {
		put(arg, "%s{\"kind\":\"%s\",\"bind\":\"%s\",\"port\":%u,"
		    "\"remote_port\":%u,\"target\":\"%s\",\"target_port\":%u,"
		    "\"state\":\"%s\",\"connections\":%u}", sep,
		    kind_name(f->kind), json_safe(f->bind), f->port,
		    f->remote_port, json_safe(f->target), f->target_port,
		    f->state == FWD_FAILED ? "failed" : state_name(f->state),
		    f->accepted);
		sep = ",";
	}
	put(arg, "]");
}
