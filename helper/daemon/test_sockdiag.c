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
 * test_sockdiag.c - unit tests for sockdiag.c: the kernel's answer by
 * netlink and the /proc/net fallback agree on real loopback sockets (an
 * IPv4 connection, an IPv6 socket on a v4-mapped one, a connect held in
 * SYN_SENT, a 4-tuple nobody has).  Prints "N passed, M failed".
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sockdiag.c"

static int passed, failed;

static void
expect(const char *what, int cond)
{
	if (cond) {
		passed++;
		printf("ok     %s\n", what);
	} else {
		failed++;
		printf("FAIL   %s (errno %s)\n", what, strerror(errno));
	}
}

static uint64_t
inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Listener on 127.0.0.1 with backlog; its address in ss. */
static int
listener(int backlog, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (void *)ss;
	socklen_t len = sizeof(*ss);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)ss, sizeof(*sin)) == -1 ||
	    listen(fd, backlog) == -1 ||
	    getsockname(fd, (struct sockaddr *)ss, &len) == -1)
		return -1;
	return fd;
}

/* Both ways of asking find connected fd in state, ours, by its inode. */
static void
both(const char *what, int fd, int state)
{
	struct sockaddr_storage l, r, cl, cr;
	socklen_t llen = sizeof(l), rlen = sizeof(r);
	struct sockdiag a, b;
	char name[160];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (getsockname(fd, (struct sockaddr *)&l, &llen) == -1 ||
	    getpeername(fd, (struct sockaddr *)&r, &rlen) == -1) {
		expect(what, 0);
		return;
	}
	canon((struct sockaddr *)&l, &cl);
	canon((struct sockaddr *)&r, &cr);
	snprintf(name, sizeof(name), "%s: netlink", what);
	expect(name, lookup_netlink(&cl, &cr, &a) == 0 && a.state == state &&
	    a.uid == geteuid() && a.ino == inode(fd));
	snprintf(name, sizeof(name), "%s: /proc/net", what);
	expect(name, lookup_proc(&cl, &cr, &b) == 0 && b.state == state &&
	    b.uid == geteuid() && b.ino == inode(fd));
}

int
main(void)
{
	struct sockaddr_storage ls, full, l, cl, cr;
	struct sockaddr_in6 m;
	socklen_t len;
	struct sockdiag d;
	int lfd, c4, c6, fl, filler, syn, zero = 0;

	if ((lfd = listener(8, &ls)) == -1) {
		printf("FAIL   no loopback listener: %s\n0 passed, 1 failed\n",
		    strerror(errno));
		return 1;
	}
	c4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	expect("IPv4 connect", connect(c4, (struct sockaddr *)&ls,
	    sizeof(struct sockaddr_in)) == 0);
	both("IPv4 connection", c4, TCP_ESTABLISHED);

	/* An IPv6 socket talking to 127.0.0.1 through ::ffff:127.0.0.1. */
	memset(&m, 0, sizeof(m));
	m.sin6_family = AF_INET6;
	m.sin6_port = ((struct sockaddr_in *)(void *)&ls)->sin_port;
	m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m.sin6_addr.s6_addr[12],
	    &((struct sockaddr_in *)(void *)&ls)->sin_addr, 4);
	c6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(c6, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	expect("v4-mapped connect", connect(c6, (struct sockaddr *)&m,
	    sizeof(m)) == 0);
	both("IPv6 socket, v4-mapped connection", c6, TCP_ESTABLISHED);

	/* A connect held in SYN_SENT: a listener whose queue is full. */
	if ((fl = listener(0, &full)) == -1)
		return 1;
	filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(filler, (struct sockaddr *)&full, sizeof(struct sockaddr_in));
	syn = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	expect("connect towards a full queue is in progress",
	    connect(syn, (struct sockaddr *)&full,
	    sizeof(struct sockaddr_in)) == -1 && errno == EINPROGRESS);
	len = sizeof(l);
	getsockname(syn, (struct sockaddr *)&l, &len);
	canon((struct sockaddr *)&l, &cl);
	canon((struct sockaddr *)&full, &cr);
	memset(&d, 0, sizeof(d));
	expect("SYN_SENT: netlink", lookup_netlink(&cl, &cr, &d) == 0 &&
	    d.state == TCP_SYN_SENT && d.ino == inode(syn));
	memset(&d, 0, sizeof(d));
	expect("SYN_SENT: /proc/net", lookup_proc(&cl, &cr, &d) == 0 &&
	    d.state == TCP_SYN_SENT && d.ino == inode(syn));
	expect("SYN_SENT: sockdiag_tcp", sockdiag_tcp((struct sockaddr *)&l,
	    (struct sockaddr *)&full, &d) == 0 && d.state == TCP_SYN_SENT);

	/* Nobody has this 4-tuple: the port of a closed socket. */
	close(syn);
	errno = 0;
	expect("gone: netlink says ENOENT",
	    lookup_netlink(&cl, &cr, &d) == -1 && errno == ENOENT);
	errno = 0;
	expect("gone: /proc/net says ENOENT",
	    lookup_proc(&cl, &cr, &d) == -1 && errno == ENOENT);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
