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
 * fwdspec.c - parse and request ssh-style forwards for the launcher.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "client.h"
#include "fwdspec.h"

#define MAX_FIELDS 4

/* Split on ':' outside brackets; brackets are dropped.  Returns count. */
static int
split(char *s, char *fields[MAX_FIELDS])
{
	int n = 0, depth = 0;
	char *p, *start = s;

	for (p = s;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if ((*p == ':' && depth == 0) || *p == '\0') {
			int end = *p == '\0';

			if (n == MAX_FIELDS)
				return -1;
			*p = '\0';
			if (*start == '[' && p > start && p[-1] == ']') {
				p[-1] = '\0';
				start++;
			}
			fields[n++] = start;
			start = p + 1;
			if (end)
				break;
		}
	}
	return depth == 0 ? n : -1;
}

static int
port_of(const char *s, uint16_t *port)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || n < 0 || n > 65535)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

int
fwdspec_parse(int kind, const char *spec, struct proto_forward *out,
    char *err, size_t errlen)
{
	char buf[PROTO_NAMELEN * 2], *f[MAX_FIELDS];
	const char *opt = kind == PROTO_FWD_LOCAL ? "-L" :
	    kind == PROTO_FWD_REMOTE ? "-R" : "-D";
	int n, want = kind == PROTO_FWD_DYNAMIC ? 1 : 3, i = 0;

	memset(out, 0, sizeof(*out));
	out->kind = (uint32_t)kind;
	if (strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf) ||
	    (n = split(buf, f)) < 0 || (n != want && n != want + 1))
		goto bad;
	if (n == want + 1) {
		/* ssh: an empty bind address or "*" means every address. */
		strlcpy(out->bind, *f[0] == '\0' ? "*" : f[0],
		    sizeof(out->bind));
		i = 1;
	}
	if (port_of(f[i], &out->port) == -1 ||
	    (out->port == 0 && kind == PROTO_FWD_LOCAL))
		goto bad;
	if (kind != PROTO_FWD_DYNAMIC) {
		if (*f[i + 1] == '\0' || strlcpy(out->target, f[i + 1],
		    sizeof(out->target)) >= sizeof(out->target) ||
		    port_of(f[i + 2], &out->target_port) == -1 ||
		    out->target_port == 0)
			goto bad;
	}
	snprintf(out->origin, sizeof(out->origin), "%s %s", opt, spec);
	return 0;
 bad:
	snprintf(err, errlen, "bad %s \"%s\": expected %s", opt, spec,
	    kind == PROTO_FWD_DYNAMIC ? "[bind_address:]port" :
	    "[bind_address:]port:host:hostport");
	return -1;
}

int
fwdspec_send(const char *path, const struct proto_forward *fw,
    const char *tail, size_t taillen, int *port, char *err, size_t errlen)
{
	char *body, *text = NULL;
	size_t len = sizeof(*fw) + taillen;
	int fd, st;

	if ((body = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(body, fw, sizeof(*fw));
	if (taillen > 0)
		memcpy(body + sizeof(*fw), tail, taillen);
	if ((fd = client_dial(path)) < 0) {
		snprintf(err, errlen, "%s: helper unreachable: %s",
		    fw->origin, strerror(-fd));
		free(body);
		return -1;
	}
	st = client_call(fd, PROTO_FORWARD, body, len, &text);
	close(fd);
	free(body);
	if (st != 0) {
		snprintf(err, errlen, "%s: %s", fw->origin, text ? text :
		    strerror(st < 0 ? -st : st));
		free(text);
		return -1;
	}
	if (port != NULL)
		*port = text ? atoi(text) : fw->port;
	free(text);
	return 0;
}
