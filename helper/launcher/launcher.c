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
 * launcher.c - tunnelwrap: run a command with its connections tunneled.
 *
 *   tunnelwrap [-H [user@]host[:port]] [-i identity] [-F ssh_config]
 *              [-o Key=Value]... [-f rules] [-v]... [--] COMMAND [ARG...]
 *   tunnelwrap -O status|stop [-H host | -f rules]
 *   tunnelwrap -n [-f rules] DEST...
 *   tunnelwrap -V
 *
 * Order of work, so that nothing starts half-way: options, rules (every
 * error reported, then exit 255), helper found or started (its errors are
 * printed by it, on our stderr), then COMMAND with LD_PRELOAD.  Exit status
 * is COMMAND's own, or 255 when tunnelwrap itself fails.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "../common/proto.h"
#include "../common/reach.h"
#include "../rules/rules.h"
#include "client.h"
#include "ctlcmd.h"
#include "fwdspec.h"
#include "strict.h"
#include "remote.h"
#include "log.h"
#include "strvec.h"
#include "rundir.h"
#include "sessname.h"
#include "sshg.h"
#include "supervise.h"

#ifndef TW_VERSION
#define TW_VERSION "0.1"
#endif

#define BUILTIN_RULES \
	"direct 127.0.0.0/8 [::1] localhost\n" \
	"default tunnel\n"

struct opts {
	const char	*dest;		/* -H */
	const char	*rules;		/* -f */
	const char	*ssh_config;	/* -F */
	const char	**sshopts;	/* -o, and -i as IdentityFile= */
	size_t		 nsshopts;
	const char	**identities;
	size_t		 nidentities;
	const char	*ctl;		/* -O */
	int		 dry_run;	/* -n */
	int		 verbose;
	struct proto_forward *fwds;	/* -L, -R, -D */
	size_t		 nfwds;
	int		 exec;		/* -e, with -t -X -A */
	int		 json;		/* -O status --json */
	int		 shell;		/* -s */
	const char	*log_target;	/* -o LogTarget= */
	const char	*log_level;	/* -o LogLevel= */
	int		 strict;	/* -o Strict=yes: no io_uring */
	const char	*intercept;	/* -o Intercept=auto|seccomp|proxy */
	int		 pty, x11, agent;
};

struct session_ref {
	const struct rules_session *rs;
	struct sessname	 name;		/* name.path: the helper's socket */
	const char	*path;		/* = name.path */
	struct sshg_query query;	/* what ssh -G is asked about it */
	const char	*rundir;
	const char	**opts;		/* session options + command line */
	size_t		 nopts;
	int		 spawned;	/* we started its helper */
	int		 attach_fd;	/* held while COMMAND runs, or -1 */
	int		 by_pid;	/* the helper watches our pid instead */
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: tunnelwrap [-Cv] [-H [user@]host[:port]] [-i identity] "
	    "[-F ssh_config]\n"
	    "                  [-o Key=Value]... [-f rules] [-L spec]... "
	    "[-R spec]... [-D spec]...\n"
	    "                  [--] [COMMAND [ARG...]]\n"
	    "       tunnelwrap -e [-tXA] [-H host | -f rules] [--] "
	    "REMOTE-COMMAND [ARG...]\n"
	    "       tunnelwrap -s [-H host | -f rules]\n"
	    "       tunnelwrap -O status|stop|top [--json] [-H host | -f rules]\n"
	    "       tunnelwrap -n [-f rules] DEST...\n"
	    "       tunnelwrap -V | -h\n");
	exit(status);
}

static void
add_fwd(struct opts *o, int kind, const char *spec)
{
	char err[512];

	if ((o->fwds = reallocarray(o->fwds, o->nfwds + 1,
	    sizeof(*o->fwds))) == NULL)
		fatal("out of memory");
	if (fwdspec_parse(kind, spec, &o->fwds[o->nfwds], err,
	    sizeof(err)) == -1)
		fatal("%s", err);
	o->nfwds++;
}

/*
 * Hand the -L/-R/-D forwards to the default session's helper, which holds
 * them while it lives.  -D gets our rules, to decide as the shim does.
 */
static void
send_forwards(const struct opts *o, const struct session_ref *s,
    const struct rules *r)
{
	char err[1024], *dump = NULL;
	size_t i, len = 0;

	for (i = 0; i < o->nfwds; i++) {
		if (o->fwds[i].kind == PROTO_FWD_DYNAMIC && dump == NULL) {
			len = rules_dump(r, NULL, 0);
			if ((dump = malloc(len + 1)) == NULL)
				fatal("out of memory");
			rules_dump(r, dump, len + 1);
		}
		if (fwdspec_send(s->path, &o->fwds[i], o->fwds[i].kind ==
		    PROTO_FWD_DYNAMIC ? dump : NULL, o->fwds[i].kind ==
		    PROTO_FWD_DYNAMIC ? len : 0, NULL, err, sizeof(err)) == -1)
			fatal("%s", err);
		verbose("%s: held by the helper for %s", o->fwds[i].origin,
		    s->rs->dest);
	}
	free(dump);
}

static void
print_error(void *arg, const char *msg)
{
	int *count = arg;

	fprintf(stderr, "%s\n", msg);
	(*count)++;
}

/* Where the rules come from: -f, env, per-app, per-user, system. */
static struct rules *
load_rules(const struct opts *o, const char *command)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	const char *env = getenv("TUNNELWRAP_RULES");
	char cfgdir[PATH_MAX], path[PATH_MAX + 64], cmd[PATH_MAX];
	struct rules *r = NULL;
	int errors = 0;

	if (o->rules != NULL || (env != NULL && *env != '\0')) {
		const char *p = o->rules ? o->rules : env;

		if (rules_parse_file(p, &r, print_error, &errors) == -1)
			exit(255);
		return r;
	}
	if (xdg != NULL && *xdg == '/')
		strlcpy(cfgdir, xdg, sizeof(cfgdir));
	else if (home != NULL)
		snprintf(cfgdir, sizeof(cfgdir), "%s/.config", home);
	else
		cfgdir[0] = '\0';
	if (cfgdir[0] != '\0' && command != NULL) {
		strlcpy(cmd, command, sizeof(cmd));
		snprintf(path, sizeof(path), "%s/tunnelwrap/apps/%s.rules",
		    cfgdir, basename(cmd));
		if (access(path, F_OK) == 0)
			goto parse;
	}
	if (cfgdir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/tunnelwrap/rules", cfgdir);
		if (access(path, F_OK) == 0)
			goto parse;
	}
	snprintf(path, sizeof(path), "%s/tunnelwrap/rules", TW_SYSCONFDIR);
	if (access(path, F_OK) == 0)
		goto parse;
	if (o->dest == NULL)
		return NULL;
	if (rules_parse_string(BUILTIN_RULES, "(built-in)", &r, print_error,
	    &errors) == -1)
		fatal("built-in rules do not parse");
	return r;
 parse:
	verbose("rules from %s", path);
	if (rules_parse_file(path, &r, print_error, &errors) == -1)
		exit(255);
	return r;
}

/* Where the helper is, relative to us: build tree, then installed. */
static const char *const helper_paths[] = { "tunnelwrap-helper",
#ifdef TW_MULTIARCH
    "../lib/" TW_MULTIARCH "/tunnelwrap/tunnelwrap-helper",
#endif
    "../lib/tunnelwrap/tunnelwrap-helper",
    "../libexec/tunnelwrap/tunnelwrap-helper", NULL };

/* Directory of our own executable, for finding the shim and helper. */
static void
self_dir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		fatal("cannot find my own executable: %s", strerror(errno));
	exe[n] = '\0';
	strlcpy(buf, dirname(exe), len);
}

/*
 * First existing of env, then candidates relative to our directory
 * (build tree, then installed layout).
 */
static void
find_file(char *out, size_t len, const char *env, const char *const *rel)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *e = getenv(env);

	if (e != NULL && *e != '\0') {
		if (realpath(e, out) == NULL)
			fatal("%s=%s: %s", env, e, strerror(errno));
		return;
	}
	self_dir(dir, sizeof(dir));
	for (; *rel != NULL; rel++) {
		if ((size_t)snprintf(out, len, "%s/%s", dir, *rel) >= len)
			continue;
		if (access(out, R_OK) == 0 && realpath(out, real) != NULL) {
			strlcpy(out, real, len);
			return;
		}
	}
	fatal("cannot find %s next to %s (set %s)", rel[-1], dir, env);
}

static void	name_session(struct session_ref *, int);

static void
session_prepare(struct session_ref *s, const struct opts *o,
    const char *rundir)
{
	size_t i;
	char *id;

	s->attach_fd = -1;
	for (i = 0; i < s->rs->noptions; i++)
		strvec_push(&s->opts, &s->nopts, s->rs->options[i]);
	for (i = 0; i < o->nsshopts; i++)
		strvec_push(&s->opts, &s->nopts, o->sshopts[i]);
	for (i = 0; i < o->nidentities; i++) {
		if (asprintf(&id, "IdentityFile=%s", o->identities[i]) == -1)
			fatal("out of memory");
		strvec_push(&s->opts, &s->nopts, id);
	}
	/*
	 * Like ssh's ControlPath %C, the helper is named by the account and
	 * bastion its destination resolves to: every way of naming them
	 * shares it, whatever the other options; -O finds it the same way.
	 */
	s->rundir = rundir;
	s->query.ssh_config = o->ssh_config;
	s->query.options = s->opts;
	s->query.noptions = s->nopts;
	s->query.dest = s->rs->dest;
	name_session(s, 0);
}

/* Find s's helper name (fresh: asking ssh, not the cache); fatal if none. */
static void
name_session(struct session_ref *s, int fresh)
{
	char err[1024];

	if (sessname_find(&s->name, s->rundir, &s->query, fresh, err,
	    sizeof(err)) == -1)
		fatal("%s", err);
	s->path = s->name.path;
	debug("session %s: %s, helper %s%s", s->rs->name, s->name.canon,
	    s->path, s->name.from_cache ? " (name cached)" : "");
}

/*
 * At -v, joining a running helper: say which of our options it does not
 * have, as ssh's multiplexing client applies none of its own.
 */
static void
report_differences(struct session_ref *s)
{
	char keys[2048];

	if (log_level() < LOG_VERBOSE || s->spawned)
		return;
	if (sessname_differ(&s->name, &s->query, keys, sizeof(keys)) > 0)
		verbose("session %s (%s): options differ from the running "
		    "session's: %s; not applied (tunnelwrap -O stop to "
		    "change)", s->rs->name, s->name.canon, keys);
}

#define POOL_TEXT	(INET6_ADDRSTRLEN + 8)

/* The synthetic pools as CIDR text. */
static void
pools(const struct rules *r, char *v4, char *v6)
{
	char a[INET6_ADDRSTRLEN];
	struct in_addr n4;
	struct in6_addr n6;
	int len4, len6;

	rules_synthetic_v4(r, &n4, &len4);
	rules_synthetic_v6(r, &n6, &len6);
	inet_ntop(AF_INET, &n4, a, sizeof(a));
	snprintf(v4, POOL_TEXT, "%s/%d", a, len4);
	inet_ntop(AF_INET6, &n6, a, sizeof(a));
	snprintf(v6, POOL_TEXT, "%s/%d", a, len6);
}

/*
 * A helper we joined rather than started hands out synthetic addresses
 * from the pools it was started with (SOCKET.pools), which may not be the
 * ones our rules name: the shim must know the helper's for its own.  The
 * rules carry one pair, so the first session's helper sets them; another
 * session's helper that disagrees is reported.
 */
static void
adopt_pools(const struct session_ref *s, struct rules *r, int first)
{
	char path[PATH_MAX], text[256], p4[POOL_TEXT], p6[POOL_TEXT];
	char *v4, *v6, *sp = NULL;

	if (s->spawned || (size_t)snprintf(path, sizeof(path), "%s.pools",
	    s->path) >= sizeof(path) || rundir_read_file(path, text,
	    sizeof(text)) == -1)
		return;
	text[strcspn(text, "\n")] = '\0';
	if ((v4 = strtok_r(text, " ", &sp)) == NULL ||
	    (v6 = strtok_r(NULL, " ", &sp)) == NULL)
		return;
	pools(r, p4, p6);
	if (strcmp(v4, p4) == 0 && strcmp(v6, p6) == 0)
		return;
	if (!first) {
		logit("session %s: its running helper hands out synthetic "
		    "addresses from %s %s, not %s %s as the rules say: its "
		    "names fail here (tunnelwrap -O stop to change)",
		    s->rs->name, v4, v6, p4, p6);
		return;
	}
	if (rules_set_synthetic(r, v4) == -1 ||
	    rules_set_synthetic(r, v6) == -1)
		fatal("session %s: the running helper's pools %s %s: %s",
		    s->rs->name, v4, v6, strerror(errno));
	verbose("session %s: synthetic addresses from the running helper's "
	    "pools %s %s (the rules say %s %s)", s->rs->name, v4, v6, p4, p6);
}

/*
 * The ssh -G output we just ran to name the session, in a pipe for the
 * helper (-G), which would otherwise start ssh once more for the same
 * answer.  -1 when there is none (a cached name) or it does not fit the
 * pipe at once (non-blocking: a user short of pipe pages gets 4 KiB).
 */
static int
resolved_pipe(const char *text)
{
	size_t len = text != NULL ? strlen(text) : 0;
	int gp[2];

	if (len == 0 || pipe2(gp, O_NONBLOCK) == -1)
		return -1;
	if (write(gp[1], text, len) != (ssize_t)len) {
		close(gp[0]);
		close(gp[1]);
		return -1;
	}
	close(gp[1]);
	return gp[0];
}

/*
 * Start a helper for s and wait until it is serving or has failed (it
 * prints its own error on our stderr).
 */
static void
spawn_helper(struct session_ref *s, const struct opts *o,
    const struct rules *r)
{
	char helper[PATH_MAX], fdbuf[16], gfdbuf[16], pool4[POOL_TEXT],
	    pool6[POOL_TEXT];
	const char **av = NULL;
	size_t nav = 0, i;
	int p[2], status, devnull, resolved_fd;
	char buf[8];
	ssize_t n;
	pid_t pid;

	find_file(helper, sizeof(helper), "TUNNELWRAP_HELPER", helper_paths);
	pools(r, pool4, pool6);
	if (pipe(p) == -1)
		fatal("pipe: %s", strerror(errno));
	snprintf(fdbuf, sizeof(fdbuf), "%d", p[1]);
	strvec_push(&av, &nav, helper);
	strvec_push(&av, &nav, "-S");
	strvec_push(&av, &nav, s->path);
	strvec_push(&av, &nav, "-r");
	strvec_push(&av, &nav, fdbuf);
	strvec_push(&av, &nav, "-p");
	strvec_push(&av, &nav, pool4);
	strvec_push(&av, &nav, "-P");
	strvec_push(&av, &nav, pool6);
	if ((resolved_fd = resolved_pipe(s->name.resolved)) >= 0) {
		snprintf(gfdbuf, sizeof(gfdbuf), "%d", resolved_fd);
		strvec_push(&av, &nav, "-G");
		strvec_push(&av, &nav, gfdbuf);
	}
	if (o->ssh_config != NULL) {
		strvec_push(&av, &nav, "-F");
		strvec_push(&av, &nav, o->ssh_config);
	}
	for (i = 0; i < s->nopts; i++) {
		strvec_push(&av, &nav, "-o");
		strvec_push(&av, &nav, s->opts[i]);
	}
	for (i = 0; i < (size_t)o->verbose && i < 3; i++)
		strvec_push(&av, &nav, "-v");
	if (o->log_target != NULL) {
		strvec_push(&av, &nav, "-l");
		strvec_push(&av, &nav, o->log_target);
	}
	if (o->log_level != NULL) {
		strvec_push(&av, &nav, "-L");
		strvec_push(&av, &nav, o->log_level);
	}
	strvec_push(&av, &nav, "--");
	strvec_push(&av, &nav, s->rs->dest);
	strvec_push(&av, &nav, NULL);
	verbose("starting helper for %s", s->rs->dest);
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		/* Nested in a wrapped program: the helper must go direct. */
		unsetenv("TUNNELWRAP_RULESET");
		unsetenv("TUNNELWRAP_SESSIONS");
		/* Never hold the caller's stdout: $(tunnelwrap ...) must end. */
		if ((devnull = open("/dev/null", O_WRONLY)) != -1) {
			dup2(devnull, STDOUT_FILENO);
			close(devnull);
		}
		execv(helper, (char *const *)av);
		fprintf(stderr, "tunnelwrap: %s: %s\n", helper,
		    strerror(errno));
		_exit(255);
	}
	close(p[1]);
	if (resolved_fd >= 0)
		close(resolved_fd);
	free(av);
	while ((n = read(p[0], buf, sizeof(buf))) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (n >= 2 && memcmp(buf, "ok", 2) == 0)
		return;
	/* It failed and said why; reap it and give up. */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	exit(255);
}

/* Can a process be watched by pidfd here (Linux 5.3 and later)? */
static int
pidfd_works(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

/*
 * Attach to the helper of s, starting it if needed.  The lock makes
 * concurrent launchers start exactly one helper.  With by_pid, ask the
 * helper to count our process rather than this connection, so that we can
 * become COMMAND by exec.
 */
static void
session_attach(struct session_ref *s, const struct opts *o,
    const struct rules *r, int by_pid)
{
	struct proto_attach at;
	char lock[sizeof(s->name.path) + 8];
	int fd, lockfd, st;

	memset(&at, 0, sizeof(at));
	at.pid = (uint32_t)getpid();
	at.flags = by_pid ? PROTO_ATTACH_PID : 0;
	if ((fd = client_dial(s->path)) < 0 && s->name.from_cache) {
		/* Starting a helper: ask ssh afresh, not the cache. */
		name_session(s, 1);
		fd = client_dial(s->path);
	}
	if (fd < 0) {
		snprintf(lock, sizeof(lock), "%s.lock", s->path);
		if ((lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC,
		    0600)) == -1)
			fatal("%s: %s", lock, strerror(errno));
		while (flock(lockfd, LOCK_EX) == -1)
			if (errno != EINTR)
				fatal("lock %s: %s", lock, strerror(errno));
		if ((fd = client_dial(s->path)) < 0) {
			if (fd == -ECONNREFUSED)
				unlink(s->path);	/* stale socket */
			spawn_helper(s, o, r);
			s->spawned = 1;
			if ((fd = client_dial(s->path)) < 0)
				fatal("helper for %s started but its socket "
				    "%s does not answer: %s", s->rs->dest,
				    s->path, strerror(-fd));
		}
		close(lockfd);
	}
	report_differences(s);
	if (by_pid && pidfd_works()) {
		struct proto_hdr h;

		/*
		 * The helper will watch our pid (same kernel, so it can):
		 * its answer would change nothing, so do not wait for it.
		 */
		proto_hdr_init(&h, PROTO_ATTACH, sizeof(at), 0);
		if (proto_send(fd, &h, &at, sizeof(at), -1) == 0) {
			s->by_pid = 1;
			close(fd);
			return;
		}
	}
	st = client_call(fd, PROTO_ATTACH, &at, sizeof(at), NULL);
	if (st == PROTO_ATTACHED_BY_PID) {
		s->by_pid = 1;
		close(fd);
		return;
	}
	if (st != 0)
		fatal("helper for %s: attach failed: %s", s->rs->dest,
		    strerror(st < 0 ? -st : st));
	s->attach_fd = fd;		/* held open while COMMAND runs */
}

static int
rules_tunnel(const struct rules *r)
{
	char buf[1];
	size_t len = rules_dump(r, buf, 0);
	char *text = malloc(len + 1);
	int any;

	if (text == NULL)
		fatal("out of memory");
	rules_dump(r, text, len + 1);
	any = strstr(text, "\ntunnel") != NULL || strncmp(text, "tunnel", 6)
	    == 0 || strstr(text, "default tunnel") != NULL;
	free(text);
	return any;
}

/*
 * Installed multiarch with a 32-bit shim beside it (<P>/lib32/tunnelwrap):
 * name the shim through the loader's $LIB, so 32-bit programs load the
 * 32-bit one and 64-bit programs ours.
 */
static void
dollar_lib(char *shim, size_t len)
{
#ifdef TW_MULTIARCH
	static const char tail[] = "/lib/" TW_MULTIARCH
	    "/tunnelwrap/libtunnelwrap.so";
	size_t sl = strlen(shim), tl = sizeof(tail) - 1;
	char alt[PATH_MAX];

	if (getenv("TUNNELWRAP_SHIM") == NULL && sl > tl &&
	    strcmp(shim + sl - tl, tail) == 0 &&
	    (size_t)snprintf(alt, sizeof(alt), "%.*s/lib32/tunnelwrap/"
	    "libtunnelwrap.so", (int)(sl - tl), shim) < sizeof(alt) &&
	    access(alt, R_OK) == 0)
		snprintf(shim + sl - tl, len - (sl - tl),
		    "/$LIB/tunnelwrap/libtunnelwrap.so");
#else
	(void)shim;
	(void)len;
#endif
}

static void
set_env(struct session_ref *ss, size_t n, const struct rules *r,
    const struct opts *o, int *stay)
{
	static const char *const rel[] = { "libtunnelwrap.so",
#ifdef TW_MULTIARCH
	    "../lib/" TW_MULTIARCH "/tunnelwrap/libtunnelwrap.so",
#endif
	    "../lib/tunnelwrap/libtunnelwrap.so", NULL };
	char shim[PATH_MAX], *preload, *dump, *sessions = NULL, *tmp;
	char log[64], level[16], *tty, self[PATH_MAX];
	const char *old = getenv("LD_PRELOAD");
	ssize_t sl;
	struct stat st;
	size_t len, i;
	int fl;

	find_file(shim, sizeof(shim), "TUNNELWRAP_SHIM", rel);
	dollar_lib(shim, sizeof(shim));
	/*
	 * Ours goes after the user's entries: runtimes that must load first
	 * (ASan, a malloc) keep their place, and we still come before libc.
	 */
	if (old != NULL && *old != '\0' && strstr(old, shim) == NULL) {
		if (asprintf(&preload, "%s %s", old, shim) == -1)
			fatal("out of memory");
	} else if ((preload = strdup(old && *old ? old : shim)) == NULL)
		fatal("out of memory");
	len = rules_dump(r, NULL, 0);
	if ((dump = malloc(len + 1)) == NULL)
		fatal("out of memory");
	rules_dump(r, dump, len + 1);
	for (i = 0; i < n; i++) {
		if (asprintf(&tmp, "%s%s%s=%s", sessions ? sessions : "",
		    sessions ? ";" : "", ss[i].rs->name, ss[i].path) == -1)
			fatal("out of memory");
		free(sessions);
		sessions = tmp;
	}
	setenv("LD_PRELOAD", preload, 1);
	setenv("TUNNELWRAP_RULESET", dump, 1);
	setenv("TUNNELWRAP_SESSIONS", sessions ? sessions : "", 1);
	/* The shim runs static and Go programs through us (--supervise). */
	if ((o->intercept == NULL || strcasecmp(o->intercept, "proxy") != 0) &&
	    (sl = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[sl] = '\0';
		setenv("TUNNELWRAP_LAUNCHER", self, 1);
	} else
		unsetenv("TUNNELWRAP_LAUNCHER");
	/* For prompts and scripts: PS1='${TUNNELWRAP_SESSION:+(tw) }...' */
	setenv("TUNNELWRAP_SESSION", n > 0 ? ss[0].rs->name : "", 1);
	/*
	 * The shim's lines go to our stderr, which it reopens per line: it
	 * keeps no fd.  A terminal it reopens by name; anything else through
	 * /proc/OURPID/fd/2, which needs us alive (*stay).  Into a regular
	 * file they need append mode, or the program's own writes at their
	 * offset would overwrite them; we set it at -v only.  Without -v the
	 * shim says one thing - that a program it cannot reach is being run -
	 * and says it to a terminal or a pipe.
	 */
	*stay = 0;
	tty = isatty(STDERR_FILENO) ? ttyname(STDERR_FILENO) : NULL;
	if (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    o->verbose > 0 && (fl = fcntl(STDERR_FILENO, F_GETFL)) != -1)
		fcntl(STDERR_FILENO, F_SETFL, fl | O_APPEND);
	if (log_level() >= LOG_INFO && tty != NULL && strlen(tty) < sizeof(log))
		snprintf(log, sizeof(log), "%s", tty);
	else if (log_level() >= LOG_INFO && (o->verbose > 0 ||
	    !(fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)))) {
		snprintf(log, sizeof(log), "/proc/%d/fd/2", (int)getpid());
		*stay = 1;
	} else
		log[0] = '\0';
	if (log[0] != '\0') {
		setenv("TUNNELWRAP_LOG", log, 1);
		snprintf(level, sizeof(level), "%d", o->verbose);
		setenv("TUNNELWRAP_VERBOSE", level, 1);
	} else {
		unsetenv("TUNNELWRAP_LOG");
		unsetenv("TUNNELWRAP_VERBOSE");
	}
	verbose("LD_PRELOAD=%s", preload);
	free(preload);
	free(dump);
	free(sessions);
}

/*
 * COMMAND cannot be reached by the shim: point the proxy variables common
 * tools read at the helper's proxy endpoint (SOCKS5 and HTTP on one port,
 * same rules, same session), where the user set none, and say so (with
 * note), or, when the seccomp supervisor reaches it (quiet), only at -v:
 * they then carry what its own resolver cannot, names.
 */
static void
proxy_fallback(const char *command, const struct session_ref *s,
    const struct rules *r, const char *note, int quiet)
{
	static const char *const http_vars[] = { "http_proxy", "https_proxy",
	    "HTTP_PROXY", "HTTPS_PROXY", NULL };
	static const char *const socks_vars[] = { "ALL_PROXY", "all_proxy",
	    NULL };
	struct proto_forward fw;
	char path[PATH_MAX], why[PATH_MAX + 128], err[512], url[64], *dump;
	const char *const *v;
	enum reach why_not;
	size_t len;
	int port;

	if (reach_lookup(command, path, sizeof(path)) == -1 ||
	    (why_not = reach_file(path)) == REACH_OK)
		return;
	reach_why(why_not, path, why, sizeof(why));
	memset(&fw, 0, sizeof(fw));
	fw.kind = PROTO_FWD_DYNAMIC;
	strlcpy(fw.bind, "127.0.0.1", sizeof(fw.bind));
	strlcpy(fw.origin, "proxy for unreachable programs",
	    sizeof(fw.origin));
	len = rules_dump(r, NULL, 0);
	if ((dump = malloc(len + 1)) == NULL)
		fatal("out of memory");
	rules_dump(r, dump, len + 1);
	if (fwdspec_send(s->path, &fw, dump, len, &port, err,
	    sizeof(err)) == -1) {
		free(dump);
		fatal("%s; and no proxy for it: %s", why, err);
	}
	free(dump);
	(quiet ? verbose : logit)("%s%s%s; its proxy-aware connections use "
	    "127.0.0.1:%d (http_proxy, ALL_PROXY)", why, note ? "; " : "",
	    note ? note : "", port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	for (v = http_vars; *v != NULL; v++)
		setenv(*v, url, 0);
	snprintf(url, sizeof(url), "socks5h://127.0.0.1:%d", port);
	for (v = socks_vars; *v != NULL; v++)
		setenv(*v, url, 0);
}

/* COMMAND's exit status as ours; dies of the signal that killed it. */
static int
exit_like(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		struct rlimit nocore = { 0, 0 };

		/* Die of the same signal, without a core of our own. */
		setrlimit(RLIMIT_CORE, &nocore);
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return 255;
}

/*
 * Should COMMAND (found at path) run under the seccomp supervisor?  For
 * static and Go programs, or every program with Intercept=seccomp; never
 * for setuid, setgid or file-capability programs (no_new_privs would run
 * them without their privileges).  Returns 1, or 0 with a note for the
 * proxy fallback's line in note (or "" when there is nothing to say).
 */
static int
want_supervised(const struct opts *o, const char *command, char *path,
    size_t plen, char *note, size_t nlen)
{
	char why[256];
	enum reach rc;

	note[0] = '\0';
	if (o->intercept != NULL && strcasecmp(o->intercept, "proxy") == 0)
		return 0;
	if (reach_lookup(command, path, plen) == -1)
		return 0;
	rc = reach_file(path);
	if (rc == REACH_SETUID || rc == REACH_SETGID || rc == REACH_CAPS)
		return 0;
	if (rc == REACH_OK && (o->intercept == NULL ||
	    strcasecmp(o->intercept, "seccomp") != 0))
		return 0;
	if (supervise_probe(why, sizeof(why)) == -1) {
		snprintf(note, nlen, "no seccomp supervisor here (%s)", why);
		return 0;
	}
	return 1;
}

/*
 * Run COMMAND at path under the seccomp supervisor; returns its exit
 * status, or -1 (a line said why) when the supervisor could not start and
 * nothing ran.
 */
static int
run_supervised(const char *path, char **argv, const struct session_ref *ss,
    size_t n, const struct rules *r, char *why, size_t wlen)
{
	struct supervise_session sv[n ? n : 1];
	struct supervise_conf conf = { r, sv, n };
	size_t i;
	int status;

	for (i = 0; i < n; i++) {
		sv[i].name = ss[i].rs->name;
		sv[i].path = ss[i].path;
	}
	verbose("%s: supervised (seccomp)", path);
	if (supervise_run(path, argv, &conf, &status, why, wlen) == -1)
		return -1;
	return exit_like(status);
}

/*
 * Run COMMAND.  When every helper counts our process (by_pid), become it:
 * no fork, no wait, and its exit status and signals are simply its own.
 * Otherwise fork, hold the attachments, wait, and die the way it died.
 */
static int
run_command(char **argv, int exec_directly)
{
	struct sigaction ign, old_int, old_quit;
	int status;
	pid_t pid;

	if (exec_directly) {
		execvp(argv[0], argv);
		fatal("%s: %s", argv[0], strerror(errno));
	}
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	/* Terminal signals reach COMMAND directly; we only wait for it. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "tunnelwrap: %s: %s\n", argv[0],
		    strerror(errno));
		_exit(255);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid: %s", strerror(errno));
	return exit_like(status);
}

#define NESTED_SESSIONS	16

/*
 * tunnelwrap --supervise PATH ARG0 [ARG...]: how the shim's exec hooks run
 * a static or Go program that a wrapped program starts
 * (preload/hook-exec.c).  Rules and sessions come from the environment
 * the first launcher set; we supervise PATH as we do COMMAND, or, where we
 * cannot, give it the proxy variables as before.  We become its parent in
 * the process that exec'd it: same pid, its exit status ours.
 */
static int
supervise_nested(char **argv)
{
	const char *text = getenv("TUNNELWRAP_RULESET");
	const char *spec = getenv("TUNNELWRAP_SESSIONS");
	const char *logpath = getenv("TUNNELWRAP_LOG");
	const char *v = getenv("TUNNELWRAP_VERBOSE");
	struct supervise_session sv[NESTED_SESSIONS];
	struct supervise_conf conf;
	struct session_ref ref;
	struct rules *r = NULL;
	char *specs, *p, *eq, why[512], note[600];
	size_t n = 0;
	int fd, status, errors = 0, quiet = 1;

	log_init("tunnelwrap", LOG_ERROR);
	if (logpath != NULL && (fd = open(logpath, O_WRONLY | O_APPEND |
	    O_CLOEXEC | O_NOCTTY)) != -1) {
		log_set_fd(fd);
		log_init("tunnelwrap", LOG_INFO + (v ? atoi(v) : 0));
	}
	if (text == NULL || spec == NULL || rules_parse_string(text,
	    "TUNNELWRAP_RULESET", &r, print_error, &errors) == -1) {
		/* Not wrapped after all (a cleared environment): just run. */
		execv(argv[0], argv + 1);
		fatal("%s: %s", argv[0], strerror(errno));
	}
	if ((specs = strdup(spec)) == NULL)
		fatal("out of memory");
	for (p = strtok(specs, ";"); p != NULL && n < NESTED_SESSIONS;
	    p = strtok(NULL, ";")) {
		if ((eq = strchr(p, '=')) == NULL)
			continue;
		*eq = '\0';
		sv[n].name = p;
		sv[n++].path = eq + 1;
	}
	/* The shim left us out (preload/hook-exec.c); the program gets it. */
	if ((v = getenv("TUNNELWRAP_LD_PRELOAD")) != NULL) {
		if (*v != '\0')
			setenv("LD_PRELOAD", v, 1);
		unsetenv("TUNNELWRAP_LD_PRELOAD");
	}
	conf.rules = r;
	conf.sessions = sv;
	conf.nsessions = n;
	if (supervise_probe(why, sizeof(why)) == -1) {
		snprintf(note, sizeof(note), "no seccomp supervisor here (%s)",
		    why);
		quiet = 0;
	}
	memset(&ref, 0, sizeof(ref));
	ref.path = ref.name.path;
	if (n > 0 && strlcpy(ref.name.path, sv[0].path,
	    sizeof(ref.name.path)) < sizeof(ref.name.path))
		proxy_fallback(argv[0], &ref, r, quiet ? NULL : note, quiet);
	if (quiet && supervise_run(argv[0], argv + 1, &conf, &status, why,
	    sizeof(why)) == 0) {
		free(specs);		/* sv[] pointed into it */
		rules_free(r);
		return exit_like(status);
	}
	if (quiet)
		logit("%s: no seccomp supervisor here (%s): only its "
		    "proxy-aware connections are tunneled", argv[0], why);
	unsetenv("TUNNELWRAP_LAUNCHER");
	execv(argv[0], argv + 1);
	fatal("%s: %s", argv[0], strerror(errno));
}

/*
 * -O status: make sure the helper has the DNS responder for these rules,
 * so that status shows its address (the shim asks for the same one).
 * Quietly nothing when the helper is not running.
 */
static void
dns_responder(const struct session_ref *s, const struct rules *r)
{
	struct proto_forward fw;
	char err[512], *dump;
	size_t len;

	memset(&fw, 0, sizeof(fw));
	fw.kind = PROTO_FWD_DNS;
	strlcpy(fw.origin, "DNS responder", sizeof(fw.origin));
	len = rules_dump(r, NULL, 0);
	if ((dump = malloc(len + 1)) == NULL)
		fatal("out of memory");
	rules_dump(r, dump, len + 1);
	if (fwdspec_send(s->path, &fw, dump, len, NULL, err,
	    sizeof(err)) == -1)
		debug("%s", err);
	free(dump);
}

/* -n: print what decides each DEST. */
static int
dry_run(const struct rules *r, char **dests, int n)
{
	struct rules_match m;
	enum rules_action act;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (void *)&ss;
	struct sockaddr_in6 *sin6 = (void *)&ss;
	char host[PROTO_NAMELEN], p4[POOL_TEXT], p6[POOL_TEXT], *colon, *end;
	int i, bad = 0;
	long port;

	pools(r, p4, p6);
	printf("synthetic addresses: %s %s\n", p4, p6);
	for (i = 0; i < n; i++) {
		port = 0;
		if (dests[i][0] == '[') {
			strlcpy(host, dests[i] + 1, sizeof(host));
			if ((end = strchr(host, ']')) == NULL)
				goto bad;
			*end = '\0';
			if (end[1] == ':')
				port = strtol(end + 2, NULL, 10);
		} else {
			strlcpy(host, dests[i], sizeof(host));
			colon = strrchr(host, ':');
			if (colon != NULL && strchr(host, ':') == colon) {
				*colon = '\0';
				port = strtol(colon + 1, &end, 10);
				if (*end != '\0')
					goto bad;
			}
		}
		if (port < 0 || port > 65535)
			goto bad;
		memset(&ss, 0, sizeof(ss));
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			act = rules_match_addr(r, (struct sockaddr *)&ss, &m);
		} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)port);
			act = rules_match_addr(r, (struct sockaddr *)&ss, &m);
		} else
			act = rules_match_name(r, host, (uint16_t)port, &m);
		printf("%s: %s", dests[i], rules_action_name(act));
		if (act == RULES_TUNNEL)
			printf(" via %s", m.session ? m.session : "(none)");
		if (m.pattern != NULL)
			printf(" by %s:%d (%s)\n", m.file, m.line, m.pattern);
		else if (m.file != NULL)
			printf(" by %s:%d (default)\n", m.file, m.line);
		else
			printf(" (built-in default)\n");
		continue;
 bad:
		fprintf(stderr, "tunnelwrap: bad destination \"%s\": expected "
		    "host[:port]\n", dests[i]);
		bad = 1;
	}
	return bad ? 255 : 0;
}

/*
 * -V: our version, and the helper's libssh and OpenSSL.  The launcher
 * itself links neither (every wrapped exec would pay for loading them),
 * so the helper says which it has.
 */
static void
version(void)
{
	char helper[PATH_MAX];

	printf("tunnelwrap %s", TW_VERSION);
	fflush(stdout);
	find_file(helper, sizeof(helper), "TUNNELWRAP_HELPER", helper_paths);
	execl(helper, helper, "-V", (char *)NULL);
	printf("\n");
	exit(0);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct rules *r;
	struct session_ref *ss = NULL;
	const struct rules_session *rs;
	char rundir[PATH_MAX], err[PATH_MAX + 128];
	size_t n = 0, i;
	int ch, st;

	memset(&o, 0, sizeof(o));
	if (argc > 3 && strcmp(argv[1], "--supervise") == 0)
		return supervise_nested(argv + 2);
	log_init("tunnelwrap", LOG_INFO);
	/*
	 * -O status --json: the one long option, taken out before getopt,
	 * and only after -O (a COMMAND may have a --json of its own).
	 */
	for (i = 1, ch = 0; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "-O", 2) == 0)
			ch = 1;
		if (ch && strcmp(argv[i], "--json") == 0) {
			o.json = 1;
			memmove(&argv[i], &argv[i + 1],
			    (argc - i) * sizeof(*argv));
			argc--;
			break;
		}
	}
	while ((ch = getopt(argc, argv, "+ACD:eF:f:H:hi:L:nO:o:R:stVvX")) != -1) {
		switch (ch) {
		case 'A': o.agent = 1; break;
		case 'e': o.exec = 1; break;
		case 't': o.pty = 1; break;
		case 'X': o.x11 = 1; break;
		case 'C': strvec_push(&o.sshopts, &o.nsshopts, "Compression=yes");
			break;
		case 'D': add_fwd(&o, PROTO_FWD_DYNAMIC, optarg); break;
		case 'L': add_fwd(&o, PROTO_FWD_LOCAL, optarg); break;
		case 'R': add_fwd(&o, PROTO_FWD_REMOTE, optarg); break;
		case 's': o.shell = 1; break;
		case 'F': o.ssh_config = optarg; break;
		case 'f': o.rules = optarg; break;
		case 'H': o.dest = optarg; break;
		case 'h': usage(0); break;
		case 'i': strvec_push(&o.identities, &o.nidentities, optarg); break;
		case 'n': o.dry_run = 1; break;
		case 'O': o.ctl = optarg; break;
		case 'o':
			if (strchr(optarg, '=') == NULL || *optarg == '=')
				fatal("bad option \"%s\": expected Key=Value",
				    optarg);
			/* Ours, not ssh's: where and how much the helper logs. */
			if (strncasecmp(optarg, "LogTarget=", 10) == 0) {
				o.log_target = optarg + 10;
				if (strcasecmp(o.log_target, "syslog") != 0 &&
				    strncmp(o.log_target, "file:/", 6) != 0)
					fatal("LogTarget=%s: expected syslog or "
					    "file:/PATH", o.log_target);
			} else if (strncasecmp(optarg, "LogLevel=", 9) == 0) {
				o.log_level = optarg + 9;
				if (log_level_parse(o.log_level) < 0)
					fatal("LogLevel=%s: expected QUIET, "
					    "FATAL, ERROR, INFO, VERBOSE or "
					    "DEBUG1-3", o.log_level);
			} else if (strncasecmp(optarg, "Strict=", 7) == 0) {
				if (strcasecmp(optarg + 7, "yes") == 0)
					o.strict = 1;
				else if (strcasecmp(optarg + 7, "no") == 0)
					o.strict = 0;
				else
					fatal("Strict=%s: expected yes or no",
					    optarg + 7);
			} else if (strncasecmp(optarg, "HelperTimeout=", 14) == 0) {
				/* The shim's: how long a program waits for the helper. */
				char *end;
				double secs = strtod(optarg + 14, &end);

				if (*end != '\0' || end == optarg + 14 ||
				    !(secs > 0) || secs > 86400)
					fatal("HelperTimeout=%s: expected seconds "
					    "(0 < N <= 86400)", optarg + 14);
				setenv("TUNNELWRAP_HELPER_TIMEOUT", optarg + 14, 1);
			} else if (strncasecmp(optarg, "Intercept=", 10) == 0) {
				o.intercept = optarg + 10;
				if (strcasecmp(o.intercept, "auto") != 0 &&
				    strcasecmp(o.intercept, "seccomp") != 0 &&
				    strcasecmp(o.intercept, "proxy") != 0)
					fatal("Intercept=%s: expected auto, "
					    "seccomp or proxy", o.intercept);
			} else
				strvec_push(&o.sshopts, &o.nsshopts, optarg);
			break;
		case 'V': version(); break;
		case 'v': o.verbose++; break;
		default: usage(255);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.shell) {
		/* Everything started from this shell is wrapped (torsocks on). */
		static char *sh[2];
		const char *env = getenv("SHELL");

		if (argc > 0)
			fatal("-s takes no COMMAND: it runs your $SHELL");
		sh[0] = (char *)(env && *env ? env : "/bin/sh");
		argv = sh;
		argc = 1;
	}
	log_init("tunnelwrap", LOG_INFO + (o.verbose > 0 ? o.verbose : 0));
	if (o.ctl != NULL && !ctlcmd_known(o.ctl))
		fatal("unknown -O command \"%s\": expected status, stop or "
		    "top", o.ctl);
	if (o.json && (o.ctl == NULL || strcmp(o.ctl, "status") != 0))
		fatal("--json goes with -O status");
	if ((o.pty || o.x11 || o.agent) && !o.exec)
		fatal("-t, -X and -A go with -e (a remote command)");
	if (o.exec && argc == 0)
		fatal("-e: no remote command given");
	if (o.ctl == NULL && argc == 0 && (o.dry_run || o.nfwds == 0))
		fatal(o.dry_run ? "-n: no destination given" :
		    "no COMMAND given (usage: tunnelwrap [options] [--] "
		    "COMMAND [ARG...])");
	r = load_rules(&o, o.ctl || o.dry_run || o.exec || argc == 0 ? NULL :
	    argv[0]);
	if (r == NULL)
		fatal("no rules for %s and no -H: create %s or give -H "
		    "[user@]host", o.ctl || o.dry_run || argc == 0 ?
		    "tunnelwrap" : argv[0],
		    "~/.config/tunnelwrap/rules");
	if (o.dest != NULL && rules_set_default_dest(r, o.dest) == -1)
		fatal(errno == EINVAL ? "bad -H destination \"%s\": expected "
		    "[user@]host[:port]" : "-H %s: out of memory", o.dest);
	if (o.dry_run) {
		st = dry_run(r, argv, argc);
		rules_free(r);
		return st;
	}
	if (rundir_get(rundir, sizeof(rundir), err, sizeof(err)) == -1)
		fatal("%s", err);
	while ((rs = rules_session_at(r, n)) != NULL)
		n++;
	if (n == 0 && (o.ctl != NULL || o.nfwds > 0 || rules_tunnel(r)))
		fatal("nothing to tunnel through: the rules have no session "
		    "line and no -H was given");
	if ((ss = calloc(n ? n : 1, sizeof(*ss))) == NULL)
		fatal("out of memory");
	for (i = 0; i < n; i++) {
		ss[i].rs = rules_session_at(r, i);
		session_prepare(&ss[i], &o, rundir);
	}
	if (o.ctl != NULL) {
		/* Several sessions: a heading each, or one JSON array. */
		if (o.json && n > 1)
			printf("[");
		for (i = 0, st = 0; i < n; i++) {
			if (o.json && n > 1 && i > 0)
				printf(",");
			else if (n > 1 && !o.json)
				printf("%s[%s]\n", i ? "\n" : "", ss[i].rs->name);
			if (i == 0 && strcmp(o.ctl, "status") == 0)
				dns_responder(&ss[0], r);
			if (ctlcmd_run(ss[i].path, ss[i].rs->dest, o.ctl,
			    o.json) != 0)
				st = 255;
		}
		if (o.json && n > 1)
			printf("]\n");
	} else if (o.exec) {
		session_attach(&ss[0], &o, r, 0);
		send_forwards(&o, &ss[0], r);
		st = remote_run(ss[0].path, argv, argc, o.pty, o.x11, o.agent);
	} else {
		char path[PATH_MAX], note[512];
		int by_pid = argc > 0, stay, supervised = 0;

		for (i = 0; i < n; i++) {
			session_attach(&ss[i], &o, r, argc > 0);
			adopt_pools(&ss[i], r, i == 0);
			by_pid = by_pid && ss[i].by_pid;
		}
		send_forwards(&o, &ss[0], r);
		if (argc > 0 && n > 0) {
			supervised = want_supervised(&o, argv[0], path,
			    sizeof(path), note, sizeof(note));
			proxy_fallback(argv[0], &ss[0], r, note[0] ? note :
			    NULL, supervised);
		}
		set_env(ss, n, r, &o, &stay);
		if (argc > 0 && o.strict &&
		    strict_refuse_io_uring(err, sizeof(err)) == -1)
			fatal("%s", err);
		st = -1;
		if (supervised && (st = run_supervised(path, argv, ss, n, r,
		    note, sizeof(note))) == -1) {
			unsetenv("TUNNELWRAP_LAUNCHER");
			logit("%s: no seccomp supervisor here (%s): only its "
			    "proxy-aware connections are tunneled", path, note);
		}
		/* Forwards alone (no COMMAND): like ssh -N, the helper keeps them. */
		if (st == -1)
			st = argc > 0 ? run_command(argv, by_pid && !stay) : 0;
	}
	for (i = 0; i < n; i++) {
		while (ss[i].nopts > ss[i].rs->noptions + o.nsshopts)
			free((char *)ss[i].opts[--ss[i].nopts]);	/* -i */
		free(ss[i].opts);
		sessname_free(&ss[i].name);
	}
	free(ss);
	free(o.sshopts);
	free(o.identities);
	free(o.fwds);
	rules_free(r);
	return st;
}
