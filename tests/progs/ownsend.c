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
 * ownsend.c - a program with socket functions of its own (built with
 * -rdynamic, so they come first in symbol lookup, before any preloaded
 * library): send, sendmsg, sendto, getsockopt and connect that count the
 * calls made on UNIX sockets and pass everything on (RTLD_NEXT).  The
 * program itself uses no UNIX socket, so every count is the shim's own
 * plumbing leaking into the program's functions (tests/t-holes.sh).
 *
 *   ownsend NAME PORT   resolve NAME, connect (blocking), send an HTTP
 *                       request; prints "reply=intranet|other|none" and
 *                       "unix-calls=N"
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int unix_calls;

static void
count(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX)
		__atomic_add_fetch(&unix_calls, 1, __ATOMIC_RELAXED);
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	count(fd);
	return NEXT(send)(fd, buf, len, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	count(fd);
	return NEXT(sendto)(fd, buf, len, flags, sa, salen);
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	count(fd);
	return NEXT(sendmsg)(fd, msg, flags);
}

int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	count(fd);
	return NEXT(getsockopt)(fd, level, name, val, len);
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (sa != NULL && sa->sa_family == AF_UNIX)
		__atomic_add_fetch(&unix_calls, 1, __ATOMIC_RELAXED);
	return NEXT(connect)(fd, sa, len);
}

int
main(int argc, char **argv)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	struct addrinfo hints, *res;
	char buf[4096];
	size_t off = 0;
	ssize_t n;
	int fd;

	if (argc != 3)
		return 2;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(argv[1], argv[2], &hints, &res) != 0)
		return 1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
	    write(fd, req, sizeof(req) - 1) > 0)
		while (off < sizeof(buf) - 1 &&
		    (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
			off += (size_t)n;
	buf[off] = '\0';
	printf("reply=%s\n", strstr(buf, "intranet wiki OK") ? "intranet" :
	    off > 0 ? "other" : "none");
	printf("unix-calls=%d\n", unix_calls);
	return 0;
}
