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
 * hook-listen.c - listen(): publish a program's listener at the bastion.
 *
 * When a listening port matches a `publish` rule, the helper asks the
 * bastion to listen on the published port (a tcpip-forward, as ssh -R) and
 * connects what it accepts there to this listener, so the program's own
 * accept() returns it.  The request is sent and forgotten: the program's
 * listen() never waits for the bastion, and a refusal is reported by the
 * helper (-v, -O status); the local listen works either way.  The helper
 * notices when the listener is closed and cancels the forward.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* Where the helper should connect to reach this listener. */
static void
reach_address(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
			snprintf(buf, len, "127.0.0.1");
		else
			inet_ntop(AF_INET, &sin->sin_addr, buf, len);
	} else {
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			snprintf(buf, len, "::1");
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len);
	}
}

static void
publish(int fd)
{
	const struct shim *st = shim_get();
	const struct shim_session *s;
	struct sockaddr_storage ss;
	struct rules_publish p;
	struct proto_forward req;
	struct stat sb;
	socklen_t len = sizeof(ss);
	uint16_t port;
	int status, r;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)(void *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	if (!rules_match_publish(st->rules, port, &p) ||
	    (s = shim_session(p.session)) == NULL || fstat(fd, &sb) == -1)
		return;
	memset(&req, 0, sizeof(req));
	req.kind = PROTO_FWD_PUBLISH;
	req.pid = (uint32_t)getpid();
	req.ino = sb.st_ino;
	req.port = p.remote_port ? p.remote_port : port;
	snprintf(req.bind, sizeof(req.bind), "%s", strcmp(p.address, "*") == 0 ?
	    "*" : p.address);
	reach_address(&ss, req.target, sizeof(req.target));
	req.target_port = port;
	snprintf(req.origin, sizeof(req.origin), "%s:%d",
	    p.file ? p.file : "(rules)", p.line);
	r = ipc_call(s, PROTO_FORWARD, &req, sizeof(req), -1, NULL, 0, &status,
	    1);
	shim_log(1, "listen on port %u: publish as bastion port %u by %s%s%s",
	    port, req.port, req.origin, r < 0 ? ": helper unreachable: " : "",
	    r < 0 ? strerror(-r) : "");
}

SHIM_EXPORT int
listen(int fd, int backlog)
{
	const struct shim *st = shim_get();
	int r, saved;

	if (shim_real.listen == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = shim_real.listen(fd, backlog);
	if (r == 0 && st->active && rules_have_publish(st->rules)) {
		saved = errno;
		publish(fd);
		errno = saved;
	}
	return r;
}
