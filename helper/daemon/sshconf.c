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
 * sshconf.c - ssh configuration, resolved the way ssh itself resolves it.
 *
 * Users expect ~/.ssh/config (Host/Match blocks, Include, tokens), -F, -o,
 * -i to mean exactly what they mean to ssh.  The one program that knows
 * that for certain is ssh: `ssh -G` prints the effective configuration for
 * a destination without connecting.  We run it once at helper start and
 * feed libssh the resolved values.  Only when ssh is not installed do we
 * fall back to libssh's own config parser.
 *
 * Cipher order is chosen deliberately: ssh and libssh both put
 * chacha20-poly1305 first, but with AES-NI aes128-gcm costs ~1.6x less CPU
 * per byte, so unless the user set Ciphers we offer aes128-gcm first.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "helper.h"
#include "log.h"
#include "sshconf.h"
#include "sshg.h"
#include "rundir.h"

#define CIPHERS_AESNI	"aes128-gcm@openssh.com,chacha20-poly1305@openssh.com," \
			"aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"
#define CIPHERS_NOAES	"chacha20-poly1305@openssh.com,aes128-gcm@openssh.com," \
			"aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"

static int
cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes");
#else
	return 0;
#endif
}

/* "~/x" -> "$HOME/x"; returns a static buffer. */
static const char *
tilde(const char *path)
{
	static char buf[PATH_MAX];
	const char *home = getenv("HOME");

	if (path[0] != '~' || path[1] != '/' || home == NULL)
		return path;
	snprintf(buf, sizeof(buf), "%s%s", home, path + 1);
	return buf;
}

/* Parse an ssh time value ("60", "10m", "1h30m"); -1 if malformed. */
static int
parse_time(const char *s)
{
	long total = 0, n;
	char *ep;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		n = strtol(s, &ep, 10);
		if (ep == s || n < 0)
			return -1;
		switch (*ep) {
		case '\0': case 's': case 'S': break;
		case 'm': case 'M': n *= 60; break;
		case 'h': case 'H': n *= 3600; break;
		case 'd': case 'D': n *= 86400; break;
		case 'w': case 'W': n *= 604800; break;
		default: return -1;
		}
		total += n;
		if (total > INT_MAX / 2)
			return -1;
		s = *ep ? ep + 1 : ep;
	}
	return (int)total;
}

static void
set_opt(ssh_session s, enum ssh_options_e o, const void *v, const char *what)
{
	if (ssh_options_set(s, o, v) != SSH_OK)
		fatal("ssh option %s: %s", what, ssh_get_error(s));
}

/* Append a copy of path, ~ expanded, to a list. */
static void
add_path(char ***list, size_t *n, const char *path)
{
	if ((*list = reallocarray(*list, *n + 2, sizeof(**list))) == NULL ||
	    ((*list)[*n] = strdup(tilde(path))) == NULL)
		fatal("out of memory");
	(*list)[++*n] = NULL;
}

/* Append ' word' to buf, quoted for sh -c; fatal if it does not fit. */
static void
append_quoted(char *buf, size_t len, const char *word)
{
	size_t n = strlen(buf);
	const char *c;

	if (n + 2 >= len)
		goto full;
	buf[n++] = ' ';
	buf[n++] = '\'';
	for (c = word; *c != '\0'; c++) {
		if (*c == '\'') {
			if (n + 4 >= len)
				goto full;
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			if (n + 1 >= len)
				goto full;
			buf[n++] = *c;
		}
	}
	if (n + 2 > len)
		goto full;
	buf[n++] = '\'';
	buf[n] = '\0';
	return;
 full:
	fatal("ProxyJump: the command is too long");
}

/*
 * ProxyJump "hop1,...,last" -> the command ssh itself would run for it:
 * ssh [-l user] [-p port] [-F config] [-J hop1,...] -W '[%h]:%p' host.
 * The last hop is [ssh://][user@]host[:port]: its port must go to -p,
 * since "ssh host:port" names a host called "host:port".
 */
static void
jump_command(const struct helper *h, char *jumps, char *cmd, size_t len)
{
	char user[256], host[1024], port[8], *last;
	int p;

	if ((last = strrchr(jumps, ',')) != NULL)
		*last++ = '\0';
	else {
		last = jumps;
		jumps = NULL;
	}
	if (strncmp(last, "ssh://", 6) == 0)
		last += 6;
	if (sshg_split_dest(last, user, sizeof(user), host, sizeof(host),
	    &p) == -1)
		fatal("ProxyJump %s: expected [user@]host[:port]", last);
	strlcpy(cmd, "ssh", len);
	if (*user != '\0') {
		strlcat(cmd, " -l", len);
		append_quoted(cmd, len, user);
	}
	if (p != 0) {
		snprintf(port, sizeof(port), "%d", p);
		strlcat(cmd, " -p", len);
		append_quoted(cmd, len, port);
	}
	if (h->cfg.ssh_config != NULL) {
		strlcat(cmd, " -F", len);
		append_quoted(cmd, len, h->cfg.ssh_config);
	}
	if (jumps != NULL) {
		strlcat(cmd, " -J", len);
		append_quoted(cmd, len, jumps);
	}
	strlcat(cmd, " -W", len);
	append_quoted(cmd, len, "[%h]:%p");
	append_quoted(cmd, len, host);
}

/* Apply ssh -G output to the libssh session. */
static void
apply_resolved(struct helper *h, ssh_session s, const char *out,
    const char *defaults)
{
	char v[4096], dv[4096], cmd[4096];
	const char *p;
	int n;

	if (sshg_value(out, "hostname", v, sizeof(v)) == NULL)
		fatal("ssh -G printed no hostname");
	set_opt(s, SSH_OPTIONS_HOST, v, "HostName");
	if (sshg_value(out, "user", v, sizeof(v)) != NULL)
		set_opt(s, SSH_OPTIONS_USER, v, "User");
	if (sshg_value(out, "port", v, sizeof(v)) != NULL) {
		n = atoi(v);
		set_opt(s, SSH_OPTIONS_PORT, &n, "Port");
	}
	/* Every identityfile and certificatefile line, in order. */
	for (p = out; (p = strstr(p, "identityfile ")) != NULL; p++) {
		if (p != out && p[-1] != '\n')
			continue;
		if (sshg_value(p, "identityfile", v, sizeof(v)) != NULL) {
			set_opt(s, SSH_OPTIONS_ADD_IDENTITY, tilde(v),
			    "IdentityFile");
			add_path(&h->identity_files, &h->nidentity_files, v);
		}
	}
	for (p = out; (p = strstr(p, "certificatefile ")) != NULL; p++)
		if ((p == out || p[-1] == '\n') && sshg_value(p,
		    "certificatefile", v, sizeof(v)) != NULL)
			add_path(&h->cert_files, &h->ncert_files, v);
	if (sshg_value(out, "identitiesonly", v, sizeof(v)) != NULL)
		h->identities_only = strcmp(v, "yes") == 0;
	if (sshg_value(out, "identityagent", v, sizeof(v)) != NULL)
		strlcpy(h->identity_agent, tilde(v), sizeof(h->identity_agent));
	if (sshg_value(out, "userknownhostsfile", v, sizeof(v)) != NULL) {
		v[strcspn(v, " ")] = '\0';
		set_opt(s, SSH_OPTIONS_KNOWNHOSTS, tilde(v),
		    "UserKnownHostsFile");
	}
	if (sshg_value(out, "globalknownhostsfile", v, sizeof(v)) != NULL) {
		v[strcspn(v, " ")] = '\0';
		set_opt(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, tilde(v),
		    "GlobalKnownHostsFile");
	}
	if (sshg_value(out, "stricthostkeychecking", v, sizeof(v)) != NULL)
		h->strict = sshconf_strict(v);
	/*
	 * Who is trusted: HostKeyAlias we look keys up under (session.c);
	 * what libssh cannot consult, we refuse rather than verify the
	 * host key without it.
	 */
	if (sshg_value(out, "hostkeyalias", v, sizeof(v)) != NULL &&
	    strcmp(v, "none") != 0 && strlcpy(h->hostkey_alias, v,
	    sizeof(h->hostkey_alias)) >= sizeof(h->hostkey_alias))
		fatal("HostKeyAlias %s: too long", v);
	if (sshg_value(out, "knownhostscommand", v, sizeof(v)) != NULL &&
	    strcmp(v, "none") != 0)
		fatal("KnownHostsCommand is set (%s), which tunnelwrap cannot "
		    "run: refusing to verify the host key without it. Put "
		    "the keys it gives in a known_hosts file "
		    "(UserKnownHostsFile) instead", v);
	if (sshg_value(out, "revokedhostkeys", v, sizeof(v)) != NULL &&
	    strcmp(v, "none") != 0)
		fatal("RevokedHostKeys is set (%s), which tunnelwrap cannot "
		    "read: refusing to trust host keys without it. Mark "
		    "revoked keys with @revoked in known_hosts instead", v);
	if (sshg_value(out, "batchmode", v, sizeof(v)) != NULL)
		h->batch = strcmp(v, "yes") == 0;
	if (sshg_value(out, "passwordauthentication", v, sizeof(v)) != NULL)
		h->allow_password = strcmp(v, "yes") == 0;
	if (sshg_value(out, "kbdinteractiveauthentication", v, sizeof(v)) != NULL)
		h->allow_kbdint = strcmp(v, "yes") == 0;
	if (sshg_value(out, "compression", v, sizeof(v)) != NULL &&
	    strcmp(v, "yes") == 0) {
		set_opt(s, SSH_OPTIONS_COMPRESSION, "yes", "Compression");
		h->compression = 1;
	}
	if (sshg_value(out, "connecttimeout", v, sizeof(v)) != NULL &&
	    (n = parse_time(v)) > 0) {
		long t = n;

		h->cfg.connect_timeout = n;
		set_opt(s, SSH_OPTIONS_TIMEOUT, &t, "ConnectTimeout");
	}
	/*
	 * "rekeylimit BYTES SECONDS" in ssh -G's output; 0 is the default.
	 * Set on each session: ssh_options_copy() leaves them out.
	 */
	if (sshg_value(out, "rekeylimit", v, sizeof(v)) != NULL) {
		unsigned long long bytes = 0;
		unsigned long secs = 0;

		if (sscanf(v, "%llu %lu", &bytes, &secs) == 2) {
			h->rekey_bytes = bytes;
			/* libssh keeps milliseconds in 32 bits. */
			h->rekey_secs = secs > UINT32_MAX / 1000 ?
			    UINT32_MAX / 1000 : (uint32_t)secs;
		}
	}
	if (sshg_value(out, "controlpersist", v, sizeof(v)) != NULL) {
		if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
			;			/* keep our default linger */
		else if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			h->cfg.linger = -1;
		else if ((n = parse_time(v)) >= 0)
			h->cfg.linger = n;
	}
	if (sshg_value(out, "ciphers", v, sizeof(v)) != NULL &&
	    (defaults == NULL || sshg_value(defaults, "ciphers", dv,
	    sizeof(dv)) == NULL || strcmp(v, dv) != 0)) {
		set_opt(s, SSH_OPTIONS_CIPHERS_C_S, v, "Ciphers");
		set_opt(s, SSH_OPTIONS_CIPHERS_S_C, v, "Ciphers");
		h->user_ciphers = 1;
	}
	if (sshg_value(out, "kexalgorithms", v, sizeof(v)) != NULL &&
	    defaults != NULL && sshg_value(defaults, "kexalgorithms", dv,
	    sizeof(dv)) != NULL && strcmp(v, dv) != 0) {
		if (ssh_options_set(s, SSH_OPTIONS_KEY_EXCHANGE, v) != SSH_OK)
			verbose("KexAlgorithms %s not supported by libssh", v);
	}
	if (sshg_value(out, "proxycommand", v, sizeof(v)) != NULL &&
	    strcmp(v, "none") != 0)
		set_opt(s, SSH_OPTIONS_PROXYCOMMAND, v, "ProxyCommand");
	else if (sshg_value(out, "proxyjump", v, sizeof(v)) != NULL &&
	    strcmp(v, "none") != 0) {
		jump_command(h, v, cmd, sizeof(cmd));
		set_opt(s, SSH_OPTIONS_PROXYCOMMAND, cmd, "ProxyJump");
	}
	if (sshg_value(out, "serveraliveinterval", v, sizeof(v)) != NULL)
		h->alive_interval = atoi(v);
	if (sshg_value(out, "serveralivecountmax", v, sizeof(v)) != NULL)
		h->alive_countmax = atoi(v);
}

int
sshconf_strict(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		return STRICT_YES;
	if (strcasecmp(v, "accept-new") == 0)
		return STRICT_ACCEPT_NEW;
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0 ||
	    strcasecmp(v, "false") == 0)
		return STRICT_NO;
	return STRICT_ASK;
}

/* Without ssh: libssh's parser for the config, -o for a few keys. */
static void
apply_fallback(struct helper *h, ssh_session s, const char *user,
    const char *host, int port)
{
	size_t i;
	char key[64];
	const char *eq, *val;

	set_opt(s, SSH_OPTIONS_HOST, host, "HostName");
	if (*user != '\0')
		set_opt(s, SSH_OPTIONS_USER, user, "User");
	if (port != 0)
		set_opt(s, SSH_OPTIONS_PORT, &port, "Port");
	if (ssh_options_parse_config(s, h->cfg.ssh_config) != SSH_OK)
		fatal("%s: %s", h->cfg.ssh_config ? h->cfg.ssh_config :
		    "ssh config", ssh_get_error(s));
	for (i = 0; i < h->cfg.nidentities; i++)
		set_opt(s, SSH_OPTIONS_ADD_IDENTITY, h->cfg.identities[i],
		    "IdentityFile");
	for (i = 0; i < h->cfg.noptions; i++) {
		eq = strchr(h->cfg.options[i], '=');
		if (eq == NULL || (size_t)(eq - h->cfg.options[i]) >= sizeof(key))
			fatal("bad option \"%s\": expected Key=Value",
			    h->cfg.options[i]);
		memcpy(key, h->cfg.options[i], eq - h->cfg.options[i]);
		key[eq - h->cfg.options[i]] = '\0';
		val = eq + 1;
		if (strcasecmp(key, "StrictHostKeyChecking") == 0)
			h->strict = sshconf_strict(val);
		else if (strcasecmp(key, "UserKnownHostsFile") == 0)
			set_opt(s, SSH_OPTIONS_KNOWNHOSTS, tilde(val), key);
		else if (strcasecmp(key, "IdentityFile") == 0)
			set_opt(s, SSH_OPTIONS_ADD_IDENTITY, tilde(val), key);
		else if (strcasecmp(key, "Port") == 0) {
			int n = atoi(val);

			set_opt(s, SSH_OPTIONS_PORT, &n, key);
		} else if (strcasecmp(key, "User") == 0)
			set_opt(s, SSH_OPTIONS_USER, val, key);
		else if (strcasecmp(key, "Compression") == 0) {
			set_opt(s, SSH_OPTIONS_COMPRESSION, val, key);
			h->compression = strcasecmp(val, "yes") == 0;
		} else if (strcasecmp(key, "Ciphers") == 0) {
			set_opt(s, SSH_OPTIONS_CIPHERS_C_S, val, key);
			set_opt(s, SSH_OPTIONS_CIPHERS_S_C, val, key);
			h->user_ciphers = 1;
		} else if (strcasecmp(key, "ControlPersist") == 0)
			h->cfg.linger = strcmp(val, "yes") == 0 ? -1 :
			    parse_time(val);
		else
			verbose("option %s ignored: ssh is not installed to "
			    "resolve it", key);
	}
}

/*
 * Leave what ssh resolved for us beside our socket (SOCKET.conf), so that
 * a later tunnelwrap naming this bastion otherwise can say at -v which of
 * its options differ from ours and are not applied.
 */
static void
record_resolved(const struct helper *h, const char *out)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s.conf",
	    h->cfg.socket_path) >= sizeof(path) ||
	    rundir_write_file(path, out) == -1)
		verbose("%s.conf: %s", h->cfg.socket_path, strerror(errno));
}

void
sshconf_apply(struct helper *h, ssh_session s)
{
	struct sshg_query q = {
		.ssh_config = h->cfg.ssh_config,
		.options = h->cfg.options,
		.noptions = h->cfg.noptions,
		.identities = h->cfg.identities,
		.nidentities = h->cfg.nidentities,
		.dest = h->cfg.dest,
	};
	struct sshg_query dq = { .ssh_config = "none", .dest = "localhost" };
	char user[256], host[1024], err[512];
	char *out = NULL, *defaults = NULL;
	bool no = false;
	int port, rc;

	if (sshg_split_dest(h->cfg.dest, user, sizeof(user), host,
	    sizeof(host), &port) == -1)
		fatal("bad destination \"%s\": expected [user@]host[:port]",
		    h->cfg.dest);
	h->strict = STRICT_ASK;
	h->allow_password = h->allow_kbdint = 1;
	/*
	 * The launcher that started us has just asked ssh -G the same
	 * question (to name the session): spare the first connect a second
	 * ssh start.  Reconnects ask afresh, so a changed config applies.
	 */
	if (h->cfg.resolved != NULL && h->cfg.nidentities == 0) {
		out = h->cfg.resolved;
		h->cfg.resolved = NULL;
		rc = 0;
		verbose("ssh configuration: the launcher's ssh -G");
	} else
		rc = sshg_resolve(&q, &out, err, sizeof(err));
	if (rc == 127) {
		verbose("ssh not found: using libssh's config parser");
		apply_fallback(h, s, user, host, port);
	} else if (rc != 0) {
		fatal("ssh configuration for %s: %s", h->cfg.dest,
		    *err ? err : "ssh -G failed");
	} else {
		if (sshg_resolve(&dq, &defaults, err, sizeof(err)) != 0) {
			free(defaults);
			defaults = NULL;
		}
		apply_resolved(h, s, out, defaults);
		record_resolved(h, out);
		/*
		 * Everything came resolved from ssh: libssh must not read
		 * ~/.ssh/config again at connect time and override it (it
		 * would, e.g., swap in another known_hosts file).
		 */
		set_opt(s, SSH_OPTIONS_PROCESS_CONFIG, &no, "ProcessConfig");
	}
	free(out);
	free(defaults);
	if (!h->user_ciphers) {
		const char *c = cpu_has_aes() ? CIPHERS_AESNI : CIPHERS_NOAES;

		set_opt(s, SSH_OPTIONS_CIPHERS_C_S, c, "Ciphers");
		set_opt(s, SSH_OPTIONS_CIPHERS_S_C, c, "Ciphers");
	}
}
