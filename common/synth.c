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
 * synth.c - membership of the synthetic address pools, and the loopback
 * test the helper and the shim share.
 */
#include <arpa/inet.h>
#include <string.h>

#include "synth.h"

static int
in_prefix(const uint8_t *addr, const uint8_t *net, int len)
{
	int full = len / 8, rest = len % 8;

	if (memcmp(addr, net, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((addr[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}

const struct sockaddr *
synth_unmap(const struct sockaddr *sa, struct sockaddr_in *buf)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa->sa_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return sa;
	memset(buf, 0, sizeof(*buf));
	buf->sin_family = AF_INET;
	buf->sin_port = sin6->sin6_port;
	memcpy(&buf->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	return (const struct sockaddr *)buf;
}

int
synth_contains(const struct synth_pools *p, const struct sockaddr *sa)
{
	struct sockaddr_in v4;

	sa = synth_unmap(sa, &v4);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		return in_prefix((const uint8_t *)&sin->sin_addr,
		    (const uint8_t *)&p->v4, p->v4len);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		return in_prefix((const uint8_t *)&sin6->sin6_addr,
		    (const uint8_t *)&p->v6, p->v6len);
	}
	return 0;
}

int
addr_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
	    sin6->sin6_addr.s6_addr[12] == 127);
}
