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
 * holes.c - calls that could go around the shim's rules, and waits that
 * could hang on the helper (tests/t-holes.sh).  One line of output per
 * command, "what=value", errno by name.
 *
 *   fo-sendmmsg ADDR PORT   TCP Fast Open by sendmmsg(MSG_FASTOPEN): an
 *                           HTTP request; prints the reply's first line
 *   sys-connect ADDR PORT   syscall(SYS_connect), blocking, then HTTP
 *   sys-fo-sendto ADDR PORT syscall(SYS_sendto, MSG_FASTOPEN), then HTTP
 *   sys-sendto|sys-sendmsg|sys-sendmmsg ADDR PORT
 *                           one UDP datagram by that raw system call
 *   passthrough             other numbers untouched, six arguments kept
 *                           (mmap at a file offset), unknown ones ENOSYS
 *   eintr ADDR PORT restart|norestart
 *                           alarm(1) with a handler (SA_RESTART or not)
 *                           around a blocking connect; errno and seconds
 *   resolve NAME            getaddrinfo: its code and seconds
 *   connect ADDR PORT       blocking connect: errno and seconds
 *   peer-direct             getpeername of a direct loopback connection
 *   peer-shared ADDR PORT   a tunneled socket and a direct loopback one
 *                           bound to the same local port: each names its
 *                           own peer
 *   refused-many ADDR PORT N
 *                           N non-blocking connects, then SO_ERROR of each,
 *                           counted by errno
 *   uring-connect ADDR PORT a connect through io_uring (IORING_OP_CONNECT,
 *                           raw system calls as liburing makes them)
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/io_uring.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *
ename(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case EACCES: return "EACCES";
	case EINTR: return "EINTR";
	case EINPROGRESS: return "EINPROGRESS";
	case EALREADY: return "EALREADY";
	case ENOSYS: return "ENOSYS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EPIPE: return "EPIPE";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static socklen_t
addr(const char *host, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(port));
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(port));
		return sizeof(*sin6);
	}
	fprintf(stderr, "bad address %s\n", host);
	exit(2);
}

static const char req[] = "GET / HTTP/1.0\r\nHost: wiki.corp.test\r\n\r\n";

/* The first line of what the connected socket answers. */
static void
reply_line(int fd)
{
	char buf[4096];
	ssize_t n;
	size_t off = 0;
	struct timeval tv = { 10, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (off < sizeof(buf) - 1 &&
	    (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	/* The body says who answered: the intranet wiki or the trap. */
	printf("reply=%s\n", strstr(buf, "intranet wiki OK") ? "intranet" :
	    off > 0 ? "other" : "none");
}

static int
fo_sendmmsg(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss);
	struct iovec iov = { (void *)req, sizeof(req) - 1 };
	struct mmsghdr m;
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), r;

	memset(&m, 0, sizeof(m));
	m.msg_hdr.msg_name = &ss;
	m.msg_hdr.msg_namelen = len;
	m.msg_hdr.msg_iov = &iov;
	m.msg_hdr.msg_iovlen = 1;
	r = sendmmsg(fd, &m, 1, MSG_FASTOPEN);
	printf("sendmmsg=%s\n", r == 1 ? "1" : ename(errno));
	if (r == 1)
		reply_line(fd);
	return 0;
}

static int
sys_connect(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	long r;

	r = syscall(SYS_connect, fd, (struct sockaddr *)&ss, len);
	printf("connect=%s\n", r == 0 ? "0" : ename(errno));
	if (r == 0 && write(fd, req, sizeof(req) - 1) > 0)
		reply_line(fd);
	return 0;
}

static int
sys_fo_sendto(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	long r;

	r = syscall(SYS_sendto, fd, req, sizeof(req) - 1, MSG_FASTOPEN,
	    (struct sockaddr *)&ss, len);
	printf("sendto=%s\n", r > 0 ? "sent" : ename(errno));
	if (r > 0)
		reply_line(fd);
	return 0;
}

static int
sys_udp(const char *how, char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss);
	struct iovec iov = { (void *)"leak?", 5 };
	struct mmsghdr m;
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	long r;

	memset(&m, 0, sizeof(m));
	m.msg_hdr.msg_name = &ss;
	m.msg_hdr.msg_namelen = len;
	m.msg_hdr.msg_iov = &iov;
	m.msg_hdr.msg_iovlen = 1;
	if (strcmp(how, "sys-sendto") == 0)
		r = syscall(SYS_sendto, fd, "leak?", 5, 0,
		    (struct sockaddr *)&ss, len);
	else if (strcmp(how, "sys-sendmsg") == 0)
		r = syscall(SYS_sendmsg, fd, &m.msg_hdr, 0);
	else
		r = syscall(SYS_sendmmsg, fd, &m, 1, 0);
	printf("udp-%s=%s\n", how + 4, r >= 0 ? "sent" : ename(errno));
	return 0;
}

static int
passthrough(void)
{
	char path[] = "/tmp/holes.XXXXXX", page[8192];
	int fd = mkstemp(path), bad = 0;
	long r;
	void *p;

	unlink(path);
	memset(page, 'a', 4096);
	memset(page + 4096, 'b', 4096);
	if (fd == -1 || write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
		return 1;
	if (syscall(SYS_getpid) != getpid()) {
		printf("fail getpid\n");
		bad = 1;
	}
	/* Six arguments, the last one (the offset) must arrive. */
	p = (void *)syscall(SYS_mmap, NULL, 4096L, (long)PROT_READ,
	    (long)MAP_PRIVATE, (long)fd, 4096L);
	if (p == MAP_FAILED || ((char *)p)[0] != 'b') {
		printf("fail mmap at offset 4096: %s\n", p == MAP_FAILED ?
		    ename(errno) : "wrong page");
		bad = 1;
	}
	r = syscall(SYS_pread64, fd, page, 1L, 4097L);
	if (r != 1 || page[0] != 'b') {
		printf("fail pread64\n");
		bad = 1;
	}
	errno = 0;
	if ((r = syscall(100000)) != -1 || errno != ENOSYS) {
		printf("fail unknown number: %ld %s\n", r, ename(errno));
		bad = 1;
	}
	printf("passthrough=%s\n", bad ? "fail" : "ok");
	return 0;
}

static void
on_alarm(int sig)
{
	(void)sig;
}

static int
eintr(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss);
	struct sigaction sa;
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), r, e;
	double t0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = strcmp(av[2], "restart") == 0 ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	t0 = now();
	alarm(1);
	r = connect(fd, (struct sockaddr *)&ss, len);
	e = errno;
	printf("connect=%s seconds=%.1f\n", r == 0 ? "0" : ename(e), now() - t0);
	if (r == -1 && e == EINTR) {
		/* As the kernel: the connect goes on; a second one waits. */
		r = connect(fd, (struct sockaddr *)&ss, len);
		printf("again=%s\n", r == 0 ? "0" : ename(errno));
	}
	return 0;
}

static int
resolve(char **av)
{
	struct addrinfo hints, *res;
	double t0 = now();
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(av[0], "80", &hints, &res);
	printf("getaddrinfo=%s seconds=%.1f\n", r == 0 ? "0" :
	    r == EAI_AGAIN ? "EAI_AGAIN" : gai_strerror(r), now() - t0);
	return 0;
}

static int
plain_connect(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), r;
	double t0 = now();

	r = connect(fd, (struct sockaddr *)&ss, len);
	printf("connect=%s seconds=%.1f\n", r == 0 ? "0" : ename(errno),
	    now() - t0);
	return 0;
}

/* A loopback listener; its port in *port. */
static int
listener(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (void *)&sin, len) == -1 || listen(fd, 8) == -1 ||
	    getsockname(fd, (void *)&sin, &len) == -1)
		exit(1);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A socket bound (SO_REUSEADDR) to 127.0.0.1:port, 0 for any. */
static int
bound(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (bind(fd, (void *)&sin, sizeof(sin)) == -1)
		exit(1);
	return fd;
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
}

static int
peer_direct(void)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	uint16_t port;
	int l = listener(&port), fd = bound(0), r;
	struct sockaddr_in to = { AF_INET, htons(port), { htonl(INADDR_LOOPBACK) }, { 0 } };
	double t0;

	(void)l;
	if (connect(fd, (void *)&to, sizeof(to)) == -1)
		return 1;
	t0 = now();
	r = getpeername(fd, (void *)&peer, &plen);
	printf("peer=%s seconds=%.1f\n", r == 0 && port_of(&peer) == port ?
	    "right" : "wrong", now() - t0);
	return 0;
}

static int
peer_shared(char **av)
{
	struct sockaddr_storage ss, local, peer;
	socklen_t len = addr(av[0], av[1], &ss), llen = sizeof(local), plen;
	uint16_t port;
	int l = listener(&port), t = bound(0), d;
	struct sockaddr_in to = { AF_INET, htons(port), { htonl(INADDR_LOOPBACK) }, { 0 } };

	(void)l;
	if (connect(t, (void *)&ss, len) == -1) {
		printf("tunneled connect=%s\n", ename(errno));
		return 0;
	}
	getsockname(t, (void *)&local, &llen);
	d = bound(port_of(&local));
	if (connect(d, (void *)&to, sizeof(to)) == -1) {
		printf("direct connect=%s\n", ename(errno));
		return 0;
	}
	plen = sizeof(peer);
	getpeername(d, (void *)&peer, &plen);
	printf("direct-peer=%s\n", port_of(&peer) == port ? "right" : "wrong");
	plen = sizeof(peer);
	getpeername(t, (void *)&peer, &plen);
	printf("tunneled-peer=%s\n", port_of(&peer) == port_of(&ss) &&
	    memcmp(&((struct sockaddr_in *)(void *)&peer)->sin_addr,
	    &((struct sockaddr_in *)(void *)&ss)->sin_addr, 4) == 0 ?
	    "right" : "wrong");
	return 0;
}

static int
refused_many(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss), elen;
	int n = atoi(av[2]), i, e, refused = 0, reset = 0, other = 0, left;
	int *fds = calloc(n, sizeof(int));
	int *early = calloc(n, sizeof(int));
	struct pollfd *p = calloc(n, sizeof(*p));
	double t0 = now();

	for (i = 0; i < n; i++) {
		fds[i] = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		p[i].fd = fds[i];
		p[i].events = POLLOUT;
		if (connect(fds[i], (void *)&ss, len) == -1 &&
		    errno != EINPROGRESS) {
			/* Failed at once: the reason is errno itself. */
			early[i] = errno;
			p[i].fd = -1;
		}
	}
	/* Every outcome known before anyone asks for the first reason. */
	for (left = 0, i = 0; i < n; i++)
		left += p[i].fd >= 0;
	while (left > 0 && now() - t0 < 30) {
		if (poll(p, n, 1000) <= 0)
			continue;
		for (i = 0; i < n; i++)
			if (p[i].fd >= 0 && p[i].revents) {
				p[i].fd = -1;
				left--;
			}
	}
	for (i = 0; i < n; i++) {
		elen = sizeof(e);
		e = early[i];
		if (e == 0)
			getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &e, &elen);
		if (e == ECONNREFUSED)
			refused++;
		else if (e == ECONNRESET)
			reset++;
		else
			other++;
	}
	printf("unfinished=%d ECONNREFUSED=%d ECONNRESET=%d other=%d\n", left,
	    refused, reset, other);
	return 0;
}

static int
uring_connect(char **av)
{
	struct sockaddr_storage ss;
	socklen_t len = addr(av[0], av[1], &ss);
	struct io_uring_params p;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	size_t sqlen, cqlen;
	unsigned *tail, *mask, *array, idx;
	char *sq, *cq;
	int ring, fd = socket(ss.ss_family, SOCK_STREAM, 0);

	memset(&p, 0, sizeof(p));
	if ((ring = (int)syscall(SYS_io_uring_setup, 4, &p)) == -1) {
		printf("setup=%s\n", ename(errno));
		return 0;
	}
	sqlen = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cqlen = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sqlen = cqlen = sqlen > cqlen ? sqlen : cqlen;
	sq = mmap(NULL, sqlen, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = p.features & IORING_FEAT_SINGLE_MMAP ? sq : mmap(NULL, cqlen,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
	    IORING_OFF_CQ_RING);
	sqe = mmap(NULL, p.sq_entries * sizeof(*sqe), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqe == MAP_FAILED)
		return 1;
	tail = (unsigned *)(sq + p.sq_off.tail);
	mask = (unsigned *)(sq + p.sq_off.ring_mask);
	array = (unsigned *)(sq + p.sq_off.array);
	idx = *tail & *mask;
	memset(&sqe[idx], 0, sizeof(sqe[idx]));
	sqe[idx].opcode = IORING_OP_CONNECT;
	sqe[idx].fd = fd;
	sqe[idx].addr = (unsigned long)&ss;
	sqe[idx].off = len;
	array[idx] = idx;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS,
	    NULL, 0) == -1) {
		printf("enter=%s\n", ename(errno));
		return 0;
	}
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes) +
	    (*(unsigned *)(cq + p.cq_off.head) &
	    *(unsigned *)(cq + p.cq_off.ring_mask));
	printf("uring-connect=%s\n", cqe->res == 0 ? "0" : ename(-cqe->res));
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "fo-sendmmsg") == 0 && argc == 4)
		return fo_sendmmsg(argv + 2);
	if (strcmp(cmd, "sys-connect") == 0 && argc == 4)
		return sys_connect(argv + 2);
	if (strcmp(cmd, "sys-fo-sendto") == 0 && argc == 4)
		return sys_fo_sendto(argv + 2);
	if (strncmp(cmd, "sys-send", 8) == 0 && argc == 4)
		return sys_udp(cmd, argv + 2);
	if (strcmp(cmd, "passthrough") == 0)
		return passthrough();
	if (strcmp(cmd, "eintr") == 0 && argc == 5)
		return eintr(argv + 2);
	if (strcmp(cmd, "resolve") == 0 && argc == 3)
		return resolve(argv + 2);
	if (strcmp(cmd, "connect") == 0 && argc == 4)
		return plain_connect(argv + 2);
	if (strcmp(cmd, "peer-direct") == 0)
		return peer_direct();
	if (strcmp(cmd, "peer-shared") == 0 && argc == 4)
		return peer_shared(argv + 2);
	if (strcmp(cmd, "uring-connect") == 0 && argc == 4)
		return uring_connect(argv + 2);
	if (strcmp(cmd, "refused-many") == 0 && argc == 5)
		return refused_many(argv + 2);
	fprintf(stderr, "usage: holes CMD ARGS (see the header)\n");
	return 2;
}
