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
 * synth.h - is an address one of the synthetic (remote-DNS) pools?
 *
 * Shared by the shim (connect and send hooks) and the launcher's seccomp
 * supervisor, which decide the same way.  Pure functions: no allocation,
 * no state.
 */
#ifndef TW_SYNTH_H
#define TW_SYNTH_H

#include <netinet/in.h>
#include <sys/socket.h>

struct synth_pools {
	struct in_addr	 v4;
	int		 v4len;
	struct in6_addr	 v6;
	int		 v6len;
};

/*
 * An IPv4-mapped IPv6 address (what dual-stack programs like Java use) as
 * plain IPv4, in buf; any other address unchanged.  Returns sa or buf.
 */
const struct sockaddr *synth_unmap(const struct sockaddr *sa,
	    struct sockaddr_in *buf);

/* Nonzero if sa (mapped ones too) lies in one of the pools. */
int	synth_contains(const struct synth_pools *, const struct sockaddr *sa);

/*
 * Nonzero if ss is a loopback address: 127/8, ::1 or a v4-mapped 127/8.
 * (The helper's owner-only proxy and the shim's getpeername both ask.)
 */
int	addr_is_loopback(const struct sockaddr_storage *ss);

#endif
