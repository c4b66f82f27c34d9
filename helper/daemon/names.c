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
 * names.c - the remote-DNS table: host names <-> synthetic addresses.
 *
 * Slot i of the table owns address i+1 of the IPv4 pool and of the IPv6
 * pool (host part 0 is skipped), so a name has one address per family and
 * both map back to it.  The table is shared by every process of the user
 * through this helper.  When the pool is full the least recently used slot
 * that no live connection holds is given to the new name; a slot in use is
 * never reassigned, so an address never changes meaning under a
 * connection.  Lookups are linear: pools are small and lookups rare next
 * to data transfer (a hash index is the obvious next step if that changes).
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "helper.h"
#include "log.h"

#define NAMES_MAX	65534		/* cap whatever the pool size */

static int
parse_cidr(const char *s, int family, void *net, int *len)
{
	char buf[64], *slash;
	long n;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash++ = '\0';
	n = strtol(slash, NULL, 10);
	if (inet_pton(family, buf, net) != 1 || n < 1 ||
	    n > (family == AF_INET ? 30 : 120))
		return -1;
	*len = (int)n;
	return 0;
}

int
names_init(struct names *t, const char *pool4, const char *pool6)
{
	size_t size4, size6;

	memset(t, 0, sizeof(*t));
	if (parse_cidr(pool4, AF_INET, &t->net4, &t->len4) == -1 ||
	    parse_cidr(pool6, AF_INET6, &t->net6, &t->len6) == -1)
		return -1;
	size4 = ((size_t)1 << (32 - t->len4)) - 2;	/* no .0, no broadcast */
	size6 = 128 - t->len6 >= 20 ? NAMES_MAX : ((size_t)1 <<
	    (128 - t->len6)) - 1;
	t->cap = size4 < size6 ? size4 : size6;
	if (t->cap > NAMES_MAX)
		t->cap = NAMES_MAX;
	return 0;
}

static void
slot_addrs(const struct names *t, size_t i, struct in_addr *v4,
    struct in6_addr *v6)
{
	uint32_t host = (uint32_t)i + 1, base;
	int b;

	base = ntohl(t->net4.s_addr) & (0xffffffffu << (32 - t->len4));
	v4->s_addr = htonl(base + host);
	*v6 = t->net6;
	for (b = 0; b < 4; b++)
		v6->s6_addr[15 - b] |= (host >> (8 * b)) & 0xff;
}

int
names_assign(struct names *t, const char *name, struct in_addr *v4,
    struct in6_addr *v6)
{
	struct name_slot *grown, *victim = NULL;
	size_t i;

	if (*name == '\0' || strlen(name) >= PROTO_NAMELEN)
		return EINVAL;
	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i].name != NULL &&
		    strcasecmp(t->slots[i].name, name) == 0) {
			t->slots[i].used = monotime();
			slot_addrs(t, i, v4, v6);
			return 0;
		}
	}
	if (t->nslots < t->cap) {
		grown = realloc(t->slots, (t->nslots + 1) * sizeof(*t->slots));
		if (grown == NULL)
			return ENOMEM;
		t->slots = grown;
		victim = &t->slots[t->nslots++];
		memset(victim, 0, sizeof(*victim));
	} else {
		for (i = 0; i < t->nslots; i++)
			if (t->slots[i].refs == 0 && (victim == NULL ||
			    t->slots[i].used < victim->used))
				victim = &t->slots[i];
		if (victim == NULL) {
			error("synthetic pool exhausted: %zu names all in use",
			    t->nslots);
			return ENOSPC;
		}
		verbose("synthetic pool full: %s replaces %s", name,
		    victim->name);
		free(victim->name);
	}
	if ((victim->name = strdup(name)) == NULL)
		return ENOMEM;
	victim->used = monotime();
	victim->refs = 0;
	slot_addrs(t, (size_t)(victim - t->slots), v4, v6);
	return 0;
}

const char *
names_lookup(struct names *t, const struct proto_addr *a)
{
	struct in_addr v4;
	struct in6_addr v6;
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i].name == NULL)
			continue;
		slot_addrs(t, i, &v4, &v6);
		if ((a->family == AF_INET && memcmp(a->addr, &v4, 4) == 0) ||
		    (a->family == AF_INET6 && memcmp(a->addr, &v6, 16) == 0)) {
			t->slots[i].used = monotime();
			return t->slots[i].name;
		}
	}
	return NULL;
}

/* Nonzero if a is in one of the pools (held by a name or not). */
int
names_in_pool(const struct names *t, const struct proto_addr *a)
{
	int full, rest;
	const uint8_t *net;

	if (a->family == AF_INET) {
		net = (const uint8_t *)&t->net4;
		full = t->len4 / 8;
		rest = t->len4 % 8;
	} else if (a->family == AF_INET6) {
		net = (const uint8_t *)&t->net6;
		full = t->len6 / 8;
		rest = t->len6 % 8;
	} else
		return 0;
	if (memcmp(a->addr, net, full) != 0)
		return 0;
	return rest == 0 ||
	    ((a->addr[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}

void
names_ref(struct names *t, const char *name, int delta)
{
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i].name != NULL &&
		    strcasecmp(t->slots[i].name, name) == 0) {
			if (delta < 0 && t->slots[i].refs == 0)
				return;
			t->slots[i].refs += delta;
			t->slots[i].used = monotime();
			return;
		}
	}
}

void
names_free(struct names *t)
{
	size_t i;

	for (i = 0; i < t->nslots; i++)
		free(t->slots[i].name);
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}
