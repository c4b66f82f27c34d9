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
 * proto.c - framing for the shim/launcher <-> helper protocol.
 *
 * libc only: this file is linked into the shim as well as the helper.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

static const struct proto_io libc_io = { sendmsg, recvmsg };
static const struct proto_io *io = &libc_io;

void
proto_set_io(const struct proto_io *ops)
{
	io = ops != NULL ? ops : &libc_io;
}

ssize_t
proto_request_len(uint16_t type)
{
	switch (type) {
	case PROTO_CONNECT:
		return sizeof(struct proto_connect);
	case PROTO_RESOLVE:
		return sizeof(struct proto_name);
	case PROTO_REVERSE:
	case PROTO_PEER:
		return sizeof(struct proto_addr);
	case PROTO_OUTCOME:
		return sizeof(struct proto_outcome);
	case PROTO_ATTACH:
		return sizeof(struct proto_attach);
	case PROTO_FORWARD:
		return sizeof(struct proto_forward);
	case PROTO_EXEC:
		return sizeof(struct proto_exec);
	case PROTO_WINCH:
		return sizeof(struct proto_winch);
	case PROTO_STATUS:
		return sizeof(struct proto_status);
	case PROTO_STOP:
		return 0;
	}
	return -1;
}

ssize_t
proto_reply_len(uint16_t type)
{
	switch (type) {
	case PROTO_RESOLVE:
		return sizeof(struct proto_names);
	case PROTO_REVERSE:
		return sizeof(struct proto_name);
	case PROTO_CONNECT:
	case PROTO_PEER:
		return sizeof(struct proto_addr);
	case PROTO_OUTCOME:
	case PROTO_ATTACH:
	case PROTO_STOP:
		return 0;
	}
	return -1;			/* STATUS, FORWARD: text, see hdr.len */
}

int
proto_check_request(const struct proto_hdr *h)
{
	ssize_t want;

	if (h->magic != PROTO_MAGIC || h->version != PROTO_VERSION)
		return PROTO_ERR_VERSION;
	if ((want = proto_request_len(h->type)) < 0)
		return -EINVAL;
	/* FORWARD and EXEC carry a variable tail: rules, a command line. */
	if (h->type == PROTO_FORWARD ? h->len < (size_t)want ||
	    h->len > (size_t)want + PROTO_MAX_RULES :
	    h->type == PROTO_EXEC ? h->len <= (size_t)want ||
	    h->len > (size_t)want + PROTO_MAX_CMD : h->len != (size_t)want)
		return -EINVAL;
	return 0;
}

void
proto_hdr_init(struct proto_hdr *h, uint16_t type, uint32_t len,
    int32_t status)
{
	memset(h, 0, sizeof(*h));
	h->magic = PROTO_MAGIC;
	h->version = PROTO_VERSION;
	h->type = type;
	h->len = len;
	h->status = status;
}

int
proto_send(int sock, const struct proto_hdr *h, const void *body,
    size_t len, int fd)
{
	return proto_send_fds(sock, h, body, len, &fd, fd >= 0 ? 1 : 0);
}

int
proto_send_raw(int sock, const void *buf, size_t len)
{
	struct msghdr msg;
	struct iovec iov;
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (char *)buf + off;
		iov.iov_len = len - off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = io->sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

int
proto_send_fds(int sock, const struct proto_hdr *h, const void *body,
    size_t len, const int *fds, int nfds)
{
	struct iovec iov[2];
	struct msghdr msg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(PROTO_MAX_FDS * sizeof(int))];
	} cmsg;
	size_t sent;
	ssize_t n;
	int r;

	if (nfds < 0 || nfds > PROTO_MAX_FDS)
		return -EINVAL;
	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = (void *)h;
	iov[0].iov_len = sizeof(*h);
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = len;
	msg.msg_iov = iov;
	msg.msg_iovlen = len > 0 ? 2 : 1;
	if (nfds > 0) {
		memset(&cmsg, 0, sizeof(cmsg));
		msg.msg_control = cmsg.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg.hdr.cmsg_level = SOL_SOCKET;
		cmsg.hdr.cmsg_type = SCM_RIGHTS;
		cmsg.hdr.cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(&cmsg.hdr), fds, nfds * sizeof(int));
	}
	/* The descriptors go with the first byte; a short send ends plainly. */
	while ((n = io->sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0)
		if (errno != EINTR)
			return -errno;
	if ((size_t)n < sizeof(*h)) {
		if ((r = proto_send_raw(sock, (const char *)h + n,
		    sizeof(*h) - (size_t)n)) < 0)
			return r;
		n = sizeof(*h);
	}
	sent = (size_t)n - sizeof(*h);
	return sent < len ? proto_send_raw(sock, (const char *)body + sent,
	    len - sent) : 0;
}

ssize_t
proto_recv_some(int sock, void *buf, size_t len, int *fds, int maxfds)
{
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(PROTO_MAX_FDS * sizeof(int))];
	} cmsg;
	ssize_t n;
	size_t i, nfd;
	int fd, k;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsg.buf;
	msg.msg_controllen = sizeof(cmsg.buf);
	if ((n = io->recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(sizeof(int)))
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			/* Into the first free slot; extras are closed. */
			for (k = 0; k < maxfds && fds[k] != -1; k++)
				;
			if (k < maxfds)
				fds[k] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/*
 * Blocking counterpart used by clients: loops until len bytes arrived.
 */
int
proto_recv(int sock, void *buf, size_t len, int *fdp)
{
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	size_t off = 0;
	ssize_t n;
	int fd;

	if (fdp != NULL)
		*fdp = -1;
	while (off < len) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (char *)buf + off;
		iov.iov_len = len - off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cmsg.buf;
		msg.msg_controllen = sizeof(cmsg.buf);
		n = io->recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		    c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS ||
			    c->cmsg_len < CMSG_LEN(sizeof(int)))
				continue;
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			if (fdp != NULL && *fdp == -1)
				*fdp = fd;
			else
				close(fd);
		}
		if (n == 0)
			return -ECONNRESET;
		off += (size_t)n;
	}
	return 0;
}

/* FNV-1a, 64 bit: stable across builds, no crypto needed for a name. */
static uint64_t
fnv1a(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;			/* separator, so "ab","c" != "a","bc" */
	h *= 0x100000001b3ULL;
	return h;
}

int
proto_hashed_path(char *buf, size_t len, const char *dir, const char *prefix,
    const char *const *strings, size_t n)
{
	struct sockaddr_un sun;
	uint64_t h = 0xcbf29ce484222325ULL;
	char version[16];
	size_t i;
	int r;

	/*
	 * The protocol version is hashed in: after an upgrade, a launcher
	 * starts a helper of its own version beside one still serving the
	 * programs of the old, instead of one that answers PROTO_ERR_VERSION.
	 */
	snprintf(version, sizeof(version), "v%d", PROTO_VERSION);
	h = fnv1a(h, version);
	for (i = 0; i < n; i++)
		h = fnv1a(h, strings[i]);
	r = snprintf(buf, len, "%s/%s%016llx", dir, prefix,
	    (unsigned long long)h);
	if (r < 0 || (size_t)r >= len || (size_t)r >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

void
proto_addr_from_sockaddr(struct proto_addr *pa, const struct sockaddr *sa)
{
	memset(pa, 0, sizeof(*pa));
	pa->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		pa->port = ntohs(sin->sin_port);
		memcpy(pa->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		pa->port = ntohs(sin6->sin6_port);
		memcpy(pa->addr, &sin6->sin6_addr, 16);
	}
}

socklen_t
proto_addr_to_sockaddr(const struct proto_addr *pa,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (pa->family == AF_INET) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(pa->port);
		memcpy(&sin->sin_addr, pa->addr, 4);
		return sizeof(*sin);
	}
	if (pa->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(pa->port);
		memcpy(&sin6->sin6_addr, pa->addr, 16);
		return sizeof(*sin6);
	}
	return 0;
}
