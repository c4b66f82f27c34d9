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
 * fwdspec.h - the launcher's -L, -R and -D, as ssh spells them.
 */
#ifndef TW_FWDSPEC_H
#define TW_FWDSPEC_H

#include <stddef.h>

#include "../common/proto.h"

/*
 * Parse "[bind:]port:host:hostport" (-L, -R) or "[bind:]port" (-D) into
 * *out; IPv6 addresses in brackets, an empty or "*" bind means every
 * address.  Returns 0, or -1 with a message in err.
 */
int	fwdspec_parse(int kind, const char *spec, struct proto_forward *out,
	    char *err, size_t errlen);

/*
 * Ask the helper at socket path for the forward; tail (the -D rules) may
 * be NULL.  *port (if not NULL) gets the listening port, which the helper
 * chose when it was 0.  Returns 0, or -1 with the reason in err.
 */
int	fwdspec_send(const char *path, const struct proto_forward *,
	    const char *tail, size_t taillen, int *port, char *err,
	    size_t errlen);

#endif
