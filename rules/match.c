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
 * match.c - the pure half of the rules library: pattern syntax (host globs,
 * IPv4/IPv6 networks, ports) and matching.
 *
 * Nothing here allocates, blocks or touches global state, so the matchers
 * are safe in any thread of any program the shim is loaded into.  Case
 * folding is ASCII-only on purpose: tolower() follows the locale, and host
 * names are ASCII (IDNs reach us as punycode).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "rules-int.h"

static int
lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	c = lc(c);
	return is_digit(c) || (c >= 'a' && c <= 'z');
}

/*
 * Glob match of s[0..slen) against pat[0..plen): `*` is any run of
 * characters (dots and slashes included), `?` any one character; fold
 * makes it case-insensitive.  Iterative with a single backtrack point, so
 * no recursion and O(plen * slen) worst case.
 */
static int
glob_match(const char *pat, size_t plen, const char *s, size_t slen, int fold)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
	int pc, sc;

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			star = pi++;
			mark = si;
			continue;
		}
		if (pi < plen) {
			pc = (unsigned char)pat[pi];
			sc = (unsigned char)s[si];
			if (fold) {
				pc = lc(pc);
				sc = lc(sc);
			}
			if (pat[pi] == '?' || pc == sc) {
				pi++;
				si++;
				continue;
			}
		}
		if (star == SIZE_MAX)
			return 0;
		/* Let the last `*` eat one more character. */
		pi = star + 1;
		si = ++mark;
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* Host names: case-insensitive. */
int
rules_glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	return glob_match(pat, plen, s, slen, 1);
}

/* UNIX socket paths: case-sensitive, `*` crosses '/'. */
int
rules_path_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	return glob_match(pat, plen, s, slen, 0);
}

/* Does address a (4 or 16 bytes) lie in net/plen? */
int
rules_cidr_match(const uint8_t *net, unsigned int plen, const uint8_t *a)
{
	unsigned int full = plen / 8, rem = plen % 8;
	uint8_t mask;

	if (memcmp(net, a, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rem));
	return ((net[full] ^ a[full]) & mask) == 0;
}

/* Does port satisfy the pattern's range?  Port 0 (unknown) always does. */
int
rules_port_match(const struct rpattern *pt, uint16_t port)
{
	if (pt->portlo == 0 || port == 0)
		return 1;
	return port >= pt->portlo && port <= pt->porthi;
}

/* Parse decimal digits s[0..n) into 1..65535; -1 if not exactly that. */
static long
parse_portnum(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return (v >= 1 && v <= 65535) ? v : -1;
}

/* PORT or LOW-HIGH with LOW <= HIGH (a single PORT gives lo == hi). */
int
rules_ports_parse(const char *s, size_t n, uint16_t *plo, uint16_t *phi)
{
	const char *dash = memchr(s, '-', n);
	long lo, hi;

	if (dash == NULL) {
		if ((lo = parse_portnum(s, n)) == -1)
			return -1;
		hi = lo;
	} else {
		lo = parse_portnum(s, (size_t)(dash - s));
		hi = parse_portnum(dash + 1, n - (size_t)(dash - s) - 1);
		if (lo == -1 || hi == -1 || lo > hi)
			return -1;
	}
	*plo = (uint16_t)lo;
	*phi = (uint16_t)hi;
	return 0;
}

/*
 * Parse an address with an optional "/PREFIX" from s[0..len): the family
 * is IPv6 if it has a ':'.  Without a prefix the network is the single
 * address.  Bits set past the prefix are refused: "10.0.0.1/8" is more
 * likely a typo than a network.  Returns 0, or -1 with *why set.
 */
int
rules_net_parse(const char *s, size_t len, uint8_t addr[16], int *family,
    int *plen, const char **why)
{
	char buf[64];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len, n, i;
	int fam, max, v;

	fam = memchr(s, ':', alen) ? AF_INET6 : AF_INET;
	max = fam == AF_INET ? 32 : 128;
	memset(addr, 0, 16);
	if (alen >= sizeof(buf)) {
		*why = fam == AF_INET ? "bad IPv4 address" : "bad IPv6 address";
		return -1;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(fam, buf, addr) != 1) {
		*why = fam == AF_INET ? "bad IPv4 address" : "bad IPv6 address";
		return -1;
	}
	v = max;
	if (slash != NULL) {
		n = len - alen - 1;
		if (n == 0) {
			*why = "missing prefix length";
			return -1;
		}
		for (i = 0, v = 0; i < n; i++) {
			if (!is_digit((unsigned char)slash[1 + i])) {
				*why = "bad prefix length";
				return -1;
			}
			if (v <= max)
				v = v * 10 + (slash[1 + i] - '0');
		}
		if (v > max) {
			*why = "prefix length out of range";
			return -1;
		}
	}
	for (i = (size_t)v; i < (size_t)max; i++) {
		if (addr[i / 8] & (0x80 >> (i % 8))) {
			*why = "host bits set beyond prefix length";
			return -1;
		}
	}
	*family = fam;
	*plen = v;
	return 0;
}

static int
name_char_ok(int c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '*' ||
	    c == '?';
}

/* Fill pt from a network; a v4-mapped IPv6 network becomes IPv4. */
static int
pat_net(const char *s, size_t len, struct rpattern *pt, struct pat_err *e)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	int fam, plen;

	if (rules_net_parse(s, len, pt->addr, &fam, &plen, &e->why) == -1)
		return -1;
	if (fam == AF_INET6 && plen >= 96 &&
	    memcmp(pt->addr, mapped, sizeof(mapped)) == 0) {
		memmove(pt->addr, pt->addr + 12, 4);
		memset(pt->addr + 4, 0, 12);
		fam = AF_INET;
		plen -= 96;
	}
	pt->kind = fam == AF_INET ? PAT_V4 : PAT_V6;
	pt->plen = (uint8_t)plen;
	return 0;
}

/* Looks like a dotted-quad attempt ("10.1.2", "10.0.0.0") or a network. */
static int
looks_v4(const char *s, size_t n)
{
	size_t i;

	if (memchr(s, '/', n) != NULL)
		return 1;
	if (n == 0 || !is_digit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]) && s[i] != '.')
			return 0;
	return 1;
}

/*
 * unix:PATH (path points past "unix:"): an absolute path glob without
 * control characters, short enough to match some sun_path.
 */
static int
pat_unix(const char *path, struct rpattern *pt, struct pat_err *e)
{
	size_t i, n = 0;

	if (path[0] != '/') {
		e->why = "path must be absolute";
		return -1;
	}
	for (i = 0; path[i] != '\0'; i++) {
		if ((unsigned char)path[i] < ' ' || path[i] == 0x7f) {
			e->why = "invalid character in path";
			return -1;
		}
		n += path[i] != '*';
	}
	if (n > RULES_MAX_UNIX_PATH) {
		e->why = "path too long";
		return -1;
	}
	pt->kind = PAT_UNIX;
	pt->glob = path;
	pt->globlen = i;
	return 0;
}

/*
 * Parse one PATTERN (see rules.h).  pt points into text afterwards.
 * Returns 0, or -1 with e->why (bad pattern) or e->port (bad port) set.
 */
int
rules_pat_parse(const char *text, struct rpattern *pt, struct pat_err *e)
{
	size_t len = strlen(text), hostlen, i, pl, ncolon = 0, portlen = 0;
	const char *host = text, *port = NULL, *end, *rest;
	char net[80];

	memset(pt, 0, sizeof(*pt));
	memset(e, 0, sizeof(*e));
	pt->text = text;
	if (len == 0) {
		e->why = "empty pattern";
		return -1;
	}
	/* "unix:22" is still the host "unix" on port 22. */
	if (len >= 5 && lc((unsigned char)text[0]) == 'u' &&
	    lc((unsigned char)text[1]) == 'n' &&
	    lc((unsigned char)text[2]) == 'i' &&
	    lc((unsigned char)text[3]) == 'x' && text[4] == ':' &&
	    !is_digit((unsigned char)text[5]))
		return pat_unix(text + 5, pt, e);
	for (i = 0; i < len; i++)
		ncolon += text[i] == ':';

	if (text[0] == '[') {
		/* [ADDR], [ADDR]/PREFIX, each optionally with :PORT. */
		if ((end = memchr(text, ']', len)) == NULL) {
			e->why = "missing ']'";
			return -1;
		}
		host = text + 1;
		hostlen = (size_t)(end - host);
		if (memchr(host, ':', hostlen) == NULL) {
			e->why = "expected an IPv6 address in brackets";
			return -1;
		}
		rest = end + 1;
		pl = strcspn(rest, ":");
		if (rest[0] != '\0' && rest[0] != ':' && rest[0] != '/') {
			e->why = "unexpected text after ']'";
			return -1;
		}
		if (hostlen + pl >= sizeof(net)) {
			e->why = "bad IPv6 address";
			return -1;
		}
		memcpy(net, host, hostlen);
		memcpy(net + hostlen, rest, pl);
		if (pat_net(net, hostlen + pl, pt, e) == -1)
			return -1;
		if (rest[pl] == ':') {
			port = rest + pl + 1;
			portlen = strlen(port);
		}
	} else if (ncolon >= 2) {
		/* Unbracketed IPv6 cannot carry a port. */
		if (pat_net(text, len, pt, e) == -1)
			return -1;
	} else {
		hostlen = len;
		if (ncolon == 1) {
			end = memchr(text, ':', len);
			hostlen = (size_t)(end - text);
			port = end + 1;
			portlen = len - hostlen - 1;
		}
		if (hostlen == 0) {
			e->why = "empty host";
			return -1;
		}
		if (hostlen == 1 && host[0] == '*')
			pt->kind = PAT_ANY;
		else if (looks_v4(host, hostlen)) {
			if (pat_net(host, hostlen, pt, e) == -1)
				return -1;
		} else {
			for (i = 0; i < hostlen; i++) {
				if (!name_char_ok((unsigned char)host[i])) {
					e->why = "invalid character in host "
					    "name";
					return -1;
				}
			}
			pt->kind = PAT_NAME;
			pt->glob = host;
			pt->globlen = hostlen;
			if (host[hostlen - 1] == '.')
				pt->globlen--;
			if (pt->globlen == 0) {
				e->why = "empty host";
				return -1;
			}
		}
	}
	if (port != NULL &&
	    rules_ports_parse(port, portlen, &pt->portlo, &pt->porthi) == -1) {
		e->port = port;
		e->portlen = portlen;
		e->range = memchr(port, '-', portlen) != NULL;
		return -1;
	}
	return 0;
}

/* Session names end up in messages, env vars and socket paths: keep tame. */
int
rules_session_name_ok(const char *s)
{
	if (*s == '\0' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_alnum((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return 0;
	return 1;
}

/*
 * A destination becomes an ssh argument: a leading '-' would be an option
 * (think -oProxyCommand=...), and blanks, quotes or control characters
 * have no business in [user@]host[:port].
 */
int
rules_dest_ok(const char *s)
{
	if (*s == '\0' || *s == '-' || *s == '#')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '"')
			return 0;
	return 1;
}

/*
 * publish ... on ADDRESS: handed to the bastion in a tcpip-forward
 * request, so only loosely checked: a word of printable bytes.
 */
int
rules_address_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= ' ' || s[n] == 0x7f)
			return 0;
	return n >= 1 && n <= RULES_MAX_ADDRESS;
}

static enum rules_action
decide(const struct rules *r, const struct rrule *ru,
    const struct rpattern *pt, struct rules_match *m)
{
	enum rules_action a = ru ? ru->action :
	    (r->hasdefault ? r->defaction : RULES_DIRECT);

	if (m == NULL)
		return a;
	m->action = a;
	m->session = NULL;
	if (a == RULES_TUNNEL) {
		if (ru != NULL && ru->via != NULL)
			m->session = ru->via;
		else if (r->nsess > 0)
			m->session = r->sess[0].pub.name;
	}
	m->file = ru ? ru->file : (r->hasdefault ? r->deffile : NULL);
	m->line = ru ? ru->line : (r->hasdefault ? r->defline : 0);
	m->pattern = pt ? pt->text : NULL;
	return a;
}

/* Decide a destination given by host name; see rules.h. */
enum rules_action
rules_match_name(const struct rules *r, const char *name, uint16_t port,
    struct rules_match *m)
{
	const struct rpattern *pt;
	size_t i, j, nlen;

	if (name == NULL)
		name = "";
	nlen = strlen(name);
	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	for (i = 0; i < r->nrule; i++) {
		for (j = 0; j < r->rule[i].npats; j++) {
			pt = &r->rule[i].pats[j];
			if (pt->kind != PAT_ANY && pt->kind != PAT_NAME)
				continue;
			if (!rules_port_match(pt, port))
				continue;
			/*
			 * Port unknown (a portless lookup): a rule that
			 * sends only some ports direct cannot say the name
			 * goes direct on every port.  Passing over it, the
			 * name gets a synthetic address when any port is
			 * tunneled or denied, and the connect, which knows
			 * the port, decides (resolving it here then, where
			 * its port goes direct).
			 */
			if (port == 0 && pt->portlo != 0 &&
			    r->rule[i].action == RULES_DIRECT)
				continue;
			if (pt->kind == PAT_NAME && !rules_glob_match(pt->glob,
			    pt->globlen, name, nlen))
				continue;
			return decide(r, &r->rule[i], pt, m);
		}
	}
	return decide(r, NULL, NULL, m);
}

/* Decide a destination given by address; see rules.h. */
enum rules_action
rules_match_addr(const struct rules *r, const struct sockaddr *sa,
    struct rules_match *m)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const struct rpattern *pt;
	uint8_t a[16];
	uint16_t port;
	int kind;
	size_t i, j;

	if (sa != NULL && sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(a, &sin->sin_addr, 4);
		port = ntohs(sin->sin_port);
		kind = PAT_V4;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(a, sin6->sin6_addr.s6_addr + 12, 4);
			kind = PAT_V4;
		} else {
			memcpy(a, sin6->sin6_addr.s6_addr, 16);
			kind = PAT_V6;
		}
	} else {
		/* Not an internet socket: nothing to tunnel. */
		if (m != NULL) {
			memset(m, 0, sizeof(*m));
			m->action = RULES_DIRECT;
		}
		return RULES_DIRECT;
	}
	for (i = 0; i < r->nrule; i++) {
		for (j = 0; j < r->rule[i].npats; j++) {
			pt = &r->rule[i].pats[j];
			if (pt->kind != PAT_ANY && pt->kind != kind)
				continue;
			if (!rules_port_match(pt, port))
				continue;
			if (pt->kind != PAT_ANY &&
			    !rules_cidr_match(pt->addr, pt->plen, a))
				continue;
			return decide(r, &r->rule[i], pt, m);
		}
	}
	return decide(r, NULL, NULL, m);
}

/* Decide a connect() to an AF_UNIX path; see rules.h. */
enum rules_action
rules_match_unix(const struct rules *r, const char *path,
    struct rules_match *m)
{
	const struct rpattern *pt;
	size_t i, j, plen;

	if (path != NULL && r->hasunix) {
		plen = strlen(path);
		for (i = 0; i < r->nrule; i++) {
			for (j = 0; j < r->rule[i].npats; j++) {
				pt = &r->rule[i].pats[j];
				if (pt->kind == PAT_UNIX && rules_path_match(
				    pt->glob, pt->globlen, path, plen))
					return decide(r, &r->rule[i], pt, m);
			}
		}
	}
	/* Not `default`: a UNIX socket goes direct unless a rule says so. */
	if (m != NULL) {
		memset(m, 0, sizeof(*m));
		m->action = RULES_DIRECT;
	}
	return RULES_DIRECT;
}

/* Does some rule have a unix: pattern? */
int
rules_have_unix(const struct rules *r)
{
	return r->hasunix;
}

/* The first publish line for a local listening port; see rules.h. */
int
rules_match_publish(const struct rules *r, uint16_t local_port,
    struct rules_publish *p)
{
	const struct rpub *pb;
	size_t i;

	if (p != NULL)
		memset(p, 0, sizeof(*p));
	if (local_port == 0)
		return 0;
	for (i = 0; i < r->npub; i++) {
		pb = &r->pub[i];
		if (pb->portlo != 0 &&
		    (local_port < pb->portlo || local_port > pb->porthi))
			continue;
		if (p == NULL)
			return 1;
		p->remote_port = pb->remote;
		p->address = pb->address ? pb->address : "localhost";
		if (pb->via != NULL)
			p->session = pb->via;
		else if (r->nsess > 0)
			p->session = r->sess[0].pub.name;
		p->file = pb->file;
		p->line = pb->line;
		return 1;
	}
	return 0;
}

/* Are there publish lines at all? */
int
rules_have_publish(const struct rules *r)
{
	return r->npub > 0;
}
