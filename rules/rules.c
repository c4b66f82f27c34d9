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
 * rules.c - the rules language: reading files, splitting lines, the keyword
 * handlers and the session accessors.  Pattern syntax and the matchers live
 * in match.c, the dumper in dump.c.
 *
 * This is linked into an LD_PRELOAD shim, so it stays within libc: no stdio
 * output, no exit(), no global mutable state.  Errors go to the caller's
 * errfn; parsing goes on after an error so that one run reports them all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* secure_getenv, reallocarray */
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>		/* vsnprintf only: formats, never prints */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "rules-int.h"

/*
 * Every string and pattern array of a rule set comes from a chain of
 * chunks, so rules_free() is a walk and a half-built set is easy to drop.
 */
struct chunk {
	struct chunk	*next;
	size_t		 size, used;
	max_align_t	 data[];
};

#define CHUNK_SIZE	4000
#define ALIGN		(sizeof(max_align_t))

static void *
arena_alloc(struct rules *r, size_t n)
{
	struct chunk *c = r->arena;
	size_t sz;
	void *p;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (c == NULL || c->size - c->used < n) {
		sz = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		if ((c = malloc(sizeof(*c) + sz)) == NULL)
			return NULL;
		c->size = sz;
		c->used = 0;
		c->next = r->arena;
		r->arena = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static char *
arena_strndup(struct rules *r, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX || (p = arena_alloc(r, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *
arena_strdup(struct rules *r, const char *s)
{
	return arena_strndup(r, s, strlen(s));
}

/* Make room for one more element of an array that doubles. */
static int
grow(void *arrp, size_t *cap, size_t n, size_t size)
{
	void **arr = arrp, *na;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if ((na = reallocarray(*arr, ncap, size)) == NULL)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

/* Device and inode of each file being read, to catch include loops. */
struct ident {
	dev_t		 dev;
	ino_t		 ino;
};

struct parser {
	struct rules	*r;
	rules_error_fn	*errfn;
	void		*arg;
	size_t		 nerr;
	int		 oom;
	unsigned long	 seq;		/* statements so far */
	struct ident	 open[RULES_MAX_INCLUDE_DEPTH + 1];
	int		 nopen;		/* files on the include stack */
	int		 depth;		/* includes deep; top level is 0 */
	const char	*lastmark;	/* interned file of the last marker */
};

/* Where a statement is: its origin, and the file it is really read from. */
struct loc {
	const char	*file;
	int		 line;		/* -1: the file as a whole */
	const char	*path;		/* includes resolve here; NULL: cwd */
};

static const char *
fname(const char *f)
{
	return f ? f : "";
}

static void
perr(struct parser *p, const struct loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct parser *p, const struct loc *loc, const char *fmt, ...)
{
	char small[512], *msg;
	size_t size, hl;
	va_list ap;
	int n;

	p->nerr++;
	if (p->errfn == NULL)
		return;
	/* Words and file names may be long: size the message. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size = strlen(fname(loc->file)) + (size_t)n + 32;
	if ((msg = malloc(size)) == NULL) {
		msg = small;
		size = sizeof(small);
	}
	if (loc->line >= 0)
		snprintf(msg, size, "%s:%d: ", fname(loc->file), loc->line);
	else
		snprintf(msg, size, "%s: ", fname(loc->file));
	hl = strlen(msg);
	va_start(ap, fmt);
	vsnprintf(msg + hl, size - hl, fmt, ap);
	va_end(ap);
	p->errfn(p->arg, msg);
	if (msg != small)
		free(msg);
}

static void
nomem(struct parser *p, const struct loc *loc)
{
	if (p->oom) {
		p->nerr++;
		return;
	}
	p->oom = 1;
	perr(p, loc, "out of memory");
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Split s[0..len) into words in buf (len + 1 bytes) and argv.  Double
 * quotes group (and may be mid-word); inside them \" and \\ escape.  '#'
 * at the start of an unquoted word ends the line.  Returns the number of
 * words, or -1 for an unterminated quote.
 */
static int
split(const char *s, size_t len, char *buf, char **argv)
{
	size_t i = 0;
	char *o = buf;
	int argc = 0, q;

	for (;;) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i == len || s[i] == '#')
			break;
		argv[argc++] = o;
		for (q = 0; i < len && (q || !is_blank(s[i])); i++) {
			if (s[i] == '"') {
				q = !q;
				continue;
			}
			if (q && s[i] == '\\' && i + 1 < len &&
			    (s[i + 1] == '"' || s[i + 1] == '\\'))
				i++;
			*o++ = s[i];
		}
		if (q)
			return -1;
		*o++ = '\0';
	}
	return argc;
}

static struct rsession *
find_session(const struct rules *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nsess; i++)
		if (strcmp(r->sess[i].pub.name, name) == 0)
			return &r->sess[i];
	return NULL;
}

/* Key=Value with an alphanumeric key, as ssh -o takes it. */
static int
option_ok(const char *s)
{
	const char *eq = strchr(s, '=');
	const char *c;

	if (eq == NULL || eq == s)
		return 0;
	for (c = s; c < eq; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9')))
			return 0;
	return 1;
}

static void
kw_session(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	struct rules *r = p->r;
	struct rsession *old, *ns;
	struct rules_session s;
	int i, bad = 0;

	if (argc < 2) {
		perr(p, loc, "session: missing name");
		return;
	}
	if (!rules_session_name_ok(argv[1])) {
		perr(p, loc, "session: bad name \"%s\"", argv[1]);
		return;
	}
	if (argc < 3) {
		perr(p, loc, "session \"%s\": missing destination", argv[1]);
		return;
	}
	if (!rules_dest_ok(argv[2])) {
		perr(p, loc, "session \"%s\": bad destination \"%s\"",
		    argv[1], argv[2]);
		bad = 1;
	}
	for (i = 3; i < argc; i++) {
		if (!option_ok(argv[i])) {
			perr(p, loc, "session \"%s\": bad option \"%s\": "
			    "expected Key=Value", argv[1], argv[i]);
			bad = 1;
		}
	}
	if ((old = find_session(r, argv[1])) != NULL) {
		perr(p, loc, "duplicate session \"%s\" (first defined at "
		    "%s:%d)", argv[1], fname(old->pub.file), old->pub.line);
		bad = 1;
	}
	if (bad)
		return;

	memset(&s, 0, sizeof(s));
	s.name = arena_strdup(r, argv[1]);
	s.dest = arena_strdup(r, argv[2]);
	s.noptions = (size_t)argc - 3;
	s.options = arena_alloc(r, (s.noptions + 1) * sizeof(*s.options));
	if (s.name == NULL || s.dest == NULL || s.options == NULL) {
		nomem(p, loc);
		return;
	}
	for (i = 3; i < argc; i++)
		if ((s.options[i - 3] = arena_strdup(r, argv[i])) == NULL) {
			nomem(p, loc);
			return;
		}
	s.options[s.noptions] = NULL;
	s.file = loc->file;
	s.line = loc->line;
	if (rules_dump_len(&s, NULL) > RULES_MAX_LINE - 1) {
		perr(p, loc, "session \"%s\": too long to dump", s.name);
		return;
	}
	if (grow(&r->sess, &r->sesscap, r->nsess, sizeof(*r->sess)) == -1) {
		nomem(p, loc);
		return;
	}
	ns = &r->sess[r->nsess++];
	ns->pub = s;
	ns->seq = p->seq;
}

static void
kw_rule(struct parser *p, const struct loc *loc, int argc, char **argv,
    enum rules_action action)
{
	struct rules *r = p->r;
	const char *kw = rules_action_name(action);
	struct rrule ru;
	struct pat_err e;
	char *text;
	int i = 1, j, bad = 0, hasunix = 0;

	memset(&ru, 0, sizeof(ru));
	if (argc > 1 && strcasecmp(argv[1], "via") == 0) {
		if (action != RULES_TUNNEL) {
			perr(p, loc, "%s: \"via\" only applies to tunnel", kw);
			return;
		}
		if (argc < 3) {
			perr(p, loc, "tunnel: via: expected a session name");
			return;
		}
		if (!rules_session_name_ok(argv[2])) {
			perr(p, loc, "tunnel: via: bad session name \"%s\"",
			    argv[2]);
			bad = 1;
		}
		if ((ru.via = arena_strdup(r, argv[2])) == NULL) {
			nomem(p, loc);
			return;
		}
		i = 3;
	}
	if (i == argc) {
		perr(p, loc, "%s: expected at least one pattern", kw);
		return;
	}
	ru.npats = (size_t)(argc - i);
	if ((ru.pats = arena_alloc(r, ru.npats * sizeof(*ru.pats))) == NULL) {
		nomem(p, loc);
		return;
	}
	for (j = 0; i < argc; i++, j++) {
		if ((text = arena_strdup(r, argv[i])) == NULL) {
			nomem(p, loc);
			return;
		}
		if (rules_pat_parse(text, &ru.pats[j], &e) == 0) {
			hasunix |= ru.pats[j].kind == PAT_UNIX;
			continue;
		}
		bad = 1;
		if (e.why != NULL)
			perr(p, loc, "bad pattern \"%s\": %s", text, e.why);
		else
			perr(p, loc, "bad port%s \"%.*s\"",
			    e.range ? " range" : "", (int)e.portlen, e.port);
	}
	if (bad)
		return;
	ru.action = action;
	ru.file = loc->file;
	ru.line = loc->line;
	ru.seq = p->seq;
	if (rules_dump_len(NULL, &ru) > RULES_MAX_LINE - 1) {
		perr(p, loc, "%s: too long to dump", kw);
		return;
	}
	if (grow(&r->rule, &r->rulecap, r->nrule, sizeof(*r->rule)) == -1) {
		nomem(p, loc);
		return;
	}
	r->rule[r->nrule++] = ru;
	r->hasunix |= hasunix;
}

static void
kw_tunnel(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	kw_rule(p, loc, argc, argv, RULES_TUNNEL);
}

static void
kw_direct(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	kw_rule(p, loc, argc, argv, RULES_DIRECT);
}

static void
kw_deny(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	kw_rule(p, loc, argc, argv, RULES_DENY);
}

static void
kw_default(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	struct rules *r = p->r;
	enum rules_action a;

	if (argc != 2)
		goto bad;
	if (strcasecmp(argv[1], "tunnel") == 0)
		a = RULES_TUNNEL;
	else if (strcasecmp(argv[1], "direct") == 0)
		a = RULES_DIRECT;
	else if (strcasecmp(argv[1], "deny") == 0)
		a = RULES_DENY;
	else
		goto bad;
	if (r->hasdefault) {
		perr(p, loc, "duplicate default (first defined at %s:%d)",
		    fname(r->deffile), r->defline);
		return;
	}
	r->hasdefault = 1;
	r->defaction = a;
	r->deffile = loc->file;
	r->defline = loc->line;
	r->defseq = p->seq;
	return;
 bad:
	perr(p, loc, "default: expected tunnel, direct or deny");
}

static void
kw_synthetic(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	struct rules *r = p->r;
	struct rpool *pool;
	const char *why;
	uint8_t addr[16];
	int i, fam, plen;

	if (argc < 2) {
		perr(p, loc, "synthetic: expected at least one CIDR");
		return;
	}
	for (i = 1; i < argc; i++) {
		if (rules_net_parse(argv[i], strlen(argv[i]), addr, &fam, &plen,
		    &why) == -1) {
			perr(p, loc, "synthetic: bad pool \"%s\": %s",
			    argv[i], why);
			continue;
		}
		/* The shim hands out host addresses: keep a few to use. */
		if (fam == AF_INET ? plen > 30 : plen > 120) {
			perr(p, loc, "synthetic: bad pool \"%s\": %s",
			    argv[i], fam == AF_INET ?
			    "IPv4 pool prefix length must be at most 30" :
			    "IPv6 pool prefix length must be at most 120");
			continue;
		}
		pool = fam == AF_INET ? &r->pool4 : &r->pool6;
		if (pool->set) {
			perr(p, loc, "synthetic: duplicate %s pool (first "
			    "defined at %s:%d)", fam == AF_INET ? "IPv4" :
			    "IPv6", fname(pool->file), pool->line);
			continue;
		}
		if ((pool->text = arena_strdup(r, argv[i])) == NULL) {
			nomem(p, loc);
			return;
		}
		pool->set = 1;
		memcpy(pool->addr, addr, sizeof(addr));
		pool->plen = plen;
		pool->file = loc->file;
		pool->line = loc->line;
		pool->seq = p->seq;
	}
}

/*
 * publish PORT [as REMOTEPORT] [on ADDRESS] [via NAME], the clauses in any
 * order, each once.  Every error of the line is reported, up to a word
 * that is no clause (after which nothing can be told apart).
 */
static void
kw_publish(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	static const char *const clause[] = { "as", "on", "via" };
	static const char *const what[] = { "a port", "an address",
	    "a session name" };
	struct rules *r = p->r;
	struct rpub pb;
	const char *arg;
	uint16_t lo, hi;
	int i = 1, c, bad = 0, seen = 0;
	int single = -1;		/* PORT is one port; -1: unknown */

	memset(&pb, 0, sizeof(pb));
	for (c = 0; argc > 1 && c < 3; c++)
		if (strcasecmp(argv[1], clause[c]) == 0)
			break;
	if (argc < 2 || c < 3) {
		perr(p, loc, "publish: expected a port, a range or *");
		bad = 1;
	} else {
		if (strcmp(argv[1], "*") == 0)
			single = 0;
		else if (rules_ports_parse(argv[1], strlen(argv[1]), &pb.portlo,
		    &pb.porthi) == 0)
			single = pb.portlo == pb.porthi;
		else {
			perr(p, loc, "publish: bad port%s \"%s\"",
			    strchr(argv[1], '-') ? " range" : "", argv[1]);
			bad = 1;
		}
		i = 2;
	}
	while (i < argc) {
		for (c = 0; c < 3; c++)
			if (strcasecmp(argv[i], clause[c]) == 0)
				break;
		if (c == 3) {
			perr(p, loc, "publish: unexpected \"%s\"", argv[i]);
			bad = 1;
			break;
		}
		if (seen & (1 << c)) {
			perr(p, loc, "publish: duplicate \"%s\"", clause[c]);
			bad = 1;
		}
		seen |= 1 << c;
		if (i + 1 == argc) {
			perr(p, loc, "publish: %s: expected %s", clause[c],
			    what[c]);
			bad = 1;
			break;
		}
		arg = argv[i + 1];
		i += 2;
		switch (c) {
		case 0:
			if (single == 0) {
				perr(p, loc, "publish: \"as\" needs a single "
				    "port");
				bad = 1;
			} else if (strchr(arg, '-') != NULL ||
			    rules_ports_parse(arg, strlen(arg), &lo,
			    &hi) == -1) {
				perr(p, loc, "publish: bad remote port \"%s\"",
				    arg);
				bad = 1;
			} else
				pb.remote = lo;
			break;
		case 1:
			if (!rules_address_ok(arg)) {
				perr(p, loc, "publish: bad address \"%s\"",
				    arg);
				bad = 1;
			} else if ((pb.address = arena_strdup(r, arg)) ==
			    NULL) {
				nomem(p, loc);
				return;
			}
			break;
		case 2:
			if (!rules_session_name_ok(arg)) {
				perr(p, loc, "publish: via: bad session name "
				    "\"%s\"", arg);
				bad = 1;
			} else if ((pb.via = arena_strdup(r, arg)) == NULL) {
				nomem(p, loc);
				return;
			}
			break;
		}
	}
	if (bad)
		return;
	pb.file = loc->file;
	pb.line = loc->line;
	pb.seq = p->seq;
	if (rules_dump_pub_len(&pb) > RULES_MAX_LINE - 1) {
		perr(p, loc, "publish: too long to dump");
		return;
	}
	if (grow(&r->pub, &r->pubcap, r->npub, sizeof(*r->pub)) == -1) {
		nomem(p, loc);
		return;
	}
	r->pub[r->npub++] = pb;
}

/*
 * resolver ADDRESS [via NAME]: the intranet's DNS server, as the bastion
 * of session NAME reaches it (an address or a name it resolves).  One per
 * session.
 */
static void
kw_resolver(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	struct rules *r = p->r;
	struct rres rs;
	size_t i;

	memset(&rs, 0, sizeof(rs));
	if (argc != 2 && !(argc == 4 && strcasecmp(argv[2], "via") == 0)) {
		perr(p, loc, "resolver: expected an address and optionally "
		    "via NAME");
		return;
	}
	if (!rules_address_ok(argv[1]) || strcmp(argv[1], "*") == 0) {
		perr(p, loc, "resolver: bad address \"%s\"", argv[1]);
		return;
	}
	if (argc == 4 && !rules_session_name_ok(argv[3])) {
		perr(p, loc, "resolver: via: bad session name \"%s\"", argv[3]);
		return;
	}
	for (i = 0; i < r->nres; i++) {
		if ((r->res[i].via == NULL) != (argc == 2) ||
		    (argc == 4 && strcmp(r->res[i].via, argv[3]) != 0))
			continue;
		perr(p, loc, "resolver: duplicate for %s%s (first defined at "
		    "%s:%d)", argc == 4 ? "session " : "the default session",
		    argc == 4 ? argv[3] : "", fname(r->res[i].file),
		    r->res[i].line);
		return;
	}
	if ((rs.address = arena_strdup(r, argv[1])) == NULL ||
	    (argc == 4 && (rs.via = arena_strdup(r, argv[3])) == NULL) ||
	    grow(&r->res, &r->rescap, r->nres, sizeof(*r->res)) == -1) {
		nomem(p, loc);
		return;
	}
	rs.file = loc->file;
	rs.line = loc->line;
	rs.seq = p->seq;
	r->res[r->nres++] = rs;
}

static void	read_file(struct parser *, const struct loc *, const char *);

static void
kw_include(struct parser *p, const struct loc *loc, int argc, char **argv)
{
	const char *arg, *pre = "", *home, *slash;
	size_t prelen = 0, n;
	char *path;

	if (argc < 2 || argv[1][0] == '\0') {
		perr(p, loc, "include: expected a file name");
		return;
	}
	if (argc > 2) {
		perr(p, loc, "include: unexpected argument \"%s\"", argv[2]);
		return;
	}
	arg = argv[1];
	if (strncmp(arg, "~/", 2) == 0) {
		/* secure_getenv: no $HOME games in setuid programs. */
		home = secure_getenv("HOME");
		if (home == NULL || *home == '\0') {
			perr(p, loc, "include \"%s\": HOME not set", arg);
			return;
		}
		pre = home;
		prelen = strlen(home);
		arg++;			/* keep the '/' */
	} else if (arg[0] != '/' && loc->path != NULL &&
	    (slash = strrchr(loc->path, '/')) != NULL) {
		/* Relative to the including file's directory. */
		pre = loc->path;
		prelen = (size_t)(slash - loc->path) + 1;
	}
	n = strlen(arg);
	if (prelen + n >= PATH_MAX) {
		perr(p, loc, "include \"%s\": %s", argv[1],
		    strerror(ENAMETOOLONG));
		return;
	}
	if ((path = arena_alloc(p->r, prelen + n + 1)) == NULL) {
		nomem(p, loc);
		return;
	}
	memcpy(path, pre, prelen);
	memcpy(path + prelen, arg, n + 1);
	read_file(p, loc, path);
}

static const struct {
	const char	*name;
	void		(*fn)(struct parser *, const struct loc *, int,
			    char **);
} keywords[] = {
	{ "session",	kw_session },
	{ "tunnel",	kw_tunnel },
	{ "direct",	kw_direct },
	{ "deny",	kw_deny },
	{ "default",	kw_default },
	{ "synthetic",	kw_synthetic },
	{ "include",	kw_include },
	{ "publish",	kw_publish },
	{ "resolver",	kw_resolver },
};

/* One statement line, already checked for length and NUL bytes. */
static void
process_line(struct parser *p, const struct loc *loc, const char *s,
    size_t len, char *buf, char **argv)
{
	size_t i;
	int argc;

	if ((argc = split(s, len, buf, argv)) == -1) {
		perr(p, loc, "unterminated quote");
		return;
	}
	if (argc == 0)
		return;
	p->seq++;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strcasecmp(argv[0], keywords[i].name) == 0) {
			keywords[i].fn(p, loc, argc, argv);
			return;
		}
	}
	perr(p, loc, "unknown keyword \"%s\"", argv[0]);
}

/*
 * "#@ FILE:LINE" (s points past "#@ "): FILE, unescaped, is everything up
 * to the last ':', so it may hold colons and blanks.  Anything else is a
 * comment.
 */
static int
parse_marker(struct parser *p, const char *s, size_t n, const char **file,
    int *line)
{
	const char *colon, *c;
	char *name;
	ssize_t len;
	long v = 0;

	while (n > 0 && is_blank(s[n - 1]))
		n--;
	if (memchr(s, '\0', n) != NULL)
		return -1;
	for (colon = NULL, c = s; c < s + n; c++)
		if (*c == ':')
			colon = c;
	if (colon == NULL || colon + 1 == s + n)
		return -1;
	for (c = colon + 1; c < s + n; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		if ((v = v * 10 + (*c - '0')) > INT_MAX)
			return -1;
	}
	n = (size_t)(colon - s);
	if ((name = malloc(n + 1)) == NULL)
		return -1;
	if ((len = rules_marker_unescape(s, n, name)) == -1) {
		free(name);
		return -1;
	}
	/* Dumps repeat one file name over and over: intern the last one. */
	if (p->lastmark == NULL || strcmp(p->lastmark, name) != 0)
		p->lastmark = arena_strndup(p->r, name, (size_t)len);
	free(name);
	if (p->lastmark == NULL)
		return -1;
	*file = p->lastmark;
	*line = (int)v;
	return 0;
}

/*
 * Parse buf[0..len) as the text of file (path: where it really is, for
 * includes; NULL for a string).  markers: honour "#@ FILE:LINE" lines.
 */
static void
parse_buf(struct parser *p, const char *buf, size_t len, const char *file,
    const char *path, int markers)
{
	struct loc loc = { file, 0, path };
	const char *s, *nl, *mfile = NULL;
	char *wbuf, **argv;
	size_t pos = 0, n, k;
	int mline = 0, pending = 0, comment;

	wbuf = malloc(RULES_MAX_LINE + 1);
	argv = calloc(RULES_MAX_LINE / 2 + 2, sizeof(*argv));
	if (wbuf == NULL || argv == NULL) {
		nomem(p, &loc);
		goto out;
	}
	while (pos < len) {
		s = buf + pos;
		nl = memchr(s, '\n', len - pos);
		n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl != NULL);
		if (loc.line < INT_MAX)
			loc.line++;
		for (k = 0; k < n && is_blank(s[k]); k++)
			;
		if (k == n)
			continue;
		/* Markers are machine-made: exempt from the length limit. */
		if (markers && n - k >= 3 && memcmp(s + k, "#@ ", 3) == 0 &&
		    parse_marker(p, s + k + 3, n - k - 3, &mfile,
		    &mline) == 0) {
			pending = 1;
			continue;
		}
		comment = s[k] == '#';
		if (pending && !comment) {
			loc.file = mfile;
			loc.line = mline;
			pending = 0;
		}
		if (n > RULES_MAX_LINE - 1)
			perr(p, &loc, "line too long");
		else if (memchr(s, '\0', n) != NULL)
			perr(p, &loc, "NUL byte in line");
		else if (!comment)
			process_line(p, &loc, s, n, wbuf, argv);
	}
 out:
	free(wbuf);
	free(argv);
}

/*
 * Read an open file whole.  Returns 0, or an errno value (EFBIG: over
 * RULES_MAX_FILE).
 */
static int
read_fd(int fd, const struct stat *st, char **bufp, size_t *lenp)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;

	if (S_ISREG(st->st_mode) && st->st_size > RULES_MAX_FILE)
		return EFBIG;
	for (;;) {
		if (len == cap) {
			if (cap >= RULES_MAX_FILE + 1) {
				free(buf);
				return EFBIG;
			}
			cap = cap ? cap * 2 : 4096;
			if (cap > RULES_MAX_FILE + 1)
				cap = RULES_MAX_FILE + 1;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			n = errno;
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

static void
read_error(struct parser *p, const struct loc *loc, const char *path, int e)
{
	const char *what = e == EFBIG ? "file too large" : strerror(e);

	if (loc->line < 0)
		perr(p, loc, "%s", what);
	else
		perr(p, loc, "include \"%s\": %s", path, what);
}

/*
 * Open, check and parse one file.  Includes (loc->line >= 0) must be
 * regular files, opened O_NONBLOCK: a FIFO or a device here would hang the
 * program the shim lives in.  The top level may be anything readable but a
 * directory (think <(...) on a command line).
 */
static void
read_file(struct parser *p, const struct loc *loc, const char *path)
{
	int incl = loc->line >= 0, fd, e, i;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    (incl ? O_NONBLOCK : 0));
	if (fd == -1) {
		read_error(p, loc, path, errno);
		return;
	}
	if (fstat(fd, &st) == -1) {
		read_error(p, loc, path, errno);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		read_error(p, loc, path, EISDIR);
		goto out;
	}
	if (incl && !S_ISREG(st.st_mode)) {
		perr(p, loc, "include \"%s\": not a regular file", path);
		goto out;
	}
	for (i = 0; i < p->nopen; i++) {
		if (p->open[i].dev == st.st_dev &&
		    p->open[i].ino == st.st_ino) {
			perr(p, loc, "include loop: %s", path);
			goto out;
		}
	}
	if (incl && p->depth >= RULES_MAX_INCLUDE_DEPTH) {
		perr(p, loc, "include depth exceeds %d",
		    RULES_MAX_INCLUDE_DEPTH);
		goto out;
	}
	if ((e = read_fd(fd, &st, &buf, &len)) != 0) {
		read_error(p, loc, path, e);
		goto out;
	}
	close(fd);
	fd = -1;
	p->open[p->nopen].dev = st.st_dev;
	p->open[p->nopen].ino = st.st_ino;
	p->nopen++;
	p->depth += incl;
	parse_buf(p, buf, len, path, path, 0);
	p->depth -= incl;
	p->nopen--;
 out:
	if (fd != -1)
		close(fd);
	free(buf);
}

static int
parser_init(struct parser *p, rules_error_fn *errfn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->errfn = errfn;
	p->arg = arg;
	if ((p->r = calloc(1, sizeof(*p->r))) == NULL)
		return -1;
	return 0;
}

/*
 * Resolve `via` names now that every session is known, reporting tunnel
 * and publish lines in statement order; hand over.
 */
static int
parser_finish(struct parser *p, struct rules **out)
{
	struct rules *r = p->r;
	struct loc loc;
	const char *via, *kw;
	size_t i = 0, j = 0;

	loc.path = NULL;
	while (i < r->nrule || j < r->npub) {
		if (j == r->npub ||
		    (i < r->nrule && r->rule[i].seq < r->pub[j].seq)) {
			via = r->rule[i].via;
			loc.file = r->rule[i].file;
			loc.line = r->rule[i++].line;
			kw = "tunnel";
		} else {
			via = r->pub[j].via;
			loc.file = r->pub[j].file;
			loc.line = r->pub[j++].line;
			kw = "publish";
		}
		if (via != NULL && find_session(r, via) == NULL)
			perr(p, &loc, "%s via \"%s\": no such session", kw,
			    via);
	}
	for (i = 0; i < r->nres; i++) {
		loc.file = r->res[i].file;
		loc.line = r->res[i].line;
		if (r->res[i].via != NULL &&
		    find_session(r, r->res[i].via) == NULL)
			perr(p, &loc, "resolver via \"%s\": no such session",
			    r->res[i].via);
	}
	if (p->nerr > 0) {
		rules_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* Parse the rules file at path; see rules.h. */
int
rules_parse_file(const char *path, struct rules **out,
    rules_error_fn *errfn, void *arg)
{
	struct parser p;
	struct loc loc = { path, -1, NULL };

	*out = NULL;
	if (parser_init(&p, errfn, arg) == -1) {
		nomem(&p, &loc);
		return -1;
	}
	if ((loc.file = arena_strdup(p.r, path)) == NULL)
		nomem(&p, &loc);
	else
		read_file(&p, &loc, loc.file);
	return parser_finish(&p, out);
}

/* Parse rules from a string; see rules.h. */
int
rules_parse_string(const char *text, const char *name, struct rules **out,
    rules_error_fn *errfn, void *arg)
{
	struct parser p;
	struct loc loc = { name ? name : "-", 0, NULL };
	const char *file;

	*out = NULL;
	if (parser_init(&p, errfn, arg) == -1) {
		nomem(&p, &loc);
		return -1;
	}
	if ((file = arena_strdup(p.r, loc.file)) == NULL)
		nomem(&p, &loc);
	else
		parse_buf(&p, text, strlen(text), file, NULL, 1);
	return parser_finish(&p, out);
}

/* Free a rule set; NULL is fine. */
void
rules_free(struct rules *r)
{
	struct chunk *c, *next;

	if (r == NULL)
		return;
	for (c = r->arena; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(r->sess);
	free(r->rule);
	free(r->pub);
	free(r->res);
	free(r);
}

/* The `resolver` of a session; see rules.h. */
const char *
rules_resolver(const struct rules *r, const char *session)
{
	const struct rules_session *def = rules_session_at(r, 0);
	size_t i;

	if (r == NULL)
		return NULL;
	if (session != NULL && def != NULL && strcmp(session, def->name) == 0)
		session = NULL;
	for (i = 0; i < r->nres; i++) {
		const char *via = r->res[i].via;

		if (via != NULL && def != NULL && strcmp(via, def->name) == 0)
			via = NULL;
		if ((via == NULL && session == NULL) || (via != NULL &&
		    session != NULL && strcmp(via, session) == 0))
			return r->res[i].address;
	}
	return NULL;
}

/* The i-th session in file order, or NULL. */
const struct rules_session *
rules_session_at(const struct rules *r, size_t i)
{
	return i < r->nsess ? &r->sess[i].pub : NULL;
}

/* The session called name, or NULL. */
const struct rules_session *
rules_session_find(const struct rules *r, const char *name)
{
	const struct rsession *s = find_session(r, name);

	return s ? &s->pub : NULL;
}

/* A running helper's pool instead of ours; see rules.h. */
int
rules_set_synthetic(struct rules *r, const char *cidr)
{
	struct rpool *pool;
	const char *why, *text;
	uint8_t addr[16];
	int fam, plen;

	if (rules_net_parse(cidr, strlen(cidr), addr, &fam, &plen, &why) ==
	    -1 || (fam == AF_INET ? plen > 30 : plen > 120)) {
		errno = EINVAL;
		return -1;
	}
	if ((text = arena_strdup(r, cidr)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	pool = fam == AF_INET ? &r->pool4 : &r->pool6;
	if (!pool->set)
		pool->file = "(running helper)";
	pool->set = 1;
	pool->text = text;
	memcpy(pool->addr, addr, sizeof(addr));
	pool->plen = plen;
	return 0;
}

/* Point the default session at dest (-H); see rules.h. */
int
rules_set_default_dest(struct rules *r, const char *dest)
{
	struct rules_session *s;
	char *d;

	if (dest == NULL || !rules_dest_ok(dest)) {
		errno = EINVAL;
		return -1;
	}
	if ((d = arena_strdup(r, dest)) == NULL)
		goto nomem;
	if (r->nsess > 0) {
		r->sess[0].pub.dest = d;
		return 0;
	}
	if (grow(&r->sess, &r->sesscap, 0, sizeof(*r->sess)) == -1)
		goto nomem;
	s = &r->sess[0].pub;
	memset(&r->sess[0], 0, sizeof(r->sess[0]));
	if ((s->name = arena_strdup(r, "default")) == NULL ||
	    (s->options = arena_alloc(r, sizeof(*s->options))) == NULL)
		goto nomem;
	s->options[0] = NULL;
	s->dest = d;
	r->nsess = 1;
	return 0;
 nomem:
	errno = ENOMEM;
	return -1;
}

/* The IPv4 synthetic pool: the `synthetic` one or 198.18.0.0/15. */
void
rules_synthetic_v4(const struct rules *r, struct in_addr *net,
    int *prefixlen)
{
	static const uint8_t def[4] = { 198, 18, 0, 0 };

	if (r != NULL && r->pool4.set) {
		memcpy(net, r->pool4.addr, 4);
		*prefixlen = r->pool4.plen;
	} else {
		memcpy(net, def, 4);
		*prefixlen = 15;
	}
}

/* The IPv6 synthetic pool: the `synthetic` one or fd7a:7477:7261::/48. */
void
rules_synthetic_v6(const struct rules *r, struct in6_addr *net,
    int *prefixlen)
{
	static const uint8_t def[16] = { 0xfd, 0x7a, 0x74, 0x77, 0x72, 0x61 };

	if (r != NULL && r->pool6.set) {
		memcpy(net, r->pool6.addr, 16);
		*prefixlen = r->pool6.plen;
	} else {
		memcpy(net, def, 16);
		*prefixlen = 48;
	}
}

/* "direct", "tunnel" or "deny" (lower case, as the rules spell them). */
const char *
rules_action_name(enum rules_action a)
{
	switch (a) {
	case RULES_DIRECT:
		return "direct";
	case RULES_TUNNEL:
		return "tunnel";
	case RULES_DENY:
		return "deny";
	}
	return "unknown";
}
