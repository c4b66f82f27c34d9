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
 * supervise.c - programs the shim cannot reach (static, Go), tunneled by
 * a seccomp user-notification filter with the launcher as supervisor.
 *
 * Set-up.  The launcher forks; the child sets no_new_privs, installs the
 * filter (SECCOMP_FILTER_FLAG_NEW_LISTENER) and writes the listener's
 * number on a pipe; we take the listener with pidfd_getfd (which proves
 * we may take descriptors from it), tell the child to go on, and it execs
 * COMMAND.  Threads and children inherit the filter.  We stay the parent
 * (and a subreaper, so daemonized children stay our descendants: Yama's
 * ptrace_scope=1 lets only an ancestor read their memory), pass on the
 * signals we get, and exit with COMMAND's status.  Processes it leaves
 * behind then lose their supervisor: the kernel fails their notified
 * calls with ENOSYS.  Nothing ever goes direct for want of an answer.
 *
 * The filter (filter_install) notifies connect, sendmsg, sendmmsg,
 * sendto with an address or MSG_FASTOPEN, getpeername (a tunneled
 * socket's peer is the destination, not the helper) and
 * getsockopt(SO_ERROR) (a failed one's reason, not ECONNRESET); io_uring_setup fails (ENOSYS:
 * its connects would bypass the filter), and so do the other ABIs' socket
 * calls (x32, i386 socketcall).  Everything else runs untouched.
 *
 * A notification.  We read the sockaddr from the program's memory, then
 * check that the notification is still valid (the thread may have died or
 * been interrupted, and its pid reused), and decide with the rules as the
 * shim does (hook-connect.c; synthetic addresses by name through the
 * helper):
 *   direct  SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the call.
 *           The program could change the sockaddr after we read it (time
 *           of check to time of use): CONTINUE is no boundary against a
 *           program that races its own connect on purpose.  Tunnel and
 *           deny have no such window.
 *   deny    EACCES.
 *   tunnel  We take the socket (pidfd_getfd) and hand it to the helper
 *           with the CONNECT request the shim sends; the helper parks
 *           it and completes it (daemon/handover.c), so the program
 *           keeps its own socket.  A non-blocking connect gets EINPROGRESS at once; for
 *           a blocking one we keep the notification and answer when the
 *           socket polls writable (or SO_SNDTIMEO passes), with SO_ERROR
 *           refined by the helper's recorded reason (OUTCOME).
 * The helper never sees the sockaddr we read after deciding: we send what
 * we decided on, and it connects the socket we hold.
 *
 * Names.  A program's own DNS (Go's resolver, busybox nslookup: UDP or
 * TCP to port 53) would ask the system resolver for names the rules
 * resolve remotely.  A socket connecting to one of the nameservers of
 * /etc/resolv.conf is connected to the helper's DNS responder instead
 * (dns_redirect: we take it and connect it ourselves), which answers by
 * the rules: synthetic addresses for tunneled names, their other records
 * from the intranet's resolver through the bastion, REFUSED for denied
 * ones, the rest forwarded to the system's resolver.  getpeername still
 * names the nameserver.  A datagram sent to a nameserver on an
 * unconnected socket we send to the responder ourselves.  To any other
 * server, whose questions we do not read, port 53 is refused (EACCES),
 * unless the process carries the shim (whose send hooks check every
 * query by name) and is no Go program.  Addresses, synthetic ones from a
 * remote lookup included, are tunneled as usual.
 *
 * Signals.  The filter asks the kernel to wait killably once we have
 * received a notification (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 5.19):
 * Go's SIGURG preemption then cannot restart a connect we are acting on.
 * Older kernels restart it: a second notification for a socket we are
 * already waiting for (same inode) takes the place of the first.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "../common/proto.h"
#include "../common/reach.h"
#include "../common/resolvconf.h"
#include "../common/synth.h"
#include "../rules/rules.h"
#include "client.h"
#include "fwdspec.h"
#include "log.h"
#include "supervise.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS		/* 6.6 */
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS	SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP	(1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV	(1UL << 5)
#endif

/* The native ABI, and the socket calls of the 32-bit one beside it. */
#if defined(__x86_64__)
#define NATIVE_ARCH		AUDIT_ARCH_X86_64
#define COMPAT_SOCKETCALL	102	/* i386 */
#define COMPAT_CONNECT		362
#define COMPAT_SENDTO		369
#define COMPAT_SENDMSG		370
#define COMPAT_SENDMMSG		345
#define COMPAT_IO_URING_SETUP	425
#elif defined(__aarch64__)
#define NATIVE_ARCH		AUDIT_ARCH_AARCH64
#define COMPAT_SOCKETCALL	0xffffffff	/* arm has none */
#define COMPAT_CONNECT		283
#define COMPAT_SENDTO		290
#define COMPAT_SENDMSG		296
#define COMPAT_SENDMMSG		374
#define COMPAT_IO_URING_SETUP	425
#endif

#ifndef SIN6_LEN_RFC2133
#define SIN6_LEN_RFC2133	24	/* sockaddr_in6 without sin6_scope_id */
#endif

#define MAX_WAITERS	1024		/* blocking connects in progress */
#define TFO_MAX		(64 * 1024)	/* Fast Open data we send for it */
#define MMSG_MAX	1024		/* UIO_MAXIOV: sendmmsg sends no more */
#define DNS_PEERS	256		/* DNS sockets whose peer we remember */
#define DNS_IOV_MAX	16		/* iovecs of a query we gather */
#define DNS_MSG_MAX	65535		/* the largest DNS message */
#define RESP_TTL_MS	5000		/* how long the responder's port holds */

/* A blocking tunneled connect (or Fast Open send) we answer later. */
struct waiter {
	uint64_t	 id;		/* the notification */
	int		 fd;		/* our copy of the program's socket */
	uint64_t	 ino;
	int		 flags;		/* its file status flags, to restore */
	long long	 deadline;	/* ms (CLOCK_MONOTONIC), or 0 */
	const char	*session;	/* helper socket, for OUTCOME; NULL:
					 * a DNS socket to the responder */
	pid_t		 pid;
	uint64_t	 data;		/* Fast Open: the program's buffer */
	size_t		 datalen;
};

/* A DNS socket we connected to the responder: getpeername's answer. */
struct dns_peer {
	uint64_t		 ino;
	struct sockaddr_storage	 local;		/* against inode reuse */
	struct sockaddr_storage	 ns;		/* the nameserver it asked for */
	socklen_t		 nslen;
};

struct sv {
	const struct supervise_conf	*conf;
	struct synth_pools		 pools;
	struct resolvconf		 ns;		/* the system's nameservers */
	int				 resp_port;	/* the DNS responder's */
	long long			 resp_stamp;
	struct dns_peer			 dns_peers[DNS_PEERS];
	size_t				 dns_next;	/* ring */
	int				 listener;
	struct seccomp_notif		*req;
	struct seccomp_notif_resp	*resp;
	size_t				 reqsize, respsize;
	struct waiter			 waits[MAX_WAITERS];
	size_t				 nwaits;
};

/* What one notified call asks for. */
struct call {
	uint64_t	 id;
	pid_t		 pid;		/* the calling thread */
	int		 fd;		/* the socket, in the program */
	int		 flags;		/* send flags (MSG_FASTOPEN) */
	int		 is_send;
	int		 is_mmsg;	/* sendmmsg: one answer, N messages */
	uint64_t	 iov;		/* sendmsg: the iovec array */
	size_t		 iovlen;
	uint64_t	 data;		/* send: the data */
	size_t		 datalen;
	struct sockaddr_storage sa;	/* the destination, as read */
	socklen_t	 salen;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the filter ----------------------------------------------------- */

#define LD_NR	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
		    offsetof(struct seccomp_data, nr))
#define LD_ARG(i, hi) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
		    offsetof(struct seccomp_data, args) + 8 * (i) + 4 * (hi))
#define RET(v)	BPF_STMT(BPF_RET | BPF_K, (v))
#define NOTIFY	SECCOMP_RET_USER_NOTIF
#define REFUSE(e) (SECCOMP_RET_ERRNO | (e))

/*
 * Install the filter in this (child) process; returns the listener or -1
 * with errno.  Offsets of jumps are counted by hand: keep the comments.
 */
static int
filter_install(void)
{
#ifdef NATIVE_ARCH
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		/* 2: another ABI (i386 on x86_64): to 32 */
		BPF_JUMP(BPF_JMP | BPF_JA, 29, 0, 0),
		LD_NR,
#ifdef __x86_64__
		/* 4: x32 system calls */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40000000, 0, 1),
		RET(REFUSE(ENOSYS)),
#else
		BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0),
		BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0),
#endif
		/* 6 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_connect, 7, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getpeername, 6, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmsg, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmmsg, 4, 0),
		/* 10 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendto, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getsockopt, 14, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 2, 0),
		RET(SECCOMP_RET_ALLOW),
		/* 14: connect, getpeername, sendmsg, sendmmsg */
		RET(NOTIFY),
		/* 15: io_uring_setup */
		RET(REFUSE(ENOSYS)),
		/* 16: sendto: with an address, or MSG_FASTOPEN */
		LD_ARG(4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
		RET(NOTIFY),
		LD_ARG(4, 1),
		/* 20 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
		RET(NOTIFY),
		LD_ARG(3, 0),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MSG_FASTOPEN, 0, 1),
		RET(NOTIFY),
		/* 25 */
		RET(SECCOMP_RET_ALLOW),
		/* 26: getsockopt(SOL_SOCKET, SO_ERROR) only */
		LD_ARG(1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_SOCKET, 0, 3),
		LD_ARG(2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SO_ERROR, 0, 1),
		/* 30 */
		RET(NOTIFY),
		RET(SECCOMP_RET_ALLOW),
		/* 32: the other ABI's socket calls fail; the rest runs */
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_SOCKETCALL, 6, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_CONNECT, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_SENDTO, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_SENDMSG, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_SENDMMSG, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_IO_URING_SETUP, 1,
		    0),
		RET(SECCOMP_RET_ALLOW),
		RET(REFUSE(EAFNOSUPPORT)),
	};
	struct sock_fprog fprog = { sizeof(prog) / sizeof(prog[0]), prog };
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER |
	    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &fprog);
	if (fd == -1 && errno == EINVAL)	/* before 5.19 */
		fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
	return fd;
#else
	errno = ENOSYS;
	return -1;
#endif
}

int
supervise_probe(char *why, size_t len)
{
	struct seccomp_notif_sizes sizes;

#ifndef NATIVE_ARCH
	snprintf(why, len, "no seccomp supervisor for this architecture");
	return -1;
#endif
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == -1) {
		snprintf(why, len, "seccomp user notification: %s",
		    strerror(errno));
		return -1;
	}
	/* pidfd_getfd (5.6) came after SECCOMP_USER_NOTIF_FLAG_CONTINUE. */
	if (syscall(SYS_pidfd_getfd, -1, 0, 0) == -1 && errno == ENOSYS) {
		snprintf(why, len, "pidfd_getfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* --- the program's memory and descriptors ---------------------------- */

static int
still_valid(struct sv *sv, uint64_t id)
{
	return ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* Copy len bytes at addr in pid; 0, or -errno. */
static int
peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	char path[64];
	ssize_t n;
	int fd;

	if (len == 0)
		return 0;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	/* Some kernels and sandboxes refuse it: try /proc/PID/mem. */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 && errno != EIO ? -errno : -EFAULT;
}

/* The process (thread group) of thread tid, from /proc; -1 if gone. */
static pid_t
tgid_of(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nTgid:")) == NULL)
		return -1;
	return (pid_t)atoi(p + 6);
}

/*
 * Our own copy of descriptor fd of the thread that sent notification id;
 * -errno on failure.  The notification is checked once we hold a pidfd:
 * the thread was then alive, so the pidfd is that thread's, not a reused
 * number's.  (pidfd_getfd sets close-on-exec on the copy.)
 */
static int
take_fd(struct sv *sv, uint64_t id, pid_t tid, int fd)
{
	int pidfd, copy, e;
	pid_t tgid;

	pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pidfd == -1 && errno == EINVAL && (tgid = tgid_of(tid)) > 0)
		pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd == -1)
		return -errno;
	if (!still_valid(sv, id)) {
		close(pidfd);
		return -ESRCH;
	}
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	e = errno;
	close(pidfd);
	return copy == -1 ? -e : copy;
}

/*
 * Are the DNS queries of thread tid's process checked by the shim?  Only
 * if it carries the shim and is no Go program (whose own resolver makes
 * raw system calls past the shim's send hooks).
 */
static int
dns_checked(pid_t tid)
{
	char path[64], buf[8192];
	size_t keep = 0;
	ssize_t n;
	int fd, found = 0;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
	if (reach_file(path) != REACH_OK)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while ((n = read(fd, buf + keep, sizeof(buf) - 1 - keep)) > 0) {
		size_t have = keep + (size_t)n;

		buf[have] = '\0';
		if (strstr(buf, "/libtunnelwrap.so") != NULL) {
			found = 1;
			break;
		}
		/* keep a tail, in case the name spans two reads */
		keep = have > 32 ? 32 : have;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	return found;
}

/* --- answers -------------------------------------------------------- */

/* Answer notification id: err 0 (val as the result), an errno, or -1
 * for CONTINUE.  A notification gone meanwhile is no error. */
static void
answer(struct sv *sv, uint64_t id, int err, long long val)
{
	memset(sv->resp, 0, sv->respsize);
	sv->resp->id = id;
	if (err == -1)
		sv->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else if (err > 0)
		sv->resp->error = -err;
	else
		sv->resp->val = val;
	if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_SEND, sv->resp) == -1 &&
	    errno != ENOENT)
		debug("notification %llu: %s", (unsigned long long)id,
		    strerror(errno));
}
#define CONTINUE	(-1)

static void
describe(const struct sockaddr *sa, const char *name, char *buf,
    size_t len)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%u%s%s%s" :
	    "%s:%u%s%s%s", host, ntohs(sa->sa_family == AF_INET ?
	    sin->sin_port : sin6->sin6_port), name ? " (" : "",
	    name ? name : "", name ? ")" : "");
}

static const char *
session_path(struct sv *sv, const char *name)
{
	size_t i;

	if (sv->conf->nsessions == 0)
		return NULL;
	if (name == NULL)
		return sv->conf->sessions[0].path;
	for (i = 0; i < sv->conf->nsessions; i++)
		if (strcmp(sv->conf->sessions[i].name, name) == 0)
			return sv->conf->sessions[i].path;
	return NULL;
}

/* The name a synthetic address stands for, from the helper; 0 or -1. */
static int
reverse(struct sv *sv, const struct sockaddr *sa, char *name, size_t len)
{
	const char *path = session_path(sv, NULL);
	struct sockaddr_in v4;
	struct proto_addr req;
	struct proto_name rep;

	if (path == NULL)
		return -1;
	proto_addr_from_sockaddr(&req, synth_unmap(sa, &v4));
	memset(&rep, 0, sizeof(rep));
	if (client_exchange(path, PROTO_REVERSE, &req, sizeof(req), -1, &rep,
	    sizeof(rep)) != 0)
		return -1;
	rep.name[sizeof(rep.name) - 1] = '\0';
	return strlcpy(name, rep.name, len) < len ? 0 : -1;
}

/* --- tunneled connects ---------------------------------------------- */

static struct waiter *
waiter_find(struct sv *sv, uint64_t ino)
{
	size_t i;

	for (i = 0; i < sv->nwaits; i++)
		if (sv->waits[i].ino == ino)
			return &sv->waits[i];
	return NULL;
}

/*
 * Finish a blocking connect: the outcome from SO_ERROR (the helper's
 * recorded reason in place of the kernel's ECONNRESET), then, for a Fast
 * Open send, the data.  timed_out: SO_SNDTIMEO passed (EINPROGRESS, as
 * the kernel says).
 */
static void
waiter_done(struct sv *sv, size_t i, int timed_out)
{
	struct waiter *w = &sv->waits[i];
	struct proto_outcome oc;
	socklen_t len = sizeof(int);
	char *buf = NULL;
	long long val = 0;
	int err = 0, r;

	if (timed_out)
		err = EINPROGRESS;
	else if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == ECONNRESET && w->session != NULL) {
		oc.ino = w->ino;
		r = client_exchange(w->session, PROTO_OUTCOME, &oc, sizeof(oc),
		    -1, NULL, 0);
		if (r > 0)
			err = r;
	}
	fcntl(w->fd, F_SETFL, w->flags);
	if (err == 0 && w->datalen > 0) {
		/* The program waits in its sendto: its buffer holds still. */
		if ((buf = malloc(w->datalen)) == NULL)
			err = ENOBUFS;
		else if ((r = peek(w->pid, w->data, buf, w->datalen)) < 0)
			err = -r;
		else if ((val = send(w->fd, buf, w->datalen,
		    MSG_NOSIGNAL | MSG_DONTWAIT)) == -1)
			err = errno == EAGAIN ? 0 : errno;
		if (val == -1)
			val = 0;
		free(buf);
	}
	answer(sv, w->id, err, val);
	close(w->fd);
	sv->waits[i] = sv->waits[--sv->nwaits];
}

/*
 * Hand the socket sock (ours; closed here or kept by a waiter) to the
 * helper for a tunneled connect to sa, named name if synthetic.
 */
static void
tunnel(struct sv *sv, const struct call *c, int sock, const char *name,
    const struct rules_match *m, const char *what)
{
	const char *path = session_path(sv, m->session);
	struct proto_connect req;
	struct proto_addr unused;
	struct tcp_info ti;
	struct timeval tv;
	struct waiter *w;
	struct stat st;
	socklen_t len;
	pid_t tgid;
	int flags, r, zero = 0, err;

	if (fstat(sock, &st) == -1 || (flags = fcntl(sock, F_GETFL)) == -1) {
		err = errno;
		goto fail;
	}
	if ((w = waiter_find(sv, st.st_ino)) != NULL) {
		/* The same blocking connect, restarted after a signal. */
		w->id = c->id;
		close(sock);
		return;
	}
	len = sizeof(ti);
	if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    ti.tcpi_state != TCP_CLOSE) {
		/* What the kernel says to a second connect. */
		err = ti.tcpi_state == TCP_SYN_SENT ? EALREADY : EISCONN;
		goto fail;
	}
	if (path == NULL) {
		logit("%s: no session %s to tunnel through", what,
		    m->session ? m->session : "");
		err = ENETUNREACH;
		goto fail;
	}
	memset(&req, 0, sizeof(req));
	/* The helper checks the program holds it (we let go of our copy). */
	req.flags = PROTO_CONNECT_SUPERVISED;
	req.pid = (uint32_t)((tgid = tgid_of(c->pid)) > 0 ? tgid : c->pid);
	req.fd = c->fd;
	proto_addr_from_sockaddr(&req.dest, (const struct sockaddr *)&c->sa);
	if (name != NULL)
		strlcpy(req.host, name, sizeof(req.host));
	snprintf(req.rule, sizeof(req.rule), "%s:%d",
	    m->file ? m->file : "(default)", m->line);
	if (!(flags & O_NONBLOCK) && fcntl(sock, F_SETFL, flags | O_NONBLOCK)
	    == -1) {
		err = errno;
		goto fail;
	}
	/* A deferred (Fast Open) connect would defeat the parking. */
	setsockopt(sock, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &zero,
	    sizeof(zero));
	r = client_exchange(path, PROTO_CONNECT, &req, sizeof(req), sock,
	    &unused, sizeof(unused));
	if (r != EINPROGRESS) {
		fcntl(sock, F_SETFL, flags);
		if (r < 0)
			logit("%s: helper for session %s unreachable: %s", what,
			    m->session ? m->session : "", strerror(-r));
		else
			verbose("%s: %s", what, strerror(r));
		err = r < 0 ? ENETUNREACH : r ? r : EIO;
		goto fail;
	}
	if ((flags & O_NONBLOCK) || sv->nwaits == MAX_WAITERS) {
		answer(sv, c->id, EINPROGRESS, 0);
		close(sock);
		return;
	}
	w = &sv->waits[sv->nwaits++];
	memset(w, 0, sizeof(*w));
	w->id = c->id;
	w->fd = sock;
	w->ino = st.st_ino;
	w->flags = flags;
	w->session = path;
	w->pid = c->pid;
	if (c->is_send) {
		w->data = c->data;
		w->datalen = c->datalen > TFO_MAX ? TFO_MAX : c->datalen;
	}
	len = sizeof(tv);
	if (getsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0 &&
	    (tv.tv_sec > 0 || tv.tv_usec > 0))
		w->deadline = now_ms() + tv.tv_sec * 1000 + tv.tv_usec / 1000;
	return;
 fail:
	answer(sv, c->id, err, 0);
	close(sock);
}


/* --- a program's own DNS: to the helper's responder ------------------- */

/*
 * The port of the default session's DNS responder for our rules (the
 * helper makes it on the first request, as for the shim, which sends the
 * same rules dump); 0 when there is none to be had.  Kept a few seconds:
 * a restarted helper has another.
 */
static int
responder_port(struct sv *sv)
{
	const char *path = session_path(sv, NULL);
	struct proto_forward fw;
	char err[512] = "no port in its answer", *dump;
	long long t = now_ms();
	size_t len;
	int port = 0;

	if (sv->resp_port > 0 && t - sv->resp_stamp < RESP_TTL_MS)
		return sv->resp_port;
	if (path == NULL)
		return 0;
	memset(&fw, 0, sizeof(fw));
	fw.kind = PROTO_FWD_DNS;
	strlcpy(fw.origin, "DNS responder", sizeof(fw.origin));
	len = rules_dump(sv->conf->rules, NULL, 0);
	if ((dump = malloc(len + 1)) == NULL)
		fatal("out of memory");
	rules_dump(sv->conf->rules, dump, len + 1);
	if (fwdspec_send(path, &fw, dump, len, &port, err, sizeof(err)) ==
	    -1 || port <= 0 || port > 65535) {
		/* Said once, not for every query while the helper is gone. */
		if (sv->resp_stamp == 0 || sv->resp_port > 0)
			logit("no DNS responder from the helper: %s", err);
		port = 0;
	}
	free(dump);
	sv->resp_port = port;
	sv->resp_stamp = t;
	return port;
}

/* The responder's address for a socket of family (v4-mapped for v6). */
static socklen_t
responder_addr(int family, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
		sin6->sin6_addr.s6_addr[12] = 127;
		sin6->sin6_addr.s6_addr[15] = 1;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*sin);
}

/* Remember that sock (connected to the responder) asked for c->sa. */
static void
dns_peer_keep(struct sv *sv, int sock, const struct call *c)
{
	struct dns_peer *p = &sv->dns_peers[sv->dns_next];
	socklen_t len = sizeof(p->local);
	struct stat st;

	if (fstat(sock, &st) == -1 || getsockname(sock,
	    (struct sockaddr *)&p->local, &len) == -1)
		return;
	p->ino = st.st_ino;
	p->ns = c->sa;
	p->nslen = c->salen;
	sv->dns_next = (sv->dns_next + 1) % DNS_PEERS;
}

/* The nameserver a DNS socket of ours asked for, or NULL. */
static const struct dns_peer *
dns_peer_find(struct sv *sv, int sock)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	struct stat st;
	size_t i;

	if (fstat(sock, &st) == -1 || getsockname(sock,
	    (struct sockaddr *)&local, &len) == -1)
		return NULL;
	for (i = 0; i < DNS_PEERS; i++)
		if (sv->dns_peers[i].ino == st.st_ino &&
		    memcmp(&sv->dns_peers[i].local, &local, len) == 0)
			return &sv->dns_peers[i];
	return NULL;
}

/*
 * A datagram to the nameserver on an unconnected socket: we send it to
 * the responder ourselves, from our copy of the socket, and answer with
 * the count.  The answer's source is then the responder, not the
 * nameserver (recvfrom shows it).  Returns the errno to answer, or 0.
 */
static int
dns_sendto(struct sv *sv, const struct call *c, int sock,
    const struct sockaddr_storage *resp, socklen_t resplen, long long *val)
{
	struct iovec iov[DNS_IOV_MAX];
	unsigned char *buf;
	size_t n = 0, i, niov, take;
	ssize_t sent;
	int r = 0;

	if ((buf = malloc(DNS_MSG_MAX)) == NULL)
		return ENOBUFS;
	if (c->iov != 0) {
		niov = c->iovlen > DNS_IOV_MAX ? DNS_IOV_MAX : c->iovlen;
		if ((r = peek(c->pid, c->iov, iov, niov * sizeof(iov[0]))) < 0)
			goto out;
	} else {
		iov[0].iov_base = (void *)c->data;
		iov[0].iov_len = c->datalen;
		niov = 1;
	}
	for (i = 0; i < niov && n < DNS_MSG_MAX; i++) {
		take = iov[i].iov_len < DNS_MSG_MAX - n ? iov[i].iov_len :
		    DNS_MSG_MAX - n;
		if ((r = peek(c->pid, (uint64_t)iov[i].iov_base, buf + n,
		    take)) < 0)
			goto out;
		n += take;
	}
	if (!still_valid(sv, c->id)) {
		r = -EINTR;
		goto out;
	}
	sent = sendto(sock, buf, n, MSG_NOSIGNAL | (c->flags & MSG_DONTWAIT),
	    (const struct sockaddr *)resp, resplen);
	if (sent == -1)
		r = -errno;
	else
		*val = sent;
 out:
	free(buf);
	return -r;
}

/*
 * A program's own DNS socket (UDP or TCP to a nameserver of
 * /etc/resolv.conf, port 53; Go's resolver): connect it to the helper's
 * responder instead, which answers by the rules.  We take the socket and
 * connect it ourselves: the program sees its connect succeed (or
 * EINPROGRESS), and getpeername still names the nameserver (peer()).  A
 * datagram sent with the nameserver's address goes to the responder the
 * same way (dns_sendto).  Without a responder: EACCES, never the system's
 * resolver.
 */
static void
dns_redirect(struct sv *sv, const struct call *c, const char *what)
{
	struct sockaddr_storage resp, self;
	socklen_t len = sizeof(int), resplen, slen = sizeof(self);
	struct stat st;
	struct waiter *w;
	long long val = 0;
	int sock, type, port, flags, err = 0;

	if ((sock = take_fd(sv, c->id, c->pid, c->fd)) < 0) {
		answer(sv, c->id, sock == -EBADF ? EBADF : EACCES, 0);
		return;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    getsockname(sock, (struct sockaddr *)&self, &slen) == -1) {
		err = errno == ENOTSOCK ? ENOTSOCK : EACCES;
		goto done;
	}
	if (type == SOCK_STREAM && c->is_send && !(c->flags & MSG_FASTOPEN)) {
		/* A stream send ignores its address: nothing to redirect. */
		close(sock);
		answer(sv, c->id, CONTINUE, 0);
		return;
	}
	if ((type != SOCK_DGRAM && type != SOCK_STREAM) || c->is_mmsg ||
	    (type == SOCK_STREAM && c->is_send)) {
		/* sendmmsg or Fast Open to a nameserver: not redirected. */
		verbose("%s: a DNS query of pid %d's own that we do not "
		    "redirect: refused", what, (int)c->pid);
		err = EACCES;
		goto done;
	}
	if ((port = responder_port(sv)) == 0) {
		verbose("%s: a DNS query of pid %d's own, and no responder: "
		    "refused", what, (int)c->pid);
		err = EACCES;
		goto done;
	}
	resplen = responder_addr(self.ss_family, port, &resp);
	if (c->is_send) {
		verbose("%s: a DNS query of pid %d's own: to the helper's "
		    "responder", what, (int)c->pid);
		err = dns_sendto(sv, c, sock, &resp, resplen, &val);
		if (err == EINTR) {		/* the notification is gone */
			close(sock);
			return;
		}
		goto done;
	}
	verbose("%s: DNS socket of pid %d: to the helper's responder (port "
	    "%d)", what, (int)c->pid, port);
	if ((flags = fcntl(sock, F_GETFL)) == -1 || fstat(sock, &st) == -1) {
		err = errno;
		goto done;
	}
	if (type == SOCK_STREAM && (w = waiter_find(sv, st.st_ino)) != NULL) {
		/* The same blocking connect, restarted after a signal. */
		w->id = c->id;
		close(sock);
		return;
	}
	if (type == SOCK_STREAM && !(flags & O_NONBLOCK) &&
	    sv->nwaits < MAX_WAITERS &&
	    fcntl(sock, F_SETFL, flags | O_NONBLOCK) == 0) {
		/* Blocking: we wait for it, not the program's thread. */
		if (connect(sock, (struct sockaddr *)&resp, resplen) == -1)
			err = errno;
		if (err != EINPROGRESS) {
			fcntl(sock, F_SETFL, flags);
			if (err == 0)
				dns_peer_keep(sv, sock, c);
			goto done;
		}
		dns_peer_keep(sv, sock, c);
		w = &sv->waits[sv->nwaits++];
		memset(w, 0, sizeof(*w));
		w->id = c->id;
		w->fd = sock;
		w->ino = st.st_ino;
		w->flags = flags;
		w->pid = c->pid;
		return;
	}
	if (connect(sock, (struct sockaddr *)&resp, resplen) == -1)
		err = errno;
	if (err == 0 || err == EINPROGRESS)
		dns_peer_keep(sv, sock, c);
 done:
	close(sock);
	answer(sv, c->id, err, val);
}

/* --- deciding ------------------------------------------------------- */

/*
 * Decide the call c to an inet address: answer it, or hand it on to
 * tunnel().
 */
static void
decide(struct sv *sv, struct call *c)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->sa;
	struct rules_match m;
	enum rules_action act;
	char name[PROTO_NAMELEN], what[PROTO_NAMELEN + 80];
	int synthetic, sock, type;
	uint16_t port;
	socklen_t len = sizeof(type);

	port = ntohs(sa->sa_family == AF_INET ?
	    ((const struct sockaddr_in *)(const void *)sa)->sin_port :
	    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	synthetic = synth_contains(&sv->pools, sa);
	if (synthetic) {
		if (reverse(sv, sa, name, sizeof(name)) == -1) {
			/* An address from a helper that is gone: never guess. */
			describe(sa, NULL, what, sizeof(what));
			verbose("%s: synthetic address with no name", what);
			answer(sv, c->id, ENETUNREACH, 0);
			return;
		}
		act = rules_match_name(sv->conf->rules, name, port, &m);
	} else
		act = rules_match_addr(sv->conf->rules, sa, &m);
	describe(sa, synthetic ? name : NULL, what, sizeof(what));
	if (port == 53 && !synthetic && !dns_checked(c->pid)) {
		/* A program's own resolver (a shim's went to the responder). */
		if (resolvconf_has(&sv->ns, sa)) {
			dns_redirect(sv, c, what);
			return;
		}
		if (act == RULES_DIRECT) {
			/* Another server: we cannot see what it is asked. */
			verbose("%s: a DNS query of pid %d's own to a server "
			    "not in /etc/resolv.conf, refused: names resolve "
			    "through the rules", what, (int)c->pid);
			answer(sv, c->id, EACCES, 0);
			return;
		}
	}
	if (act == RULES_DIRECT && !synthetic) {
		debug("%s: direct by %s:%d", what, m.file ? m.file :
		    "default", m.line);
		answer(sv, c->id, CONTINUE, 0);
		return;
	}
	if (act == RULES_DIRECT) {
		/* The shim resolves the name locally; we cannot connect
		 * the program's socket elsewhere without a race. */
		verbose("%s: direct by %s:%d, but reached by its synthetic "
		    "address: refused", what, m.file ? m.file : "default",
		    m.line);
		answer(sv, c->id, EHOSTUNREACH, 0);
		return;
	}
	if (act == RULES_DENY) {
		verbose("%s: denied by %s:%d", what,
		    m.file ? m.file : "default", m.line);
		answer(sv, c->id, EACCES, 0);
		return;
	}
	if ((sock = take_fd(sv, c->id, c->pid, c->fd)) < 0) {
		answer(sv, c->id, sock == -EBADF ? EBADF : ENETUNREACH, 0);
		return;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		type = -1;
	if (type == SOCK_STREAM && c->is_send && !(c->flags & MSG_FASTOPEN)) {
		/* A stream send ignores its address: nothing to decide. */
		close(sock);
		answer(sv, c->id, CONTINUE, 0);
		return;
	}
	if (type != SOCK_STREAM) {
		/* SSH carries no datagrams: fail fast so QUIC & co fall back. */
		verbose("%s: not a stream socket, cannot tunnel", what);
		close(sock);
		answer(sv, c->id, type == -1 ? ENOTSOCK : ENETUNREACH, 0);
		return;
	}
	verbose("%s: tunnel via %s by %s:%d", what,
	    m.session ? m.session : "?", m.file ? m.file : "default", m.line);
	tunnel(sv, c, sock, synthetic ? name : NULL, &m, what);
}

/*
 * Read the destination of call c (addr, len in the program) and decide.
 * Families other than inet, and lengths the kernel refuses anyway, go on.
 */
static void
judge(struct sv *sv, struct call *c, uint64_t addr, int len)
{
	struct sockaddr *sa = (struct sockaddr *)&c->sa;
	struct rules_match m;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	size_t alen;
	int r;

	/*
	 * The kernel takes the length as an int: judge that, not the
	 * register, whose upper half a program may fill with anything.
	 */
	if (addr == 0 || len < (int)sizeof(sa_family_t) ||
	    len > (int)sizeof(c->sa)) {
		answer(sv, c->id, CONTINUE, 0);		/* the kernel refuses */
		return;
	}
	alen = (size_t)len;
	memset(&c->sa, 0, sizeof(c->sa));
	c->salen = (socklen_t)alen;
	r = peek(c->pid, addr, &c->sa, alen);
	if (!still_valid(sv, c->id))
		return;			/* died, or interrupted and restarted */
	if (r < 0) {
		if (r != -EFAULT)
			error("cannot read the memory of pid %d: %s; its "
			    "connect fails", (int)c->pid, strerror(-r));
		answer(sv, c->id, r == -EFAULT ? EFAULT : EACCES, 0);
		return;
	}
	/*
	 * Shorter than the kernel takes: refuse it ourselves (EINVAL, as the
	 * kernel would) rather than let it decide on a length we did not.
	 * IPv6 takes the RFC 2133 length, without the scope (read as 0).
	 */
	switch (sa->sa_family) {
	case AF_INET:
	case AF_INET6:
		if (alen < (sa->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : SIN6_LEN_RFC2133)) {
			answer(sv, c->id, EINVAL, 0);
			return;
		}
		decide(sv, c);
		return;
	case AF_UNIX:
		if (!rules_have_unix(sv->conf->rules) ||
		    alen <= offsetof(struct sockaddr_un, sun_path))
			break;
		memcpy(path, ((struct sockaddr_un *)sa)->sun_path,
		    alen - offsetof(struct sockaddr_un, sun_path));
		path[alen - offsetof(struct sockaddr_un, sun_path)] = '\0';
		if (path[0] == '\0')
			path[0] = '@';
		if (rules_match_unix(sv->conf->rules, path, &m) ==
		    RULES_DIRECT)
			break;
		/* Tunneled UNIX sockets need the shim: refuse, never leak. */
		verbose("unix:%s: %s by %s:%d (not tunneled under the seccomp "
		    "filter)", path, rules_action_name(m.action), m.file,
		    m.line);
		answer(sv, c->id, EACCES, 0);
		return;
	}
	answer(sv, c->id, CONTINUE, 0);
}

/* sendmsg/sendmmsg: the destination of one struct msghdr at addr. */
static int
judge_msghdr(struct sv *sv, struct call *c, uint64_t addr)
{
	struct msghdr mh;
	struct iovec iov;
	int r;

	if ((r = peek(c->pid, addr, &mh, sizeof(mh))) < 0)
		return r;
	if (mh.msg_name == NULL || mh.msg_namelen == 0)
		return 0;
	/* The kernel cuts a longer name to the size of sockaddr_storage. */
	if ((int)mh.msg_namelen > (int)sizeof(struct sockaddr_storage))
		mh.msg_namelen = sizeof(struct sockaddr_storage);
	if (mh.msg_iovlen > 0 && mh.msg_iov != NULL &&
	    peek(c->pid, (uint64_t)mh.msg_iov, &iov, sizeof(iov)) == 0) {
		c->data = (uint64_t)iov.iov_base;
		c->datalen = iov.iov_len;
		c->iov = (uint64_t)mh.msg_iov;
		c->iovlen = mh.msg_iovlen;
	}
	judge(sv, c, (uint64_t)mh.msg_name, (int)mh.msg_namelen);
	return 1;
}

/*
 * sendmmsg: its messages' destinations must all be one, which decides
 * for the whole call (one answer covers every message); several differing
 * destinations are refused (EACCES).  Fast Open is not tunneled here.
 */
static void
mmsg(struct sv *sv, struct call *c, uint64_t vec, uint64_t n)
{
	struct sockaddr_storage first, one;
	struct msghdr mh;
	uint64_t i, at = 0;
	int named = 0;

	if (n > MMSG_MAX)
		n = MMSG_MAX;	/* as the kernel: it sends no more */
	for (i = 0; i < n; i++) {
		/*
		 * What we cannot read, the program may map before the
		 * kernel reads it: fail the call rather than let it on.
		 */
		if (peek(c->pid, vec + i * sizeof(struct mmsghdr), &mh,
		    sizeof(mh)) < 0)
			goto fault;
		if (mh.msg_name == NULL || mh.msg_namelen == 0)
			continue;
		if ((int)mh.msg_namelen < 0)
			break;		/* the kernel: EINVAL */
		memset(&one, 0, sizeof(one));
		if (peek(c->pid, (uint64_t)mh.msg_name, &one, mh.msg_namelen >
		    sizeof(one) ? sizeof(one) : mh.msg_namelen) < 0)
			goto fault;
		if (!named) {
			first = one;
			at = i;
			named = 1;
		} else if (memcmp(&first, &one, sizeof(one)) != 0) {
			verbose("sendmmsg of pid %d to several destinations: "
			    "refused", (int)c->pid);
			answer(sv, c->id, EACCES, 0);
			return;
		}
	}
	if (!named) {
		answer(sv, c->id, CONTINUE, 0);
		return;
	}
	if ((i = (uint64_t)judge_msghdr(sv, c, vec + at *
	    sizeof(struct mmsghdr))) == 0)
		answer(sv, c->id, CONTINUE, 0);
	else if ((int)i < 0)
		goto fault;
	return;
 fault:
	answer(sv, c->id, EFAULT, 0);
}

/* Write len bytes at addr in pid; 0, or -errno. */
static int
poke(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len }, remote = { (void *)addr,
	    len };

	return process_vm_writev(pid, &local, 1, &remote, 1, 0) ==
	    (ssize_t)len ? 0 : -EFAULT;
}

/*
 * The socklen_t the program passed by address at lenp, as the kernel
 * reads it: EFAULT or EINVAL answered for it (and -1) when it cannot be.
 */
static int
user_len(struct sv *sv, const struct call *c, uint64_t lenp, int *ulen)
{
	if (peek(c->pid, lenp, ulen, sizeof(*ulen)) < 0) {
		answer(sv, c->id, EFAULT, 0);
		return -1;
	}
	if (*ulen < 0) {
		answer(sv, c->id, EINVAL, 0);
		return -1;
	}
	return 0;
}

/*
 * getpeername(2) on a socket we tunneled names the helper's loopback end;
 * answer with the destination the program connected to instead, as the
 * shim does, which the helper keeps by the socket's local address.  Any
 * other socket: the kernel answers.
 */
static void
peer(struct sv *sv, const struct call *c, uint64_t addr, uint64_t lenp)
{
	struct sockaddr_storage ss, local;
	const struct sockaddr_in *sin = (const void *)&ss;
	const struct sockaddr_in6 *sin6 = (const void *)&ss;
	struct proto_addr la, dest;
	const struct dns_peer *dp;
	socklen_t len = sizeof(ss), dlen;
	size_t i;
	int sock, ulen, st = -1;

	if ((sock = take_fd(sv, c->id, c->pid, c->fd)) < 0)
		goto kernel;
	if (getpeername(sock, (struct sockaddr *)&ss, &len) == -1 ||
	    !((ss.ss_family == AF_INET && ntohl(sin->sin_addr.s_addr) >> 24 ==
	    127) || (ss.ss_family == AF_INET6 &&
	    (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)))))
		goto kernel;
	if ((dp = dns_peer_find(sv, sock)) != NULL) {
		memcpy(&ss, &dp->ns, sizeof(ss));
		dlen = dp->nslen;
		goto found;
	}
	len = sizeof(local);
	if (getsockname(sock, (struct sockaddr *)&local, &len) == -1)
		goto kernel;
	proto_addr_from_sockaddr(&la, (struct sockaddr *)&local);
	for (i = 0; i < sv->conf->nsessions && st != 0; i++) {
		memset(&dest, 0, sizeof(dest));
		st = client_exchange(sv->conf->sessions[i].path, PROTO_PEER,
		    &la, sizeof(la), -1, &dest, sizeof(dest));
	}
	if (st != 0 || (dlen = proto_addr_to_sockaddr(&dest, &ss)) == 0)
		goto kernel;
 found:
	close(sock);
	sock = -1;
	if (user_len(sv, c, lenp, &ulen) == -1)
		return;
	/* Like the kernel: cut to the caller's room, report the full size. */
	if (poke(c->pid, addr, &ss, (size_t)ulen < dlen ? (size_t)ulen :
	    dlen) < 0 || (ulen = (int)dlen, poke(c->pid, lenp, &ulen,
	    sizeof(ulen))) < 0) {
		answer(sv, c->id, EFAULT, 0);
		return;
	}
	answer(sv, c->id, 0, 0);
	return;
 kernel:
	if (sock >= 0)
		close(sock);
	answer(sv, c->id, CONTINUE, 0);
}

/*
 * getsockopt(SOL_SOCKET, SO_ERROR): a parked connect that failed shows the
 * kernel's ECONNRESET; answer with the reason the helper recorded, as the
 * shim does.  Reading SO_ERROR clears it, so once read we answer ourselves.
 */
static void
sockerr(struct sv *sv, const struct call *c, uint64_t val, uint64_t lenp)
{
	socklen_t len = sizeof(int);
	struct proto_outcome oc;
	struct stat st;
	size_t i;
	int sock, err = 0, ulen, r;

	if ((sock = take_fd(sv, c->id, c->pid, c->fd)) < 0 ||
	    getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err == 0) {
		if (sock >= 0)
			close(sock);
		answer(sv, c->id, CONTINUE, 0);	/* nothing read, or 0 */
		return;
	}
	if (err == ECONNRESET && fstat(sock, &st) == 0) {
		oc.ino = st.st_ino;
		for (i = 0; i < sv->conf->nsessions; i++)
			if ((r = client_exchange(sv->conf->sessions[i].path,
			    PROTO_OUTCOME, &oc, sizeof(oc), -1, NULL, 0)) > 0) {
				err = r;
				break;
			}
	}
	close(sock);
	if (user_len(sv, c, lenp, &ulen) == -1)
		return;
	if ((size_t)ulen > sizeof(err))
		ulen = sizeof(err);
	if (poke(c->pid, val, &err, (size_t)ulen) < 0 ||
	    poke(c->pid, lenp, &ulen, sizeof(ulen)) < 0) {
		answer(sv, c->id, EFAULT, 0);
		return;
	}
	answer(sv, c->id, 0, 0);
}

static void
handle(struct sv *sv)
{
	const struct seccomp_data *d = &sv->req->data;
	struct call c;
	int r;

	memset(&c, 0, sizeof(c));
	c.id = sv->req->id;
	c.pid = (pid_t)sv->req->pid;
	c.fd = (int)d->args[0];
	debug3("notification %llu: pid %d, system call %d (%d, %#llx, %#llx, "
	    "%#llx, %#llx, %#llx)", (unsigned long long)c.id, (int)c.pid,
	    d->nr, c.fd, (unsigned long long)d->args[1],
	    (unsigned long long)d->args[2], (unsigned long long)d->args[3],
	    (unsigned long long)d->args[4], (unsigned long long)d->args[5]);
	switch (d->nr) {
	case __NR_connect:
		judge(sv, &c, d->args[1], (int)d->args[2]);
		return;
	case __NR_getpeername:
		peer(sv, &c, d->args[1], d->args[2]);
		return;
	case __NR_getsockopt:
		sockerr(sv, &c, d->args[3], d->args[4]);
		return;
	case __NR_sendto:
		c.is_send = 1;
		c.flags = (int)d->args[3];
		c.data = d->args[1];
		c.datalen = d->args[2];
		judge(sv, &c, d->args[4], (int)d->args[5]);
		return;
	case __NR_sendmsg:
		c.is_send = 1;
		c.flags = (int)d->args[2];
		if ((r = judge_msghdr(sv, &c, d->args[1])) == 0)
			answer(sv, c.id, CONTINUE, 0);
		else if (r < 0)		/* unreadable now, maybe not later */
			answer(sv, c.id, EFAULT, 0);
		return;
	case __NR_sendmmsg:
		c.is_send = 1;
		c.is_mmsg = 1;
		c.flags = (int)d->args[3] & ~MSG_FASTOPEN;
		mmsg(sv, &c, d->args[1], d->args[2]);
		return;
	}
	answer(sv, c.id, CONTINUE, 0);
}

/* --- the loop ------------------------------------------------------- */

static void
forward_signal(pid_t child, int sig)
{
	if (kill(child, sig) == -1 && errno != ESRCH)
		debug("kill %d: %s", (int)child, strerror(errno));
}

static int
serve(struct sv *sv, pid_t child, int sigfd, int *wstatus)
{
	struct pollfd pfd[2 + MAX_WAITERS];
	struct signalfd_siginfo si;
	long long t;
	size_t i;
	int timeout, r, status;
	pid_t p;

	for (;;) {
		pfd[0].fd = sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sv->listener;
		pfd[1].events = POLLIN;
		timeout = 1000;
		t = now_ms();
		for (i = 0; i < sv->nwaits; i++) {
			pfd[2 + i].fd = sv->waits[i].fd;
			pfd[2 + i].events = POLLOUT;
			if (sv->waits[i].deadline > 0 &&
			    sv->waits[i].deadline - t < timeout)
				timeout = sv->waits[i].deadline > t ?
				    (int)(sv->waits[i].deadline - t) : 0;
		}
		r = poll(pfd, 2 + sv->nwaits, timeout);
		if (r == -1 && errno != EINTR)
			fatal("poll: %s", strerror(errno));
		if (r == -1)
			continue;
		if (pfd[0].revents & POLLIN) {
			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGCHLD) {
					forward_signal(child, (int)si.ssi_signo);
					continue;
				}
				while ((p = waitpid(-1, &status, WNOHANG)) > 0)
					if (p == child) {
						*wstatus = status;
						return 0;
					}
			}
		}
		/* Waiters first: their slots move when one is done. */
		t = now_ms();
		for (i = sv->nwaits; i-- > 0;) {
			if (pfd[2 + i].fd == sv->waits[i].fd &&
			    (pfd[2 + i].revents & (POLLOUT | POLLERR | POLLHUP)))
				waiter_done(sv, i, 0);
			else if (sv->waits[i].deadline > 0 &&
			    sv->waits[i].deadline <= t)
				waiter_done(sv, i, 1);
			else if (!still_valid(sv, sv->waits[i].id)) {
				/* The program went away meanwhile. */
				close(sv->waits[i].fd);
				sv->waits[i] = sv->waits[--sv->nwaits];
			}
		}
		if (pfd[1].revents & POLLIN) {
			memset(sv->req, 0, sv->reqsize);
			if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_RECV,
			    sv->req) == 0)
				handle(sv);
			else if (errno != EINTR && errno != ENOENT)
				fatal("seccomp notification: %s",
				    strerror(errno));
		} else if (pfd[1].revents & (POLLHUP | POLLERR)) {
			/* No process uses the filter any more: just wait. */
			close(sv->listener);
			sv->listener = -1;
			while ((p = waitpid(child, &status, 0)) == -1 &&
			    errno == EINTR)
				;
			*wstatus = status;
			return 0;
		}
	}
}

/* Write all of buf (a small message on a pipe); 0 or -1. */
static int
put(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while ((n = write(fd, buf, len)) == -1 && errno == EINTR)
		;
	return n == (ssize_t)len ? 0 : -1;
}

static int
get(int fd, void *buf, size_t len)
{
	ssize_t n;

	while ((n = read(fd, buf, len)) == -1 && errno == EINTR)
		;
	return n == (ssize_t)len ? 0 : -1;
}

/* The child: filter, report the listener, wait for the word, exec. */
static void __attribute__((noreturn))
child_main(const char *path, char **argv, int up, int down,
    const sigset_t *oldmask)
{
	int lfd, val;
	char go;

	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	val = lfd = filter_install();
	if (lfd == -1)
		val = -errno;
	if (put(up, &val, sizeof(val)) == -1 || lfd == -1 ||
	    get(down, &go, 1) == -1 || go != 'g')
		_exit(255);
	close(lfd);
	close(up);
	close(down);
	execv(path, argv);
	fprintf(stderr, "tunnelwrap: %s: %s\n", path, strerror(errno));
	_exit(255);
}

int
supervise_run(const char *path, char **argv,
    const struct supervise_conf *conf, int *wstatus, char *why, size_t len)
{
	static const int forwarded[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2,
	    SIGCHLD };
	struct seccomp_notif_sizes sizes;
	struct sigaction ign;
	struct sv *sv;
	sigset_t mask, oldmask;
	int up[2], down[2], sigfd, pidfd, val, st;
	size_t i;
	pid_t child;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == -1) {
		snprintf(why, len, "seccomp user notification: %s",
		    strerror(errno));
		return -1;
	}
	if ((sv = calloc(1, sizeof(*sv))) == NULL)
		fatal("out of memory");
	sv->conf = conf;
	resolvconf_load(&sv->ns, "/etc/resolv.conf", 1);
	rules_synthetic_v4(conf->rules, &sv->pools.v4, &sv->pools.v4len);
	rules_synthetic_v6(conf->rules, &sv->pools.v6, &sv->pools.v6len);
	sv->reqsize = sizes.seccomp_notif > sizeof(*sv->req) ?
	    sizes.seccomp_notif : sizeof(*sv->req);
	sv->respsize = sizes.seccomp_notif_resp > sizeof(*sv->resp) ?
	    sizes.seccomp_notif_resp : sizeof(*sv->resp);
	if ((sv->req = calloc(1, sv->reqsize)) == NULL ||
	    (sv->resp = calloc(1, sv->respsize)) == NULL)
		fatal("out of memory");
	sigemptyset(&mask);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&mask, forwarded[i]);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	if ((sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1 ||
	    pipe2(up, O_CLOEXEC) == -1 || pipe2(down, O_CLOEXEC) == -1)
		fatal("supervisor set-up: %s", strerror(errno));
	/* Terminal signals reach COMMAND directly; we only wait for it. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	/* Orphans of COMMAND become ours, so we stay their ancestor. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if ((child = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (child == 0)
		child_main(path, argv, up[1], down[0], &oldmask);
	close(up[1]);
	close(down[0]);
	pidfd = -1;
	sv->listener = -1;
	if (get(up[0], &val, sizeof(val)) == -1)
		snprintf(why, len, "the supervised child did not start");
	else if (val < 0)
		snprintf(why, len, "seccomp filter: %s", strerror(-val));
	else if ((pidfd = (int)syscall(SYS_pidfd_open, child, 0)) == -1 ||
	    (sv->listener = (int)syscall(SYS_pidfd_getfd, pidfd, val, 0)) ==
	    -1)
		snprintf(why, len, "%s: %s", pidfd == -1 ? "pidfd_open" :
		    "pidfd_getfd", strerror(errno));
	if (pidfd != -1)
		close(pidfd);
	close(up[0]);
	if (sv->listener == -1) {
		/* Nothing ran: the child exits when the pipe closes. */
		close(down[1]);
		while (waitpid(child, &st, 0) == -1 && errno == EINTR)
			;
		close(sigfd);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
		free(sv->req);
		free(sv->resp);
		free(sv);
		return -1;
	}
	/*
	 * Wake us on the program's CPU, and it on ours when we answer (6.6):
	 * a notified connect then costs a switch, not two wake-ups.
	 */
	if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
	    SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) == -1)
		debug("seccomp synchronous wake-up: %s", strerror(errno));
	if (put(down[1], "g", 1) == -1)
		fatal("supervised child: %s", strerror(errno));
	close(down[1]);
	debug("supervising pid %d with seccomp", (int)child);
	serve(sv, child, sigfd, wstatus);
	/* Whatever still runs under the filter now gets ENOSYS. */
	if (sv->listener != -1)
		close(sv->listener);
	for (i = 0; i < sv->nwaits; i++)
		close(sv->waits[i].fd);
	close(sigfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	free(sv->req);
	free(sv->resp);
	free(sv);
	return 0;
}
