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
 * hook-dns.c - DNS a program asks for itself, beside getaddrinfo & co.
 *
 * A name the rules tunnel or deny must never reach a DNS server from
 * here, whichever entry point asked; and the answer should be the one the
 * rules give.  Both come from the helper's DNS responder
 * (helper/daemon/dns.c), one per rules text on 127.0.0.1, which answers
 * tunneled names with their synthetic addresses (and other records from
 * the intranet's resolver, through the bastion), refuses denied ones, and
 * forwards the rest to the system's resolver.  Here:
 *  - the res_* API (res_query, res_search, res_querydomain, res_send,
 *    their res_n* forms and glibc's __res_* aliases): glibc sends these
 *    through internal socket calls no hook sees, so the entry points
 *    decide by the query's name; remote names are asked of the responder
 *    (UDP, then TCP if truncated), the rest of libc;
 *  - getaddrinfo_a: glibc's worker threads call its internal getaddrinfo,
 *    not ours, so remote names are answered here, at once;
 *  - raw port-53 traffic (dig, host, nslookup, c-ares, Python): a UDP or
 *    TCP socket connecting, or a datagram sent, to one of the system's
 *    nameservers (/etc/resolv.conf) goes to the responder instead
 *    (shim_dns_connect, shim_dns_send; getpeername still names the
 *    nameserver).  To any other server on port 53, a query about a
 *    remote name is refused with EACCES (shim_dns_send, which every send
 *    hook calls: send, sendto, sendmsg, sendmmsg, write, writev).
 * Without a helper (or a responder), remote names are refused, never
 * sent: -1 with h_errno TRY_AGAIN for the res_* API, EACCES for a socket.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "../common/resolvconf.h"

/* A query's name, as text: 0, or -1 for what is no query (shim.h). */
int
shim_dns_qname(const unsigned char *buf, size_t len, char *name, size_t nlen)
{
	size_t off = 12, out = 0, l;

	if (buf == NULL || len < 17 || (buf[2] & 0x80) != 0 || buf[4] != 0 ||
	    buf[5] == 0)
		return -1;			/* not a query, or no question */
	while (off < len && (l = buf[off]) != 0) {
		if (l > 63 || off + 1 + l > len || out + l + 2 > nlen)
			return -1;
		if (out > 0)
			name[out++] = '.';
		memcpy(name + out, buf + off + 1, l);
		out += l;
		off += 1 + l;
	}
	if (off >= len || out == 0)
		return -1;
	name[out] = '\0';
	return 0;
}

/* Tunneled or denied by the rules (shim.h); a name too long counts. */
int
shim_dns_remote(const char *name)
{
	const struct shim *st = shim_get();
	size_t n;

	if (!st->active || name == NULL || *name == '\0')
		return 0;
	/* No DNS name is this long: count it as remote rather than leak it. */
	if ((n = strlen(name)) >= PROTO_NAMELEN)
		return 1;
	return rules_match_name(st->rules, name, 0, NULL) != RULES_DIRECT;
}

/* Nonzero if a DNS message in buf asks about a name we must not leak. */
static int
dns_leak(const void *buf, size_t len)
{
	char name[PROTO_NAMELEN];

	/* A datagram, or a TCP message after its two-byte length. */
	if ((shim_dns_qname(buf, len, name, sizeof(name)) == -1 &&
	    (buf == NULL || len < 2 || shim_dns_qname((const unsigned char *)
	    buf + 2, len - 2, name, sizeof(name)) == -1)) ||
	    !shim_dns_remote(name))
		return 0;
	shim_log(1, "DNS query for %s refused: the rules resolve it remotely",
	    name);
	return 1;
}

/* --- the responder, and the system's nameservers ------------------------ */

#define RESP_TTL	5	/* seconds the responder's port is trusted */

static struct resolvconf sys_ns;
static pthread_once_t ns_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t resp_lock = PTHREAD_MUTEX_INITIALIZER;
static int resp_port;
static time_t resp_stamp;

/* The nameservers of /etc/resolv.conf, as glibc reads them. */
static void
load_sys_ns(void)
{
	resolvconf_load(&sys_ns, "/etc/resolv.conf", 0);
}

/* Nonzero if sa (port aside) is one of the system's nameservers. */
static int
system_ns(const struct sockaddr *sa)
{
	pthread_once(&ns_once, load_sys_ns);
	return resolvconf_has(&sys_ns, sa);
}

static time_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * The port of the default session's responder for our rules (the helper
 * makes it on the first request); 0 when there is none to be had.
 */
static int
responder_port(void)
{
	int port = 0;
	time_t now = mono();

	pthread_mutex_lock(&resp_lock);
	if (resp_port > 0 && now - resp_stamp < RESP_TTL)
		port = resp_port;
	pthread_mutex_unlock(&resp_lock);
	if (port > 0 || !shim_get()->active)
		return port;
	if ((port = ipc_forward_port(PROTO_FWD_DNS, "DNS responder")) < 0) {
		shim_log(1, "no DNS responder from the helper");
		return 0;
	}
	pthread_mutex_lock(&resp_lock);
	resp_port = port;
	resp_stamp = now;
	pthread_mutex_unlock(&resp_lock);
	return port;
}

/* The responder's address in the family of fd's socket (v4-mapped). */
static int
responder_addr(int family, struct sockaddr_storage *alt, socklen_t *altlen)
{
	int port = responder_port();

	if (port == 0)
		return -1;
	memset(alt, 0, sizeof(*alt));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)alt;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
		sin6->sin6_addr.s6_addr[12] = 127;
		sin6->sin6_addr.s6_addr[15] = 1;
		*altlen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (void *)alt;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*altlen = sizeof(*sin);
	}
	return 0;
}

static int
sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return ss.ss_family;
}

/* 1: connect fd to *alt (the responder) instead; 0: as asked (shim.h). */
int
shim_dns_connect(int fd, const struct sockaddr *sa, socklen_t salen,
    struct sockaddr_storage *alt, socklen_t *altlen)
{
	int type;
	socklen_t tlen = sizeof(type);

	if (!shim_get()->active || sa == NULL ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    shim_port(sa) != 53 ||
	    shim_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1 ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM))
		return 0;
	if (system_ns(sa) &&
	    responder_addr(sa->sa_family, alt, altlen) == 0) {
		shim_log(2, "DNS socket: to the helper's responder");
		/* getpeername still names the nameserver it asked for. */
		fdtab_set(fd, sa, salen, 0, shim_session(NULL));
		return 1;
	}
	shim_dns_mark(fd);	/* its queries are checked (shim_dns_send) */
	return 0;
}

/* 0: send as asked; 1: to *alt instead; -1, EACCES: refused (shim.h). */
int
shim_dns_send(int fd, const struct sockaddr *to, socklen_t tolen,
    const void *buf, size_t len, struct sockaddr_storage *alt,
    socklen_t *altlen)
{
	int family;

	if (!shim_get()->active)
		return 0;
	if (to == NULL) {
		if (!shim_dns_fd(fd))
			return 0;
	} else if (tolen < sizeof(sa_family_t) || (to->sa_family != AF_INET &&
	    to->sa_family != AF_INET6) || shim_port(to) != 53)
		return 0;
	if (to != NULL && alt != NULL && system_ns(to) &&
	    (family = sock_family(fd)) != -1 &&
	    responder_addr(family, alt, altlen) == 0)
		return 1;
	if (dns_leak(buf, len)) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

/* --- write() and writev() on a resolver socket ------------------------- */

SHIM_EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	if (__builtin_expect(shim_dns_any, 0) && shim_real.write != NULL &&
	    shim_dns_send(fd, NULL, 0, buf, len, NULL, NULL) == -1)
		return -1;
	if (shim_real.write == NULL) {
		shim_get();
		if (shim_real.write == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	return shim_real.write(fd, buf, len);
}

SHIM_EXPORT ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	if (__builtin_expect(shim_dns_any, 0) && shim_real.writev != NULL &&
	    iov != NULL && n > 0 &&
	    shim_dns_send(fd, NULL, 0, iov[0].iov_base, iov[0].iov_len, NULL,
	    NULL) == -1)
		return -1;
	if (shim_real.writev == NULL) {
		shim_get();
		if (shim_real.writev == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	return shim_real.writev(fd, iov, n);
}

/* --- the res_* API ----------------------------------------------------- */

/* One exchange with the responder: UDP, or TCP (framed). */
static int
ask_responder(int tcp, const unsigned char *msg, int msglen,
    unsigned char *answer, int anslen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct pollfd pfd;
	unsigned char hdr[2];
	int fd, n = -1, got = 0, want = -1, r;
	time_t deadline = mono() + 5;

	if (responder_addr(AF_INET, &ss, &sslen) == -1)
		return -1;
	if ((fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (shim_real.connect(fd, (struct sockaddr *)&ss, sslen) == -1)
		goto out;
	hdr[0] = (unsigned char)(msglen >> 8);
	hdr[1] = (unsigned char)msglen;
	if ((tcp && shim_real.sendto(fd, hdr, 2, MSG_NOSIGNAL, NULL, 0) != 2) ||
	    shim_real.sendto(fd, msg, (size_t)msglen, MSG_NOSIGNAL, NULL,
	    0) != msglen)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if ((r = poll(&pfd, 1, 1000)) == -1 && errno != EINTR)
			goto out;
		if (r <= 0) {
			if (mono() >= deadline)
				goto out;
			continue;
		}
		if (!tcp) {
			n = (int)recv(fd, answer, (size_t)anslen, 0);
			/* Another query's late answer: not ours. */
			if (n >= 2 && memcmp(answer, msg, 2) != 0)
				continue;
			goto out;
		}
		if (want < 0) {
			if (recv(fd, hdr, 2, MSG_WAITALL) != 2)
				goto out;
			want = hdr[0] << 8 | hdr[1];
			continue;
		}
		if ((r = (int)recv(fd, answer + got, (size_t)((want < anslen ?
		    want : anslen) - got), 0)) <= 0)
			goto out;
		if ((got += r) >= (want < anslen ? want : anslen)) {
			n = got;
			goto out;
		}
	}
 out:
	close(fd);
	return n;
}

/*
 * A DNS message about a remote name, answered by the helper's responder
 * into answer.  Returns the answer's length, or -1 with h_errno set, as
 * res_send does (whatever the answer's rcode).
 */
static int
remote_send(res_state statp, const char *name, const unsigned char *msg,
    int msglen, unsigned char *answer, int anslen)
{
	int n;

	shim_log(2, "DNS query for %s: to the helper's responder", name);
	if ((n = ask_responder(0, msg, msglen, answer, anslen)) >= 4 &&
	    (answer[2] & 0x02))		/* truncated: again by TCP */
		n = ask_responder(1, msg, msglen, answer, anslen);
	if (n < 12) {
		shim_log(1, "DNS query for %s: no answer from the helper's "
		    "responder", name);
		statp->res_h_errno = TRY_AGAIN;
		h_errno = TRY_AGAIN;
		return -1;
	}
	return n;
}

/* A question about a remote name: made here, then remote_send. */
static int
remote_query(res_state statp, const char *name, int class, int type,
    unsigned char *answer, int anslen)
{
	unsigned char msg[PACKETSZ + 16];
	int n;

	if ((n = res_nmkquery(statp, QUERY, name, class, type, NULL, 0, NULL,
	    msg, sizeof(msg))) < 0) {
		statp->res_h_errno = NO_RECOVERY;
		h_errno = NO_RECOVERY;
		return -1;
	}
	if ((n = remote_send(statp, name, msg, n, answer, anslen)) < 0)
		return -1;
	/* As res_nquery: an error rcode or no answer is -1 and h_errno. */
	switch (answer[3] & 0xf) {
	case 0:
		if (answer[6] != 0 || answer[7] != 0)
			return n;
		statp->res_h_errno = NO_DATA;
		break;
	case 3:
		statp->res_h_errno = HOST_NOT_FOUND;
		break;
	case 2:
		statp->res_h_errno = TRY_AGAIN;
		break;
	default:
		statp->res_h_errno = NO_RECOVERY;
		break;
	}
	h_errno = statp->res_h_errno;
	return -1;
}

/* The name a search would try after appending domain, in buf. */
static const char *
joined(char *buf, size_t len, const char *name, const char *domain)
{
	size_t n = strlen(name);

	if (domain == NULL)
		return name;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if ((size_t)snprintf(buf, len, "%.*s.%s", (int)n, name, domain) >= len)
		return NULL;
	return buf;
}

/* Nonzero if name, or any name a search from it would try, is remote. */
static int
search_remote(res_state statp, const char *name)
{
	char buf[PROTO_NAMELEN + 256];
	const char *cand;
	int i;

	if (shim_dns_remote(name))
		return 1;
	if (name[0] != '\0' && name[strlen(name) - 1] == '.')
		return 0;
	for (i = 0; i < MAXDNSRCH && statp->dnsrch[i] != NULL; i++)
		if ((cand = joined(buf, sizeof(buf), name,
		    statp->dnsrch[i])) == NULL || shim_dns_remote(cand))
			return 1;
	return 0;
}

static int
dots(const char *name)
{
	int n = 0;

	for (; *name != '\0'; name++)
		n += *name == '.';
	return n;
}

/* One name of a search: remote ones here, the others to libc. */
static int
query_one(res_state statp, const char *name, int class, int type,
    unsigned char *answer, int anslen)
{
	if (shim_dns_remote(name))
		return remote_query(statp, name, class, type, answer, anslen);
	return shim_real.res_nquery(statp, name, class, type, answer, anslen);
}

/*
 * res_nsearch for a name some candidate of which is remote: the search
 * list walked here (as resolv/res_query.c does: the name as given first
 * when it has ndots dots, then each domain, then the name), each candidate
 * decided on its own.  The first answer wins.
 */
static int
own_search(res_state statp, const char *name, int class, int type,
    unsigned char *answer, int anslen)
{
	char buf[PROTO_NAMELEN + 256];
	const char *cand;
	int i, r, tried_as_is = 0;

	if (dots(name) >= (int)statp->ndots ||
	    (name[0] != '\0' && name[strlen(name) - 1] == '.')) {
		tried_as_is = 1;
		if ((r = query_one(statp, name, class, type, answer,
		    anslen)) >= 0 || name[strlen(name) - 1] == '.')
			return r;
	}
	for (i = 0; i < MAXDNSRCH && statp->dnsrch[i] != NULL; i++) {
		if ((cand = joined(buf, sizeof(buf), name,
		    statp->dnsrch[i])) == NULL)
			continue;
		if ((r = query_one(statp, cand, class, type, answer,
		    anslen)) >= 0)
			return r;
	}
	if (!tried_as_is)
		return query_one(statp, name, class, type, answer, anslen);
	return -1;
}

static int
init_state(res_state statp)
{
	if (statp->options & RES_INIT)
		return 0;
	if (res_ninit(statp) == -1) {
		h_errno = NETDB_INTERNAL;
		return -1;
	}
	return 0;
}

SHIM_EXPORT int
res_nquery(res_state statp, const char *name, int class, int type,
    unsigned char *answer, int anslen)
{
	if (shim_get(), shim_real.res_nquery == NULL) {
		h_errno = NETDB_INTERNAL;
		return -1;
	}
	if (statp == NULL || name == NULL || !shim_dns_remote(name))
		return shim_real.res_nquery(statp, name, class, type, answer,
		    anslen);
	return remote_query(statp, name, class, type, answer, anslen);
}

SHIM_EXPORT int
res_nsearch(res_state statp, const char *name, int class, int type,
    unsigned char *answer, int anslen)
{
	if (shim_get(), shim_real.res_nsearch == NULL) {
		h_errno = NETDB_INTERNAL;
		return -1;
	}
	if (statp == NULL || name == NULL || !shim_get()->active ||
	    init_state(statp) == -1 || !search_remote(statp, name))
		return shim_real.res_nsearch(statp, name, class, type, answer,
		    anslen);
	return own_search(statp, name, class, type, answer, anslen);
}

SHIM_EXPORT int
res_nquerydomain(res_state statp, const char *name, const char *domain,
    int class, int type, unsigned char *answer, int anslen)
{
	char buf[PROTO_NAMELEN + 256];
	const char *full;

	if (shim_get(), shim_real.res_nquerydomain == NULL) {
		h_errno = NETDB_INTERNAL;
		return -1;
	}
	if (statp == NULL || name == NULL || ((full = joined(buf, sizeof(buf),
	    name, domain)) != NULL && !shim_dns_remote(full)))
		return shim_real.res_nquerydomain(statp, name, domain, class,
		    type, answer, anslen);
	return remote_query(statp, full ? full : name, class, type, answer,
	    anslen);
}

SHIM_EXPORT int
res_nsend(res_state statp, const unsigned char *msg, int msglen,
    unsigned char *answer, int anslen)
{
	char name[PROTO_NAMELEN];

	if (shim_get(), shim_real.res_nsend == NULL) {
		h_errno = NETDB_INTERNAL;
		return -1;
	}
	if (statp == NULL || msg == NULL || msglen < 0 ||
	    shim_dns_qname(msg, (size_t)msglen, name, sizeof(name)) == -1 ||
	    !shim_dns_remote(name))
		return shim_real.res_nsend(statp, msg, msglen, answer, anslen);
	return remote_send(statp, name, msg, msglen, answer, anslen);
}

/* The forms on the thread's _res: initialised first, as glibc does. */
SHIM_EXPORT int
res_query(const char *name, int class, int type, unsigned char *answer,
    int anslen)
{
	if (init_state(&_res) == -1)
		return -1;
	return res_nquery(&_res, name, class, type, answer, anslen);
}

SHIM_EXPORT int
res_search(const char *name, int class, int type, unsigned char *answer,
    int anslen)
{
	if (init_state(&_res) == -1)
		return -1;
	return res_nsearch(&_res, name, class, type, answer, anslen);
}

SHIM_EXPORT int
res_querydomain(const char *name, const char *domain, int class, int type,
    unsigned char *answer, int anslen)
{
	if (init_state(&_res) == -1)
		return -1;
	return res_nquerydomain(&_res, name, domain, class, type, answer,
	    anslen);
}

SHIM_EXPORT int
res_send(const unsigned char *msg, int msglen, unsigned char *answer,
    int anslen)
{
	if (init_state(&_res) == -1)
		return -1;
	return res_nsend(&_res, msg, msglen, answer, anslen);
}

/*
 * Programs linked before glibc 2.34 call these names (libresolv's), which
 * glibc keeps as aliases of the same code.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* glibc's prototypes carry nothrow and leaf; an alias need not. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-attributes"
#endif
#define ALIAS(name, target) \
	SHIM_EXPORT __typeof__(target) name __attribute__((alias(#target)))
ALIAS(__res_nquery, res_nquery);
ALIAS(__res_nsearch, res_nsearch);
ALIAS(__res_nquerydomain, res_nquerydomain);
ALIAS(__res_nsend, res_nsend);
ALIAS(__res_query, res_query);
ALIAS(__res_search, res_search);
ALIAS(__res_querydomain, res_querydomain);
ALIAS(__res_send, res_send);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* --- getaddrinfo_a ----------------------------------------------------- */

static void *
notify_thread(void *arg)
{
	struct sigevent *sev = arg;

	sev->sigev_notify_function(sev->sigev_value);
	free(sev);
	return NULL;
}

/* Tell the program its (all answered here) requests are done. */
static void
notify(const struct sigevent *sev)
{
	pthread_attr_t attr, *ap = NULL;
	struct sigevent *copy;
	pthread_t t;

	if (sev == NULL)
		return;
	if (sev->sigev_notify == SIGEV_SIGNAL) {
		sigqueue(getpid(), sev->sigev_signo, sev->sigev_value);
		return;
	}
	if (sev->sigev_notify != SIGEV_THREAD ||
	    sev->sigev_notify_function == NULL ||
	    (copy = malloc(sizeof(*copy))) == NULL)
		return;
	*copy = *sev;
	if (sev->sigev_notify_attributes == NULL &&
	    pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ap = &attr;
	} else
		ap = sev->sigev_notify_attributes;
	/* The program asked for this thread: glibc would start it too. */
	if (pthread_create(&t, ap, notify_thread, copy) != 0)
		free(copy);
	else if (ap != &attr)
		pthread_detach(t);
	if (ap == &attr)
		pthread_attr_destroy(&attr);
}

/*
 * Remote names are answered here, synchronously (getaddrinfo() of ours: a
 * helper round trip), the others go to glibc in one list.  gai_error()
 * reads the answer from the request; gai_suspend() and gai_cancel() find
 * no such request in glibc's list and say it is done.
 */
SHIM_EXPORT int
getaddrinfo_a(int mode, struct gaicb *list[], int n, struct sigevent *sev)
{
	struct gaicb **rest;
	int i, nrest = 0, r;

	if (shim_get(), shim_real.getaddrinfo_a == NULL)
		return EAI_SYSTEM;
	if (!shim_get()->active || list == NULL || n <= 0)
		return shim_real.getaddrinfo_a(mode, list, n, sev);
	for (i = 0; i < n; i++)
		if (list[i] != NULL && shim_dns_remote(list[i]->ar_name))
			break;
	if (i == n)
		return shim_real.getaddrinfo_a(mode, list, n, sev);
	if ((rest = calloc(n, sizeof(*rest))) == NULL)
		return EAI_MEMORY;
	for (i = 0; i < n; i++) {
		if (list[i] == NULL)
			continue;
		if (!shim_dns_remote(list[i]->ar_name)) {
			rest[nrest++] = list[i];
			continue;
		}
		list[i]->ar_result = NULL;
		list[i]->__return = getaddrinfo(list[i]->ar_name,
		    list[i]->ar_service, list[i]->ar_request,
		    &list[i]->ar_result);
	}
	if (nrest > 0)
		r = shim_real.getaddrinfo_a(mode, rest, nrest, sev);
	else {
		r = 0;
		if (mode == GAI_NOWAIT)
			notify(sev);
	}
	free(rest);
	return r;
}
