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
 * rules.h - the tunnelwrap rules language: parser, matcher and dumper.
 *
 * One small library linked into the shim (libc only: no libbsd, no
 * OpenSSL, no stdio on stdout), the helper and the launcher.  Parsing
 * allocates; matching never allocates, never blocks and is safe to call
 * from many threads at once on the same parsed rule set.
 *
 * Grammar (one statement per line, '#' starts a comment, words split on
 * blanks, double quotes group a word):
 *
 *   session NAME [user@]host[:port] [Key=Value ...]
 *   tunnel [via NAME] PATTERN...
 *   direct PATTERN...
 *   deny PATTERN...
 *   default tunnel|direct|deny
 *   synthetic CIDR...          # pools for remote-DNS addresses, one v4, one v6
 *   include FILE               # relative to the including file's directory
 *   publish PORT [as REMOTEPORT] [on ADDRESS] [via NAME]
 *   resolver ADDRESS [via NAME] # the intranet's DNS server (DNS responder)
 *
 * PATTERN: `*`, an IPv4/IPv6 address or CIDR (IPv6 optionally in brackets),
 * or a host name glob (`*` and `?`, case-insensitive), each optionally
 * followed by `:PORT` or `:LOW-HIGH` (IPv6 must then be bracketed:
 * `[2001:db8::]/32:22`, `[::1]:80`); or `unix:PATH`, a glob of AF_UNIX
 * socket paths (`unix:/var/run/docker.sock`, `unix:/run/docker*.sock`).
 *
 * First match wins.  With no `default` line the default is `direct`.
 *
 * `publish` (remote forwards): when the program listens on a TCP port
 * matched by PORT (a port, LOW-HIGH or `*`: any port, ephemeral ones
 * included), the bastion of session NAME (default: the default session)
 * listens on ADDRESS (default: "localhost", as ssh -R) port REMOTEPORT
 * (default: the program's port) and hands connections to the program.
 * `as` needs a single PORT.  `as`, `on` and `via` may come in any order,
 * each once.  First matching publish line wins; `default` plays no part.
 *
 * Clarifications (the implementation in rules.c and match.c follows these):
 *  - Keywords, `via`, `as` and `on` are case-insensitive; a line holds at
 *    most RULES_MAX_LINE - 1 bytes, not counting its newline, and no NUL
 *    byte.
 *    Inside double quotes, \" and \\ are escapes; '#' starts a comment only
 *    at the start of an unquoted word.
 *  - Sessions may be defined anywhere in the rule set (before or after the
 *    `tunnel via` lines naming them, in any included file); unknown `via`
 *    names are reported after the whole set is read.  `default` and each
 *    synthetic pool (v4, v6) may be given once.
 *  - Session names are [A-Za-z0-9._-] and do not start with '-'.  A
 *    destination has no blanks, control characters or '"' and does not
 *    start with '-' or '#' (it ends up on ssh's command line).  An option
 *    is Key=Value with an alphanumeric Key.
 *  - An unbracketed pattern with two or more ':' is an IPv6 address or
 *    network without a port.  A network must have no bits set past its
 *    prefix length.  An IPv6 network inside ::ffff:0:0/96 is an IPv4
 *    network (v4-mapped addresses are matched as IPv4); other IPv6
 *    networks, ::/0 included, never match a v4-mapped address.  A host
 *    glob's trailing dot is ignored, as is a name's.  Ports are 1-65535.
 *  - Includes resolve `~/` against $HOME (secure_getenv), must name
 *    regular files and nest at most RULES_MAX_INCLUDE_DEPTH deep.
 *  - `unix:` (any case) followed by anything but a digit starts a unix
 *    pattern (`unix:22` stays the host "unix", port 22).  Its PATH is
 *    absolute, has no control characters, and its non-`*` characters
 *    number at most RULES_MAX_UNIX_PATH (it could match nothing longer).
 *    `*` matches any run of characters, '/' included (fnmatch without
 *    FNM_PATHNAME), `?` one character; there is no escape, and matching
 *    is case-sensitive and byte for byte (no path normalization).
 *  - Unix patterns match only AF_UNIX paths; `*`, name and address
 *    patterns never match one.  A path no unix pattern matches is direct
 *    whatever `default` says.
 *  - publish: PORT and REMOTEPORT are 1-65535 (a range LOW <= HIGH; LOW-LOW
 *    counts as a single port, dumped as LOW);
 *    ADDRESS is 1-RULES_MAX_ADDRESS bytes without blanks or control
 *    characters, passed to the bastion as written (`*`, `0.0.0.0`, `::`,
 *    a name or an address).  Unknown `via` names are reported at the end,
 *    as for tunnel.
 *  - resolver: ADDRESS as for publish's `on`, but not `*`; passed to the
 *    bastion as written (it may be a name the bastion resolves).  One per
 *    session (`via` naming the default session counts as the default);
 *    `via` is checked like tunnel's.
 */
#ifndef TW_RULES_H
#define TW_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

enum rules_action {
	RULES_DIRECT = 0,
	RULES_TUNNEL = 1,
	RULES_DENY = 2,
};

#define RULES_MAX_INCLUDE_DEPTH	8
#define RULES_MAX_LINE		4096
#define RULES_MAX_UNIX_PATH	107	/* sizeof(sun_path) - 1 on Linux */
#define RULES_MAX_ADDRESS	255	/* publish ... on ADDRESS */

struct rules;				/* opaque, immutable once parsed */

/* One ssh destination named by a `session` line. */
struct rules_session {
	const char	 *name;		/* NAME */
	const char	 *dest;		/* [user@]host[:port] as written */
	const char	**options;	/* "Key=Value" strings, as written */
	size_t		  noptions;
	const char	 *file;		/* where it was defined (NULL, 0: */
	int		  line;		/* made by rules_set_default_dest) */
};

/* What decided a destination. */
struct rules_match {
	enum rules_action action;
	const char	*session;	/* `via` NAME, else the default session's
					   name, else NULL (no session); always
					   NULL unless action is RULES_TUNNEL */
	const char	*file;		/* origin of the deciding rule; for the */
	int		 line;		/* default: file of `default` or NULL/0 */
	const char	*pattern;	/* pattern text that matched, or NULL
					   when the default decided */
};

/* What a `publish` line asks for a local listening port. */
struct rules_publish {
	uint16_t	 remote_port;	/* `as`; 0 = same as local */
	const char	*address;	/* `on` as written, else "localhost" */
	const char	*session;	/* `via` NAME, else the default session's
					   name, else NULL (no session) */
	const char	*file;		/* origin of the publish line */
	int		 line;
};

/*
 * Error reporter: called once per error with a complete message of the form
 * "FILE:LINE: what is wrong" (no trailing newline), or "FILE: what is wrong"
 * for a top-level file that cannot be read.  errfn may be NULL.
 */
typedef void rules_error_fn(void *arg, const char *msg);

/*
 * Parse the rules file at path.  Every error of the file (and of its
 * includes) is reported through errfn before failing.  Returns 0 and sets
 * *out, or -1 after at least one error (then *out is NULL).  A file that
 * cannot be opened is one error naming the file and strerror(errno).
 */
int	 rules_parse_file(const char *path, struct rules **out,
	    rules_error_fn *errfn, void *arg);

/*
 * Parse rules from a string; name is used as FILE in messages and as the
 * origin of rules.  Relative includes resolve against the current
 * directory.  The text may carry origin markers written by rules_dump()
 * ("#@ FILE:LINE" comment lines, which set the origin of the next
 * statement), so a dump re-parses with the original FILE:LINE; in FILE,
 * "\\" is a backslash and "\ooo" (octal) a control character.  Lines after
 * that statement count on from LINE, like cpp's #line.  A name of NULL
 * means "-".  (Included files do not honour markers.)
 */
int	 rules_parse_string(const char *text, const char *name,
	    struct rules **out, rules_error_fn *errfn, void *arg);

void	 rules_free(struct rules *);

/*
 * Write a normalized dump that re-parses (rules_parse_string) to the same
 * rule set, includes expanded, with origin markers.  Returns the length the
 * full dump needs (excluding NUL), like snprintf; buf may be NULL if len
 * is 0.
 */
size_t	 rules_dump(const struct rules *, char *buf, size_t len);

/*
 * Decide a destination given by host name (not an address literal).
 * port 0 means "port unknown" (the resolver hooks, deciding whether a name
 * is resolved remotely): port restrictions are then ignored, so the first
 * rule whose host part matches decides, except that a `direct` rule with a
 * port part is passed over: it cannot say the name goes direct on every
 * port.  So a name is direct at port 0 only if no port of it is tunneled
 * or denied by an earlier rule.  Address patterns never
 * match a name; `*` does.  Returns the action and fills *m if not NULL.
 */
enum rules_action rules_match_name(const struct rules *, const char *name,
	    uint16_t port, struct rules_match *m);

/*
 * Decide a destination given by address (AF_INET or AF_INET6 sockaddr with
 * the port in it; a v4-mapped IPv6 address is matched as IPv4).  Name
 * patterns never match an address; `*` does.  As for names, port 0 ignores
 * port restrictions.  Any other family (or sa NULL) is RULES_DIRECT without
 * consulting the rules, with pattern, file and session NULL.
 */
enum rules_action rules_match_addr(const struct rules *,
	    const struct sockaddr *sa, struct rules_match *m);

/*
 * Decide a connect() to an AF_UNIX socket path, NUL-terminated, as the
 * program gave it.  Only unix: patterns match; if none does, the answer
 * is RULES_DIRECT with session, file, pattern NULL and line 0, whatever
 * `default` says.  Every pattern starts with '/', so a relative path
 * matches none; pass a Linux abstract name with '@' for its leading NUL
 * (as ss(8) shows it) so that none matches it either: the abstract
 * "\0/tmp/.X11-unix/X0" is no file.  path NULL is RULES_DIRECT.  Fills *m
 * if not NULL.
 */
enum rules_action rules_match_unix(const struct rules *, const char *path,
	    struct rules_match *m);

/* Nonzero if any rule has a unix: pattern (cheap check for the connect()
   hook on AF_UNIX). */
int	 rules_have_unix(const struct rules *);

/*
 * First publish line matching a local listening port; returns 1 and fills
 * *p, or 0 (and zeroes *p).  local_port 0 matches no line (a listening
 * socket always has a port: pass the one getsockname() reports).  p may be
 * NULL.
 */
int	 rules_match_publish(const struct rules *, uint16_t local_port,
	    struct rules_publish *p);

/* Nonzero if the rules have any publish line (a cheap check for the
   listen() hook). */
int	 rules_have_publish(const struct rules *);

/* Sessions in file order; the first is the default.  NULL past the end. */
const struct rules_session *rules_session_at(const struct rules *, size_t i);
const struct rules_session *rules_session_find(const struct rules *,
	    const char *name);

/*
 * Replace the destination of the default session (creating a session
 * named "default" if the rules have none): what `-H` does.  Returns 0 or
 * -1 (ENOMEM, or EINVAL for a destination a session line would refuse).
 * Not thread-safe: call it before sharing the rules.
 */
int	 rules_set_default_dest(struct rules *, const char *dest);

/*
 * Synthetic pools: the `synthetic` lines, or the built-in defaults
 * 198.18.0.0/15 and fd7a:7477:7261::/48 when absent.  Fills a network
 * address and prefix length.
 */
void	 rules_synthetic_v4(const struct rules *, struct in_addr *net,
	    int *prefixlen);
void	 rules_synthetic_v6(const struct rules *, struct in6_addr *net,
	    int *prefixlen);

/*
 * Replace a synthetic pool (the family is the CIDR's) with the one a
 * running helper hands out addresses from, so that the shim knows them for
 * its own.  Returns 0 or -1 (EINVAL for a malformed CIDR, ENOMEM).  Not
 * thread-safe: call it before sharing the rules.
 */
int	 rules_set_synthetic(struct rules *, const char *cidr);

const char *rules_action_name(enum rules_action);

/*
 * The `resolver` address for the session named (NULL: the default
 * session), as written; NULL when the rules name none.
 */
const char *rules_resolver(const struct rules *, const char *session);

#endif
