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
 * hook-connect.c - connect(): decide, then go direct, deny or tunnel.
 *
 * The direct path is the hot one (every connect of every program pays for
 * the shim): family check, synthetic-pool check, an in-process rules match,
 * then libc.  No lock, no allocation, no helper.
 *
 * Tunneled sockets stay the program's own: the socket travels to the
 * helper (SCM_RIGHTS), which opens a direct-tcpip channel and connects the
 * socket to a loopback relay of its own.  Options, family and a prior
 * bind() survive; getpeername() is answered from fdtab.
 *
 * Blocking and non-blocking connects take the same path: the helper parks
 * the socket (SYN_SENT) and completes or fails it when the channel outcome
 * is known (helper/daemon/handover.c); a blocking caller then waits in
 * the kernel's own connect() (finish_parked), so signals and SO_SNDTIMEO
 * act as on any connect.
 *
 * What a program sees:
 *   blocking:     0 once the channel is open; -1 with ECONNREFUSED
 *                 (connect failed at the far end), EACCES (administratively
 *                 prohibited, or a deny rule), ETIMEDOUT (no answer in
 *                 time), EHOSTUNREACH (the bastion cannot resolve the
 *                 name), ENETUNREACH (no helper), ETIMEDOUT (the helper
 *                 did not answer within HelperTimeout), EINTR (a signal
 *                 without SA_RESTART; the connect goes on); while the
 *                 session is down a connect waits for the reconnect, up to
 *                 ConnectTimeout, then ETIMEDOUT.
 *   non-blocking: -1/EINPROGRESS at once; the socket polls writable when
 *                 the outcome is known; SO_ERROR then gives 0 or one of the
 *                 errnos above (hook-socket.c replaces the kernel's
 *                 ECONNRESET with the reason the helper recorded).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <unistd.h>

#include "shim.h"

static void
describe(const struct sockaddr *sa, const char *name, char *buf, size_t len)
{
	char host[64] = "?";
	uint16_t port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	}
	if (name != NULL)
		snprintf(buf, len, "%s:%u (%s)", name, port, host);
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}

/*
 * A synthetic address whose name a rule now sends direct (e.g. a port rule
 * narrower than the name rule): resolve the name locally after all and
 * connect to the first address of the socket's family.
 */
static int
connect_direct_by_name(int fd, const char *name, uint16_t port, int family)
{
	struct addrinfo hints, *res, *ai;
	char serv[8];
	int r, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (family == AF_INET6 ? AI_V4MAPPED : 0);
	snprintf(serv, sizeof(serv), "%u", port);
	if (shim_real.getaddrinfo(name, serv, &hints, &res) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	r = -1;
	errno = EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((r = shim_real.connect(fd, ai->ai_addr,
		    ai->ai_addrlen)) == 0 || errno == EINPROGRESS)
			break;
	}
	saved = errno;
	shim_real.freeaddrinfo(res);
	errno = saved;
	return r;
}

/*
 * An address for asking the kernel's connect() about a parked socket that
 * can never start a connection: the other family, well formed (so that an
 * LSM looking at it accepts it), with the destination's port.  While the
 * socket's connect is in progress the kernel does not look at it; once the
 * helper has disconnected the socket (a failure) the kernel would start a
 * fresh connect, and the family mismatch refuses that (EAFNOSUPPORT for
 * IPv4, EINVAL for IPv6) before anything is sent.  With the program's own
 * destination, that fresh connect would go out directly.
 */
static socklen_t
inert_address(int fd, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;
	socklen_t len = sizeof(int);
	int domain;

	memset(ss, 0, sizeof(*ss));
	if (shim_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain,
	    &len) == -1)
		return 0;
	if (domain == AF_INET) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*sin);
}

/*
 * Wait for (blocking) or look at (non-blocking) a parked connect, with the
 * kernel's own connect(): on a socket whose connect is in progress it
 * waits for the outcome when blocking, says EALREADY when not, 0 once
 * connected, or the error.  So a blocking connect waits exactly as the
 * kernel's does: a signal without SA_RESTART ends it with EINTR (the
 * connect goes on; the next connect() waits again), one with SA_RESTART
 * restarts it, SO_SNDTIMEO bounds it.  A failed parked connect (the helper
 * disconnected the socket: ECONNRESET, EPIPE when that crossed the wait,
 * or the inert address refused when it came before) reads as the reason
 * the helper recorded.  first: the program's first connect() of the
 * socket, where a timeout reads EINPROGRESS, as the kernel says it.
 */
static int
finish_parked(int fd, uint16_t port, int first)
{
	struct sockaddr_storage inert;
	struct fdtab_ent e;
	socklen_t ilen, elen = sizeof(int);
	int err, soerr;

	if ((ilen = inert_address(fd, port, &inert)) == 0)
		return -1;
	if (shim_real.connect(fd, (struct sockaddr *)&inert, ilen) == 0) {
		fdtab_clear_pending(fd);
		return 0;
	}
	err = errno;
	if (err == EISCONN)
		fdtab_clear_pending(fd);
	if (err == EINTR || err == EALREADY || err == EISCONN) {
		errno = err == EALREADY && first ? EINPROGRESS : err;
		return -1;
	}
	/* Consumed, as the kernel's failed connect consumes it. */
	soerr = 0;
	shim_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen);
	if (err == ECONNRESET || err == EPIPE || err == ECONNABORTED ||
	    err == EAFNOSUPPORT || err == EINVAL) {
		err = soerr != 0 ? soerr : ECONNRESET;
		if (fdtab_get(fd, &e) == 0)
			err = shim_parked_reason(&e, err);
	}
	fdtab_clear_pending(fd);
	errno = err;
	return -1;
}

static int
tunnel_stream(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *name, const struct rules_match *m, const char *what)
{
	const struct shim_session *s = shim_session(m->session);
	struct proto_connect req;
	struct proto_addr unused;
	struct fdtab_ent e;
	int flags, status, r, saved, zero = 0;

	if (fdtab_get(fd, &e) == 0 && e.pending)
		return finish_parked(fd, shim_port(sa), 0);
	if (s == NULL) {
		shim_log(1, "%s: no session to tunnel through", what);
		errno = ENETUNREACH;
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return -1;
	memset(&req, 0, sizeof(req));
	req.pid = (uint32_t)getpid();
	req.fd = fd;
	proto_addr_from_sockaddr(&req.dest, sa);
	if (name != NULL)
		snprintf(req.host, sizeof(req.host), "%s", name);
	snprintf(req.rule, sizeof(req.rule), "%s:%d",
	    m->file ? m->file : "(default)", m->line);
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return -1;
	/* A deferred (Fast Open) connect would defeat the parking. */
	setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &zero, sizeof(zero));
	r = ipc_call(s, PROTO_CONNECT, &req, sizeof(req), fd, &unused,
	    sizeof(unused), &status, 0);
	if (r == 0 && status == EINPROGRESS) {
		fdtab_set(fd, sa, salen, 1, s);
		if (flags & O_NONBLOCK) {
			errno = EINPROGRESS;
			return -1;
		}
		/* Parked: blocking again, the kernel's connect waits. */
		fcntl(fd, F_SETFL, flags);
		r = finish_parked(fd, shim_port(sa), 1);
		saved = errno;
		if (r == -1)
			shim_log(1, "%s: %s", what, strerror(saved));
		errno = saved;
		return r;
	}
	/*
	 * A helper that did not answer in time may still park the socket
	 * later: it must find it non-blocking then, so it stays so (the
	 * program's connect failed; the socket is for closing).
	 */
	if (!(flags & O_NONBLOCK) && r != -ETIMEDOUT)
		fcntl(fd, F_SETFL, flags);
	if (r == -ETIMEDOUT) {
		shim_log(1, "%s: helper for session %s does not answer", what,
		    s->name);
		errno = ETIMEDOUT;
	} else if (r < 0) {
		shim_log(1, "%s: helper for session %s unreachable: %s", what,
		    s->name, strerror(-r));
		errno = ENETUNREACH;
	} else {
		shim_log(1, "%s: %s", what, strerror(status));
		errno = status ? status : EIO;
	}
	return -1;
}

static int
tunnel_connect(const struct shim *st, int fd, const struct sockaddr *sa,
    socklen_t len)
{
	struct rules_match m;
	enum rules_action act;
	char name[PROTO_NAMELEN], what[PROTO_NAMELEN + 64];
	const char *namep = NULL;
	uint16_t port = shim_port(sa);
	struct sockaddr_storage alt;
	socklen_t altlen, tlen = sizeof(int);
	int type;

	/* DNS to the system's nameserver: the helper's responder answers. */
	if (port == 53 && shim_dns_connect(fd, sa, len, &alt, &altlen) == 1)
		return shim_real.connect(fd, (struct sockaddr *)&alt, altlen);
	if (shim_is_synthetic(sa)) {
		if (names_reverse(shim_session(NULL), sa, name,
		    sizeof(name)) == -1) {
			/* An address from a helper that is gone: never guess. */
			errno = ENETUNREACH;
			return -1;
		}
		namep = name;
		act = rules_match_name(st->rules, name, port, &m);
	} else {
		act = rules_match_addr(st->rules, sa, &m);
		if (act == RULES_DIRECT) {
			if (st->verbose > 0) {
				describe(sa, NULL, what, sizeof(what));
				shim_log(1, "%s: direct by %s:%d", what,
				    m.file ? m.file : "default", m.line);
			}
			return shim_real.connect(fd, sa, len);
		}
	}
	describe(sa, namep, what, sizeof(what));
	if (act == RULES_DIRECT) {
		shim_log(1, "%s: direct by %s:%d", what,
		    m.file ? m.file : "default", m.line);
		return connect_direct_by_name(fd, name, port, sa->sa_family);
	}
	if (act == RULES_DENY) {
		shim_log(1, "%s: denied by %s:%d", what,
		    m.file ? m.file : "default", m.line);
		errno = EACCES;
		return -1;
	}
	if (shim_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1)
		return -1;
	if (type != SOCK_STREAM) {
		/* SSH carries no datagrams: fail fast so QUIC & co fall back. */
		shim_log(1, "%s: not a stream socket, cannot tunnel", what);
		errno = ENETUNREACH;
		return -1;
	}
	shim_log(1, "%s: tunnel via %s by %s:%d", what,
	    m.session ? m.session : "?", m.file ? m.file : "default", m.line);
	return tunnel_stream(fd, sa, len, namep, &m, what);
}

/*
 * How much longer than HelperTimeout a UNIX connect may wait: the helper
 * answers it once the channel is open, within its own bounds (60 s for a
 * channel, ConnectTimeout while the session is down).
 */
#define UNIX_CONNECT_MS	(120 * 1000)

/*
 * A UNIX socket path a `tunnel unix:` rule sends to the bastion (as a
 * direct-streamlocal channel).  Unlike TCP there is no parking for UNIX
 * sockets, so the connect waits for the channel even when non-blocking; the
 * helper then connects the socket itself.
 */
static int
tunnel_unix(const struct shim *st, int fd, const struct sockaddr *sa,
    socklen_t len)
{
	const struct sockaddr_un *sun = (const void *)sa;
	const struct shim_session *s;
	struct proto_connect req;
	struct proto_addr unused;
	struct ipc_req q;
	struct rules_match m;
	enum rules_action act;
	char path[sizeof(sun->sun_path) + 1];
	size_t got;
	size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
	    len - offsetof(struct sockaddr_un, sun_path) : 0;
	int type, status, r;
	socklen_t tlen = sizeof(type);

	if (n == 0 || n > sizeof(sun->sun_path))
		return shim_real.connect(fd, sa, len);
	/* Abstract names are spelled "@name", as the rules expect. */
	memcpy(path, sun->sun_path, n);
	path[n] = '\0';
	if (path[0] == '\0')
		path[0] = '@';
	act = rules_match_unix(st->rules, path, &m);
	if (act == RULES_DIRECT)
		return shim_real.connect(fd, sa, len);
	if (act == RULES_DENY) {
		shim_log(1, "unix:%s: denied by %s:%d", path, m.file, m.line);
		errno = EACCES;
		return -1;
	}
	if (shim_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1)
		return -1;
	if (type != SOCK_STREAM || (s = shim_session(m.session)) == NULL) {
		errno = type != SOCK_STREAM ? EPROTOTYPE : ENETUNREACH;
		return -1;
	}
	memset(&req, 0, sizeof(req));
	memset(&q, 0, sizeof(q));
	req.flags = PROTO_CONNECT_UNIX;
	req.pid = (uint32_t)getpid();
	req.dest.family = AF_UNIX;
	snprintf(req.host, sizeof(req.host), "%s", path);
	snprintf(req.rule, sizeof(req.rule), "%s:%d", m.file ? m.file :
	    "(default)", m.line);
	shim_log(1, "unix:%s: tunnel via %s by %s:%d", path, s->name,
	    m.file ? m.file : "default", m.line);
	/* The answer waits for the channel: the helper's own bounds apply. */
	q.type = PROTO_CONNECT;
	q.body = &req;
	q.len = sizeof(req);
	q.fd = fd;
	q.extra_ms = UNIX_CONNECT_MS;
	r = ipc_exchange(s, &q, &unused, sizeof(unused), &got, &status);
	if (r == 0 && got != sizeof(unused))
		r = -EPROTO;
	if (r < 0) {
		errno = r == -ETIMEDOUT ? ETIMEDOUT : ENETUNREACH;
		return -1;
	}
	if (status != 0) {
		errno = status;
		return -1;
	}
	fdtab_set(fd, sa, len, 0, s);
	return 0;
}

/* The connect() hook's work; syscall(SYS_connect) and Fast Open too. */
int
shim_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct shim *st = shim_get();

	if (shim_real.connect == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sa != NULL && sa->sa_family == AF_UNIX && st->active &&
	    rules_have_unix(st->rules))
		return tunnel_unix(st, fd, sa, len);
	if (!st->active || sa == NULL ||
	    (sa->sa_family == AF_INET && len < sizeof(struct sockaddr_in)) ||
	    (sa->sa_family == AF_INET6 && len < sizeof(struct sockaddr_in6)) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return shim_real.connect(fd, sa, len);
	return tunnel_connect(st, fd, sa, len);
}

SHIM_EXPORT int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return shim_connect(fd, sa, len);
}
