/*
 * hook-dns.c - DNS a program asks for itself, beside getaddrinfo & co.
 *
 * A name the rules tunnel or deny must never reach a DNS server from
 * here, whichever entry point asked:
 *  - the res_* API (res_query, res_search, res_querydomain, res_send,
 *    their res_n* forms and glibc's __res_* aliases): glibc sends these
 *    through internal socket calls no hook sees, so the entry points
 *    themselves decide, by the query's name;
 *  - getaddrinfo_a: glibc's worker threads call its internal getaddrinfo,
 *    not ours, so remote names are answered here, at once;
 *  - raw port-53 traffic (dig, host, c-ares, Python): shim_dns_send()
 *    below, called by every send hook (send, sendto, sendmsg, sendmmsg,
 *    write, writev) with the datagram about to leave.
 * A remote name's query is refused (-1, h_errno HOST_NOT_FOUND for the
 * res_* API, EACCES for a socket) rather than sent.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

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

	if (shim_dns_qname(buf, len, name, sizeof(name)) == -1 ||
	    !shim_dns_remote(name))
		return 0;
	shim_log(1, "DNS query for %s refused: the rules resolve it remotely",
	    name);
	return 1;
}

static uint16_t
port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

int
shim_dns_send(int fd, const struct sockaddr *to, socklen_t tolen,
    const void *buf, size_t len)
{
	if (!shim_get()->active)
		return 0;
	if (to == NULL) {
		if (!shim_dns_fd(fd))
			return 0;
	} else if (tolen < sizeof(sa_family_t) || port_of(to) != 53)
		return 0;
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
	    shim_dns_send(fd, NULL, 0, buf, len) == -1)
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
	    shim_dns_send(fd, NULL, 0, iov[0].iov_base, iov[0].iov_len) == -1)
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

/*
 * A DNS message about a remote name, answered without the network into
 * answer.  Returns the answer's length, or -1 with h_errno set, as
 * res_send does.
 */
static int
remote_send(res_state statp, const char *name, const unsigned char *msg,
    int msglen, unsigned char *answer, int anslen)
{
	(void)msg;
	(void)msglen;
	(void)answer;
	(void)anslen;
	shim_log(1, "DNS query for %s refused: the rules resolve it remotely",
	    name);
	statp->res_h_errno = HOST_NOT_FOUND;
	h_errno = HOST_NOT_FOUND;
	return -1;
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
	return remote_send(statp, name, msg, n, answer, anslen);
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
#define ALIAS(name, target) \
	SHIM_EXPORT __typeof__(target) name \
	    __attribute__((alias(#target), copy(target)))
ALIAS(__res_nquery, res_nquery);
ALIAS(__res_nsearch, res_nsearch);
ALIAS(__res_nquerydomain, res_nquerydomain);
ALIAS(__res_nsend, res_nsend);
ALIAS(__res_query, res_query);
ALIAS(__res_search, res_search);
ALIAS(__res_querydomain, res_querydomain);
ALIAS(__res_send, res_send);

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
