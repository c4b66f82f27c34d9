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
 * fuzz_rules.c - libFuzzer target for the rules parser, dumper and matcher.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 \
 *	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *	rules/fuzz_rules.c rules/rules.c rules/match.c rules/dump.c \
 *	-o /tmp/fuzz_rules
 *   mkdir -p /tmp/rules-corpus
 *   /tmp/fuzz_rules -max_total_time=30 -dict=rules/fuzz-rules.dict \
 *	/tmp/rules-corpus rules/fuzz-corpus
 *
 * Each input is parsed as a string.  Errors must come as "FILE:LINE: ..."
 * and failure must mean at least one error.  On success the dump must
 * re-parse without errors, dump identically, and decide a few names,
 * addresses, UNIX paths and listening ports (some taken from the input)
 * exactly as the original did.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define ASSERT(x)	do { if (!(x)) __builtin_trap(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
errfn(void *arg, const char *msg)
{
	size_t n = strlen(msg);

	/* "FILE:LINE: what", one line, something said. */
	ASSERT(strstr(msg, ": ") != NULL);
	ASSERT(n > 2 && msg[n - 1] != '\n' && msg[n - 1] != ' ');
	(*(int *)arg)++;
}

static char *
dump(const struct rules *r)
{
	size_t n = rules_dump(r, NULL, 0), n2;
	char *d = malloc(n + 1);

	ASSERT(d != NULL);
	n2 = rules_dump(r, d, n + 1);
	ASSERT(n2 == n && strlen(d) == n);
	return d;
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
same_match(const struct rules_match *a, const struct rules_match *b)
{
	ASSERT(a->action == b->action);
	ASSERT(a->line == b->line);
	ASSERT(same(a->file, b->file));
	ASSERT(same(a->pattern, b->pattern));
	ASSERT(same(a->session, b->session));
}

static void
same_publish(const struct rules *r1, const struct rules *r2, uint16_t port)
{
	struct rules_publish p1, p2;
	int rc1, rc2;

	rc1 = rules_match_publish(r1, port, &p1);
	rc2 = rules_match_publish(r2, port, &p2);
	ASSERT(rc1 == rc2 && (rc1 == 0 || rc1 == 1));
	ASSERT(rules_match_publish(r1, port, NULL) == rc1);
	ASSERT(p1.remote_port == p2.remote_port && p1.line == p2.line);
	ASSERT(same(p1.address, p2.address) && same(p1.session, p2.session) &&
	    same(p1.file, p2.file));
	ASSERT(rc1 ? p1.address != NULL && p1.file != NULL :
	    p1.address == NULL && p1.file == NULL && p1.line == 0);
	if (!rules_have_publish(r1))
		ASSERT(rc1 == 0);
}

static void
same_unix(const struct rules *r1, const struct rules *r2, const char *path)
{
	struct rules_match m1, m2;

	rules_match_unix(r1, path, &m1);
	rules_match_unix(r2, path, &m2);
	same_match(&m1, &m2);
	/* `*` and `default` never decide a path. */
	ASSERT(m1.pattern != NULL || (m1.action == RULES_DIRECT &&
	    m1.file == NULL && m1.line == 0 && m1.session == NULL));
	ASSERT(m1.pattern == NULL || strcmp(m1.pattern, "*") != 0);
	if (!rules_have_unix(r1))
		ASSERT(m1.pattern == NULL);
}

/* Decide the same queries on both sets; they must agree. */
static void
compare(const struct rules *r1, const struct rules *r2, const uint8_t *data,
    size_t size)
{
	static const char *names[] = { "", "a", "host.example", "x.corp.",
	    "10.0.0.1", "*" };
	static const char *paths[] = { "/", "/var/run/docker.sock",
	    "/tmp/.X11-unix/X0", "/run/a/b.sock", "relative.sock", "" };
	static const uint16_t ports[] = { 0, 1, 22, 80, 8080, 65535 };
	struct rules_match m1, m2;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char name[40], path[41];
	size_t i, n;
	uint16_t port = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 22;

	ASSERT(rules_have_unix(r1) == rules_have_unix(r2));
	ASSERT(rules_have_publish(r1) == rules_have_publish(r2));
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		same_publish(r1, r2, ports[i]);
	same_publish(r1, r2, port);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		same_unix(r1, r2, paths[i]);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rules_match_name(r1, names[i], port, &m1);
		rules_match_name(r2, names[i], port, &m2);
		same_match(&m1, &m2);
		rules_match_name(r1, names[i], 0, &m1);
		rules_match_name(r2, names[i], 0, &m2);
		same_match(&m1, &m2);
	}
	/* A name and addresses made of the input's last bytes. */
	n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data + size - n, n);
	name[n] = '\0';
	rules_match_name(r1, name, port, &m1);
	rules_match_name(r2, name, port, &m2);
	same_match(&m1, &m2);
	/* The same bytes as an absolute path. */
	path[0] = '/';
	memcpy(path + 1, name, n + 1);
	same_unix(r1, r2, path);
	same_unix(r1, r2, name);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	memcpy(&sin.sin_addr, data + size - (size < 4 ? size : 4),
	    size < 4 ? size : 4);
	rules_match_addr(r1, (struct sockaddr *)&sin, &m1);
	rules_match_addr(r2, (struct sockaddr *)&sin, &m2);
	same_match(&m1, &m2);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	memcpy(&sin6.sin6_addr, data + size - (size < 16 ? size : 16),
	    size < 16 ? size : 16);
	rules_match_addr(r1, (struct sockaddr *)&sin6, &m1);
	rules_match_addr(r2, (struct sockaddr *)&sin6, &m2);
	same_match(&m1, &m2);
	/* The same v4 address, v4-mapped, decides as the sockaddr_in did. */
	memset(&sin6.sin6_addr, 0, 16);
	sin6.sin6_addr.s6_addr[10] = sin6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(sin6.sin6_addr.s6_addr + 12, &sin.sin_addr, 4);
	rules_match_addr(r1, (struct sockaddr *)&sin, &m1);
	rules_match_addr(r1, (struct sockaddr *)&sin6, &m2);
	same_match(&m1, &m2);
}

/* parse(dump(r)) must succeed, dump the same and match the same. */
static void
roundtrip(const struct rules *r, const uint8_t *data, size_t size)
{
	struct rules *r2;
	char *d1, *d2;
	int nerr = 0;

	d1 = dump(r);
	ASSERT(rules_parse_string(d1, "dump", &r2, errfn, &nerr) == 0);
	ASSERT(nerr == 0);
	d2 = dump(r2);
	ASSERT(strcmp(d1, d2) == 0);
	compare(r, r2, data, size);
	free(d1);
	free(d2);
	rules_free(r2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules *r;
	char *text;
	int nerr = 0, rc;

	if (size > 64 * 1024)
		return 0;
	/* Keep includes off devices and kernel files (/dev/zero...). */
	if (memmem(data, size, "/dev", 4) || memmem(data, size, "/proc", 5) ||
	    memmem(data, size, "/sys", 4) || memmem(data, size, "~", 1))
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	rc = rules_parse_string(text, "fuzz", &r, errfn, &nerr);
	ASSERT(rc == 0 || rc == -1);
	ASSERT(rc == 0 ? (nerr == 0 && r != NULL) : (nerr > 0 && r == NULL));
	if (rc == 0) {
		roundtrip(r, data, size);
		/* -H on top of whatever was parsed still round-trips. */
		ASSERT(rules_set_default_dest(r, "fuzz@jump:22") == 0);
		ASSERT(same(rules_session_at(r, 0)->dest, "fuzz@jump:22"));
		roundtrip(r, data, size);
		rules_free(r);
	}
	free(text);
	return 0;
}
