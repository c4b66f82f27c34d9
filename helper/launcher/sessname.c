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
 * sessname.c - which helper serves a session: one per account and
 * bastion, however the user names them.
 *
 * `-H bastion`, `-H root@192.0.2.1`, `session gw root@192.0.2.1:22
 * IdentityFile=key` all reach one account on one bastion, and should share
 * one helper, one SSH connection, one password prompt.  So the helper's
 * socket is named like ssh's ControlPath %C: by a hash of what ssh -G
 * resolves the destination to - user, hostname, port, and the route there
 * (ProxyJump, ProxyCommand: one address behind two jumps may be two hosts).
 * The local host name that %C adds is left out: the runtime directory is
 * local to this machine.  Options that do not change the account (keys,
 * known_hosts, compression) do not change the name; a later invocation
 * that gives other ones uses the running helper as it is.
 *
 * ssh -G is a fork and exec of ssh, 2-45 ms here, against a launcher whose
 * whole per-exec overhead is under a millisecond.  So the answer is cached
 * in the runtime directory: N.<hash of the inputs> holds the resolved name
 * and a stamp (device, inode, size, mtime) of every configuration file
 * ssh -G read for it - the -F file or ~/.ssh/config and
 * /etc/ssh/ssh_config, every file they Include, and the directories the
 * Include patterns look in, which catches a file added there.  A lookup
 * reads the entry and stats those files: some microseconds.  Any change,
 * and ssh -G is asked again.  What a stamp cannot see (a `Match exec`
 * whose answer changed, DNS under CanonicalizeHostname) is seen once the
 * helper has gone, since starting one always asks ssh afresh.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/string.h>

#include "../common/proto.h"
#include "log.h"
#include "rundir.h"
#include "sessname.h"
#include "strvec.h"

#define CACHE_MAGIC	"tunnelwrap-name 1"
#define CACHE_MAX	16384		/* bytes of one cache entry */
#define CONF_MAX	(256 << 10)	/* a helper's ssh -G record */
#define INCLUDE_DEPTH	16		/* as ssh's READCONF_MAX_DEPTH */

/* The stamps of the configuration files behind one resolution. */
struct stamps {
	char	*text;		/* one line per file */
	size_t	 len, cap;
	int	 unusable;	/* a name we cannot write down: no cache */
};

static void
stamps_add(struct stamps *st, const char *line)
{
	size_t n = strlen(line);

	if (st->len + n + 1 > st->cap) {
		st->cap = (st->len + n + 1) * 2;
		if ((st->text = realloc(st->text, st->cap)) == NULL)
			fatal("out of memory");
	}
	memcpy(st->text + st->len, line, n + 1);
	st->len += n;
}

/* "F dev ino size sec nsec PATH" for a file or directory, "A PATH" absent. */
static void
stamp_line(const char *path, char *buf, size_t len)
{
	struct stat sb;

	if (stat(path, &sb) == -1)
		snprintf(buf, len, "A %s\n", path);
	else
		snprintf(buf, len, "F %llu %llu %lld %lld %ld %s\n",
		    (unsigned long long)sb.st_dev,
		    (unsigned long long)sb.st_ino, (long long)sb.st_size,
		    (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec,
		    path);
}

static void
stamp(struct stamps *st, const char *path)
{
	char line[PATH_MAX + 128];

	if (strchr(path, '\n') != NULL || strlen(path) >= PATH_MAX) {
		st->unusable = 1;
		return;
	}
	stamp_line(path, line, sizeof(line));
	stamps_add(st, line);
}

/* Next word of an ssh_config line: blank-separated, "quoted" allowed. */
static char *
next_word(char **p)
{
	char *s = *p, *w;

	s += strspn(s, " \t=");
	if (*s == '\0')
		return NULL;
	if (*s == '"') {
		w = ++s;
		s = strchrnul(s, '"');
	} else {
		w = s;
		s += strcspn(s, " \t");
	}
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return w;
}

/*
 * Stamp file and, recursively, what it Includes.  As ssh reads them,
 * relative patterns are under base (~/.ssh for user files, /etc/ssh for
 * the system's) and ~/ is the home directory.
 */
static void
stamp_config(struct stamps *st, const char *file, const char *base,
    const char *home, int depth)
{
	char *line = NULL, *p, *w, pat[PATH_MAX], dir[PATH_MAX];
	size_t cap = 0, i;
	glob_t g;
	FILE *f;

	stamp(st, file);
	if (depth >= INCLUDE_DEPTH || (f = fopen(file, "re")) == NULL)
		return;
	while (getline(&line, &cap, f) != -1) {
		line[strcspn(line, "\r\n")] = '\0';
		p = line;
		if ((w = next_word(&p)) == NULL || strcasecmp(w, "include"))
			continue;
		while ((w = next_word(&p)) != NULL) {
			if (strncmp(w, "~/", 2) == 0)
				snprintf(pat, sizeof(pat), "%s/%s", home, w + 2);
			else if (*w != '/')
				snprintf(pat, sizeof(pat), "%s/%s", base, w);
			else
				strlcpy(pat, w, sizeof(pat));
			/* The directory too: a file added there is a change. */
			strlcpy(dir, pat, sizeof(dir));
			stamp(st, dirname(dir));
			if (glob(pat, 0, NULL, &g) != 0)
				continue;
			for (i = 0; i < g.gl_pathc; i++)
				stamp_config(st, g.gl_pathv[i], base, home,
				    depth + 1);
			globfree(&g);
		}
	}
	free(line);
	fclose(f);
}

/* The stamps of every file ssh -G reads for q. */
static void
stamp_all(struct stamps *st, const struct sshg_query *q)
{
	const struct passwd *pw = getpwuid(getuid());
	char base[PATH_MAX], user[PATH_MAX];
	const char *home;

	/* ssh finds ~ in the passwd entry, not in $HOME. */
	home = pw != NULL ? pw->pw_dir : getenv("HOME");
	if (home == NULL) {
		st->unusable = 1;
		return;
	}
	if ((size_t)snprintf(base, sizeof(base), "%s/.ssh", home) >=
	    sizeof(base) - 8) {
		st->unusable = 1;
		return;
	}
	if (q->ssh_config != NULL) {
		if (strcmp(q->ssh_config, "none") != 0)
			stamp_config(st, q->ssh_config, base, home, 0);
		return;
	}
	if ((size_t)snprintf(user, sizeof(user), "%s/config", base) >=
	    sizeof(user))
		return;
	stamp_config(st, user, base, home, 0);
	stamp_config(st, "/etc/ssh/ssh_config", "/etc/ssh", home, 0);
}

/* Is every stamp in text (lines as stamp_line writes them) still true? */
static int
stamps_hold(char *text)
{
	char *line, *path, now[PATH_MAX + 128];

	for (line = strtok(text, "\n"); line != NULL;
	    line = strtok(NULL, "\n")) {
		if (line[0] == 'A' && line[1] == ' ')
			path = line + 2;
		else if (line[0] == 'F' && line[1] == ' ') {
			/* Six fields, then the path. */
			int i;

			for (path = line, i = 0; i < 6 && path != NULL; i++)
				if ((path = strchr(path, ' ')) != NULL)
					path++;
			if (path == NULL)
				return 0;
		} else
			return 0;
		stamp_line(path, now, sizeof(now));
		now[strcspn(now, "\n")] = '\0';
		if (strcmp(now, line) != 0)
			return 0;
	}
	return 1;
}

/* The cache entry's file: N.<hash of everything ssh -G is given>. */
static int
cache_path(char *buf, size_t len, const char *rundir,
    const struct sshg_query *q)
{
	const char **v = NULL;
	char cfg[PATH_MAX];
	size_t n = 0, i;
	int r;

	strvec_push(&v, &n, CACHE_MAGIC);
	strvec_push(&v, &n, q->dest);
	/* A relative -F means another file in another directory. */
	if (q->ssh_config == NULL)
		strvec_push(&v, &n, "");
	else if (strcmp(q->ssh_config, "none") != 0 &&
	    realpath(q->ssh_config, cfg) != NULL)
		strvec_push(&v, &n, cfg);
	else
		strvec_push(&v, &n, q->ssh_config);
	for (i = 0; i < q->noptions; i++)
		strvec_push(&v, &n, q->options[i]);
	strvec_push(&v, &n, "-i");
	for (i = 0; i < q->nidentities; i++)
		strvec_push(&v, &n, q->identities[i]);
	r = proto_hashed_path(buf, len, rundir, "N.", v, n);
	free(v);
	return r;
}

/* The canonical name from a valid cache entry at path, else -1. */
static int
cache_lookup(const char *path, char *canon, size_t len)
{
	char buf[CACHE_MAX], *nl, *name;

	if (rundir_read_file(path, buf, sizeof(buf)) == -1 ||
	    strncmp(buf, CACHE_MAGIC "\n", sizeof(CACHE_MAGIC)) != 0)
		return -1;
	name = buf + sizeof(CACHE_MAGIC);
	if ((nl = strchr(name, '\n')) == NULL || nl == name)
		return -1;
	*nl = '\0';
	if (!stamps_hold(nl + 1) || strlcpy(canon, name, len) >= len)
		return -1;
	return 0;
}

static void
cache_store(const char *path, const char *canon, const struct stamps *st)
{
	char *text;

	if (st->unusable || strchr(canon, '\n') != NULL)
		return;
	if (asprintf(&text, "%s\n%s\n%s", CACHE_MAGIC, canon,
	    st->text ? st->text : "") == -1)
		fatal("out of memory");
	if (strlen(text) < CACHE_MAX && rundir_write_file(path, text) == -1)
		debug("%s: %s", path, strerror(errno));
	free(text);
}

/*
 * user@host:port, then the route if any: what identifies one account on
 * one bastion.
 */
static int
canonical(char *buf, size_t len, const char *user, const char *host,
    const char *port, const char *jump, const char *command)
{
	int v6 = strchr(host, ':') != NULL, n;

	n = snprintf(buf, len, "%s@%s%s%s:%s%s%s%s%s", user, v6 ? "[" : "", host,
	    v6 ? "]" : "", port, jump ? " via " : "", jump ? jump : "",
	    command ? " by command " : "", command ? command : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* From ssh -G's output. */
static int
canonical_resolved(char *buf, size_t len, const char *out)
{
	char user[256], host[1025], port[8], jump[1024], cmd[2048];
	const char *j, *c;

	if (sshg_value(out, "user", user, sizeof(user)) == NULL ||
	    sshg_value(out, "hostname", host, sizeof(host)) == NULL ||
	    sshg_value(out, "port", port, sizeof(port)) == NULL)
		return -1;
	j = sshg_value(out, "proxyjump", jump, sizeof(jump));
	c = sshg_value(out, "proxycommand", cmd, sizeof(cmd));
	return canonical(buf, len, user, host, port, j && strcmp(j, "none") ?
	    j : NULL, c && strcmp(c, "none") ? c : NULL);
}

/* Without ssh: the destination as written, with ssh's defaults. */
static int
canonical_plain(char *buf, size_t len, const char *dest)
{
	const struct passwd *pw;
	char user[256], host[1025], port[8];
	int p;

	if (sshg_split_dest(dest, user, sizeof(user), host, sizeof(host),
	    &p) == -1)
		return -1;
	if (*user == '\0' && (pw = getpwuid(getuid())) != NULL)
		strlcpy(user, pw->pw_name, sizeof(user));
	snprintf(port, sizeof(port), "%d", p ? p : 22);
	return canonical(buf, len, user, host, port, NULL, NULL);
}

int
sessname_find(struct sessname *sn, const char *rundir,
    const struct sshg_query *q, int fresh, char *err, size_t errlen)
{
	struct stamps st = { NULL, 0, 0, 0 };
	char cpath[PATH_MAX], serr[512];
	const char *name;
	int rc;

	free(sn->resolved);
	sn->resolved = NULL;
	sn->from_cache = 0;
	if (cache_path(cpath, sizeof(cpath), rundir, q) == -1) {
		snprintf(err, errlen, "runtime directory %s: path too long",
		    rundir);
		return -1;
	}
	if (!fresh && cache_lookup(cpath, sn->canon, sizeof(sn->canon)) == 0) {
		sn->from_cache = 1;
		goto named;
	}
	/* Stamp before asking: a change meanwhile then fails the stamp. */
	stamp_all(&st, q);
	rc = sshg_resolve(q, &sn->resolved, serr, sizeof(serr));
	if (rc == 127) {
		if (canonical_plain(sn->canon, sizeof(sn->canon), q->dest) ==
		    -1)
			goto bad;
	} else if (rc != 0) {
		snprintf(err, errlen, "ssh configuration for %s: %s", q->dest,
		    *serr ? serr : "ssh -G failed");
		goto fail;
	} else if (canonical_resolved(sn->canon, sizeof(sn->canon),
	    sn->resolved) == -1)
		goto bad;
	else
		cache_store(cpath, sn->canon, &st);
	free(st.text);
 named:
	name = sn->canon;
	if (proto_hashed_path(sn->path, sizeof(sn->path), rundir, "S.", &name,
	    1) == -1) {
		snprintf(err, errlen, "runtime directory %s: path too long",
		    rundir);
		return -1;
	}
	return 0;
 bad:
	snprintf(err, errlen, "bad destination \"%s\": expected "
	    "[user@]host[:port]", q->dest);
 fail:
	free(st.text);
	free(sn->resolved);
	sn->resolved = NULL;
	return -1;
}

/* The values of every "key ..." line of an ssh -G output, joined. */
static void
values_of(const char *out, const char *key, size_t klen, char **buf,
    size_t *cap)
{
	const char *p, *eol;
	size_t len = 0, n;

	for (p = out; *p != '\0'; p = *eol ? eol + 1 : eol) {
		eol = strchrnul(p, '\n');
		if ((size_t)(eol - p) < klen || strncmp(p, key, klen) != 0 ||
		    (p[klen] != ' ' && p + klen != eol))
			continue;
		n = eol - p;
		if (len + n + 2 > *cap) {
			*cap = (len + n + 2) * 2;
			if ((*buf = realloc(*buf, *cap)) == NULL)
				fatal("out of memory");
		}
		memcpy(*buf + len, p, n);
		len += n;
		(*buf)[len++] = '\n';
	}
	if (*cap == 0 && (*buf = malloc(*cap = 64)) == NULL)
		fatal("out of memory");
	(*buf)[len] = '\0';
}

/* Is key one of the ", "-separated words of list? */
static int
listed(const char *list, const char *key)
{
	size_t kl = strlen(key);
	const char *f;

	for (f = list; (f = strstr(f, key)) != NULL; f += kl)
		if ((f == list || f[-1] == ' ') &&
		    (f[kl] == '\0' || f[kl] == ','))
			return 1;
	return 0;
}

/* Add to list the keys of a whose values differ in b (once each). */
static int
differ_keys(const char *a, const char *b, char *list, size_t len)
{
	char *va = NULL, *vb = NULL, key[128];
	size_t ca = 0, cb = 0, klen;
	const char *p, *eol;
	int n = 0;

	for (p = a; *p != '\0'; p = *eol ? eol + 1 : eol) {
		eol = strchrnul(p, '\n');
		klen = strcspn(p, " \n");
		if (klen == 0 || klen >= sizeof(key))
			continue;
		memcpy(key, p, klen);
		key[klen] = '\0';
		/* The name as typed: how it was named, not an option. */
		if (strcmp(key, "host") == 0)
			continue;
		if (listed(list, key))
			continue;
		values_of(a, key, klen, &va, &ca);
		values_of(b, key, klen, &vb, &cb);
		if (strcmp(va, vb) == 0)
			continue;
		if (*list != '\0')
			strlcat(list, ", ", len);
		strlcat(list, key, len);
		n++;
	}
	free(va);
	free(vb);
	return n;
}

int
sessname_differ(struct sessname *sn, const struct sshg_query *q, char *buf,
    size_t len)
{
	char conf[PATH_MAX], err[512], *theirs;
	int count = -1;

	buf[0] = '\0';
	if (sn->resolved == NULL && sshg_resolve(q, &sn->resolved, err,
	    sizeof(err)) != 0) {
		free(sn->resolved);
		sn->resolved = NULL;
		return -1;
	}
	if ((theirs = malloc(CONF_MAX)) == NULL)
		fatal("out of memory");
	snprintf(conf, sizeof(conf), "%s.conf", sn->path);
	if (rundir_read_file(conf, theirs, CONF_MAX) != -1) {
		/* Both ways: a key only one side has differs too. */
		count = differ_keys(sn->resolved, theirs, buf, len);
		count += differ_keys(theirs, sn->resolved, buf, len);
	}
	free(theirs);
	return count;
}

void
sessname_free(struct sessname *sn)
{
	free(sn->resolved);
	sn->resolved = NULL;
}
