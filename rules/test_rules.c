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
 * test_rules.c - table-driven unit tests for the rules library.
 *
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g \
 *	-fsanitize=address,undefined rules/rules.c rules/match.c rules/dump.c \
 *	rules/test_rules.c -o /tmp/test_rules && /tmp/test_rules
 *
 * Prints one line per failed check, then "N passed, M failed"; exits 1 on
 * any failure.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
#include "rules-int.h"

static int npass, nfail;
static char tmpdir[256];	/* short, so paths built on it fit */

static void
check(int ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		npass++;
		return;
	}
	nfail++;
	printf("FAIL test_rules.c:%d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define CHECK(ok, ...)	check((ok), __LINE__, __VA_ARGS__)

static const char *
nz(const char *s)
{
	return s ? s : "(null)";
}

/* Errors collected as "msg\n" lines. */
struct errs {
	char	buf[16384];
	size_t	len;
	int	count;
};

static void
collect(void *arg, const char *msg)
{
	struct errs *e = arg;
	int n;

	n = snprintf(e->buf + e->len, sizeof(e->buf) - e->len, "%s\n", msg);
	if (n > 0 && (size_t)n < sizeof(e->buf) - e->len)
		e->len += (size_t)n;
	e->count++;
}

static struct rules *
parse(const char *text, struct errs *e)
{
	struct rules *r;

	memset(e, 0, sizeof(*e));
	if (rules_parse_string(text, "rules", &r, collect, e) == -1)
		return NULL;
	return r;
}

static void
writefile(const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		printf("cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

#define WF(name, text)	writefile((name), (text), strlen(text))

static void
tmpath(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static char	*roundtrip(struct rules *, const char *);

/* Each input's complete error output, in order. */
static const struct {
	const char *text, *errors;
} error_tests[] = {
	{ "tunel *\n", "rules:1: unknown keyword \"tunel\"\n" },
	{ "\n\n\ntunnel 10.0.0.0/33\n",
	  "rules:4: bad pattern \"10.0.0.0/33\": prefix length out of range\n" },
	{ "\n\n\n\ndirect host:90-80\n",
	  "rules:5: bad port range \"90-80\"\n" },
	{ "direct host:0", "rules:1: bad port \"0\"\n" },
	{ "direct host:65536", "rules:1: bad port \"65536\"\n" },
	{ "direct host:", "rules:1: bad port \"\"\n" },
	{ "direct host:x-1", "rules:1: bad port range \"x-1\"\n" },
	{ "direct host:1-", "rules:1: bad port range \"1-\"\n" },
	{ "direct [::1]:ssh", "rules:1: bad port \"ssh\"\n" },
	{ "\n\n\n\n\ntunnel via corp *\n",
	  "rules:6: tunnel via \"corp\": no such session\n" },
	{ "default tunel\n",
	  "rules:1: default: expected tunnel, direct or deny\n" },
	{ "default\n", "rules:1: default: expected tunnel, direct or deny\n" },
	{ "default deny direct\n",
	  "rules:1: default: expected tunnel, direct or deny\n" },
	{ "default deny\ndefault tunnel\n",
	  "rules:2: duplicate default (first defined at rules:1)\n" },
	{ "session\n", "rules:1: session: missing name\n" },
	{ "session corp\n", "rules:1: session \"corp\": missing destination\n" },
	{ "session -x host\n", "rules:1: session: bad name \"-x\"\n" },
	{ "session \"a b\" host\n", "rules:1: session: bad name \"a b\"\n" },
	{ "session c -oProxyCommand=sh\n",
	  "rules:1: session \"c\": bad destination \"-oProxyCommand=sh\"\n" },
	{ "session c \"h h\"\n", "rules:1: session \"c\": bad destination "
	  "\"h h\"\n" },
	{ "session c h foo =v Key=v K-y=v A=\n",
	  "rules:1: session \"c\": bad option \"foo\": expected Key=Value\n"
	  "rules:1: session \"c\": bad option \"=v\": expected Key=Value\n"
	  "rules:1: session \"c\": bad option \"K-y=v\": expected Key=Value\n" },
	{ "session c h\nsession d h\nsession c h2\n",
	  "rules:3: duplicate session \"c\" (first defined at rules:1)\n" },
	{ "tunnel\n", "rules:1: tunnel: expected at least one pattern\n" },
	{ "direct\n", "rules:1: direct: expected at least one pattern\n" },
	{ "deny # nothing\n", "rules:1: deny: expected at least one pattern\n" },
	{ "tunnel via\n", "rules:1: tunnel: via: expected a session name\n" },
	{ "tunnel via corp\n",
	  "rules:1: tunnel: expected at least one pattern\n" },
	{ "tunnel via *.corp x\n",
	  "rules:1: tunnel: via: bad session name \"*.corp\"\n" },
	{ "direct via x y\n", "rules:1: direct: \"via\" only applies to tunnel\n" },
	{ "deny VIA x y\n", "rules:1: deny: \"via\" only applies to tunnel\n" },
	{ "direct 10.0.0.1/8\n", "rules:1: bad pattern \"10.0.0.1/8\": "
	  "host bits set beyond prefix length\n" },
	{ "direct 10.0.0.256\n",
	  "rules:1: bad pattern \"10.0.0.256\": bad IPv4 address\n" },
	{ "direct 1.2.3\n", "rules:1: bad pattern \"1.2.3\": bad IPv4 address\n" },
	{ "direct foo/24\n",
	  "rules:1: bad pattern \"foo/24\": bad IPv4 address\n" },
	{ "direct 10.0.0.0/\n",
	  "rules:1: bad pattern \"10.0.0.0/\": missing prefix length\n" },
	{ "direct 10.0.0.0/x\n",
	  "rules:1: bad pattern \"10.0.0.0/x\": bad prefix length\n" },
	{ "direct 10.0.0.0/99999999999999999999\n",
	  "rules:1: bad pattern \"10.0.0.0/99999999999999999999\": "
	  "prefix length out of range\n" },
	{ "direct 2001:db8::/129\n",
	  "rules:1: bad pattern \"2001:db8::/129\": prefix length out of range\n" },
	{ "direct 2001:db8::g\n",
	  "rules:1: bad pattern \"2001:db8::g\": bad IPv6 address\n" },
	{ "direct fe80::1%eth0\n",
	  "rules:1: bad pattern \"fe80::1%eth0\": bad IPv6 address\n" },
	{ "direct [::1\n", "rules:1: bad pattern \"[::1\": missing ']'\n" },
	{ "direct [10.0.0.1]:80\n", "rules:1: bad pattern \"[10.0.0.1]:80\": "
	  "expected an IPv6 address in brackets\n" },
	{ "direct [::1]x\n",
	  "rules:1: bad pattern \"[::1]x\": unexpected text after ']'\n" },
	{ "direct [2001:db8::1]/32:22\n", "rules:1: bad pattern "
	  "\"[2001:db8::1]/32:22\": host bits set beyond prefix length\n" },
	{ "direct \"ho st\" a,b\n",
	  "rules:1: bad pattern \"ho st\": invalid character in host name\n"
	  "rules:1: bad pattern \"a,b\": invalid character in host name\n" },
	{ "direct . :22 \"\"\n",
	  "rules:1: bad pattern \".\": empty host\n"
	  "rules:1: bad pattern \":22\": empty host\n"
	  "rules:1: bad pattern \"\": empty pattern\n" },
	{ "synthetic\n", "rules:1: synthetic: expected at least one CIDR\n" },
	{ "synthetic 10.0.0.0/31\n", "rules:1: synthetic: bad pool "
	  "\"10.0.0.0/31\": IPv4 pool prefix length must be at most 30\n" },
	{ "synthetic fd00::/121\n", "rules:1: synthetic: bad pool "
	  "\"fd00::/121\": IPv6 pool prefix length must be at most 120\n" },
	{ "synthetic foo 10.0.0.0/33\n",
	  "rules:1: synthetic: bad pool \"foo\": bad IPv4 address\n"
	  "rules:1: synthetic: bad pool \"10.0.0.0/33\": "
	  "prefix length out of range\n" },
	{ "synthetic 10.0.0.0/8 fd00::/64\nsynthetic 10.1.0.0/16 fd01::/64\n",
	  "rules:2: synthetic: duplicate IPv4 pool (first defined at rules:1)\n"
	  "rules:2: synthetic: duplicate IPv6 pool (first defined at rules:1)\n" },
	{ "include\n", "rules:1: include: expected a file name\n" },
	{ "include \"\"\n", "rules:1: include: expected a file name\n" },
	{ "include a b\n", "rules:1: include: unexpected argument \"b\"\n" },
	{ "include /nonexistent/x\n", "rules:1: include \"/nonexistent/x\": "
	  "No such file or directory\n" },
	{ "include /\n", "rules:1: include \"/\": Is a directory\n" },
	{ "include /dev/null\n",
	  "rules:1: include \"/dev/null\": not a regular file\n" },
	{ "tunnel \"abc\n", "rules:1: unterminated quote\n" },
	{ "tunnel abc\"\n", "rules:1: unterminated quote\n" },
	/* All errors of a file, in order, then the `via` check. */
	{ "tunnel via nope a\ntunel\nsession x h\nsession x h\ndirect :0\n",
	  "rules:2: unknown keyword \"tunel\"\n"
	  "rules:4: duplicate session \"x\" (first defined at rules:3)\n"
	  "rules:5: bad pattern \":0\": empty host\n"
	  "rules:1: tunnel via \"nope\": no such session\n" },
	/* Markers move positions; lines count on from the marker. */
	{ "#@ orig.rules:40\n\ntunel\nfoo\n#@ other:7\n#x\nbar\n",
	  "orig.rules:40: unknown keyword \"tunel\"\n"
	  "orig.rules:41: unknown keyword \"foo\"\n"
	  "other:7: unknown keyword \"bar\"\n" },
	{ "#@ a:b:c:9\nfoo\n", "a:b:c:9: unknown keyword \"foo\"\n" },
	{ "#@ bad marker\nfoo\n", "rules:2: unknown keyword \"foo\"\n" },
	{ "#@ x:99999999999\nfoo\n", "rules:2: unknown keyword \"foo\"\n" },
	/* Marker FILEs escape '\' and control characters (\ooo). */
	{ "#@ a\\\\b\\012c:5\nfoo\n", "a\\b\nc:5: unknown keyword \"foo\"\n" },
	{ "#@ a\\q:5\nfoo\n", "rules:2: unknown keyword \"foo\"\n" },
	{ "#@ a\\000:5\nfoo\n", "rules:2: unknown keyword \"foo\"\n" },
	{ "#@ a\\01:5\nfoo\n", "rules:2: unknown keyword \"foo\"\n" },
	/* publish */
	{ "publish\n", "rules:1: publish: expected a port, a range or *\n" },
	{ "publish # 80\n",
	  "rules:1: publish: expected a port, a range or *\n" },
	{ "publish AS 80\n",
	  "rules:1: publish: expected a port, a range or *\n" },
	{ "publish via\n",
	  "rules:1: publish: expected a port, a range or *\n"
	  "rules:1: publish: via: expected a session name\n" },
	{ "publish http\n", "rules:1: publish: bad port \"http\"\n" },
	{ "publish 0\n", "rules:1: publish: bad port \"0\"\n" },
	{ "publish 65536\n", "rules:1: publish: bad port \"65536\"\n" },
	{ "publish **\n", "rules:1: publish: bad port \"**\"\n" },
	{ "publish 8080:80\n", "rules:1: publish: bad port \"8080:80\"\n" },
	{ "publish 90-80\n", "rules:1: publish: bad port range \"90-80\"\n" },
	{ "publish 1-\n", "rules:1: publish: bad port range \"1-\"\n" },
	{ "publish 8000-8100 as 80\n",
	  "rules:1: publish: \"as\" needs a single port\n" },
	{ "publish * as 0\n",
	  "rules:1: publish: \"as\" needs a single port\n" },
	{ "publish * as 8080\n",
	  "rules:1: publish: \"as\" needs a single port\n" },
	{ "publish 80 as 0\n", "rules:1: publish: bad remote port \"0\"\n" },
	{ "publish 80 as 65536\n",
	  "rules:1: publish: bad remote port \"65536\"\n" },
	{ "publish 80 as 81-82\n",
	  "rules:1: publish: bad remote port \"81-82\"\n" },
	{ "publish 80 as 81-81\n",
	  "rules:1: publish: bad remote port \"81-81\"\n" },
	{ "publish 80 as *\n", "rules:1: publish: bad remote port \"*\"\n" },
	{ "publish 80 as\n", "rules:1: publish: as: expected a port\n" },
	{ "publish 80 on\n", "rules:1: publish: on: expected an address\n" },
	{ "publish 80 via\n",
	  "rules:1: publish: via: expected a session name\n" },
	{ "publish 80 via -x\n",
	  "rules:1: publish: via: bad session name \"-x\"\n" },
	{ "publish 80 via *\n",
	  "rules:1: publish: via: bad session name \"*\"\n" },
	{ "publish 80 on \"a b\"\n",
	  "rules:1: publish: bad address \"a b\"\n" },
	{ "publish 80 on \"\"\n", "rules:1: publish: bad address \"\"\n" },
	{ "publish 80 on \"a\tb\"\n",
	  "rules:1: publish: bad address \"a\tb\"\n" },
	{ "publish 80 81\n", "rules:1: publish: unexpected \"81\"\n" },
	{ "publish 80 to 81 as x\n", "rules:1: publish: unexpected \"to\"\n" },
	{ "publish 80 on h as 81 on h\n",
	  "rules:1: publish: duplicate \"on\"\n" },
	{ "publish 80 as 81 AS 82\n", "rules:1: publish: duplicate \"as\"\n" },
	{ "session a h\npublish 80 Via a vIa a\n",
	  "rules:2: publish: duplicate \"via\"\n" },
	/* Every error of the line, in word order. */
	{ "publish x as y on \"\" via -\n",
	  "rules:1: publish: bad port \"x\"\n"
	  "rules:1: publish: bad remote port \"y\"\n"
	  "rules:1: publish: bad address \"\"\n"
	  "rules:1: publish: via: bad session name \"-\"\n" },
	{ "\n\npublish 80 via nope\n",
	  "rules:3: publish via \"nope\": no such session\n" },
	/* Unknown sessions in statement order, tunnel and publish mixed. */
	{ "publish 1 via a\ntunnel via b x\npublish 2 via c\ntunnel via d y\n",
	  "rules:1: publish via \"a\": no such session\n"
	  "rules:2: tunnel via \"b\": no such session\n"
	  "rules:3: publish via \"c\": no such session\n"
	  "rules:4: tunnel via \"d\": no such session\n" },
	/* resolver */
	{ "resolver\n", "rules:1: resolver: expected an address and "
	  "optionally via NAME\n" },
	{ "resolver a b\n", "rules:1: resolver: expected an address and "
	  "optionally via NAME\n" },
	{ "resolver a via\n", "rules:1: resolver: expected an address and "
	  "optionally via NAME\n" },
	{ "resolver *\n", "rules:1: resolver: bad address \"*\"\n" },
	{ "resolver \"a b\"\n", "rules:1: resolver: bad address \"a b\"\n" },
	{ "resolver a via -x\n",
	  "rules:1: resolver: via: bad session name \"-x\"\n" },
	{ "resolver 10.0.0.53\nresolver 10.0.0.54\n",
	  "rules:2: resolver: duplicate for the default session (first "
	  "defined at rules:1)\n" },
	{ "session a h\nresolver x VIA a\nresolver y via a\n",
	  "rules:3: resolver: duplicate for session a (first defined at "
	  "rules:2)\n" },
	{ "\nresolver 10.0.0.53 via nope\n",
	  "rules:2: resolver via \"nope\": no such session\n" },
	/* unix: patterns */
	{ "direct unix:relative.sock\n", "rules:1: bad pattern "
	  "\"unix:relative.sock\": path must be absolute\n" },
	{ "tunnel unix:\n",
	  "rules:1: bad pattern \"unix:\": path must be absolute\n" },
	{ "deny UNIX:*.sock\n",
	  "rules:1: bad pattern \"UNIX:*.sock\": path must be absolute\n" },
	{ "deny \"unix:/a\tb\"\n",
	  "rules:1: bad pattern \"unix:/a\tb\": invalid character in path\n" },
	{ "deny \"unix:/a\x7f\"\n",
	  "rules:1: bad pattern \"unix:/a\x7f\": invalid character in path\n" },
	/* A digit after "unix:" makes it host "unix" with a port. */
	{ "direct unix:22x\n", "rules:1: bad port \"22x\"\n" },
	{ "direct unix:0\n", "rules:1: bad port \"0\"\n" },
};

static void
test_errors(void)
{
	struct rules *r;
	struct errs e;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(error_tests) / sizeof(error_tests[0]); i++) {
		memset(&e, 0, sizeof(e));
		r = (struct rules *)1;
		rc = rules_parse_string(error_tests[i].text, "rules", &r,
		    collect, &e);
		CHECK(rc == -1 && r == NULL, "error test %zu: rc %d", i, rc);
		CHECK(strcmp(e.buf, error_tests[i].errors) == 0,
		    "error test %zu: %s\n  got:\n%s  want:\n%s", i,
		    error_tests[i].text, e.buf, error_tests[i].errors);
		rules_free(rc == 0 ? r : NULL);
	}
}

/* Inputs that must parse without a word. */
static const char *ok_tests[] = {
	"",
	"\n\n   \n# just a comment\n",
	"tunnel via corp *\nsession corp h\n",	/* sessions anywhere */
	"TUNNEL Via corp a\nSession corp h\nDefault DENY\n",
	"session c h K=a#b \"L=#c\" # comment\n",
	"session c h K=\"v w\" A=\"q\\\"q\" B=x\\y\n",
	"direct \"*.example\"\"Com\"\r\n",
	"direct [::1] [::1]:22 [2001:db8::]/32:22-23 ::1 10.0.0.0/8:1-65535\n",
	"direct ::ffff:10.0.0.0/104 * *:443 *. a_b-c.d?\n",
	"synthetic 10.0.0.0/30 fd00::/120\n",
	"#@ x:1\n#@ y:2\n",
	"publish 8080\npublish 5432 as 15432 on 0.0.0.0 via corp\n"
	    "session corp h\npublish * ON :: VIA corp\n"
	    "publish 1-65535 on \"#x\" # comment\n",
	"Publish 08080 via corp AS 00081 on \"a\\\"b\\\\\"\nsession corp h\n"
	    "publish 7-7 as 9 on *\n",
	"tunnel unix:/var/run/docker.sock UNIX:/run/*.sock unix:22 "
	    "\"unix:/a b\" unix:/\n",
	"session s h\ntunnel via s unix:/x?y\\z \"unix:/q\\\"\"\n"
	    "deny Unix://\n",
};

static void
test_ok(void)
{
	struct rules *r;
	struct errs e;
	size_t i;

	for (i = 0; i < sizeof(ok_tests) / sizeof(ok_tests[0]); i++) {
		r = parse(ok_tests[i], &e);
		CHECK(r != NULL && e.count == 0, "ok test %zu: %s\n  got:\n%s",
		    i, ok_tests[i], e.buf);
		rules_free(r);
	}
}

static void
test_glob(void)
{
	static const struct {
		const char *pat, *s;
		int want;
	} t[] = {
		{ "*", "", 1 }, { "*", "abc", 1 }, { "a*", "a", 1 },
		{ "*.corp", "x.corp", 1 }, { "*.corp", "a.b.corp", 1 },
		{ "*.corp", "corp", 0 }, { "*.corp", "x.corpx", 0 },
		{ "?", "a", 1 }, { "?", "", 0 }, { "?", "ab", 0 },
		{ "a?c", "abc", 1 }, { "a?c", "ac", 0 },
		{ "HOST", "host", 1 }, { "host", "HoSt", 1 },
		{ "*a*b*c", "xxaybzc", 1 }, { "*a*b*c", "xxaybz", 0 },
		{ "a**b", "ab", 1 }, { "*?", "", 0 }, { "*?", "x", 1 },
		{ "a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
		{ "", "", 1 }, { "", "a", 0 }, { "ab", "a", 0 },
	};

	/* Paths: case matters, `*` crosses '/'. */
	static const struct {
		const char *pat, *s;
		int want;
	} u[] = {
		{ "/a/*", "/a/b/c", 1 }, { "/a/*", "/a/", 1 },
		{ "/a/*", "/a", 0 }, { "/A", "/a", 0 }, { "/a", "/A", 0 },
		{ "/a?c", "/a/c", 1 }, { "/*.sock", "/run/x.sock", 1 },
		{ "/*.sock", "/run/x.sock/", 0 }, { "/x", "/x/", 0 },
		{ "/run/docker*.sock", "/run/docker.sock", 1 },
		{ "/run/docker*.sock", "/run/Docker.sock", 0 },
		{ "/\xc3\xa9", "/\xc3\xa9", 1 }, { "/?", "/\xc3\xa9", 0 },
		{ "/??", "/\xc3\xa9", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(rules_glob_match(t[i].pat, strlen(t[i].pat), t[i].s,
		    strlen(t[i].s)) == t[i].want, "glob \"%s\" \"%s\" != %d",
		    t[i].pat, t[i].s, t[i].want);
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		CHECK(rules_path_match(u[i].pat, strlen(u[i].pat), u[i].s,
		    strlen(u[i].s)) == u[i].want, "path \"%s\" \"%s\" != %d",
		    u[i].pat, u[i].s, u[i].want);
}

static void
test_cidr(void)
{
	static const struct {
		const char *net, *addr;
		int want;
	} t[] = {
		{ "10.0.0.0/8", "10.255.1.2", 1 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "0.0.0.0/0", "1.2.3.4", 1 }, { "1.2.3.4", "1.2.3.4", 1 },
		{ "1.2.3.4", "1.2.3.5", 0 },
		{ "192.168.4.0/22", "192.168.7.255", 1 },
		{ "192.168.4.0/22", "192.168.8.0", 0 },
		{ "172.16.0.0/12", "172.31.0.1", 1 },
		{ "172.16.0.0/12", "172.32.0.1", 0 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 }, { "::/0", "::1", 1 },
		{ "fe80::/10", "febf::1", 1 }, { "fe80::/10", "fec0::1", 0 },
		{ "::1", "::1", 1 }, { "::1", "::2", 0 },
	};
	uint8_t net[16], a[16];
	const char *why;
	size_t i;
	int fam, plen, afam;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(a, 0, sizeof(a));
		afam = strchr(t[i].addr, ':') ? AF_INET6 : AF_INET;
		if (rules_net_parse(t[i].net, strlen(t[i].net), net, &fam,
		    &plen, &why) == -1 || inet_pton(afam, t[i].addr, a) != 1) {
			CHECK(0, "cidr %s %s: parse", t[i].net, t[i].addr);
			continue;
		}
		CHECK(rules_cidr_match(net, (unsigned)plen, a) == t[i].want,
		    "cidr %s %s != %d", t[i].net, t[i].addr, t[i].want);
	}
}

static const char match_rules[] =
	"session corp alice@bastion\n"				/* 1 */
	"session lab lab.example:2222 ServerAliveInterval=30\n"	/* 2 */
	"deny evil.example *.evil.example\n"			/* 3 */
	"tunnel via lab *.LAB [2001:db8:1::]/48:22 192.168.7.0/24\n" /* 4 */
	"direct ssh.corp:22 10.1.0.0/16:80-81\n"		/* 5 */
	"tunnel *.corp 10.0.0.0/8 ::ffff:172.16.0.0/108\n"	/* 6 */
	"direct host?.example.:8000-8999 [::1]\n"		/* 7 */
	"deny *:25\n"						/* 8 */
	"default tunnel\n";					/* 9 */

static const struct {
	const char *name;	/* a name ... */
	const char *addr;	/* ... or an address */
	uint16_t port;
	enum rules_action want;
	int line;		/* 0: the default decided */
	const char *pattern, *session;
} match_tests[] = {
	{ "evil.example", NULL, 443, RULES_DENY, 3, "evil.example", NULL },
	{ "EVIL.example.", NULL, 0, RULES_DENY, 3, "evil.example", NULL },
	{ "a.b.evil.example", NULL, 80, RULES_DENY, 3, "*.evil.example", NULL },
	{ "x.lab", NULL, 80, RULES_TUNNEL, 4, "*.LAB", "lab" },
	{ "ssh.corp", NULL, 22, RULES_DIRECT, 5, "ssh.corp:22", NULL },
	/* Port 0: a port-limited direct rule passes (issue 13, item 6). */
	{ "ssh.corp", NULL, 0, RULES_TUNNEL, 6, "*.corp", "corp" },
	{ "ssh.corp", NULL, 443, RULES_TUNNEL, 6, "*.corp", "corp" },
	{ "www.corp.", NULL, 80, RULES_TUNNEL, 6, "*.corp", "corp" },
	{ "host1.example", NULL, 8080, RULES_DIRECT, 7,
	  "host?.example.:8000-8999", NULL },
	{ "host1.example.", NULL, 0, RULES_DENY, 8, "*:25", NULL },
	{ "host1.example", NULL, 9000, RULES_TUNNEL, 0, NULL, "corp" },
	{ "host12.example", NULL, 8080, RULES_TUNNEL, 0, NULL, "corp" },
	{ "mail.example", NULL, 25, RULES_DENY, 8, "*:25", NULL },
	/* Port 0: the first host match decides, whatever its ports (but
	 * for a port-limited direct). */
	{ "mail.example", NULL, 0, RULES_DENY, 8, "*:25", NULL },
	{ "10.0.0.1", NULL, 80, RULES_TUNNEL, 0, NULL, "corp" },
	{ "", NULL, 1, RULES_TUNNEL, 0, NULL, "corp" },
	{ NULL, "192.168.7.9", 443, RULES_TUNNEL, 4, "192.168.7.0/24", "lab" },
	{ NULL, "2001:db8:1:2::3", 22, RULES_TUNNEL, 4,
	  "[2001:db8:1::]/48:22", "lab" },
	{ NULL, "2001:db8:1:2::3", 23, RULES_TUNNEL, 0, NULL, "corp" },
	{ NULL, "2001:db8:1:2::3", 0, RULES_TUNNEL, 4,
	  "[2001:db8:1::]/48:22", "lab" },
	{ NULL, "10.1.2.3", 80, RULES_DIRECT, 5, "10.1.0.0/16:80-81", NULL },
	{ NULL, "10.1.2.3", 81, RULES_DIRECT, 5, "10.1.0.0/16:80-81", NULL },
	{ NULL, "10.1.2.3", 82, RULES_TUNNEL, 6, "10.0.0.0/8", "corp" },
	{ NULL, "::ffff:10.1.2.3", 80, RULES_DIRECT, 5, "10.1.0.0/16:80-81",
	  NULL },
	{ NULL, "::ffff:10.9.9.9", 80, RULES_TUNNEL, 6, "10.0.0.0/8", "corp" },
	{ NULL, "172.16.3.4", 80, RULES_TUNNEL, 6, "::ffff:172.16.0.0/108",
	  "corp" },
	{ NULL, "::ffff:172.16.3.4", 80, RULES_TUNNEL, 6,
	  "::ffff:172.16.0.0/108", "corp" },
	{ NULL, "::1", 5, RULES_DIRECT, 7, "[::1]", NULL },
	{ NULL, "::2", 25, RULES_DENY, 8, "*:25", NULL },
	{ NULL, "8.8.8.8", 53, RULES_TUNNEL, 0, NULL, "corp" },
	/* Names never match address patterns and vice versa. */
	{ "192.168.7.9", NULL, 443, RULES_TUNNEL, 0, NULL, "corp" },
	{ NULL, "1.2.3.4", 8080, RULES_TUNNEL, 0, NULL, "corp" },
};

static void
test_match(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un sun;
	struct rules_match m;
	struct rules *r;
	struct errs e;
	enum rules_action a;
	size_t i;

	if ((r = parse(match_rules, &e)) == NULL) {
		CHECK(0, "match rules: %s", e.buf);
		return;
	}
	for (i = 0; i < sizeof(match_tests) / sizeof(match_tests[0]); i++) {
		memset(&m, 0xa5, sizeof(m));
		if (match_tests[i].name != NULL)
			a = rules_match_name(r, match_tests[i].name,
			    match_tests[i].port, &m);
		else {
			memset(&ss, 0, sizeof(ss));
			if (strchr(match_tests[i].addr, ':')) {
				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons(match_tests[i].port);
				inet_pton(AF_INET6, match_tests[i].addr,
				    &sin6->sin6_addr);
			} else {
				sin->sin_family = AF_INET;
				sin->sin_port = htons(match_tests[i].port);
				inet_pton(AF_INET, match_tests[i].addr,
				    &sin->sin_addr);
			}
			a = rules_match_addr(r, (struct sockaddr *)&ss, &m);
		}
		CHECK(a == match_tests[i].want && m.action == a &&
		    m.line == (match_tests[i].line ? match_tests[i].line : 9) &&
		    strcmp(nz(m.file), "rules") == 0 &&
		    strcmp(nz(m.pattern), nz(match_tests[i].pattern)) == 0 &&
		    strcmp(nz(m.session), nz(match_tests[i].session)) == 0,
		    "match %zu %s port %u: got %s line %d pattern %s "
		    "session %s",
		    i, match_tests[i].name ? match_tests[i].name :
		    match_tests[i].addr, match_tests[i].port,
		    rules_action_name(a), m.line, nz(m.pattern),
		    nz(m.session));
	}
	/* Non-internet sockets are never tunnelled. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memset(&m, 0xa5, sizeof(m));
	a = rules_match_addr(r, (struct sockaddr *)&sun, &m);
	CHECK(a == RULES_DIRECT && m.file == NULL && m.pattern == NULL &&
	    m.session == NULL && m.line == 0, "AF_UNIX");
	CHECK(rules_match_addr(r, NULL, NULL) == RULES_DIRECT, "NULL sa");
	CHECK(rules_match_name(r, "x.lab", 1, NULL) == RULES_TUNNEL, "NULL m");
	rules_free(r);

	/* No rules, no default, no session. */
	r = parse("", &e);
	memset(&m, 0xa5, sizeof(m));
	a = rules_match_name(r, "a", 1, &m);
	CHECK(a == RULES_DIRECT && m.file == NULL && m.line == 0 &&
	    m.pattern == NULL && m.session == NULL, "empty rules");
	rules_free(r);

	/* Tunnel with no session at all: session NULL until -H. */
	r = parse("tunnel *", &e);
	a = rules_match_name(r, "a", 1, &m);
	CHECK(a == RULES_TUNNEL && m.session == NULL && m.line == 1 &&
	    strcmp(nz(m.pattern), "*") == 0, "tunnel without session");
	CHECK(rules_set_default_dest(r, "me@jump:2200") == 0, "set dest");
	rules_match_name(r, "a", 1, &m);
	CHECK(strcmp(nz(m.session), "default") == 0, "-H session %s",
	    nz(m.session));
	rules_free(r);

	/* `*` matches addresses too; first match wins within a line. */
	r = parse("direct 10.0.0.0/8 *\n", &e);
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000001);
	rules_match_addr(r, (struct sockaddr *)&ss, &m);
	CHECK(strcmp(nz(m.pattern), "10.0.0.0/8") == 0, "first pattern");
	sin->sin_addr.s_addr = htonl(0x0b000001);
	rules_match_addr(r, (struct sockaddr *)&ss, &m);
	CHECK(strcmp(nz(m.pattern), "*") == 0, "star matches address");
	rules_free(r);
}

static const char unix_rules[] =
	"session corp alice@bastion\n"				/* 1 */
	"session lab lab.example\n"				/* 2 */
	"direct unix:/var/run/docker-local.sock\n"		/* 3 */
	"tunnel via lab unix:/var/run/lab/* x.lab\n"		/* 4 */
	"tunnel 10.0.0.0/8 unix:/var/run/docker*.sock *\n"	/* 5 */
	"deny \"unix:/tmp/my dir/?.sock\" UNIX:/srv/*/s\n"	/* 6 */
	"default tunnel\n";					/* 7 */

static const struct {
	const char *path;
	enum rules_action want;
	int line;		/* 0: no unix pattern matched: direct */
	const char *pattern, *session;
} unix_tests[] = {
	{ "/var/run/docker.sock", RULES_TUNNEL, 5, "unix:/var/run/docker*.sock",
	  "corp" },
	{ "/var/run/docker-1.sock", RULES_TUNNEL, 5,
	  "unix:/var/run/docker*.sock", "corp" },
	{ "/var/run/docker-local.sock", RULES_DIRECT, 3,
	  "unix:/var/run/docker-local.sock", NULL },
	{ "/var/run/lab/a/b/c", RULES_TUNNEL, 4, "unix:/var/run/lab/*", "lab" },
	{ "/var/run/lab/", RULES_TUNNEL, 4, "unix:/var/run/lab/*", "lab" },
	{ "/tmp/my dir/x.sock", RULES_DENY, 6, "unix:/tmp/my dir/?.sock",
	  NULL },
	{ "/srv/a/b/s", RULES_DENY, 6, "UNIX:/srv/*/s", NULL },
	/* No unix pattern: direct, `*` and `default tunnel` regardless. */
	{ "/var/run/Docker.sock", RULES_DIRECT, 0, NULL, NULL },
	{ "/var/run/docker.sock/", RULES_DIRECT, 0, NULL, NULL },
	{ "/var/run/lab", RULES_DIRECT, 0, NULL, NULL },
	{ "/tmp/my dir/xy.sock", RULES_DIRECT, 0, NULL, NULL },
	{ "/tmp/.X11-unix/X0", RULES_DIRECT, 0, NULL, NULL },
	{ "/srv/s", RULES_DIRECT, 0, NULL, NULL },
	{ "var/run/docker.sock", RULES_DIRECT, 0, NULL, NULL },
	{ "@/var/run/docker.sock", RULES_DIRECT, 0, NULL, NULL },
	{ "", RULES_DIRECT, 0, NULL, NULL },
	{ NULL, RULES_DIRECT, 0, NULL, NULL },
};

static void
test_unix(void)
{
	struct sockaddr_un sun;
	struct rules_match m;
	struct rules *r;
	struct errs e;
	enum rules_action a;
	size_t i;

	if ((r = parse(unix_rules, &e)) == NULL) {
		CHECK(0, "unix rules: %s", e.buf);
		return;
	}
	CHECK(rules_have_unix(r), "have unix");
	for (i = 0; i < sizeof(unix_tests) / sizeof(unix_tests[0]); i++) {
		memset(&m, 0xa5, sizeof(m));
		a = rules_match_unix(r, unix_tests[i].path, &m);
		CHECK(a == unix_tests[i].want && m.action == a &&
		    m.line == unix_tests[i].line &&
		    strcmp(nz(m.file), unix_tests[i].line ? "rules" :
		    "(null)") == 0 &&
		    strcmp(nz(m.pattern), nz(unix_tests[i].pattern)) == 0 &&
		    strcmp(nz(m.session), nz(unix_tests[i].session)) == 0,
		    "unix %zu %s: got %s %s:%d pattern %s session %s", i,
		    nz(unix_tests[i].path), rules_action_name(a), nz(m.file),
		    m.line, nz(m.pattern), nz(m.session));
		CHECK(rules_match_unix(r, unix_tests[i].path, NULL) ==
		    unix_tests[i].want, "unix %zu NULL m", i);
	}
	/* Unix patterns never match names or addresses... */
	rules_match_name(r, "/var/run/lab/x", 0, &m);
	CHECK(m.line == 5 && strcmp(nz(m.pattern), "*") == 0,
	    "name with a slash: %s", nz(m.pattern));
	rules_match_name(r, "unix", 22, &m);
	CHECK(m.line == 5 && strcmp(nz(m.pattern), "*") == 0, "name unix");
	rules_match_name(r, "x.lab", 0, &m);
	CHECK(m.line == 4 && strcmp(nz(m.pattern), "x.lab") == 0, "x.lab");
	/* ... and AF_UNIX sockaddrs stay outside rules_match_addr. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/var/run/docker.sock");
	memset(&m, 0xa5, sizeof(m));
	a = rules_match_addr(r, (struct sockaddr *)&sun, &m);
	CHECK(a == RULES_DIRECT && m.pattern == NULL && m.line == 0,
	    "AF_UNIX sockaddr");
	rules_free(r);

	/* "unix:22" is a host; `*` matches no path. */
	r = parse("tunnel unix:22 *\ndefault deny\n", &e);
	CHECK(r != NULL && !rules_have_unix(r), "unix:22 is a host");
	if (r != NULL) {
		CHECK(rules_match_name(r, "UNIX", 22, &m) == RULES_TUNNEL &&
		    strcmp(nz(m.pattern), "unix:22") == 0, "host unix port 22");
		CHECK(rules_match_unix(r, "/x", &m) == RULES_DIRECT &&
		    m.line == 0, "star and default skip paths");
	}
	rules_free(r);
	r = parse("", &e);
	CHECK(!rules_have_unix(r) && rules_match_unix(r, "/x", NULL) ==
	    RULES_DIRECT, "no rules, no unix");
	rules_free(r);
	/* A failed line leaves no trace; a good one after it counts. */
	r = parse("direct 10.0.0.0/8\ndeny unix:/a\n", &e);
	CHECK(r != NULL && rules_have_unix(r) &&
	    rules_match_unix(r, "/a", NULL) == RULES_DENY, "deny unix");
	rules_free(r);
}

static const char publish_rules[] =
	"session corp alice@bastion\n"				/* 1 */
	"session dev dev.example\n"				/* 2 */
	"publish 8080\n"					/* 3 */
	"publish 5432 as 15432 via dev\n"			/* 4 */
	"publish 6000-6010 on 0.0.0.0\n"			/* 5 */
	"publish 6005 as 7005\n"				/* 6 */
	"tunnel *\n"						/* 7 */
	"PUBLISH 1-1024 VIA corp ON ::\n"			/* 8 */
	"publish * on \"*\" via dev\n"				/* 9 */
	"publish 9999\n";					/* 10 */

static const struct {
	uint16_t port;
	int line;		/* 0: no line */
	uint16_t remote;
	const char *address, *session;
} publish_tests[] = {
	{ 8080, 3, 0, "localhost", "corp" },
	{ 5432, 4, 15432, "localhost", "dev" },
	{ 6000, 5, 0, "0.0.0.0", "corp" },
	{ 6005, 5, 0, "0.0.0.0", "corp" },
	{ 6010, 5, 0, "0.0.0.0", "corp" },
	{ 6011, 9, 0, "*", "dev" },
	{ 1, 8, 0, "::", "corp" },
	{ 80, 8, 0, "::", "corp" },
	{ 1024, 8, 0, "::", "corp" },
	{ 1025, 9, 0, "*", "dev" },
	{ 9999, 9, 0, "*", "dev" },
	{ 65535, 9, 0, "*", "dev" },
	{ 0, 0, 0, NULL, NULL },
};

static void
test_publish(void)
{
	struct rules_publish pb;
	struct rules *r;
	struct errs e;
	size_t i;
	int rc;

	if ((r = parse(publish_rules, &e)) == NULL) {
		CHECK(0, "publish rules: %s", e.buf);
		return;
	}
	CHECK(rules_have_publish(r) && !rules_have_unix(r), "have publish");
	for (i = 0; i < sizeof(publish_tests) / sizeof(publish_tests[0]);
	    i++) {
		memset(&pb, 0xa5, sizeof(pb));
		rc = rules_match_publish(r, publish_tests[i].port, &pb);
		CHECK(rc == (publish_tests[i].line != 0) &&
		    pb.line == publish_tests[i].line &&
		    pb.remote_port == publish_tests[i].remote &&
		    strcmp(nz(pb.file), publish_tests[i].line ? "rules" :
		    "(null)") == 0 &&
		    strcmp(nz(pb.address), nz(publish_tests[i].address)) == 0 &&
		    strcmp(nz(pb.session), nz(publish_tests[i].session)) == 0,
		    "publish %u: got %d line %d as %u on %s via %s",
		    publish_tests[i].port, rc, pb.line, pb.remote_port,
		    nz(pb.address), nz(pb.session));
		CHECK(rules_match_publish(r, publish_tests[i].port, NULL) ==
		    (publish_tests[i].line != 0), "publish %u NULL p",
		    publish_tests[i].port);
	}
	/* publish lines decide nothing about connections. */
	CHECK(rules_match_name(r, "x", 8080, NULL) == RULES_TUNNEL,
	    "publish vs name");
	rules_free(r);

	/* No match: 0, *p zeroed; no session: NULL until -H. */
	r = parse("publish 80\n", &e);
	memset(&pb, 0xa5, sizeof(pb));
	CHECK(r != NULL && rules_match_publish(r, 81, &pb) == 0 &&
	    pb.remote_port == 0 && pb.address == NULL && pb.session == NULL &&
	    pb.file == NULL && pb.line == 0, "publish no match");
	CHECK(rules_match_publish(r, 80, &pb) == 1 && pb.session == NULL &&
	    pb.line == 1, "publish without session");
	CHECK(rules_set_default_dest(r, "me@jump") == 0 &&
	    rules_match_publish(r, 80, &pb) == 1 &&
	    strcmp(nz(pb.session), "default") == 0, "publish -H session %s",
	    nz(pb.session));
	rules_free(r);

	r = parse("tunnel *\n", &e);
	CHECK(!rules_have_publish(r) && rules_match_publish(r, 80, NULL) == 0,
	    "no publish");
	rules_free(r);
	r = parse("publish *\n", &e);
	CHECK(rules_match_publish(r, 0, &pb) == 0 && pb.line == 0 &&
	    rules_match_publish(r, 1, &pb) == 1, "port 0 matches nothing");
	rules_free(r);

	/* Loose addresses: names, wildcards, odd bytes, 255 bytes at most. */
	r = parse("publish 1 on localhost\npublish 2 on 192.0.2.1\n"
	    "publish 3 on [::1]\npublish 4 on host.example\n"
	    "publish 5 on \"#\\\"\\\\\"\npublish 6 on \xc3\xa9\n", &e);
	CHECK(r != NULL, "addresses: %s", e.buf);
	if (r != NULL) {
		rules_match_publish(r, 5, &pb);
		CHECK(strcmp(nz(pb.address), "#\"\\") == 0, "odd address %s",
		    nz(pb.address));
		free(roundtrip(r, "addresses"));
	}
	rules_free(r);
}

static void
test_resolver(void)
{
	struct rules *r;
	struct errs e;
	char *d;

	r = parse("session a h\nsession b g\nresolver 10.20.0.53\n"
	    "resolver ns.lab.test via b\n", &e);
	CHECK(r != NULL, "resolver rules: %s", e.buf);
	if (r == NULL)
		return;
	CHECK(strcmp(nz(rules_resolver(r, NULL)), "10.20.0.53") == 0 &&
	    strcmp(nz(rules_resolver(r, "a")), "10.20.0.53") == 0 &&
	    strcmp(nz(rules_resolver(r, "b")), "ns.lab.test") == 0 &&
	    rules_resolver(r, "c") == NULL, "resolver by session");
	d = roundtrip(r, "resolver");
	CHECK(strstr(d, "#@ rules:3\nresolver 10.20.0.53\n#@ rules:4\n"
	    "resolver ns.lab.test via b\n") != NULL, "resolver dump:\n%s", d);
	free(d);
	rules_free(r);
	r = parse("session a h\nresolver [2001:db8::53] via a\n", &e);
	CHECK(r != NULL && strcmp(nz(rules_resolver(r, NULL)),
	    "[2001:db8::53]") == 0, "via the default session");
	rules_free(r);
	r = parse("tunnel *\n", &e);
	CHECK(r != NULL && rules_resolver(r, NULL) == NULL, "no resolver");
	rules_free(r);
}

static void
test_sessions(void)
{
	const struct rules_session *s;
	struct rules *r;
	struct errs e;
	struct in_addr a4;
	struct in6_addr a6;
	char b[64];
	int plen;

	r = parse("\nsession b bob@h2:22 A=1 B=\"x y\"\nsession a h1\n", &e);
	if (r == NULL) {
		CHECK(0, "sessions: %s", e.buf);
		return;
	}
	s = rules_session_at(r, 0);
	CHECK(s != NULL && strcmp(s->name, "b") == 0 &&
	    strcmp(s->dest, "bob@h2:22") == 0 && s->noptions == 2 &&
	    strcmp(s->options[1], "B=x y") == 0 && s->options[2] == NULL &&
	    strcmp(s->file, "rules") == 0 && s->line == 2, "session 0");
	CHECK(rules_session_at(r, 2) == NULL, "session past end");
	CHECK(rules_session_find(r, "a") == rules_session_at(r, 1), "find a");
	CHECK(rules_session_find(r, "c") == NULL, "find c");
	errno = 0;
	CHECK(rules_set_default_dest(r, "-oProxyCommand=x") == -1 &&
	    errno == EINVAL, "set dest EINVAL");
	CHECK(rules_set_default_dest(r, "new@host") == 0 &&
	    strcmp(rules_session_at(r, 0)->dest, "new@host") == 0 &&
	    strcmp(rules_session_at(r, 0)->name, "b") == 0 &&
	    rules_session_at(r, 0)->noptions == 2, "set dest replaces");
	rules_synthetic_v4(r, &a4, &plen);
	inet_ntop(AF_INET, &a4, b, sizeof(b));
	CHECK(strcmp(b, "198.18.0.0") == 0 && plen == 15, "default v4 pool");
	rules_synthetic_v6(r, &a6, &plen);
	inet_ntop(AF_INET6, &a6, b, sizeof(b));
	CHECK(strcmp(b, "fd7a:7477:7261::") == 0 && plen == 48,
	    "default v6 pool %s/%d", b, plen);
	rules_free(r);

	r = parse("synthetic fd00:1::/64\nsynthetic 100.64.0.0/10\n", &e);
	rules_synthetic_v4(r, &a4, &plen);
	inet_ntop(AF_INET, &a4, b, sizeof(b));
	CHECK(strcmp(b, "100.64.0.0") == 0 && plen == 10, "v4 pool");
	rules_synthetic_v6(r, &a6, &plen);
	inet_ntop(AF_INET6, &a6, b, sizeof(b));
	CHECK(strcmp(b, "fd00:1::") == 0 && plen == 64, "v6 pool");
	rules_free(r);

	CHECK(strcmp(rules_action_name(RULES_DIRECT), "direct") == 0 &&
	    strcmp(rules_action_name(RULES_TUNNEL), "tunnel") == 0 &&
	    strcmp(rules_action_name(RULES_DENY), "deny") == 0,
	    "action names");
}

/* r and r2 publish the same ports and decide the same paths alike. */
static void
same_publish_unix(const struct rules *r, const struct rules *r2,
    const char *what)
{
	static const uint16_t ports[] = { 1, 5, 22, 80, 1024, 5432, 6005,
	    8080, 9999, 65535 };
	static const char *paths[] = { "/x", "/a", "/a b", "/var/run/lab/x",
	    "/var/run/docker.sock", "/tmp/my dir/x.sock", "/srv/a/s" };
	struct rules_publish p1, p2;
	struct rules_match m1, m2;
	size_t i;
	int rc1, rc2;

	CHECK(rules_have_publish(r) == rules_have_publish(r2) &&
	    rules_have_unix(r) == rules_have_unix(r2), "%s: have", what);
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		rc1 = rules_match_publish(r, ports[i], &p1);
		rc2 = rules_match_publish(r2, ports[i], &p2);
		CHECK(rc1 == rc2 && p1.remote_port == p2.remote_port &&
		    p1.line == p2.line && strcmp(nz(p1.file), nz(p2.file)) == 0 &&
		    strcmp(nz(p1.address), nz(p2.address)) == 0 &&
		    strcmp(nz(p1.session), nz(p2.session)) == 0,
		    "%s: publish %u differs after round trip", what, ports[i]);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		rules_match_unix(r, paths[i], &m1);
		rules_match_unix(r2, paths[i], &m2);
		CHECK(m1.action == m2.action && m1.line == m2.line &&
		    strcmp(nz(m1.file), nz(m2.file)) == 0 &&
		    strcmp(nz(m1.pattern), nz(m2.pattern)) == 0 &&
		    strcmp(nz(m1.session), nz(m2.session)) == 0,
		    "%s: unix %s differs after round trip", what, paths[i]);
	}
}

/*
 * parse -> dump -> parse -> dump must be stable, and publish and unix
 * decisions survive; returns the dump.
 */
static char *
roundtrip(struct rules *r, const char *what)
{
	struct rules *r2;
	struct errs e;
	size_t n, n2;
	char *d, *d2;

	n = rules_dump(r, NULL, 0);
	d = malloc(n + 1);
	CHECK(rules_dump(r, d, n + 1) == n && strlen(d) == n, "%s: dump len",
	    what);
	memset(&e, 0, sizeof(e));
	if (rules_parse_string(d, "dump", &r2, collect, &e) == -1) {
		CHECK(0, "%s: dump does not parse:\n%s%s", what, d, e.buf);
		return d;
	}
	n2 = rules_dump(r2, NULL, 0);
	d2 = malloc(n2 + 1);
	rules_dump(r2, d2, n2 + 1);
	CHECK(n == n2 && strcmp(d, d2) == 0, "%s: round trip:\n%s---\n%s",
	    what, d, d2);
	same_publish_unix(r, r2, what);
	free(d2);
	rules_free(r2);
	return d;
}

static void
test_dump(void)
{
	static const char in[] =
	    "# comment\n"
	    "session corp  alice@bastion:2222\tControlMaster=auto "
	    "\"ProxyJump=a b\" \"X=\\\"q\\\\\" Y=a\\\\b\n"
	    "TUNNEL  via corp *.corp 10.0.0.0/8:22 # trailing\n"
	    "synthetic 10.64.0.0/10 fd00::/64\n"
	    "default deny\n"
	    "direct *\n";
	static const char want[] =
	    "#@ rules:2\n"
	    "session corp alice@bastion:2222 ControlMaster=auto "
	    "\"ProxyJump=a b\" \"X=\\\"q\\\\\" Y=a\\\\b\n"
	    "#@ rules:3\n"
	    "tunnel via corp *.corp 10.0.0.0/8:22\n"
	    "#@ rules:4\n"
	    "synthetic 10.64.0.0/10\n"
	    "#@ rules:4\n"
	    "synthetic fd00::/64\n"
	    "#@ rules:5\n"
	    "default deny\n"
	    "#@ rules:6\n"
	    "direct *\n";
	struct rules_match m;
	struct rules *r;
	struct errs e;
	char small[10], *d;
	size_t i, n;

	if ((r = parse(in, &e)) == NULL) {
		CHECK(0, "dump input: %s", e.buf);
		return;
	}
	d = roundtrip(r, "dump");
	CHECK(strcmp(d, want) == 0, "dump:\n%s---want:\n%s", d, want);
	CHECK(strcmp(rules_session_at(r, 0)->options[2], "X=\"q\\") == 0 &&
	    strcmp(rules_session_at(r, 0)->options[3], "Y=a\\\\b") == 0,
	    "option escapes");
	/* Truncation works like snprintf. */
	n = rules_dump(r, small, sizeof(small));
	CHECK(n == strlen(want) && strcmp(small, "#@ rules:") == 0,
	    "truncated dump \"%s\"", small);
	free(d);
	rules_free(r);

	/* Re-parsed dumps keep original positions for matches and errors. */
	r = parse("#@ orig:12\ndirect x\n#@ orig:30\ndefault deny\n", &e);
	rules_match_name(r, "x", 1, &m);
	CHECK(strcmp(nz(m.file), "orig") == 0 && m.line == 12, "marker %s:%d",
	    nz(m.file), m.line);
	rules_match_name(r, "y", 1, &m);
	CHECK(strcmp(nz(m.file), "orig") == 0 && m.line == 30 &&
	    m.action == RULES_DENY, "marker default");
	rules_free(r);

	for (i = 0; i < sizeof(ok_tests) / sizeof(ok_tests[0]); i++) {
		if ((r = parse(ok_tests[i], &e)) != NULL)
			free(roundtrip(r, ok_tests[i]));
		rules_free(r);
	}
	if ((r = parse(match_rules, &e)) != NULL)
		free(roundtrip(r, "match rules"));
	rules_free(r);

	/* File names with control characters and backslashes survive. */
	r = parse("#@ a\\\\b\\001c\\177:5\ndirect x\n", &e);
	d = roundtrip(r, "escapes");
	CHECK(strcmp(d, "#@ a\\\\b\\001c\\177:5\ndirect x\n") == 0,
	    "escaped dump: %s", d);
	rules_match_name(r, "x", 1, &m);
	CHECK(strcmp(nz(m.file), "a\\b\001c\177") == 0 && m.line == 5,
	    "escaped file");
	free(d);
	rules_free(r);

	/* publish and unix: patterns, normalized. */
	r = parse("session corp h\n"
	    "PUBLISH 08080\n"
	    "publish 5432 VIA corp On \"a\\\"b\" AS 09999\n"
	    "publish *\n"
	    "publish 6000-6010\n"
	    "publish 7-7 as 9 # on x\n"
	    "\n"
	    "tunnel unix:/x \"unix:/a b\" UNIX:/r/*\n"
	    "publish 1 on \"#x\" # comment\n", &e);
	CHECK(r != NULL, "publish dump input: %s", e.buf);
	if (r != NULL) {
		d = roundtrip(r, "publish dump");
		CHECK(strcmp(d,
		    "#@ rules:1\nsession corp h\n"
		    "#@ rules:2\npublish 8080\n"
		    "#@ rules:3\npublish 5432 as 9999 on \"a\\\"b\" via corp\n"
		    "#@ rules:4\npublish *\n"
		    "#@ rules:5\npublish 6000-6010\n"
		    "#@ rules:6\npublish 7 as 9\n"
		    "#@ rules:8\ntunnel unix:/x \"unix:/a b\" UNIX:/r/*\n"
		    "#@ rules:9\npublish 1 on \"#x\"\n") == 0,
		    "publish dump:\n%s", d);
		free(d);
	}
	rules_free(r);
	/* Re-parsed dumps keep publish origins. */
	r = parse("#@ orig:12\npublish 80\n#@ orig:40\ntunnel unix:/a\n", &e);
	if (r != NULL) {
		struct rules_publish pb;

		rules_match_publish(r, 80, &pb);
		CHECK(strcmp(nz(pb.file), "orig") == 0 && pb.line == 12,
		    "publish marker %s:%d", nz(pb.file), pb.line);
		rules_match_unix(r, "/a", &m);
		CHECK(strcmp(nz(m.file), "orig") == 0 && m.line == 40,
		    "unix marker %s:%d", nz(m.file), m.line);
	}
	rules_free(r);
	if ((r = parse(unix_rules, &e)) != NULL)
		free(roundtrip(r, "unix rules"));
	rules_free(r);
	if ((r = parse(publish_rules, &e)) != NULL)
		free(roundtrip(r, "publish rules"));
	rules_free(r);

	/* A session made by -H has no origin: "#@ :0". */
	r = parse("tunnel *\n", &e);
	rules_set_default_dest(r, "h");
	d = roundtrip(r, "-H");
	CHECK(strcmp(d, "#@ :0\nsession default h\n#@ rules:1\ntunnel *\n") ==
	    0, "-H dump:\n%s", d);
	free(d);
	rules_free(r);
}

static void
test_long_lines(void)
{
	char *t = malloc(RULES_MAX_LINE + 64), *p;
	struct rules *r;
	struct errs e;

	/* Exactly RULES_MAX_LINE - 1 bytes is fine. */
	strcpy(t, "direct ");
	p = t + strlen(t);
	memset(p, 'a', RULES_MAX_LINE - 1 - strlen(t));
	t[RULES_MAX_LINE - 1] = '\0';
	r = parse(t, &e);
	CHECK(r != NULL, "max line: %s", e.buf);
	if (r != NULL)
		free(roundtrip(r, "max line"));
	rules_free(r);
	strcat(t, "a\n");
	r = parse(t, &e);
	CHECK(r == NULL && strcmp(e.buf, "rules:1: line too long\n") == 0,
	    "long line: %s", e.buf);
	t[0] = '#';
	r = parse(t, &e);
	CHECK(r == NULL && strcmp(e.buf, "rules:1: line too long\n") == 0,
	    "long comment: %s", e.buf);

	/*
	 * A short option that doubles when dumped (backslashes before a
	 * quote) must be refused rather than dump into a too-long line.
	 */
	strcpy(t, "session s h X=");
	p = t + strlen(t);
	memset(p, '\\', 3000);
	strcpy(p + 3000, "\" \"\n");
	r = parse(t, &e);
	CHECK(r == NULL && strcmp(e.buf,
	    "rules:1: session \"s\": too long to dump\n") == 0,
	    "too long to dump: %s", e.buf);

	/* The same for publish: backslashes before a quote in ADDRESS. */
	strcpy(t, "publish 1 on ");
	p = t + strlen(t);
	memset(p, '\\', 200);
	strcpy(p + 200, "\"\\\"\" via ");
	p = t + strlen(t);
	memset(p, 's', RULES_MAX_LINE - 1 - strlen(t));
	t[RULES_MAX_LINE - 1] = '\0';
	r = parse(t, &e);
	CHECK(r == NULL && strcmp(e.buf,
	    "rules:1: publish: too long to dump\n") == 0,
	    "publish too long to dump: %s", e.buf);
	free(t);
}

/* Limits: RULES_MAX_ADDRESS, RULES_MAX_UNIX_PATH. */
static void
test_limits(void)
{
	char t[2048], want[2048], word[512];
	struct rules *r;
	struct errs e;

	memset(word, 'a', RULES_MAX_ADDRESS);
	word[RULES_MAX_ADDRESS] = '\0';
	snprintf(t, sizeof(t), "publish 1 on %s\n", word);
	r = parse(t, &e);
	CHECK(r != NULL, "255-byte address: %s", e.buf);
	rules_free(r);
	strcat(word, "a");
	snprintf(t, sizeof(t), "publish 1 on %s\n", word);
	snprintf(want, sizeof(want), "rules:1: publish: bad address \"%s\"\n",
	    word);
	r = parse(t, &e);
	CHECK(r == NULL && strcmp(e.buf, want) == 0, "256-byte address: %s",
	    e.buf);

	/* 107 bytes of path; a `*` more is fine, another byte is not. */
	word[0] = '/';
	memset(word + 1, 'p', RULES_MAX_UNIX_PATH - 1);
	word[RULES_MAX_UNIX_PATH] = '\0';
	snprintf(t, sizeof(t), "tunnel unix:%s unix:%s*\n", word, word);
	r = parse(t, &e);
	CHECK(r != NULL && rules_match_unix(r, word, NULL) == RULES_TUNNEL,
	    "107-byte path: %s", e.buf);
	rules_free(r);
	strcat(word, "?");
	snprintf(t, sizeof(t), "tunnel unix:%s\n", word);
	snprintf(want, sizeof(want), "rules:1: bad pattern \"unix:%s\": "
	    "path too long\n", word);
	r = parse(t, &e);
	CHECK(r == NULL && strcmp(e.buf, want) == 0, "108-byte path: %s",
	    e.buf);
}

static void
test_files(void)
{
	char path[PATH_MAX], name[64], text[PATH_MAX + 64], want[4 * PATH_MAX];
	const char *home = getenv("HOME");
	struct rules_match m;
	struct rules *r;
	struct errs e;
	int i, rc;

	/* Missing top-level file: one "FILE: strerror" message. */
	tmpath(path, sizeof(path), "missing");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	snprintf(want, sizeof(want), "%s: No such file or directory\n", path);
	CHECK(rc == -1 && r == NULL && strcmp(e.buf, want) == 0,
	    "missing file: %s", e.buf);
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(tmpdir, &r, collect, &e);
	snprintf(want, sizeof(want), "%s: Is a directory\n", tmpdir);
	CHECK(rc == -1 && strcmp(e.buf, want) == 0, "dir: %s", e.buf);

	/* NUL bytes. */
	writefile("nul", "direct a\n\0direct b\ndirect c\0\n", 29);
	tmpath(path, sizeof(path), "nul");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line\n"
	    "%s:3: NUL byte in line\n", path, path);
	CHECK(rc == -1 && strcmp(e.buf, want) == 0, "NUL: %s", e.buf);

	/* Nested includes, relative to the including file's directory. */
	snprintf(path, sizeof(path), "%s/sub", tmpdir);
	mkdir(path, 0700);
	WF("main", "session corp h\ninclude sub/a\ndirect *\n");
	WF("sub/a", "\ninclude b\ntunnel a.example\n");
	WF("sub/b", "deny b.example\ntunnel via late x\n");
	WF("sub/late", "session late h2\n");
	tmpath(path, sizeof(path), "main");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	snprintf(want, sizeof(want), "%s/sub/b:2: tunnel via \"late\": "
	    "no such session\n", tmpdir);
	CHECK(rc == -1 && strcmp(e.buf, want) == 0, "via late: %s", e.buf);
	WF("sub/b", "deny b.example\ntunnel via late x\ninclude late\n");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	CHECK(rc == 0, "includes: %s", e.buf);
	if (rc == 0) {
		rules_match_name(r, "a.example", 1, &m);
		snprintf(want, sizeof(want), "%s/sub/a", tmpdir);
		CHECK(m.action == RULES_TUNNEL && strcmp(m.file, want) == 0 &&
		    m.line == 3 && strcmp(m.session, "corp") == 0,
		    "include origin %s:%d", m.file, m.line);
		rules_match_name(r, "x", 1, &m);
		CHECK(strcmp(nz(m.session), "late") == 0, "late session");
		snprintf(want, sizeof(want), "%s/sub/late", tmpdir);
		CHECK(strcmp(rules_session_at(r, 1)->file, want) == 0 &&
		    rules_session_at(r, 1)->line == 1, "session origin");
		rules_match_name(r, "zzz", 1, &m);
		CHECK(m.action == RULES_DIRECT && m.line == 3, "after include");
		free(roundtrip(r, "includes"));
		rules_free(r);
	}

	/* ~/ is $HOME. */
	setenv("HOME", tmpdir, 1);
	r = parse("include ~/sub/late\n", &e);
	CHECK(r != NULL && rules_session_find(r, "late") != NULL, "~/: %s",
	    e.buf);
	rules_free(r);
	unsetenv("HOME");
	r = parse("include ~/sub/late\n", &e);
	CHECK(r == NULL && strcmp(e.buf,
	    "rules:1: include \"~/sub/late\": HOME not set\n") == 0,
	    "no HOME: %s", e.buf);
	if (home != NULL)
		setenv("HOME", home, 1);

	/* Include loop: a -> b -> a. */
	WF("la", "direct a\ninclude lb\n");
	WF("lb", "\ninclude la\n");
	tmpath(path, sizeof(path), "la");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	snprintf(want, sizeof(want), "%s/lb:2: include loop: %s/la\n", tmpdir,
	    tmpdir);
	CHECK(rc == -1 && strcmp(e.buf, want) == 0, "loop: %s", e.buf);
	WF("self", "include self\n");
	tmpath(path, sizeof(path), "self");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	snprintf(want, sizeof(want), "%s:1: include loop: %s\n", path, path);
	CHECK(rc == -1 && strcmp(e.buf, want) == 0, "self loop: %s", e.buf);

	/* Depth: d0 includes d1 ... d8 is fine, d9 is one too deep. */
	for (i = 0; i <= 9; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		snprintf(text, sizeof(text), "direct d%d\ninclude d%d\n", i,
		    i + 1);
		writefile(name, text, strlen(text));
	}
	WF("d8", "direct d8\n");
	tmpath(path, sizeof(path), "d0");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	CHECK(rc == 0, "depth 8: %s", e.buf);
	rules_free(rc == 0 ? r : NULL);
	WF("d8", "direct d8\ninclude d9\n");
	WF("d9", "direct d9\n");
	memset(&e, 0, sizeof(e));
	rc = rules_parse_file(path, &r, collect, &e);
	snprintf(want, sizeof(want), "%s/d8:2: include depth exceeds 8\n",
	    tmpdir);
	CHECK(rc == -1 && strcmp(e.buf, want) == 0, "depth 9: %s", e.buf);

	/* Errors in included files carry their own names. */
	WF("bad", "tunel\n");
	snprintf(text, sizeof(text), "include %s/bad\nfoo\n", tmpdir);
	r = parse(text, &e);
	snprintf(want, sizeof(want), "%s/bad:1: unknown keyword \"tunel\"\n"
	    "rules:2: unknown keyword \"foo\"\n", tmpdir);
	CHECK(r == NULL && strcmp(e.buf, want) == 0, "include errors: %s",
	    e.buf);
}

int
main(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(tmpdir, sizeof(tmpdir), "%s/rulestest.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	test_errors();
	test_ok();
	test_glob();
	test_cidr();
	test_match();
	test_unix();
	test_publish();
	test_resolver();
	test_sessions();
	test_dump();
	test_long_lines();
	test_limits();
	test_files();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", tmpdir);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
