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
 * fuzz_dns.c - libFuzzer target for the DNS responder's message code
 * (helper/daemon/dns-msg.c, as the helper links it).
 *
 *   make fuzz-build             # $(B)/fuzz/fuzz_dns (clang, ASan+UBSan)
 *   build/fuzz/fuzz_dns -dict=fuzz/fuzz-dns.dict DIR fuzz/corpus-dns
 *
 * The input is one client message, as a UDP datagram or a TCP frame's
 * payload.  dns_parse_query() is the only reader of client bytes; what it
 * accepts is then answered the ways dns.c answers (records, an rcode, a
 * truncation, a PTR's name), and, when the name is a reverse one, its
 * address read.  Checked besides ASan/UBSan:
 *  - parse returns -1 (nothing to answer), 0, or FORMERR/NOTIMP;
 *  - an accepted name is text with no empty label, under 256 bytes, and
 *    written back to wire form it is exactly the question's bytes (so the
 *    rules decide the name the client asked about, not a lookalike);
 *  - every answer we build starts with the query's ID, has QR set, echoes
 *    the question byte for byte, and reads back as a response that
 *    dns_parse_query() refuses (QR set): we never answer with a query;
 *  - a reverse name's address, written back as a reverse name, is the
 *    same name (case aside).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../helper/daemon/dns-msg.h"

#define ASSERT(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "fuzz_dns: assertion failed: %s "	\
		    "(%s:%d)\n", #x, __FILE__, __LINE__);		\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_answer(const uint8_t *msg, const struct dns_query *q,
    const unsigned char *out, size_t n)
{
	struct dns_query back;

	ASSERT(n >= q->qend);
	ASSERT(memcmp(out, msg, 2) == 0);
	ASSERT(out[2] & 0x80);
	ASSERT(memcmp(out + DNS_HDRLEN, msg + DNS_HDRLEN,
	    q->qend - DNS_HDRLEN) == 0);
	ASSERT(dns_parse_query(out, n, &back) == -1);
}

static void
check_reverse(const char *name)
{
	char back[DNS_NAMELEN];
	uint8_t addr[16], again[16];
	int fam, i, off;

	if ((fam = dns_reverse_addr(name, addr)) == 0)
		return;
	ASSERT(fam == AF_INET || fam == AF_INET6);
	if (fam == AF_INET) {
		snprintf(back, sizeof(back), "%u.%u.%u.%u.in-addr.arpa",
		    addr[3], addr[2], addr[1], addr[0]);
		/* Leading zeros ("01") read as the same octet: compare the
		   addresses, not the text. */
		ASSERT(dns_reverse_addr(back, again) == AF_INET &&
		    memcmp(addr, again, 4) == 0);
		return;
	}
	for (i = 15, off = 0; i >= 0; i--)
		off += snprintf(back + off, sizeof(back) - off, "%x.%x.",
		    addr[i] & 0xf, addr[i] >> 4);
	snprintf(back + off, sizeof(back) - off, "ip6.arpa");
	ASSERT(strcasecmp(back, name) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char v4[4] = { 203, 0, 113, 7 };
	const unsigned char *rd[2];
	unsigned char wire[DNS_NAMELEN + 2], out[1024], small[600];
	unsigned char hdr[DNS_HDRLEN];
	struct dns_query q;
	size_t rl[2], n, w, len;
	int r;

	if (size > DNS_MAXMSG)
		return 0;
	r = dns_parse_query(data, size, &q);
	ASSERT(r == -1 || r == 0 || r == DNS_R_FORMERR || r == DNS_R_NOTIMP);
	if (r > 0) {
		dns_error_header(q.id, q.flags, r, hdr);
		ASSERT(memcmp(hdr, data, 2) == 0 && (hdr[3] & 0xf) == r);
		return 0;
	}
	if (r == -1)
		return 0;
	len = strlen(q.name);
	ASSERT(len < DNS_NAMELEN && q.qend <= size);
	ASSERT(len == 0 || (q.name[0] != '.' && q.name[len - 1] != '.' &&
	    strstr(q.name, "..") == NULL));
	w = dns_name_wire(q.name, wire, sizeof(wire));
	ASSERT(w == q.qend - 4 - DNS_HDRLEN);
	ASSERT(memcmp(wire, data + DNS_HDRLEN, w) == 0);

	/* As dns.c answers: records, an rcode, a name, a truncation. */
	rd[0] = v4;
	rl[0] = sizeof(v4);
	rd[1] = wire;
	rl[1] = w;
	n = dns_answer(data, &q, DNS_R_NOERROR, 60, rd, rl, 2, out,
	    sizeof(out));
	if (n > 0)
		check_answer(data, &q, out, n);
	n = dns_answer(data, &q, DNS_R_REFUSED, 60, NULL, NULL, 0, out,
	    sizeof(out));
	ASSERT(n == q.qend);
	check_answer(data, &q, out, n);
	ASSERT((out[3] & 0xf) == DNS_R_REFUSED);
	n = dns_truncate(data, &q, data, size, small, sizeof(small));
	if (n > 0) {
		check_answer(data, &q, small, n);
		ASSERT(small[2] & 0x02);
	}
	check_reverse(q.name);
	return 0;
}
