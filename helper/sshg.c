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
 * sshg.c - `ssh -G`: the effective ssh configuration for a destination,
 * from the one program that knows it for certain (Host/Match blocks,
 * Include, tokens, -F, -o, -i), without connecting.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>

#include "log.h"
#include "sshg.h"

int
sshg_split_dest(const char *dest, char *user, size_t ulen, char *host,
    size_t hlen, int *port)
{
	const char *at, *h, *p = NULL, *end;
	char *ep;
	long n;

	*port = 0;
	user[0] = '\0';
	if ((at = strrchr(dest, '@')) != NULL) {
		if ((size_t)(at - dest) >= ulen || at == dest)
			return -1;
		memcpy(user, dest, at - dest);
		user[at - dest] = '\0';
		h = at + 1;
	} else
		h = dest;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return -1;
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != '\0')
			return -1;
		h++;
	} else {
		end = strchr(h, ':');
		if (end != NULL && strchr(end + 1, ':') == NULL)
			p = end + 1;
		else
			end = h + strlen(h);	/* bare IPv6 or no port */
	}
	if (end == h || (size_t)(end - h) >= hlen)
		return -1;
	memcpy(host, h, end - h);
	host[end - h] = '\0';
	if (p != NULL) {
		n = strtol(p, &ep, 10);
		if (*p == '\0' || *ep != '\0' || n < 1 || n > 65535)
			return -1;
		*port = (int)n;
	}
	return 0;
}

/*
 * The last non-empty line of text: ssh puts its error there, after notes
 * such as "Pseudo-terminal will not be allocated ...".
 */
static void
last_line(const char *text, char *out, size_t len)
{
	const char *p = text, *eol, *best = NULL;
	size_t blen = 0;

	for (; *p != '\0'; p = *eol ? eol + 1 : eol) {
		eol = p + strcspn(p, "\r\n");
		if (eol > p) {
			best = p;
			blen = eol - p;
		}
	}
	out[0] = '\0';
	if (best != NULL && len > 0)
		snprintf(out, len, "%.*s", (int)(blen < len ? blen : len - 1),
		    best);
}

/*
 * Run argv, collecting stdout into a malloc'd string and the last line of
 * stderr into err.  Returns the exit status, 127 if it could not run.
 */
static int
run_capture(char *const argv[], char **out, char *err, size_t errlen)
{
	int po[2], pe[2], status;
	size_t len = 0, cap = 8192;
	char *buf, ebuf[1024];
	ssize_t n;
	pid_t pid;

	*out = NULL;
	err[0] = '\0';
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1)
		fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if ((buf = malloc(cap)) == NULL)
		fatal("out of memory");
	while ((n = read(po[0], buf + len, cap - len - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += n;
		if (cap - len < 1024 && (buf = realloc(buf, cap *= 2)) == NULL)
			fatal("out of memory");
	}
	buf[len] = '\0';
	len = 0;
	while (len < sizeof(ebuf) - 1 && (n = read(pe[0], ebuf + len,
	    sizeof(ebuf) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += n;
	}
	ebuf[len] = '\0';
	last_line(ebuf, err, errlen);
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/*
 * Options of tunnelwrap's own that travel with ssh's (on a session line,
 * or -o): the helper takes them (window.c); ssh -G would refuse them.
 */
static int
own_option(const char *kv)
{
	static const char *const own[] = { "ChannelWindowMax=",
	    "ChannelWindowTotal=" };
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strncasecmp(kv, own[i], strlen(own[i])) == 0)
			return 1;
	return 0;
}

int
sshg_resolve(const struct sshg_query *q, char **out, char *err,
    size_t errlen)
{
	char user[256], host[1024], port[8];
	const char **av;
	size_t n = 0, i;
	int p, rc;

	*out = NULL;
	if (sshg_split_dest(q->dest, user, sizeof(user), host, sizeof(host),
	    &p) == -1) {
		snprintf(err, errlen, "bad destination \"%s\": expected "
		    "[user@]host[:port]", q->dest);
		return -1;
	}
	/* ssh -G [-F f] [-o k=v].. [-i id].. [-l u] [-p p] host NULL */
	if ((av = calloc(10 + 2 * (q->noptions + q->nidentities),
	    sizeof(*av))) == NULL)
		fatal("out of memory");
	av[n++] = "ssh";
	av[n++] = "-G";
	if (q->ssh_config != NULL) {
		av[n++] = "-F";
		av[n++] = q->ssh_config;
	}
	for (i = 0; i < q->noptions; i++) {
		if (own_option(q->options[i]))
			continue;
		av[n++] = "-o";
		av[n++] = q->options[i];
	}
	for (i = 0; i < q->nidentities; i++) {
		av[n++] = "-i";
		av[n++] = q->identities[i];
	}
	if (*user != '\0') {
		av[n++] = "-l";
		av[n++] = user;
	}
	if (p != 0) {
		snprintf(port, sizeof(port), "%d", p);
		av[n++] = "-p";
		av[n++] = port;
	}
	av[n++] = host;
	rc = run_capture((char *const *)av, out, err, errlen);
	free(av);
	return rc;
}

char *
sshg_value(const char *out, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = out, *eol;

	while (*p != '\0') {
		eol = strchrnul(p, '\n');
		if ((size_t)(eol - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == ' ') {
			p += klen + 1;
			if ((size_t)(eol - p) >= len)
				return NULL;
			memcpy(buf, p, eol - p);
			buf[eol - p] = '\0';
			return buf;
		}
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}
