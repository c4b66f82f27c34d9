/*
 * status.c - the text `tunnelwrap -O status` prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	put(&t, "cipher       %s\n", cipher ? cipher : "?");
	put(&t, "uptime       %s\n", age);
	put(&t, "helper       pid %d, %u launcher%s attached\n", (int)getpid(),
	    h->attached, h->attached == 1 ? "" : "s");
	fwd_status(h, put_cb, &t);
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
		    c->comm[0] ? c->comm : "?", (int)c->pid, dest, rule,
		    state_name(c), up, down, age);
	}
	return t.buf;
}
