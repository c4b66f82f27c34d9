/*
 * handover.c - what the helper checks about a program's socket before and
 * while it takes it over (relay.c parks and completes it).
 *
 * The socket arrives by SCM_RIGHTS: our copy shares the program's open
 * file, so everything on it - O_NONBLOCK, options, its network namespace -
 * is the program's to change at any moment, and our copy keeps it alive
 * even after the program has closed its own.  So the helper never trusts
 * one look: it refuses a socket it cannot park correctly (another network
 * namespace, bound to a device), parks it without ever blocking whatever
 * the program does to O_NONBLOCK, and asks again, at completion, whether
 * the program still holds it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <net/if.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71		/* Linux 6.1 */
#endif

/* Are the two /proc/.../ns/net files the same namespace?  -1: unknown. */
static int
same_ns_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) == -1 || stat(b, &sb) == -1)
		return -1;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Is the socket in our network namespace?  The helper parks and completes
 * connections on its own loopback: a socket from another namespace would
 * be parked against whatever listens on that namespace's 127.0.0.1.  The
 * socket's own namespace (SO_NETNS_COOKIE, Linux 6.1) decides; before
 * that, the requesting process's.  Returns 1, 0, or 1 when nothing can
 * tell (the process's /proc entry closed to us).
 */
static int
same_netns(const struct helper *h, int fd, pid_t pid)
{
	uint64_t mine, theirs;
	socklen_t len = sizeof(theirs), mlen = sizeof(mine);
	char path[64];
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &theirs, &len) == 0 &&
	    getsockopt(h->park4, SOL_SOCKET, SO_NETNS_COOKIE, &mine,
	    &mlen) == 0)
		return theirs == mine;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	r = same_ns_file("/proc/self/ns/net", path);
	return r != 0;
}

/*
 * Can the program's socket be parked here?  Returns 0, or the errno the
 * program's connect gets, with the reason for the log in why.
 */
int
handover_check(struct helper *h, int fd, pid_t pid, char *why, size_t len)
{
	char dev[IFNAMSIZ + 1];
	socklen_t dlen = IFNAMSIZ;

	if (!same_netns(h, fd, pid)) {
		snprintf(why, len, "its socket is in another network "
		    "namespace than the helper; tunnelwrap parks connections on "
		    "the helper's loopback: run it in the helper's namespace, or "
		    "with its own helper (XDG_RUNTIME_DIR)");
		return ENETUNREACH;
	}
	/*
	 * SO_BINDTODEVICE (curl --interface): the parking SYN would leave
	 * through that device and never arrive.  A tunneled connection does
	 * not leave through any device of ours: say so at once.
	 */
	memset(dev, 0, sizeof(dev));
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dlen) == 0 &&
	    dev[0] != '\0' && strcmp(dev, "lo") != 0) {
		snprintf(why, len, "its socket is bound to device %s "
		    "(SO_BINDTODEVICE, e.g. curl --interface): a tunneled "
		    "connection leaves through the SSH session, not a device",
		    dev);
		return ENETUNREACH;
	}
	return 0;
}

/*
 * connect(2) the program's socket to sa without ever blocking.  The
 * program shares O_NONBLOCK with our copy and may clear it at any moment
 * (another thread; a shim that gave up waiting), and a blocking connect
 * towards the parking listener, which drops every SYN, would hold the
 * whole helper for the SYN retries (about 127 s).  Setting O_NONBLOCK
 * ourselves would leave a window as well; SO_SNDTIMEO bounds a blocking
 * connect instead (to one clock tick), after which it simply stays in
 * progress, as a non-blocking one does.  The option is the program's, so
 * it is put back.  Returns 0 when the connect is under way (or done), -1
 * with errno otherwise.
 */
int
handover_connect(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct timeval old, tick = { 0, 1 };
	socklen_t olen = sizeof(old);
	int r, e;

	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old, &olen) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tick, sizeof(tick)) == -1)
		return -1;
	r = connect(fd, sa, salen);
	e = errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &old, sizeof(old));
	/* Timed out (blocking), interrupted, or restarted: still in progress. */
	if (r == -1 && e != EINPROGRESS && e != EALREADY && e != EINTR) {
		errno = e;
		return -1;
	}
	return 0;
}

/* Is socket:[ino] among pid's descriptors?  1, 0, or -1 (cannot look). */
static int
proc_holds(pid_t pid, uint64_t ino)
{
	char path[300], link[64], want[64];
	struct dirent *d;
	DIR *dir;
	ssize_t n;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : -1;
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)ino);
	while (!found && (d = readdir(dir)) != NULL) {
		if ((size_t)snprintf(path, sizeof(path), "/proc/%d/fd/%s",
		    (int)pid, d->d_name) >= sizeof(path) ||
		    (n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, want) == 0;
	}
	closedir(dir);
	return found;
}

/*
 * Does the program still hold its socket (inode ino)?  Our copy (dup)
 * keeps the socket alive after the program closed it, so the socket itself
 * cannot tell; the program's descriptor table can.  kcmp(KCMP_FILE) says
 * whether its descriptor prog_fd (the number the shim sent) is still the
 * open file our dup is: one system call on the common path.  When it is
 * not (the program may have moved the socket with dup2), the inode is
 * looked for among all its descriptors before concluding.  A process that
 * is gone holds nothing.  Where neither can be asked (a non-dumpable
 * program, kcmp filtered by a seccomp profile) the answer is yes: the
 * caller's state checks still keep the stream from anyone else.  Returns
 * 1 or 0.
 */
int
handover_held(pid_t pid, int prog_fd, int dup, uint64_t ino)
{
	long r;
	int p;

	r = syscall(SYS_kcmp, (pid_t)getpid(), pid, KCMP_FILE, dup, prog_fd);
	if (r == 0)
		return 1;
	if (r == -1 && errno == ESRCH)
		return 0;
	if (r == -1 && errno != EBADF)
		return 1;
	p = proc_holds(pid, ino);
	return p != 0;
}
