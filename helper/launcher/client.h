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
 * client.h - the launcher's side of the control protocol.
 */
#ifndef TW_CLIENT_H
#define TW_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Connect to a helper socket; returns the fd or -errno. */
int	client_dial(const char *path);
/*
 * Send a bodyless request and read the reply header; a text body (STATUS)
 * is returned malloc'd in *text.  Returns the reply status (>= 0) or -errno.
 */
int	client_call(int fd, uint16_t type, const void *body, size_t len,
	    char **text);
/*
 * One exchange on a fresh connection to the helper at path: a request
 * with passfd attached (if >= 0), a reply body of at most replylen bytes
 * into reply.  Returns the reply status (0 or a positive errno) or -errno
 * when the helper cannot be reached, misbehaves, or takes more than ten
 * seconds (-EAGAIN).
 */
int	client_exchange(const char *path, uint16_t type, const void *body,
	    size_t len, int passfd, void *reply, size_t replylen);

#endif
