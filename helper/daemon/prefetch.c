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
 * prefetch.c - read the SSH session's socket in big gulps.
 *
 * libssh 0.10 reads its socket 4 KiB at a time, one recv() per poll(): a
 * download cost the helper two system calls per 4 KiB, most of its CPU
 * (DESIGN.md; tests/bench).  The helper therefore defines recv() and
 * poll() itself - an executable's definitions come before libc's for the
 * libraries it loads, libssh included.  For the live session's socket
 * only, recv() refills a PREFETCH_SIZE buffer with one system call and
 * serves libssh from it, and poll() reports that socket readable while the
 * buffer holds bytes, without asking the kernel.  Every other descriptor,
 * and every other thread (the reconnect thread's handshake uses another
 * socket), gets the plain system calls.  Bytes are served in order and
 * exactly once; prefetch_stop() drops what is left with the session.
 *
 * The main loop must pump the session while prefetch_pending(): the
 * kernel will not wake epoll for bytes that are already here.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helper.h"
#include "log.h"

#define PREFETCH_SIZE	(256 * 1024)

static int	 pf_fd = -1;		/* atomic: read by every thread */
static char	*pf_buf;
static size_t	 pf_off, pf_len;	/* main thread only */

void
prefetch_start(int fd)
{
	if (pf_buf == NULL && (pf_buf = malloc(PREFETCH_SIZE)) == NULL)
		fatal("out of memory");
	pf_off = pf_len = 0;
	__atomic_store_n(&pf_fd, fd, __ATOMIC_RELEASE);
}

void
prefetch_stop(void)
{
	__atomic_store_n(&pf_fd, -1, __ATOMIC_RELEASE);
	pf_off = pf_len = 0;
}

void
prefetch_free(void)
{
	prefetch_stop();
	free(pf_buf);
	pf_buf = NULL;
}

int
prefetch_pending(void)
{
	return __atomic_load_n(&pf_fd, __ATOMIC_ACQUIRE) >= 0 &&
	    pf_off < pf_len;
}

static int
is_ours(int fd)
{
	return fd >= 0 && fd == __atomic_load_n(&pf_fd, __ATOMIC_ACQUIRE);
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n;

	if (!is_ours(fd) || flags != 0)
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	if (pf_off == pf_len) {
		if (len >= PREFETCH_SIZE)
			return recvfrom(fd, buf, len, 0, NULL, NULL);
		if ((n = recvfrom(fd, pf_buf, PREFETCH_SIZE, 0, NULL,
		    NULL)) <= 0)
			return n;
		pf_off = 0;
		pf_len = (size_t)n;
	}
	n = (ssize_t)(len < pf_len - pf_off ? len : pf_len - pf_off);
	memcpy(buf, pf_buf + pf_off, (size_t)n);
	pf_off += (size_t)n;
	return n;
}

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec ts, *tsp = NULL;
	nfds_t i, ours = nfds;
	short want = 0;
	int r;

	for (i = 0; i < nfds; i++)
		if (is_ours(fds[i].fd) && (fds[i].events & POLLIN)) {
			ours = i;
			want = fds[i].events;
		}
	if (ours == nfds || pf_off == pf_len) {
		if (timeout >= 0) {
			ts.tv_sec = timeout / 1000;
			ts.tv_nsec = (long)(timeout % 1000) * 1000000;
			tsp = &ts;
		}
		return ppoll(fds, nfds, tsp, NULL);
	}
	/*
	 * Bytes are waiting here: readable now, whatever the kernel says.
	 * Alone (libssh's usual poll), skip the kernel altogether and let a
	 * wanted POLLOUT through too: a write that cannot go returns EAGAIN,
	 * which libssh handles.
	 */
	if (nfds == 1) {
		fds[0].revents = POLLIN | (want & POLLOUT);
		return 1;
	}
	ts.tv_sec = ts.tv_nsec = 0;
	if ((r = ppoll(fds, nfds, &ts, NULL)) == -1)
		return -1;
	if (fds[ours].revents == 0)
		r++;
	fds[ours].revents |= POLLIN;
	return r;
}
