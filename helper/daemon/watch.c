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
 * watch.c - the helper's epoll registrations, and the dispatch of one
 * batch of events, shared by the loop and the control-socket fuzzer.
 * A watch's interest set is changed only when it differs from what is
 * registered, so steady-state relaying costs no epoll_ctl.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "helper.h"
#include "log.h"

/*
 * The batch being dispatched.  A handler may free the owner of another
 * watch whose event waits later in the batch (a proxy pair whose two
 * sockets end together; a client freed with its exec): watch_del blanks
 * that watch's entries, so nothing runs on freed memory.
 */
static struct epoll_event *batch;
static int batch_next, batch_len;

void
watch_set(struct helper *h, struct watch *w, uint32_t events)
{
	struct epoll_event ev;

	if (w->fd < 0 || (w->registered && w->events == events))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	if (epoll_ctl(h->epfd, w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    w->fd, &ev) == -1) {
		/* Our bookkeeping and the kernel's disagree: a bug, but one
		 * connection's, so recover instead of ending everyone's. */
		error("epoll_ctl %d: %s", w->fd, strerror(errno));
		if (epoll_ctl(h->epfd, w->registered ? EPOLL_CTL_ADD :
		    EPOLL_CTL_MOD, w->fd, &ev) == -1)
			return;
	}
	w->registered = 1;
	w->events = events;
}

void
watch_del(struct helper *h, struct watch *w)
{
	int i;

	for (i = batch_next; i < batch_len; i++)
		if (batch[i].data.ptr == w)
			batch[i].data.ptr = NULL;
	if (w->fd >= 0 && w->registered)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->registered = 0;
	w->events = 0;
}

void
watch_dispatch(struct helper *h, struct epoll_event *evs, int n)
{
	struct watch *w;
	int i;

	batch = evs;
	batch_len = n;
	for (i = 0; i < n; i++) {
		batch_next = i + 1;
		if ((w = evs[i].data.ptr) != NULL)
			w->fn(h, w, evs[i].events);
	}
	batch_len = 0;
}

/*
 * The next connection waiting on listener w, or -1 when there is none.
 * Out of descriptors, a listener stays readable and epoll would wake us
 * for it forever: then stop watching it for a second.
 */
int
listener_accept(struct helper *h, struct watch *w)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd != -1 || (errno != EMFILE && errno != ENFILE &&
	    errno != ENOBUFS && errno != ENOMEM))
		return fd;
	error("out of file descriptors: not accepting for a second");
	watch_set(h, w, 0);
	if (h->npaused < sizeof(h->paused) / sizeof(h->paused[0]))
		h->paused[h->npaused++] = w;
	return -1;
}

/* Once a second: listeners paused by listener_accept watch again. */
void
listeners_resume(struct helper *h)
{
	while (h->npaused > 0)
		watch_set(h, h->paused[--h->npaused], EPOLLIN);
}
