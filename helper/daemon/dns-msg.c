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
 * dns-msg.c - reading DNS queries and writing our answers (see dns-msg.h).
 *
 * dns_parse_query() is the only code that reads a client's DNS bytes.  It
 * accepts the plain form every stub resolver sends (one question,
 * uncompressed name) and refuses the rest with an rcode, never guessing:
 * a name it could not read exactly must not be decided by the rules.
 * Upstream answers are passed on unread, but for their ID.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "dns-msg.h"

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static int
label_byte_ok(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '.' && c != '\\';
}

/* The one reader of a client's bytes: 0, -1 or an rcode (dns-msg.h). */
int
dns_parse_query(const unsigned char *msg, size_t len, struct dns_query *q)
{
	size_t off = DNS_HDRLEN, out = 0, l, i;

	memset(q, 0, sizeof(*q));
	if (msg == NULL || len < 2)
		return -1;
	q->id = get16(msg);
	if (len < DNS_HDRLEN)
		return DNS_R_FORMERR;
	q->flags = get16(msg + 2);
	if (q->flags & 0x8000)			/* a response, not a query */
		return -1;
	if (((q->flags >> 11) & 0xf) != 0)	/* opcode other than QUERY */
		return DNS_R_NOTIMP;
	if (get16(msg + 4) != 1)
		return DNS_R_FORMERR;
	q->edns = get16(msg + 10) > 0;
	for (;;) {
		if (off >= len)
			return DNS_R_FORMERR;
		if ((l = msg[off++]) == 0)
			break;
		/* A name is at most 255 bytes on the wire (RFC 1035 2.3.4),
		 * its final zero included. */
		if (l > 63 || off + l > len || out + l + 2 > DNS_NAMELEN ||
		    off + l + 1 - DNS_HDRLEN > 255)
			return DNS_R_FORMERR;	/* compressed, or too long */
		for (i = 0; i < l; i++)
			if (!label_byte_ok(msg[off + i]))
				return DNS_R_FORMERR;
		if (out > 0)
			q->name[out++] = '.';
		memcpy(q->name + out, msg + off, l);
		out += l;
		off += l;
	}
	q->name[out] = '\0';
	if (off + 4 > len)
		return DNS_R_FORMERR;
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	q->qend = off + 4;
	return 0;
}

/* A bare header with rcode, for a message unread past its ID. */
void
dns_error_header(uint16_t id, uint16_t flags, int rcode, unsigned char *out)
{
	memset(out, 0, DNS_HDRLEN);
	put16(out, id);
	/* QR, the opcode and RD as asked, RA: we recurse. */
	put16(out + 2, 0x8000 | (flags & 0x7900) | 0x0080 | (rcode & 0xf));
}

/* Our answer to q: its length, or 0 when out is too small. */
size_t
dns_answer(const unsigned char *msg, const struct dns_query *q, int rcode,
    uint32_t ttl, const unsigned char *const *rdata, const size_t *rdlen,
    int nrr, unsigned char *out, size_t outmax)
{
	size_t pos, qlen = q->qend - DNS_HDRLEN;
	int i;

	if (outmax < q->qend)
		return 0;
	dns_error_header(q->id, q->flags, rcode, out);
	put16(out + 4, 1);
	put16(out + 6, (uint16_t)nrr);
	memcpy(out + DNS_HDRLEN, msg + DNS_HDRLEN, qlen);
	pos = q->qend;
	for (i = 0; i < nrr; i++) {
		if (rdlen[i] > 0xffff || pos + 12 + rdlen[i] > outmax)
			return 0;
		put16(out + pos, 0xc000 | DNS_HDRLEN);	/* the question's name */
		put16(out + pos + 2, q->qtype);
		put16(out + pos + 4, DNS_C_IN);
		put16(out + pos + 6, ttl >> 16);
		put16(out + pos + 8, ttl & 0xffff);
		put16(out + pos + 10, (uint16_t)rdlen[i]);
		memcpy(out + pos + 12, rdata[i], rdlen[i]);
		pos += 12 + rdlen[i];
	}
	return pos;
}

/* Text name to wire form: its length, or 0 (dns-msg.h). */
size_t
dns_name_wire(const char *name, unsigned char *out, size_t outmax)
{
	size_t pos = 0, l;
	const char *dot;

	while (*name != '\0') {
		dot = strchrnul(name, '.');
		l = (size_t)(dot - name);
		if (l == 0 || l > 63 || pos + 1 + l + 1 > outmax)
			return 0;
		out[pos++] = (unsigned char)l;
		memcpy(out + pos, name, l);
		pos += l;
		name = *dot == '.' ? dot + 1 : dot;
	}
	if (pos + 1 > outmax || pos + 1 > 255)
		return 0;
	out[pos++] = 0;
	return pos;
}

static int
has_suffix(const char *s, const char *suffix, size_t *prefix)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (n < m || strcasecmp(s + n - m, suffix) != 0)
		return 0;
	*prefix = n - m;
	return 1;
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* AF_INET/AF_INET6 and the address of a reverse name, or 0. */
int
dns_reverse_addr(const char *name, uint8_t addr[16])
{
	char text[INET_ADDRSTRLEN], parts[4][4];
	size_t n, i, j, k;
	int v;

	if (has_suffix(name, ".in-addr.arpa", &n)) {
		/* d.c.b.a: four decimal labels, reversed. */
		for (i = 0, j = 0, k = 0; i < n; i++) {
			if (name[i] == '.') {
				if (k == 0 || j == 3)
					return 0;
				parts[j++][k] = '\0';
				k = 0;
			} else if (k < 3 && name[i] >= '0' && name[i] <= '9')
				parts[j][k++] = name[i];
			else
				return 0;
		}
		if (k == 0 || j != 3)
			return 0;
		parts[3][k] = '\0';
		snprintf(text, sizeof(text), "%s.%s.%s.%s", parts[3], parts[2],
		    parts[1], parts[0]);
		return inet_pton(AF_INET, text, addr) == 1 ? AF_INET : 0;
	}
	if (has_suffix(name, ".ip6.arpa", &n)) {
		/* 32 nibbles, least significant first, dot-separated. */
		if (n != 63)
			return 0;
		memset(addr, 0, 16);
		for (i = 0; i < 32; i++) {
			if ((v = nibble(name[2 * i])) < 0 ||
			    (i < 31 && name[2 * i + 1] != '.'))
				return 0;
			addr[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
		}
		return AF_INET6;
	}
	return 0;
}

/* A TC answer for a UDP client: its length, or 0 (dns-msg.h). */
size_t
dns_truncate(const unsigned char *msg, const struct dns_query *q,
    const unsigned char *ans, size_t alen, unsigned char *out,
    size_t outmax)
{
	size_t n;

	if (alen < 4 || (n = dns_answer(msg, q, 0, 0, NULL, NULL, 0, out,
	    outmax)) == 0)
		return 0;
	out[2] = ans[2] | 0x82;			/* as answered, QR and TC */
	out[3] = ans[3];
	return n;
}
