/*
 * ipc.c - one request/reply exchange with a helper.
 *
 * A fresh AF_UNIX connection per exchange: the program may close, dup2
 * over or fork away any descriptor we kept, so we keep none.  The helper
 * must run as our uid (SO_PEERCRED), or we do not talk to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

static int
dial(const struct shim_session *s)
{
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int sock;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->path, sizeof(sun.sun_path) - 1);
	if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	if (shim_real.connect(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
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

	if (shim_real.connect == NULL || shim_real.getsockopt == NULL)
		return -ENOSYS;
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
	struct ipc_req q = { type, req, reqlen, NULL, 0, fd, nowait };
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
