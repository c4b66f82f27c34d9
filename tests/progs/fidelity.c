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
 * fidelity - what a program that does unusual things with threads,
 * processes, descriptors and the resolver sees.  Plain libc; run by
 * tests/t-prog-fidelity.sh through tunnelwrap (and, where it makes sense,
 * directly in the intranet namespace as a baseline).
 *
 *   fidelity [-t SECS] [-S] CMD ARGS...
 *
 * -t: the time limit of each wait (default 20 s); -S: distinct names have
 * distinct addresses (true of remote DNS's synthetic addresses, not of the
 * test bed's real ones, where every corp.test name is one host).
 *
 * NAME below is a host with an echo server (RFC 862) on port 7 that closes
 * once it has echoed everything after the client's shutdown(SHUT_WR).
 *
 *   threads N NAME...   N threads released at once by a barrier; thread i
 *                       resolves NAME[i % count] (gethostbyname_r, or
 *                       getaddrinfo AF_UNSPEC / AF_INET6, by turns),
 *                       connects and echoes a pattern of its own; checks:
 *                       no error, no cross-talk, no hang, one address per
 *                       name and family, distinct names distinct addresses
 *   fork NAME           fork() without exec: the child connects anew and
 *                       uses an inherited connection; then the parent
 *   forkthreads NAME    fork() 20 times while 8 threads resolve and connect
 *                       in a loop: every child connect()s to an address
 *                       resolved before the fork (no lock inherited held:
 *                       a hang is caught by alarm())
 *   forkexec NAME       fork + execv of this program (cmd echo)
 *   spawn NAME          posix_spawn of this program (cmd echo)
 *   vfork NAME          vfork + execv of this program (cmd echo)
 *   daemon NAME FILE    double fork with setsid() in between; the daemon
 *                       (stdio on /dev/null, every other fd closed,
 *                       cwd /) connects and writes its result to FILE
 *   closefrom NAME | closerange NAME | sysclose NAME | closeloop NAME
 *                       connect once, then close every descriptor from 3
 *                       up (closefrom(), close_range(), the raw
 *                       SYS_close_range, a close() loop to RLIMIT_NOFILE),
 *                       then resolve a new name and connect again
 *   cloexec NAME        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), exec
 *   dup2 NAME DHOST DPORT
 *                       dup2 of a tunneled socket to high numbers (peer and
 *                       echo through the copy); low numbers clobbered by
 *                       dup2(/dev/null); a direct socket (DHOST:DPORT; on
 *                       port 22 the SSH banner is read) dup2'ed over a
 *                       tunneled one must name its own peer
 *   sockopts NAME [LOCAL4]
 *                       options set before connect (TCP_NODELAY,
 *                       SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF, TCP_KEEPIDLE,
 *                       SO_REUSEADDR, IPV6_V6ONLY) and a bind() to a fixed
 *                       local port are still in force after the connect;
 *                       O_NONBLOCK/FD_CLOEXEC kept; getpeername is the
 *                       address connected to; getsockname sane (family,
 *                       bound port, not unspecified); IPv4, IPv6, and bound
 *                       to LOCAL4 if given
 *   resolver NAME       every resolver entry point gives the same
 *                       (synthetic) address for NAME and maps it back:
 *                       getaddrinfo (AF_UNSPEC, AF_INET, AF_INET6,
 *                       AI_CANONNAME, AI_ADDRCONFIG, NULL hints, service
 *                       names, AI_NUMERICHOST, error codes as glibc's for
 *                       localhost), gethostbyname, gethostbyname2,
 *                       gethostbyname_r, gethostbyname2_r (ERANGE),
 *                       getnameinfo, gethostbyaddr, gethostbyaddr_r
 *   mapped NAME         an AF_INET6 socket connected to the IPv4-mapped
 *                       form (::ffff:a.b.c.d) of NAME's IPv4 address, as
 *                       Java's dual-stack sockets do; echo
 *   echo NAME TAG       one connection, one echo; prints "ok TAG"
 *
 * Each check prints "ok NAME" or "fail NAME -- detail" ("info ..." lines
 * are notes); exit status 1 if any failed, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static int timeout_s = 20;
static int distinct_names;	/* -S: distinct names have distinct addresses */
static const char *self;
static int failures;

static void
result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok %s\n", name);
	} else {
		failures++;
		printf("fail %s -- ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static void
info(const char *fmt, ...)
{
	va_list ap;

	printf("info ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *
addrstr(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else
		snprintf(buf, len, "family %d", sa->sa_family);
	return buf;
}

static const char *
gerr(int r)
{
	return r == 0 ? "success" : gai_strerror(r);
}

/* Same family, address and port. */
static int
same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}

/* A deterministic pattern: seed decides every byte. */
static void
pattern(unsigned char *buf, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 12345;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	snprintf((char *)buf, n < 32 ? n : 32, "pattern %u ", seed);
}

/*
 * Send buf, shutdown(SHUT_WR), read until EOF; the bytes read must be buf.
 * Driven by poll so that neither side's buffers can deadlock us.
 */
static int
echo_all(int fd, const unsigned char *buf, size_t n, char *err, size_t errlen)
{
	unsigned char *got = malloc(n + 1);
	size_t sent = 0, recvd = 0;
	double deadline = now() + timeout_s;
	int flags, r = -1;

	if (got == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (n == 0)
		shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { fd, POLLIN | (sent < n ? POLLOUT : 0), 0 };
		int left = (int)((deadline - now()) * 1000);
		ssize_t k;

		if (left <= 0) {
			snprintf(err, errlen, "timed out (sent %zu/%zu, read %zu)",
			    sent, n, recvd);
			goto out;
		}
		if (poll(&p, 1, left) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		if ((p.revents & POLLOUT) && sent < n) {
			k = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);
			if (k == -1 && errno != EAGAIN && errno != EINTR) {
				snprintf(err, errlen, "send: %s", strerror(errno));
				goto out;
			}
			if (k > 0 && (sent += (size_t)k) == n)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			k = recv(fd, got + recvd, n + 1 - recvd, 0);
			if (k == -1 && errno != EAGAIN && errno != EINTR) {
				snprintf(err, errlen, "recv: %s", strerror(errno));
				goto out;
			}
			if (k == 0)
				break;
			if (k > 0)
				recvd += (size_t)k;
			if (recvd > n) {
				snprintf(err, errlen, "more bytes than sent");
				goto out;
			}
		}
	}
	if (recvd != n || sent != n) {
		snprintf(err, errlen, "sent %zu, read %zu of %zu, then EOF",
		    sent, recvd, n);
		goto out;
	}
	if (memcmp(got, buf, n) != 0) {
		size_t i;

		for (i = 0; i < n && got[i] == buf[i]; i++)
			;
		snprintf(err, errlen, "echo differs at byte %zu (cross-talk?): "
		    "got \"%.20s\"", i, (char *)got + (i > 8 ? i - 8 : 0));
		goto out;
	}
	r = 0;
 out:
	fcntl(fd, F_SETFL, flags);
	free(got);
	return r;
}

/* Write a line and read it back (the connection stays open). */
static int
echo_line(int fd, const char *msg, char *err, size_t errlen)
{
	size_t n = strlen(msg), got = 0;
	char buf[256];
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t k;

	if (send(fd, msg, n, MSG_NOSIGNAL) != (ssize_t)n) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
	while (got < n) {
		if (poll(&p, 1, timeout_s * 1000) != 1) {
			snprintf(err, errlen, "no echo within %d s", timeout_s);
			return -1;
		}
		if ((k = recv(fd, buf + got, n - got, 0)) <= 0) {
			snprintf(err, errlen, "recv: %s",
			    k == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		got += (size_t)k;
	}
	if (memcmp(buf, msg, n) != 0) {
		snprintf(err, errlen, "echo differs: \"%.*s\"", (int)n, buf);
		return -1;
	}
	return 0;
}

static void
set_timeouts(int fd)
{
	struct timeval tv = { timeout_s, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * Resolve name (family) and connect to the first address that accepts;
 * the address used goes to *used.  Returns the socket or -1 with err.
 */
static int
dial(const char *name, const char *port, int family,
    struct sockaddr_storage *used, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, r, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(name, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "getaddrinfo(%s): %s", name,
		    gerr(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1) {
			e = errno;
			continue;
		}
		set_timeouts(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			if (used != NULL)
				memcpy(used, ai->ai_addr, ai->ai_addrlen);
			break;
		}
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "connect to %s port %s: %s", name, port,
		    strerror(e));
	return fd;
}

/* Connect to name:7 and echo a pattern of seed; 0 or -1 with err. */
static int
dial_echo(const char *name, unsigned seed, size_t n, char *err, size_t errlen)
{
	unsigned char *buf;
	int fd, r;

	if ((fd = dial(name, "7", AF_UNSPEC, NULL, err, errlen)) == -1)
		return -1;
	if ((buf = malloc(n)) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pattern(buf, n, seed);
	r = echo_all(fd, buf, n, err, errlen);
	free(buf);
	close(fd);
	return r;
}

/* ---- threads ---------------------------------------------------------- */

struct thr {
	pthread_t	 tid;
	int		 idx, how, done, ok;
	const char	*name;
	char		 addr[INET6_ADDRSTRLEN];
	int		 family;
	char		 err[256];
};

static pthread_barrier_t barrier;

static void *
thread_main(void *arg)
{
	struct thr *t = arg;
	struct sockaddr_storage ss;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	unsigned char *buf;
	size_t n = 4096 + (size_t)t->idx * 997;
	int fd = -1;

	pthread_barrier_wait(&barrier);
	memset(&ss, 0, sizeof(ss));
	if (t->how == 0) {
		/* gethostbyname_r, then a socket of our own */
		struct hostent he, *hp = NULL;
		char hbuf[2048];
		int herr = 0, r;
		struct sockaddr_in *sin = (void *)&ss;

		r = gethostbyname_r(t->name, &he, hbuf, sizeof(hbuf), &hp, &herr);
		if (r != 0 || hp == NULL || hp->h_addrtype != AF_INET) {
			snprintf(t->err, sizeof(t->err),
			    "gethostbyname_r(%s): r=%d h_errno=%d", t->name, r, herr);
			goto out;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(7);
		memcpy(&sin->sin_addr, hp->h_addr_list[0], 4);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    (set_timeouts(fd), connect(fd, (void *)sin, sizeof(*sin))) == -1) {
			snprintf(t->err, sizeof(t->err), "connect: %s",
			    strerror(errno));
			goto out;
		}
	} else {
		fd = dial(t->name, "7", t->how == 1 ? AF_UNSPEC : AF_INET6,
		    &ss, t->err, sizeof(t->err));
		if (fd == -1)
			goto out;
	}
	t->family = ss.ss_family;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    t->addr, sizeof(t->addr));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    t->addr, sizeof(t->addr));
	if (getpeername(fd, (void *)&peer, &plen) == -1 ||
	    !same_addr((void *)&peer, (void *)&ss)) {
		char a[80], b[80];

		snprintf(t->err, sizeof(t->err), "getpeername %s, connected to %s",
		    addrstr((void *)&peer, a, sizeof(a)),
		    addrstr((void *)&ss, b, sizeof(b)));
		goto out;
	}
	if ((buf = malloc(n)) == NULL)
		goto out;
	pattern(buf, n, 1000 + (unsigned)t->idx);
	if (echo_all(fd, buf, n, t->err, sizeof(t->err)) == 0)
		t->ok = 1;
	free(buf);
 out:
	if (fd != -1)
		close(fd);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int
cmd_threads(int argc, char **argv)
{
	int n, i, j, nnames, bad = 0, hung = 0, mismatch = 0;
	struct thr *t;
	double deadline;
	char first[256] = "";

	if (argc < 2)
		return 2;
	n = atoi(argv[0]);
	nnames = argc - 1;
	if (n <= 0 || (t = calloc((size_t)n, sizeof(*t))) == NULL)
		return 2;
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		t[i].idx = i;
		t[i].how = i % 3;
		t[i].name = argv[1 + i % nnames];
		if (pthread_create(&t[i].tid, NULL, thread_main, &t[i]) != 0) {
			result(0, "threads", "pthread_create %d: %s", i,
			    strerror(errno));
			_exit(1);
		}
	}
	deadline = now() + 3 * timeout_s;
	for (i = 0; i < n; i++) {
		while (!__atomic_load_n(&t[i].done, __ATOMIC_ACQUIRE) &&
		    now() < deadline)
			usleep(10000);
		if (!__atomic_load_n(&t[i].done, __ATOMIC_ACQUIRE)) {
			hung++;
			continue;
		}
		pthread_join(t[i].tid, NULL);
		if (!t[i].ok) {
			if (bad++ == 0)
				snprintf(first, sizeof(first), "thread %d (%s): %s",
				    i, t[i].name, t[i].err);
		}
	}
	result(hung == 0, "threads: none hung",
	    "%d of %d threads still running after %d s (deadlock?)", hung, n,
	    3 * timeout_s);
	result(bad == 0, "threads: every thread resolved, connected, echoed its own pattern",
	    "%d of %d failed; first: %s", bad, n, first);
	/* One address per name and family; distinct names, distinct addresses. */
	for (i = 0; i < n; i++) {
		if (!t[i].done || t[i].addr[0] == '\0')
			continue;
		for (j = 0; j < i; j++) {
			if (!t[j].done || t[j].addr[0] == '\0' ||
			    t[j].family != t[i].family)
				continue;
			int same_name = strcmp(t[i].name, t[j].name) == 0;
			int same_addr = strcmp(t[i].addr, t[j].addr) == 0;

			if (same_name ? !same_addr :
			    (distinct_names && same_addr)) {
				if (mismatch++ == 0)
					snprintf(first, sizeof(first),
					    "%s -> %s (thread %d), %s -> %s (thread %d)",
					    t[i].name, t[i].addr, i, t[j].name,
					    t[j].addr, j);
			}
		}
	}
	result(mismatch == 0, "threads: names and addresses agree across threads",
	    "%d disagreements; first: %s", mismatch, first);
	for (i = 0; i < nnames && i < n; i++)
		info("thread %d: %s -> %s", i, t[i].name, t[i].addr);
	free(t);
	return 0;
}

/* ---- processes -------------------------------------------------------- */

/* Wait for pid with a deadline; returns the status, or -1 (killed). */
static int
wait_for(pid_t pid, int secs)
{
	double deadline = now() + secs;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r == -1)
			return -1;
		if (now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
}

static const char *
describe_status(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "hung (killed after the deadline)");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d%s", WTERMSIG(status),
		    WTERMSIG(status) == SIGALRM ? " (SIGALRM: hung)" : "");
	else
		snprintf(buf, len, "status %#x", status);
	return buf;
}

static int
cmd_fork(int argc, char **argv)
{
	char err[256], sbuf[64];
	struct sockaddr_storage ss, peer;
	socklen_t plen;
	int fd, status;
	pid_t pid;

	if (argc < 1)
		return 2;
	if ((fd = dial(argv[0], "7", AF_UNSPEC, &ss, err, sizeof(err))) == -1) {
		result(0, "fork: parent connects", "%s", err);
		return 0;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		int bad = 0;

		alarm((unsigned)timeout_s * 2);
		plen = sizeof(peer);
		if (getpeername(fd, (void *)&peer, &plen) == -1 ||
		    !same_addr((void *)&peer, (void *)&ss)) {
			printf("fail fork: child: getpeername of the inherited socket -- %s\n",
			    strerror(errno));
			bad = 1;
		}
		if (echo_line(fd, "child on the inherited connection\n", err,
		    sizeof(err)) == -1) {
			printf("fail fork: child: inherited connection -- %s\n", err);
			bad = 1;
		}
		if (dial_echo(argv[0], 7, 20000, err, sizeof(err)) == -1) {
			printf("fail fork: child: new connection -- %s\n", err);
			bad = 1;
		}
		fflush(stdout);
		_exit(bad);
	}
	status = wait_for(pid, timeout_s * 3);
	result(status == 0, "fork: child uses the inherited connection and connects anew",
	    "child %s", describe_status(status, sbuf, sizeof(sbuf)));
	result(echo_line(fd, "parent after the child\n", err, sizeof(err)) == 0,
	    "fork: parent's connection still works after the child", "%s", err);
	close(fd);
	result(dial_echo(argv[0], 8, 20000, err, sizeof(err)) == 0,
	    "fork: parent connects anew after the child", "%s", err);
	return 0;
}

static volatile int stop_threads;

static void *
churn(void *arg)
{
	const char *name = arg;
	char err[256];
	unsigned seed = 0;

	while (!__atomic_load_n(&stop_threads, __ATOMIC_RELAXED))
		dial_echo(name, seed++, 100, err, sizeof(err));
	return NULL;
}

static int
cmd_forkthreads(int argc, char **argv)
{
	pthread_t tids[8];
	char err[256], sbuf[64], first[300] = "";
	int i, bad = 0, status;
	pid_t pid;

	struct addrinfo hints, *res;
	int r;

	if (argc < 1)
		return 2;
	/*
	 * The child of a multithreaded process may only call async-signal-
	 * safe functions (POSIX): glibc's own getaddrinfo can hang in it.  So
	 * the child connect()s to an address resolved before: the shim's
	 * connect must be as fork-safe as the kernel's.
	 */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(argv[0], "7", &hints, &res)) != 0) {
		result(0, "forkthreads: resolve", "%s", gerr(r));
		return 0;
	}
	for (i = 0; i < 8; i++)
		pthread_create(&tids[i], NULL, churn, argv[0]);
	usleep(100000);
	for (i = 0; i < 20; i++) {
		fflush(stdout);
		if ((pid = fork()) == 0) {
			unsigned char buf[1000];
			int fd;

			alarm((unsigned)timeout_s);
			fd = socket(res->ai_family, SOCK_STREAM, 0);
			if (connect(fd, res->ai_addr, res->ai_addrlen) == -1)
				_exit(2);
			pattern(buf, sizeof(buf), (unsigned)i);
			_exit(echo_all(fd, buf, sizeof(buf), err,
			    sizeof(err)) == 0 ? 0 : 1);
		}
		status = wait_for(pid, timeout_s + 5);
		if (status != 0 && bad++ == 0)
			snprintf(first, sizeof(first), "child %d: %s", i,
			    describe_status(status, sbuf, sizeof(sbuf)));
		usleep(20000);
	}
	__atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 8; i++)
		pthread_join(tids[i], NULL);
	freeaddrinfo(res);
	result(bad == 0, "forkthreads: 20 forks while 8 threads connect; every child connects",
	    "%d of 20 children failed; first: %s", bad, first);
	return 0;
}

static int
run_child_status(const char *how, pid_t pid)
{
	char name[128], sbuf[64];
	int status = wait_for(pid, timeout_s * 2);

	snprintf(name, sizeof(name), "%s: the exec'ed child connects", how);
	result(status == 0, name, "child %s", describe_status(status, sbuf,
	    sizeof(sbuf)));
	return 0;
}

static int
cmd_forkexec(int argc, char **argv)
{
	pid_t pid;

	if (argc < 1)
		return 2;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execl(self, self, "echo", argv[0], "forkexec child", (char *)NULL);
		_exit(127);
	}
	return run_child_status("forkexec", pid);
}

static int
cmd_spawn(int argc, char **argv)
{
	char *args[] = { (char *)self, "echo", argv[0], "posix_spawn child", NULL };
	pid_t pid;
	int r;

	if (argc < 1)
		return 2;
	fflush(stdout);
	if ((r = posix_spawn(&pid, self, NULL, NULL, args, environ)) != 0) {
		result(0, "spawn: posix_spawn", "%s", strerror(r));
		return 0;
	}
	return run_child_status("spawn", pid);
}

static int
cmd_vfork(int argc, char **argv)
{
	char *args[] = { (char *)self, "echo", argv[0], "vfork child", NULL };
	pid_t pid;

	if (argc < 1)
		return 2;
	fflush(stdout);
	if ((pid = vfork()) == 0) {
		execve(self, args, environ);
		_exit(127);
	}
	if (pid == -1) {
		result(0, "vfork", "%s", strerror(errno));
		return 0;
	}
	return run_child_status("vfork", pid);
}

static int
cmd_daemon(int argc, char **argv)
{
	char err[256], tmp[4096], sbuf[64], line[512] = "";
	const char *file;
	double deadline;
	int status;
	pid_t pid;
	FILE *f;

	if (argc < 2)
		return 2;
	file = argv[1];
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (setsid() == -1)
			_exit(3);
		if (fork() != 0)
			_exit(0);
		/* The daemon: not a session leader, no terminal, no stdio. */
		int fd, ok, sid = (int)getsid(0);

		alarm((unsigned)timeout_s * 2);
		if (chdir("/") == -1)
			_exit(4);
		umask(022);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		closefrom(3);
		ok = dial_echo(argv[0], 42, 50000, err, sizeof(err)) == 0;
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
			dprintf(fd, "%s pid=%d sid=%d pgid=%d %s\n",
			    ok ? "ok" : "fail", (int)getpid(), sid,
			    (int)getpgid(0), ok ? "" : err);
			close(fd);
			rename(tmp, file);
		}
		_exit(0);
	}
	status = wait_for(pid, timeout_s);
	result(status == 0, "daemon: first child setsid()s and forks",
	    "%s", describe_status(status, sbuf, sizeof(sbuf)));
	deadline = now() + 2 * timeout_s;
	while (access(file, F_OK) == -1 && now() < deadline)
		usleep(20000);
	if ((f = fopen(file, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
	}
	if (line[0] == '\0') {
		result(0, "daemon: the double-forked daemon connects",
		    "no report from the daemon within %d s", 2 * timeout_s);
		return 0;
	}
	info("daemon: %s (parent pid %d)", line, (int)getpid());
	result(strncmp(line, "ok ", 3) == 0 && (int)getsid(0) != atoi(strstr(line, "sid=") + 4),
	    "daemon: the double-forked daemon, in a session of its own, connects",
	    "%s", line);
	return 0;
}

static int
cmd_echo(int argc, char **argv)
{
	char err[256];

	if (argc < 2)
		return 2;
	alarm((unsigned)timeout_s * 2);
	if (dial_echo(argv[0], 99, 30000, err, sizeof(err)) == 0) {
		printf("ok %s\n", argv[1]);
		return 0;
	}
	printf("fail %s -- %s\n", argv[1], err);
	return 1;
}

/* ---- descriptors ------------------------------------------------------ */

static int
open_max(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (1u << 20))
		return 1 << 20;
	return (int)rl.rlim_cur;
}

/* Tunneled descriptor still open in this process after "closing all"? */
static int
count_open(int from)
{
	int fd, n = 0, max = open_max();

	for (fd = from; fd < max && fd < 65536; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

static int
cmd_close(const char *how, int argc, char **argv)
{
	char err[256], name[160], fresh[300];
	struct sockaddr_storage ss, peer;
	socklen_t plen = sizeof(peer);
	int fd, r = 0, i, max;

	if (argc < 1)
		return 2;
	/* Warm the shim up first: a connection, a name cached. */
	snprintf(name, sizeof(name), "%s: connect before closing everything", how);
	result(dial_echo(argv[0], 1, 5000, err, sizeof(err)) == 0, name, "%s", err);
	/* Some descriptors of our own, high and low, to be closed too. */
	for (i = 0; i < 5; i++)
		if (open("/dev/null", O_RDONLY) == -1)
			break;
	dup2(0, 200);
	if (strcmp(how, "closefrom") == 0) {
		closefrom(3);
	} else if (strcmp(how, "closerange") == 0) {
		r = close_range(3, ~0U, 0);
	} else if (strcmp(how, "sysclose") == 0) {
		r = (int)syscall(SYS_close_range, 3, ~0U, 0);
	} else {
		max = open_max();
		for (fd = 3; fd < max; fd++)
			close(fd);
	}
	snprintf(name, sizeof(name), "%s: every descriptor from 3 closed", how);
	result(r == 0 && count_open(3) == 0, name, "r=%d (%s), %d still open",
	    r, strerror(errno), count_open(3));
	/* A name never resolved before, so the shim must reach the helper. */
	snprintf(name, sizeof(name), "%s: resolve a new name and connect after", how);
	snprintf(fresh, sizeof(fresh), "%s", argc > 1 ? argv[1] : argv[0]);
	if ((fd = dial(fresh, "7", AF_UNSPEC, &ss, err, sizeof(err))) == -1) {
		result(0, name, "%s", err);
		return 0;
	}
	r = getpeername(fd, (void *)&peer, &plen);
	{
		char a[80], b[80], pname[160];

		snprintf(pname, sizeof(pname), "%s: getpeername after", how);
		result(r == 0 && same_addr((void *)&peer, (void *)&ss), pname,
		    "getpeername %s, connected to %s", r == 0 ?
		    addrstr((void *)&peer, a, sizeof(a)) : strerror(errno),
		    addrstr((void *)&ss, b, sizeof(b)));
	}
	{
		unsigned char buf[3000];

		pattern(buf, sizeof(buf), 77);
		if (echo_all(fd, buf, sizeof(buf), err, sizeof(err)) == -1) {
			result(0, name, "echo: %s", err);
			close(fd);
			return 0;
		}
	}
	result(1, name, NULL);
	close(fd);
	return 0;
}

static int
cmd_cloexec(int argc, char **argv)
{
	char err[256];

	if (argc < 1)
		return 2;
	result(dial_echo(argv[0], 3, 5000, err, sizeof(err)) == 0,
	    "cloexec: connect before", "%s", err);
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
		result(0, "cloexec: close_range(CLOSE_RANGE_CLOEXEC)", "%s",
		    strerror(errno));
		return 0;
	}
	fflush(stdout);
	execl(self, self, "echo", argc > 1 ? argv[1] : argv[0],
	    "cloexec: exec'ed after close_range(CLOEXEC), connects", (char *)NULL);
	result(0, "cloexec: exec", "%s", strerror(errno));
	return 0;
}

static int
cmd_dup2(int argc, char **argv)
{
	static const int targets[] = { 100, 517, 1000 };
	char err[256], a[80], b[80], msg[64];
	struct sockaddr_storage ss, ds, peer;
	socklen_t plen;
	int fd, nfd, i, dn, t2, r;
	size_t k;

	if (argc < 3)
		return 2;
	if ((fd = dial(argv[0], "7", AF_UNSPEC, &ss, err, sizeof(err))) == -1) {
		result(0, "dup2: connect", "%s", err);
		return 0;
	}
	for (k = 0; k < sizeof(targets) / sizeof(targets[0]); k++) {
		char name[96];

		nfd = dup2(fd, targets[k]);
		close(fd);
		fd = nfd;
		plen = sizeof(peer);
		r = getpeername(fd, (void *)&peer, &plen);
		snprintf(name, sizeof(name), "dup2: moved to fd %d: getpeername", targets[k]);
		result(nfd == targets[k] && r == 0 && same_addr((void *)&peer,
		    (void *)&ss), name, "dup2=%d, getpeername %s, connected to %s",
		    nfd, r == 0 ? addrstr((void *)&peer, a, sizeof(a)) :
		    strerror(errno), addrstr((void *)&ss, b, sizeof(b)));
		snprintf(name, sizeof(name), "dup2: moved to fd %d: echo", targets[k]);
		snprintf(msg, sizeof(msg), "through fd %d\n", targets[k]);
		result(echo_line(fd, msg, err, sizeof(err)) == 0, name, "%s", err);
	}
	close(fd);
	/* Clobber every low number with /dev/null: nothing of the shim's lives there. */
	dn = open("/dev/null", O_RDONLY);
	for (i = 3; i < 64; i++)
		if (i != dn)
			dup2(dn, i);
	result(dial_echo(argv[0], 5, 5000, err, sizeof(err)) == 0,
	    "dup2: /dev/null dup2'ed over fds 3-63, then connect", "%s", err);
	for (i = 3; i < 64; i++)
		close(i);
	/* A direct socket dup2'ed over a tunneled one names its own peer. */
	if ((t2 = dial(argv[0], "7", AF_UNSPEC, &ss, err, sizeof(err))) == -1 ||
	    (fd = dial(argv[1], argv[2], AF_UNSPEC, &ds, err, sizeof(err))) == -1) {
		result(0, "dup2: direct over tunneled: connect", "%s", err);
		return 0;
	}
	if (dup2(fd, t2) != t2) {
		result(0, "dup2: direct over tunneled", "dup2: %s", strerror(errno));
		return 0;
	}
	close(fd);
	plen = sizeof(peer);
	r = getpeername(t2, (void *)&peer, &plen);
	result(r == 0 && same_addr((void *)&peer, (void *)&ds),
	    "dup2: direct socket dup2'ed over a tunneled one: getpeername is its own",
	    "getpeername %s, expected %s (the tunneled one was %s)",
	    r == 0 ? addrstr((void *)&peer, a, sizeof(a)) : strerror(errno),
	    addrstr((void *)&ds, b, sizeof(b)), addrstr((void *)&ss, msg, sizeof(msg)));
	if (strcmp(argv[2], "22") == 0) {
		char banner[16] = "";
		struct pollfd p = { t2, POLLIN, 0 };
		ssize_t n = 0;

		if (poll(&p, 1, timeout_s * 1000) == 1)
			n = recv(t2, banner, sizeof(banner) - 1, 0);
		banner[n > 0 ? n : 0] = '\0';
		result(strncmp(banner, "SSH-", 4) == 0,
		    "dup2: direct socket dup2'ed over a tunneled one: reads its own server",
		    "read \"%s\"", banner);
	}
	close(t2);
	return 0;
}

/* ---- socket options ---------------------------------------------------- */

struct opt {
	const char	*name;
	int		 level, opt, value;
	int		 before;
};

static int
getint(int fd, int level, int opt, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, opt, v, &len);
}

static int ncase;

static void
sockopts_case(const char *label, int family, const char *name,
    const char *local)
{
	struct opt opts[] = {
		{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1, 0 },
		{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1, 0 },
		{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 65536, 0 },
		{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 98304, 0 },
		{ "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 77, 0 },
		{ "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 11, 0 },
		{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1, 0 },
		{ "IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY, 1, 0 },
	};
	size_t nopts = sizeof(opts) / sizeof(opts[0]);
	struct addrinfo hints, *res;
	struct sockaddr_storage bindaddr, local_after, peer;
	socklen_t llen = sizeof(local_after), plen = sizeof(peer);
	char err[256], a[80], b[80], check[160], changed[512] = "";
	int fd, r, v, fl0, fd0, nb = strcmp(label, "nonblocking") == 0;
	/* Above the ephemeral range (32768-60999), one port per case. */
	unsigned port = 61000 + (unsigned)(getpid() % 4000) + (unsigned)ncase++;
	size_t i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(name, "7", &hints, &res)) != 0) {
		snprintf(check, sizeof(check), "sockopts: %s: resolve", label);
		result(0, check, "%s", gerr(r));
		return;
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | (nb ? SOCK_NONBLOCK : 0), 0);
	for (i = 0; i < nopts; i++) {
		if (opts[i].level == IPPROTO_IPV6 && family != AF_INET6)
			continue;
		setsockopt(fd, opts[i].level, opts[i].opt, &opts[i].value,
		    sizeof(int));
		getint(fd, opts[i].level, opts[i].opt, &opts[i].before);
	}
	memset(&bindaddr, 0, sizeof(bindaddr));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)&bindaddr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (local != NULL)
			inet_pton(AF_INET, local, &sin->sin_addr);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&bindaddr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	}
	snprintf(check, sizeof(check), "sockopts: %s: bind() to a fixed local port", label);
	r = bind(fd, (void *)&bindaddr, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	result(r == 0, check, "port %u: %s", port, strerror(errno));
	fl0 = fcntl(fd, F_GETFL);
	fd0 = fcntl(fd, F_GETFD);
	set_timeouts(fd);
	r = connect(fd, res->ai_addr, res->ai_addrlen);
	if (nb && r == -1 && errno == EINPROGRESS) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int e = 0;

		if (poll(&p, 1, timeout_s * 1000) == 1 &&
		    getint(fd, SOL_SOCKET, SO_ERROR, &e) == 0 && e == 0)
			r = 0;
		else
			errno = e ? e : ETIMEDOUT;
	}
	snprintf(check, sizeof(check), "sockopts: %s: connect", label);
	result(r == 0, check, "connect(%s): %s", addrstr(res->ai_addr, a,
	    sizeof(a)), strerror(errno));
	if (r != 0) {
		close(fd);
		freeaddrinfo(res);
		return;
	}
	for (i = 0; i < nopts; i++) {
		if (opts[i].level == IPPROTO_IPV6 && family != AF_INET6)
			continue;
		if (getint(fd, opts[i].level, opts[i].opt, &v) == -1 ||
		    v != opts[i].before)
			snprintf(changed + strlen(changed), sizeof(changed) -
			    strlen(changed), "%s %d -> %d; ", opts[i].name,
			    opts[i].before, v);
	}
	snprintf(check, sizeof(check), "sockopts: %s: options set before connect still set", label);
	result(changed[0] == '\0', check, "%s", changed);
	snprintf(check, sizeof(check), "sockopts: %s: O_NONBLOCK and FD_CLOEXEC as they were", label);
	result(fcntl(fd, F_GETFL) == fl0 && fcntl(fd, F_GETFD) == fd0, check,
	    "F_GETFL %#x -> %#x, F_GETFD %#x -> %#x", fl0, fcntl(fd, F_GETFL),
	    fd0, fcntl(fd, F_GETFD));
	r = getpeername(fd, (void *)&peer, &plen);
	snprintf(check, sizeof(check), "sockopts: %s: getpeername is the address connected to", label);
	result(r == 0 && same_addr((void *)&peer, res->ai_addr), check,
	    "%s, connected to %s", r == 0 ? addrstr((void *)&peer, a, sizeof(a)) :
	    strerror(errno), addrstr(res->ai_addr, b, sizeof(b)));
	r = getsockname(fd, (void *)&local_after, &llen);
	snprintf(check, sizeof(check), "sockopts: %s: getsockname sane (family, bound port, an address)", label);
	{
		int sane = r == 0 && local_after.ss_family == family;
		unsigned lport = 0;

		if (sane && family == AF_INET) {
			struct sockaddr_in *sin = (void *)&local_after;

			lport = ntohs(sin->sin_port);
			sane = sin->sin_addr.s_addr != htonl(INADDR_ANY);
			if (local != NULL)
				sane = sane && same_addr((void *)sin, (void *)&bindaddr);
		} else if (sane) {
			struct sockaddr_in6 *sin6 = (void *)&local_after;

			lport = ntohs(sin6->sin6_port);
			sane = !IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
		}
		result(sane && lport == port, check, "getsockname %s (bound %s)",
		    r == 0 ? addrstr((void *)&local_after, a, sizeof(a)) :
		    strerror(errno), addrstr((void *)&bindaddr, b, sizeof(b)));
		if (r == 0)
			info("sockopts: %s: getsockname %s, getpeername %s", label,
			    addrstr((void *)&local_after, a, sizeof(a)),
			    addrstr((void *)&peer, b, sizeof(b)));
	}
	{
		unsigned char buf[20000];

		pattern(buf, sizeof(buf), 5);
		snprintf(check, sizeof(check), "sockopts: %s: echo", label);
		result(echo_all(fd, buf, sizeof(buf), err, sizeof(err)) == 0,
		    check, "%s", err);
	}
	close(fd);
	freeaddrinfo(res);
}

static int
cmd_sockopts(int argc, char **argv)
{
	if (argc < 1)
		return 2;
	sockopts_case("IPv4", AF_INET, argv[0], NULL);
	sockopts_case("IPv6", AF_INET6, argv[0], NULL);
	sockopts_case("nonblocking", AF_INET, argv[0], NULL);
	if (argc > 1)
		sockopts_case("bound to a local address", AF_INET, argv[0], argv[1]);
	return 0;
}

/* ---- resolver ---------------------------------------------------------- */

static int
gai_addrs(const char *name, const char *serv, const struct addrinfo *hints,
    char *out, size_t len, int *nres, unsigned *port, char *canon, size_t clen)
{
	struct addrinfo *res, *ai;
	char a[INET6_ADDRSTRLEN];
	int r;

	out[0] = '\0';
	*nres = 0;
	if ((r = getaddrinfo(name, serv, hints, &res)) != 0)
		return r;
	if (canon != NULL)
		snprintf(canon, clen, "%s", res->ai_canonname ?
		    res->ai_canonname : "(null)");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		(*nres)++;
		if (ai->ai_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    ai->ai_addr)->sin_addr, a, sizeof(a));
			*port = ntohs(((struct sockaddr_in *)(void *)
			    ai->ai_addr)->sin_port);
		} else if (ai->ai_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)
			    ai->ai_addr)->sin6_addr, a, sizeof(a));
			*port = ntohs(((struct sockaddr_in6 *)(void *)
			    ai->ai_addr)->sin6_port);
		} else
			snprintf(a, sizeof(a), "family%d", ai->ai_family);
		if (strstr(out, a) == NULL)
			snprintf(out + strlen(out), len - strlen(out), "%s%s",
			    out[0] ? " " : "", a);
	}
	freeaddrinfo(res);
	return 0;
}

static int
cmd_resolver(int argc, char **argv)
{
	const char *name;
	struct addrinfo h;
	char all[512], v4[128], v6[256], tmp[512], canon[256], host[NI_MAXHOST],
	    serv[NI_MAXSERV];
	int n, r, r2, herr;
	unsigned port = 0;
	struct hostent *hp, he, *hres;
	char hbuf[1024];
	struct in_addr a4;
	struct in6_addr a6;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (argc < 1)
		return 2;
	name = argv[0];

	memset(&h, 0, sizeof(h));
	h.ai_socktype = SOCK_STREAM;
	h.ai_family = AF_INET;
	r = gai_addrs(name, "80", &h, v4, sizeof(v4), &n, &port, NULL, 0);
	result(r == 0 && n == 1 && inet_pton(AF_INET, v4, &a4) == 1,
	    "resolver: getaddrinfo AF_INET: one IPv4 address", "%s (%d results: %s)",
	    gerr(r), n, v4);
	h.ai_family = AF_INET6;
	r = gai_addrs(name, "80", &h, v6, sizeof(v6), &n, &port, NULL, 0);
	result(r == 0 && n == 1 && inet_pton(AF_INET6, v6, &a6) == 1,
	    "resolver: getaddrinfo AF_INET6: one IPv6 address", "%s (%d results: %s)",
	    gerr(r), n, v6);
	info("resolver: %s is %s and %s", name, v4, v6);
	h.ai_family = AF_UNSPEC;
	r = gai_addrs(name, "80", &h, all, sizeof(all), &n, &port, NULL, 0);
	snprintf(tmp, sizeof(tmp), "%s %s", v4, v6);
	result(r == 0 && strcmp(all, tmp) == 0,
	    "resolver: getaddrinfo AF_UNSPEC: the same two, IPv4 first",
	    "%s: \"%s\", expected \"%s\"", gerr(r), all, tmp);
	h.ai_flags = AI_CANONNAME;
	r = gai_addrs(name, "80", &h, all, sizeof(all), &n, &port, canon,
	    sizeof(canon));
	result(r == 0 && strcmp(all, tmp) == 0 && strcmp(canon, name) == 0,
	    "resolver: getaddrinfo AI_CANONNAME: canonical name is the name",
	    "%s: canon \"%s\", addresses \"%s\"", gerr(r), canon, all);
	h.ai_flags = AI_ADDRCONFIG;
	r = gai_addrs(name, "80", &h, all, sizeof(all), &n, &port, NULL, 0);
	result(r == 0 && n >= 1 && (strcmp(all, tmp) == 0 ||
	    strcmp(all, v4) == 0 || strcmp(all, v6) == 0),
	    "resolver: getaddrinfo AI_ADDRCONFIG: same addresses",
	    "%s: \"%s\"", gerr(r), all);
	/*
	 * NULL hints: both families, and per family the socket types glibc
	 * gives for a local name (stream, dgram and raw, in glibc 2.36).
	 */
	{
		struct addrinfo *res, *ai;
		int k[2][3] = { { 0 } }, g[3] = { 0 }, other = 0;

		r = getaddrinfo(name, "80", NULL, &res);
		if (r == 0) {
			for (ai = res; ai; ai = ai->ai_next) {
				int f = ai->ai_family == AF_INET6;

				if (ai->ai_socktype == SOCK_STREAM)
					k[f][0]++;
				else if (ai->ai_socktype == SOCK_DGRAM)
					k[f][1]++;
				else if (ai->ai_socktype == SOCK_RAW)
					k[f][2]++;
				else
					other++;
			}
			freeaddrinfo(res);
		}
		r2 = getaddrinfo("localhost", "80", NULL, &res);
		if (r2 == 0) {
			for (ai = res; ai; ai = ai->ai_next)
				if (ai->ai_family == AF_INET) {
					g[0] += ai->ai_socktype == SOCK_STREAM;
					g[1] += ai->ai_socktype == SOCK_DGRAM;
					g[2] += ai->ai_socktype == SOCK_RAW;
				}
			freeaddrinfo(res);
		}
		result(r == 0 && r2 == 0 && other == 0 &&
		    memcmp(k[0], g, sizeof(g)) == 0 &&
		    memcmp(k[1], g, sizeof(g)) == 0,
		    "resolver: getaddrinfo NULL hints: per family the socket types glibc gives",
		    "%s: IPv4 %d stream %d dgram %d raw, IPv6 %d/%d/%d; "
		    "glibc for localhost: %d stream %d dgram %d raw",
		    gerr(r ? r : r2), k[0][0], k[0][1], k[0][2],
		    k[1][0], k[1][1], k[1][2], g[0], g[1], g[2]);
		r = gai_addrs(name, "80", NULL, all, sizeof(all), &n, &port,
		    NULL, 0);
		result(r == 0 && strcmp(all, tmp) == 0,
		    "resolver: getaddrinfo NULL hints: same addresses",
		    "%s: \"%s\"", gerr(r), all);
	}
	/* Service names. */
	memset(&h, 0, sizeof(h));
	h.ai_socktype = SOCK_STREAM;
	r = gai_addrs(name, "http", &h, all, sizeof(all), &n, &port, NULL, 0);
	result(r == 0 && port == 80 && strcmp(all, tmp) == 0,
	    "resolver: getaddrinfo service \"http\" is port 80",
	    "%s: port %u, \"%s\"", gerr(r), port, all);
	r = gai_addrs(name, "echo", &h, all, sizeof(all), &n, &port, NULL, 0);
	result(r == 0 && port == 7, "resolver: getaddrinfo service \"echo\" is port 7",
	    "%s: port %u", gerr(r), port);
	r = gai_addrs(name, NULL, &h, all, sizeof(all), &n, &port, NULL, 0);
	result(r == 0 && port == 0 && strcmp(all, tmp) == 0,
	    "resolver: getaddrinfo no service: port 0",
	    "%s: port %u", gerr(r), port);
	/* Errors as glibc gives them for a local name. */
	{
		static const struct {
			const char *what, *serv;
			int family, socktype, flags;
		} errs[] = {
			{ "unknown service", "no-such-service", AF_UNSPEC, SOCK_STREAM, 0 },
			{ "AI_NUMERICSERV with a service name", "http", AF_UNSPEC, SOCK_STREAM, AI_NUMERICSERV },
			{ "AI_NUMERICHOST with a name", "80", AF_UNSPEC, SOCK_STREAM, AI_NUMERICHOST },
			{ "unsupported family", "80", AF_PACKET, SOCK_STREAM, 0 },
			{ "service with SOCK_RAW", "80", AF_INET, SOCK_RAW, 0 },
		};
		size_t k;

		for (k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
			char check[160];

			memset(&h, 0, sizeof(h));
			h.ai_family = errs[k].family;
			h.ai_socktype = errs[k].socktype;
			h.ai_flags = errs[k].flags;
			r = gai_addrs(name, errs[k].serv, &h, all, sizeof(all), &n,
			    &port, NULL, 0);
			r2 = gai_addrs("localhost", errs[k].serv, &h, tmp,
			    sizeof(tmp), &n, &port, NULL, 0);
			snprintf(check, sizeof(check),
			    "resolver: getaddrinfo %s: same result as glibc's for localhost",
			    errs[k].what);
			result(r == r2, check, "%d (%s), glibc for localhost: %d (%s)",
			    r, gerr(r), r2, gerr(r2));
		}
	}
	snprintf(tmp, sizeof(tmp), "%s %s", v4, v6);
	/* The synthetic address as a literal. */
	memset(&h, 0, sizeof(h));
	h.ai_flags = AI_NUMERICHOST;
	h.ai_socktype = SOCK_STREAM;
	r = gai_addrs(v4, "80", &h, all, sizeof(all), &n, &port, NULL, 0);
	result(r == 0 && strcmp(all, v4) == 0,
	    "resolver: getaddrinfo AI_NUMERICHOST of the synthetic address",
	    "%s: \"%s\"", gerr(r), all);

	/* The gethostbyname family. */
	hp = gethostbyname(name);
	result(hp != NULL && hp->h_addrtype == AF_INET && hp->h_length == 4 &&
	    memcmp(hp->h_addr_list[0], &a4, 4) == 0 && hp->h_addr_list[1] == NULL &&
	    strcmp(hp->h_name, name) == 0,
	    "resolver: gethostbyname: same IPv4 address and name",
	    "%s", hp == NULL ? hstrerror(h_errno) : inet_ntop(AF_INET,
	    hp->h_addr_list[0], tmp, sizeof(tmp)));
	hp = gethostbyname2(name, AF_INET6);
	result(hp != NULL && hp->h_addrtype == AF_INET6 && hp->h_length == 16 &&
	    memcmp(hp->h_addr_list[0], &a6, 16) == 0 && strcmp(hp->h_name, name) == 0,
	    "resolver: gethostbyname2 AF_INET6: same IPv6 address and name",
	    "%s", hp == NULL ? hstrerror(h_errno) : inet_ntop(AF_INET6,
	    hp->h_addr_list[0], tmp, sizeof(tmp)));
	hp = gethostbyname2(name, AF_INET);
	result(hp != NULL && hp->h_addrtype == AF_INET &&
	    memcmp(hp->h_addr_list[0], &a4, 4) == 0,
	    "resolver: gethostbyname2 AF_INET: same IPv4 address",
	    "%s", hp == NULL ? hstrerror(h_errno) : "other address");
	hres = NULL;
	r = gethostbyname_r(name, &he, hbuf, sizeof(hbuf), &hres, &herr);
	result(r == 0 && hres == &he && he.h_addrtype == AF_INET &&
	    memcmp(he.h_addr_list[0], &a4, 4) == 0 && strcmp(he.h_name, name) == 0,
	    "resolver: gethostbyname_r: same IPv4 address and name",
	    "r=%d h_errno=%d", r, herr);
	hres = NULL;
	r = gethostbyname2_r(name, AF_INET6, &he, hbuf, sizeof(hbuf), &hres, &herr);
	result(r == 0 && hres == &he && he.h_addrtype == AF_INET6 &&
	    memcmp(he.h_addr_list[0], &a6, 16) == 0,
	    "resolver: gethostbyname2_r AF_INET6: same IPv6 address",
	    "r=%d h_errno=%d", r, herr);
	hres = &he;
	r = gethostbyname_r(name, &he, hbuf, 8, &hres, &herr);
	result(r == ERANGE && hres == NULL,
	    "resolver: gethostbyname_r with a tiny buffer: ERANGE, as glibc",
	    "r=%d (%s), result %s, h_errno=%d", r, strerror(r),
	    hres ? "set" : "NULL", herr);
	hp = gethostbyname("localhost");
	result(hp != NULL && hp->h_addrtype == AF_INET &&
	    ((unsigned char *)hp->h_addr_list[0])[0] == 127,
	    "resolver: gethostbyname of a local name still local",
	    "%s", hp == NULL ? hstrerror(h_errno) : "not 127.x");

	/* Back to the name. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	sin.sin_addr = a4;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(80);
	sin6.sin6_addr = a6;
	r = getnameinfo((void *)&sin, sizeof(sin), host, sizeof(host), serv,
	    sizeof(serv), NI_NAMEREQD);
	result(r == 0 && strcmp(host, name) == 0 && strcmp(serv, "http") == 0,
	    "resolver: getnameinfo of the IPv4 address: the name, service http",
	    "%s: host \"%s\" serv \"%s\"", gerr(r), r ? "" : host,
	    r ? "" : serv);
	r = getnameinfo((void *)&sin6, sizeof(sin6), host, sizeof(host), serv,
	    sizeof(serv), NI_NAMEREQD | NI_NUMERICSERV);
	result(r == 0 && strcmp(host, name) == 0 && strcmp(serv, "80") == 0,
	    "resolver: getnameinfo of the IPv6 address: the name, NI_NUMERICSERV",
	    "%s: host \"%s\" serv \"%s\"", gerr(r), r ? "" : host,
	    r ? "" : serv);
	r = getnameinfo((void *)&sin, sizeof(sin), host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST);
	result(r == 0 && strcmp(host, v4) == 0,
	    "resolver: getnameinfo NI_NUMERICHOST: the address",
	    "%s: \"%s\"", gerr(r), r ? "" : host);
	r = getnameinfo((void *)&sin, sizeof(sin), host, sizeof(host), NULL, 0,
	    NI_NAMEREQD);
	result(r == 0 && strcmp(host, name) == 0,
	    "resolver: getnameinfo, host only (serv NULL): the name",
	    "%d (%s): \"%s\"", r, gerr(r), r ? "" : host);
	r = getnameinfo((void *)&sin, sizeof(sin), host, 4, NULL, 0, NI_NAMEREQD);
	result(r == EAI_OVERFLOW,
	    "resolver: getnameinfo with a short buffer: EAI_OVERFLOW",
	    "%d (%s)", r, gerr(r));
	hp = gethostbyaddr(&a4, 4, AF_INET);
	result(hp != NULL && strcmp(hp->h_name, name) == 0 &&
	    hp->h_addrtype == AF_INET && memcmp(hp->h_addr_list[0], &a4, 4) == 0,
	    "resolver: gethostbyaddr of the IPv4 address: the name",
	    "%s", hp == NULL ? hstrerror(h_errno) : hp->h_name);
	{
		struct hostent rhe, *rres = NULL;
		char rbuf[1024];
		int rerr = 0;

		r = gethostbyaddr_r(&a4, 4, AF_INET, &rhe, rbuf, sizeof(rbuf),
		    &rres, &rerr);
		result(r == 0 && rres != NULL && strcmp(rres->h_name, name) == 0,
		    "resolver: gethostbyaddr_r of the IPv4 address: the name",
		    "r=%d h_errno=%d (%s) name %s", r, rerr, hstrerror(rerr),
		    rres ? rres->h_name : "(none)");
	}
	hp = gethostbyaddr(&a6, 16, AF_INET6);
	result(hp != NULL && strcmp(hp->h_name, name) == 0 &&
	    hp->h_addrtype == AF_INET6,
	    "resolver: gethostbyaddr of the IPv6 address: the name",
	    "%s", hp == NULL ? hstrerror(h_errno) : hp->h_name);
	/* The IPv4-mapped form of the synthetic IPv4 address (Java, dual-stack sockets). */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(80);
	sin6.sin6_addr.s6_addr[10] = 0xff;
	sin6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6.sin6_addr.s6_addr[12], &a4, 4);
	r = getnameinfo((void *)&sin6, sizeof(sin6), host, sizeof(host), NULL, 0,
	    NI_NAMEREQD);
	result(r == 0 && strcmp(host, name) == 0,
	    "resolver: getnameinfo of the IPv4-mapped IPv6 form: the name",
	    "%s: \"%s\"", gerr(r), r ? "" : host);
	return 0;
}

/* A connect to the IPv4-mapped form of the synthetic IPv4 address (Java's way). */
static int
cmd_mapped(int argc, char **argv)
{
	struct addrinfo hints, *res;
	struct sockaddr_in6 sin6;
	unsigned char buf[4000];
	char err[256], a[80];
	int fd, r;

	if (argc < 1)
		return 2;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(argv[0], "7", &hints, &res)) != 0) {
		result(0, "mapped: resolve", "%s", gerr(r));
		return 0;
	}
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(7);
	sin6.sin6_addr.s6_addr[10] = 0xff;
	sin6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6.sin6_addr.s6_addr[12],
	    &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr, 4);
	freeaddrinfo(res);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	set_timeouts(fd);
	r = connect(fd, (void *)&sin6, sizeof(sin6));
	result(r == 0,
	    "mapped: AF_INET6 socket, connect to the IPv4-mapped synthetic address",
	    "connect(%s): %s", addrstr((void *)&sin6, a, sizeof(a)), strerror(errno));
	if (r == 0) {
		pattern(buf, sizeof(buf), 9);
		result(echo_all(fd, buf, sizeof(buf), err, sizeof(err)) == 0,
		    "mapped: echo", "%s", err);
	}
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	self = argv[0];
	for (;;) {
		if (argc > 2 && strcmp(argv[1], "-t") == 0) {
			timeout_s = atoi(argv[2]);
			argc -= 2;
			argv += 2;
		} else if (argc > 1 && strcmp(argv[1], "-S") == 0) {
			distinct_names = 1;
			argc--;
			argv++;
		} else
			break;
	}
	if (argc < 2)
		goto usage;
	/* exec'ed children find us by an absolute path */
	if (self[0] != '/') {
		static char path[4096];

		if (realpath(self, path) != NULL)
			self = path;
	}
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (strcmp(cmd, "threads") == 0)
		r = cmd_threads(argc, argv);
	else if (strcmp(cmd, "fork") == 0)
		r = cmd_fork(argc, argv);
	else if (strcmp(cmd, "forkthreads") == 0)
		r = cmd_forkthreads(argc, argv);
	else if (strcmp(cmd, "forkexec") == 0)
		r = cmd_forkexec(argc, argv);
	else if (strcmp(cmd, "spawn") == 0)
		r = cmd_spawn(argc, argv);
	else if (strcmp(cmd, "vfork") == 0)
		r = cmd_vfork(argc, argv);
	else if (strcmp(cmd, "daemon") == 0)
		r = cmd_daemon(argc, argv);
	else if (strcmp(cmd, "closefrom") == 0 || strcmp(cmd, "closerange") == 0 ||
	    strcmp(cmd, "sysclose") == 0 || strcmp(cmd, "closeloop") == 0)
		r = cmd_close(cmd, argc, argv);
	else if (strcmp(cmd, "cloexec") == 0)
		r = cmd_cloexec(argc, argv);
	else if (strcmp(cmd, "dup2") == 0)
		r = cmd_dup2(argc, argv);
	else if (strcmp(cmd, "sockopts") == 0)
		r = cmd_sockopts(argc, argv);
	else if (strcmp(cmd, "resolver") == 0)
		r = cmd_resolver(argc, argv);
	else if (strcmp(cmd, "mapped") == 0)
		r = cmd_mapped(argc, argv);
	else if (strcmp(cmd, "echo") == 0)
		return cmd_echo(argc, argv);
	else
		goto usage;
	if (r == 2)
		goto usage;
	return failures ? 1 : 0;
 usage:
	fprintf(stderr, "usage: fidelity [-t SECS] [-S] threads|fork|forkthreads|"
	    "forkexec|spawn|vfork|daemon|closefrom|closerange|sysclose|"
	    "closeloop|cloexec|dup2|sockopts|resolver|mapped|echo ARGS...\n");
	return 2;
}
