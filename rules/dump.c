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
 * dump.c - the normalized dump of a rule set, and the escapes of the
 * "#@ FILE:LINE" origin markers it writes (the parser in rules.c reads
 * them back with rules_marker_unescape()).
 *
 * The dump is what the launcher hands the shim and the helper, so it must
 * re-parse to the same rule set: every word is quoted exactly when the
 * splitter needs it, and every statement carries its origin.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdio.h>		/* snprintf only: formats, never prints */
#include <string.h>

#include "rules-int.h"

static const char *
fname(const char *f)
{
	return f ? f : "";
}

/*
 * Dump output, snprintf style: pos counts everything, buf gets what fits.
 */
struct out {
	char		*buf;
	size_t		 len, pos;
};

static void
put(struct out *o, const char *s, size_t n)
{
	size_t k;

	if (o->pos < o->len) {
		k = o->len - o->pos;
		memcpy(o->buf + o->pos, s, n < k ? n : k);
	}
	o->pos += n;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/*
 * One word, quoted only when the splitter needs it.  Inside quotes a
 * backslash is escaped only where the splitter would read it as an escape
 * (before '"', '\' or the closing quote), keeping dumps short.
 */
static void
put_word(struct out *o, const char *w)
{
	const char *c;

	if (*w != '\0' && *w != '#' && strpbrk(w, " \t\r\f\v\"") == NULL) {
		puts_(o, w);
		return;
	}
	put(o, "\"", 1);
	for (c = w; *c != '\0'; c++) {
		if (*c == '"')
			put(o, "\\\"", 2);
		else if (*c == '\\' && (c[1] == '"' || c[1] == '\\' ||
		    c[1] == '\0'))
			put(o, "\\\\", 2);
		else
			put(o, c, 1);
	}
	put(o, "\"", 1);
}

static void
put_int(struct out *o, long v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%ld", v);

	put(o, b, (size_t)n);
}

/*
 * "#@ FILE:LINE".  A newline in FILE would end the marker early, so FILE
 * escapes control characters as \ooo and '\' as \\; names survive exactly.
 */
static void
put_marker(struct out *o, const char *file, int line)
{
	const unsigned char *c;
	char esc[5];

	puts_(o, "#@ ");
	for (c = (const unsigned char *)fname(file); *c != '\0'; c++) {
		if (*c == '\\')
			put(o, "\\\\", 2);
		else if (*c < ' ' || *c == 0x7f) {
			esc[0] = '\\';
			esc[1] = (char)('0' + (*c >> 6));
			esc[2] = (char)('0' + ((*c >> 3) & 7));
			esc[3] = (char)('0' + (*c & 7));
			put(o, esc, 4);
		} else
			put(o, (const char *)c, 1);
	}
	put(o, ":", 1);
	put_int(o, line);
	put(o, "\n", 1);
}

static void
put_session(struct out *o, const struct rules_session *s)
{
	size_t i;

	puts_(o, "session ");
	put_word(o, s->name);
	put(o, " ", 1);
	put_word(o, s->dest);
	for (i = 0; i < s->noptions; i++) {
		put(o, " ", 1);
		put_word(o, s->options[i]);
	}
	put(o, "\n", 1);
}

static void
put_rule(struct out *o, const struct rrule *ru)
{
	size_t i;

	puts_(o, rules_action_name(ru->action));
	if (ru->via != NULL) {
		puts_(o, " via ");
		put_word(o, ru->via);
	}
	for (i = 0; i < ru->npats; i++) {
		put(o, " ", 1);
		put_word(o, ru->pats[i].text);
	}
	put(o, "\n", 1);
}

/* publish PORT|LOW-HIGH|* [as REMOTEPORT] [on ADDRESS] [via NAME] */
static void
put_pub(struct out *o, const struct rpub *pb)
{
	puts_(o, "publish ");
	if (pb->portlo == 0)
		put(o, "*", 1);
	else {
		put_int(o, pb->portlo);
		if (pb->porthi != pb->portlo) {
			put(o, "-", 1);
			put_int(o, pb->porthi);
		}
	}
	if (pb->remote != 0) {
		puts_(o, " as ");
		put_int(o, pb->remote);
	}
	if (pb->address != NULL) {
		puts_(o, " on ");
		put_word(o, pb->address);
	}
	if (pb->via != NULL) {
		puts_(o, " via ");
		put_word(o, pb->via);
	}
	put(o, "\n", 1);
}

/*
 * Length of the dumped line (no newline) of a session or a rule: the
 * parser refuses statements whose dump would not re-parse for length.
 */
size_t
rules_dump_len(const struct rules_session *s, const struct rrule *ru)
{
	struct out o = { NULL, 0, 0 };

	if (s != NULL)
		put_session(&o, s);
	else
		put_rule(&o, ru);
	return o.pos - 1;
}

/* The same for a publish line. */
size_t
rules_dump_pub_len(const struct rpub *pb)
{
	struct out o = { NULL, 0, 0 };

	put_pub(&o, pb);
	return o.pos - 1;
}

/*
 * Undo put_marker's escapes of s[0..n) into out (n + 1 bytes); returns the
 * length, or -1 if an escape is not one put_marker writes.
 */
ssize_t
rules_marker_unescape(const char *s, size_t n, char *out)
{
	size_t i, o = 0;
	int v;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
			continue;
		}
		if (i + 3 >= n)
			return -1;
		if (s[i + 1] < '0' || s[i + 1] > '3' || s[i + 2] < '0' ||
		    s[i + 2] > '7' || s[i + 3] < '0' || s[i + 3] > '7')
			return -1;
		v = (s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
		    (s[i + 3] - '0');
		if (v == 0)
			return -1;
		out[o++] = (char)v;
		i += 3;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/*
 * Write the dump; see rules.h.  Statements come out in their original
 * order (by seq), each under its origin marker; a missing `default` and
 * missing pools stay missing so that the re-parse is the same set.
 */
size_t
rules_dump(const struct rules *r, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	const struct rpool *pools[2] = { &r->pool4, &r->pool6 };
	size_t si = 0, ri = 0, ui = 0, ei = 0;
	int pi = 0, di = !r->hasdefault, which;
	unsigned long best = 0;

	for (;;) {
		/* Pick the earliest of the next of each kind. */
		while (pi < 2 && !pools[pi]->set)
			pi++;
		which = -1;
		if (si < r->nsess) {
			which = 0;
			best = r->sess[si].seq;
		}
		if (ri < r->nrule && (which == -1 || r->rule[ri].seq < best)) {
			which = 1;
			best = r->rule[ri].seq;
		}
		if (pi < 2 && (which == -1 || pools[pi]->seq < best)) {
			which = 2;
			best = pools[pi]->seq;
		}
		if (ui < r->npub && (which == -1 || r->pub[ui].seq < best)) {
			which = 4;
			best = r->pub[ui].seq;
		}
		if (ei < r->nres && (which == -1 || r->res[ei].seq < best)) {
			which = 5;
			best = r->res[ei].seq;
		}
		if (!di && (which == -1 || r->defseq < best))
			which = 3;
		if (which == -1)
			break;
		switch (which) {
		case 0:
			put_marker(&o, r->sess[si].pub.file,
			    r->sess[si].pub.line);
			put_session(&o, &r->sess[si++].pub);
			break;
		case 1:
			put_marker(&o, r->rule[ri].file, r->rule[ri].line);
			put_rule(&o, &r->rule[ri++]);
			break;
		case 2:
			put_marker(&o, pools[pi]->file, pools[pi]->line);
			puts_(&o, "synthetic ");
			put_word(&o, pools[pi]->text);
			put(&o, "\n", 1);
			pi++;
			break;
		case 3:
			put_marker(&o, r->deffile, r->defline);
			puts_(&o, "default ");
			puts_(&o, rules_action_name(r->defaction));
			put(&o, "\n", 1);
			di = 1;
			break;
		case 4:
			put_marker(&o, r->pub[ui].file, r->pub[ui].line);
			put_pub(&o, &r->pub[ui++]);
			break;
		case 5:
			put_marker(&o, r->res[ei].file, r->res[ei].line);
			puts_(&o, "resolver ");
			put_word(&o, r->res[ei].address);
			if (r->res[ei].via != NULL) {
				puts_(&o, " via ");
				put_word(&o, r->res[ei].via);
			}
			put(&o, "\n", 1);
			ei++;
			break;
		}
	}
	if (len > 0)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos;
}

