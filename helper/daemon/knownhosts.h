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
 * knownhosts.h - what known_hosts files say that libssh 0.10 does not
 * read: @revoked and @cert-authority lines, and keys filed under a
 * HostKeyAlias.
 */
#ifndef TW_KNOWNHOSTS_H
#define TW_KNOWNHOSTS_H

#include <stddef.h>

#include <libssh/libssh.h>

/*
 * Does a known_hosts host field (a comma-separated list of patterns with
 * * ? and !negation, or one |1|salt|hash) name name, as ssh matches it?
 */
int	kh_field_matches(const char *field, const char *name);
/*
 * The first line of the files (n of them) that marks key @revoked:
 * returns 1 and "FILE:LINE" in where, else 0.
 */
int	kh_revoked(const char *const *files, size_t n, ssh_key key,
	    char *where, size_t len);
/*
 * The first @cert-authority line of the files whose hosts match name:
 * returns 1 and "FILE:LINE" in where, else 0.
 */
int	kh_cert_authority(const char *const *files, size_t n,
	    const char *name, char *where, size_t len);
/*
 * The key known for name (a HostKeyAlias, looked up as written, with no
 * port) compared with key: SSH_KNOWN_HOSTS_OK, _CHANGED (where: the
 * first line with another key for name) or _UNKNOWN.
 */
enum ssh_known_hosts_e kh_lookup(const char *const *files, size_t n,
	    const char *name, ssh_key key, char *where, size_t len);
/* Append "name type base64" to file, as ssh adds a host.  0 or -1. */
int	kh_add(const char *file, const char *name, ssh_key key);

#endif
