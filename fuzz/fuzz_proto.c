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
 * fuzz_proto.c - libFuzzer target for the helper's control-socket decoder.
 *
 *   make fuzz-build             # $(B)/fuzz/fuzz_proto (clang, ASan+UBSan)
 *   build/fuzz/fuzz_proto -dict=fuzz/fuzz-proto.dict DIR fuzz/corpus-proto
 *
 * The code under test is the real one: helper/daemon/ctl.c is #included
 * below, so ctl_init (the listening socket), ctl_accept (SO_PEERCRED),
 * client_io (the header/body/tail framing over proto_recv_some, with
 * SCM_RIGHTS), and proto_check_request, dispatch and ctl_reply run
 * unmodified, and so do common/proto.c, helper/daemon/names.c (the
 * synthetic name table RESOLVE and REVERSE use), helper/log.c (every log
 * line is formatted, into /dev/null) and the rules parser (a FORWARD -D's
 * rules text).  What dispatch hands a request to beyond that
 * (handover_request, exec_request, fwd_request, dns_request, status_*) is
 * stubbed below: each stub checks what it is given (strings terminated,
 * the tail as long as the header said, descriptors valid) and takes
 * ownership of descriptors as the real one does.  The registrations and
 * the dispatch of a batch are helper/daemon/watch.c's; the loop is epoll
 * on the helper's own epoll descriptor, as loop_run's.
 *
 * Input: up to MAXCL client streams separated by "TWFZNEXT".  Each starts
 * with one control byte:
 *	bits 0-2  write size: all at once, or 1, 3, 8, 16, 17, 100, 429 bytes
 *	bits 3-4  descriptors (0-3) attached to the first write (3 > what the
 *		  helper's cmsg buffer holds: MSG_CTRUNC)
 *	bit 5     attach them to the second write instead
 *	bit 6     half-close (EOF) right after the stream, not at the end
 *	bit 7     attach as many again to the third write (slots fill up,
 *		  extras must be closed)
 * and the rest is what that client sends.  All clients connect first and
 * are written round-robin, a write each, the helper's loop run between.
 *
 * Checked for every input, besides ASan/UBSan/LSan:
 *  - a well-behaved client whose request straddles all the others (half
 *    its header before, the rest after) is answered correctly: RESOLVE
 *    gives a pool address, REVERSE maps it back to the name;
 *  - every reply is well formed (magic, version, type|REPLY, the fixed
 *    length for the type) and is the only one, and no descriptor comes back;
 *  - once every client has gone, the helper holds none (h->attached back
 *    to 0, only the listener left in the epoll set, no ctl_client leaked),
 *    and no descriptor is left open anywhere;
 *  - the helper never stops reading a client it still holds.
 */
#include "../helper/daemon/ctl.c"

#include <arpa/inet.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "../rules/rules.h"

#define ASSERT(x) do {							\
	if (!(x)) {							\
		fprintf(stderr, "fuzz_proto: assertion failed: %s "	\
		    "(%s:%d)\n", #x, __FILE__, __LINE__);		\
		abort();						\
	}								\
} while (0)

#define MAXCL		4		/* fuzzed clients per input */
#define SEP		"TWFZNEXT"
#define POOL4		"203.0.113.0/30"	/* 2 slots: reuse is exercised */
#define POOL6		"2001:db8:ff::/120"
#define GOOD_NAME	"check.fuzz.test"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct helper H;
static char sockdir[PATH_MAX], sockpath[PATH_MAX];

/*
 * Descriptors registered with the helper's epoll set, from the kernel's
 * own list (fdinfo): once every client has left, only the listener.
 */
static int
registered(void)
{
	char path[64], line[256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", H.epfd);
	ASSERT((f = fopen(path, "re")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strncmp(line, "tfd:", 4) == 0;
	fclose(f);
	return n;
}

/* A counter: LRU order in names.c is then exact and reproducible. */
time_t
monotime(void)
{
	static time_t t = 1000;

	return ++t;
}

/* --- what dispatch hands requests to (stubs that check) --------------- */

static int
fd_valid(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

void
handover_request(struct helper *h, int ctl, const struct proto_connect *req,
    int sockfd, pid_t pid)
{
	struct sockaddr_storage ss;
	char host[PROTO_NAMELEN], rule[PROTO_RULELEN];
	int err = EINPROGRESS;

	(void)pid;
	ASSERT(fd_valid(ctl));
	ASSERT(sockfd == -1 || (fd_valid(sockfd) && sockfd != ctl));
	/* As handover.c does with the request. */
	snprintf(rule, sizeof(rule), "%.*s", (int)sizeof(req->rule) - 1,
	    req->rule);
	if (memchr(req->host, '\0', sizeof(req->host)) == NULL)
		err = EINVAL;
	else if (req->host[0] != '\0')
		snprintf(host, sizeof(host), "%s", req->host);
	else if (names_lookup(&h->names, &req->dest) == NULL &&
	    (proto_addr_to_sockaddr(&req->dest, &ss) == 0 ||
	    inet_ntop(req->dest.family, req->dest.addr, host,
	    sizeof(host)) == NULL))
		err = EINVAL;
	if (err == EINPROGRESS && sockfd < 0)
		err = EBADF;
	/* The conn owns both: the reply, then both closed in the end. */
	ctl_reply(ctl, PROTO_CONNECT, err, NULL, 0);
	close(ctl);
	if (sockfd >= 0)
		close(sockfd);
}

const struct proto_addr *
handover_peer(struct helper *h, const struct proto_addr *a)
{
	(void)h;
	(void)a;
	return NULL;			/* no conns */
}

int
handover_outcome(struct helper *h, uint64_t ino)
{
	(void)h;
	(void)ino;
	return 0;			/* none recorded */
}

void
exec_request(struct helper *h, int ctl, const struct proto_exec *req,
    const char *cmd, int fds[PROTO_MAX_FDS])
{
	(void)h;
	ASSERT(fd_valid(ctl));
	ASSERT(cmd != NULL);
	/* What exec.c takes for granted; it then owns ctl and both fds. */
	ASSERT(exec_request_ok(req, fds));
	ASSERT(fd_valid(fds[0]) && fd_valid(fds[1]) && fds[0] != fds[1]);
	/* exec.c strdup()s it: the tail must be a string, in bounds. */
	ASSERT(strlen(cmd) < PROTO_MAX_CMD + 1);
	close(fds[0]);
	close(fds[1]);
	fds[0] = fds[1] = -1;
	ctl_reply(ctl, PROTO_EXEC, 0, NULL, 0);	/* when it has run */
	close(ctl);
}

static void
rules_err(void *arg, const char *msg)
{
	(void)msg;
	(*(int *)arg)++;
}

/* A FORWARD's tail exactly when the header said so, NUL-terminated past it. */
static void
check_tail(int ctl, const char *tail, size_t taillen)
{
	ASSERT(fd_valid(ctl));
	ASSERT((tail == NULL) == (taillen == 0));
	ASSERT(taillen <= PROTO_MAX_RULES);
	if (tail != NULL)
		ASSERT(tail[taillen] == '\0');
}

void
fwd_request(struct helper *h, int ctl, const struct proto_forward *req,
    const char *tail, size_t taillen)
{
	struct rules *r;
	int errors = 0, err = 0;

	(void)h;
	check_tail(ctl, tail, taillen);
	if (memchr(req->bind, '\0', sizeof(req->bind)) == NULL ||
	    memchr(req->target, '\0', sizeof(req->target)) == NULL ||
	    memchr(req->origin, '\0', sizeof(req->origin)) == NULL ||
	    req->kind < PROTO_FWD_LOCAL || req->kind > PROTO_FWD_PUBLISH)
		err = EINVAL;
	/* -D's rules are parsed by forward.c: the real parser, kept off
	 * devices and kernel files as fuzz_rules.c does. */
	else if (req->kind == PROTO_FWD_DYNAMIC && taillen > 0 &&
	    !strstr(tail, "/dev") && !strstr(tail, "/proc") &&
	    !strstr(tail, "/sys") && !strchr(tail, '~')) {
		if (rules_parse_string(tail, "-D rules", &r, rules_err,
		    &errors) == -1)
			err = EINVAL;
		else
			rules_free(r);
	}
	ctl_reply(ctl, PROTO_FORWARD, err, NULL, 0);
}

/* dns.c's: a responder's rules (parsed there like -D's); no sockets. */
void
dns_request(struct helper *h, int ctl, const char *tail, size_t taillen)
{
	(void)h;
	check_tail(ctl, tail, taillen);
	ctl_reply(ctl, PROTO_FORWARD, tail == NULL ? EINVAL : 0, "53",
	    tail == NULL ? 0 : 2);
}

char *
status_text(struct helper *h)
{
	(void)h;
	return strdup("session: fuzz\n");
}

char *
status_json(struct helper *h)
{
	(void)h;
	return strdup("{\"sessions\": []}\n");
}

char *
status_top(struct helper *h)
{
	(void)h;
	return strdup("");
}

/* --- the harness ------------------------------------------------------ */

struct fz {
	int		 fd;		/* our end, or -1 */
	const uint8_t	*p;
	size_t		 len, off;
	uint8_t		 ctl;
	int		 writes;	/* writes done */
	int		 done;		/* nothing more to write */
	int		 stalls;
};

static const size_t write_sizes[8] = { 0, 1, 3, 8, 16, 17, 100, 429 };

static void
cleanup(void)
{
	if (sockpath[0] != '\0')
		unlink(sockpath);
	if (sockdir[0] != '\0')
		rmdir(sockdir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);		/* as the helper does */
	snprintf(sockdir, sizeof(sockdir), "%s/twfuzz.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ASSERT(mkdtemp(sockdir) != NULL);
	snprintf(sockpath, sizeof(sockpath), "%s/S.fuzz", sockdir);
	atexit(cleanup);
	/* Every log line formatted, and thrown away (TW_FUZZ_LOG=1: shown). */
	if (getenv("TW_FUZZ_LOG") == NULL) {
		ASSERT((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1);
		log_set_fd(fd);
	}
	log_init("fuzz_proto", LOG_DEBUG3);
	memset(&H, 0, sizeof(H));
	H.cfg.socket_path = sockpath;
	H.cfg.ready_fd = -1;
	TAILQ_INIT(&H.fwds);
	TAILQ_INIT(&H.handshakes);
	TAILQ_INIT(&H.pid_attached);
	ASSERT((H.epfd = epoll_create1(EPOLL_CLOEXEC)) != -1);
	ctl_init(&H);
	ASSERT(names_init(&H.names, POOL4, POOL6) == 0);
	return 0;
}

/* loop_run's inner loop, until nothing is ready. */
static void
pump(void)
{
	struct epoll_event evs[16];
	int n, rounds = 0;

	while ((n = epoll_wait(H.epfd, evs, 16, 0)) > 0) {
		watch_dispatch(&H, evs, n);
		ASSERT(++rounds < 100000);	/* a busy loop */
	}
	ASSERT(n == 0);
	H.quit = 0;			/* STOP: noted, not acted on here */
}

static int
dial(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sockpath, sizeof(sun.sun_path));
	ASSERT((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) != -1);
	ASSERT(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	return fd;
}

/* Which of the first NFDS descriptors are open: one poll(), POLLNVAL. */
#define NFDS	1024
static void
fd_snapshot(uint8_t open_fds[NFDS])
{
	static struct pollfd pfd[NFDS];
	int i;

	for (i = 0; i < NFDS; i++) {
		pfd[i].fd = i;
		pfd[i].events = 0;
		pfd[i].revents = 0;
	}
	ASSERT(poll(pfd, NFDS, 0) >= 0);
	for (i = 0; i < NFDS; i++)
		open_fds[i] = !(pfd[i].revents & POLLNVAL);
}

static void
fd_compare(const uint8_t before[NFDS])
{
	uint8_t after[NFDS];
	int i;

	fd_snapshot(after);
	for (i = 0; i < NFDS; i++)
		if (before[i] != after[i]) {
			fprintf(stderr, "fuzz_proto: descriptor %d %s\n", i,
			    after[i] ? "left open (leaked)" :
			    "closed that was not ours");
			ASSERT(before[i] == after[i]);
		}
}

/* One write of client c, with descriptors as its control byte says. */
static void
fz_write(struct fz *c)
{
	struct msghdr msg;
	struct iovec iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} cmsg;
	size_t want = write_sizes[c->ctl & 7];
	int nfds = (c->ctl >> 3) & 3, fds[3], i, at;
	ssize_t n;

	if (want == 0 || want > c->len - c->off)
		want = c->len - c->off;
	at = c->ctl & 0x20 ? 1 : 0;
	if (!(c->writes == at || ((c->ctl & 0x80) && c->writes == at + 2)))
		nfds = 0;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(c->p + c->off);
	iov.iov_len = want;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		for (i = 0; i < nfds; i++)
			ASSERT((fds[i] = open("/dev/null", O_RDONLY |
			    O_CLOEXEC)) != -1);
		memset(&cmsg, 0, sizeof(cmsg));
		msg.msg_control = cmsg.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg.hdr.cmsg_level = SOL_SOCKET;
		cmsg.hdr.cmsg_type = SCM_RIGHTS;
		cmsg.hdr.cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(&cmsg.hdr), fds, nfds * sizeof(int));
	}
	/* Descriptors need at least a byte to travel with. */
	if (want == 0 && nfds == 0) {
		c->done = 1;
		return;
	}
	n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (n == -1) {
		if (errno == EAGAIN) {
			/* Full: the helper must be reading, or have let go. */
			ASSERT(++c->stalls < 1000);
			return;
		}
		ASSERT(errno == EPIPE || errno == ECONNRESET);
		c->done = 1;		/* the helper hung up */
		return;
	}
	c->stalls = 0;
	c->writes++;
	c->off += (size_t)n;
	if (c->off == c->len) {
		c->done = 1;
		if (c->ctl & 0x40)
			shutdown(c->fd, SHUT_WR);
	}
}

/* What a client got back: nothing, or one well-formed reply. */
static void
check_replies(int fd)
{
	static char buf[1 << 16];
	union {
		struct cmsghdr	hdr;
		char		b[CMSG_SPACE(4 * sizeof(int))];
	} cmsg;
	struct proto_hdr rh;
	struct msghdr msg;
	struct iovec iov;
	size_t got = 0;
	ssize_t n, want;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = buf + got;
		iov.iov_len = sizeof(buf) - got;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cmsg.b;
		msg.msg_controllen = sizeof(cmsg.b);
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n <= 0)
			break;
		ASSERT(msg.msg_controllen == 0);	/* no descriptors */
		got += (size_t)n;
		ASSERT(got < sizeof(buf));
	}
	if (got == 0)
		return;
	ASSERT(got >= sizeof(rh));
	memcpy(&rh, buf, sizeof(rh));
	ASSERT(rh.magic == PROTO_MAGIC && rh.version == PROTO_VERSION);
	ASSERT(rh.type & PROTO_REPLY);
	ASSERT(got == sizeof(rh) + rh.len);	/* one reply, all of it */
	want = proto_reply_len(rh.type & ~PROTO_REPLY);
	if (want >= 0 && rh.status != EPROTO)
		ASSERT(rh.len == (size_t)want);
	ASSERT(rh.status >= 0);
}

/* One request of the well-behaved client, sent in two halves. */
static int
good_begin(uint16_t type, const void *body, size_t len, void *msg)
{
	struct proto_hdr h;
	int fd = dial();

	proto_hdr_init(&h, type, (uint32_t)len, 0);
	memcpy(msg, &h, sizeof(h));
	memcpy((char *)msg + sizeof(h), body, len);
	ASSERT(send(fd, msg, 7, MSG_NOSIGNAL) == 7);
	return fd;
}

static void
good_end(int fd, const void *msg, size_t total, struct proto_hdr *rh,
    void *rbody, size_t rlen)
{
	ASSERT(send(fd, (const char *)msg + 7, total - 7, MSG_NOSIGNAL) ==
	    (ssize_t)(total - 7));
	pump();
	ASSERT(recv(fd, rh, sizeof(*rh), MSG_DONTWAIT) == sizeof(*rh));
	ASSERT(rh->magic == PROTO_MAGIC && rh->len == rlen);
	ASSERT(recv(fd, rbody, rlen, MSG_DONTWAIT) == (ssize_t)rlen);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz cl[MAXCL];
	struct proto_name name, rname;
	struct proto_names names;
	struct proto_addr addr;
	struct proto_hdr rh;
	char msg[sizeof(struct proto_hdr) + sizeof(struct proto_name)];
	const uint8_t *p = data, *e = data + size, *s;
	uint8_t fds_before[NFDS];
	int ncl = 0, i, busy, good;
	uint32_t a4;

	if (size > (1u << 20))
		return 0;
	fd_snapshot(fds_before);
	names_free(&H.names);
	ASSERT(names_init(&H.names, POOL4, POOL6) == 0);

	/* The good client's RESOLVE, its first 7 bytes now. */
	memset(&name, 0, sizeof(name));
	strlcpy(name.name, GOOD_NAME, sizeof(name.name));
	good = good_begin(PROTO_RESOLVE, &name, sizeof(name), msg);

	/* Split into clients. */
	memset(cl, 0, sizeof(cl));
	while (p < e && ncl < MAXCL) {
		s = ncl < MAXCL - 1 ? memmem(p, e - p, SEP, sizeof(SEP) - 1) :
		    NULL;
		if (s == NULL)
			s = e;
		if (s > p) {
			cl[ncl].ctl = p[0];
			cl[ncl].p = p + 1;
			cl[ncl].len = (size_t)(s - p - 1);
			cl[ncl].fd = dial();
			ncl++;
		}
		p = s == e ? e : s + sizeof(SEP) - 1;
	}
	pump();				/* accepted; the good half-header read */

	/* Round-robin, a write each, the loop run between. */
	do {
		busy = 0;
		for (i = 0; i < ncl; i++) {
			if (cl[i].done)
				continue;
			fz_write(&cl[i]);
			busy = 1;
			pump();
		}
	} while (busy);

	/* The good client, its request straddling all that, is served. */
	good_end(good, msg, sizeof(msg), &rh, &names, sizeof(names));
	ASSERT(rh.type == (PROTO_RESOLVE | PROTO_REPLY) && rh.status == 0);
	a4 = ntohl(names.v4.s_addr);
	ASSERT(a4 == 0xcb007101 || a4 == 0xcb007102);	/* 203.0.113.1-2 */
	memset(&addr, 0, sizeof(addr));
	addr.family = AF_INET;
	memcpy(addr.addr, &names.v4, 4);
	good = good_begin(PROTO_REVERSE, &addr, sizeof(addr), msg);
	pump();
	good_end(good, msg, sizeof(struct proto_hdr) + sizeof(addr), &rh,
	    &rname, sizeof(rname));
	ASSERT(rh.type == (PROTO_REVERSE | PROTO_REPLY) && rh.status == 0);
	ASSERT(strcmp(rname.name, GOOD_NAME) == 0);

	/* Replies, then everyone leaves; the helper must let go of all. */
	for (i = 0; i < ncl; i++) {
		check_replies(cl[i].fd);
		close(cl[i].fd);
	}
	pump();
	/* Attachments by pid outlive their connection; ours never exits. */
	ctl_free_attached(&H);
	ASSERT(H.attached == 0);
	ASSERT(registered() == 1);	/* the control listener */
	fd_compare(fds_before);
	return 0;
}

/*
 * Structure-aware mutations, half of the time (the rest are libFuzzer's):
 * a request header's type, its length set to what the type wants (give or
 * take a byte, or far off), the body resized to what the header says, the
 * control byte, a client duplicated.  Byte-level mutation alone rarely
 * hits "EXEC with exactly 456 bytes" inside a 700-byte input.
 */
size_t	LLVMFuzzerMutate(uint8_t *, size_t, size_t);
size_t	LLVMFuzzerCustomMutator(uint8_t *, size_t, size_t, unsigned int);

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
    unsigned int seed)
{
	static const int32_t deltas[] = { 0, 0, 0, -1, 1, -16, 4096,
	    PROTO_MAX_RULES, PROTO_MAX_RULES + 1, PROTO_MAX_CMD,
	    PROTO_MAX_CMD + 1 };
	size_t start[MAXCL], end[MAXCL], n = 0, a, b, len, want;
	struct proto_hdr h;
	const uint8_t *p = data, *e = data + size, *s;
	uint32_t r = seed | 1;
	ssize_t rl;
	int k;

	if (size == 0 || rnd(&r) % 2 == 0)
		return LLVMFuzzerMutate(data, size, max);
	while (p < e && n < MAXCL) {
		s = n < MAXCL - 1 ? memmem(p, e - p, SEP, sizeof(SEP) - 1) :
		    NULL;
		if (s == NULL)
			s = e;
		start[n] = (size_t)(p - data);
		end[n++] = (size_t)(s - data);
		p = s == e ? e : s + sizeof(SEP) - 1;
	}
	if (n == 0)
		return LLVMFuzzerMutate(data, size, max);
	k = (int)(rnd(&r) % n);
	a = start[k];
	b = end[k];
	if (b - a < 1 + sizeof(h)) {
		if (b > a)
			data[a] = (uint8_t)rnd(&r);
		return size;
	}
	memcpy(&h, data + a + 1, sizeof(h));
	switch (rnd(&r) % 7) {
	case 0:				/* the control byte */
		data[a] ^= (uint8_t)(1u << (rnd(&r) % 8));
		return size;
	case 1:				/* a valid header of any type */
		h.magic = PROTO_MAGIC;
		h.version = PROTO_VERSION;
		h.type = (uint16_t)(rnd(&r) % 13);
		/* FALLTHROUGH */
	case 2:				/* the length the type wants, or near */
		rl = proto_request_len(h.type);
		h.len = (uint32_t)((rl < 0 ? 0 : rl) +
		    deltas[rnd(&r) % (sizeof(deltas) / sizeof(deltas[0]))]);
		if (h.type == PROTO_EXEC && rnd(&r) % 2)
			h.len += 1 + rnd(&r) % 64;	/* a command */
		break;
	case 3:				/* the length the bytes have */
		h.len = (uint32_t)(b - a - 1 - sizeof(h));
		break;
	case 4:				/* the bytes the length says */
		len = b - a - 1 - sizeof(h);
		want = h.len > 8192 ? 8192 : h.len;
		if (want > len && size + (want - len) <= max) {
			memmove(data + b + (want - len), data + b, size - b);
			memset(data + b, (int)(rnd(&r) % 3 ? 0 : 'A'),
			    want - len);
			size += want - len;
		} else if (want < len) {
			memmove(data + b - (len - want), data + b, size - b);
			size -= len - want;
		}
		return size;
	case 5:				/* one more client, the same */
		if (n < MAXCL && size + sizeof(SEP) - 1 + (b - a) <= max) {
			memcpy(data + size, SEP, sizeof(SEP) - 1);
			memcpy(data + size + sizeof(SEP) - 1, data + a, b - a);
			size += sizeof(SEP) - 1 + (b - a);
		}
		return size;
	default:			/* the type alone */
		h.type = (uint16_t)(rnd(&r) % 13 | (rnd(&r) % 8 == 0 ?
		    PROTO_REPLY : 0));
		break;
	}
	memcpy(data + a + 1, &h, sizeof(h));
	return size;
}
