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
 * hook-resolve.c - the resolver entry points, for remote DNS.
 *
 * A name whose first matching rule is `tunnel` (or `deny`) is never
 * resolved locally: the helper hands out a synthetic address for it from
 * the configured pools, and the bastion resolves the name itself when the
 * connection is opened (the direct-tcpip request carries the name).  A
 * denied name gets a synthetic address too, so no query leaks and the
 * connect() fails with EACCES.  Every other name, and every address
 * literal, goes to libc untouched.
 *
 * All entry points agree because they share decide_name() and the
 * helper's table.  Results are allocated the way glibc allocates them
 * (one block per addrinfo node holding its sockaddr, a separate
 * ai_canonname), so either freeaddrinfo frees them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#define NAME_REFUSED	((const struct shim_session *)-1)

/*
 * Should name be resolved through the helper?  Returns the session to ask,
 * NULL for "resolve locally", or NAME_REFUSED for a denied name when there
 * is no helper to hand out an address (it must not resolve at all, since
 * the query itself would leave the machine).
 */
static const struct shim_session *
decide_name(const char *name, const char *service)
{
	const struct shim *st = shim_get();
	struct in6_addr a6;
	struct rules_match m;
	enum rules_action act;
	struct servent se, *sep = NULL;
	char buf[1024];
	uint16_t port = 0;
	char *end;
	long n;

	if (!st->active || name == NULL || *name == '\0' ||
	    inet_pton(AF_INET, name, &a6) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1)
		return NULL;
	if (service != NULL && *service != '\0') {
		n = strtol(service, &end, 10);
		if (*end == '\0' && n > 0 && n < 65536)
			port = (uint16_t)n;
		else if (getservbyname_r(service, "tcp", &se, buf, sizeof(buf),
		    &sep) == 0 && sep != NULL)
			port = ntohs((uint16_t)sep->s_port);
	}
	act = rules_match_name(st->rules, name, port, &m);
	if (act == RULES_DIRECT)
		return NULL;
	/* No DNS name is this long: refuse it rather than leak it. */
	if (strlen(name) >= PROTO_NAMELEN)
		return NAME_REFUSED;
	shim_log(2, "resolve %s: %s by %s:%d, remote", name,
	    rules_action_name(act), m.file ? m.file : "default", m.line);
	if (shim_session(NULL) == NULL)
		return NAME_REFUSED;
	return shim_session(NULL);
}

static int
lookup(const struct shim_session *s, const char *name, struct in_addr *v4,
    struct in6_addr *v6)
{
	int r;

	if ((r = names_resolve(s, name, v4, v6)) < 0) {
		shim_log(1, "resolve %s: helper: %s", name, strerror(-r));
		return -1;
	}
	return 0;
}

static struct addrinfo *
ai_node(int family, const void *addr, uint16_t port, int socktype,
    int protocol)
{
	struct addrinfo *ai;
	size_t salen = family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);

	if ((ai = calloc(1, sizeof(*ai) + salen)) == NULL)
		return NULL;
	ai->ai_family = family;
	ai->ai_socktype = socktype;
	ai->ai_protocol = protocol;
	ai->ai_addrlen = salen;
	ai->ai_addr = (struct sockaddr *)(ai + 1);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)ai->ai_addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (void *)ai->ai_addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
	}
	return ai;
}

SHIM_EXPORT void
freeaddrinfo(struct addrinfo *ai)
{
	struct addrinfo *next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai->ai_canonname);
		free(ai);
	}
}

/* Port of service for a synthetic answer, as getaddrinfo would give it. */
static int
service_port(const char *service, const struct addrinfo *hints,
    uint16_t *port)
{
	struct addrinfo h, *res;
	int r;

	*port = 0;
	if (service == NULL)
		return 0;
	memset(&h, 0, sizeof(h));
	h.ai_family = AF_INET;
	h.ai_socktype = hints ? hints->ai_socktype : 0;
	h.ai_protocol = hints ? hints->ai_protocol : 0;
	h.ai_flags = AI_NUMERICHOST | (hints ? hints->ai_flags &
	    AI_NUMERICSERV : 0);
	if ((r = shim_real.getaddrinfo("0.0.0.0", service, &h, &res)) != 0)
		return r;
	*port = ntohs(((struct sockaddr_in *)(void *)res->ai_addr)->sin_port);
	shim_real.freeaddrinfo(res);
	return 0;
}

SHIM_EXPORT int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	static const struct { int type, proto; } kinds[] = {
		{ SOCK_STREAM, IPPROTO_TCP },
		{ SOCK_DGRAM, IPPROTO_UDP },
		{ SOCK_RAW, 0 },
	};
	const struct shim_session *s;
	struct addrinfo *head = NULL, **tail = &head, *ai;
	struct in_addr v4;
	struct in6_addr v6;
	uint16_t port;
	int family, flags, i, r;
	size_t k;

	if (shim_get(), shim_real.getaddrinfo == NULL)
		return EAI_SYSTEM;
	flags = hints ? hints->ai_flags : 0;
	if ((flags & AI_NUMERICHOST) ||
	    (s = decide_name(node, service)) == NULL)
		return shim_real.getaddrinfo(node, service, hints, res);
	if (s == NAME_REFUSED)
		return EAI_NONAME;
	family = hints ? hints->ai_family : AF_UNSPEC;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return EAI_FAMILY;
	if ((r = service_port(service, hints, &port)) != 0)
		return r;
	if (lookup(s, node, &v4, &v6) == -1)
		return EAI_AGAIN;
	/*
	 * AF_UNSPEC gets both, IPv4 first: the family of a synthetic address
	 * means nothing at the bastion, and programs that filter the list by
	 * family (curl -6) must find theirs.  The IPv4 one connects at once,
	 * so happy-eyeballs clients never start the second attempt.
	 */
	for (i = 0; i < 2; i++) {
		int fam = i == 0 ? AF_INET : AF_INET6;

		if (family != AF_UNSPEC && family != fam)
			continue;
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			if (hints && hints->ai_socktype != 0 &&
			    hints->ai_socktype != kinds[k].type)
				continue;
			if (hints && hints->ai_protocol != 0 &&
			    hints->ai_protocol != kinds[k].proto)
				continue;
			ai = ai_node(fam, fam == AF_INET ? (void *)&v4 :
			    (void *)&v6, port, kinds[k].type,
			    hints && hints->ai_protocol ? hints->ai_protocol :
			    kinds[k].proto);
			if (ai == NULL) {
				freeaddrinfo(head);
				return EAI_MEMORY;
			}
			*tail = ai;
			tail = &ai->ai_next;
		}
	}
	if (head == NULL)
		return EAI_SOCKTYPE;
	if ((flags & AI_CANONNAME) &&
	    (head->ai_canonname = strdup(node)) == NULL) {
		freeaddrinfo(head);
		return EAI_MEMORY;
	}
	*res = head;
	return 0;
}

/*
 * Fill a hostent in buf: name, no aliases, one address.  Returns 0 or
 * ERANGE when buf is too small, like the _r functions.
 */
static int
fill_hostent(struct hostent *he, char *buf, size_t len, const char *name,
    int af, const void *addr)
{
	size_t alen = af == AF_INET ? 4 : 16, nlen = strlen(name) + 1;
	size_t need = 4 * sizeof(char *) + 16 + nlen;
	char **ptrs;
	char *p;

	/* Pointer arrays first, aligned; then the address; then the name. */
	p = (char *)(((uintptr_t)buf + sizeof(char *) - 1) &
	    ~(uintptr_t)(sizeof(char *) - 1));
	if (p + need > buf + len)
		return ERANGE;
	ptrs = (char **)(void *)p;
	p += 4 * sizeof(char *);
	memcpy(p, addr, alen);
	ptrs[0] = NULL;			/* aliases */
	ptrs[1] = p;			/* addr_list[0] */
	ptrs[2] = NULL;
	p += 16;
	memcpy(p, name, nlen);
	he->h_name = p;
	he->h_aliases = &ptrs[0];
	he->h_addrtype = af;
	he->h_length = (int)alen;
	he->h_addr_list = &ptrs[1];
	return 0;
}

/* Common body of the gethostbyname family for remote names. */
static int
remote_hostent(const struct shim_session *s, const char *name, int af,
    struct hostent *he, char *buf, size_t len, int *h_errnop)
{
	struct in_addr v4;
	struct in6_addr v6;
	int r;

	if (af != AF_INET && af != AF_INET6) {
		*h_errnop = NO_RECOVERY;
		return EAFNOSUPPORT;
	}
	if (lookup(s, name, &v4, &v6) == -1) {
		*h_errnop = TRY_AGAIN;
		return EAGAIN;
	}
	if ((r = fill_hostent(he, buf, len, name, af,
	    af == AF_INET ? (void *)&v4 : (void *)&v6)) != 0) {
		*h_errnop = NETDB_INTERNAL;
		return r;
	}
	return 0;
}

SHIM_EXPORT int
gethostbyname2_r(const char *name, int af, struct hostent *he, char *buf,
    size_t len, struct hostent **result, int *h_errnop)
{
	const struct shim_session *s;
	int r;

	if (shim_get(), shim_real.gethostbyname2_r == NULL)
		return ENOSYS;
	if ((s = decide_name(name, NULL)) == NULL)
		return shim_real.gethostbyname2_r(name, af, he, buf, len,
		    result, h_errnop);
	if (s == NAME_REFUSED) {
		*h_errnop = HOST_NOT_FOUND;
		*result = NULL;
		return ENOENT;
	}
	r = remote_hostent(s, name, af, he, buf, len, h_errnop);
	*result = r == 0 ? he : NULL;
	return r;
}

SHIM_EXPORT int
gethostbyname_r(const char *name, struct hostent *he, char *buf, size_t len,
    struct hostent **result, int *h_errnop)
{
	if (shim_get(), shim_real.gethostbyname_r == NULL)
		return ENOSYS;
	if (decide_name(name, NULL) == NULL)
		return shim_real.gethostbyname_r(name, he, buf, len, result,
		    h_errnop);
	return gethostbyname2_r(name, AF_INET, he, buf, len, result,
	    h_errnop);
}

/* The non-reentrant forms share one static result per thread. */
static __thread struct hostent tls_he;
static __thread char tls_buf[PROTO_NAMELEN + 64];

SHIM_EXPORT struct hostent *
gethostbyname2(const char *name, int af)
{
	const struct shim_session *s;
	struct hostent *res;

	if (shim_get(), shim_real.gethostbyname2 == NULL)
		return NULL;
	if ((s = decide_name(name, NULL)) == NULL)
		return shim_real.gethostbyname2(name, af);
	if (s == NAME_REFUSED) {
		h_errno = HOST_NOT_FOUND;
		return NULL;
	}
	if (remote_hostent(s, name, af, &tls_he, tls_buf, sizeof(tls_buf),
	    &h_errno) != 0)
		return NULL;
	res = &tls_he;
	return res;
}

SHIM_EXPORT struct hostent *
gethostbyname(const char *name)
{
	if (shim_get(), shim_real.gethostbyname == NULL)
		return NULL;
	if (decide_name(name, NULL) == NULL)
		return shim_real.gethostbyname(name);
	return gethostbyname2(name, AF_INET);
}

/* A gethostbyaddr argument as a sockaddr; nonzero if it is synthetic. */
static int
synthetic_addr(const void *addr, socklen_t len, int type,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (type == AF_INET && len == 4) {
		((struct sockaddr_in *)(void *)ss)->sin_family = AF_INET;
		memcpy(&((struct sockaddr_in *)(void *)ss)->sin_addr, addr, 4);
	} else if (type == AF_INET6 && len == 16) {
		((struct sockaddr_in6 *)(void *)ss)->sin6_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)(void *)ss)->sin6_addr, addr,
		    16);
	} else
		return 0;
	return shim_is_synthetic((struct sockaddr *)ss);
}

SHIM_EXPORT struct hostent *
gethostbyaddr(const void *addr, socklen_t len, int type)
{
	struct sockaddr_storage ss;
	char name[PROTO_NAMELEN];

	if (shim_get(), shim_real.gethostbyaddr == NULL)
		return NULL;
	if (addr == NULL || !synthetic_addr(addr, len, type, &ss) ||
	    shim_session(NULL) == NULL)
		return shim_real.gethostbyaddr(addr, len, type);
	if (names_reverse(shim_session(NULL), (struct sockaddr *)&ss, name,
	    sizeof(name)) == -1 ||
	    fill_hostent(&tls_he, tls_buf, sizeof(tls_buf), name, type,
	    addr) != 0) {
		h_errno = HOST_NOT_FOUND;
		return NULL;
	}
	return &tls_he;
}

SHIM_EXPORT int
gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *he,
    char *buf, size_t buflen, struct hostent **result, int *h_errnop)
{
	struct sockaddr_storage ss;
	char name[PROTO_NAMELEN];
	int r;

	if (shim_get(), shim_real.gethostbyaddr_r == NULL)
		return ENOSYS;
	if (addr == NULL || !synthetic_addr(addr, len, type, &ss) ||
	    shim_session(NULL) == NULL)
		return shim_real.gethostbyaddr_r(addr, len, type, he, buf,
		    buflen, result, h_errnop);
	*result = NULL;
	if (names_reverse(shim_session(NULL), (struct sockaddr *)&ss, name,
	    sizeof(name)) == -1) {
		*h_errnop = HOST_NOT_FOUND;
		return ENOENT;
	}
	if ((r = fill_hostent(he, buf, buflen, name, type, addr)) != 0) {
		*h_errnop = NETDB_INTERNAL;
		return r;
	}
	*result = he;
	return 0;
}

SHIM_EXPORT int
getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	char name[PROTO_NAMELEN];
	int r;

	if (shim_get(), shim_real.getnameinfo == NULL)
		return EAI_SYSTEM;
	if (sa == NULL || host == NULL || hostlen == 0 ||
	    (flags & NI_NUMERICHOST) || !shim_is_synthetic(sa) ||
	    shim_session(NULL) == NULL)
		return shim_real.getnameinfo(sa, salen, host, hostlen, serv,
		    servlen, flags);
	if (names_reverse(shim_session(NULL), sa, name, sizeof(name)) == -1) {
		if (flags & NI_NAMEREQD)
			return EAI_NONAME;
		return shim_real.getnameinfo(sa, salen, host, hostlen, serv,
		    servlen, flags);
	}
	/* The service part is libc's business. */
	if (serv != NULL && servlen > 0 &&
	    (r = shim_real.getnameinfo(sa, salen, NULL, 0, serv, servlen,
	    flags)) != 0)
		return r;
	if (strlen(name) >= hostlen)
		return EAI_OVERFLOW;
	strcpy(host, name);
	return 0;
}
