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
 * resolvconf.c - the system's nameservers (resolvconf.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "resolvconf.h"
#include "synth.h"

void
resolvconf_load(struct resolvconf *rc, const char *path, int also_v6)
{
	char buf[4096], *line, *save, *w, *ws;
	ssize_t n;
	int fd;

	memset(rc, 0, sizeof(*rc));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		for (line = strtok_r(buf, "\n", &save); line != NULL &&
		    rc->nns < RESOLVCONF_MAX;
		    line = strtok_r(NULL, "\n", &save)) {
			struct sockaddr_in *sin = (void *)&rc->ns[rc->nns];
			struct sockaddr_in6 *sin6 = (void *)&rc->ns[rc->nns];

			if ((w = strtok_r(line, " \t\r", &ws)) == NULL ||
			    strcmp(w, "nameserver") != 0 ||
			    (w = strtok_r(NULL, " \t\r%", &ws)) == NULL)
				continue;
			if (inet_pton(AF_INET, w, &sin->sin_addr) == 1) {
				sin->sin_family = AF_INET;
				rc->nns++;
			} else if (inet_pton(AF_INET6, w,
			    &sin6->sin6_addr) == 1) {
				sin6->sin6_family = AF_INET6;
				rc->nns++;
			}
		}
	}
	if (rc->nns > 0)
		return;
	((struct sockaddr_in *)(void *)&rc->ns[0])->sin_family = AF_INET;
	((struct sockaddr_in *)(void *)&rc->ns[0])->sin_addr.s_addr =
	    htonl(INADDR_LOOPBACK);
	rc->nns = 1;
	if (also_v6) {
		((struct sockaddr_in6 *)(void *)&rc->ns[1])->sin6_family =
		    AF_INET6;
		((struct sockaddr_in6 *)(void *)&rc->ns[1])->sin6_addr =
		    in6addr_loopback;
		rc->nns = 2;
	}
}

int
resolvconf_has(const struct resolvconf *rc, const struct sockaddr *sa)
{
	struct sockaddr_in v4;
	int i;

	sa = synth_unmap(sa, &v4);
	for (i = 0; i < rc->nns; i++) {
		const struct sockaddr_storage *ns = &rc->ns[i];

		if (ns->ss_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET &&
		    ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)ns)->sin_addr.s_addr)
			return 1;
		if (sa->sa_family == AF_INET6 && memcmp(
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    &((const struct sockaddr_in6 *)(const void *)ns)->sin6_addr,
		    16) == 0)
			return 1;
	}
	return 0;
}
