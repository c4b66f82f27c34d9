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
 * shim.c - start-up of the shim: real symbols, state from the environment,
 * logging.
 *
 * The launcher hands everything over in the environment, so children and
 * exec'd programs inherit it:
 *   TUNNELWRAP_RULESET  normalized rules (rules_dump), origins included
 *   TUNNELWRAP_SESSIONS "name=socket;..." helper control sockets, default
 *                       session first
 *   TUNNELWRAP_VERBOSE  -v count; TUNNELWRAP_LOG the launcher's stderr
 *   TUNNELWRAP_FDS      tunneled sockets inherited across exec (fdtab.c)
 *   TUNNELWRAP_HELPER_TIMEOUT  seconds any wait on the helper may last
 *                       (-o HelperTimeout=; default SHIM_HELPER_TIMEOUT)
 * Without a ruleset the shim stays passive: every hook calls libc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct real_fns shim_real;
static struct shim shim_state;

#define SHIM_HELPER_TIMEOUT	10	/* seconds; see helper_timeout() */
static pthread_once_t shim_once = PTHREAD_ONCE_INIT;

static void
resolve_real(void)
{
#define REAL(name) shim_real.name = (__typeof__(shim_real.name))dlsym(RTLD_NEXT, #name)
	REAL(connect);
	REAL(getaddrinfo);
	REAL(freeaddrinfo);
	REAL(getnameinfo);
	REAL(gethostbyname);
	REAL(gethostbyname2);
	REAL(gethostbyname_r);
	REAL(gethostbyname2_r);
	REAL(gethostbyaddr);
	REAL(gethostbyaddr_r);
	REAL(getpeername);
	REAL(getsockopt);
	REAL(sendto);
	REAL(sendmsg);
	REAL(recvmsg);
	REAL(sendmmsg);
	REAL(listen);
	REAL(write);
	REAL(writev);
	REAL(res_nquery);
	REAL(res_nsearch);
	REAL(res_nquerydomain);
	REAL(res_nsend);
	REAL(getaddrinfo_a);
	REAL(execve);
	REAL(execvpe);
	REAL(posix_spawn);
	REAL(posix_spawnp);
#undef REAL
}

static void
ignore_errors(void *arg, const char *msg)
{
	(void)arg;
	shim_log(1, "%s", msg);
}

/* TUNNELWRAP_SESSIONS: "name=socket;name=socket", default first. */
static int
load_sessions(struct shim *st, const char *spec)
{
	struct shim_session *sv;
	const char *p, *eq, *end;
	size_t n = 1, i;

	for (p = spec; *p != '\0'; p++)
		if (*p == ';')
			n++;
	if (*spec == '\0')
		return 0;
	if ((sv = calloc(n, sizeof(*sv))) == NULL)
		return -1;
	for (i = 0, p = spec; i < n; i++, p = end + 1) {
		end = strchrnul(p, ';');
		if ((eq = memchr(p, '=', end - p)) == NULL ||
		    (size_t)(end - eq - 1) >= sizeof(sv[i].path) ||
		    (sv[i].name = strndup(p, eq - p)) == NULL)
			return -1;
		memcpy(sv[i].path, eq + 1, end - eq - 1);
		if (*end == '\0')
			break;
	}
	st->sessions = sv;
	st->nsessions = n;
	return 0;
}

static void
prefork(void)
{
	fdtab_lock_all();
	names_lock_all();
}

static void
postfork(void)
{
	names_unlock_all();
	fdtab_unlock_all();
}

/*
 * The helper answers in well under a millisecond; a few seconds of silence
 * means it is stopped or stuck.  Ten seconds leaves room for a loaded
 * machine and still ends a hang.
 */
static int
helper_timeout(void)
{
	const char *v = getenv("TUNNELWRAP_HELPER_TIMEOUT");
	char *end;
	double secs;

	if (v == NULL || *v == '\0')
		return SHIM_HELPER_TIMEOUT * 1000;
	secs = strtod(v, &end);
	if (*end != '\0' || !(secs > 0) || secs > 86400)
		return SHIM_HELPER_TIMEOUT * 1000;
	return secs * 1000 < 1 ? 1 : (int)(secs * 1000);
}

static void
shim_init(void)
{
	struct shim *st = &shim_state;
	const char *text, *sessions, *v, *log;
	int saved = errno;

	resolve_real();
	ipc_init();
	st->helper_timeout_ms = helper_timeout();
	pthread_atfork(prefork, postfork, postfork);
	if ((v = getenv("TUNNELWRAP_VERBOSE")) != NULL)
		st->verbose = atoi(v);
	if ((log = getenv("TUNNELWRAP_LOG")) != NULL &&
	    strlen(log) < sizeof(st->logpath))
		strcpy(st->logpath, log);
	text = getenv("TUNNELWRAP_RULESET");
	sessions = getenv("TUNNELWRAP_SESSIONS");
	if (text == NULL || sessions == NULL)
		goto out;
	if (rules_parse_string(text, "TUNNELWRAP_RULESET", &st->rules,
	    ignore_errors, NULL) == -1)
		goto out;
	if (load_sessions(st, sessions) == -1) {
		rules_free(st->rules);
		st->rules = NULL;
		goto out;
	}
	/* Sockets tunneled by the image that exec'ed us (hook-exec.c). */
	fdtab_import(getenv("TUNNELWRAP_FDS"), st->sessions, st->nsessions);
	st->ruleset = strdup(text);	/* NULL: no proxy for exec'd programs */
	rules_synthetic_v4(st->rules, &st->pools.v4, &st->pools.v4len);
	rules_synthetic_v6(st->rules, &st->pools.v6, &st->pools.v6len);
	st->active = 1;
 out:
	errno = saved;
}

const struct shim *
shim_get(void)
{
	pthread_once(&shim_once, shim_init);
	return &shim_state;
}

const struct shim_session *
shim_session(const char *name)
{
	const struct shim *st = shim_get();
	size_t i;

	if (st->nsessions == 0)
		return NULL;
	if (name == NULL)
		return &st->sessions[0];
	for (i = 0; i < st->nsessions; i++)
		if (strcmp(st->sessions[i].name, name) == 0)
			return &st->sessions[i];
	return NULL;
}

uint16_t
shim_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

const struct sockaddr *
shim_unmap(const struct sockaddr *sa, struct sockaddr_in *buf)
{
	return synth_unmap(sa, buf);
}

int
shim_is_synthetic(const struct sockaddr *sa)
{
	const struct shim *st = shim_get();

	return st->active && synth_contains(&st->pools, sa);
}

/*
 * The log goes to the launcher's stderr, reopened per line: the program may
 * have closed or reused any descriptor we could have kept.
 */
void
shim_log(int level, const char *fmt, ...)
{
	const struct shim *st = &shim_state;
	char buf[512];
	va_list ap;
	int saved = errno, fd, n, m;

	if (st->verbose < level || st->logpath[0] == '\0')
		return;
	n = snprintf(buf, sizeof(buf), "tunnelwrap[%d]: ", (int)getpid());
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		goto out;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if ((fd = open(st->logpath, O_WRONLY | O_APPEND | O_CLOEXEC |
	    O_NOCTTY)) == -1)
		goto out;
	if (write(fd, buf, n) < 0) {
		/* nothing sensible to do: logging is best effort */
	}
	close(fd);
 out:
	errno = saved;
}
