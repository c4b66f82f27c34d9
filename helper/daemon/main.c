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
 * main.c - tunnelwrap-helper: started by the launcher, one per ssh
 * destination, shared by every tunnelwrap of the user for it.
 *
 *   tunnelwrap-helper -S SOCKET [-r READY_FD] [-F ssh_config] [-i id]...
 *       [-o Key=Value]... [-p POOL4] [-P POOL6] [-v]... [--] DEST
 *
 * Start-up is in the foreground, talking to the user's terminal if it must
 * (host key, passphrase, password).  Once the session is up and the
 * control socket is in place it writes "ok" to READY_FD, detaches into its
 * own session and logs to SOCKET.log.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <openssl/crypto.h>

#include "helper.h"
#include "log.h"
#include "rundir.h"
#include "strvec.h"

#define DEFAULT_LINGER	60	/* seconds after the last user leaves */

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

/* All of fd (a pipe the launcher filled and closed) as a string, or NULL. */
static char *
read_all(int fd)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (1u << 20) || (nb = realloc(buf, cap)) == NULL)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			if (n == 0 && len > 0) {
				buf[len] = '\0';
				return buf;
			}
			free(buf);
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	free(buf);
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tunnelwrap-helper -S socket [-r ready_fd] "
	    "[-G resolved_fd] [-F ssh_config] [-i identity]\n"
	    "           [-o Key=Value] [-p pool4] [-P pool6] [-v] "
	    "[--] [user@]host[:port]\n"
	    "(started by tunnelwrap; not meant to be run by hand)\n");
	exit(255);
}

static void
libssh_log(int priority, const char *function, const char *msg, void *arg)
{
	(void)priority;
	(void)arg;
	debug3("libssh %s: %s", function, msg);
}

static void
detach(struct helper *h)
{
	char path[512], why[256];
	int fd, use_syslog = 0;

	/*
	 * LogTarget=syslog with nothing at /dev/log (a container, a system
	 * with neither syslog daemon nor journal) would lose every line in
	 * silence: say so while the user's terminal is still ours, before
	 * the launcher goes on, and log beside the socket instead.
	 */
	if (h->cfg.log_target != NULL &&
	    strcasecmp(h->cfg.log_target, "syslog") == 0) {
		if (log_syslog_reachable(why, sizeof(why)) == 0)
			use_syslog = 1;
		else
			error("LogTarget=syslog: %s; logging to %s.log instead",
			    why, h->cfg.socket_path);
	}
	if (h->cfg.ready_fd >= 0) {
		if (write(h->cfg.ready_fd, "ok\n", 3) != 3)
			error("ready pipe: %s", strerror(errno));
		close(h->cfg.ready_fd);
		h->cfg.ready_fd = -1;
	}
	setsid();
	if (use_syslog) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		log_use_syslog("tunnelwrap-helper");
		return;
	}
	if (h->cfg.log_target != NULL && strncmp(h->cfg.log_target, "file:",
	    5) == 0)
		snprintf(path, sizeof(path), "%s", h->cfg.log_target + 5);
	else
		snprintf(path, sizeof(path), "%s.log", h->cfg.socket_path);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) != -1) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	log_set_fd(STDERR_FILENO);
	log_init("tunnelwrap-helper", log_level());
}

/*
 * Say beside our socket (SOCKET.pools) which synthetic pools we hand out
 * addresses from: a launcher whose rules name other pools joins us anyway
 * (one helper per bastion) and must tell its shim ours.  Written before the
 * socket exists, so whoever finds the socket finds this too.
 */
static void
record_pools(const struct helper *h)
{
	char path[PATH_MAX], text[256];

	snprintf(text, sizeof(text), "%s %s\n", h->cfg.pool4, h->cfg.pool6);
	if ((size_t)snprintf(path, sizeof(path), "%s.pools",
	    h->cfg.socket_path) >= sizeof(path) ||
	    rundir_write_file(path, text) == -1)
		fatal("%s.pools: %s", h->cfg.socket_path, strerror(errno));
}

/*
 * Remove our socket and the records of our configuration beside it, unless
 * another helper has replaced them meanwhile.
 */
static void
cleanup_socket(struct helper *h)
{
	char conf[PATH_MAX];
	struct stat st;

	if (stat(h->cfg.socket_path, &st) == 0 && st.st_ino == h->ctl_ino &&
	    st.st_dev == h->ctl_dev) {
		unlink(h->cfg.socket_path);
		if ((size_t)snprintf(conf, sizeof(conf), "%s.conf",
		    h->cfg.socket_path) < sizeof(conf))
			unlink(conf);
		if ((size_t)snprintf(conf, sizeof(conf), "%s.pools",
		    h->cfg.socket_path) < sizeof(conf))
			unlink(conf);
	}
}

static void
free_paths(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
main(int argc, char **argv)
{
	struct helper h;
	struct sigaction sa;
	struct rlimit rl;
	int ch, level = LOG_INFO;

	memset(&h, 0, sizeof(h));
	h.agent_stop_fd = -1;
	h.cfg.ready_fd = -1;
	h.cfg.linger = DEFAULT_LINGER;
	h.cfg.connect_timeout = 30;
	h.cfg.pool4 = "198.18.0.0/15";
	h.cfg.pool6 = "fd7a:7477:7261::/48";
	log_init("tunnelwrap", level);
	while ((ch = getopt(argc, argv, "F:G:i:l:L:o:p:P:r:S:Vv")) != -1) {
		switch (ch) {
		case 'V':
			/* The rest of tunnelwrap -V's line. */
			printf(", libssh %s, %s\n", ssh_version(0),
			    OpenSSL_version(OPENSSL_VERSION));
			return 0;
		case 'l': h.cfg.log_target = optarg; break;
		case 'L':
			if ((level = log_level_parse(optarg)) < 0)
				fatal("LogLevel %s: expected QUIET, FATAL, ERROR, "
				    "INFO, VERBOSE or DEBUG1-3", optarg);
			break;
		case 'F': h.cfg.ssh_config = optarg; break;
		case 'G': h.cfg.resolved = read_all(atoi(optarg)); break;
		case 'i': strvec_push(&h.cfg.identities, &h.cfg.nidentities, optarg);
			break;
		case 'o':
			if (!window_option(&h.cfg, optarg))
				strvec_push(&h.cfg.options, &h.cfg.noptions,
				    optarg);
			break;
		case 'p': h.cfg.pool4 = optarg; break;
		case 'P': h.cfg.pool6 = optarg; break;
		case 'r': h.cfg.ready_fd = atoi(optarg); break;
		case 'S': h.cfg.socket_path = optarg; break;
		case 'v':
			/* As ssh: -v is DEBUG1, -vvv DEBUG3 (libssh's trace). */
			level = level < LOG_DEBUG1 ? LOG_DEBUG1 :
			    level < LOG_DEBUG3 ? level + 1 : level;
			break;
		default: usage();
		}
	}
	if (argc - optind != 1 || h.cfg.socket_path == NULL)
		usage();
	h.cfg.dest = argv[optind];
	log_init("tunnelwrap", level);
	if (level >= LOG_DEBUG3) {
		/* -vvv: libssh's protocol trace too, as ssh -vvv shows its. */
		ssh_set_log_callback(libssh_log);
		ssh_set_log_level(SSH_LOG_PACKET);
	}
	if (names_init(&h.names, h.cfg.pool4, h.cfg.pool6) == -1)
		fatal("bad synthetic pool %s / %s", h.cfg.pool4, h.cfg.pool6);
	record_pools(&h);
	/* Every tunneled connection costs a descriptor: take what we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	h.started = monotime();
	TAILQ_INIT(&h.fwds);
	TAILQ_INIT(&h.handshakes);
	TAILQ_INIT(&h.pid_attached);
	loop_init(&h);
	session_open(&h);
	relay_init(&h);
	window_init(&h);
	ctl_init(&h);
	verbose("helper %d serving %s on %s", (int)getpid(), h.peer_desc,
	    h.cfg.socket_path);
	detach(&h);
	h.got_signal = &got_signal;
	loop_run(&h);
	logit("helper %d exiting", (int)getpid());
	cleanup_socket(&h);
	relay_fail_all(&h, ECONNRESET);
	relay_reap(&h);
	fwd_free_all(&h);
	dns_free_all(&h);
	ctl_free_attached(&h);
	session_close(&h);
	identity_agent_stop(&h);
	prefetch_free();
	names_free(&h.names);
	free(h.iobuf);
	free_paths(h.identity_files);
	free_paths(h.cert_files);
	free(h.cfg.options);
	free(h.cfg.identities);
	free(h.cfg.resolved);
	return 0;
}
