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
 * session.c - the one SSH session: connect, host key, authentication,
 * liveness and reconnection.
 *
 * The first connection is made in the foreground and may talk to the
 * user's terminal (host key question, passphrase, password); the launcher
 * waits for us meanwhile.  Host keys are verified against known_hosts like
 * ssh: a changed key is always refused, an unknown one only accepted when
 * StrictHostKeyChecking allows it.  Secrets are read with no echo and wiped
 * after use; none is ever logged.
 *
 * Liveness: a channel request with want-reply on a small "session" channel
 * every ServerAliveInterval of silence (sshd answers even when it denies
 * it, and per-channel requests do not use libssh's single global-request
 * slot, which remote forwards need), plus TCP_USER_TIMEOUT so a dead link
 * errors the socket.  Nothing heard for ServerAliveInterval x
 * ServerAliveCountMax means the session is dead.
 *
 * Reconnection: when the session dies, open connections are reset
 * (ECONNRESET: bytes in flight cannot be vouched for), connects in
 * progress wait, and a thread builds a new session from the configured
 * template, non-interactively (keys and agent only), with capped
 * exponential backoff.  The event loop goes on meanwhile; the new session
 * is handed over through a pipe and only then touched by the loop.
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <bsd/string.h>

#include "helper.h"
#include "knownhosts.h"
#include "log.h"
#include "sshconf.h"

#define PUMP_ROUNDS	64	/* bound on libssh work per readable event */
#define BACKOFF_MIN	1	/* seconds before the first reconnect */
#define BACKOFF_MAX	30
#define DEFAULT_ALIVE	15	/* ServerAliveInterval when unset */
#define DEFAULT_COUNT	3

struct attempt {
	ssh_session	 s;		/* NULL on failure */
	char		 err[512];
};

static int
have_tty(const struct helper *h)
{
	int fd;

	if (h->batch || !h->interactive)
		return 0;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return 0;
	close(fd);
	return 1;
}

static int
ask_yes_no(const char *prompt)
{
	char buf[16];

	for (;;) {
		if (readpassphrase(prompt, buf, sizeof(buf), RPP_ECHO_ON |
		    RPP_REQUIRE_TTY) == NULL)
			return 0;
		if (strcasecmp(buf, "yes") == 0)
			return 1;
		if (strcasecmp(buf, "no") == 0)
			return 0;
		prompt = "Please type 'yes' or 'no': ";
	}
}

static void
fingerprint(ssh_session s, char *buf, size_t len)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen;
	char *fp;

	strlcpy(buf, "(unknown)", len);
	if (ssh_get_server_publickey(s, &key) != SSH_OK)
		return;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
		    hlen);
		if (fp != NULL) {
			snprintf(buf, len, "%s key %s",
			    ssh_key_type_to_char(ssh_key_type(key)), fp);
			ssh_string_free_char(fp);
		}
		ssh_clean_pubkey_hash(&hash);
	}
	ssh_key_free(key);
}

/*
 * Line number of the first known_hosts entry for host (as known_hosts
 * writes it: "host" for port 22, "[host]:port" otherwise), or 0.
 */
static int
known_hosts_line(const char *file, const char *host, unsigned port)
{
	char name[600], field[1024], *line = NULL;
	size_t cap = 0;
	int n = 0, found = 0;
	FILE *f;

	if (port == 22)
		strlcpy(name, host, sizeof(name));
	else
		snprintf(name, sizeof(name), "[%s]:%u", host, port);
	if ((f = fopen(file, "re")) == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) != -1) {
		n++;
		if (line[0] == '#' || line[0] == '@' ||
		    sscanf(line, "%1023s", field) != 1)
			continue;
		if (kh_field_matches(field, name))
			found = n;
	}
	free(line);
	fclose(f);
	return found;
}

/* Put a message in err (truncated to fit: a long path must not fail). */
static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Verify the server's host key as ssh would, or refuse.  libssh 0.10 reads
 * plain known_hosts lines only: what it cannot see (@revoked,
 * @cert-authority, keys under a HostKeyAlias) knownhosts.c reads, and a
 * host that ssh would verify by its certificate is refused rather than
 * trusted on first use.
 */
static int
verify_host_key(struct helper *h, ssh_session s, char *err, size_t errlen)
{
	char fp[256], prompt[1024], name[600], where[700];
	char *host = NULL, *kh = NULL, *gkh = NULL;
	const char *files[2];
	enum ssh_known_hosts_e state;
	ssh_key key = NULL;
	unsigned int port = 22;
	int r = -1, added;

	fingerprint(s, fp, sizeof(fp));
	ssh_options_get(s, SSH_OPTIONS_HOST, &host);
	ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &kh);
	ssh_options_get(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, &gkh);
	ssh_options_get_port(s, &port);
	files[0] = kh;
	files[1] = gkh;
	/* The name keys are filed under, as ssh writes it. */
	if (*h->hostkey_alias != '\0')
		strlcpy(name, h->hostkey_alias, sizeof(name));
	else if (port == 22)
		strlcpy(name, host ? host : "", sizeof(name));
	else
		snprintf(name, sizeof(name), "[%s]:%u", host ? host : "", port);
	if (ssh_get_server_publickey(s, &key) != SSH_OK) {
		say(err, errlen, "host key check for %s failed: %s",
		    name, ssh_get_error(s));
		goto out;
	}
	if (kh_revoked(files, 2, key, where, sizeof(where))) {
		say(err, errlen, "host key for %s (%s) is marked "
		    "@revoked in %s; refusing to connect", name, fp, where);
		goto out;
	}
	if (*h->hostkey_alias != '\0')
		state = kh_lookup(files, 2, name, key, where, sizeof(where));
	else {
		state = ssh_session_is_known_server(s);
		snprintf(where, sizeof(where), "%s:%d", kh ? kh :
		    "known_hosts", kh && host ? known_hosts_line(kh, host,
		    port) : 0);
	}
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		say(err, errlen, "host key for %s has CHANGED (now %s); "
		    "refusing to connect: possible man-in-the-middle. "
		    "Offending key in %s; if the change is expected, "
		    "remove it (ssh-keygen -R %s)", name, fp, where, name);
		break;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (kh_cert_authority(files, 2, name, where, sizeof(where))) {
			if (h->strict != STRICT_NO) {
				say(err, errlen, "host key verification "
				    "failed: %s trusts a certificate authority "
				    "for %s (@cert-authority), but libssh 0.10 "
				    "cannot verify host certificates: refusing "
				    "rather than trusting its key (%s) on first "
				    "use. Add the host's own key to %s, or "
				    "connect with ssh", where, name, fp,
				    kh ? kh : "known_hosts");
				break;
			}
			logit("%s: a host certificate cannot be verified "
			    "(libssh 0.10); StrictHostKeyChecking=no accepts "
			    "the key", name);
		}
		if (h->strict == STRICT_YES) {
			say(err, errlen, "host key verification failed: "
			    "no key known for %s (%s) and "
			    "StrictHostKeyChecking is yes; add it to %s first",
			    name, fp, kh ? kh : "known_hosts");
			break;
		}
		if (h->strict == STRICT_ASK) {
			if (!have_tty(h)) {
				say(err, errlen, "host key verification "
				    "failed: unknown host %s (%s); connect "
				    "once with ssh to accept it, or use -o "
				    "StrictHostKeyChecking=accept-new", name,
				    fp);
				break;
			}
			snprintf(prompt, sizeof(prompt), "The authenticity of "
			    "host '%s' can't be established.\r\n%s.\r\n"
			    "Are you sure you want to continue connecting "
			    "(yes/no)? ", name, fp);
			if (!ask_yes_no(prompt)) {
				say(err, errlen, "host key verification "
				    "failed for %s", name);
				break;
			}
		}
		if (*h->hostkey_alias != '\0')
			added = kh != NULL && kh_add(kh, name, key) == 0;
		else
			added = ssh_session_update_known_hosts(s) == SSH_OK;
		if (!added)
			error("could not add %s to %s: %s", name,
			    kh ? kh : "known_hosts", *h->hostkey_alias ?
			    strerror(errno) : ssh_get_error(s));
		else
			logit("Permanently added '%s' (%s) to the list of "
			    "known hosts.", name, fp);
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		say(err, errlen, "host key check for %s failed: %s",
		    name, ssh_get_error(s));
	}
 out:
	ssh_key_free(key);
	ssh_string_free_char(host);
	ssh_string_free_char(kh);
	ssh_string_free_char(gkh);
	return r;
}

/* libssh asks for key passphrases through this. */
static int
auth_prompt(const char *prompt, char *buf, size_t len, int echo, int verify,
    void *userdata)
{
	struct helper *h = userdata;

	(void)verify;
	if (!have_tty(h))
		return -1;
	if (readpassphrase(prompt, buf, len, (echo ? RPP_ECHO_ON :
	    RPP_ECHO_OFF) | RPP_REQUIRE_TTY) == NULL)
		return -1;
	return 0;
}

static int
auth_kbdint(ssh_session s)
{
	char answer[512], prompt[1024];
	const char *p;
	char echo;
	int rc, i, n;

	while ((rc = ssh_userauth_kbdint(s, NULL, NULL)) == SSH_AUTH_INFO) {
		n = ssh_userauth_kbdint_getnprompts(s);
		for (i = 0; i < n; i++) {
			p = ssh_userauth_kbdint_getprompt(s, i, &echo);
			str_clean(prompt, sizeof(prompt), p);
			if (readpassphrase(prompt, answer, sizeof(answer),
			    (echo ? RPP_ECHO_ON : RPP_ECHO_OFF) |
			    RPP_REQUIRE_TTY) == NULL) {
				explicit_bzero(answer, sizeof(answer));
				return SSH_AUTH_DENIED;
			}
			rc = ssh_userauth_kbdint_setanswer(s, i, answer);
			explicit_bzero(answer, sizeof(answer));
			if (rc < 0)
				return SSH_AUTH_ERROR;
		}
	}
	return rc;
}

static int
authenticate(struct helper *h, ssh_session s, char *err, size_t errlen)
{
	char pw[512], prompt[600], *user = NULL, *host = NULL;
	char tried[128] = "", untried[128] = "";
	int methods, rc, r = 0, tty;

	ssh_options_get(s, SSH_OPTIONS_USER, &user);
	ssh_options_get(s, SSH_OPTIONS_HOST, &host);
	if ((rc = ssh_userauth_none(s, NULL)) == SSH_AUTH_SUCCESS)
		goto done;
	if (rc == SSH_AUTH_ERROR) {
		snprintf(err, errlen, "authentication with %s failed: %s",
		    host, ssh_get_error(s));
		r = -1;
		goto done;
	}
	methods = ssh_userauth_list(s, NULL);
	tty = have_tty(h);
	if (methods & SSH_AUTH_METHOD_PUBLICKEY) {
		strlcat(tried, "publickey", sizeof(tried));
		/* Certificates first, then the agent's and files' keys. */
		if (h->ncert_files > 0 && identity_try_certificates(h, s,
		    auth_prompt) == SSH_AUTH_SUCCESS)
			goto done;
		identity_agent_setup(h, s);
		if (ssh_userauth_publickey_auto(s, NULL, NULL) ==
		    SSH_AUTH_SUCCESS)
			goto done;
	}
	/*
	 * What the server offers and we may use, but not without someone at
	 * the terminal: named in the error, so that nobody reads "none
	 * offered" when the server asked for a password.
	 */
	if ((methods & SSH_AUTH_METHOD_INTERACTIVE) && h->allow_kbdint) {
		if (!tty)
			strlcat(untried, "keyboard-interactive",
			    sizeof(untried));
		else {
			strlcat(tried, *tried ? ",keyboard-interactive" :
			    "keyboard-interactive", sizeof(tried));
			if (auth_kbdint(s) == SSH_AUTH_SUCCESS)
				goto done;
		}
	}
	if ((methods & SSH_AUTH_METHOD_PASSWORD) && h->allow_password) {
		if (!tty)
			strlcat(untried, *untried ? ",password" : "password",
			    sizeof(untried));
		else {
			strlcat(tried, *tried ? ",password" : "password",
			    sizeof(tried));
			snprintf(prompt, sizeof(prompt), "%s@%s's password: ",
			    user, host);
			if (readpassphrase(prompt, pw, sizeof(pw),
			    RPP_ECHO_OFF | RPP_REQUIRE_TTY) != NULL) {
				rc = ssh_userauth_password(s, NULL, pw);
				explicit_bzero(pw, sizeof(pw));
				if (rc == SSH_AUTH_SUCCESS)
					goto done;
			}
		}
	}
	snprintf(err, errlen, "authentication failed for %s@%s (tried: "
	    "%s%s%s%s); check the key (ssh-add -l, -i) or run on a terminal "
	    "to type a password", user, host, *tried ? tried : *untried ?
	    "none" : "none offered by server", *untried ? "; " : "", untried,
	    *untried ? (h->batch ? " not tried: BatchMode" :
	    " not tried: no terminal") : "");
	r = -1;
 done:
	ssh_string_free_char(user);
	ssh_string_free_char(host);
	return r;
}

/*
 * A new connected, verified, authenticated session from the template, or
 * NULL with the reason in err.  Safe to run in the reconnect thread: it
 * touches only the new session and read-only helper settings.
 */
static ssh_session
establish(struct helper *h, char *err, size_t errlen)
{
	ssh_session s = NULL;

	if (ssh_options_copy(h->template, &s) != SSH_OK || s == NULL) {
		snprintf(err, errlen, "cannot copy ssh options");
		return NULL;
	}
	/* What ssh_options_copy() does not copy. */
	if ((h->rekey_bytes > 0 && ssh_options_set(s, SSH_OPTIONS_REKEY_DATA,
	    &h->rekey_bytes) != SSH_OK) || (h->rekey_secs > 0 &&
	    ssh_options_set(s, SSH_OPTIONS_REKEY_TIME, &h->rekey_secs) !=
	    SSH_OK)) {
		snprintf(err, errlen, "RekeyLimit: %s", ssh_get_error(s));
		goto fail;
	}
	ssh_set_callbacks(s, h->ssh_cb);
	if (ssh_connect(s) != SSH_OK) {
		snprintf(err, errlen, "cannot connect to %s: %s",
		    h->peer_desc, ssh_get_error(s));
		goto fail;
	}
	if (verify_host_key(h, s, err, errlen) == -1 ||
	    authenticate(h, s, err, errlen) == -1)
		goto fail;
	return s;
 fail:
	ssh_disconnect(s);
	ssh_free(s);
	return NULL;
}

static void
ssh_ready(struct helper *h, struct watch *w, uint32_t events)
{
	int one = 1;

	h->last_rx = monotime();
	session_pump(h);
	/*
	 * Quick ACKs: sshd holds small replies (channel confirmations)
	 * behind Nagle until our ACK; a delayed one costs ~40 ms each.
	 */
	if ((events & EPOLLIN) && h->session_up)
		setsockopt(w->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/*
 * Without a probe channel (the bastion refuses session channels, as with
 * sshd's MaxSessions 0), let the kernel probe the link instead: silence
 * alone then proves nothing, but unanswered TCP keepalives do.
 */
static void
keepalive_by_tcp(struct helper *h)
{
	int fd = ssh_get_fd(h->ssh), idle = h->alive_interval,
	    cnt = h->alive_countmax;

	verbose("keepalive channel refused: probing the link with TCP "
	    "keepalives every %d s", idle);
	h->ka_failed = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* The keepalive channel: opened in the background, probed on silence. */
static void
keepalive_tick(struct helper *h, time_t now)
{
	int rc;

	if (h->ka_failed)
		return;
	if (h->ka != NULL && h->ka_open && !ssh_channel_is_open(h->ka)) {
		/* Closed by the bastion (an idle-channel timeout): reopen. */
		verbose("keepalive channel closed by the bastion: reopening");
		ssh_channel_free(h->ka);
		h->ka = NULL;
		h->ka_open = 0;
	}
	if (h->ka == NULL && (h->ka = ssh_channel_new(h->ssh)) == NULL)
		return;
	if (!h->ka_open) {
		rc = ssh_channel_open_session(h->ka);
		if (rc == SSH_OK)
			h->ka_open = 1;
		else if (rc == SSH_ERROR) {
			ssh_channel_free(h->ka);
			h->ka = NULL;
			keepalive_by_tcp(h);
		}
		return;
	}
	if (now - h->last_rx < h->alive_interval)
		return;
	/* A pending request answers AGAIN; an answered one is reaped first. */
	rc = ssh_channel_request_env(h->ka, "TUNNELWRAP_KEEPALIVE", "1");
	if (rc != SSH_AGAIN)
		ssh_channel_request_env(h->ka, "TUNNELWRAP_KEEPALIVE", "1");
	session_update_interest(h);
}

/* Make s the live session: event loop registration, then waiting conns. */
static void
go_live(struct helper *h, ssh_session s)
{
	int one = 1, fd, lowat;
	unsigned int tmo;

	h->ssh = s;
	h->ka = NULL;
	h->ka_open = h->ka_failed = 0;
	ssh_set_blocking(s, 0);
	fd = ssh_get_fd(s);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	lowat = SESSION_LOWAT;
	setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
	/* Unacknowledged data this long means the link is gone. */
	tmo = (unsigned)(h->alive_interval * h->alive_countmax * 1000);
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof(tmo));
	if ((h->ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(h->ev, s) != SSH_OK)
		fatal("ssh_event: %s", ssh_get_error(s));
	h->sshw.fd = fd;
	prefetch_start(fd);
	h->sshw.fn = ssh_ready;
	h->sshw.arg = h;
	h->sshw.registered = 0;
	ssh_set_message_callback(s, fwd_message, h);
	h->session_up = 1;
	h->told_prohibited = 0;		/* a new session: say it again */
	h->backoff = BACKOFF_MIN;
	h->last_rx = monotime();
	session_update_interest(h);
	relay_session_up(h);
}

static void
drop_session(struct helper *h)
{
	prefetch_stop();
	watch_del(h, &h->sshw);
	h->sshw.fd = -1;
	if (h->ka != NULL) {
		ssh_channel_free(h->ka);
		h->ka = NULL;
	}
	if (h->ev != NULL) {
		ssh_event_remove_session(h->ev, h->ssh);
		ssh_event_free(h->ev);
		h->ev = NULL;
	}
	if (ssh_is_connected(h->ssh))
		ssh_disconnect(h->ssh);
	ssh_free(h->ssh);
	h->ssh = NULL;
	h->session_up = 0;
}

/* The session died: reset what was open, keep what waits, reconnect. */
static void
session_lost(struct helper *h, const char *why)
{
	error("connection to %s lost: %s; reconnecting", h->peer_desc, why);
	relay_session_down(h);
	window_session_down(h);
	fwd_session_down(h);
	drop_session(h);
	h->losses++;
	h->next_attempt = monotime() + h->backoff;
}

static void *
reconnect_main(void *arg)
{
	struct helper *h = arg;
	struct attempt *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->s = establish(h, a->err, sizeof(a->err));
	/* A pointer fits in a pipe write atomically. */
	if (write(h->reconnect_pipe[1], &a, sizeof(a)) != sizeof(a))
		abort();
	return NULL;
}

static void
reconnect_done(struct helper *h, struct watch *w, uint32_t events)
{
	struct attempt *a;

	(void)events;
	if (read(w->fd, &a, sizeof(a)) != sizeof(a))
		return;
	pthread_join(h->reconnect_thread, NULL);
	h->attempting = 0;
	if (a == NULL || a->s == NULL) {
		/* BACKOFF_MIN after the loss, then waits doubling from it. */
		h->backoff = h->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
		    h->backoff * 2;
		error("reconnect to %s failed: %s; next try in %d s",
		    h->peer_desc, a ? a->err : "out of memory", h->backoff);
		h->next_attempt = monotime() + h->backoff;
	} else {
		logit("reconnected to %s", h->peer_desc);
		h->reconnects++;
		go_live(h, a->s);
	}
	free(a);
}

void
session_tick(struct helper *h)
{
	time_t now = monotime();

	if (h->session_up) {
		if (!h->ka_failed && now - h->last_rx >=
		    (time_t)h->alive_interval * h->alive_countmax) {
			session_lost(h, "no answer to keepalives");
			return;
		}
		keepalive_tick(h, now);
		return;
	}
	if (h->attempting || now < h->next_attempt)
		return;
	verbose("reconnecting to %s", h->peer_desc);
	h->attempting = 1;
	if (pthread_create(&h->reconnect_thread, NULL, reconnect_main, h) != 0) {
		error("cannot start reconnect thread: %s", strerror(errno));
		h->attempting = 0;
		h->next_attempt = now + h->backoff;
	}
}

/*
 * libssh marks a session broken (a packet over its size limit, a bad MAC)
 * inside whichever call met the bad packet, a channel write as well as the
 * pump, and its poll loop goes on reporting success.
 */
static int
session_broken(struct helper *h)
{
	return !ssh_is_connected(h->ssh) ||
	    (ssh_get_status(h->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

/* After each batch of events: did any call find the session broken? */
void
session_check(struct helper *h)
{
	if (h->session_up && session_broken(h))
		session_lost(h, ssh_get_error(h->ssh));
}

void
session_pump(struct helper *h)
{
	int i, rc;

	for (i = 0; i < PUMP_ROUNDS && h->session_up; i++) {
		rc = ssh_event_dopoll(h->ev, 0);
		if (rc == SSH_ERROR || session_broken(h)) {
			session_lost(h, ssh_get_error(h->ssh));
			return;
		}
		if (rc == SSH_AGAIN)
			break;
		h->pumped = 1;
	}
	session_update_interest(h);
}

/*
 * Is the session's output really backed up?  libssh's SSH_WRITE_PENDING
 * is set after nearly every send, so it cannot tell.  The kernel's queue
 * can, but only its unsent part (SIOCOUTQNSD): bytes sent and not yet
 * acknowledged are the network's business, and counting them (SIOCOUTQ)
 * against the socket's first SO_SNDBUF paused uploads after a few KiB
 * on any path slower than loopback, until the next packet from the
 * bastion woke us: half of sshd's window was in flight at best.  With
 * TCP_NOTSENT_LOWAT (go_live) the kernel takes no more than
 * SESSION_LOWAT unsent bytes and reports the socket writable again when
 * it has room, which is when we resume (session_update_interest).  2 MiB
 * is one bastion window: one upload never waits on it, and many cannot
 * queue more than that in the kernel (less cost more throughput on a
 * busy 2-CPU loopback: the helper was not back in time to refill it).
 * Returns how much the session takes now.
 */
int
session_room(struct helper *h)
{
	int q = 0;	/* valgrind does not know SIOCOUTQNSD writes it */

	if (!h->session_up)
		return 0;
	if (ioctl(h->sshw.fd, SIOCOUTQNSD, &q) == -1)
		return (ssh_get_poll_flags(h->ssh) & SSH_WRITE_PENDING) ? 0 :
		    SESSION_LOWAT;
	return q < SESSION_LOWAT ? SESSION_LOWAT - q : 0;
}

int
session_congested(struct helper *h)
{
	return session_room(h) == 0;
}

/* EPOLLOUT while libssh has output, or while readers wait for room. */
void
session_update_interest(struct helper *h)
{
	uint32_t want = EPOLLIN;

	if (!h->session_up)
		return;
	if ((ssh_get_poll_flags(h->ssh) & SSH_WRITE_PENDING) ||
	    (h->nwaiting > 0 && session_congested(h)))
		want |= EPOLLOUT;
	watch_set(h, &h->sshw, want);
}

void
session_open(struct helper *h)
{
	struct ssh_callbacks_struct *cb;
	char *host = NULL, *user = NULL, err[1024];
	unsigned int port = 22;
	ssh_session s;
	int one = 1;

	if ((h->template = ssh_new()) == NULL)
		fatal("ssh_new failed");
	sshconf_apply(h, h->template);
	if (h->alive_interval <= 0)
		h->alive_interval = DEFAULT_ALIVE;
	if (h->alive_countmax <= 0)
		h->alive_countmax = DEFAULT_COUNT;
	/* Without NODELAY every channel open waits ~40 ms on delayed ACKs. */
	ssh_options_set(h->template, SSH_OPTIONS_NODELAY, &one);
	if ((cb = calloc(1, sizeof(*cb))) == NULL)
		fatal("out of memory");
	h->ssh_cb = cb;
	cb->userdata = h;
	cb->auth_function = auth_prompt;
	cb->channel_open_request_x11_function = exec_x11_open;
	cb->channel_open_request_auth_agent_function = exec_agent_open;
	ssh_callbacks_init(cb);
	ssh_options_get(h->template, SSH_OPTIONS_HOST, &host);
	ssh_options_get(h->template, SSH_OPTIONS_USER, &user);
	ssh_options_get_port(h->template, &port);
	snprintf(h->peer_desc, sizeof(h->peer_desc), "%s@%s:%u",
	    user ? user : "?", host ? host : "?", port);
	ssh_string_free_char(host);
	ssh_string_free_char(user);
	if (pipe2(h->reconnect_pipe, O_CLOEXEC) == -1)
		fatal("pipe: %s", strerror(errno));
	h->reconnect_w.fd = h->reconnect_pipe[0];
	h->reconnect_w.fn = reconnect_done;
	h->reconnect_w.arg = h;
	watch_set(h, &h->reconnect_w, EPOLLIN);
	h->interactive = 1;
	if ((s = establish(h, err, sizeof(err))) == NULL)
		fatal("%s", err);
	/* From now on nobody is at the terminal: reconnects use keys only. */
	h->interactive = 0;
	verbose("authenticated to %s (%s)", h->peer_desc,
	    ssh_get_cipher_out(s));
	go_live(h, s);
}

void
session_close(struct helper *h)
{
	struct attempt *a;

	if (h->attempting) {
		pthread_join(h->reconnect_thread, NULL);
		if (read(h->reconnect_pipe[0], &a, sizeof(a)) == sizeof(a) &&
		    a != NULL) {
			if (a->s != NULL) {
				ssh_disconnect(a->s);
				ssh_free(a->s);
			}
			free(a);
		}
	}
	if (h->reconnect_pipe[0] > 0) {
		close(h->reconnect_pipe[0]);
		close(h->reconnect_pipe[1]);
	}
	if (h->ssh != NULL)
		drop_session(h);
	if (h->template != NULL)
		ssh_free(h->template);
	h->template = NULL;
	free(h->ssh_cb);
	h->ssh_cb = NULL;
}
