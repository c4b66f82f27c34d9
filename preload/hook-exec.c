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
 * hook-exec.c - programs a wrapped program runs that the shim cannot
 * follow into.
 *
 * A shell, make or a script may run a statically linked or a Go program
 * (kubectl, terraform...).  The shim is not loaded into it, so its
 * connections would go direct without a word.  The exec functions check
 * the file on the way (common/reach.c, as the launcher does for COMMAND):
 * for such a program they add the proxy variables, pointing at the
 * helper's SOCKS5+HTTP endpoint (same rules, same session), where the
 * environment sets none, and say so on the launcher's stderr.  setuid,
 * setgid and file-capability programs are left alone: the loader refuses
 * LD_PRELOAD to them by design, and they are rarely network clients.
 *
 * They also pass the table of tunneled sockets to the new image
 * (TUNNELWRAP_FDS, fdtab.c), for getpeername.
 * Where the launcher left its path (TUNNELWRAP_LAUNCHER), the program
 * is run through it instead (`tunnelwrap --supervise PATH ARGV...`): it
 * stays the program's parent and supervises its connects with a seccomp
 * filter, no proxy variables needed (helper/launcher/supervise.c).
 *
 * These hooks may run in a vfork() child (Python's subprocess does that):
 * nothing here allocates; the new environment lives on the stack.  The
 * shim's one-time set-up may happen there too, which is safe: the memory
 * is the parent's, whose calling thread waits, and the parent keeps what
 * was set up.
 */
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/reach.h"
#include "shim.h"

extern char **environ;

#define ENV_MAX		16384		/* more entries: no variables added */

static const char *const proxy_vars[] = {
	"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
	"ALL_PROXY", "all_proxy",
};
#define NPROXY	(sizeof(proxy_vars) / sizeof(proxy_vars[0]))

/* One exec-family call, to be made with the environment decided here. */
enum exec_kind { EXEC_VE, EXEC_VPE, SPAWN, SPAWNP };
struct exec_call {
	enum exec_kind			 kind;
	const char			*file;	/* as given: a name or a path */
	char *const			*argv;
	pid_t				*pid;	/* posix_spawn* */
	const posix_spawn_file_actions_t *actions;
	const posix_spawnattr_t		*attr;
};

static int	proxy_port;		/* the helper's proxy, once known */

static int
call_real(const struct exec_call *c, char *const envp[])
{
	switch (c->kind) {
	case EXEC_VE:
		return shim_real.execve(c->file, c->argv, envp);
	case EXEC_VPE:
		return shim_real.execvpe(c->file, c->argv, envp);
	case SPAWN:
		return shim_real.posix_spawn(c->pid, c->file, c->actions,
		    c->attr, c->argv, envp);
	case SPAWNP:
		return shim_real.posix_spawnp(c->pid, c->file, c->actions,
		    c->attr, c->argv, envp);
	}
	errno = EINVAL;
	return -1;
}

/*
 * The default session's proxy endpoint for our rules: the one the launcher
 * gets for a COMMAND it cannot reach (the helper shares it by rules text).
 */
static int
get_proxy_port(void)
{
	if (proxy_port <= 0)
		proxy_port = ipc_forward_port(PROTO_FWD_DYNAMIC,
		    "proxy for unreachable programs");
	return proxy_port;
}

static int
env_has(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return 1;
	return 0;
}

/* The value of variable name in envp, or NULL. */
static const char *
env_value(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/*
 * Run the program at path through the launcher named in envp, which
 * supervises it with a seccomp filter (helper/launcher/supervise.c):
 * `tunnelwrap --supervise PATH ARGV...`, in this process (exec) or the
 * spawned one.  Returns 0 when it ran (a spawn), or -1 when it could not
 * (the caller then goes on the old way; an exec that worked never returns).
 */
static int
supervised(const struct exec_call *c, const char *path, char *const envp[],
    const char *why)
{
	const char *launcher = env_value(envp, "TUNNELWRAP_LAUNCHER");
	const char *preload;
	struct exec_call s = *c;
	size_t argc, n, i;
	int saved = errno, r;

	if (launcher == NULL || *launcher != '/' || c->argv == NULL ||
	    c->argv[0] == NULL)
		return -1;
	for (argc = 0; c->argv[argc] != NULL; argc++)
		if (argc > ENV_MAX)
			return -1;
	for (n = 0; envp[n] != NULL; n++)
		if (n > ENV_MAX)
			return -1;
	if ((preload = env_value(envp, "LD_PRELOAD")) == NULL)
		preload = "";
	{
		const char *av[argc + 4], *env[n + 1];
		char saved_preload[sizeof("TUNNELWRAP_LD_PRELOAD=") +
		    strlen(preload)];

		/*
		 * The launcher is no guest: it runs without the shim, and puts
		 * LD_PRELOAD back for the program (TUNNELWRAP_LD_PRELOAD).
		 */
		snprintf(saved_preload, sizeof(saved_preload),
		    "TUNNELWRAP_LD_PRELOAD=%s", preload);
		for (i = 0; i < n; i++)
			env[i] = strncmp(envp[i], "LD_PRELOAD=", 11) == 0 ?
			    saved_preload : envp[i];
		env[n] = NULL;

		av[0] = launcher;
		av[1] = "--supervise";
		av[2] = path;
		memcpy(av + 3, c->argv, (argc + 1) * sizeof(av[0]));
		s.kind = c->kind == EXEC_VE || c->kind == EXEC_VPE ? EXEC_VE :
		    SPAWN;
		s.file = launcher;
		s.argv = (char *const *)av;
		shim_log(1, "%s; its connections are supervised (seccomp)",
		    why);
		errno = saved;
		r = call_real(&s, (char *const *)env);
	}
	if (r == 0 && (c->kind == SPAWN || c->kind == SPAWNP))
		return 0;
	errno = saved;
	return -1;
}

/*
 * Run c, adding the proxy variables to envp if c->file is a program the
 * shim cannot reach.  Both arrays live in this frame until the call.
 */
static int
exec_reach(const struct exec_call *c, char *const envp[])
{
	const struct shim *st = shim_get();
	char path[PATH_MAX], why[PATH_MAX + 128];
	enum reach r;
	size_t n, i, k;
	int port, saved;

	if (!st->active || envp == NULL)
		return call_real(c, envp);
	saved = errno;
	if ((c->kind == EXEC_VE || c->kind == SPAWN ?
	    (strlen(c->file) < sizeof(path) ?
	    (strcpy(path, c->file), 0) : -1) :
	    reach_lookup(c->file, path, sizeof(path))) == -1 ||
	    ((r = reach_file(path)) != REACH_STATIC && r != REACH_GO)) {
		errno = saved;
		return call_real(c, envp);
	}
	reach_why(r, path, why, sizeof(why));
	if (supervised(c, path, envp, why) == 0)
		return 0;
	for (n = 0; envp[n] != NULL; n++)
		;
	if (n > ENV_MAX || (port = get_proxy_port()) < 0) {
		shim_log(0, "%s; no proxy could be set up for it: its "
		    "connections are not tunneled", why);
		errno = saved;
		return call_real(c, envp);
	}
	{
		const char *env[n + NPROXY + 1];
		char vars[NPROXY][64];

		memcpy(env, envp, n * sizeof(env[0]));
		for (i = 0, k = n; i < NPROXY; i++) {
			if (env_has(envp, proxy_vars[i]))
				continue;	/* the user's choice stands */
			snprintf(vars[i], sizeof(vars[i]), "%s=%s://127.0.0.1:%d",
			    proxy_vars[i], i < 4 ? "http" : "socks5h", port);
			env[k++] = vars[i];
		}
		env[k] = NULL;
		shim_log(0, "%s; its proxy-aware connections use "
		    "127.0.0.1:%d (http_proxy, ALL_PROXY)", why, port);
		errno = saved;
		return call_real(c, (char *const *)env);
	}
}

/*
 * Run c with envp plus TUNNELWRAP_FDS, the tunneled sockets the new image
 * inherits (so its getpeername still names their destinations), then as
 * exec_reach.  A TUNNELWRAP_FDS already there (ours, from before an exec)
 * is replaced.
 */
static int
exec_checked(const struct exec_call *c, char *const envp[])
{
	static const char var[] = "TUNNELWRAP_FDS";
	const struct shim *st = shim_get();
	char fds[4096];
	size_t n, i, k, len;
	int saved = errno;

	if (!st->active || envp == NULL)
		return call_real(c, envp);
	len = snprintf(fds, sizeof(fds), "%s=", var);
	n = fdtab_export(fds + len, sizeof(fds) - len, st->sessions,
	    st->nsessions);
	errno = saved;
	if (n == 0 && !env_has(envp, var))
		return exec_reach(c, envp);
	for (n = 0; envp[n] != NULL; n++)
		;
	if (n > ENV_MAX)
		return exec_reach(c, envp);
	{
		const char *env[n + 2];

		for (i = 0, k = 0; i < n; i++)
			if (strncmp(envp[i], fds, len) != 0)
				env[k++] = envp[i];
		if (fds[len] != '\0')
			env[k++] = fds;
		env[k] = NULL;
		return exec_reach(c, (char *const *)env);
	}
}

/*
 * The two forms every exec hook comes down to, called directly: the
 * exported names could be a program's own functions (the shim's calls
 * never pass through the program's).
 */
static int
do_execve(const char *path, char *const argv[], char *const envp[])
{
	struct exec_call c = { EXEC_VE, path, argv, NULL, NULL, NULL };

	return exec_checked(&c, envp);
}

static int
do_execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct exec_call c = { EXEC_VPE, file, argv, NULL, NULL, NULL };

	return exec_checked(&c, envp);
}

SHIM_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	return do_execve(path, argv, envp);
}

SHIM_EXPORT int
execv(const char *path, char *const argv[])
{
	return do_execve(path, argv, environ);
}

SHIM_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_execvpe(file, argv, envp);
}

SHIM_EXPORT int
execvp(const char *file, char *const argv[])
{
	return do_execvpe(file, argv, environ);
}

/* The list forms: gather the arguments, then as the vector forms. */
#define GATHER_ARGS(arg0, argv, after)				\
	size_t argc_ = 1;						\
	va_list ap_;							\
									\
	va_start(ap_, arg0);						\
	while (va_arg(ap_, const char *) != NULL)			\
		argc_++;						\
	va_end(ap_);							\
	const char *argv[argc_ + 1];					\
	argv[0] = arg0;							\
	va_start(ap_, arg0);						\
	for (size_t i_ = 1; i_ <= argc_; i_++)				\
		argv[i_] = va_arg(ap_, const char *);			\
	after;								\
	va_end(ap_)

SHIM_EXPORT int
execl(const char *path, const char *arg, ...)
{
	GATHER_ARGS(arg, argv, (void)0);
	return do_execve(path, (char *const *)argv, environ);
}

SHIM_EXPORT int
execlp(const char *file, const char *arg, ...)
{
	GATHER_ARGS(arg, argv, (void)0);
	return do_execvpe(file, (char *const *)argv, environ);
}

SHIM_EXPORT int
execle(const char *path, const char *arg, ...)
{
	char *const *envp;

	GATHER_ARGS(arg, argv, envp = va_arg(ap_, char *const *));
	return do_execve(path, (char *const *)argv, envp);
}

SHIM_EXPORT int
posix_spawn(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	struct exec_call c = { SPAWN, path, argv, pid, actions, attr };

	return exec_checked(&c, envp);
}

SHIM_EXPORT int
posix_spawnp(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	struct exec_call c = { SPAWNP, file, argv, pid, actions, attr };

	return exec_checked(&c, envp);
}
