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
 * server.c - the benchmark's far end: echo, sink and source on loopback.
 *
 *   bench-server -a ADDR [-a ADDR]...
 *
 * Listens on three ports (chosen by the kernel, the same ones on every
 * ADDR, which must be loopback addresses) and prints them as one line,
 * "echo=P sink=P source=P", on stdout once it is serving.
 *
 *   echo    every byte read is written back; closes on EOF.
 *   sink    reads until EOF, then writes the byte count (8 bytes, big
 *           endian) and closes: the client's clock stops only when every
 *           byte it sent has arrived here.
 *   source  reads an 8-byte big-endian count N, sends N bytes, closes.
 *
 * One thread, level-triggered epoll, non-blocking sockets, no allocation
 * per byte: a shared pattern buffer for sending, a shared scratch buffer
 * for receiving, and a small per-connection buffer for echo.  Runs until
 * killed (SIGTERM), or until stdin reaches EOF, so it can never outlive the
 * benchmark that started it.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ADDRS	8
#define BUF_LEN		(1024 * 1024)
#define ECHO_LEN	(64 * 1024)
#define MAX_EVENTS	256

enum kind { ECHO, SINK, SOURCE, NKINDS };
static const char *const kind_name[NKINDS] = { "echo", "sink", "source" };

struct conn {
	int		 fd;
	enum kind	 kind;
	int		 listener;	/* a listening socket: kind accepts */
	uint32_t	 events;
	/* sink: bytes received; source: bytes still to send */
	uint64_t	 count;
	unsigned char	 hdr[8];
	size_t		 hdr_len;
	int		 replying;	/* sink: writing the count */
	/* echo: bytes read but not yet written back */
	char		*echo;
	size_t		 echo_off, echo_len;
	int		 eof;
};

static int epfd;
static char *pattern, *scratch;

static void
die(const char *what)
{
	fprintf(stderr, "bench-server: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	if (c->events == events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die("epoll_ctl");
	c->events = events;
}

static void
conn_close(struct conn *c)
{
	close(c->fd);		/* removes it from the epoll set */
	free(c->echo);
	free(c);
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
do_accept(struct conn *l)
{
	struct epoll_event ev;
	struct conn *c;
	int fd, i, one = 1;

	for (i = 0; i < 64; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == ECONNABORTED ||
			    errno == EINTR)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				fprintf(stderr, "bench-server: accept: %s\n",
				    strerror(errno));
				return;
			}
			die("accept");
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL)
			die("calloc");
		c->fd = fd;
		c->kind = l->kind;
		c->events = EPOLLIN;
		memset(&ev, 0, sizeof(ev));
		ev.events = c->events;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			die("epoll_ctl add");
	}
}

/* Returns 0 to keep the connection, -1 to close it. */
static int
do_echo(struct conn *c, uint32_t events)
{
	ssize_t n;

	if (c->echo == NULL && (c->echo = malloc(ECHO_LEN)) == NULL)
		die("malloc");
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->echo_len == 0 &&
	    !c->eof) {
		n = read(c->fd, c->echo, ECHO_LEN);
		if (n == 0)
			c->eof = 1;
		else if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
		} else {
			c->echo_off = 0;
			c->echo_len = n;
		}
	}
	while (c->echo_off < c->echo_len) {
		n = send(c->fd, c->echo + c->echo_off,
		    c->echo_len - c->echo_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		c->echo_off += n;
	}
	if (c->echo_off == c->echo_len) {
		c->echo_off = c->echo_len = 0;
		if (c->eof)
			return -1;
		set_events(c, EPOLLIN);
	} else
		set_events(c, EPOLLOUT);
	return 0;
}

static int
do_sink(struct conn *c, uint32_t events)
{
	ssize_t n;
	int i;

	if (!c->replying && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		for (i = 0; i < 16; i++) {
			n = read(c->fd, scratch, BUF_LEN);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				return -1;
			}
			if (n == 0) {
				c->replying = 1;
				put_be64(c->hdr, c->count);
				c->hdr_len = 0;
				break;
			}
			c->count += n;
		}
		if (!c->replying)
			return 0;
	}
	if (c->replying) {
		n = send(c->fd, c->hdr + c->hdr_len, 8 - c->hdr_len,
		    MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->hdr_len += n;
		if (c->hdr_len == 8)
			return -1;	/* done: close */
		set_events(c, EPOLLOUT);
	}
	return 0;
}

static int
do_source(struct conn *c, uint32_t events)
{
	ssize_t n;
	size_t len;
	int i;

	if (c->hdr_len < 8) {
		if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			return 0;
		n = read(c->fd, c->hdr + c->hdr_len, 8 - c->hdr_len);
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EINTR) ?
			    0 : -1;
		c->hdr_len += n;
		if (c->hdr_len < 8)
			return 0;
		c->count = get_be64(c->hdr);
		set_events(c, EPOLLOUT);
	}
	for (i = 0; i < 4 && c->count > 0; i++) {
		len = c->count < BUF_LEN ? c->count : BUF_LEN;
		n = send(c->fd, pattern, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->count -= n;
	}
	return c->count == 0 ? -1 : 0;	/* all sent: close (FIN follows) */
}

static int
listen_on(const char *addr, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(*port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 ||
	    (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "bench-server: %s: not an IPv4 loopback "
		    "address\n", addr);
		exit(1);
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die(addr);
	if (listen(fd, 4096) == -1)
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("getsockname");
	*port = ntohs(sin.sin_port);
	return fd;
}

int
main(int argc, char **argv)
{
	const char *addrs[MAX_ADDRS];
	struct epoll_event evs[MAX_EVENTS], ev;
	struct rlimit rl;
	struct conn stdin_w, *c;
	uint16_t port[NKINDS];
	int naddrs = 0, ch, i, k, n, r;
	size_t j;

	while ((ch = getopt(argc, argv, "a:")) != -1) {
		if (ch != 'a' || naddrs == MAX_ADDRS) {
			fprintf(stderr, "usage: bench-server -a ADDR...\n");
			return 2;
		}
		addrs[naddrs++] = optarg;
	}
	if (naddrs == 0) {
		fprintf(stderr, "usage: bench-server -a ADDR...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((pattern = malloc(BUF_LEN)) == NULL ||
	    (scratch = malloc(BUF_LEN)) == NULL)
		die("malloc");
	for (j = 0; j < BUF_LEN; j++)
		pattern[j] = (char)(j * 131 + (j >> 12));
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	for (k = 0; k < NKINDS; k++) {
		port[k] = 0;
		for (i = 0; i < naddrs; i++) {
			if ((c = calloc(1, sizeof(*c))) == NULL)
				die("calloc");
			c->fd = listen_on(addrs[i], &port[k]);
			c->kind = (enum kind)k;
			c->listener = 1;
			c->events = EPOLLIN;
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN;
			ev.data.ptr = c;
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
				die("epoll_ctl");
		}
	}
	/* stdin EOF (the benchmark is gone) ends us. */
	memset(&stdin_w, 0, sizeof(stdin_w));
	stdin_w.fd = STDIN_FILENO;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &stdin_w;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == -1)
		stdin_w.fd = -1;	/* not pollable (a file): no watch */
	printf("%s=%u %s=%u %s=%u\n", kind_name[ECHO], port[ECHO],
	    kind_name[SINK], port[SINK], kind_name[SOURCE], port[SOURCE]);
	fflush(stdout);
	for (;;) {
		n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c == &stdin_w) {
				char b[256];

				if (read(STDIN_FILENO, b, sizeof(b)) <= 0)
					return 0;
				continue;
			}
			if (c->listener) {
				do_accept(c);
				continue;
			}
			switch (c->kind) {
			case ECHO: r = do_echo(c, evs[i].events); break;
			case SINK: r = do_sink(c, evs[i].events); break;
			default: r = do_source(c, evs[i].events); break;
			}
			if (r == -1)
				conn_close(c);
		}
	}
}
