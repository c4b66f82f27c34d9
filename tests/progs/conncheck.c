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
 * conncheck - what a TCP client program sees, checked against an echo
 * server.  Plain libc; used by tests/t-conncheck.sh under tunnelwrap and,
 * as a baseline, directly against the same server.
 *
 *   conncheck [-4|-6] [-t SECS] [-s MIB] [-n CONNS] [-r REPEAT] HOST PORT CHECK...
 *
 * HOST is resolved with getaddrinfo (AF_INET with -4, AF_INET6 with -6,
 * else AF_UNSPEC) and the first address is used, as a naive client would.
 * PORT must be an echo server (RFC 862) that closes after echoing
 * everything once the client has shut down its sending side, except for
 * the refused/deny checks.
 *
 * Checks:
 *   block      blocking connect, getpeername, echo
 *   poll select epoll epollet
 *              non-blocking connect (EINPROGRESS, wait for writability with
 *              that API, SO_ERROR == 0, getpeername), then echo driven by the
 *              same API; epollet uses EPOLLET and drains to EAGAIN.
 *              With -r N these and refused-nb/deny-nb run N times (short
 *              echoes after the first): a race shows up as one bad round.
 *   peername   getpeername equals the address connected to (family, address,
 *              port), getsockname has the same family
 *   refused    blocking connect fails with ECONNREFUSED
 *   refused-nb non-blocking connect: ECONNREFUSED at once, or writable with
 *              SO_ERROR == ECONNREFUSED
 *   deny       blocking connect fails with EACCES
 *   deny-nb    non-blocking: EACCES at once or through SO_ERROR
 *   gai        getaddrinfo(HOST, PORT) for AF_UNSPEC, AF_INET, AF_INET6 (all
 *              must succeed and return only the asked family); prints
 *              "gai FAMILY ADDR..."
 *   halfclose  send 4 MiB while reading, shutdown(SHUT_WR), read all echoed
 *              bytes, then EOF
 *   bigxfer    -s MiB (default 256) both ways at once, every byte verified
 *   many       -n (default 200) simultaneous connections, each echoing its
 *              own pattern, all open at the same time
 *   fork       a connection made before fork() works in the child and, after
 *              the child exits, in the parent; the child connects anew
 *   exec       fork + exec of this program: the exec'ed child connects anew
 *              and uses a connection inherited across exec
 *
 * Each check prints "ok NAME" or "fail NAME: detail"; exit status 1 if any
 * failed, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum waiter { W_POLL, W_SELECT, W_EPOLL, W_EPOLLET };
static const char *waiter_name[] = { "poll", "select", "epoll", "epollet" };

static struct {
	const char	*host, *port;
	int		 family;
	int		 timeout_ms;
	size_t		 big_mib;
	int		 nconns;
	int		 repeat;
	char		*self;
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	int		 failures;
} g = { .family = AF_UNSPEC, .timeout_ms = 30000, .big_mib = 256,
	.nconns = 200, .repeat = 1 };

static int
report(int good, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (good) {
		printf("ok %s", name);
		if (fmt != NULL && *fmt != '\0') {
			printf(" (");
			va_start(ap, fmt);
			vprintf(fmt, ap);
			va_end(ap);
			printf(")");
		}
	} else {
		printf("fail %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		g.failures++;
	}
	printf("\n");
	fflush(stdout);
	return good ? 0 : -1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *
fmt_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	} else
		snprintf(buf, len, "(family %d)", sa->sa_family);
	return buf;
}

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

/* ---- deterministic byte streams: byte i of stream `seed` ---- */

static uint64_t
mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
stream_fill(uint64_t seed, uint64_t off, unsigned char *buf, size_t n)
{
	uint64_t w;
	size_t i = 0;

	while (i < n && ((off + i) & 7) != 0) {
		w = mix64(seed * 0x100000001b3ULL ^ ((off + i) >> 3));
		buf[i] = (unsigned char)(w >> (8 * ((off + i) & 7)));
		i++;
	}
	for (; i + 8 <= n; i += 8) {
		w = mix64(seed * 0x100000001b3ULL ^ ((off + i) >> 3));
		memcpy(buf + i, &w, 8);	/* little endian host: same bytes */
	}
	for (; i < n; i++) {
		w = mix64(seed * 0x100000001b3ULL ^ ((off + i) >> 3));
		buf[i] = (unsigned char)(w >> (8 * ((off + i) & 7)));
	}
}

/* ---- waiting for readiness with one of four APIs ---- */

struct waitctx {
	enum waiter	 w;
	int		 epfd;
	int		 fd;
};

static int
wait_init(struct waitctx *wc, enum waiter w, int fd)
{
	struct epoll_event ev;

	wc->w = w;
	wc->fd = fd;
	wc->epfd = -1;
	if (w == W_EPOLL || w == W_EPOLLET) {
		if ((wc->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
			return -1;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
		if (w == W_EPOLLET)
			ev.events |= EPOLLET;
		ev.data.fd = fd;
		if (epoll_ctl(wc->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			return -1;
	}
	return 0;
}

static void
wait_done(struct waitctx *wc)
{
	if (wc->epfd != -1)
		close(wc->epfd);
	wc->epfd = -1;
}

#define EV_IN	1
#define EV_OUT	2
#define EV_ERR	4
#define EV_HUP	8

/*
 * Wait until fd is ready for (want & (EV_IN|EV_OUT)).  Returns the ready
 * set (EV_*), 0 on timeout, -1 on error.  With level-triggered epoll the
 * interest set is narrowed to `want` (as a careful LT user does); with ET
 * it stays IN|OUT and the caller must have drained to EAGAIN.
 */
static int
wait_ready(struct waitctx *wc, int want, int timeout_ms)
{
	int r, got = 0;

	if (wc->w == W_POLL) {
		struct pollfd p = { .fd = wc->fd, .events = 0 };
		if (want & EV_IN)
			p.events |= POLLIN;
		if (want & EV_OUT)
			p.events |= POLLOUT;
		do
			r = poll(&p, 1, timeout_ms);
		while (r == -1 && errno == EINTR);
		if (r <= 0)
			return r;
		if (p.revents & POLLIN)
			got |= EV_IN;
		if (p.revents & POLLOUT)
			got |= EV_OUT;
		if (p.revents & (POLLERR | POLLNVAL))
			got |= EV_ERR;
		if (p.revents & POLLHUP)
			got |= EV_HUP;
		return got;
	}
	if (wc->w == W_SELECT) {
		fd_set rs, ws, es;
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		if (wc->fd >= FD_SETSIZE) {
			errno = EBADF;
			return -1;
		}
		FD_ZERO(&rs);
		FD_ZERO(&ws);
		FD_ZERO(&es);
		if (want & EV_IN)
			FD_SET(wc->fd, &rs);
		if (want & EV_OUT)
			FD_SET(wc->fd, &ws);
		FD_SET(wc->fd, &es);
		do
			r = select(wc->fd + 1, &rs, &ws, &es, &tv);
		while (r == -1 && errno == EINTR);
		if (r <= 0)
			return r;
		if (FD_ISSET(wc->fd, &rs))
			got |= EV_IN;
		if (FD_ISSET(wc->fd, &ws))
			got |= EV_OUT;
		if (FD_ISSET(wc->fd, &es))
			got |= EV_ERR;
		return got;
	}
	/* epoll */
	struct epoll_event ev;
	if (wc->w == W_EPOLL) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLRDHUP;
		if (want & EV_IN)
			ev.events |= EPOLLIN;
		if (want & EV_OUT)
			ev.events |= EPOLLOUT;
		ev.data.fd = wc->fd;
		if (epoll_ctl(wc->epfd, EPOLL_CTL_MOD, wc->fd, &ev) == -1)
			return -1;
	}
	do
		r = epoll_wait(wc->epfd, &ev, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return r;
	if (ev.events & EPOLLIN)
		got |= EV_IN;
	if (ev.events & EPOLLOUT)
		got |= EV_OUT;
	if (ev.events & EPOLLERR)
		got |= EV_ERR;
	if (ev.events & (EPOLLHUP | EPOLLRDHUP))
		got |= EV_HUP;
	return got;
}

/* ---- connecting ---- */

static int
set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

static int
new_socket(int flags)
{
	return socket(g.addr.ss_family, SOCK_STREAM | flags, 0);
}

/* Peer address must be the one we connected to; sockname same family. */
static int
check_names(int fd, char *err, size_t errlen)
{
	struct sockaddr_storage peer, me;
	socklen_t plen = sizeof(peer), mlen = sizeof(me);
	char a[128], b[128];

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == -1) {
		snprintf(err, errlen, "getpeername: %s", strerror(errno));
		return -1;
	}
	if (!same_addr((struct sockaddr *)&peer, (struct sockaddr *)&g.addr)) {
		snprintf(err, errlen, "getpeername %s, connected to %s",
		    fmt_addr((struct sockaddr *)&peer, a, sizeof(a)),
		    fmt_addr((struct sockaddr *)&g.addr, b, sizeof(b)));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&me, &mlen) == -1) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	if (me.ss_family != g.addr.ss_family) {
		snprintf(err, errlen, "getsockname family %d, socket family %d",
		    me.ss_family, g.addr.ss_family);
		return -1;
	}
	return 0;
}

/*
 * Non-blocking connect completed with API w.  Returns the fd (still
 * non-blocking) or -1 with err filled.  *soerr gets SO_ERROR when the
 * connect failed through SO_ERROR, or errno when it failed at once.
 */
static int
connect_nb(enum waiter w, int *soerr, char *err, size_t errlen)
{
	struct waitctx wc;
	int fd, r, e;
	socklen_t elen = sizeof(e);
	double t0 = now();

	*soerr = 0;
	if ((fd = new_socket(SOCK_NONBLOCK)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&g.addr, g.addrlen) == 0)
		return fd;	/* allowed: completed at once */
	if (errno != EINPROGRESS) {
		*soerr = errno;
		snprintf(err, errlen, "connect: %s (immediate)", strerror(errno));
		close(fd);
		return -1;
	}
	if (wait_init(&wc, w, fd) == -1) {
		snprintf(err, errlen, "%s setup: %s", waiter_name[w], strerror(errno));
		close(fd);
		return -1;
	}
	r = wait_ready(&wc, EV_OUT, g.timeout_ms);
	wait_done(&wc);
	if (r <= 0) {
		snprintf(err, errlen, "%s: %s after %.1fs", waiter_name[w],
		    r == 0 ? "timed out" : strerror(errno), now() - t0);
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1) {
		snprintf(err, errlen, "SO_ERROR: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (e != 0) {
		*soerr = e;
		snprintf(err, errlen, "SO_ERROR %s (events %#x)", strerror(e), r);
		close(fd);
		return -1;
	}
	if (!(r & EV_OUT) || (r & (EV_ERR | EV_HUP))) {
		snprintf(err, errlen, "woke with events %#x but SO_ERROR 0", r);
		close(fd);
		return -1;
	}
	return fd;
}

static int
connect_block(char *err, size_t errlen, int *e)
{
	int fd;

	*e = 0;
	if ((fd = new_socket(0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&g.addr, g.addrlen) == -1) {
		*e = errno;
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- moving bytes ---- */

/*
 * Send `total` bytes of stream seed_out and receive the same number of
 * bytes, which must equal stream seed_out (an echo), using API w on a
 * non-blocking fd.  If shut, shutdown(SHUT_WR) after sending and then
 * require EOF after the last byte.  Drains to EAGAIN before every wait, so
 * it is correct for edge-triggered epoll too.
 */
static int
pump(int fd, enum waiter w, uint64_t seed, uint64_t total, int shut,
    char *err, size_t errlen)
{
	static unsigned char obuf[256 << 10], ibuf[256 << 10], want[256 << 10];
	struct waitctx wc;
	uint64_t sent = 0, rcvd = 0;
	size_t opos = 0, olen = 0;
	int sawEOF = 0, shutdone = 0, ev;
	ssize_t n;

	if (set_nonblock(fd, 1) == -1 || wait_init(&wc, w, fd) == -1) {
		snprintf(err, errlen, "setup: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		/* write until EAGAIN */
		while (sent < total) {
			if (opos == olen) {
				olen = total - sent < sizeof(obuf) ?
				    (size_t)(total - sent) : sizeof(obuf);
				stream_fill(seed, sent, obuf, olen);
				opos = 0;
			}
			n = write(fd, obuf + opos, olen - opos);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN)
				break;
			if (n <= 0) {
				snprintf(err, errlen, "write after %llu bytes: %s",
				    (unsigned long long)sent, strerror(errno));
				goto fail;
			}
			opos += n;
			sent += n;
		}
		if (sent == total && shut && !shutdone) {
			if (shutdown(fd, SHUT_WR) == -1) {
				snprintf(err, errlen, "shutdown: %s", strerror(errno));
				goto fail;
			}
			shutdone = 1;
		}
		/* read until EAGAIN */
		while (!sawEOF) {
			n = read(fd, ibuf, sizeof(ibuf));
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN)
				break;
			if (n == -1) {
				snprintf(err, errlen, "read after %llu bytes: %s",
				    (unsigned long long)rcvd, strerror(errno));
				goto fail;
			}
			if (n == 0) {
				sawEOF = 1;
				break;
			}
			if (rcvd + n > total) {
				snprintf(err, errlen, "received %llu bytes, sent %llu",
				    (unsigned long long)(rcvd + n),
				    (unsigned long long)total);
				goto fail;
			}
			stream_fill(seed, rcvd, want, n);
			if (memcmp(want, ibuf, n) != 0) {
				ssize_t i = 0;
				while (want[i] == ibuf[i])
					i++;
				snprintf(err, errlen, "data differs at byte %llu",
				    (unsigned long long)(rcvd + i));
				goto fail;
			}
			rcvd += n;
		}
		if (sawEOF && rcvd < total) {
			snprintf(err, errlen, "EOF after %llu of %llu bytes",
			    (unsigned long long)rcvd, (unsigned long long)total);
			goto fail;
		}
		if (rcvd == total && (!shut || sawEOF))
			break;
		ev = wait_ready(&wc, (sent < total ? EV_OUT : 0) | EV_IN,
		    g.timeout_ms);
		if (ev == 0) {
			snprintf(err, errlen, "stalled %ds: sent %llu, received "
			    "%llu of %llu%s", g.timeout_ms / 1000,
			    (unsigned long long)sent, (unsigned long long)rcvd,
			    (unsigned long long)total,
			    rcvd == total ? ", no EOF" : "");
			goto fail;
		}
		if (ev == -1) {
			snprintf(err, errlen, "%s: %s", waiter_name[w], strerror(errno));
			goto fail;
		}
	}
	wait_done(&wc);
	return 0;
fail:
	wait_done(&wc);
	return -1;
}

/* Blocking echo of a short message plus 16 KiB. */
static int
echo_block(int fd, uint64_t seed, char *err, size_t errlen)
{
	unsigned char out[16384], in[16384];
	size_t got = 0;
	ssize_t n;

	stream_fill(seed, 0, out, sizeof(out));
	for (size_t off = 0; off < sizeof(out); off += n) {
		n = write(fd, out + off, sizeof(out) - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return -1;
		}
	}
	while (got < sizeof(in)) {
		n = read(fd, in + got, sizeof(in) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "read after %zu bytes: %s", got,
			    n == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		got += n;
	}
	if (memcmp(in, out, sizeof(out)) != 0) {
		snprintf(err, errlen, "echoed data differs");
		return -1;
	}
	return 0;
}

/* ---- checks ---- */

static void
check_block(const char *name)
{
	char err[256];
	int fd, e;

	if ((fd = connect_block(err, sizeof(err), &e)) == -1) {
		report(0, name, "%s", err);
		return;
	}
	if (check_names(fd, err, sizeof(err)) == -1 ||
	    echo_block(fd, 1, err, sizeof(err)) == -1) {
		report(0, name, "%s", err);
		close(fd);
		return;
	}
	close(fd);
	report(1, name, NULL);
}

static void
check_nb(enum waiter w)
{
	char err[256];
	int fd, e, i;

	for (i = 0; i < g.repeat; i++) {
		if ((fd = connect_nb(w, &e, err, sizeof(err))) == -1) {
			report(0, waiter_name[w], "round %d: %s", i + 1, err);
			return;
		}
		if (check_names(fd, err, sizeof(err)) == -1 ||
		    pump(fd, w, 2 + w + i, i == 0 ? 1 << 20 : 4096, 1, err,
		    sizeof(err)) == -1) {
			report(0, waiter_name[w], "round %d: %s", i + 1, err);
			close(fd);
			return;
		}
		close(fd);
	}
	if (g.repeat > 1)
		report(1, waiter_name[w], "%d rounds", g.repeat);
	else
		report(1, waiter_name[w], NULL);
}

static void
check_peername(void)
{
	char err[256], a[128];
	int fd, e;

	if ((fd = connect_block(err, sizeof(err), &e)) == -1) {
		report(0, "peername", "%s", err);
		return;
	}
	if (check_names(fd, err, sizeof(err)) == -1) {
		report(0, "peername", "%s", err);
		close(fd);
		return;
	}
	close(fd);
	report(1, "peername", "%s",
	    fmt_addr((struct sockaddr *)&g.addr, a, sizeof(a)));
}

static void
check_refusal(const char *name, int nb, int want)
{
	char err[256];
	int fd, e, i, rounds = nb ? g.repeat : 1;

	for (i = 0; i < rounds; i++) {
		if (nb)
			fd = connect_nb(W_POLL, &e, err, sizeof(err));
		else
			fd = connect_block(err, sizeof(err), &e);
		if (fd != -1) {
			report(0, name, "round %d: connect succeeded, expected %s",
			    i + 1, strerror(want));
			close(fd);
			return;
		}
		if (e != want) {
			report(0, name, "round %d: expected %s, got: %s", i + 1,
			    strerror(want), err);
			return;
		}
	}
	if (rounds > 1)
		report(1, name, "%d rounds: %s", rounds, err);
	else
		report(1, name, "%s", err);
}

static void
check_gai(void)
{
	static const int fams[] = { AF_UNSPEC, AF_INET, AF_INET6 };
	static const char *fname[] = { "AF_UNSPEC", "AF_INET", "AF_INET6" };
	struct addrinfo hints, *res, *ai;
	char a[INET6_ADDRSTRLEN];
	int bad = 0;

	for (int i = 0; i < 3; i++) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = fams[i];
		hints.ai_socktype = SOCK_STREAM;
		int r = getaddrinfo(g.host, g.port, &hints, &res);
		if (r != 0) {
			printf("gai %s error %s\n", fname[i], gai_strerror(r));
			report(0, "gai", "getaddrinfo(%s, %s): %s", g.host,
			    fname[i], gai_strerror(r));
			bad = 1;
			continue;
		}
		printf("gai %s", fname[i]);
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			const void *p = ai->ai_family == AF_INET ?
			    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
			    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
			inet_ntop(ai->ai_family, p, a, sizeof(a));
			printf(" %s", a);
			if (fams[i] != AF_UNSPEC && ai->ai_family != fams[i])
				bad = 2;
			if (ai->ai_socktype != SOCK_STREAM)
				bad = 3;
		}
		printf("\n");
		freeaddrinfo(res);
	}
	if (bad == 2)
		report(0, "gai", "a family-specific lookup returned another family");
	else if (bad == 3)
		report(0, "gai", "an answer is not SOCK_STREAM");
	else if (bad == 0)
		report(1, "gai", NULL);
}

static void
check_halfclose(void)
{
	char err[256];
	int fd, e;

	if ((fd = connect_block(err, sizeof(err), &e)) == -1 ||
	    pump(fd, W_POLL, 7, 4 << 20, 1, err, sizeof(err)) == -1) {
		report(0, "halfclose", "%s", err);
		if (fd != -1)
			close(fd);
		return;
	}
	close(fd);
	report(1, "halfclose", "4 MiB, SHUT_WR, all echoed, then EOF");
}

static void
check_bigxfer(void)
{
	char err[256];
	int fd, e;
	uint64_t total = (uint64_t)g.big_mib << 20;
	double t0 = now(), dt;

	if ((fd = connect_block(err, sizeof(err), &e)) == -1 ||
	    pump(fd, W_POLL, 8, total, 1, err, sizeof(err)) == -1) {
		report(0, "bigxfer", "%s", err);
		if (fd != -1)
			close(fd);
		return;
	}
	close(fd);
	dt = now() - t0;
	report(1, "bigxfer", "%zu MiB each way in %.2fs, %.0f MiB/s each way",
	    g.big_mib, dt, g.big_mib / dt);
}

struct conn {
	int		fd;
	int		state;		/* 0 connecting, 1 moving, 2 done */
	uint64_t	sent, rcvd;
};

static void
check_many(void)
{
	const uint64_t per = 64 << 10;
	int n = g.nconns, done = 0, i, fails = 0;
	struct conn *c = calloc(n, sizeof(*c));
	struct pollfd *p = calloc(n, sizeof(*p));
	static unsigned char buf[64 << 10], want[64 << 10];
	struct rlimit rl;
	char err[256] = "";
	double t0 = now(), last = now();

	if (c == NULL || p == NULL) {
		report(0, "many", "out of memory");
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max :
		    (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < n; i++) {
		c[i].fd = new_socket(SOCK_NONBLOCK);
		if (c[i].fd == -1) {
			snprintf(err, sizeof(err), "socket %d: %s", i, strerror(errno));
			goto out;
		}
		if (connect(c[i].fd, (struct sockaddr *)&g.addr, g.addrlen) == -1 &&
		    errno != EINPROGRESS) {
			snprintf(err, sizeof(err), "connect %d: %s", i, strerror(errno));
			goto out;
		}
	}
	while (done < n) {
		for (i = 0; i < n; i++) {
			p[i].fd = c[i].state == 2 ? -1 : c[i].fd;
			p[i].events = c[i].state == 0 ? POLLOUT :
			    POLLIN | (c[i].sent < per ? POLLOUT : 0);
			p[i].revents = 0;
		}
		int r = poll(p, n, 1000);
		if (r == -1 && errno != EINTR) {
			snprintf(err, sizeof(err), "poll: %s", strerror(errno));
			goto out;
		}
		if (r > 0)
			last = now();
		else if (now() - last > g.timeout_ms / 1000.0) {
			int conn = 0, mov = 0;
			for (i = 0; i < n; i++)
				conn += c[i].state == 0, mov += c[i].state == 1;
			snprintf(err, sizeof(err), "stalled: %d done, %d moving, "
			    "%d connecting", done, mov, conn);
			goto out;
		}
		for (i = 0; i < n; i++) {
			struct conn *k = &c[i];
			if (p[i].revents == 0)
				continue;
			if (k->state == 0) {
				int e = 0;
				socklen_t el = sizeof(e);
				getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &el);
				if (e != 0) {
					snprintf(err, sizeof(err),
					    "connection %d: SO_ERROR %s", i, strerror(e));
					goto out;
				}
				if (check_names(k->fd, err, sizeof(err)) == -1)
					goto out;
				k->state = 1;
			}
			if ((p[i].revents & POLLOUT) && k->sent < per) {
				size_t len = per - k->sent;
				stream_fill(1000 + i, k->sent, buf, len);
				ssize_t m = write(k->fd, buf, len);
				if (m == -1 && errno != EAGAIN) {
					snprintf(err, sizeof(err), "write %d: %s",
					    i, strerror(errno));
					goto out;
				}
				if (m > 0)
					k->sent += m;
			}
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t m = read(k->fd, buf, sizeof(buf));
				if (m == -1 && errno == EAGAIN)
					continue;
				if (m <= 0) {
					snprintf(err, sizeof(err), "connection %d: %s "
					    "after %llu bytes", i,
					    m == 0 ? "EOF" : strerror(errno),
					    (unsigned long long)k->rcvd);
					goto out;
				}
				stream_fill(1000 + i, k->rcvd, want, m);
				if (k->rcvd + m > per || memcmp(want, buf, m) != 0) {
					snprintf(err, sizeof(err), "connection %d: "
					    "wrong data at %llu", i,
					    (unsigned long long)k->rcvd);
					goto out;
				}
				k->rcvd += m;
				if (k->rcvd == per) {
					k->state = 2;
					done++;
				}
			}
		}
	}
out:
	/* All n were open until here: they were simultaneous. */
	for (i = 0; i < n; i++)
		if (c[i].fd > 0)
			close(c[i].fd);
	if (done < n)
		fails = 1;
	if (fails)
		report(0, "many", "%s", err[0] ? err : "incomplete");
	else
		report(1, "many", "%d connections x 64 KiB in %.2fs", n, now() - t0);
	free(c);
	free(p);
}

static void
check_fork(void)
{
	char err[256];
	int fd, e, st;
	pid_t pid;

	if ((fd = connect_block(err, sizeof(err), &e)) == -1) {
		report(0, "fork", "parent connect: %s", err);
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		report(0, "fork", "fork: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		int fd2;
		if (echo_block(fd, 11, err, sizeof(err)) == -1) {
			printf("fork child: inherited connection: %s\n", err);
			_exit(1);
		}
		if ((fd2 = connect_block(err, sizeof(err), &e)) == -1 ||
		    check_names(fd2, err, sizeof(err)) == -1 ||
		    echo_block(fd2, 12, err, sizeof(err)) == -1) {
			printf("fork child: new connection: %s\n", err);
			_exit(1);
		}
		close(fd2);
		close(fd);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		report(0, "fork", "child failed (status %#x)", st);
		close(fd);
		return;
	}
	if (echo_block(fd, 13, err, sizeof(err)) == -1) {
		report(0, "fork", "parent, after the child exited: %s", err);
		close(fd);
		return;
	}
	close(fd);
	report(1, "fork", "inherited and new connections in the child, parent after");
}

static void
check_exec(void)
{
	char err[256], fdstr[16], tmo[16];
	int fd, e, st;
	pid_t pid;

	if ((fd = connect_block(err, sizeof(err), &e)) == -1) {
		report(0, "exec", "parent connect: %s", err);
		return;
	}
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	snprintf(tmo, sizeof(tmo), "%d", g.timeout_ms / 1000);
	fflush(stdout);
	if ((pid = fork()) == -1) {
		report(0, "exec", "fork: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		char *av[12];
		int k = 0;

		av[k++] = g.self;
		av[k++] = "-t";
		av[k++] = tmo;
		if (g.family == AF_INET)
			av[k++] = "-4";
		else if (g.family == AF_INET6)
			av[k++] = "-6";
		av[k++] = (char *)g.host;
		av[k++] = (char *)g.port;
		av[k++] = "_inherited";
		av[k++] = "block";
		av[k] = NULL;
		setenv("CONNCHECK_FD", fdstr, 1);
		execv("/proc/self/exe", av);
		printf("exec: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		report(0, "exec", "exec'ed child failed (status %#x)", st);
		close(fd);
		return;
	}
	if (echo_block(fd, 15, err, sizeof(err)) == -1) {
		report(0, "exec", "parent, after the child exited: %s", err);
		close(fd);
		return;
	}
	close(fd);
	report(1, "exec", "exec'ed child connected anew and used the inherited one");
}

/* In an exec'ed child: use the connection inherited across exec. */
static void
check_inherited(void)
{
	char err[256];
	const char *s = getenv("CONNCHECK_FD");
	int fd = s ? atoi(s) : -1;

	if (fd < 0) {
		report(0, "inherited", "CONNCHECK_FD not set");
		return;
	}
	if (check_names(fd, err, sizeof(err)) == -1 ||
	    echo_block(fd, 14, err, sizeof(err)) == -1) {
		report(0, "inherited", "%s", err);
		return;
	}
	report(1, "inherited", NULL);
}

static int
resolve(void)
{
	struct addrinfo hints, *res;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = g.family;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(g.host, g.port, &hints, &res)) != 0) {
		report(0, "resolve", "getaddrinfo(%s, %s): %s", g.host, g.port,
		    gai_strerror(r));
		return -1;
	}
	memcpy(&g.addr, res->ai_addr, res->ai_addrlen);
	g.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: conncheck [-4|-6] [-t secs] [-s MiB] [-n conns] [-r n] "
	    "host port check...\nchecks: block poll select epoll epollet "
	    "peername refused refused-nb deny deny-nb gai halfclose bigxfer "
	    "many fork exec\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char a[128];
	int c, i;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	g.self = argv[0];
	while ((c = getopt(argc, argv, "46t:s:n:r:")) != -1) {
		switch (c) {
		case '4': g.family = AF_INET; break;
		case '6': g.family = AF_INET6; break;
		case 't': g.timeout_ms = atoi(optarg) * 1000; break;
		case 's': g.big_mib = strtoul(optarg, NULL, 10); break;
		case 'n': g.nconns = atoi(optarg); break;
		case 'r': g.repeat = atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || g.timeout_ms <= 0 || g.nconns <= 0 || g.repeat <= 0)
		usage();
	g.host = argv[0];
	g.port = argv[1];
	for (i = 2; i < argc; i++) {
		/* Validate names before doing anything. */
		static const char *known[] = { "block", "poll", "select", "epoll",
		    "epollet", "peername", "refused", "refused-nb", "deny",
		    "deny-nb", "gai", "halfclose", "bigxfer", "many", "fork",
		    "exec", "_inherited", NULL };
		int k;
		for (k = 0; known[k] != NULL && strcmp(known[k], argv[i]); k++)
			;
		if (known[k] == NULL)
			usage();
	}
	if (strcmp(argv[2], "gai") != 0 || argc > 3) {
		if (resolve() == -1)
			return 1;
		fprintf(stderr, "conncheck: %s port %s -> %s\n", g.host, g.port,
		    fmt_addr((struct sockaddr *)&g.addr, a, sizeof(a)));
	}
	for (i = 2; i < argc; i++) {
		const char *k = argv[i];
		if (!strcmp(k, "block"))
			check_block("block");
		else if (!strcmp(k, "poll"))
			check_nb(W_POLL);
		else if (!strcmp(k, "select"))
			check_nb(W_SELECT);
		else if (!strcmp(k, "epoll"))
			check_nb(W_EPOLL);
		else if (!strcmp(k, "epollet"))
			check_nb(W_EPOLLET);
		else if (!strcmp(k, "peername"))
			check_peername();
		else if (!strcmp(k, "refused"))
			check_refusal("refused", 0, ECONNREFUSED);
		else if (!strcmp(k, "refused-nb"))
			check_refusal("refused-nb", 1, ECONNREFUSED);
		else if (!strcmp(k, "deny"))
			check_refusal("deny", 0, EACCES);
		else if (!strcmp(k, "deny-nb"))
			check_refusal("deny-nb", 1, EACCES);
		else if (!strcmp(k, "gai"))
			check_gai();
		else if (!strcmp(k, "halfclose"))
			check_halfclose();
		else if (!strcmp(k, "bigxfer"))
			check_bigxfer();
		else if (!strcmp(k, "many"))
			check_many();
		else if (!strcmp(k, "fork"))
			check_fork();
		else if (!strcmp(k, "exec"))
			check_exec();
		else if (!strcmp(k, "_inherited"))
			check_inherited();
	}
	return g.failures ? 1 : 0;
}
