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
 * rundir.h - the per-user runtime directory holding helper sockets.
 */
#ifndef TW_RUNDIR_H
#define TW_RUNDIR_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Find or create the runtime directory: $XDG_RUNTIME_DIR/tunnelwrap, else
 * /tmp/tunnelwrap-UID.  It must be a directory (not a symlink) owned by us
 * with no group/other access; anything else is refused, since whoever
 * controls it could impersonate our helper.  Returns 0, or -1 with a
 * message in err.
 */
int	rundir_get(char *buf, size_t len, char *err, size_t errlen);

/*
 * Put text into path whole: written to a temporary name beside it (mode
 * 0600), then renamed, so that a reader sees all of it or the old file.
 * Returns 0, or -1 with errno set (the temporary file removed).
 */
int	rundir_write_file(const char *path, const char *text);
/*
 * Read a small file of ours (not a symlink) into buf, NUL-terminated.
 * Returns its length, or -1 with errno set (EFBIG: it does not fit).
 */
ssize_t	rundir_read_file(const char *path, char *buf, size_t len);

#endif
