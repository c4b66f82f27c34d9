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
 * park.c - the parking listener: a loopback listener whose accept queue we
 * fill with our own connects ("fillers") and never accept, so that the
 * kernel drops a parked program's SYN and its socket waits in SYN_SENT
 * until relay.c completes it (TCP simultaneous open).
 *
 * How many connects a listen(fd, backlog) queue takes differs by kernel.
 * Current kernels take backlog + 1 (the accept queue is full when it holds
 * more than backlog), so listen(fd, 0) and one filler is enough.  Kernels
 * without upstream commit 3479c7549fb1 (older 5.15 and 6.1 stable and
 * vendor kernels before the 2025 backports) refuse every SYN to a
 * listen(fd, 0) socket when net.ipv4.tcp_syncookies=0 (issue 13): the
 * filler never completes (a blocking connect would hang about two minutes
 * of SYN retries).  So we never trust the
 * arithmetic: fillers connect non-blocking, one at a time, each given
 * FILL_WAIT_MS; a filler that does not complete in that time found the
 * queue full (its SYN dropped) and is closed.  If not even one completes,
 * this is such a kernel: we say so once and park with backlog 1 instead.
 *
 * Each parked connect costs one dropped SYN by design: the kernel counts
 * it in TcpExtListenOverflows and TcpExtListenDrops (README, Limits).
 *
 * Test hook: TUNNELWRAP_PARK_BACKLOG=N in the helper's environment skips
 * the backlog-0 attempt and parks with backlog N (0-4), as the fallback
 * does; tests/t-park.sh uses it to run the fallback on a current kernel.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"

#define FILL_WAIT_MS	100	/* a loopback connect completes far sooner */
#define FILL_MAX	5	/* backlog + 1 for the largest test backlog */

/*
 * One non-blocking connect to addr.  Returns the connected socket, or -1
 * when it did not complete within FILL_WAIT_MS (the queue is full: the
 * kernel dropped its SYN) or failed.
 */
static int
fill_one(int family, const struct sockaddr_storage *addr, socklen_t alen)
{
	struct pollfd pfd;
	int f, err = 0;
	socklen_t elen = sizeof(err);

	if ((f = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(f, (const struct sockaddr *)addr, alen) == 0)
		return f;
	if (errno != EINPROGRESS)
		goto fail;
	pfd.fd = f;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, FILL_WAIT_MS) != 1 ||
	    getsockopt(f, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 || err != 0)
		goto fail;
	return f;
fail:
	close(f);
	return -1;
}

/*
 * listen(fd, backlog) and connect fillers until the accept queue is full:
 * until one does not complete, or backlog + 1 did (no kernel queues more).
 * Returns the number of fillers; the first is stored in *filler, the others
 * stay open, unreferenced, as long as the helper lives.
 */
static int
fill(int fd, int family, int backlog, const struct sockaddr_storage *addr,
    socklen_t alen, int *filler)
{
	int n, f;

	if (listen(fd, backlog) == -1)
		return -1;
	for (n = 0; n <= backlog; n++) {
		if ((f = fill_one(family, addr, alen)) == -1)
			break;
		if (n == 0)
			*filler = f;
	}
	return n;
}

/* TUNNELWRAP_PARK_BACKLOG (the test hook above), or -1. */
static int
forced_backlog(void)
{
	const char *s = getenv("TUNNELWRAP_PARK_BACKLOG");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > FILL_MAX - 1)
		fatal("TUNNELWRAP_PARK_BACKLOG=%s: not 0-%d", s, FILL_MAX - 1);
	return (int)v;
}

/*
 * Open the parking listener for family on its loopback address, queue
 * full.  Stores its address in addr/alen and one filler in *filler.
 * Returns the listener, or -1 with errno set (also when no filler could
 * complete even with backlog 1).
 */
int
park_open(int family, struct sockaddr_storage *addr, socklen_t *alen,
    int *filler)
{
	struct sockaddr_in *sin = (void *)addr;
	struct sockaddr_in6 *sin6 = (void *)addr;
	int fd, n = 0, one = 1, backlog = forced_backlog();
	const char *lo = family == AF_INET ? "127.0.0.1" : "::1";
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);

	*filler = -1;
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*alen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*alen = sizeof(*sin6);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* SO_REUSEPORT: the completing socket binds this address too. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)addr, *alen) == -1 ||
	    listen(fd, 0) == -1 ||
	    getsockname(fd, (struct sockaddr *)addr, alen) == -1)
		goto fail;
	if (backlog == -1) {
		if ((n = fill(fd, family, 0, addr, *alen, filler)) == -1)
			goto fail;
		if (n == 0) {
			logit("parking on %s: this kernel refuses every SYN to "
			    "a listen(fd, 0) socket (before Linux commit "
			    "3479c7549fb1, tcp_syncookies=0): using backlog 1",
			    lo);
			backlog = 1;
		}
	}
	if (backlog != -1 &&
	    (n = fill(fd, family, backlog, addr, *alen, filler)) == -1)
		goto fail;
	if (n == 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	verbose("parking on %s: backlog %d, %d filler%s, ready in %ld ms", lo,
	    backlog == -1 ? 0 : backlog, n, n == 1 ? "" : "s",
	    (long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return fd;
fail:
	n = errno;
	close(fd);
	errno = n;
	return -1;
}
