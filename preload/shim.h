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

#include "../common/proto.h"
#include "../common/synth.h"
#include "../rules/rules.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

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
	int	(*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int	(*listen)(int, int);
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

/* Nonzero if sa is in one of the synthetic pools (mapped ones too). */
int	shim_is_synthetic(const struct sockaddr *sa);

/*
 * One request/reply exchange with the helper of session s on a fresh
 * connection.  Sends fd along if >= 0.  On success stores the reply status
 * (0 or a positive errno) in *status and the reply body in reply.
 * Returns 0, or -errno when the helper cannot be reached or misbehaves.
 * With nowait set, sends and returns without reading a reply.
 */
int	ipc_call(const struct shim_session *s, uint16_t type, const void *req,
	    size_t reqlen, int fd, void *reply, size_t replylen, int *status,
	    int nowait);

/* The general form: a variable tail after the body, a reply of any length. */
struct ipc_req {
	uint16_t	 type;
	const void	*body;
	size_t		 len;
	const void	*tail;		/* sent after body; hdr.len covers both */
	size_t		 taillen;
	int		 fd;		/* sent along if >= 0 */
	int		 nowait;
};
int	ipc_exchange(const struct shim_session *s, const struct ipc_req *q,
	    void *reply, size_t replymax, size_t *replylen, int *status);

/* Tunneled-socket table: getpeername truth and pending connect state. */
void	fdtab_set(int fd, const struct sockaddr *dest, socklen_t len,
	    int pending);
/* Copy the recorded destination; returns 0 or -1 if fd is not tunneled. */
int	fdtab_get(int fd, struct sockaddr_storage *dest, socklen_t *len,
	    int *pending, uint64_t *ino);
void	fdtab_clear_pending(int fd);
/* Held across fork() so no child inherits a lock held by another thread. */
void	fdtab_lock_all(void);
void	fdtab_unlock_all(void);
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

/* Remote-DNS cache: name <-> synthetic addresses, shared with the helper. */
int	names_resolve(const struct shim_session *s, const char *name,
	    struct in_addr *v4, struct in6_addr *v6);
/* Name for a synthetic address; returns 0 and fills name or -1. */
int	names_reverse(const struct shim_session *s, const struct sockaddr *sa,
	    char *name, size_t len);

#endif
