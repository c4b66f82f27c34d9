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
 * knownhosts.c - the parts of known_hosts that libssh 0.10 does not read.
 *
 * libssh 0.10 skips marker lines: a key marked @revoked is not refused,
 * and a host trusted through @cert-authority looks unknown - so that
 * StrictHostKeyChecking=accept-new, or a yes at the prompt, would trust
 * on first use a host that ssh verifies by its certificate or refuses.
 * It also looks keys up only by the connected host name, where
 * HostKeyAlias files them under another.  We read those lines ourselves,
 * with ssh's matching: comma-separated patterns with * and ?, a !pattern
 * that vetoes the line, or one |1|salt|hash hashed name.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "knownhosts.h"

/* One parsed line: pointers into the caller's copy. */
struct kh_line {
	const char	*marker;	/* "@revoked", "@cert-authority" or NULL */
	const char	*hosts;
	const char	*type;
	const char	*blob;		/* base64 */
};

/* Split a known_hosts line in place; 0, or -1 for blank/comment/short. */
static int
kh_parse(char *line, struct kh_line *l)
{
	char *w[4], *save = NULL, *t;
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (t = strtok_r(line, " \t", &save); t != NULL && n < 4;
	    t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n < 3 || w[0][0] == '#' || (w[0][0] == '@' && n < 4))
		return -1;
	l->marker = w[0][0] == '@' ? w[0] : NULL;
	l->hosts = w[l->marker != NULL];
	l->type = w[1 + (l->marker != NULL)];
	l->blob = w[2 + (l->marker != NULL)];
	return 0;
}

/* ssh's wildcard match: * any run, ? any one character, no case. */
static int
glob_match(const char *s, const char *p)
{
	for (; *p != '\0'; s++, p++) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return 1;
			for (; *s != '\0'; s++)
				if (glob_match(s, p))
					return 1;
			return 0;
		}
		if (*s == '\0' || (*p != '?' &&
		    tolower((unsigned char)*p) != tolower((unsigned char)*s)))
			return 0;
	}
	return *s == '\0';
}

static int
hashed_matches(const char *field, const char *name)
{
	unsigned char salt[64], want[64], mac[EVP_MAX_MD_SIZE];
	char buf[1024], *p;
	unsigned int maclen;
	int slen, wlen;

	strlcpy(buf, field + 3, sizeof(buf));
	if ((p = strchr(buf, '|')) == NULL)
		return 0;
	*p++ = '\0';
	if (strlen(buf) > 80 || strlen(p) > 80)
		return 0;
	slen = EVP_DecodeBlock(salt, (unsigned char *)buf, strlen(buf));
	wlen = EVP_DecodeBlock(want, (unsigned char *)p, strlen(p));
	if (slen < 20 || wlen < 20)
		return 0;
	if (HMAC(EVP_sha1(), salt, 20, (const unsigned char *)name,
	    strlen(name), mac, &maclen) == NULL)
		return 0;
	return memcmp(mac, want, 20) == 0;
}

int
kh_field_matches(const char *field, const char *name)
{
	char buf[1024], *tok, *save;
	int yes = 0;

	if (strncmp(field, "|1|", 3) == 0)
		return hashed_matches(field, name);
	if (strlcpy(buf, field, sizeof(buf)) >= sizeof(buf))
		return 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (*tok == '!') {
			if (glob_match(name, tok + 1))
				return 0;	/* a veto, as in ssh */
		} else if (glob_match(name, tok))
			yes = 1;
	}
	return yes;
}

/* Does the line's key equal key (same type, same blob)? */
static int
same_key(const struct kh_line *l, ssh_key key, int *same_type)
{
	char *b64 = NULL;
	int same;

	*same_type = strcmp(l->type, ssh_key_type_to_char(ssh_key_type(key)))
	    == 0;
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return 0;
	same = strcmp(b64, l->blob) == 0;
	ssh_string_free_char(b64);
	return same;
}

/*
 * Call fn for each parsed line of the files until it returns nonzero;
 * that value is returned, and where names the line.
 */
static int
kh_each(const char *const *files, size_t n, char *where, size_t len,
    int (*fn)(const struct kh_line *, const char *, int, void *), void *arg)
{
	struct kh_line l;
	char *line = NULL;
	size_t cap = 0, i;
	int ln, r = 0;
	FILE *f;

	for (i = 0; i < n && r == 0; i++) {
		if (files[i] == NULL || (f = fopen(files[i], "re")) == NULL)
			continue;
		for (ln = 1; r == 0 && getline(&line, &cap, f) != -1; ln++)
			if (kh_parse(line, &l) == 0 &&
			    (r = fn(&l, files[i], ln, arg)) != 0)
				snprintf(where, len, "%s:%d", files[i], ln);
		fclose(f);
	}
	free(line);
	return r;
}

static int
revoked_fn(const struct kh_line *l, const char *file, int ln, void *arg)
{
	int same_type;

	(void)file;
	(void)ln;
	return l->marker != NULL && strcmp(l->marker, "@revoked") == 0 &&
	    same_key(l, arg, &same_type);
}

int
kh_revoked(const char *const *files, size_t n, ssh_key key, char *where,
    size_t len)
{
	/* Whatever its host patterns: a revoked key is never trusted. */
	return kh_each(files, n, where, len, revoked_fn, key);
}

static int
ca_fn(const struct kh_line *l, const char *file, int ln, void *arg)
{
	(void)file;
	(void)ln;
	return l->marker != NULL && strcmp(l->marker, "@cert-authority") ==
	    0 && kh_field_matches(l->hosts, arg);
}

int
kh_cert_authority(const char *const *files, size_t n, const char *name,
    char *where, size_t len)
{
	return kh_each(files, n, where, len, ca_fn, (void *)name);
}

struct lookup {
	const char	*name;
	ssh_key		 key;
	int		 other;		/* a line with another key for name */
	int		 other_type;	/* ... of the same type */
	char		 where[600];
};

static int
lookup_fn(const struct kh_line *l, const char *file, int ln, void *arg)
{
	struct lookup *lk = arg;
	int same_type;

	if (l->marker != NULL || !kh_field_matches(l->hosts, lk->name))
		return 0;
	if (same_key(l, lk->key, &same_type))
		return 1;
	if (!lk->other)
		snprintf(lk->where, sizeof(lk->where), "%s:%d", file, ln);
	lk->other = 1;
	lk->other_type |= same_type;
	return 0;
}

enum ssh_known_hosts_e
kh_lookup(const char *const *files, size_t n, const char *name, ssh_key key,
    char *where, size_t len)
{
	struct lookup lk;

	memset(&lk, 0, sizeof(lk));
	lk.name = name;
	lk.key = key;
	if (kh_each(files, n, where, len, lookup_fn, &lk) == 1)
		return SSH_KNOWN_HOSTS_OK;
	if (!lk.other)
		return SSH_KNOWN_HOSTS_UNKNOWN;
	strlcpy(where, lk.where, len);
	return lk.other_type ? SSH_KNOWN_HOSTS_CHANGED :
	    SSH_KNOWN_HOSTS_OTHER;
}

int
kh_add(const char *file, const char *name, ssh_key key)
{
	char *b64 = NULL, *text;
	int fd, r = -1;
	ssize_t len;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	len = asprintf(&text, "%s %s %s\n", name,
	    ssh_key_type_to_char(ssh_key_type(key)), b64);
	ssh_string_free_char(b64);
	if (len < 0)
		return -1;
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) != -1) {
		if (write(fd, text, len) == len)
			r = 0;
		if (close(fd) == -1)
			r = -1;
	}
	free(text);
	return r;
}
