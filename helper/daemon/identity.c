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
 * identity.c - which keys the session offers, as ssh chooses them:
 * IdentityAgent, IdentitiesOnly and CertificateFile, which libssh 0.10
 * does not implement (it offers every key of $SSH_AUTH_SOCK's agent, then
 * its own default files, and never a certificate it was not handed).
 *
 * Offering every agent key is not harmless: a server with MaxAuthTries
 * ends the connection with "Too many authentication failures" before the
 * right key's turn.  So the agent is reached through a filter: libssh gets
 * one end of a socket pair (ssh_set_agent_socket), and a small thread
 * relays each request to the agent the configuration names, taking out of
 * the identities answer every key that IdentitiesOnly does not allow (the
 * public halves of the IdentityFile and CertificateFile keys).  With
 * IdentityAgent none the thread answers as an agent with no keys.
 *
 * Certificates: each CertificateFile is tried first, with the IdentityFile
 * private key it certifies (a passphrase asked on the terminal if need
 * be), as ssh does.  A certificate held only by the agent is not offered.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/evp.h>

#include "helper.h"
#include "log.h"

#define AGENT_MAX_MSG		(256 << 10)
#define AGENTC_REQUEST_IDENTITIES	11
#define AGENT_IDENTITIES_ANSWER		12

struct filter {
	int	 libssh_fd;	/* our end of libssh's agent socket */
	char	*agent_path;	/* the real agent, or NULL: none */
	char	**allowed;	/* base64 key blobs, NULL-terminated; NULL: all */
};

static int
read_full(int fd, void *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		if ((n = read(fd, (char *)buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		off += n;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		if ((n = write(fd, (const char *)buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += n;
	}
	return 0;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* One agent message: length, then body (malloc'd).  0 or -1. */
static int
read_msg(int fd, unsigned char **body, uint32_t *len)
{
	unsigned char hdr[4];

	*body = NULL;
	if (read_full(fd, hdr, 4) == -1 || (*len = get32(hdr)) == 0 ||
	    *len > AGENT_MAX_MSG || (*body = malloc(*len)) == NULL ||
	    read_full(fd, *body, *len) == -1) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

static int
write_msg(int fd, const unsigned char *body, uint32_t len)
{
	unsigned char hdr[4];

	put32(hdr, len);
	return write_full(fd, hdr, 4) == -1 ? -1 : write_full(fd, body, len);
}

static int
blob_allowed(const struct filter *f, const unsigned char *blob, uint32_t len)
{
	char *b64;
	size_t i;
	int yes = 0;

	if (f->allowed == NULL)
		return 1;
	if (len > AGENT_MAX_MSG || (b64 = malloc(4 * ((len + 2) / 3) + 1)) ==
	    NULL)
		return 0;
	EVP_EncodeBlock((unsigned char *)b64, blob, (int)len);
	for (i = 0; f->allowed[i] != NULL && !yes; i++)
		yes = strcmp(f->allowed[i], b64) == 0;
	free(b64);
	return yes;
}

/*
 * The identities answer with only the allowed keys, rewritten in place;
 * its new length.  A malformed answer becomes one with no keys.
 */
static uint32_t
filter_identities(const struct filter *f, unsigned char *m, uint32_t len)
{
	uint32_t n, kept = 0, i, blen, clen, off = 5, out = 5;

	if (len < 5 || m[0] != AGENT_IDENTITIES_ANSWER)
		goto none;
	n = get32(m + 1);
	for (i = 0; i < n; i++) {
		uint32_t start = off;

		if (len - off < 4 || (blen = get32(m + off)) > len - off - 4)
			goto none;
		off += 4 + blen;
		if (len - off < 4 || (clen = get32(m + off)) > len - off - 4)
			goto none;
		off += 4 + clen;
		if (!blob_allowed(f, m + start + 4, blen)) {
			debug("agent key %u of %u not offered: IdentitiesOnly",
			    i + 1, n);
			continue;
		}
		memmove(m + out, m + start, off - start);
		out += off - start;
		kept++;
	}
	put32(m + 1, kept);
	return out;
 none:
	m[0] = AGENT_IDENTITIES_ANSWER;
	put32(m + 1, 0);
	return 5;
}

/* Connect to the agent at path; -1 when there is none. */
static int
agent_dial(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) || (fd = socket(AF_UNIX, SOCK_STREAM |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
filter_free(struct filter *f)
{
	size_t i;

	close(f->libssh_fd);
	free(f->agent_path);
	for (i = 0; f->allowed != NULL && f->allowed[i] != NULL; i++)
		free(f->allowed[i]);
	free(f->allowed);
	free(f);
}

/* The thread: relay libssh's requests until it closes its end. */
static void *
filter_run(void *arg)
{
	static const unsigned char no_keys[5] = { AGENT_IDENTITIES_ANSWER };
	static const unsigned char failure[1] = { 5 };	/* AGENT_FAILURE */
	struct filter *f = arg;
	unsigned char *req, *rep;
	uint32_t rlen, plen;
	int agent = -1;

	if (f->agent_path != NULL && (agent = agent_dial(f->agent_path)) ==
	    -1)
		verbose("agent %s: %s", f->agent_path, strerror(errno));
	while (read_msg(f->libssh_fd, &req, &rlen) == 0) {
		if (agent == -1) {
			/* No agent: no keys, and nothing to sign with. */
			if (req[0] == AGENTC_REQUEST_IDENTITIES)
				write_msg(f->libssh_fd, no_keys, 5);
			else
				write_msg(f->libssh_fd, failure, 1);
			free(req);
			continue;
		}
		if (write_msg(agent, req, rlen) == -1 ||
		    read_msg(agent, &rep, &plen) == -1) {
			free(req);
			break;
		}
		if (req[0] == AGENTC_REQUEST_IDENTITIES)
			plen = filter_identities(f, rep, plen);
		free(req);
		if (write_msg(f->libssh_fd, rep, plen) == -1) {
			free(rep);
			break;
		}
		free(rep);
	}
	if (agent != -1)
		close(agent);
	filter_free(f);
	return NULL;
}

/* The base64 blob of path's public key (PATH.pub, or PATH itself). */
static char *
pub_blob(const char *path)
{
	char pub[PATH_MAX + 8], *b64 = NULL, *copy;
	ssh_key key = NULL;

	snprintf(pub, sizeof(pub), "%s.pub", path);
	if (ssh_pki_import_pubkey_file(pub, &key) != SSH_OK &&
	    ssh_pki_import_pubkey_file(path, &key) != SSH_OK)
		return NULL;
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		ssh_key_free(key);
		return NULL;
	}
	ssh_key_free(key);
	copy = strdup(b64);
	ssh_string_free_char(b64);
	return copy;
}

/*
 * Put the agent filter between libssh and the agent the configuration
 * names, when it changes anything (IdentityAgent other than
 * $SSH_AUTH_SOCK, or IdentitiesOnly).  Returns 0, or -1 when the filter
 * could not be set up (libssh then reaches $SSH_AUTH_SOCK's agent itself,
 * unless the configuration restricts it, in which case auth goes on
 * without any agent).
 */
int
identity_agent_setup(struct helper *h, ssh_session s)
{
	const char *env = getenv("SSH_AUTH_SOCK"), *path;
	struct filter *f;
	pthread_attr_t attr;
	pthread_t t;
	size_t i, n = 0;
	int sv[2];

	/* IdentityAgent SSH_AUTH_SOCK or $VAR: that variable's value. */
	path = h->identity_agent;
	if (*path == '\0' || strcmp(path, "SSH_AUTH_SOCK") == 0)
		path = env;
	else if (*path == '$')
		path = getenv(path + 1);
	if (path != NULL && (*path == '\0' || strcmp(path, "none") == 0))
		path = NULL;
	if (!h->identities_only && ((path == NULL && env == NULL) ||
	    (path != NULL && env != NULL && strcmp(path, env) == 0)))
		return 0;		/* libssh's own behaviour is ssh's */
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("out of memory");
	if (path != NULL && (f->agent_path = strdup(path)) == NULL)
		fatal("out of memory");
	if (h->identities_only) {
		if ((f->allowed = calloc(h->nidentity_files +
		    h->ncert_files + 1, sizeof(char *))) == NULL)
			fatal("out of memory");
		for (i = 0; i < h->nidentity_files; i++)
			if ((f->allowed[n] = pub_blob(h->identity_files[i])) !=
			    NULL)
				n++;
		for (i = 0; i < h->ncert_files; i++)
			if ((f->allowed[n] = pub_blob(h->cert_files[i])) !=
			    NULL)
				n++;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		error("agent filter: socketpair: %s", strerror(errno));
		f->libssh_fd = -1;
		filter_free(f);
		return -1;
	}
	f->libssh_fd = sv[1];
	if (ssh_set_agent_socket(s, sv[0]) != SSH_OK) {
		error("agent filter: %s", ssh_get_error(s));
		close(sv[0]);
		filter_free(f);
		return -1;
	}
	/* One filter at a time: the previous session's ends here. */
	identity_agent_stop(h);
	pthread_attr_init(&attr);
	if ((h->agent_stop_fd = fcntl(sv[1], F_DUPFD_CLOEXEC, 0)) == -1 ||
	    pthread_create(&t, &attr, filter_run, f) != 0) {
		error("agent filter: cannot start its thread");
		if (h->agent_stop_fd != -1)
			close(h->agent_stop_fd);
		h->agent_stop_fd = -1;
		filter_free(f);		/* libssh's reads then fail: no agent */
		pthread_attr_destroy(&attr);
		return -1;
	}
	pthread_attr_destroy(&attr);
	h->agent_thread = t;
	debug("agent %s through the filter (%s)", path ? path : "none",
	    h->identities_only ? "IdentitiesOnly" : "all its keys");
	return 0;
}

/*
 * The thread ends when its socket reads EOF: shutting our copy down does
 * that whether or not libssh has let go of its end, and the thread frees
 * what it holds before we join it (no thread outlives the helper).
 */
void
identity_agent_stop(struct helper *h)
{
	if (h->agent_stop_fd == -1)
		return;
	shutdown(h->agent_stop_fd, SHUT_RDWR);
	pthread_join(h->agent_thread, NULL);
	close(h->agent_stop_fd);
	h->agent_stop_fd = -1;
}

/*
 * Try each CertificateFile with the IdentityFile key it certifies.
 * Returns SSH_AUTH_SUCCESS, or SSH_AUTH_DENIED when none got in.
 */
int
identity_try_certificates(struct helper *h, ssh_session s,
    ssh_auth_callback prompt)
{
	ssh_key cert, priv;
	size_t i, j;
	int rc;

	for (i = 0; i < h->ncert_files; i++) {
		if (ssh_pki_import_cert_file(h->cert_files[i], &cert) !=
		    SSH_OK) {
			verbose("CertificateFile %s: cannot read it",
			    h->cert_files[i]);
			continue;
		}
		for (j = 0; j < h->nidentity_files; j++) {
			priv = NULL;
			if (access(h->identity_files[j], R_OK) == -1 ||
			    ssh_pki_import_privkey_file(h->identity_files[j],
			    NULL, prompt, h, &priv) != SSH_OK)
				continue;
			if (ssh_pki_copy_cert_to_privkey(cert, priv) !=
			    SSH_OK) {
				ssh_key_free(priv);
				continue;	/* not this key's certificate */
			}
			rc = ssh_userauth_try_publickey(s, NULL, cert);
			if (rc == SSH_AUTH_SUCCESS)
				rc = ssh_userauth_publickey(s, NULL, priv);
			ssh_key_free(priv);
			if (rc == SSH_AUTH_SUCCESS) {
				ssh_key_free(cert);
				verbose("authenticated with certificate %s",
				    h->cert_files[i]);
				return SSH_AUTH_SUCCESS;
			}
			break;
		}
		ssh_key_free(cert);
	}
	return SSH_AUTH_DENIED;
}
