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
 * status.c - the text `tunnelwrap -O status` prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "helper.h"
#include "log.h"

struct text {
	char	*buf;
	size_t	 len, cap;
};

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += n;
			return;
		}
		t->cap = t->cap * 2 + n;
		if ((t->buf = realloc(t->buf, t->cap)) == NULL)
			fatal("out of memory");
	}
}

static void
put_cb(void *arg, const char *fmt, ...)
{
	struct text *t = arg;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(t, "%s", buf);
}

static void
human_bytes(char *buf, size_t len, uint64_t n)
{
	const char *unit = "KMGT";
	double v = (double)n;
	int i = -1;

	if (n < 1024) {
		snprintf(buf, len, "%llu", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f%c", v, unit[i]);
}

static void
human_age(char *buf, size_t len, time_t secs)
{
	if (secs < 60)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)secs / 60,
		    (long long)secs % 60);
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)secs / 3600,
		    (long long)(secs % 3600) / 60);
}

static const char *
state_name(const struct conn *c)
{
	switch (c->state) {
	case CONN_OPENING:
		return "opening";
	case CONN_FAILED:
		return "failed";
	case CONN_WAITING:
		return "waiting";
	case CONN_LOCAL:
		return "connecting";
	case CONN_PAIRING:
		return "pairing";
	case CONN_OPEN:
		if (c->local_eof && c->remote_eof)
			return "closing";
		if (c->local_eof || c->remote_eof)
			return "half-closed";
		return "open";
	}
	return "?";
}

char *
status_text(struct helper *h)
{
	struct text t = { NULL, 0, 1024 };
	struct conn *c;
	char age[32], up[16], down[16], dest[PROTO_NAMELEN + 8];
	const char *cipher, *rule;
	time_t now = monotime();
	size_t live = 0;

	if ((t.buf = malloc(t.cap)) == NULL)
		fatal("out of memory");
	cipher = h->session_up ? ssh_get_cipher_out(h->ssh) : NULL;
	human_age(age, sizeof(age), now - h->started);
	put(&t, "session      %s, %s\n", h->peer_desc,
	    h->session_up ? "up" : "down, reconnecting");
	if (h->losses > 0)
		put(&t, "reconnects   %u of %u losses\n", h->reconnects,
		    h->losses);
	put(&t, "cipher       %s%s\n", cipher ? cipher : "?",
	    h->compression ? ", compression" : "");
	put(&t, "uptime       %s\n", age);
	put(&t, "helper       pid %d, %u launcher%s attached\n", (int)getpid(),
	    h->attached, h->attached == 1 ? "" : "s");
	if (h->notice[0] != '\0')
		put(&t, "notice       %s\n", h->notice);
	window_status(h, put_cb, &t, 0);
	fwd_status(h, put_cb, &t);
	dns_status(h, put_cb, &t);
	TAILQ_FOREACH(c, &h->conns, entry)
		if (!c->dead)
			live++;
	put(&t, "connections  %zu live, %llu since start\n", live,
	    (unsigned long long)h->total_conns);
	if (live == 0)
		return t.buf;
	put(&t, "%-16s %7s  %-32s %-20s %-11s %8s %8s %7s\n", "PROGRAM", "PID",
	    "DESTINATION", "RULE", "STATE", "UP", "DOWN", "AGE");
	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->dead)
			continue;
		if (strchr(c->host, ':') != NULL)
			snprintf(dest, sizeof(dest), "[%s]:%u", c->host,
			    c->port);
		else
			snprintf(dest, sizeof(dest), "%s:%u", c->host, c->port);
		human_bytes(up, sizeof(up), c->bytes_up);
		human_bytes(down, sizeof(down), c->bytes_down);
		human_age(age, sizeof(age), now - c->started.tv_sec);
		/* The rule's file name without its directory keeps columns. */
		rule = strrchr(c->rule, '/') ? strrchr(c->rule, '/') + 1 :
		    c->rule;
		put(&t, "%-16s %7d  %-32s %-20s %-11s %8s %8s %7s\n",
		    *relay_comm(c) ? c->comm : "?", (int)c->pid, dest, rule,
		    state_name(c), up, down, age);
	}
	return t.buf;
}

/* JSON string: quotes, backslashes and control characters escaped. */
static void
put_json_str(struct text *t, const char *s)
{
	put(t, "\"");
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			put(t, "\\%c", ch);
		else if (ch < 0x20)
			put(t, "\\u%04x", ch);
		else
			put(t, "%c", ch);
	}
	put(t, "\"");
}

/*
 * The stable JSON of -O status --json (documented in tunnelwrap(1)):
 * {"version":1,"session":{...},"forwards":[...],"connections":[...]}.
 */
char *
status_json(struct helper *h)
{
	struct text t = { NULL, 0, 2048 };
	struct conn *c;
	time_t now = monotime();
	const char *cipher;
	int first = 1;
	uint64_t up = h->freed_up, down = h->freed_down;

	if ((t.buf = malloc(t.cap)) == NULL)
		fatal("out of memory");
	/* Every connection's bytes since start: the freed ones and these. */
	TAILQ_FOREACH(c, &h->conns, entry) {
		up += c->bytes_up;
		down += c->bytes_down;
	}
	cipher = h->session_up ? ssh_get_cipher_out(h->ssh) : NULL;
	put(&t, "{\"version\":1,\"session\":{\"destination\":");
	put_json_str(&t, h->peer_desc);
	put(&t, ",\"state\":\"%s\",\"cipher\":", h->session_up ? "up" : "down");
	put_json_str(&t, cipher ? cipher : "");
	put(&t, ",\"compression\":%s,\"uptime_s\":%lld,\"helper_pid\":%d,\"launchers\":%u,"
	    "\"losses\":%u,\"reconnects\":%u,\"connections_total\":%llu,"
	    "\"bytes_up\":%llu,\"bytes_down\":%llu,\"open_retries\":%llu},",
	    h->compression ? "true" : "false",
	    (long long)(now - h->started), (int)getpid(), h->attached,
	    h->losses, h->reconnects, (unsigned long long)h->total_conns,
	    (unsigned long long)up, (unsigned long long)down,
	    (unsigned long long)h->open_retries);
	window_status(h, put_cb, &t, 1);
	put(&t, ",\"forwards\":");
	fwd_json(h, put_cb, &t);
	put(&t, ",\"dns\":");
	dns_json(h, put_cb, &t);
	put(&t, ",\"connections\":[");
	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->dead)
			continue;
		put(&t, "%s{\"id\":%llu,\"program\":", first ? "" : ",",
		    (unsigned long long)c->id);
		put_json_str(&t, relay_comm(c));
		put(&t, ",\"pid\":%d,\"destination\":", (int)c->pid);
		put_json_str(&t, c->host);
		put(&t, ",\"port\":%u,\"rule\":", c->port);
		put_json_str(&t, c->rule);
		put(&t, ",\"state\":\"%s\",\"bytes_up\":%llu,\"bytes_down\":%llu,"
		    "\"window\":%u,\"held\":%u,\"age_s\":%lld}", state_name(c),
		    (unsigned long long)c->bytes_up,
		    (unsigned long long)c->bytes_down, c->win.target,
		    c->win.held,
		    (long long)(now - c->started.tv_sec));
		first = 0;
	}
	put(&t, "]}\n");
	return t.buf;
}

void
status_tick(struct helper *h)
{
	struct conn *c;

	TAILQ_FOREACH(c, &h->conns, entry) {
		/* Smoothed over a few seconds, like top's. */
		c->rate_up = 0.5 * c->rate_up +
		    0.5 * (double)(c->bytes_up - c->last_up);
		c->rate_down = 0.5 * c->rate_down +
		    0.5 * (double)(c->bytes_down - c->last_down);
		c->last_up = c->bytes_up;
		c->last_down = c->bytes_down;
	}
}

/* -O top: connections grouped by program, with throughput. */
char *
status_top(struct helper *h)
{
	struct text t = { NULL, 0, 2048 };
	struct conn *c, *d;
	char up[16], down[16], tot_up[16], tot_down[16];
	double rup, rdown, all_up = 0, all_down = 0;
	size_t n, live = 0;

	if ((t.buf = malloc(t.cap)) == NULL)
		fatal("out of memory");
	TAILQ_FOREACH(c, &h->conns, entry)
		if (!c->dead) {
			live++;
			all_up += c->rate_up;
			all_down += c->rate_down;
		}
	human_bytes(up, sizeof(up), (uint64_t)all_up);
	human_bytes(down, sizeof(down), (uint64_t)all_down);
	put(&t, "tunnelwrap top - %s, %s - %zu connections - up %s/s down "
	    "%s/s\n\n", h->peer_desc, h->session_up ? "up" : "RECONNECTING",
	    live, up, down);
	put(&t, "%-16s %7s %5s %10s %10s %9s %9s  %s\n", "PROGRAM", "PID",
	    "CONNS", "UP/s", "DOWN/s", "UP", "DOWN", "DESTINATIONS");
	TAILQ_FOREACH(c, &h->conns, entry) {
		uint64_t bu = 0, bd = 0;
		char dests[96] = "";
		int seen = 0;

		if (c->dead)
			continue;
		relay_comm(c);
		/* Each (program, pid) once: the first of its conns leads. */
		TAILQ_FOREACH(d, &h->conns, entry) {
			if (d == c)
				break;
			if (!d->dead && d->pid == c->pid &&
			    strcmp(relay_comm(d), c->comm) == 0)
				seen = 1;
		}
		if (seen)
			continue;
		n = 0;
		rup = rdown = 0;
		TAILQ_FOREACH(d, &h->conns, entry) {
			if (d->dead || d->pid != c->pid ||
			    strcmp(relay_comm(d), c->comm) != 0)
				continue;
			n++;
			rup += d->rate_up;
			rdown += d->rate_down;
			bu += d->bytes_up;
			bd += d->bytes_down;
			if (strstr(dests, d->host) == NULL &&
			    strlen(dests) + strlen(d->host) + 2 < sizeof(dests)) {
				if (*dests)
					strlcat(dests, ",", sizeof(dests));
				strlcat(dests, d->host, sizeof(dests));
			}
		}
		human_bytes(up, sizeof(up), (uint64_t)rup);
		human_bytes(down, sizeof(down), (uint64_t)rdown);
		human_bytes(tot_up, sizeof(tot_up), bu);
		human_bytes(tot_down, sizeof(tot_down), bd);
		put(&t, "%-16s %7d %5zu %10s %10s %9s %9s  %s\n",
		    c->comm[0] ? c->comm : "?", (int)c->pid, n, up, down,
		    tot_up, tot_down, dests);
	}
	return t.buf;
}
