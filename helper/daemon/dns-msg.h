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
 * dns-msg.h - DNS messages for the helper's responder (dns.c): the one
 * parser of untrusted DNS bytes, and the builders of what we answer.
 * Pure functions: no I/O, no allocation, no helper state (so that
 * fuzz/fuzz_dns.c runs them alone).
 */
#ifndef TW_DNS_MSG_H
#define TW_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define DNS_HDRLEN	12
#define DNS_MAXMSG	65535		/* over TCP; UDP is less */
#define DNS_NAMELEN	256		/* text form, NUL included */

#define DNS_T_A		1
#define DNS_T_PTR	12
#define DNS_T_AAAA	28
#define DNS_C_IN	1

#define DNS_R_NOERROR	0
#define DNS_R_FORMERR	1
#define DNS_R_SERVFAIL	2
#define DNS_R_NXDOMAIN	3
#define DNS_R_NOTIMP	4
#define DNS_R_REFUSED	5

/* A query as dns_parse_query() read it. */
struct dns_query {
	uint16_t	id;
	uint16_t	flags;		/* as sent: RD, CD, ... */
	char		name[DNS_NAMELEN];	/* "a.b.c", no trailing dot;
						   "" for the root */
	uint16_t	qtype, qclass;
	size_t		qend;		/* offset past the question */
	int		edns;		/* an additional record (OPT) came */
};

/*
 * Read a query: a header with QR 0, opcode QUERY and exactly one question
 * whose name is uncompressed labels of letters, digits, '-', '_' (and any
 * byte but '.', '\\', NUL, blanks and control characters).  Returns 0 and
 * fills *q; -1 when msg is too short to have an ID (nothing to answer);
 * otherwise the rcode to answer with (FORMERR, NOTIMP), q->id set.
 */
int	dns_parse_query(const unsigned char *msg, size_t len,
	    struct dns_query *q);

/*
 * An answer to the query msg (whose parse is q) into out (outmax bytes):
 * the question echoed, then nrr records of type q->qtype, class IN, TTL
 * ttl, each with the rdata rdata[i] of rdlen[i] bytes.  rcode as given.
 * Returns the length, or 0 when out is too small.
 */
size_t	dns_answer(const unsigned char *msg, const struct dns_query *q,
	    int rcode, uint32_t ttl, const unsigned char *const *rdata,
	    const size_t *rdlen, int nrr, unsigned char *out, size_t outmax);

/*
 * A header-only answer (no question) with rcode, for a message we could
 * not read past its ID.  out holds DNS_HDRLEN bytes.
 */
void	dns_error_header(uint16_t id, uint16_t flags, int rcode,
	    unsigned char *out);

/*
 * A name in wire form (labels, then a 0) into out; returns its length or
 * 0 when it does not fit or a label is empty or longer than 63.
 */
size_t	dns_name_wire(const char *name, unsigned char *out, size_t outmax);

/*
 * The address of a reverse name (d.c.b.a.in-addr.arpa, or 32 nibbles
 * under ip6.arpa), case-insensitively.  Returns AF_INET or AF_INET6 and
 * fills addr (4 or 16 bytes), or 0 for any other name.
 */
int	dns_reverse_addr(const char *name, uint8_t addr[16]);

/*
 * What a UDP client gets instead of an answer too big for it: our answer
 * to the query msg (parsed as q) with no records, the flags and rcode of
 * the real answer ans (alen bytes), and TC set, so it asks again by TCP.
 * Returns the length, or 0 when ans has no flags or out is too small.
 */
size_t	dns_truncate(const unsigned char *msg, const struct dns_query *q,
	    const unsigned char *ans, size_t alen, unsigned char *out,
	    size_t outmax);

#endif
