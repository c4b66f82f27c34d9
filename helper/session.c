/*
 * session.c - the one SSH session: connect, host key, authentication, pump.
 *
 * Everything before the event loop is blocking and may talk to the user's
 * terminal (host key question, passphrase, password); the launcher waits
 * for us meanwhile.  Host keys are verified against known_hosts like ssh:
 * a changed key is always refused, an unknown one only accepted when
 * StrictHostKeyChecking allows it.  Secrets are read with no echo and
 * wiped after use; none is ever logged.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <bsd/string.h>

#include "helper.h"
#include "log.h"
#include "sshconf.h"

#define PUMP_ROUNDS	64	/* bound on libssh work per readable event */

static int
have_tty(const struct helper *h)
{
	int fd;

	if (h->batch)
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

static void
verify_host_key(struct helper *h)
{
	ssh_session s = h->ssh;
	char fp[256], prompt[1024], *host = NULL, *kh = NULL;
	enum ssh_known_hosts_e state;

	fingerprint(s, fp, sizeof(fp));
	ssh_options_get(s, SSH_OPTIONS_HOST, &host);
	ssh_options_get(s, SSH_OPTIONS_KNOWNHOSTS, &kh);
	state = ssh_session_is_known_server(s);
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
		fatal("host key for %s has CHANGED (now %s); refusing to "
		    "connect: possible man-in-the-middle. If the change is "
		    "expected, remove the old key from %s (ssh-keygen -R %s)",
		    host, fp, kh ? kh : "known_hosts", host);
	case SSH_KNOWN_HOSTS_OTHER:
		fatal("host key for %s is of another type than the one in "
		    "%s (offered %s); refusing to connect", host,
		    kh ? kh : "known_hosts", fp);
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (h->strict == STRICT_YES)
			fatal("host key verification failed: no key known for "
			    "%s (%s) and StrictHostKeyChecking is yes; add it "
			    "to %s first", host, fp, kh ? kh : "known_hosts");
		if (h->strict == STRICT_ASK) {
			if (!have_tty(h))
				fatal("host key verification failed: unknown "
				    "host %s (%s); connect once with ssh to "
				    "accept it, or use -o "
				    "StrictHostKeyChecking=accept-new", host,
				    fp);
			snprintf(prompt, sizeof(prompt), "The authenticity of "
			    "host '%s' can't be established.\r\n%s.\r\n"
			    "Are you sure you want to continue connecting "
			    "(yes/no)? ", host, fp);
			if (!ask_yes_no(prompt))
				fatal("host key verification failed for %s",
				    host);
		}
		if (ssh_session_update_known_hosts(s) != SSH_OK)
			error("could not add %s to %s: %s", host,
			    kh ? kh : "known_hosts", ssh_get_error(s));
		else
			logit("Permanently added '%s' (%s) to the list of "
			    "known hosts.", host, fp);
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		fatal("host key check for %s failed: %s", host,
		    ssh_get_error(s));
	}
	ssh_string_free_char(host);
	ssh_string_free_char(kh);
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
auth_kbdint(struct helper *h)
{
	ssh_session s = h->ssh;
	char answer[512], prompt[1024];
	const char *p;
	char echo;
	int rc, i, n;

	while ((rc = ssh_userauth_kbdint(s, NULL, NULL)) == SSH_AUTH_INFO) {
		n = ssh_userauth_kbdint_getnprompts(s);
		for (i = 0; i < n; i++) {
			p = ssh_userauth_kbdint_getprompt(s, i, &echo);
			snprintf(prompt, sizeof(prompt), "%s", p);
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

static void
authenticate(struct helper *h)
{
	ssh_session s = h->ssh;
	char pw[512], prompt[600], *user = NULL, *host = NULL;
	char tried[128] = "";
	int methods, rc;

	ssh_options_get(s, SSH_OPTIONS_USER, &user);
	ssh_options_get(s, SSH_OPTIONS_HOST, &host);
	if ((rc = ssh_userauth_none(s, NULL)) == SSH_AUTH_SUCCESS)
		goto done;
	if (rc == SSH_AUTH_ERROR)
		fatal("authentication with %s failed: %s", host,
		    ssh_get_error(s));
	methods = ssh_userauth_list(s, NULL);
	if (methods & SSH_AUTH_METHOD_PUBLICKEY) {
		strlcat(tried, "publickey", sizeof(tried));
		if ((rc = ssh_userauth_publickey_auto(s, NULL, NULL)) ==
		    SSH_AUTH_SUCCESS)
			goto done;
	}
	if ((methods & SSH_AUTH_METHOD_INTERACTIVE) && h->allow_kbdint &&
	    have_tty(h)) {
		strlcat(tried, *tried ? ",keyboard-interactive" :
		    "keyboard-interactive", sizeof(tried));
		if ((rc = auth_kbdint(h)) == SSH_AUTH_SUCCESS)
			goto done;
	}
	if ((methods & SSH_AUTH_METHOD_PASSWORD) && h->allow_password &&
	    have_tty(h)) {
		strlcat(tried, *tried ? ",password" : "password",
		    sizeof(tried));
		snprintf(prompt, sizeof(prompt), "%s@%s's password: ", user,
		    host);
		if (readpassphrase(prompt, pw, sizeof(pw), RPP_ECHO_OFF |
		    RPP_REQUIRE_TTY) != NULL) {
			rc = ssh_userauth_password(s, NULL, pw);
			explicit_bzero(pw, sizeof(pw));
			if (rc == SSH_AUTH_SUCCESS)
				goto done;
		}
	}
	fatal("authentication failed for %s@%s (tried: %s); check the key "
	    "(ssh-add -l, -i) or run on a terminal to type a password",
	    user, host, *tried ? tried : "none offered by server");
 done:
	ssh_string_free_char(user);
	ssh_string_free_char(host);
}

static void
ssh_readable(struct helper *h, struct watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	session_pump(h);
}

void
session_pump(struct helper *h)
{
	int i, rc;

	for (i = 0; i < PUMP_ROUNDS; i++) {
		rc = ssh_event_dopoll(h->ev, 0);
		if (rc == SSH_ERROR || !ssh_is_connected(h->ssh)) {
			error("connection to %s lost: %s", h->peer_desc,
			    ssh_get_error(h->ssh));
			relay_fail_all(h, ECONNRESET);
			h->quit = 1;
			return;
		}
		if (rc == SSH_AGAIN)
			break;
	}
	session_update_interest(h);
}

void
session_update_interest(struct helper *h)
{
	uint32_t want = EPOLLIN;

	if (ssh_get_poll_flags(h->ssh) & SSH_WRITE_PENDING)
		want |= EPOLLOUT;
	watch_set(h, &h->sshw, want);
}

void
session_open(struct helper *h)
{
	struct ssh_callbacks_struct *cb;
	char *host = NULL, *user = NULL;
	unsigned int port = 22;
	int one = 1, fd;

	if ((h->ssh = ssh_new()) == NULL)
		fatal("ssh_new failed");
	sshconf_apply(h, h->ssh);
	/* Without NODELAY every channel open waits ~40 ms on delayed ACKs. */
	ssh_options_set(h->ssh, SSH_OPTIONS_NODELAY, &one);
	if ((cb = calloc(1, sizeof(*cb))) == NULL)
		fatal("out of memory");
	h->ssh_cb = cb;
	cb->userdata = h;
	cb->auth_function = auth_prompt;
	ssh_callbacks_init(cb);
	ssh_set_callbacks(h->ssh, cb);
	ssh_options_get(h->ssh, SSH_OPTIONS_HOST, &host);
	ssh_options_get(h->ssh, SSH_OPTIONS_USER, &user);
	ssh_options_get_port(h->ssh, &port);
	snprintf(h->peer_desc, sizeof(h->peer_desc), "%s@%s:%u",
	    user ? user : "?", host ? host : "?", port);
	ssh_string_free_char(host);
	ssh_string_free_char(user);
	if (ssh_connect(h->ssh) != SSH_OK)
		fatal("cannot connect to %s: %s", h->peer_desc,
		    ssh_get_error(h->ssh));
	verify_host_key(h);
	authenticate(h);
	verbose("authenticated to %s (%s)", h->peer_desc,
	    ssh_get_cipher_out(h->ssh));
	ssh_set_blocking(h->ssh, 0);
	fd = ssh_get_fd(h->ssh);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if ((h->ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(h->ev, h->ssh) != SSH_OK)
		fatal("ssh_event: %s", ssh_get_error(h->ssh));
	h->sshw.fd = fd;
	h->sshw.fn = ssh_readable;
	h->sshw.arg = h;
	session_update_interest(h);
}

void
session_close(struct helper *h)
{
	if (h->ev != NULL) {
		ssh_event_remove_session(h->ev, h->ssh);
		ssh_event_free(h->ev);
		h->ev = NULL;
	}
	if (ssh_is_connected(h->ssh))
		ssh_disconnect(h->ssh);
	ssh_free(h->ssh);
	h->ssh = NULL;
	free(h->ssh_cb);
	h->ssh_cb = NULL;
}
