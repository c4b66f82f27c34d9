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
 * shim.h - internals of libtunnelwrap.so, the LD_PRELOAD shim.
 *
 * The shim is a guest in someone else's process: it links libc only, starts
 * no thread, never prints into the program's stdout, never exits, and
 * every hook returns exactly what the libc call it replaces would (-1 and a
 * valid errno, or an EAI_* code).  State is one process-wide struct built
 * once from the environment the launcher set, read-only afterwards.
 */
#ifndef TW_SHIM_H
#define TW_SHIM_H

#include <netdb.h>
#include <spawn.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <signal.h>

#include "../common/proto.h"
#include "../common/synth.h"
#include "../rules/rules.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

struct __res_state;
struct gaicb;

struct real_fns {
	int	(*connect)(int, const struct sockaddr *, socklen_t);
	int	(*getaddrinfo)(const char *, const char *,
		    const struct addrinfo *, struct addrinfo **);
	void	(*freeaddrinfo)(struct addrinfo *);
	int	(*getnameinfo)(const struct sockaddr *, socklen_t, char *,
		    socklen_t, char *, socklen_t, int);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int	(*gethostbyname_r)(const char *, struct hostent *, char *,
		    size_t, struct hostent **, int *);
	int	(*gethostbyname2_r)(const char *, int, struct hostent *,
		    char *, size_t, struct hostent **, int *);
	struct hostent *(*gethostbyaddr)(const void *, socklen_t, int);
	int	(*gethostbyaddr_r)(const void *, socklen_t, int,
		    struct hostent *, char *, size_t, struct hostent **, int *);
	int	(*getpeername)(int, struct sockaddr *, socklen_t *);
	int	(*getsockopt)(int, int, int, void *, socklen_t *);
	ssize_t	(*sendto)(int, const void *, size_t, int,
		    const struct sockaddr *, socklen_t);
	ssize_t	(*sendmsg)(int, const struct msghdr *, int);
	ssize_t	(*recvmsg)(int, struct msghdr *, int);
	int	(*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int	(*listen)(int, int);
	ssize_t	(*write)(int, const void *, size_t);
	ssize_t	(*writev)(int, const struct iovec *, int);
	int	(*res_nquery)(struct __res_state *, const char *, int, int,
		    unsigned char *, int);
	int	(*res_nsearch)(struct __res_state *, const char *, int, int,
		    unsigned char *, int);
	int	(*res_nquerydomain)(struct __res_state *, const char *,
		    const char *, int, int, unsigned char *, int);
	int	(*res_nsend)(struct __res_state *, const unsigned char *, int,
		    unsigned char *, int);
	int	(*getaddrinfo_a)(int, struct gaicb **, int, struct sigevent *);
	int	(*execve)(const char *, char *const[], char *const[]);
	int	(*execvpe)(const char *, char *const[], char *const[]);
	int	(*posix_spawn)(pid_t *, const char *,
		    const posix_spawn_file_actions_t *,
		    const posix_spawnattr_t *, char *const[], char *const[]);
	int	(*posix_spawnp)(pid_t *, const char *,
		    const posix_spawn_file_actions_t *,
		    const posix_spawnattr_t *, char *const[], char *const[]);
};

struct shim_session {
	const char	*name;
	char		 path[108];	/* helper control socket */
};

struct shim {
	int		 active;	/* rules loaded: hooks do their work */
	struct rules	*rules;
	char		*ruleset;	/* its text, for the helper's proxy */
	struct shim_session *sessions;
	size_t		 nsessions;
	struct synth_pools pools;	/* synthetic addresses */
	int		 verbose;
	int		 helper_timeout_ms;	/* bound on every helper wait */
	char		 logpath[64];	/* /proc/PID/fd/2 of the launcher */
};

/* Real libc functions; never NULL after shim_init() (hooks check). */
extern struct real_fns shim_real;

/* The process-wide state, initialised on first use.  Never NULL. */
const struct shim *shim_get(void);

/* Log one line to the launcher's stderr when -v was given; keeps errno. */
void	shim_log(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Control socket of the session named (NULL: default); NULL if none. */
const struct shim_session *shim_session(const char *name);

/*
 * An IPv4-mapped IPv6 address (what dual-stack programs like Java use) as
 * plain IPv4, in buf; any other address unchanged.
 */
const struct sockaddr *shim_unmap(const struct sockaddr *sa,
	    struct sockaddr_in *buf);

/* The port of an AF_INET or AF_INET6 sockaddr, host order; else 0. */
uint16_t shim_port(const struct sockaddr *sa);

/* Nonzero if sa is in one of the synthetic pools (mapped ones too). */
int	shim_is_synthetic(const struct sockaddr *sa);

/*
 * One request/reply exchange with the helper of session s on a fresh
 * connection.  Sends fd along if >= 0.  On success stores the reply status
 * (0 or a positive errno) in *status and the reply body in reply.
 * Returns 0, or -errno when the helper cannot be reached or misbehaves
 * (-ETIMEDOUT when it does not answer within HelperTimeout).  With nowait set, sends and returns without reading a reply.
 */
int	ipc_call(const struct shim_session *s, uint16_t type, const void *req,
	    size_t reqlen, int fd, void *reply, size_t replylen, int *status,
	    int nowait);

/* Route the framing's socket calls through ours (libc, bounded). */
void	ipc_init(void);

/* The general form: a variable tail after the body, a reply of any length. */
struct ipc_req {
	uint16_t	 type;
	const void	*body;
	size_t		 len;
	const void	*tail;		/* sent after body; hdr.len covers both */
	size_t		 taillen;
	int		 fd;		/* sent along if >= 0 */
	int		 nowait;
	int		 extra_ms;	/* added to HelperTimeout, for answers
					   that wait for the bastion */
};
int	ipc_exchange(const struct shim_session *s, const struct ipc_req *q,
	    void *reply, size_t replymax, size_t *replylen, int *status);

/*
 * The hooks' work, shared by the libc entry points, syscall() and Fast
 * Open: the same decisions (tunnel, deny, direct) whichever way a program
 * calls.  As the libc functions: -1 and errno on failure.
 */
int	shim_connect(int fd, const struct sockaddr *sa, socklen_t len);
ssize_t	shim_sendto(int fd, const void *buf, size_t len, int flags,
	    const struct sockaddr *sa, socklen_t salen);
ssize_t	shim_sendmsg(int fd, const struct msghdr *msg, int flags);
int	shim_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);

/*
 * A FORWARD of kind (PROTO_FWD_DYNAMIC with bind 127.0.0.1: the proxy for
 * programs the shim cannot reach; PROTO_FWD_DNS: the DNS responder) that
 * the default session's helper makes for our rules and shares by their
 * text.  Returns its port, or -1 when there is none to be had.
 */
int	ipc_forward_port(uint32_t kind, const char *origin);

/* Tunneled-socket table: getpeername truth and pending connect state. */
struct fdtab_ent {
	struct sockaddr_storage	 dest;		/* what the program connected to */
	socklen_t		 len;
	int			 pending;	/* connect not finished yet */
	uint64_t		 ino;		/* socket inode */
	const struct shim_session *session;	/* the helper that has it */
};
void	fdtab_set(int fd, const struct sockaddr *dest, socklen_t len,
	    int pending, const struct shim_session *session);
/* The entry of fd (out may be NULL); returns 0, or -1 if not tunneled. */
int	fdtab_get(int fd, struct fdtab_ent *out);
/* As fdtab_get, also finding another number of the same socket (dup). */
int	fdtab_find(int fd, struct fdtab_ent *out);
void	fdtab_clear_pending(int fd);
/*
 * The entries of inheritable descriptors as TUNNELWRAP_FDS's value, for
 * an exec: its length (0: none; what does not fit is left out).
 */
size_t	fdtab_export(char *buf, size_t len,
	    const struct shim_session *sessions, size_t nsessions);
/* Take back what fdtab_export gave the previous image (bad input: ignored). */
void	fdtab_import(const char *spec, const struct shim_session *sessions,
	    size_t nsessions);

/* Held across fork() so no child inherits a lock held by another thread. */
void	fdtab_lock_all(void);
void	fdtab_unlock_all(void);

/*
 * Why a parked connect failed, asked of the helper that has the socket:
 * its errno, or kernel_err when that helper does not know (any more).
 */
int	shim_parked_reason(const struct fdtab_ent *e, int kernel_err);
void	names_lock_all(void);
void	names_unlock_all(void);

/*
 * UDP sockets connected to port 53 (a resolver of the program's own):
 * their queries are checked for names that must not leak.  The check is
 * one load while no such socket exists.
 */
void	shim_dns_mark(int fd);
int	shim_dns_fd_slow(int fd);
extern int shim_dns_any;
#define shim_dns_fd(fd)	(__builtin_expect(shim_dns_any, 0) && shim_dns_fd_slow(fd))

/*
 * The port-53 policy (hook-dns.c): the one place the send and connect
 * hooks ask (and the syscall() ones, through them).
 *
 * shim_dns_send: a send of buf on fd to `to` (NULL: the socket's
 * connected peer, as for send and write).  Returns 0 to let it go as
 * asked; 1 to send it to *alt instead (the helper's DNS responder: `to` is
 * one of the system's nameservers; alt may be NULL to forbid that); or -1
 * with errno EACCES: a query about a name the rules resolve remotely, to
 * another server, which must not leave the machine.
 *
 * shim_dns_connect: a connect of fd to sa.  Returns 1 when fd (UDP or
 * TCP) should be connected to *alt instead (the responder: sa is a system
 * nameserver; getpeername goes on naming sa), else 0, having marked a
 * port-53 socket so that shim_dns_send checks what it sends.
 */
int	shim_dns_send(int fd, const struct sockaddr *to, socklen_t tolen,
	    const void *buf, size_t len, struct sockaddr_storage *alt,
	    socklen_t *altlen);
int	shim_dns_connect(int fd, const struct sockaddr *sa, socklen_t salen,
	    struct sockaddr_storage *alt, socklen_t *altlen);
/* Nonzero if the rules resolve name remotely (tunnel or deny). */
int	shim_dns_remote(const char *name);
/*
 * The question's name of the DNS query in buf, as "a.b.c", into name;
 * returns 0, or -1 if buf holds no query we can read.
 */
int	shim_dns_qname(const unsigned char *buf, size_t len, char *name,
	    size_t nlen);

/* Remote-DNS cache: name <-> synthetic addresses, shared with the helper. */
int	names_resolve(const struct shim_session *s, const char *name,
	    struct in_addr *v4, struct in6_addr *v6);
/* Name for a synthetic address; returns 0 and fills name or -1. */
int	names_reverse(const struct shim_session *s, const struct sockaddr *sa,
	    char *name, size_t len);

#endif
