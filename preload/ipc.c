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
 * ipc.c - one request/reply exchange with a helper.
 *
 * A fresh AF_UNIX connection per exchange: the program may close, dup2
 * over or fork away any descriptor we kept, so we keep none.  The helper
 * must run as our uid (SO_PEERCRED), or we do not talk to it.  Our own
 * traffic calls libc's functions (shim_real), never the program's hooks,
 * and gives up after HelperTimeout (ETIMEDOUT).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/*
 * Every wait on the helper ends by a deadline: a helper that is stopped,
 * or stuck, must not freeze the program.  The framing (common/proto.c)
 * calls these through proto_io; the deadline is the calling thread's
 * current exchange.
 */
static __thread struct timespec ipc_deadline;

static void
deadline_start(int extra_ms)
{
	long long ms = (long long)shim_get()->helper_timeout_ms + extra_ms;

	clock_gettime(CLOCK_MONOTONIC, &ipc_deadline);
	ipc_deadline.tv_sec += ms / 1000;
	ipc_deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ipc_deadline.tv_nsec >= 1000000000) {
		ipc_deadline.tv_sec++;
		ipc_deadline.tv_nsec -= 1000000000;
	}
}

/* Milliseconds left (rounded up), 0 once the deadline passed. */
static int
deadline_left(void)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (ipc_deadline.tv_sec - now.tv_sec) * 1000LL +
	    (ipc_deadline.tv_nsec - now.tv_nsec + 999999) / 1000000;
	return ms > 0 ? (int)(ms > 1 << 30 ? 1 << 30 : ms) : 0;
}

/* Wait until sock is ready for events, or fail ETIMEDOUT at the deadline. */
static int
await_ready(int sock, short events)
{
	struct pollfd pfd = { sock, events, 0 };
	int r;

	do
		r = poll(&pfd, 1, deadline_left());
	while (r == -1 && errno == EINTR);
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return r < 0 ? -1 : 0;
}

/* Try at once; wait (up to the deadline) only when the socket is not ready. */
static ssize_t
io_sendmsg(int sock, const struct msghdr *msg, int flags)
{
	ssize_t n;

	while ((n = shim_real.sendmsg(sock, msg, flags | MSG_DONTWAIT)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		if (await_ready(sock, POLLOUT) == -1)
			return -1;
	return n;
}

static ssize_t
io_recvmsg(int sock, struct msghdr *msg, int flags)
{
	ssize_t n;

	while ((n = shim_real.recvmsg(sock, msg, flags | MSG_DONTWAIT)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK) && !(flags & MSG_DONTWAIT))
		if (await_ready(sock, POLLIN) == -1)
			return -1;
	return n;
}

static const struct proto_io shim_io = { io_sendmsg, io_recvmsg };

void
ipc_init(void)
{
	proto_set_io(&shim_io);
}

/*
 * The connect waits only while the helper's accept queue is full, bounded
 * by SO_SNDTIMEO; the exchange after it by the deadline.
 */
static int
dial(const struct shim_session *s)
{
	struct sockaddr_un sun;
	struct ucred cred;
	struct timeval tv;
	socklen_t len = sizeof(cred);
	int sock, left, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->path, sizeof(sun.sun_path) - 1);
	if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	do {
		if ((left = deadline_left()) == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		r = shim_real.connect(sock, (struct sockaddr *)&sun,
		    sizeof(sun));
	} while (r == -1 && errno == EINTR);
	if (r == -1) {
		if (errno == EAGAIN)
			errno = ETIMEDOUT;	/* the accept queue stayed full */
		goto fail;
	}
	if (shim_real.getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred,
	    &len) == -1)
		goto fail;
	if (cred.uid != getuid()) {
		close(sock);
		return -EPERM;
	}
	return sock;
 fail:
	len = (socklen_t)errno;
	close(sock);
	return -(int)len;
}

int
ipc_exchange(const struct shim_session *s, const struct ipc_req *q,
    void *reply, size_t replymax, size_t *replylen, int *status)
{
	struct proto_hdr h;
	int sock, r;

	if (shim_real.connect == NULL || shim_real.getsockopt == NULL ||
	    shim_real.sendmsg == NULL || shim_real.recvmsg == NULL)
		return -ENOSYS;
	deadline_start(q->extra_ms);
	if ((sock = dial(s)) < 0)
		return sock;
	proto_hdr_init(&h, q->type, (uint32_t)(q->len + q->taillen), 0);
	if ((r = proto_send(sock, &h, q->body, q->len, q->fd)) < 0)
		goto out;
	if (q->taillen > 0 && (r = proto_send_raw(sock, q->tail,
	    q->taillen)) < 0)
		goto out;
	if (q->nowait)
		goto out;
	if ((r = proto_recv(sock, &h, sizeof(h), NULL)) < 0)
		goto out;
	if (h.magic != PROTO_MAGIC || h.version != PROTO_VERSION ||
	    h.type != (q->type | PROTO_REPLY) || h.len > replymax) {
		r = -EPROTO;
		goto out;
	}
	if (h.len > 0 && (r = proto_recv(sock, reply, h.len, NULL)) < 0)
		goto out;
	*replylen = h.len;
	*status = h.status;
 out:
	close(sock);
	return r;
}

int
ipc_call(const struct shim_session *s, uint16_t type, const void *req,
    size_t reqlen, int fd, void *reply, size_t replylen, int *status,
    int nowait)
{
	struct ipc_req q = { type, req, reqlen, NULL, 0, fd, nowait, 0 };
	size_t got;
	int r;

	r = ipc_exchange(s, &q, reply, replylen, &got, status);
	if (r == 0 && !nowait && got != replylen)
		r = -EPROTO;
	return r;
}

/* The port of a helper FORWARD shared by rules text, or -1 (shim.h). */
int
ipc_forward_port(uint32_t kind, const char *origin)
{
	const struct shim *st = shim_get();
	struct proto_forward fw;
	struct ipc_req q;
	char reply[16];
	size_t len;
	int status, port;

	if (st->ruleset == NULL || shim_session(NULL) == NULL)
		return -1;
	memset(&fw, 0, sizeof(fw));
	fw.kind = kind;
	if (kind == PROTO_FWD_DYNAMIC)
		strcpy(fw.bind, "127.0.0.1");
	snprintf(fw.origin, sizeof(fw.origin), "%s", origin);
	memset(&q, 0, sizeof(q));
	q.type = PROTO_FORWARD;
	q.body = &fw;
	q.len = sizeof(fw);
	q.tail = st->ruleset;
	q.taillen = strlen(st->ruleset);
	q.fd = -1;
	if (ipc_exchange(shim_session(NULL), &q, reply, sizeof(reply) - 1,
	    &len, &status) < 0 || status != 0)
		return -1;
	reply[len] = '\0';
	port = atoi(reply);
	return port > 0 && port <= 65535 ? port : -1;
}
