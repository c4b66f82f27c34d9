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
 * loop.c - the helper's epoll loop (level-triggered; registrations and
 * the dispatch of a batch are watch.c's), and what it does after a batch.
 * Timers are coarse (a one-second tick): channel-open deadlines and the
 * linger time after the last user leaves.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"

#define MAX_EVENTS	256

time_t
monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void
loop_init(struct helper *h)
{
	if ((h->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1: %s", strerror(errno));
}

/* -L, -R and -D forwards are held as long as the helper lives (ssh -N). */
static int
holds_forwards(struct helper *h)
{
	struct fwd *f;

	TAILQ_FOREACH(f, &h->fwds, entry)
		if (f->kind != PROTO_FWD_PUBLISH && !f->auto_proxy)
			return 1;
	return 0;
}

static void
check_linger(struct helper *h)
{
	time_t now = monotime();

	if (h->attached > 0 || h->nconns > 0 || holds_forwards(h)) {
		h->idle_since = 0;
		return;
	}
	if (h->idle_since == 0)
		h->idle_since = now;
	if (h->cfg.linger >= 0 && now - h->idle_since >= h->cfg.linger) {
		struct pollfd pfd = { h->ctl.fd, POLLIN, 0 };

		/*
		 * A launcher may have just connected: it does not wait for
		 * the helper's answer before it runs COMMAND.  Serve it.
		 */
		if (h->ctl.fd >= 0 && poll(&pfd, 1, 0) == 1)
			return;
		verbose("idle for %d s, exiting", h->cfg.linger);
		h->quit = 1;
	}
}

void
loop_run(struct helper *h)
{
	struct epoll_event evs[MAX_EVENTS];
	time_t last_tick = 0;
	int n;

	while (!h->quit) {
		/* Session bytes already read wake no epoll: do not sleep. */
		n = epoll_wait(h->epfd, evs, MAX_EVENTS,
		    prefetch_pending() ? 0 : 1000);
		if (h->got_signal != NULL && *h->got_signal) {
			logit("signal %d: exiting", (int)*h->got_signal);
			break;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait: %s", strerror(errno));
		}
		watch_dispatch(h, evs, n);
		if (prefetch_pending() && h->session_up)
			session_pump(h);
		window_after_pump(h);
		relay_after_pump(h);
		fwd_pump(h);
		session_check(h);
		if (h->need_reap) {
			relay_reap(h);
			window_idle(h);
		}
		if (monotime() != last_tick) {
			last_tick = monotime();
			listeners_resume(h);
			session_tick(h);
			relay_tick(h);
			fwd_tick(h);
			proxy_tick(h);
			dns_tick(h);
			status_tick(h);
			check_linger(h);
			if (h->need_reap)
				relay_reap(h);
		}
	}
}
