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
 * dns.c - the helper's DNS responder: a resolver on loopback (UDP and TCP,
 * one port) that answers by the rules.
 *
 * One responder per rules text, made on request (a FORWARD of kind
 * PROTO_FWD_DNS carrying the rules, as the shim and -O status send) and
 * shared by every program with the same rules, like the automatic proxy.
 * A question about NAME of type T is answered so:
 *   - NAME denied by the rules: REFUSED;
 *   - NAME tunneled, T A or AAAA: the synthetic address of the shared
 *     table (names.c), the one getaddrinfo gives the shim;
 *   - NAME tunneled, any other T (SRV, TXT, MX, ...): asked of the
 *     intranet's resolver, as DNS over TCP through a direct-tcpip channel
 *     of this session.  The resolver is the rules' `resolver` for the
 *     default session, else the first nameserver of the bastion's
 *     /etc/resolv.conf, read once over the session (`cat` in an exec
 *     channel).  Names tunneled via another session get SERVFAIL for
 *     these types: this helper holds the default session only;
 *   - a reverse name (PTR) of a synthetic address: its name, or NXDOMAIN;
 *     of an address the rules tunnel: asked at the intranet's resolver as
 *     above; of a denied one: REFUSED;
 *   - anything else: forwarded unchanged to the system's resolver (the
 *     first nameserver of our /etc/resolv.conf: the helper is not
 *     wrapped), by UDP, or by TCP for a TCP client; its answer passed
 *     back unchanged (truncated, TC set, when too big for a UDP client).
 * No question about a tunneled or denied name leaves the machine but
 * through the session.  Questions about them from another local user's
 * socket are REFUSED (trusted()): what the session knows is the user's.
 * Only dns-msg.c reads a client's bytes; upstream answers are passed on
 * unread but for their ID and length.
 *
 * Everything is non-blocking in the helper's loop; a question unanswered
 * after DNS_TIMEOUT seconds gets SERVFAIL.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "helper.h"
#include "dns-msg.h"

#ifndef TAILQ_FOREACH_SAFE	/* glibc's sys/queue.h lacks it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif
#include "log.h"
#include "../rules/rules.h"

#define DNS_TIMEOUT	5	/* seconds for an upstream answer */
#define DNS_TCP_IDLE	10	/* seconds a TCP client may stay idle */
#define DNS_MAX_TCP	64	/* TCP clients at once */
#define DNS_MAX_PENDING	256	/* upstream questions at once */
#define DNS_TTL		60	/* of synthetic answers */
#define DNS_UDP_PLAIN	512	/* UDP answer limit without EDNS */
#define DNS_UDP_EDNS	1232	/* with EDNS: the size DNS flag day chose */

struct dnsd;

/* A TCP client: length-prefixed messages both ways. */
struct dns_tcp {
	TAILQ_ENTRY(dns_tcp) entry;
	struct dnsd	*d;
	struct watch	 w;
	unsigned char	 in[2 + DNS_MAXMSG];
	size_t		 inlen;
	unsigned char	*out;
	size_t		 outlen;
	unsigned	 refs;		/* questions of its still upstream */
	int		 closed;	/* gone; freed once refs is 0 */
	int		 ours;		/* its socket is our uid's */
	time_t		 last;
};

/* Whom to answer. */
struct dns_client {
	struct dns_tcp	*tcp;		/* NULL: UDP, to peer */
	struct sockaddr_storage peer;
	socklen_t	 peerlen;
	int		 udp_max;	/* answer size a UDP client takes */
};

/* A question asked upstream (the system's resolver, or the bastion's). */
struct dnsq {
	TAILQ_ENTRY(dnsq) entry;
	struct dnsd	*d;
	struct dns_client cl;
	struct dns_query q;
	unsigned char	*msg;		/* the client's query */
	size_t		 msglen;
	int		 bastion;
	int		 waiting_ns;	/* for the bastion's resolv.conf */
	struct watch	 w;		/* upstream socket */
	unsigned char	*buf;		/* answer so far (bastion: framed) */
	size_t		 len;
	time_t		 deadline;
};

/* One responder: a rules text and its sockets. */
struct dnsd {
	TAILQ_ENTRY(dnsd) entry;
	struct helper	*h;
	struct rules	*rules;
	char		*rules_text;
	uint16_t	 port;
	struct watch	 udp, tcp;
	unsigned long	 questions, local, forwarded, bastion, refused;
};

enum ns_state { NS_UNKNOWN, NS_FETCHING, NS_KNOWN, NS_FAILED };

struct dns_state {
	TAILQ_HEAD(, dnsd) responders;
	TAILQ_HEAD(, dns_tcp) tcps;
	TAILQ_HEAD(, dnsq) pending;
	size_t		 ntcp, npending;
	/* the system's resolver, for names the rules send direct */
	struct sockaddr_storage sys_ns;
	socklen_t	 sys_nslen;
	/* the bastion's, from its /etc/resolv.conf */
	enum ns_state	 ns_state;
	char		 bastion_ns[PROTO_NAMELEN];
	time_t		 ns_failed_at;	/* tried again 30 s later */
	struct watch	 ns_fetch;
	char		 ns_text[4096];
	size_t		 ns_len;
};

static void	dnsq_free(struct helper *, struct dnsq *);
static void	dnsq_bastion_start(struct helper *, struct dnsq *);

static struct dns_state *
state(struct helper *h)
{
	struct dns_state *s = h->dns;

	if (s != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("out of memory");
	TAILQ_INIT(&s->responders);
	TAILQ_INIT(&s->tcps);
	TAILQ_INIT(&s->pending);
	s->ns_fetch.fd = -1;
	h->dns = s;
	return s;
}

/* --- answering ---------------------------------------------------------- */

static void
tcp_flush(struct helper *h, struct dns_tcp *t)
{
	ssize_t n;

	if (t->closed)
		return;
	while (t->outlen > 0 && !t->closed) {
		n = send(t->w.fd, t->out, t->outlen, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			t->closed = 1;
			return;
		}
		memmove(t->out, t->out + n, t->outlen - (size_t)n);
		t->outlen -= (size_t)n;
	}
	watch_set(h, &t->w, EPOLLIN | (t->outlen > 0 ? EPOLLOUT : 0));
}

/* Send msg to the client, framed for TCP, truncated (TC) if UDP needs. */
static void
client_send(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const struct dns_query *q, const unsigned char *query,
    const unsigned char *msg, size_t len)
{
	unsigned char small[DNS_NAMELEN + 64];
	struct dns_tcp *t = cl->tcp;
	unsigned char *grown;

	if (t == NULL) {
		if (len > (size_t)cl->udp_max) {
			if (q == NULL || (len = dns_truncate(query, q, msg, len,
			    small, sizeof(small))) == 0)
				return;
			msg = small;
		}
		sendto(d->udp.fd, msg, len, MSG_DONTWAIT, (const struct
		    sockaddr *)&cl->peer, cl->peerlen);
		return;
	}
	if (t->closed || len > DNS_MAXMSG)
		return;
	if (t->outlen > 4 * DNS_MAXMSG) {	/* it does not read */
		t->closed = 1;
		return;
	}
	if ((grown = realloc(t->out, t->outlen + 2 + len)) == NULL)
		fatal("out of memory");
	t->out = grown;
	t->out[t->outlen] = (unsigned char)(len >> 8);
	t->out[t->outlen + 1] = (unsigned char)len;
	memcpy(t->out + t->outlen + 2, msg, len);
	t->outlen += 2 + len;
	tcp_flush(h, t);
}

/* Answer with records of the question's type (none for an rcode). */
static void
answer(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const unsigned char *msg, const struct dns_query *q, int rcode,
    const unsigned char *const *rdata, const size_t *rdlen, int nrr)
{
	unsigned char out[DNS_NAMELEN * 2 + 128];
	size_t n;

	if ((n = dns_answer(msg, q, rcode, DNS_TTL, rdata, rdlen, nrr, out,
	    sizeof(out))) == 0)
		return;
	client_send(h, d, cl, q, msg, out, n);
}

static void
answer_rcode(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const unsigned char *msg, const struct dns_query *q, int rcode)
{
	answer(h, d, cl, msg, q, rcode, NULL, NULL, 0);
}

/* A or AAAA of the synthetic address for a tunneled name. */
static void
answer_synthetic(struct helper *h, struct dnsd *d,
    const struct dns_client *cl, const unsigned char *msg,
    const struct dns_query *q)
{
	struct in_addr v4;
	struct in6_addr v6;
	const unsigned char *rd[1];
	size_t rl[1];
	int e;

	if ((e = names_assign(&h->names, q->name, &v4, &v6)) != 0) {
		error("dns: %s: no synthetic address: %s", q->name,
		    strerror(e));
		answer_rcode(h, d, cl, msg, q, DNS_R_SERVFAIL);
		return;
	}
	rd[0] = q->qtype == DNS_T_A ? (const void *)&v4 : (const void *)&v6;
	rl[0] = q->qtype == DNS_T_A ? 4 : 16;
	d->local++;
	answer(h, d, cl, msg, q, DNS_R_NOERROR, rd, rl, 1);
}

/* --- upstream questions ------------------------------------------------- */

static struct dnsq *
dnsq_new(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const unsigned char *msg, size_t len, const struct dns_query *q)
{
	struct dns_state *s = state(h);
	struct dnsq *x;

	if (s->npending >= DNS_MAX_PENDING)
		return NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->msg = malloc(len)) == NULL)
		fatal("out of memory");
	memcpy(x->msg, msg, len);
	x->msglen = len;
	x->d = d;
	x->cl = *cl;
	x->q = *q;
	x->w.fd = -1;
	x->w.arg = x;
	x->deadline = monotime() + DNS_TIMEOUT;
	if (cl->tcp != NULL)
		cl->tcp->refs++;
	TAILQ_INSERT_TAIL(&s->pending, x, entry);
	s->npending++;
	return x;
}

static void
tcp_free(struct helper *h, struct dns_tcp *t)
{
	struct dns_state *s = state(h);

	watch_del(h, &t->w);
	close(t->w.fd);
	TAILQ_REMOVE(&s->tcps, t, entry);
	s->ntcp--;
	free(t->out);
	free(t);
}

static void
dnsq_free(struct helper *h, struct dnsq *x)
{
	struct dns_state *s = state(h);
	struct dns_tcp *t = x->cl.tcp;

	if (x->w.fd >= 0) {
		watch_del(h, &x->w);
		close(x->w.fd);
	}
	TAILQ_REMOVE(&s->pending, x, entry);
	s->npending--;
	if (t != NULL && --t->refs == 0 && t->closed)
		tcp_free(h, t);
	free(x->msg);
	free(x->buf);
	free(x);
}

static void
dnsq_fail(struct helper *h, struct dnsq *x, const char *why)
{
	debug("dns: %s: SERVFAIL: %s", x->q.name, why);
	answer_rcode(h, x->d, &x->cl, x->msg, &x->q, DNS_R_SERVFAIL);
	dnsq_free(h, x);
}

/* The system resolver's answer, passed on if it is the one we wait for. */
static void
sys_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct dnsq *x = w->arg;
	unsigned char buf[DNS_MAXMSG];
	ssize_t n;

	(void)events;
	n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		dnsq_fail(h, x, strerror(errno));
		return;
	}
	if (n < DNS_HDRLEN || memcmp(buf, x->msg, 2) != 0)
		return;				/* not ours: keep waiting */
	x->d->forwarded++;
	client_send(h, x->d, &x->cl, &x->q, x->msg, buf, (size_t)n);
	dnsq_free(h, x);
}

static void	framed_io(struct helper *, struct watch *, uint32_t);

/* x's query as DNS over TCP sends it: a two-byte length first (malloc'ed). */
static unsigned char *
tcp_framed(const struct dnsq *x)
{
	unsigned char *framed;

	if ((framed = malloc(2 + x->msglen)) == NULL)
		fatal("out of memory");
	framed[0] = (unsigned char)(x->msglen >> 8);
	framed[1] = (unsigned char)x->msglen;
	memcpy(framed + 2, x->msg, x->msglen);
	return framed;
}

/* TCP to the system's resolver: once connected, the framed query. */
static void
sys_tcp_connected(struct helper *h, struct watch *w, uint32_t events)
{
	struct dnsq *x = w->arg;
	unsigned char *framed;
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	(void)events;
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		dnsq_fail(h, x, strerror(err ? err : errno));
		return;
	}
	framed = tcp_framed(x);
	/* A fresh connection's buffer takes one query whole. */
	n = send(w->fd, framed, 2 + x->msglen, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(framed);
	if (n != (ssize_t)(2 + x->msglen)) {
		dnsq_fail(h, x, "cannot send to the system's resolver");
		return;
	}
	w->fn = framed_io;
	watch_set(h, w, EPOLLIN);
}

/*
 * Another name: to the system's resolver, unchanged; by UDP, or by TCP
 * for a TCP client (one that got a truncated answer asks again so).
 */
static void
forward_system(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const unsigned char *msg, size_t len, const struct dns_query *q)
{
	struct dns_state *s = state(h);
	struct dnsq *x;
	int fd, tcp = cl->tcp != NULL;

	if ((x = dnsq_new(h, d, cl, msg, len, q)) == NULL) {
		answer_rcode(h, d, cl, msg, q, DNS_R_SERVFAIL);
		return;
	}
	if ((fd = socket(s->sys_ns.ss_family, (tcp ? SOCK_STREAM :
	    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    (x->w.fd = fd, connect(fd, (struct sockaddr *)&s->sys_ns,
	    s->sys_nslen)) == -1) {
		if (fd == -1 || errno != EINPROGRESS) {
			dnsq_fail(h, x, strerror(errno));
			return;
		}
	}
	if (tcp) {
		x->w.fn = sys_tcp_connected;
		watch_set(h, &x->w, EPOLLOUT);
		return;
	}
	if (send(fd, msg, len, MSG_DONTWAIT) != (ssize_t)len) {
		dnsq_fail(h, x, strerror(errno));
		return;
	}
	x->w.fn = sys_io;
	watch_set(h, &x->w, EPOLLIN);
}

/* A framed answer by TCP (the bastion's, or the system's for a TCP
   client): pass it on once complete. */
static void
framed_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct dnsq *x = w->arg;
	size_t want;
	ssize_t n;

	(void)events;
	if (x->buf == NULL && (x->buf = malloc(2 + DNS_MAXMSG)) == NULL)
		fatal("out of memory");
	want = x->len < 2 ? 2 : 2 + (size_t)(x->buf[0] << 8 | x->buf[1]);
	n = recv(w->fd, x->buf + x->len, want - x->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		dnsq_fail(h, x, n == 0 ? "the resolver closed the "
		    "connection" : strerror(errno));
		return;
	}
	x->len += (size_t)n;
	if (x->len < 2 || x->len < 2 + (size_t)(x->buf[0] << 8 | x->buf[1]))
		return;
	if (x->len < 2 + DNS_HDRLEN || memcmp(x->buf + 2, x->msg, 2) != 0) {
		dnsq_fail(h, x, "a foreign answer");
		return;
	}
	if (x->bastion)
		x->d->bastion++;
	else
		x->d->forwarded++;
	client_send(h, x->d, &x->cl, &x->q, x->msg, x->buf + 2, x->len - 2);
	dnsq_free(h, x);
}

/* The resolver to ask for the default session's names, or NULL. */
static const char *
bastion_resolver(struct helper *h, struct dnsd *d)
{
	struct dns_state *s = state(h);
	const char *r = rules_resolver(d->rules, NULL);

	if (r != NULL)
		return r;
	return s->ns_state == NS_KNOWN ? s->bastion_ns : NULL;
}

static void
dnsq_bastion_start(struct helper *h, struct dnsq *x)
{
	char host[PROTO_NAMELEN];
	const char *ns = bastion_resolver(h, x->d);
	unsigned char *framed;
	size_t n;
	int sv[2];

	if (ns == NULL) {
		dnsq_fail(h, x, "no resolver for the intranet (rules: "
		    "resolver ADDRESS)");
		return;
	}
	/* "[2001:db8::53]" as written; the bastion wants it bare. */
	strlcpy(host, ns, sizeof(host));
	if (host[0] == '[' && (n = strlen(host)) > 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		dnsq_fail(h, x, strerror(errno));
		return;
	}
	framed = tcp_framed(x);
	/* The relay owns sv[0]; the query goes first on the channel. */
	relay_accepted(h, sv[0], host, 53, "dns", NULL, 0, framed,
	    2 + x->msglen);
	free(framed);
	x->w.fd = sv[1];
	x->w.fn = framed_io;
	x->waiting_ns = 0;
	watch_set(h, &x->w, EPOLLIN);
	debug("dns: %s type %u asked at %s through the bastion", x->q.name,
	    x->q.qtype, host);
}

/* The bastion's resolv.conf is in (or the exec failed): go on. */
static void
ns_fetched(struct helper *h)
{
	struct dns_state *s = state(h);
	struct dnsq *x, *next;
	char *line, *save, *w1, *w2, *ws;

	s->ns_text[s->ns_len] = '\0';
	for (line = strtok_r(s->ns_text, "\n", &save); line != NULL &&
	    s->ns_state != NS_KNOWN; line = strtok_r(NULL, "\n", &save)) {
		if ((w1 = strtok_r(line, " \t\r", &ws)) == NULL ||
		    strcmp(w1, "nameserver") != 0 ||
		    (w2 = strtok_r(NULL, " \t\r", &ws)) == NULL)
			continue;
		/* What the bastion tells us is only ever a channel's host. */
		if (strlen(w2) >= sizeof(s->bastion_ns) ||
		    strspn(w2, "0123456789abcdefABCDEF.:") != strlen(w2))
			continue;
		strlcpy(s->bastion_ns, w2, sizeof(s->bastion_ns));
		s->ns_state = NS_KNOWN;
	}
	if (s->ns_state != NS_KNOWN) {
		s->ns_state = NS_FAILED;
		s->ns_failed_at = monotime();
		logit("dns: no nameserver in the bastion's /etc/resolv.conf; "
		    "name one with `resolver ADDRESS` in the rules");
	} else
		verbose("dns: the intranet's resolver is %s (the bastion's "
		    "/etc/resolv.conf)", s->bastion_ns);
	TAILQ_FOREACH_SAFE(x, &s->pending, entry, next)
		if (x->waiting_ns)
			dnsq_bastion_start(h, x);
}

static void
ns_fetch_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct dns_state *s = state(h);
	ssize_t n;

	(void)events;
	n = recv(w->fd, s->ns_text + s->ns_len, sizeof(s->ns_text) - 1 -
	    s->ns_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		s->ns_len += (size_t)n;
		if (s->ns_len < sizeof(s->ns_text) - 1)
			return;
	}
	watch_del(h, w);
	close(w->fd);
	w->fd = -1;
	s->ns_state = NS_FAILED;
	ns_fetched(h);
}

/* `cat /etc/resolv.conf` at the bastion, once, as an exec channel. */
static void
ns_fetch_start(struct helper *h)
{
	struct dns_state *s = state(h);
	struct exec_state *x;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		s->ns_state = NS_FAILED;
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->cmd = strdup("cat /etc/resolv.conf")) == NULL)
		fatal("out of memory");
	x->exit_status = -1;
	x->err.fd = -1;
	x->ctlw.fd = -1;
	exec_start(h, sv[0], x);
	shutdown(sv[1], SHUT_WR);	/* its stdin: nothing */
	s->ns_state = NS_FETCHING;
	s->ns_len = 0;
	s->ns_fetch.fd = sv[1];
	s->ns_fetch.fn = ns_fetch_io;
	watch_set(h, &s->ns_fetch, EPOLLIN);
	verbose("dns: reading the bastion's /etc/resolv.conf");
}

/* A tunneled name's record a synthetic address cannot stand for. */
static void
ask_bastion(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const unsigned char *msg, size_t len, const struct dns_query *q)
{
	struct dns_state *s = state(h);
	struct dnsq *x;

	if ((x = dnsq_new(h, d, cl, msg, len, q)) == NULL) {
		answer_rcode(h, d, cl, msg, q, DNS_R_SERVFAIL);
		return;
	}
	x->bastion = 1;
	if (s->ns_state == NS_FAILED && monotime() - s->ns_failed_at >= 30)
		s->ns_state = NS_UNKNOWN;
	if (rules_resolver(d->rules, NULL) == NULL && s->ns_state != NS_KNOWN) {
		if (s->ns_state == NS_FAILED) {
			dnsq_fail(h, x, "no resolver for the intranet");
			return;
		}
		x->waiting_ns = 1;
		if (s->ns_state == NS_UNKNOWN)
			ns_fetch_start(h);
		return;
	}
	dnsq_bastion_start(h, x);
}

/* --- whose question ------------------------------------------------------ */

/*
 * Nonzero if the client's UDP socket (bound to peer, its address as we
 * see it) belongs to our uid.  The responder listens on loopback, where
 * every local user can reach it, and what it knows of the intranet is the
 * user's: tunneled names, their records and synthetic addresses are
 * answered to the user's own programs only.  A datagram carries no
 * credentials, so the owner is looked up in /proc/net/udp{,6} by the
 * socket's address (IPv4, or v4-mapped IPv6) and port, or the wildcard
 * address and that port; every socket bound there must be trusted.  (A
 * TCP client is known by its connection: sockdiag_peer_uid.)
 */
static int
udp_client_ours(const struct sockaddr_storage *peer)
{
	static const char *const files[2] = { "/proc/net/udp",
	    "/proc/net/udp6" };
	const struct sockaddr_in *sin = (const void *)peer;
	char line[512], local[64], want4[16], want6[40];
	unsigned long uid;
	unsigned port;
	int i, found = 0;
	FILE *f;

	if (peer->ss_family != AF_INET)
		return 0;
	/* The kernel prints the address as a native-endian word. */
	snprintf(want4, sizeof(want4), "%08X", (unsigned)sin->sin_addr.s_addr);
	snprintf(want6, sizeof(want6), "0000000000000000FFFF0000%s", want4);
	for (i = 0; i < 2; i++) {
		if ((f = fopen(files[i], "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%X %*s %*s %*s "
			    "%*s %*s %lu", local, &port, &uid) != 3 ||
			    port != ntohs(sin->sin_port) ||
			    (strcasecmp(local, i == 0 ? want4 : want6) != 0 &&
			    strspn(local, "0") != strlen(local)))
				continue;	/* not it, nor a wildcard bind */
			if (!uid_trusted((uid_t)uid)) {
				fclose(f);
				return 0;
			}
			found = 1;
		}
		fclose(f);
	}
	return found;
}

/* May this client learn about names the rules do not send direct? */
static int
trusted(struct dnsd *d, const struct dns_client *cl, const char *name)
{
	if (cl->tcp != NULL ? cl->tcp->ours : udp_client_ours(&cl->peer))
		return 1;
	d->refused++;
	debug("dns: %s: REFUSED to another user's socket", name);
	return 0;
}

/* --- deciding ----------------------------------------------------------- */

/* Is the session of a tunnel match this helper's (the default one)? */
static int
ours(const struct dnsd *d, const struct rules_match *m)
{
	const struct rules_session *def = rules_session_at(d->rules, 0);

	return m->session == NULL || def == NULL ||
	    strcmp(m->session, def->name) == 0;
}

/* A PTR question: synthetic, tunneled, denied or none of ours (-1). */
static int
reverse(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const unsigned char *msg, size_t len, const struct dns_query *q)
{
	struct sockaddr_storage ss;
	struct proto_addr pa;
	struct rules_match m;
	unsigned char wire[DNS_NAMELEN + 2];
	const unsigned char *rd[1];
	const char *name;
	uint8_t addr[16];
	size_t rl[1];
	int fam;

	if ((fam = dns_reverse_addr(q->name, addr)) == 0)
		return -1;
	memset(&pa, 0, sizeof(pa));
	pa.family = (uint16_t)fam;
	memcpy(pa.addr, addr, fam == AF_INET ? 4 : 16);
	if (names_in_pool(&h->names, &pa) && !trusted(d, cl, q->name)) {
		answer_rcode(h, d, cl, msg, q, DNS_R_REFUSED);
		return 0;
	}
	if ((name = names_lookup(&h->names, &pa)) != NULL) {
		rd[0] = wire;
		if ((rl[0] = dns_name_wire(name, wire, sizeof(wire))) == 0) {
			answer_rcode(h, d, cl, msg, q, DNS_R_SERVFAIL);
			return 0;
		}
		d->local++;
		answer(h, d, cl, msg, q, DNS_R_NOERROR, rd, rl, 1);
		return 0;
	}
	if (proto_addr_to_sockaddr(&pa, &ss) == 0)
		return -1;
	switch (rules_match_addr(d->rules, (struct sockaddr *)&ss, &m)) {
	case RULES_DIRECT:
		/* A synthetic address nobody holds now: never ask outside. */
		if (names_in_pool(&h->names, &pa)) {
			answer_rcode(h, d, cl, msg, q, DNS_R_NXDOMAIN);
			return 0;
		}
		return -1;
	case RULES_DENY:
		d->refused++;
		answer_rcode(h, d, cl, msg, q, DNS_R_REFUSED);
		return 0;
	case RULES_TUNNEL:
		if (!trusted(d, cl, q->name))
			answer_rcode(h, d, cl, msg, q, DNS_R_REFUSED);
		else if (!ours(d, &m))
			answer_rcode(h, d, cl, msg, q, DNS_R_SERVFAIL);
		else
			ask_bastion(h, d, cl, msg, len, q);
		return 0;
	}
	return -1;
}

/* One client message, whatever it holds. */
static void
handle(struct helper *h, struct dnsd *d, const struct dns_client *cl,
    const unsigned char *msg, size_t len)
{
	unsigned char hdr[DNS_HDRLEN];
	struct dns_query q;
	struct rules_match m;
	int r;

	if ((r = dns_parse_query(msg, len, &q)) != 0) {
		if (r > 0) {
			dns_error_header(q.id, q.flags, r, hdr);
			client_send(h, d, cl, NULL, NULL, hdr, sizeof(hdr));
		}
		return;
	}
	d->questions++;
	if (q.qclass != DNS_C_IN) {
		answer_rcode(h, d, cl, msg, &q, DNS_R_REFUSED);
		return;
	}
	if (q.qtype == DNS_T_PTR && reverse(h, d, cl, msg, len, &q) == 0)
		return;
	switch (rules_match_name(d->rules, q.name, 0, &m)) {
	case RULES_DIRECT:
		forward_system(h, d, cl, msg, len, &q);
		return;
	case RULES_DENY:
		debug("dns: %s: REFUSED by %s:%d", q.name, m.file ? m.file :
		    "default", m.line);
		d->refused++;
		answer_rcode(h, d, cl, msg, &q, DNS_R_REFUSED);
		return;
	case RULES_TUNNEL:
		if (!trusted(d, cl, q.name))
			answer_rcode(h, d, cl, msg, &q, DNS_R_REFUSED);
		else if (q.qtype == DNS_T_A || q.qtype == DNS_T_AAAA)
			answer_synthetic(h, d, cl, msg, &q);
		else if (!ours(d, &m))
			answer_rcode(h, d, cl, msg, &q, DNS_R_SERVFAIL);
		else
			ask_bastion(h, d, cl, msg, len, &q);
		return;
	}
}

/* --- sockets ------------------------------------------------------------ */

static void
udp_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct dnsd *d = w->arg;
	unsigned char buf[DNS_MAXMSG];
	struct dns_client cl;
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < 64; i++) {
		memset(&cl, 0, sizeof(cl));
		cl.peerlen = sizeof(cl.peer);
		n = recvfrom(w->fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&cl.peer, &cl.peerlen);
		if (n < 0)
			return;
		cl.udp_max = n >= DNS_HDRLEN && (buf[10] | buf[11]) ?
		    DNS_UDP_EDNS : DNS_UDP_PLAIN;
		handle(h, d, &cl, buf, (size_t)n);
	}
}

static void
tcp_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct dns_tcp *t = w->arg;
	struct dns_client cl;
	size_t want;
	ssize_t n;

	if (events & EPOLLOUT)
		tcp_flush(h, t);
	while (!t->closed) {
		want = t->inlen < 2 ? 2 : 2 + (size_t)(t->in[0] << 8 |
		    t->in[1]);
		n = recv(w->fd, t->in + t->inlen, want - t->inlen,
		    MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			t->closed = 1;
			break;
		}
		t->inlen += (size_t)n;
		t->last = monotime();
		if (t->inlen < 2 || t->inlen < 2 + (size_t)(t->in[0] << 8 |
		    t->in[1]))
			continue;
		memset(&cl, 0, sizeof(cl));
		cl.tcp = t;
		t->refs++;		/* handle() may end a question of t's */
		handle(h, t->d, &cl, t->in + 2, t->inlen - 2);
		t->refs--;
		t->inlen = 0;
	}
	if (t->closed) {
		watch_del(h, &t->w);
		if (t->refs == 0)
			tcp_free(h, t);
	}
}

static void
tcp_accept(struct helper *h, struct watch *w, uint32_t events)
{
	struct dns_state *s = state(h);
	struct dnsd *d = w->arg;
	struct dns_tcp *t;
	uid_t uid;
	int fd;

	(void)events;
	while ((fd = listener_accept(h, w)) != -1) {
		if (s->ntcp >= DNS_MAX_TCP) {
			close(fd);
			continue;
		}
		if ((t = calloc(1, sizeof(*t))) == NULL)
			fatal("out of memory");
		t->d = d;
		t->w.fd = fd;
		t->ours = sockdiag_peer_uid(fd, &uid) == 0 &&
		    uid_trusted(uid);
		t->w.fn = tcp_io;
		t->w.arg = t;
		t->last = monotime();
		TAILQ_INSERT_TAIL(&s->tcps, t, entry);
		s->ntcp++;
		watch_set(h, &t->w, EPOLLIN);
	}
}

/* UDP and TCP on 127.0.0.1, one port the kernel picks for both. */
static int
dnsd_bind(struct dnsd *d)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int tries, one = 1;

	for (tries = 0; tries < 16; tries++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((d->udp.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1 ||
		    bind(d->udp.fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    getsockname(d->udp.fd, (struct sockaddr *)&sin, &len) == -1)
			return -1;
		if ((d->tcp.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1)
			return -1;
		setsockopt(d->tcp.fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(d->tcp.fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    listen(d->tcp.fd, 64) == 0) {
			d->port = ntohs(sin.sin_port);
			return 0;
		}
		/* That port is taken for TCP: another pair. */
		close(d->udp.fd);
		close(d->tcp.fd);
		d->udp.fd = d->tcp.fd = -1;
	}
	errno = EADDRINUSE;
	return -1;
}

/* The first nameserver of our resolv.conf (glibc's default: loopback). */
static void
system_resolver(struct dns_state *s)
{
	struct sockaddr_in *sin = (void *)&s->sys_ns;
	struct sockaddr_in6 *sin6 = (void *)&s->sys_ns;
	char line[512], w[64];
	FILE *f;

	memset(&s->sys_ns, 0, sizeof(s->sys_ns));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(53);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->sys_nslen = sizeof(*sin);
	if ((f = fopen("/etc/resolv.conf", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "nameserver %63s", w) != 1)
			continue;
		if (inet_pton(AF_INET, w, &sin->sin_addr) == 1)
			break;
		memset(sin6, 0, sizeof(*sin6));
		if (inet_pton(AF_INET6, w, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(53);
			s->sys_nslen = sizeof(*sin6);
			break;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	fclose(f);
}

static void
rules_error(void *arg, const char *msg)
{
	(void)arg;
	error("dns: %s", msg);
}

/* The responder for a rules text, made or found; its port to ctl. */
void
dns_request(struct helper *h, int ctl, const char *rules, size_t len)
{
	struct dns_state *s = state(h);
	struct dnsd *d;
	char text[16];

	if (rules == NULL || len == 0 || memchr(rules, '\0', len) != NULL) {
		ctl_reply(ctl, PROTO_FORWARD, EINVAL, NULL, 0);
		return;
	}
	TAILQ_FOREACH(d, &s->responders, entry)
		if (strlen(d->rules_text) == len &&
		    memcmp(d->rules_text, rules, len) == 0)
			break;
	if (d == NULL) {
		if ((d = calloc(1, sizeof(*d))) == NULL ||
		    (d->rules_text = strndup(rules, len)) == NULL)
			fatal("out of memory");
		d->h = h;
		d->udp.fd = d->tcp.fd = -1;
		if (rules_parse_string(d->rules_text, "DNS responder rules",
		    &d->rules, rules_error, NULL) == -1 || dnsd_bind(d) == -1) {
			error("dns: no responder: %s", d->rules == NULL ?
			    "bad rules" : strerror(errno));
			ctl_reply(ctl, PROTO_FORWARD, d->rules == NULL ?
			    EINVAL : errno, NULL, 0);
			if (d->udp.fd >= 0)
				close(d->udp.fd);
			if (d->tcp.fd >= 0)
				close(d->tcp.fd);
			rules_free(d->rules);
			free(d->rules_text);
			free(d);
			return;
		}
		if (TAILQ_EMPTY(&s->responders))
			system_resolver(s);
		d->udp.fn = udp_io;
		d->udp.arg = d;
		d->tcp.fn = tcp_accept;
		d->tcp.arg = d;
		watch_set(h, &d->udp, EPOLLIN);
		watch_set(h, &d->tcp, EPOLLIN);
		TAILQ_INSERT_TAIL(&s->responders, d, entry);
		verbose("dns: responder on 127.0.0.1 port %u (UDP and TCP)",
		    d->port);
	}
	snprintf(text, sizeof(text), "%u", d->port);
	ctl_reply(ctl, PROTO_FORWARD, 0, text, strlen(text));
}

/* Once a second: SERVFAIL for questions past their time, idle TCP out. */
void
dns_tick(struct helper *h)
{
	struct dns_state *s = h->dns;
	struct dnsq *x, *nx;
	struct dns_tcp *t, *nt;
	time_t now = monotime();

	if (s == NULL)
		return;
	TAILQ_FOREACH_SAFE(x, &s->pending, entry, nx)
		if (now >= x->deadline)
			dnsq_fail(h, x, x->waiting_ns ? "the bastion's "
			    "resolv.conf did not come" : "no answer in time");
	TAILQ_FOREACH_SAFE(t, &s->tcps, entry, nt) {
		if (!t->closed && now - t->last >= DNS_TCP_IDLE) {
			t->closed = 1;
			watch_del(h, &t->w);
		}
		if (t->closed && t->refs == 0)
			tcp_free(h, t);
	}
}

/* -O status: a line per responder. */
void
dns_status(struct helper *h, void (*put)(void *, const char *, ...),
    void *arg)
{
	struct dns_state *s = h->dns;
	const struct rules_session *def;
	const char *ns;
	struct dnsd *d;

	if (s == NULL || TAILQ_EMPTY(&s->responders))
		return;
	put(arg, "dns\n");
	TAILQ_FOREACH(d, &s->responders, entry) {
		def = rules_session_at(d->rules, 0);
		ns = bastion_resolver(h, d);
		put(arg, "  127.0.0.1:%u (UDP, TCP)  rules %s  intranet "
		    "resolver %s  %lu questions: %lu synthetic, %lu forwarded, "
		    "%lu via the bastion, %lu refused\n", d->port,
		    def != NULL && def->file != NULL ? def->file : "?",
		    ns != NULL ? ns : s->ns_state == NS_FAILED ? "none" :
		    "not yet known", d->questions, d->local, d->forwarded,
		    d->bastion, d->refused);
	}
}

/* -O status --json: the responders as an array. */
void
dns_json(struct helper *h, void (*put)(void *, const char *, ...), void *arg)
{
	struct dns_state *s = h->dns;
	struct dnsd *d;
	const char *sep = "";

	put(arg, "[");
	if (s != NULL)
		TAILQ_FOREACH(d, &s->responders, entry) {
			put(arg, "%s{\"address\":\"127.0.0.1\",\"port\":%u,"
			    "\"questions\":%lu,\"synthetic\":%lu,"
			    "\"forwarded\":%lu,\"bastion\":%lu,\"refused\":%lu}",
			    sep, d->port, d->questions, d->local, d->forwarded,
			    d->bastion, d->refused);
			sep = ",";
		}
	put(arg, "]");
}

/* At exit: every responder, client and question. */
void
dns_free_all(struct helper *h)
{
	struct dns_state *s = h->dns;
	struct dnsd *d;
	struct dns_tcp *t;

	if (s == NULL)
		return;
	while (!TAILQ_EMPTY(&s->pending))
		dnsq_free(h, TAILQ_FIRST(&s->pending));
	while ((t = TAILQ_FIRST(&s->tcps)) != NULL)
		tcp_free(h, t);
	while ((d = TAILQ_FIRST(&s->responders)) != NULL) {
		TAILQ_REMOVE(&s->responders, d, entry);
		watch_del(h, &d->udp);
		watch_del(h, &d->tcp);
		close(d->udp.fd);
		close(d->tcp.fd);
		rules_free(d->rules);
		free(d->rules_text);
		free(d);
	}
	if (s->ns_fetch.fd >= 0) {
		watch_del(h, &s->ns_fetch);
		close(s->ns_fetch.fd);
	}
	free(s);
	h->dns = NULL;
}
