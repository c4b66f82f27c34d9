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
 * client.c - requests from the launcher to a helper.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/proto.h"
#include "client.h"

#define CLIENT_EXCHANGE_TIMEOUT	10	/* seconds for one helper answer */

int
client_dial(const char *path)
{
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		e = errno;
		close(fd);
		return -e;
	}
	if (cred.uid != getuid()) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int
client_call(int fd, uint16_t type, const void *body, size_t len, char **text)
{
	struct proto_hdr h;
	int r;

	if (text != NULL)
		*text = NULL;
	proto_hdr_init(&h, type, (uint32_t)len, 0);
	if ((r = proto_send(fd, &h, body, len, -1)) < 0)
		return r;
	if ((r = proto_recv(fd, &h, sizeof(h), NULL)) < 0)
		return r;
	if (h.magic != PROTO_MAGIC || h.version != PROTO_VERSION ||
	    h.type != (type | PROTO_REPLY) || h.len > PROTO_MAX_TEXT)
		return -EPROTO;
	if (h.len > 0) {
		char *buf = malloc(h.len + 1);

		if (buf == NULL)
			return -ENOMEM;
		if ((r = proto_recv(fd, buf, h.len, NULL)) < 0) {
			free(buf);
			return r;
		}
		buf[h.len] = '\0';
		if (text != NULL)
			*text = buf;
		else
			free(buf);
	}
	return h.status;
}

int
client_exchange(const char *path, uint16_t type, const void *body,
    size_t len, int passfd, void *reply, size_t replylen)
{
	struct timeval tv = { CLIENT_EXCHANGE_TIMEOUT, 0 };
	struct proto_hdr h;
	int fd, r;

	if ((fd = client_dial(path)) < 0)
		return fd;
	/* A helper that hangs must not hang every connect we supervise. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	proto_hdr_init(&h, type, (uint32_t)len, 0);
	if ((r = proto_send(fd, &h, body, len, passfd)) < 0 ||
	    (r = proto_recv(fd, &h, sizeof(h), NULL)) < 0)
		goto out;
	if (h.magic != PROTO_MAGIC || h.version != PROTO_VERSION ||
	    h.type != (type | PROTO_REPLY) || h.len > replylen) {
		r = -EPROTO;
		goto out;
	}
	if (h.len > 0 && (r = proto_recv(fd, reply, h.len, NULL)) < 0)
		goto out;
	r = h.status;
 out:
	close(fd);
	return r;
}
