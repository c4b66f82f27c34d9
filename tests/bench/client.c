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
 * client.c - the one benchmark client, run unchanged through every
 * transport (direct, ssh -L, ssh -D + proxychains4, tunnelwrap).
 *
 * Plain libc only: blocking socket(), connect(), read(), write(),
 * getaddrinfo(); no options a real program would not set.  Every mode
 * prints one line of key=value pairs on stdout (times in seconds unless
 * the key says _us or _ns; cpu = this process's user+system time) and
 * exits 0, or prints the reason on stderr and exits 1.
 *
 *   nop                          do nothing (the per-exec figure)
 *   up HOST PORT BYTES           send BYTES to a sink, wait for its count
 *   down HOST PORT BYTES         ask a source for BYTES, read to EOF
 *   lat HOST PORT N [FILE]       N x (connect, 1-byte echo, close), one at
 *                                a time; FILE gets every latency in us
 *   par HOST PORT N BYTES        N threads at once, each connect + download
 *                                BYTES from a source
 *   cold HOST PORT TIMEOUT_MS    connect (retrying while refused), 1-byte
 *                                echo; prints CLOCK_MONOTONIC at the echo
 *   connloop HOST PORT N         N x (socket, connect, close with RST),
 *                                connect() and the raw syscall alternating
 *   gai SUFFIX N distinct|same   N x getaddrinfo("hI.SUFFIX" or SUFFIX)
 *   hold HOST PORT N THREADS SECS
 *                                open N echo connections (1-byte echo each)
 *                                with THREADS threads, for at most SECS
 *                                seconds; print "ready", wait for a line on
 *                                stdin, echo 1 byte on each again, close
 *   stall HOST PORT BYTES SECS   ask a source for BYTES, read nothing for
 *                                SECS seconds, then read and check it all
 *   exec N CMD [ARG]...          N x (fork, exec CMD, wait)
 *   keys HOST PORT SRCPORT N GAP_MS
 *                                a bulk download from the source at
 *                                SRCPORT runs in a thread; after a second
 *                                of it, N x 1-byte echo (one keystroke)
 *                                on one connection to PORT, GAP_MS apart
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IO_LEN		(256 * 1024)
#define IO_TIMEOUT	30		/* seconds, any single read/write */

static const char *prog = "bench-client";

static void
fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
cpu_children(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static unsigned long long
num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		fprintf(stderr, "%s: bad %s \"%s\"\n", prog, what, s);
		exit(2);
	}
	return v;
}

static struct sockaddr_in target;

static void
set_target(const char *host, const char *port)
{
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)num(port, "port"));
	if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
		fprintf(stderr, "%s: %s: not an IPv4 address\n", prog, host);
		exit(2);
	}
}

/* A connected blocking socket with I/O timeouts, or -1 (errno set). */
static int
dial(void)
{
	struct timeval tv = { IO_TIMEOUT, 0 };
	int fd, saved;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (connect(fd, (struct sockaddr *)&target, sizeof(target)) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Read exactly len bytes; -1 on error or early EOF (errno EPIPE). */
static int
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t
pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * n + 0.999999);
	if (i == 0)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/* Mean of the middle 80% of a sorted array: robust to stalls. */
static double
trimmed_mean(const uint64_t *v, size_t n)
{
	size_t lo = n / 10, hi = n - n / 10, i;
	double sum = 0;

	if (hi <= lo)
		return 0;
	for (i = lo; i < hi; i++)
		sum += (double)v[i];
	return sum / (double)(hi - lo);
}

/* --- bulk --------------------------------------------------------------- */

static int
mode_up(uint64_t bytes)
{
	unsigned char ack[8];
	char *buf;
	uint64_t left = bytes, t0, t1;
	size_t i, len;
	int fd;

	if ((buf = malloc(IO_LEN)) == NULL)
		fail("malloc");
	for (i = 0; i < IO_LEN; i++)
		buf[i] = (char)(i * 7 + (i >> 10));
	if ((fd = dial()) == -1)
		fail("connect");
	t0 = now_ns();
	while (left > 0) {
		len = left < IO_LEN ? left : IO_LEN;
		if (write_all(fd, buf, len) == -1)
			fail("write");
		left -= len;
	}
	if (shutdown(fd, SHUT_WR) == -1)
		fail("shutdown");
	if (read_all(fd, ack, sizeof(ack)) == -1)
		fail("reading the sink's count");
	t1 = now_ns();
	close(fd);
	if (get_be64(ack) != bytes) {
		fprintf(stderr, "%s: sink got %llu of %llu bytes\n", prog,
		    (unsigned long long)get_be64(ack),
		    (unsigned long long)bytes);
		return 1;
	}
	printf("bytes=%llu secs=%.6f mbps=%.1f cpu=%.4f\n",
	    (unsigned long long)bytes, (t1 - t0) / 1e9,
	    bytes / 1e6 / ((t1 - t0) / 1e9), cpu_self());
	return 0;
}

static int
mode_down(uint64_t bytes)
{
	unsigned char req[8];
	char *buf;
	uint64_t got = 0, t0, t1;
	ssize_t n;
	int fd;

	if ((buf = malloc(IO_LEN)) == NULL)
		fail("malloc");
	if ((fd = dial()) == -1)
		fail("connect");
	t0 = now_ns();
	put_be64(req, bytes);
	if (write_all(fd, req, sizeof(req)) == -1)
		fail("write");
	while ((n = read(fd, buf, IO_LEN)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fail("read");
		}
		got += n;
	}
	t1 = now_ns();
	close(fd);
	if (got != bytes) {
		fprintf(stderr, "%s: got %llu of %llu bytes\n", prog,
		    (unsigned long long)got, (unsigned long long)bytes);
		return 1;
	}
	printf("bytes=%llu secs=%.6f mbps=%.1f cpu=%.4f\n",
	    (unsigned long long)bytes, (t1 - t0) / 1e9,
	    bytes / 1e6 / ((t1 - t0) / 1e9), cpu_self());
	return 0;
}

/* --- connection latency ------------------------------------------------- */

static int
mode_lat(size_t n, const char *file)
{
	uint64_t *lat, t0, t1, start, end;
	size_t i, ok = 0, over = 0;
	unsigned failures = 0;
	char c = 'x', r;
	FILE *f;
	int fd;

	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		fail("calloc");
	start = now_ns();
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if ((fd = dial()) == -1) {
			failures++;
			if (failures == 1)
				fprintf(stderr, "%s: connect: %s\n", prog,
				    strerror(errno));
			continue;
		}
		if (write_all(fd, &c, 1) == -1 || read_all(fd, &r, 1) == -1 ||
		    r != c) {
			failures++;
			if (failures == 1)
				fprintf(stderr, "%s: echo: %s\n", prog,
				    strerror(errno));
			close(fd);
			continue;
		}
		close(fd);
		t1 = now_ns();
		lat[ok++] = t1 - t0;
		if (t1 - t0 > 10000000)
			over++;
	}
	end = now_ns();
	if (file != NULL && (f = fopen(file, "w")) != NULL) {
		for (i = 0; i < ok; i++)
			fprintf(f, "%.1f\n", lat[i] / 1e3);
		fclose(f);
	}
	qsort(lat, ok, sizeof(*lat), cmp_u64);
	printf("n=%zu failures=%u p50_us=%.1f p99_us=%.1f max_us=%.1f "
	    "over10ms=%zu secs=%.6f cps=%.1f cpu=%.4f\n", ok, failures,
	    pct(lat, ok, 50) / 1e3, pct(lat, ok, 99) / 1e3,
	    ok ? lat[ok - 1] / 1e3 : 0.0, over, (end - start) / 1e9,
	    n / ((end - start) / 1e9), cpu_self());
	return failures ? 1 : 0;
}

/* --- many at once ------------------------------------------------------- */

struct par_job {
	pthread_t	 tid;
	uint64_t	 bytes;
	uint64_t	 elapsed;
	int		 ok;
	int		 err;
};

static pthread_barrier_t par_barrier;

static void *
par_run(void *arg)
{
	struct par_job *j = arg;
	unsigned char req[8];
	char buf[64 * 1024];
	uint64_t got = 0, t0;
	ssize_t n;
	int fd;

	pthread_barrier_wait(&par_barrier);
	t0 = now_ns();
	if ((fd = dial()) == -1) {
		j->err = errno;
		goto out;
	}
	put_be64(req, j->bytes);
	if (write_all(fd, req, sizeof(req)) == -1) {
		j->err = errno;
		close(fd);
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			j->err = errno;
			break;
		}
		got += n;
	}
	close(fd);
	j->ok = got == j->bytes;
	if (!j->ok && j->err == 0)
		j->err = EPIPE;
 out:
	j->elapsed = now_ns() - t0;
	return NULL;
}

static int
mode_par(size_t n, uint64_t bytes)
{
	struct par_job *jobs;
	pthread_attr_t attr;
	uint64_t *el, t0, t1;
	size_t i, ok = 0, failures = 0;
	int first_err = 0;

	if ((jobs = calloc(n, sizeof(*jobs))) == NULL ||
	    (el = calloc(n, sizeof(*el))) == NULL)
		fail("calloc");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_barrier_init(&par_barrier, NULL, (unsigned)n + 1);
	for (i = 0; i < n; i++) {
		jobs[i].bytes = bytes;
		if ((errno = pthread_create(&jobs[i].tid, &attr, par_run,
		    &jobs[i])) != 0)
			fail("pthread_create");
	}
	t0 = now_ns();
	pthread_barrier_wait(&par_barrier);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pthread_join(jobs[i].tid, NULL);
		if (jobs[i].ok)
			el[ok++] = jobs[i].elapsed;
		else {
			failures++;
			if (first_err == 0)
				first_err = jobs[i].err;
		}
	}
	t1 = now_ns();
	if (failures)
		fprintf(stderr, "%s: %zu of %zu transfers failed (first: %s)\n",
		    prog, failures, n, strerror(first_err));
	qsort(el, ok, sizeof(*el), cmp_u64);
	printf("n=%zu failures=%zu total=%.6f p50=%.6f p99=%.6f max=%.6f "
	    "cpu=%.4f\n", n, failures, (t1 - t0) / 1e9, pct(el, ok, 50) / 1e9,
	    pct(el, ok, 99) / 1e9, ok ? el[ok - 1] / 1e9 : 0.0, cpu_self());
	return 0;
}

/* --- keystrokes under a bulk download ----------------------------------- */

static int	echo_byte(int, char);

struct bulk_job {
	pthread_t	 tid;
	int		 fd;
	volatile int	 stop;
	uint64_t	 got, t0, t1;
	int		 err;
};

static void *
bulk_run(void *arg)
{
	struct bulk_job *j = arg;
	static char buf[IO_LEN];
	ssize_t n;

	j->t0 = now_ns();
	while (!j->stop) {
		if ((n = read(j->fd, buf, sizeof(buf))) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (!j->stop)
				j->err = n == 0 ? EPIPE : errno;
			break;
		}
		j->got += (uint64_t)n;
	}
	j->t1 = now_ns();
	return NULL;
}

/*
 * Interactive latency on a busy session: the download shares the
 * transport (the same ssh, the same helper) with the keystrokes, so a
 * keystroke's echo waits behind whatever the transport queued for it.
 */
static int
mode_keys(uint16_t srcport, size_t n, uint64_t gap_ms)
{
	struct timespec gap = { (time_t)(gap_ms / 1000),
	    (long)(gap_ms % 1000) * 1000000L }, warm = { 1, 0 };
	struct bulk_job job;
	unsigned char req[8];
	uint64_t *lat, t0;
	uint16_t echo_port = target.sin_port;
	size_t i;
	int fd;

	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		fail("calloc");
	memset(&job, 0, sizeof(job));
	target.sin_port = htons(srcport);
	if ((job.fd = dial()) == -1)
		fail("connect to the source");
	target.sin_port = echo_port;
	put_be64(req, (uint64_t)1 << 40);
	if (write_all(job.fd, req, sizeof(req)) == -1)
		fail("write");
	if ((errno = pthread_create(&job.tid, NULL, bulk_run, &job)) != 0)
		fail("pthread_create");
	nanosleep(&warm, NULL);
	if ((fd = dial()) == -1)
		fail("connect to echo");
	for (i = 0; i < n; i++) {
		nanosleep(&gap, NULL);
		t0 = now_ns();
		if (echo_byte(fd, 'k') == -1)
			fail("echo");
		lat[i] = now_ns() - t0;
	}
	close(fd);
	job.stop = 1;
	shutdown(job.fd, SHUT_RDWR);
	pthread_join(job.tid, NULL);
	close(job.fd);
	if (job.err != 0) {
		errno = job.err;
		fail("bulk download");
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("n=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f bulk_mbps=%.1f "
	    "cpu=%.4f\n", n, pct(lat, n, 50) / 1e3, pct(lat, n, 99) / 1e3,
	    lat[n - 1] / 1e3, job.got / 1e6 / ((job.t1 - job.t0) / 1e9),
	    cpu_self());
	return 0;
}

/* --- cold start --------------------------------------------------------- */

static int
mode_cold(uint64_t timeout_ms)
{
	uint64_t deadline = now_ns() + timeout_ms * 1000000ull, t;
	struct timespec pause = { 0, 200000 };
	unsigned tries = 0;
	char c = 'x', r;
	int fd;

	for (;;) {
		tries++;
		if ((fd = dial()) != -1)
			break;
		if (errno != ECONNREFUSED || now_ns() > deadline)
			fail("connect");
		nanosleep(&pause, NULL);
	}
	if (write_all(fd, &c, 1) == -1 || read_all(fd, &r, 1) == -1)
		fail("echo");
	t = now_ns();
	close(fd);
	printf("echoed_ns=%llu tries=%u cpu=%.4f\n", (unsigned long long)t,
	    tries, cpu_self());
	return 0;
}

/* --- connect cost ------------------------------------------------------- */

/*
 * Paired: each iteration calls either connect() (the shim's, when
 * preloaded) or the raw system call, in a fixed pseudo-random order, so
 * machine noise hits both alike and the
 * difference is what the libc entry point (and a shim in front of it)
 * adds.  Each connection is closed with RST: no TIME_WAIT, so 100,000
 * connects do not run out of ports.
 */
static int
mode_connloop(size_t n)
{
	struct linger lg = { 1, 0 };
	uint64_t *ct[2], t0, t1, start, end, sum[2] = { 0, 0 };
	uint64_t rnd = 0x9e3779b97f4a7c15ull;
	size_t i, k[2] = { 0, 0 };
	int fd, raw, r;

	if ((ct[0] = calloc(n, sizeof(uint64_t))) == NULL ||
	    (ct[1] = calloc(n, sizeof(uint64_t))) == NULL)
		fail("calloc");
	start = now_ns();
	for (i = 0; i < n; i++) {
		/* a fixed pseudo-random order: no periodic bias */
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		raw = (int)(rnd >> 32) & 1;
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			fail("socket");
		t0 = now_ns();
		if (raw)
			r = (int)syscall(SYS_connect, fd,
			    (struct sockaddr *)&target, sizeof(target));
		else
			r = connect(fd, (struct sockaddr *)&target,
			    sizeof(target));
		t1 = now_ns();
		if (r == -1)
			fail("connect");
		ct[raw][k[raw]++] = t1 - t0;
		sum[raw] += t1 - t0;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	end = now_ns();
	qsort(ct[0], k[0], sizeof(uint64_t), cmp_u64);
	qsort(ct[1], k[1], sizeof(uint64_t), cmp_u64);
	printf("n=%zu secs=%.6f iter_ns=%.1f connect_mean_ns=%.1f "
	    "connect_p50_ns=%llu connect_tmean_ns=%.1f raw_mean_ns=%.1f "
	    "raw_p50_ns=%llu raw_tmean_ns=%.1f extra_mean_ns=%.1f "
	    "extra_p50_ns=%.1f extra_tmean_ns=%.1f ", n,
	    (end - start) / 1e9, (double)(end - start) / n,
	    (double)sum[0] / k[0], (unsigned long long)pct(ct[0], k[0], 50),
	    trimmed_mean(ct[0], k[0]),
	    (double)sum[1] / k[1], (unsigned long long)pct(ct[1], k[1], 50),
	    trimmed_mean(ct[1], k[1]),
	    (double)sum[0] / k[0] - (double)sum[1] / k[1],
	    (double)pct(ct[0], k[0], 50) - (double)pct(ct[1], k[1], 50),
	    trimmed_mean(ct[0], k[0]) - trimmed_mean(ct[1], k[1]));
	/*
	 * The same decision without the TCP handshake's noise: connect() on a
	 * connected socket fails in the kernel at once (EISCONN), after the
	 * shim has matched the rules exactly as above.
	 */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&target, sizeof(target)) == -1)
		fail("connect");
	sum[0] = sum[1] = k[0] = k[1] = 0;
	for (i = 0; i < n; i++) {
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		raw = (int)(rnd >> 32) & 1;
		t0 = now_ns();
		if (raw)
			r = (int)syscall(SYS_connect, fd,
			    (struct sockaddr *)&target, sizeof(target));
		else
			r = connect(fd, (struct sockaddr *)&target,
			    sizeof(target));
		t1 = now_ns();
		if (r != -1 || errno != EISCONN)
			fail("connect on a connected socket");
		ct[raw][k[raw]++] = t1 - t0;
		sum[raw] += t1 - t0;
	}
	close(fd);
	qsort(ct[0], k[0], sizeof(uint64_t), cmp_u64);
	qsort(ct[1], k[1], sizeof(uint64_t), cmp_u64);
	printf("eisconn_p50_ns=%llu eisconn_raw_p50_ns=%llu "
	    "eisconn_extra_mean_ns=%.1f eisconn_extra_p50_ns=%.1f "
	    "eisconn_extra_tmean_ns=%.1f cpu=%.4f\n",
	    (unsigned long long)pct(ct[0], k[0], 50),
	    (unsigned long long)pct(ct[1], k[1], 50),
	    (double)sum[0] / k[0] - (double)sum[1] / k[1],
	    (double)pct(ct[0], k[0], 50) - (double)pct(ct[1], k[1], 50),
	    trimmed_mean(ct[0], k[0]) - trimmed_mean(ct[1], k[1]),
	    cpu_self());
	return 0;
}

/* --- name resolution ---------------------------------------------------- */

static int
mode_gai(const char *suffix, size_t n, int distinct)
{
	struct addrinfo hints, *res;
	uint64_t *t, t0, sum = 0;
	char name[256];
	size_t i;
	int rc;

	if ((t = calloc(n, sizeof(*t))) == NULL)
		fail("calloc");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	for (i = 0; i < n; i++) {
		if (distinct)
			snprintf(name, sizeof(name), "h%zu.%s", i, suffix);
		else
			snprintf(name, sizeof(name), "%s", suffix);
		t0 = now_ns();
		rc = getaddrinfo(name, "80", &hints, &res);
		t[i] = now_ns() - t0;
		if (rc != 0) {
			fprintf(stderr, "%s: getaddrinfo %s: %s\n", prog, name,
			    gai_strerror(rc));
			return 1;
		}
		freeaddrinfo(res);
		sum += t[i];
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("n=%zu mean_us=%.2f p50_us=%.2f p99_us=%.2f max_us=%.2f "
	    "cpu=%.4f\n", n, sum / 1e3 / n, pct(t, n, 50) / 1e3,
	    pct(t, n, 99) / 1e3, t[n - 1] / 1e3, cpu_self());
	return 0;
}

/* --- many idle connections, a stalled reader ---------------------------- */

static int
echo_byte(int fd, char c)
{
	char r;

	if (write_all(fd, &c, 1) == -1 || read_all(fd, &r, 1) == -1)
		return -1;
	if (r != c) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

struct hold_job {
	pthread_t	 tid;
	int		*fds;
	size_t		 n, start, step;
	uint64_t	 deadline;
	size_t		 opened, failed;
	int		 err;
};

static void *
hold_open(void *arg)
{
	struct hold_job *j = arg;
	size_t i;

	for (i = j->start; i < j->n; i += j->step) {
		if (now_ns() > j->deadline)
			break;
		if ((j->fds[i] = dial()) == -1 || echo_byte(j->fds[i], 'a') == -1) {
			if (j->err == 0)
				j->err = errno;
			if (j->fds[i] != -1)
				close(j->fds[i]);
			j->fds[i] = -1;
			j->failed++;
			continue;
		}
		j->opened++;
	}
	return NULL;
}

/*
 * Open n connections with `threads` threads (connects in flight at once,
 * as a busy program would), give up opening after secs seconds; then, on
 * a line from stdin, write one byte on every connection before reading
 * any answer, so the far end sees them all at once.
 */
static int
mode_hold(size_t n, size_t threads, double secs)
{
	struct hold_job *jobs;
	pthread_attr_t attr;
	size_t i, nopen = 0, open_fail = 0, again_fail = 0;
	uint64_t t0 = now_ns();
	char line[64], r;
	int *fds, first_err = 0;

	if (threads == 0)
		threads = 1;
	if ((fds = calloc(n, sizeof(*fds))) == NULL ||
	    (jobs = calloc(threads, sizeof(*jobs))) == NULL)
		fail("calloc");
	for (i = 0; i < n; i++)
		fds[i] = -1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < threads; i++) {
		jobs[i].fds = fds;
		jobs[i].n = n;
		jobs[i].start = i;
		jobs[i].step = threads;
		jobs[i].deadline = t0 + (uint64_t)(secs * 1e9);
		if ((errno = pthread_create(&jobs[i].tid, &attr, hold_open,
		    &jobs[i])) != 0)
			fail("pthread_create");
	}
	for (i = 0; i < threads; i++) {
		pthread_join(jobs[i].tid, NULL);
		nopen += jobs[i].opened;
		open_fail += jobs[i].failed;
		if (first_err == 0)
			first_err = jobs[i].err;
	}
	if (open_fail)
		fprintf(stderr, "%s: %zu connections failed (first: %s)\n", prog,
		    open_fail, strerror(first_err));
	printf("ready opened=%zu open_failures=%zu open_secs=%.3f\n", nopen,
	    open_fail, (now_ns() - t0) / 1e9);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 1;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (fds[i] != -1 && write_all(fds[i], "b", 1) == -1) {
			close(fds[i]);
			fds[i] = -1;
			again_fail++;
		}
	for (i = 0; i < n; i++) {
		if (fds[i] == -1)
			continue;
		if (read_all(fds[i], &r, 1) == -1 || r != 'b') {
			if (again_fail++ == 0)
				fprintf(stderr, "%s: connection %zu again: %s\n",
				    prog, i, strerror(errno));
		}
		close(fds[i]);
	}
	printf("done ok=%zu failures=%zu exchange_secs=%.3f cpu=%.4f\n",
	    nopen - again_fail, again_fail + open_fail + (n - nopen -
	    open_fail), (now_ns() - t0) / 1e9, cpu_self());
	return again_fail + open_fail || nopen < n ? 1 : 0;
}

static int
mode_stall(uint64_t bytes, double secs)
{
	struct timespec ts;
	unsigned char req[8];
	char *buf;
	uint64_t got = 0;
	ssize_t n;
	int fd;

	if ((buf = malloc(IO_LEN)) == NULL)
		fail("malloc");
	if ((fd = dial()) == -1)
		fail("connect");
	put_be64(req, bytes);
	if (write_all(fd, req, sizeof(req)) == -1)
		fail("write");
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	while ((n = read(fd, buf, IO_LEN)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fail("read");
		}
		got += n;
	}
	close(fd);
	if (got != bytes) {
		fprintf(stderr, "%s: got %llu of %llu bytes\n", prog,
		    (unsigned long long)got, (unsigned long long)bytes);
		return 1;
	}
	printf("bytes=%llu cpu=%.4f\n", (unsigned long long)bytes, cpu_self());
	return 0;
}

/* --- per exec ----------------------------------------------------------- */

static int
mode_exec(size_t n, char **argv)
{
	uint64_t *t, t0, sum = 0;
	size_t i;
	pid_t pid;
	int st;

	if ((t = calloc(n, sizeof(*t))) == NULL)
		fail("calloc");
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if ((pid = fork()) == -1)
			fail("fork");
		if (pid == 0) {
			execvp(argv[0], argv);
			fprintf(stderr, "%s: %s: %s\n", prog, argv[0],
			    strerror(errno));
			_exit(127);
		}
		while (waitpid(pid, &st, 0) == -1)
			if (errno != EINTR)
				fail("waitpid");
		t[i] = now_ns() - t0;
		sum += t[i];
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "%s: %s exited with status %d\n", prog,
			    argv[0], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			return 1;
		}
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("n=%zu mean_ms=%.3f p50_ms=%.3f min_ms=%.3f cpu_child=%.4f\n",
	    n, sum / 1e6 / n, pct(t, n, 50) / 1e6, t[0] / 1e6,
	    cpu_children());
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench-client nop\n"
	    "       bench-client up|down HOST PORT BYTES\n"
	    "       bench-client lat HOST PORT N [FILE]\n"
	    "       bench-client par HOST PORT N BYTES\n"
	    "       bench-client cold HOST PORT TIMEOUT_MS\n"
	    "       bench-client connloop HOST PORT N\n"
	    "       bench-client gai SUFFIX N distinct|same\n"
	    "       bench-client hold HOST PORT N THREADS SECS\n"
	    "       bench-client stall HOST PORT BYTES SECS\n"
	    "       bench-client exec N CMD [ARG]...\n"
	    "       bench-client keys HOST PORT SRCPORT N GAP_MS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *m;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	m = argv[1];
	if (strcmp(m, "nop") == 0)
		return 0;
	if (strcmp(m, "exec") == 0 && argc >= 4)
		return mode_exec(num(argv[2], "count"), argv + 3);
	if (strcmp(m, "gai") == 0 && argc == 5)
		return mode_gai(argv[2], num(argv[3], "count"),
		    strcmp(argv[4], "distinct") == 0);
	if (argc < 5)
		usage();
	set_target(argv[2], argv[3]);
	if (strcmp(m, "up") == 0 && argc == 5)
		return mode_up(num(argv[4], "bytes"));
	if (strcmp(m, "down") == 0 && argc == 5)
		return mode_down(num(argv[4], "bytes"));
	if (strcmp(m, "lat") == 0 && argc <= 6)
		return mode_lat(num(argv[4], "count"), argc == 6 ? argv[5] :
		    NULL);
	if (strcmp(m, "par") == 0 && argc == 6)
		return mode_par(num(argv[4], "count"), num(argv[5], "bytes"));
	if (strcmp(m, "cold") == 0 && argc == 5)
		return mode_cold(num(argv[4], "timeout"));
	if (strcmp(m, "connloop") == 0 && argc == 5)
		return mode_connloop(num(argv[4], "count"));
	if (strcmp(m, "hold") == 0 && argc == 7)
		return mode_hold(num(argv[4], "count"), num(argv[5], "threads"),
		    atof(argv[6]));
	if (strcmp(m, "keys") == 0 && argc == 7)
		return mode_keys((uint16_t)num(argv[4], "port"),
		    num(argv[5], "count"), num(argv[6], "gap"));
	if (strcmp(m, "stall") == 0 && argc == 6)
		return mode_stall(num(argv[4], "bytes"), atof(argv[5]));
	usage();
	return 2;
}
