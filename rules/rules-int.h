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
 * rules-int.h - internals shared by rules.c (parser, dumper) and match.c
 * (pattern syntax and matching).  Not installed; not for the shim.
 */
#ifndef TW_RULES_INT_H
#define TW_RULES_INT_H

#include <sys/types.h>

#include "rules.h"

/* Largest file (top-level or included) the parser reads. */
#define RULES_MAX_FILE		(16 * 1024 * 1024)

enum pat_kind {
	PAT_ANY,			/* `*`: any name, any address */
	PAT_NAME,			/* host glob */
	PAT_V4,				/* IPv4 network */
	PAT_V6,				/* IPv6 network (never v4-mapped) */
	PAT_UNIX,			/* unix:PATH glob (AF_UNIX paths only) */
};

/* One parsed PATTERN.  Points into its own text; never allocates. */
struct rpattern {
	const char	*text;		/* as written: dumped and reported */
	const char	*glob;		/* PAT_NAME: the host part of text, */
	size_t		 globlen;	/* without its trailing dot; PAT_UNIX:
					   the path glob after "unix:" */
	uint8_t		 addr[16];	/* PAT_V4 uses addr[0..3] */
	uint8_t		 kind;		/* enum pat_kind */
	uint8_t		 plen;		/* prefix length */
	uint16_t	 portlo;	/* 0, 0: any port */
	uint16_t	 porthi;
};

/* Why a pattern or network did not parse: exactly one field is set. */
struct pat_err {
	const char	*why;		/* reason for "bad pattern" */
	const char	*port;		/* the port part, for "bad port" */
	size_t		 portlen;
	int		 range;		/* the port part has a '-' */
};

struct rrule {
	enum rules_action action;
	const char	*via;		/* NULL: the default session */
	struct rpattern	*pats;
	size_t		 npats;
	const char	*file;
	int		 line;
	unsigned long	 seq;		/* statement order, for the dump */
};

/* One `publish` line. */
struct rpub {
	uint16_t	 portlo;	/* 0, 0: `*`, any port */
	uint16_t	 porthi;
	uint16_t	 remote;	/* `as`; 0: the program's own port */
	const char	*address;	/* `on`; NULL: not given (localhost) */
	const char	*via;		/* NULL: the default session */
	const char	*file;
	int		 line;
	unsigned long	 seq;
};

/* One `resolver` line. */
struct rres {
	const char	*address;	/* as written: an address or a name */
	const char	*via;		/* NULL: the default session */
	const char	*file;
	int		 line;
	unsigned long	 seq;
};

struct rsession {
	struct rules_session pub;
	unsigned long	 seq;
};

struct rpool {
	int		 set;
	uint8_t		 addr[16];
	int		 plen;
	const char	*text;
	const char	*file;
	int		 line;
	unsigned long	 seq;
};

struct chunk;

struct rules {
	struct rsession	*sess;
	size_t		 nsess, sesscap;
	struct rrule	*rule;
	size_t		 nrule, rulecap;
	struct rpub	*pub;
	size_t		 npub, pubcap;
	struct rres	*res;
	size_t		 nres, rescap;
	int		 hasunix;	/* some rule has a unix: pattern */
	int		 hasdefault;
	enum rules_action defaction;
	const char	*deffile;
	int		 defline;
	unsigned long	 defseq;
	struct rpool	 pool4, pool6;
	struct chunk	*arena;		/* every string and pattern array */
};

/*
 * Internal symbols stay out of the dynamic symbol table: in an LD_PRELOAD
 * shim a same-named symbol of the host program would otherwise win.
 */
#if defined(__GNUC__)
#define RULES_HIDDEN	__attribute__((visibility("hidden")))
#else
#define RULES_HIDDEN
#endif

/* match.c */
RULES_HIDDEN int rules_pat_parse(const char *text, struct rpattern *,
	    struct pat_err *);
RULES_HIDDEN int rules_net_parse(const char *s, size_t len, uint8_t addr[16],
	    int *family, int *plen, const char **why);
RULES_HIDDEN int rules_glob_match(const char *pat, size_t plen, const char *s,
	    size_t slen);
RULES_HIDDEN int rules_path_match(const char *pat, size_t plen, const char *s,
	    size_t slen);
RULES_HIDDEN int rules_ports_parse(const char *s, size_t n, uint16_t *lo,
	    uint16_t *hi);
RULES_HIDDEN int rules_address_ok(const char *);
RULES_HIDDEN int rules_cidr_match(const uint8_t *net, unsigned int plen,
	    const uint8_t *a);
RULES_HIDDEN int rules_port_match(const struct rpattern *, uint16_t port);
RULES_HIDDEN int rules_session_name_ok(const char *);
RULES_HIDDEN int rules_dest_ok(const char *);

/* dump.c */
RULES_HIDDEN size_t rules_dump_len(const struct rules_session *,
	    const struct rrule *);
RULES_HIDDEN size_t rules_dump_pub_len(const struct rpub *);
RULES_HIDDEN ssize_t rules_marker_unescape(const char *s, size_t n,
	    char *out);

#endif
