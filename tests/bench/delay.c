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
 * delay.c - a delay line for the WAN benchmark: every byte is held a
 * fixed time in each direction, with unbounded buffering.
 *
 *   bench-delay TARGET_PORT DELAY_US [ADDR [PORT]]
 *
 * Listens on ADDR:PORT (default 127.0.0.1 and a port chosen by the
 * kernel; printed as "port=P" on stdout once it serves) and relays each
 * accepted connection to ADDR:TARGET_PORT (IPv4).  What is read from one side is stamped with
 * its arrival time and written to the other side DELAY_US microseconds
 * later, never earlier; reads never stop (the buffer grows as needed), so
 * TCP itself stays as fast as loopback and only flow control above it
 * (an SSH channel window) meets the round trip of 2 x DELAY_US.  This
 * kernel has no sch_netem; this is the userspace stand-in.
 *
 * EOF travels like a byte: it is passed on (shutdown SHUT_WR) once every
 * byte before it has been written.  A reset or error on either side ends
 * the pair.  One thread, epoll, nanosecond timeouts (epoll_pwait2).  Runs
 * until killed or until stdin (when a pipe) reaches EOF.
 */
#include <sys/epoll.h>
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
#include <time.h>
#include <unistd.h>

#define READ_LEN	(256 * 1024)
#define MAX_EVENTS	64

struct chunk {
	struct chunk	*next;
	uint64_t	 due;		/* ns, CLOCK_MONOTONIC */
	size_t		 off, len;	/* len 0: the EOF marker */
	char		 data[];
};

/* One direction: bytes read from src wait here until due, then go to dst. */
struct dir {
	struct pair	*pair;
	int		 src, dst;
	struct chunk	*head, *tail;
	int		 src_eof;	/* EOF read (marker queued) */
	int		 done;		/* EOF passed on */
	int		 blocked;	/* dst refused bytes: wait EPOLLOUT */
};

struct pair {
	struct pair	*next;
	int		 fd[2];		/* accepted, outgoing */
	struct dir	 d[2];		/* 0: fd[0] -> fd[1], 1: back */
	int		 dead;
};

/* epoll data: a pair's address with the side in bit 0, or these. */
#define TAG_LISTENER	0
#define TAG_STDIN	2

static uint64_t	 delay_ns;
static int	 epfd;
static struct pair *pairs;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench-delay: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* What side's descriptor should wait for, from both directions' state. */
static void
interest(struct pair *p, int side)
{
	struct epoll_event ev;
	struct dir *in = &p->d[side], *out = &p->d[!side];

	memset(&ev, 0, sizeof(ev));
	if (!in->src_eof)
		ev.events |= EPOLLIN;
	if (out->blocked)
		ev.events |= EPOLLOUT;
	ev.data.u64 = ((uint64_t)(uintptr_t)p) | (uint64_t)side;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd[side], &ev) == -1)
		die("epoll_ctl");
}

static void
pair_kill(struct pair *p)
{
	struct chunk *c, *n;
	int i;

	if (p->dead)
		return;
	p->dead = 1;
	for (i = 0; i < 2; i++) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd[i], NULL);
		close(p->fd[i]);
		for (c = p->d[i].head; c != NULL; c = n) {
			n = c->next;
			free(c);
		}
		p->d[i].head = p->d[i].tail = NULL;
	}
}

static void
enqueue(struct dir *d, const char *buf, size_t len)
{
	struct chunk *c;

	if ((c = malloc(sizeof(*c) + len)) == NULL)
		die("malloc");
	c->next = NULL;
	c->due = now_ns() + delay_ns;
	c->off = 0;
	c->len = len;
	memcpy(c->data, buf, len);
	if (d->tail != NULL)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
}

/* Read everything src has now; returns -1 when the pair must end. */
static int
dir_read(struct dir *d, char *buf)
{
	ssize_t n;

	for (;;) {
		n = read(d->src, buf, READ_LEN);
		if (n > 0) {
			enqueue(d, buf, (size_t)n);
			if ((size_t)n < READ_LEN)
				return 0;
			continue;
		}
		if (n == 0) {
			d->src_eof = 1;
			enqueue(d, buf, 0);
			return 0;
		}
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -1;
	}
}

/* Write what is due; returns -1 when the pair must end. */
static int
dir_write(struct dir *d, uint64_t now)
{
	struct chunk *c;
	ssize_t n;

	d->blocked = 0;
	while ((c = d->head) != NULL && c->due <= now) {
		if (c->len == 0) {
			shutdown(d->dst, SHUT_WR);
			d->done = 1;
		} else {
			n = send(d->dst, c->data + c->off, c->len - c->off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					d->blocked = 1;
					return 0;
				}
				return -1;
			}
			c->off += (size_t)n;
			if (c->off < c->len) {
				d->blocked = 1;
				return 0;
			}
		}
		d->head = c->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(c);
	}
	return 0;
}

static void
nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
add(int fd, uint64_t data)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = data;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl");
}

static void
accept_one(int l, const struct sockaddr_in *target)
{
	struct pair *p;
	int a, b, i;

	if ((a = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	if ((b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(b, (const struct sockaddr *)target, sizeof(*target)) ==
	    -1) {
		fprintf(stderr, "bench-delay: connect: %s\n", strerror(errno));
		if (b != -1)
			close(b);
		close(a);
		return;
	}
	/* The connect is immediate on loopback; non-blocking from now on. */
	if (fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK) == -1)
		die("fcntl");
	nodelay(a);
	nodelay(b);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		die("calloc");
	p->fd[0] = a;
	p->fd[1] = b;
	for (i = 0; i < 2; i++) {
		p->d[i].pair = p;
		p->d[i].src = p->fd[i];
		p->d[i].dst = p->fd[!i];
		add(p->fd[i], (uint64_t)(uintptr_t)p | (uint64_t)i);
	}
	p->next = pairs;
	pairs = p;
}

/* Service one side's events: read into its direction, write the other. */
static void
side_io(struct pair *p, int side, uint32_t events, char *buf)
{
	if (p->dead)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !p->d[side].src_eof &&
	    dir_read(&p->d[side], buf) == -1) {
		pair_kill(p);
		return;
	}
	if ((events & EPOLLOUT) && dir_write(&p->d[!side], now_ns()) == -1) {
		pair_kill(p);
		return;
	}
	interest(p, 0);
	interest(p, 1);
}

/* Write everything due; the earliest later due time, or UINT64_MAX. */
static uint64_t
flush_due(void)
{
	struct pair *p, **pp;
	uint64_t now = now_ns(), next = UINT64_MAX;
	int i;

	for (pp = &pairs; (p = *pp) != NULL;) {
		for (i = 0; i < 2 && !p->dead; i++) {
			if (p->d[i].blocked || p->d[i].head == NULL)
				continue;
			if (dir_write(&p->d[i], now) == -1)
				pair_kill(p);
			else if (p->d[i].blocked)
				interest(p, !i);
		}
		if (!p->dead && p->d[0].done && p->d[1].done)
			pair_kill(p);
		if (p->dead) {
			*pp = p->next;
			free(p);
			continue;
		}
		for (i = 0; i < 2; i++)
			if (!p->d[i].blocked && p->d[i].head != NULL &&
			    p->d[i].head->due < next)
				next = p->d[i].head->due;
		pp = &p->next;
	}
	return next;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS];
	struct sockaddr_in sin, target;
	struct timespec ts, *tsp;
	socklen_t len = sizeof(sin);
	uint64_t next, now, tag;
	char *buf;
	int l, one = 1, i, n;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: bench-delay TARGET_PORT DELAY_US "
		    "[ADDR [PORT]]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	delay_ns = strtoull(argv[2], NULL, 10) * 1000ull;
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[1]));
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc > 3 && inet_pton(AF_INET, argv[3], &target.sin_addr) != 1) {
		fprintf(stderr, "bench-delay: %s: not an IPv4 address\n",
		    argv[3]);
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = target.sin_addr;
	if (argc > 4)
		sin.sin_port = htons((uint16_t)atoi(argv[4]));
	if ((buf = malloc(READ_LEN)) == NULL)
		die("malloc");
	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(l, 64) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1)
		die("listen");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	add(l, TAG_LISTENER);
	memset(&evs[0], 0, sizeof(evs[0]));
	evs[0].events = EPOLLIN;
	evs[0].data.u64 = TAG_STDIN;
	/* A pipe or socket on stdin ends us at EOF; /dev/null cannot. */
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &evs[0]) == -1 && errno != EPERM)
		die("epoll_ctl stdin");
	printf("port=%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		next = flush_due();
		tsp = NULL;
		if (next != UINT64_MAX) {
			now = now_ns();
			next = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(next / 1000000000ull);
			ts.tv_nsec = (long)(next % 1000000000ull);
			tsp = &ts;
		}
		n = epoll_pwait2(epfd, evs, MAX_EVENTS, tsp, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_pwait2");
		}
		for (i = 0; i < n; i++) {
			tag = evs[i].data.u64;
			if (tag == TAG_LISTENER)
				accept_one(l, &target);
			else if (tag == TAG_STDIN) {
				if (read(0, buf, READ_LEN) <= 0)
					return 0;
			} else
				side_io((struct pair *)(uintptr_t)(tag & ~1ull),
				    (int)(tag & 1), evs[i].events, buf);
		}
	}
}
