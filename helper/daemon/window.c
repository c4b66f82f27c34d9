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
 * window.c - how much a connection may receive before its reader takes
 * it: the SSH channel window, autotuned (the download half of a
 * connection's flow control; pump.c moves the bytes).
 *
 * One stream carries at most window / RTT.  libssh 0.10 grants a channel
 * 1,280,000 bytes and tops it up only once less than half is left: 25 MB/s
 * at 50 ms, a third of what ssh's 2 MiB gets.  Its one public lever is
 * ssh_channel_read_timeout(ch, buf, count, ...), which raises what the
 * peer may send plus what libssh holds for the channel to count (buf must
 * hold count bytes; it receives only what libssh held).  libssh 0.11 and
 * later grant a fixed 2 MiB and have no lever: there this file only
 * counts.  Per connection, as HPN-SSH and Linux's receive autotuning do:
 *
 *  Account.  The data callback says what libssh holds and what the
 *  reader took (window_data), down_flush what it read out (window_taken):
 *  rx counts every byte received, edge where the peer has to stop.
 *
 *  Round trip, from the window itself: the time from a top-up until the
 *  first byte it allowed arrives.  A peer with data waiting sends the
 *  moment the window opens, so the session's minimum is the path's round
 *  trip (samples of an idle peer are long and do not count); the latest
 *  sample against it says whether a queue is building up on the path.
 *
 *  Once per round trip: if the peer sent more than half the window in
 *  it (the window is what holds it back), the reader took every byte at
 *  once (never fell behind), and no queue builds (a sample of this round
 *  trip within 9/8 of the minimum + 1 ms), the window grows to four times
 *  what came in one round trip, at most doubling (after the first queue:
 *  by a sixteenth), up to ChannelWindowMax and only while the sum of all
 *  windows stays within ChannelWindowTotal.  A queue (a long sample, or
 *  the first byte past the old edge overdue while data still comes)
 *  brings it back to 9/8 x what passed in a round trip (smoothed), never
 *  below the 2 MiB base, so a bulk download does not bury a keystroke's
 *  echo on the same session.
 *
 *  Top up when less than 7/8 of the window is left, after the pump (a
 *  libssh call from a callback would re-enter it), and only while every
 *  byte before is delivered: what the call reads out goes to the reader
 *  first (pump_down_stash).  A reader that stops is never topped up, so
 *  the helper holds at most its window for it.  A connection starts on
 *  libssh's own window and is tuned once it has received half of it:
 *  short exchanges never cost more than they did, nor do readers slower
 *  than the path (curl --limit-rate): only half a window taken as fast as
 *  it came starts the tuning.
 */
#include <sys/mman.h>

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "helper.h"
#include "log.h"

#define KiB		1024u
#define MiB		(1024u * 1024u)
#if LIBSSH_VERSION_INT >= SSH_VERSION_INT(0, 11, 0)
#define WIN_LIBSSH	(2 * MiB)	/* fixed, topped up at half */
#define WIN_TUNABLE	0
#else
#define WIN_LIBSSH	1280000u	/* WINDOWBASE, topped up below half */
#define WIN_TUNABLE	1
#endif
#define WIN_BASE	(2 * MiB)	/* a tuned window, at least (ssh's) */
#define WIN_MAX_DEFAULT	(16 * MiB)
#define WIN_TOTAL_DEFAULT (64ull * MiB)
#define WIN_MAX_LIMIT	(1024 * MiB)	/* SSH's uint32 window, with room */
#define QUEUE_SLACK_NS	1000000ull	/* 1 ms */
#define MIN_EPOCH_NS	1000000ull	/* 1 ms */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "16M", "512K", "1G", "2097152": bytes, or 0 when malformed. */
static uint64_t
parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': v *= KiB; end++; break;
	case 'm': case 'M': v *= MiB; end++; break;
	case 'g': case 'G': v *= 1024ull * MiB; end++; break;
	default: return 0;
	}
	return *end == '\0' ? v : 0;
}

int
window_option(struct helper_config *cfg, const char *opt)
{
	const char *val;
	uint64_t v;

	if (strncasecmp(opt, "ChannelWindowMax=", 17) == 0) {
		val = opt + 17;
		if ((v = parse_size(val)) < WIN_BASE || v > WIN_MAX_LIMIT)
			fatal("ChannelWindowMax=%s: expected a size from 2M "
			    "to 1G", val);
		cfg->win_max = (uint32_t)v;
		return 1;
	}
	if (strncasecmp(opt, "ChannelWindowTotal=", 19) == 0) {
		val = opt + 19;
		if ((v = parse_size(val)) < WIN_BASE)
			fatal("ChannelWindowTotal=%s: expected a size of at "
			    "least 2M", val);
		cfg->win_total = v;
		return 1;
	}
	return 0;
}

void
window_init(struct helper *h)
{
	struct winctl *w = &h->win;

	TAILQ_INIT(&w->due);
	w->max_conn = h->cfg.win_max ? h->cfg.win_max : WIN_MAX_DEFAULT;
	w->max_total = h->cfg.win_total ? h->cfg.win_total : WIN_TOTAL_DEFAULT;
	if (w->max_total < w->max_conn)
		w->max_conn = (uint32_t)w->max_total;
	/*
	 * The lever's buffer must hold a whole window, but libssh copies
	 * into it only what it held (a packet or so): reserve the address
	 * space, and only the pages it touches cost memory.
	 */
	w->scratch = mmap(NULL, w->max_conn, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (w->scratch == MAP_FAILED)
		fatal("mmap %u bytes: %s", w->max_conn, strerror(errno));
	verbose("channel windows: up to %u KiB per connection, %llu KiB "
	    "in all%s", w->max_conn / KiB,
	    (unsigned long long)(w->max_total / KiB), WIN_TUNABLE ? "" :
	    " (libssh 0.11+: fixed at 2 MiB, not tuned)");
}

static void
mark_due(struct conn *c)
{
	if (c->win.due)
		return;
	c->win.due = 1;
	TAILQ_INSERT_TAIL(&c->h->win.due, c, win.due_entry);
}

void
window_data(struct conn *c, uint32_t len, uint32_t taken)
{
	struct win *w = &c->win;

	/* What libssh held before plus what just arrived is len. */
	w->rx += len >= w->held ? len - w->held : len;
	w->held = len - (taken < len ? taken : len);
	if (w->held > 0)
		w->blocked = 1;
	mark_due(c);
}

void
window_taken(struct conn *c, uint32_t n)
{
	c->win.held -= n < c->win.held ? n : c->win.held;
}

/* Set c's target to want, within the session's total; returns the new. */
static uint32_t
set_target(struct conn *c, uint64_t want)
{
	struct winctl *wc = &c->h->win;
	uint64_t others = wc->total - c->win.target;

	if (want > wc->max_conn)
		want = wc->max_conn;
	if (others + want > wc->max_total)
		want = wc->max_total > others ? wc->max_total - others : 0;
	if (want < WIN_BASE && c->win.target == 0)
		return 0;			/* no room: libssh's own */
	if (want < WIN_BASE)
		want = WIN_BASE;
	wc->total = others + want;
	if (wc->total > wc->peak)
		wc->peak = wc->total;
	c->win.target = (uint32_t)want;
	return c->win.target;
}

/*
 * Once per round trip: grow while the window limits, shrink on a queue.
 * Only a round trip measured during this one counts (a stale sample
 * would grow a window into a queue it has not seen yet).  Until the first
 * queue a window doubles; after it, it grows by a sixteenth per round
 * trip, so that it hovers just above rate x round trip instead of swinging
 * through a queue of a whole window (the rate is smoothed over round
 * trips: a burst out of a queue is no rate of the path).
 */
static void
retune(struct conn *c, uint64_t now)
{
	struct winctl *wc = &c->h->win;
	struct win *w = &c->win;
	uint64_t rtt = wc->rtt_min, span = now - w->epoch_t, per_rtt, old;
	int queue, fresh;

	if (rtt == 0 || span < (rtt > MIN_EPOCH_NS ? rtt : MIN_EPOCH_NS))
		return;
	per_rtt = (w->rx - w->epoch_rx) * 1000000000ull / span;
	w->rate = w->rate ? (3 * w->rate + per_rtt) / 4 : per_rtt;
	per_rtt = w->rate * rtt / 1000000000ull;
	fresh = wc->samples != w->epoch_samples;
	/*
	 * A queue: the latest round trip long, or data still coming while
	 * the first byte past the old edge is overdue (it waits behind it).
	 */
	queue = (fresh && wc->rtt_last > rtt * 9 / 8 + QUEUE_SLACK_NS) ||
	    (w->probe_t != 0 && now - w->probe_t > rtt * 9 / 8 +
	    QUEUE_SLACK_NS && w->rx > w->epoch_rx);
	old = w->target;
	if (fresh && !queue && !w->blocked && 2 * per_rtt > old)
		set_target(c, w->settled ? old + old / 16 :
		    4 * per_rtt < 2 * old ? 4 * per_rtt : 2 * old);
	else if (queue && old > WIN_BASE) {
		/* What the bottleneck passed in a round trip, and an eighth. */
		w->settled = 1;
		if (per_rtt * 9 / 8 < old)
			set_target(c, per_rtt * 9 / 8);
	}
	if (w->target > old) {
		wc->grown++;
		verbose("conn %llu: window %llu -> %u KiB (%.1f MB/s, round "
		    "trip %.1f ms)", (unsigned long long)c->id,
		    (unsigned long long)(old / KiB), w->target / KiB,
		    w->rate / 1e6, rtt / 1e6);
	} else if (w->target < old) {
		wc->shrunk++;
		debug("conn %llu: window %llu -> %u KiB (a queue: round trip "
		    "%.1f ms, least %.1f ms)", (unsigned long long)c->id,
		    (unsigned long long)(old / KiB), w->target / KiB,
		    wc->rtt_last / 1e6, rtt / 1e6);
	}
	w->epoch_t = now;
	w->epoch_rx = w->rx;
	w->epoch_samples = wc->samples;
	w->blocked = 0;
}

/* Raise what the peer may send plus what libssh holds to the target. */
static void
top_up(struct conn *c, uint64_t now)
{
	struct winctl *wc = &c->h->win;
	struct win *w = &c->win;
	uint64_t edge = w->rx - w->held + w->target;
	int n;

	/* Its callbacks for c wait (deliver keeps, EOF holds) until the
	 * bytes read here are stashed ahead of anything newer. */
	c->in_flush = 1;
	n = ssh_channel_read_timeout(c->ch, wc->scratch, w->target, 0, 0);
	c->in_flush = 0;
	wc->topups++;
	/* It may have processed packets (an open confirmed, a window). */
	c->h->pumped = 1;
	/*
	 * The first byte past the old edge cannot arrive before this
	 * adjustment has gone there and the byte come back: one round trip,
	 * exactly that when the peer was waiting for the window, plus any
	 * queue in between.  (Not the new edge: that adds the time to send
	 * the whole increment.)  Libssh's own first window is not ours to
	 * know: no sample from it.
	 */
	if (w->probe_t == 0 && w->edge != 0 && edge > w->edge) {
		w->probe_t = now;
		w->probe_edge = w->edge + 1;
	}
	if (edge > w->edge)
		w->edge = edge;
	if (n > 0) {
		window_taken(c, (uint32_t)n);
		pump_down_stash(c, wc->scratch, (size_t)n);
	}
}

static void
window_conn(struct conn *c, uint64_t now)
{
	struct winctl *wc = &c->h->win;
	struct win *w = &c->win;

	if (w->probe_t != 0 && w->rx >= w->probe_edge) {
		wc->rtt_last = now - w->probe_t;
		wc->samples++;
		if (wc->rtt_min == 0 || wc->rtt_last < wc->rtt_min)
			wc->rtt_min = wc->rtt_last;
		w->probe_t = 0;
	}
	if (c->state != CONN_OPEN || c->dead || c->ch == NULL ||
	    c->local_broken || c->remote_eof || c->x11_filter)
		return;
	if (w->target == 0) {
		/* Half libssh's window taken as it came: tune from now on. */
		if (w->blocked) {
			w->blocked = 0;
			w->epoch_rx = w->rx;
			return;
		}
		if (w->rx - w->epoch_rx < WIN_LIBSSH / 2 ||
		    set_target(c, WIN_BASE) == 0)
			return;
		w->epoch_t = now;
		w->epoch_rx = w->rx;
		w->epoch_samples = wc->samples;
	} else
		retune(c, now);
	/* What may still come plus what libssh holds, against the target. */
	if ((w->edge > w->rx ? w->edge - w->rx : 0) + w->held <
	    (uint64_t)w->target * 7 / 8 && !pump_pending(c))
		top_up(c, now);
}

void
window_after_pump(struct helper *h)
{
	struct conn *c;
	uint64_t now;

	if (!WIN_TUNABLE || TAILQ_EMPTY(&h->win.due))
		return;
	now = now_ns();
	while ((c = TAILQ_FIRST(&h->win.due)) != NULL) {
		TAILQ_REMOVE(&h->win.due, c, win.due_entry);
		c->win.due = 0;
		if (h->session_up)
			window_conn(c, now);
	}
	session_update_interest(h);	/* an adjustment may wait to go */
}

void
window_conn_free(struct conn *c)
{
	struct winctl *wc = &c->h->win;

	if (c->win.due)
		TAILQ_REMOVE(&wc->due, c, win.due_entry);
	c->win.due = 0;
	wc->total -= c->win.target;
	c->win.target = 0;
	wc->trim = 1;
}

/*
 * After the reap.  With no connection left, give the heap's free memory
 * back: libssh's per-channel buffers grow to a window, and glibc keeps
 * what they leave in its heap, so a busy hour would stay in RSS.
 */
void
window_idle(struct helper *h)
{
	if (h->win.trim && h->nconns == 0) {
		malloc_trim(0);
		h->win.trim = 0;
	}
}

/* A new session may take another path: measure its round trip afresh. */
void
window_session_down(struct helper *h)
{
	h->win.rtt_min = h->win.rtt_last = 0;
}

void
window_status(struct helper *h, void (*put)(void *, const char *, ...),
    void *arg, int json)
{
	struct winctl *w = &h->win;

	if (json) {
		put(arg, "\"window\":{\"autotune\":%s,\"max_conn\":%u,"
		    "\"max_total\":%llu,\"total\":%llu,\"peak\":%llu,"
		    "\"rtt_us\":%llu,\"grown\":%llu,\"shrunk\":%llu,"
		    "\"topups\":%llu}", WIN_TUNABLE ? "true" : "false",
		    w->max_conn, (unsigned long long)w->max_total,
		    (unsigned long long)w->total, (unsigned long long)w->peak,
		    (unsigned long long)(w->rtt_min / 1000),
		    (unsigned long long)w->grown,
		    (unsigned long long)w->shrunk,
		    (unsigned long long)w->topups);
		return;
	}
	if (!WIN_TUNABLE) {
		put(arg, "windows      2048 KiB per connection (libssh %s: "
		    "fixed)\n", ssh_version(0));
		return;
	}
	put(arg, "windows      %llu KiB in use (peak %llu) of %llu KiB, up "
	    "to %u KiB per connection; round trip %.1f ms\n",
	    (unsigned long long)(w->total / KiB),
	    (unsigned long long)(w->peak / KiB),
	    (unsigned long long)(w->max_total / KiB), w->max_conn / KiB,
	    w->rtt_min / 1e6);
}
