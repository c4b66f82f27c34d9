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
 * proto.h - the wire protocol between the shim, the launcher and the helper.
 *
 * Every exchange happens on its own AF_UNIX stream connection to the
 * helper's control socket: the client sends one request (a fixed header
 * and a fixed-size body, with a descriptor attached by SCM_RIGHTS for
 * CONNECT) and reads one reply.  Short-lived connections mean the shim
 * keeps no descriptor a program could close or dup2 over.  ATTACH is the
 * exception: the launcher keeps that connection open while COMMAND runs,
 * which is how the helper counts its users.  STATUS replies with a text
 * body of hdr.len bytes.
 *
 * All integers are host order (both ends are on one machine, one uid).
 * A peer speaking another version is answered with PROTO_ERR_VERSION and
 * dropped.  proto_check_request() is the only place that validates
 * untrusted bytes.
 */
#ifndef TW_PROTO_H
#define TW_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PROTO_MAGIC	0x54574c31u	/* "TWL1" */
#define PROTO_VERSION	2		/* 2: CONNECT carries the fd number */
#define PROTO_NAMELEN	256		/* host names, NUL included */
#define PROTO_RULELEN	128		/* "FILE:LINE" of the deciding rule */
#define PROTO_MAX_TEXT	(4u << 20)	/* STATUS text body limit */
#define PROTO_MAX_RULES	(256u << 10)	/* rules text after a FORWARD */
#define PROTO_MAX_FDS	2		/* descriptors one message carries */

enum proto_type {
	PROTO_CONNECT = 1,	/* open a channel for the attached socket */
	PROTO_RESOLVE,		/* name -> synthetic addresses */
	PROTO_REVERSE,		/* synthetic address -> name */
	PROTO_OUTCOME,		/* errno of a finished non-blocking connect */
	PROTO_ATTACH,		/* a launcher runs COMMAND; held open */
	PROTO_STATUS,		/* text status */
	PROTO_STOP,		/* stop the helper */
	PROTO_PEER,		/* program socket address -> destination */
	PROTO_FORWARD,		/* -L/-R/-D or a publish: add a forward */
	PROTO_EXEC,		/* -e: run a command at the bastion */
	PROTO_WINCH,		/* -e -t: the terminal changed size */
	PROTO_REPLY = 0x80,	/* OR'ed into the type of every reply */
};

#define PROTO_ERR_VERSION	(-1000)

struct proto_hdr {
	uint32_t	magic;
	uint16_t	version;
	uint16_t	type;
	uint32_t	len;		/* bytes of body that follow */
	int32_t		status;		/* replies: 0 or a positive errno */
};
_Static_assert(sizeof(struct proto_hdr) == 16, "proto_hdr layout");

/* Address as carried on the wire: family, port, 16 address bytes. */
struct proto_addr {
	uint16_t	family;		/* AF_INET or AF_INET6 */
	uint16_t	port;		/* host order */
	uint8_t		addr[16];	/* in_addr in the first 4 for AF_INET */
};
_Static_assert(sizeof(struct proto_addr) == 20, "proto_addr layout");

/*
 * CONNECT: the program's own unconnected, non-blocking socket travels
 * along.  The helper parks it at once (SYN_SENT towards a listener whose
 * accept queue is full, so it polls as not yet writable) and replies
 * EINPROGRESS, or an errno if it cannot.  When the channel outcome is
 * known the helper completes the connect (simultaneous open from the
 * parking address) or disconnects it; see helper/daemon/handover.c.
 * The reply body is unused (zero).
 */
#define PROTO_CONNECT_UNIX	0x1	/* host is a UNIX socket path at the
					   bastion; the helper connects the
					   socket itself and replies when done */
#define PROTO_CONNECT_SUPERVISED 0x2	/* from the seccomp supervisor: the
					   socket is pid's descriptor fd, not
					   the sender's (which lets go of its
					   copy); the helper checks pid holds
					   it, in place of SO_PEERCRED's */
struct proto_connect {
	uint32_t	flags;
	uint32_t	pid;		/* informational; the helper trusts
					   SO_PEERCRED instead */
	struct proto_addr dest;		/* what the program connected to */
	char		host[PROTO_NAMELEN];	/* name, or "" for dest */
	char		rule[PROTO_RULELEN];	/* "FILE:LINE" that decided */
	int32_t		fd;		/* the socket's number in the program:
					   the helper checks (kcmp) that the
					   program still holds it */
};
_Static_assert(sizeof(struct proto_connect) == 416, "proto_connect layout");

struct proto_name {
	char		name[PROTO_NAMELEN];
};

struct proto_names {			/* RESOLVE reply */
	struct in_addr	v4;
	struct in6_addr	v6;
};
_Static_assert(sizeof(struct proto_names) == 20, "proto_names layout");

/*
 * FORWARD: what ssh -L, -R and -D do, held by the helper while it lives,
 * and the remote forwards a program's listen() asks for (publish).  For
 * -D the rules text (rules_dump) follows the struct, so the proxy decides
 * like the shim does.  The reply text, if any, is an error message.
 */
enum proto_fwd_kind {
	PROTO_FWD_LOCAL = 1,	/* -L bind:port -> host:hostport at the far end */
	PROTO_FWD_REMOTE,	/* -R bind:port at the bastion -> host:hostport */
	PROTO_FWD_DYNAMIC,	/* -D bind:port, SOCKS5 and HTTP proxy */
	PROTO_FWD_PUBLISH,	/* a program's listener published remotely */
	PROTO_FWD_DNS,		/* the DNS responder for the rules that
				   follow; the reply text is its port */
};

struct proto_forward {
	uint32_t	kind;
	uint32_t	pid;		/* publish: the listening program */
	uint64_t	ino;		/* publish: its listening socket */
	uint16_t	port;		/* listening port (local or remote) */
	uint16_t	target_port;
	uint32_t	reserved;
	char		bind[PROTO_NAMELEN];	/* "" = default */
	char		target[PROTO_NAMELEN];
	char		origin[PROTO_RULELEN];	/* "-L ..." or "FILE:LINE" */
};
_Static_assert(sizeof(struct proto_forward) == 664, "proto_forward layout");

/*
 * EXEC: run a command on the bastion over the shared session (-e).  Two
 * sockets travel along: the launcher's stdin/stdout relay and its stderr.
 * The command line follows the struct.  The connection stays open: the
 * launcher may send WINCH messages on it, and the helper's one reply, when
 * the command is over, carries its exit status (hdr.status) and, if it
 * died of a signal, "signal NAME" as text.
 */
#define PROTO_EXEC_PTY		0x1
#define PROTO_EXEC_X11		0x2
#define PROTO_EXEC_AGENT	0x4
#define PROTO_MAX_CMD		(64u << 10)

struct proto_exec {
	uint32_t	flags;
	uint16_t	cols, rows;
	char		term[64];
	char		x11_proto[32];	/* "MIT-MAGIC-COOKIE-1" */
	char		x11_fake[64];	/* hex cookie the bastion sees */
	char		x11_real[64];	/* hex cookie of the local display */
	char		x11_path[108];	/* local X server's UNIX socket */
	uint32_t	x11_screen;
	char		agent[108];	/* local ssh-agent socket */
	uint32_t	reserved;
};
_Static_assert(sizeof(struct proto_exec) == 456, "proto_exec layout");

struct proto_winch {
	uint16_t	cols, rows;
	uint32_t	reserved;
};

/* STATUS: text for -O status, JSON for --json, the live view of -O top. */
enum proto_status_format { PROTO_STATUS_TEXT, PROTO_STATUS_JSON,
	PROTO_STATUS_TOP };

struct proto_status {
	uint32_t	format;
	uint32_t	reserved;
};

/* OUTCOME: the errno a parked connect really failed with. */
struct proto_outcome {
	uint64_t	ino;		/* socket inode (st_ino) */
};

/*
 * ATTACH: the helper counts a launcher as a user while its connection is
 * open.  With PROTO_ATTACH_PID it counts the launcher's process instead,
 * until it exits, and answers PROTO_ATTACHED_BY_PID: the launcher may then
 * become COMMAND by exec rather than fork and wait.  A helper that cannot
 * (no pidfd) answers 0, and the connection holds the attachment.
 */
#define PROTO_ATTACH_PID	0x1
#define PROTO_ATTACHED_BY_PID	0x10000		/* a status, not an errno */

struct proto_attach {
	uint32_t	pid;
	uint32_t	flags;
};

/*
 * The socket calls the framing below makes.  The helper keeps libc's; the
 * shim sets its own (proto_set_io) so that its messages never pass through
 * the program's hooks - the shim's own, or a program's wrappers - and so
 * that every wait on the helper is bounded.
 */
struct proto_io {
	ssize_t	(*sendmsg)(int, const struct msghdr *, int);
	ssize_t	(*recvmsg)(int, struct msghdr *, int);
};

/* Use io for every later call; NULL restores libc's.  Set once, early. */
void	proto_set_io(const struct proto_io *io);

/* Body size of a request type, or -1 if the type is unknown. */
ssize_t	proto_request_len(uint16_t type);
ssize_t	proto_reply_len(uint16_t type);

/*
 * Validate a request header: returns 0, or PROTO_ERR_VERSION for another
 * magic/version, or -EINVAL for an unknown type or wrong length.
 */
int	proto_check_request(const struct proto_hdr *);

void	proto_hdr_init(struct proto_hdr *, uint16_t type, uint32_t len,
	    int32_t status);

/*
 * Send header+body (and fd if >= 0 as SCM_RIGHTS) in one sendmsg.
 * Returns 0 or -errno.  Retries EINTR; never raises SIGPIPE.
 */
int	proto_send(int sock, const struct proto_hdr *, const void *body,
	    size_t len, int fd);

/*
 * Read exactly len bytes, taking at most one passed descriptor into *fdp
 * (set to -1 when none; may be NULL to refuse descriptors, which are then
 * closed).  Returns 0, -ECONNRESET on EOF, or -errno.
 */
int	proto_recv(int sock, void *buf, size_t len, int *fdp);

/* More bytes of a message already begun (a tail): 0 or -errno. */
int	proto_send_raw(int sock, const void *buf, size_t len);

/* As proto_send, with up to PROTO_MAX_FDS descriptors. */
int	proto_send_fds(int sock, const struct proto_hdr *, const void *body,
	    size_t len, const int *fds, int nfds);

/*
 * One non-blocking recvmsg of at most len bytes.  Passed descriptors go
 * into the slots of fds[maxfds] that are -1; extra ones are closed.
 * Returns bytes read, 0 on EOF, or -errno.
 */
ssize_t	proto_recv_some(int sock, void *buf, size_t len, int *fds,
	    int maxfds);

/*
 * DIR/<prefix><16 hex digits of a hash of the strings>: the helper's
 * socket (S.) and the launcher's name cache (N.) in the runtime directory,
 * per protocol version.
 * Returns 0 or -1 (ENAMETOOLONG) when it does not fit sockaddr_un.
 */
int	proto_hashed_path(char *buf, size_t len, const char *dir,
	    const char *prefix, const char *const *strings, size_t n);

void	proto_addr_from_sockaddr(struct proto_addr *, const struct sockaddr *);
/* Fill a sockaddr_storage; returns its length or 0 for a bad family. */
socklen_t proto_addr_to_sockaddr(const struct proto_addr *,
	    struct sockaddr_storage *);

#endif
