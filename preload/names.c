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
 * names.c - the shim's view of the remote-DNS name table.
 *
 * The table itself lives in the helper, shared by every process of the
 * user, so an address handed out in one process means the same name in
 * another.  This is a small per-process cache in front of it: a program
 * that resolves a name and connects to it pays one helper round trip, not
 * two.  Entries never go stale while the helper lives: it never reassigns
 * an address that a cached name holds (its LRU only recycles idle ones,
 * and a recycled address is looked up afresh once the cache entry ages
 * out).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "shim.h"

#define NAMES_CACHE	64
#define NAMES_TTL	30	/* seconds a cached mapping is trusted */

struct name_ent {
	char		name[PROTO_NAMELEN];
	struct in_addr	v4;
	struct in6_addr	v6;
	time_t		stamp;
};

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct name_ent names_cache[NAMES_CACHE];
static unsigned names_next;

static time_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1;		/* never 0: 0 marks a free slot */
}

static void
cache_put(const char *name, const struct in_addr *v4,
    const struct in6_addr *v6)
{
	struct name_ent *e;

	pthread_mutex_lock(&names_lock);
	e = &names_cache[names_next++ % NAMES_CACHE];
	strncpy(e->name, name, sizeof(e->name) - 1);
	e->name[sizeof(e->name) - 1] = '\0';
	e->v4 = *v4;
	e->v6 = *v6;
	e->stamp = now();
	pthread_mutex_unlock(&names_lock);
}

int
names_resolve(const struct shim_session *s, const char *name,
    struct in_addr *v4, struct in6_addr *v6)
{
	struct proto_name req;
	struct proto_names rep;
	time_t t = now();
	int i, status, r;

	if (strlen(name) >= sizeof(req.name))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&names_lock);
	for (i = 0; i < NAMES_CACHE; i++) {
		if (names_cache[i].stamp != 0 &&
		    t - names_cache[i].stamp < NAMES_TTL &&
		    strcasecmp(names_cache[i].name, name) == 0) {
			*v4 = names_cache[i].v4;
			*v6 = names_cache[i].v6;
			pthread_mutex_unlock(&names_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&names_lock);
	memset(&req, 0, sizeof(req));
	strcpy(req.name, name);
	if ((r = ipc_call(s, PROTO_RESOLVE, &req, sizeof(req), -1, &rep,
	    sizeof(rep), &status, 0)) < 0)
		return r;
	if (status != 0)
		return -status;
	*v4 = rep.v4;
	*v6 = rep.v6;
	cache_put(name, v4, v6);
	return 0;
}

int
names_reverse(const struct shim_session *s, const struct sockaddr *sa,
    char *name, size_t len)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	struct proto_addr req;
	struct proto_name rep;
	struct sockaddr_in v4buf;
	time_t t = now();
	int i, status, hit = 0;

	sa = shim_unmap(sa, &v4buf);
	sin = (const void *)sa;
	sin6 = (const void *)sa;
	pthread_mutex_lock(&names_lock);
	for (i = 0; i < NAMES_CACHE && !hit; i++) {
		struct name_ent *e = &names_cache[i];

		if (e->stamp == 0 || t - e->stamp >= NAMES_TTL)
			continue;
		if ((sa->sa_family == AF_INET &&
		    e->v4.s_addr == sin->sin_addr.s_addr) ||
		    (sa->sa_family == AF_INET6 &&
		    memcmp(&e->v6, &sin6->sin6_addr, 16) == 0)) {
			strncpy(name, e->name, len - 1);
			name[len - 1] = '\0';
			hit = 1;
		}
	}
	pthread_mutex_unlock(&names_lock);
	if (hit)
		return 0;
	proto_addr_from_sockaddr(&req, sa);
	if (ipc_call(s, PROTO_REVERSE, &req, sizeof(req), -1, &rep,
	    sizeof(rep), &status, 0) < 0 || status != 0)
		return -1;
	rep.name[sizeof(rep.name) - 1] = '\0';
	if (strlen(rep.name) >= len)
		return -1;
	strcpy(name, rep.name);
	return 0;
}

void
names_lock_all(void)
{
	pthread_mutex_lock(&names_lock);
}

void
names_unlock_all(void)
{
	pthread_mutex_unlock(&names_lock);
}
