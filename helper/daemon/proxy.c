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
 * proxy.c - the -D endpoint: SOCKS5 and HTTP proxying on one port.
 *
 * For programs the shim cannot reach (static binaries, setuid ones) and
 * for -D: the client's first byte tells the protocol (5: SOCKS5, a letter:
 * HTTP).  SOCKS5 CONNECT with a name, IPv4 or IPv6 address; HTTP CONNECT
 * and absolute-URI requests (the request line is rewritten to origin form
 * and the connection closed after the response, since a next request may
 * name another host).  The destination is decided by the same rules the
 * shim uses: tunnel opens a channel (names resolved at the bastion), direct
 * connects from here, deny refuses.
 *
 * The handshake is read without blocking into a small buffer; a client that
 * sends too much or too little in time is dropped.  Direct destinations are
 * relayed between two local sockets with bounded buffers (struct splice).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>

#include "../rules/rules.h"
#include "helper.h"
#include "log.h"

#define HS_MAX		8192		/* handshake bytes we accept */
#define HS_TIMEOUT	30		/* seconds to finish it */
#define SPLICE_BUF	(64 * 1024)

enum proxy_proto { PROXY_SOCKS5 = 1, PROXY_HTTP_CONNECT, PROXY_HTTP_PLAIN };

struct handshake {
	struct watch	 w;
	struct fwd	*fwd;
	char		 buf[HS_MAX];
	size_t		 len;
	int		 greeted;	/* SOCKS5 method selection done */
	time_t		 deadline;
	TAILQ_ENTRY(handshake) entry;
};

/* One direction of a direct relay. */
struct half {
	char		 buf[SPLICE_BUF];
	size_t		 off, len;
	int		 eof;		/* read side saw EOF */
};

static void	hs_io(struct helper *, struct watch *, uint32_t);

#define SAY(fd, lit)	say((fd), (lit), sizeof(lit) - 1)

static void
hs_free(struct helper *h, struct handshake *hs, int close_fd)
{
	watch_del(h, &hs->w);
	if (close_fd && hs->w.fd >= 0)
		close(hs->w.fd);
	TAILQ_REMOVE(&h->handshakes, hs, entry);
	free(hs);
}

void
proxy_accept(struct helper *h, int fd, struct fwd *f)
{
	struct handshake *hs;

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		fatal("out of memory");
	hs->w.fd = fd;
	hs->w.fn = hs_io;
	hs->w.arg = hs;
	hs->fwd = f;
	hs->deadline = monotime() + HS_TIMEOUT;
	TAILQ_INSERT_TAIL(&h->handshakes, hs, entry);
	watch_set(h, &hs->w, EPOLLIN);
}

void
proxy_tick(struct helper *h)
{
	struct handshake *hs, *next;
	time_t now = monotime();

	for (hs = TAILQ_FIRST(&h->handshakes); hs != NULL; hs = next) {
		next = TAILQ_NEXT(hs, entry);
		if (now >= hs->deadline) {
			debug("proxy: handshake timed out");
			hs_free(h, hs, 1);
		}
	}
}

/* Small replies go out directly; a client that cannot take them is gone. */
static void
say(int fd, const void *buf, size_t len)
{
	if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		debug("proxy: short reply");
}

static int
socks_code(int err)
{
	switch (err) {
	case 0: return 0;
	case EACCES: return 2;		/* not allowed by ruleset */
	case ENETUNREACH: return 3;
	case EHOSTUNREACH: case ETIMEDOUT: return 4;
	case ECONNREFUSED: return 5;
	}
	return 1;
}

static void
socks_reply(int fd, int err)
{
	unsigned char r[10] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

	r[1] = (unsigned char)socks_code(err);
	say(fd, r, sizeof(r));
}

static void
http_reply(int fd, int err)
{
	char buf[160];
	const char *what;
	int code;

	switch (err) {
	case 0: code = 200; what = "Connection established"; break;
	case EACCES: code = 403; what = "Forbidden by tunnelwrap rules"; break;
	case ETIMEDOUT: code = 504; what = "Gateway Timeout"; break;
	default: code = 502; what = "Bad Gateway"; break;
	}
	snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n%s\r\n", code, what,
	    err ? "Content-Length: 0\r\nConnection: close\r\n" : "");
	say(fd, buf, strlen(buf));
}

/* relay.c calls these when the channel opens or fails. */
static void
on_opened(struct conn *c)
{
	if (c->proxy == PROXY_SOCKS5)
		socks_reply(c->local.fd, 0);
	else if (c->proxy == PROXY_HTTP_CONNECT)
		http_reply(c->local.fd, 0);
}

static void
on_failed(struct conn *c, int err)
{
	if (c->proxy == PROXY_SOCKS5)
		socks_reply(c->local.fd, err);
	else
		http_reply(c->local.fd, err);
}

static const struct accept_hooks proxy_hooks = { on_opened, on_failed };

/* --- direct destinations: a local splice ------------------------------- */

struct splice {
	struct watch	 a, b;		/* client, server */
	struct half	 ab, ba;	/* client->server, server->client */
	int		 proto;
	int		 connected;	/* b's connect finished */
};

static void
splice_free(struct helper *h, struct splice *sp)
{
	watch_del(h, &sp->a);
	watch_del(h, &sp->b);
	close(sp->a.fd);
	if (sp->b.fd >= 0)
		close(sp->b.fd);
	free(sp);
}

/* Move bytes from -> to through hf; returns -1 on a hard error. */
static int
pump_half(int from, int to, struct half *hf)
{
	ssize_t n;

	if (hf->len == 0 && !hf->eof) {
		n = read(from, hf->buf, sizeof(hf->buf));
		if (n == 0) {
			hf->eof = 1;
			shutdown(to, SHUT_WR);
		} else if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
		} else {
			hf->off = 0;
			hf->len = (size_t)n;
		}
	}
	if (hf->len > 0) {
		n = send(to, hf->buf + hf->off, hf->len, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
		} else {
			hf->off += (size_t)n;
			hf->len -= (size_t)n;
		}
	}
	return 0;
}

static void
splice_update(struct helper *h, struct splice *sp)
{
	uint32_t wa = 0, wb = 0;

	if (!sp->connected) {
		watch_set(h, &sp->b, EPOLLOUT);
		return;
	}
	if (sp->ab.len == 0 && !sp->ab.eof)
		wa |= EPOLLIN;
	if (sp->ab.len > 0)
		wb |= EPOLLOUT;
	if (sp->ba.len == 0 && !sp->ba.eof)
		wb |= EPOLLIN;
	if (sp->ba.len > 0)
		wa |= EPOLLOUT;
	watch_set(h, &sp->a, wa);
	watch_set(h, &sp->b, wb);
}

static void
splice_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct splice *sp = w->arg;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)events;
	if (!sp->connected) {
		if (getsockopt(sp->b.fd, SOL_SOCKET, SO_ERROR, &err, &len) ==
		    -1 || err != 0) {
			err = err ? err : ECONNREFUSED;
			if (sp->proto == PROXY_SOCKS5)
				socks_reply(sp->a.fd, err);
			else
				http_reply(sp->a.fd, err);
			splice_free(h, sp);
			return;
		}
		sp->connected = 1;
		if (sp->proto == PROXY_SOCKS5)
			socks_reply(sp->a.fd, 0);
		else if (sp->proto == PROXY_HTTP_CONNECT)
			http_reply(sp->a.fd, 0);
	}
	if (pump_half(sp->a.fd, sp->b.fd, &sp->ab) == -1 ||
	    pump_half(sp->b.fd, sp->a.fd, &sp->ba) == -1 ||
	    (sp->ab.eof && sp->ba.eof && sp->ab.len == 0 && sp->ba.len == 0)) {
		splice_free(h, sp);
		return;
	}
	splice_update(h, sp);
}

/* Connect from here; the reply is sent once the outcome is known. */
static void
go_direct(struct helper *h, int fd, int proto, const char *host,
    uint16_t port, const char *pre, size_t prelen)
{
	struct splice *sp;
	int s;

	if ((s = relay_dial(host, port)) == -1) {
		if (proto == PROXY_SOCKS5)
			socks_reply(fd, errno);
		else
			http_reply(fd, errno);
		close(fd);
		return;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		fatal("out of memory");
	sp->proto = proto;
	sp->a.fd = fd;
	sp->b.fd = s;
	sp->a.fn = sp->b.fn = splice_io;
	sp->a.arg = sp->b.arg = sp;
	if (prelen > sizeof(sp->ab.buf))
		prelen = sizeof(sp->ab.buf);	/* HS_MAX < SPLICE_BUF */
	memcpy(sp->ab.buf, pre, prelen);
	sp->ab.len = prelen;
	splice_update(h, sp);
}

/* --- the handshake ----------------------------------------------------- */

/* Decide and go: tunnel (a channel), direct (a splice) or deny. */
static void
dispatch(struct helper *h, struct handshake *hs, int proto, const char *host,
    uint16_t port, const char *pre, size_t prelen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (void *)&ss;
	struct sockaddr_in6 *sin6 = (void *)&ss;
	struct rules_match m;
	enum rules_action act = RULES_TUNNEL;
	int fd = hs->w.fd;

	memset(&ss, 0, sizeof(ss));
	memset(&m, 0, sizeof(m));
	if (hs->fwd->rules != NULL) {
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			act = rules_match_addr(hs->fwd->rules,
			    (struct sockaddr *)&ss, &m);
		} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			act = rules_match_addr(hs->fwd->rules,
			    (struct sockaddr *)&ss, &m);
		} else
			act = rules_match_name(hs->fwd->rules, host, port, &m);
	}
	verbose("proxy: %s:%u: %s by %s:%d", host, port,
	    rules_action_name(act), m.file ? m.file : "default", m.line);
	/* The fd lives on elsewhere; host and pre may point into hs. */
	watch_del(h, &hs->w);
	if (act == RULES_DENY) {
		if (proto == PROXY_SOCKS5)
			socks_reply(fd, EACCES);
		else
			http_reply(fd, EACCES);
		close(fd);
	} else if (act == RULES_DIRECT)
		go_direct(h, fd, proto, host, port, pre, prelen);
	else
		relay_accepted(h, fd, host, port, "-D", &proxy_hooks, proto,
		    pre, prelen);
	hs_free(h, hs, 0);
}

/* SOCKS5; returns 1 when dispatched or dropped, 0 to wait for more. */
static int
socks5(struct helper *h, struct handshake *hs)
{
	unsigned char *b = (unsigned char *)hs->buf;
	char host[PROTO_NAMELEN];
	size_t need, alen;
	uint16_t port;

	if (!hs->greeted) {
		if (hs->len < 2 || hs->len < 2u + b[1])
			return 0;
		if (memchr(b + 2, 0, b[1]) == NULL) {
			SAY(hs->w.fd, "\5\377");	/* no acceptable method */
			hs_free(h, hs, 1);
			return 1;
		}
		SAY(hs->w.fd, "\5\0");
		need = 2u + b[1];
		memmove(b, b + need, hs->len - need);
		hs->len -= need;
		hs->greeted = 1;
	}
	if (hs->len < 5)
		return 0;
	switch (b[3]) {
	case 1: alen = 4; need = 4 + 4 + 2; break;
	case 3: alen = b[4]; need = 5 + alen + 2; break;
	case 4: alen = 16; need = 4 + 16 + 2; break;
	default:
		socks_reply(hs->w.fd, EINVAL);
		hs_free(h, hs, 1);
		return 1;
	}
	if (hs->len < need)
		return 0;
	if (b[0] != 5 || b[1] != 1) {
		unsigned char r[10] = { 5, 7, 0, 1 };	/* command unsupported */

		say(hs->w.fd, r, sizeof(r));
		hs_free(h, hs, 1);
		return 1;
	}
	if (b[3] == 1)
		inet_ntop(AF_INET, b + 4, host, sizeof(host));
	else if (b[3] == 4)
		inet_ntop(AF_INET6, b + 4, host, sizeof(host));
	else {
		memcpy(host, b + 5, alen);
		host[alen] = '\0';
	}
	port = (uint16_t)(b[need - 2] << 8 | b[need - 1]);
	dispatch(h, hs, PROXY_SOCKS5, host, port, hs->buf + need,
	    hs->len - need);
	return 1;
}

/* Split "host:port" or "[v6]:port"; returns 0 or -1. */
static int
split_hostport(char *s, char **host, uint16_t *port, uint16_t defport)
{
	char *p, *end;
	long n;

	*port = defport;
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		*end = '\0';
		*host = s + 1;
		p = end[1] == ':' ? end + 2 : NULL;
	} else {
		*host = s;
		if ((p = strrchr(s, ':')) != NULL)
			*p++ = '\0';
	}
	if (p != NULL) {
		n = strtol(p, &end, 10);
		if (*p == '\0' || *end != '\0' || n < 1 || n > 65535)
			return -1;
		*port = (uint16_t)n;
	}
	return **host == '\0' ? -1 : 0;
}

/* HTTP CONNECT or absolute-URI; returns 1 when done, 0 to wait. */
static int
http(struct helper *h, struct handshake *hs)
{
	char *end, *line, *method, *target, *version, *host, *path, *save;
	char *hdrs, *out, *p;
	size_t hdrlen, outlen, rest;
	uint16_t port;

	if ((end = memmem(hs->buf, hs->len, "\r\n\r\n", 4)) == NULL) {
		if (hs->len == sizeof(hs->buf)) {
			SAY(hs->w.fd, "HTTP/1.1 431 Request Header Fields "
			    "Too Large\r\nConnection: close\r\n\r\n");
			hs_free(h, hs, 1);
			return 1;
		}
		return 0;
	}
	hdrlen = (size_t)(end - hs->buf) + 4;
	rest = hs->len - hdrlen;
	*end = '\0';
	line = hs->buf;
	if ((hdrs = strstr(line, "\r\n")) != NULL) {
		*hdrs = '\0';
		hdrs += 2;
	} else
		hdrs = end;
	method = strtok_r(line, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	if (method == NULL || target == NULL || version == NULL)
		goto bad;
	if (strcasecmp(method, "CONNECT") == 0) {
		if (split_hostport(target, &host, &port, 443) == -1)
			goto bad;
		dispatch(h, hs, PROXY_HTTP_CONNECT, host, port,
		    hs->buf + hdrlen, rest);
		return 1;
	}
	if (strncasecmp(target, "http://", 7) != 0)
		goto bad;
	host = target + 7;
	path = strchr(host, '/');
	{
		char hostbuf[PROTO_NAMELEN];
		size_t hlen = path ? (size_t)(path - host) : strlen(host);
		char *hp;

		if (hlen == 0 || hlen >= sizeof(hostbuf))
			goto bad;
		memcpy(hostbuf, host, hlen);
		hostbuf[hlen] = '\0';
		if (path == NULL)
			path = "/";
		if (split_hostport(hostbuf, &hp, &port, 80) == -1)
			goto bad;
		/* Origin-form request, hop-by-hop headers dropped, one shot. */
		outlen = strlen(method) + strlen(path) + strlen(version) +
		    strlen(hdrs) + 64 + rest;
		if ((out = malloc(outlen)) == NULL)
			fatal("out of memory");
		p = out + snprintf(out, outlen, "%s %s %s\r\n", method, path,
		    version);
		for (line = strtok_r(hdrs, "\r\n", &save); line != NULL;
		    line = strtok_r(NULL, "\r\n", &save)) {
			if (strncasecmp(line, "Proxy-Connection:", 17) == 0 ||
			    strncasecmp(line, "Connection:", 11) == 0 ||
			    strncasecmp(line, "Keep-Alive:", 11) == 0)
				continue;
			p += snprintf(p, outlen - (p - out), "%s\r\n", line);
		}
		p += snprintf(p, outlen - (p - out), "Connection: close\r\n\r\n");
		memcpy(p, end + 4, rest);
		p += rest;
		dispatch(h, hs, PROXY_HTTP_PLAIN, hp, port, out,
		    (size_t)(p - out));
		free(out);
	}
	return 1;
 bad:
	SAY(hs->w.fd, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
	hs_free(h, hs, 1);
	return 1;
}

static void
hs_io(struct helper *h, struct watch *w, uint32_t events)
{
	struct handshake *hs = w->arg;
	ssize_t n;

	(void)events;
	n = read(w->fd, hs->buf + hs->len, sizeof(hs->buf) - hs->len);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			hs_free(h, hs, 1);
		return;
	}
	hs->len += (size_t)n;
	if (hs->buf[0] == 5)
		socks5(h, hs);
	else if (isalpha((unsigned char)hs->buf[0]))
		http(h, hs);
	else {
		debug("proxy: unknown protocol (first byte %d)", hs->buf[0]);
		hs_free(h, hs, 1);
	}
}
