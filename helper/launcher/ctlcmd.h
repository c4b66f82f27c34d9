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
 * ctlcmd.h - tunnelwrap -O: status, stop, top.
 */
#ifndef TW_CTLCMD_H
#define TW_CTLCMD_H

/*
 * Run -O cmd ("status", "stop", "top") against the helper at path; json
 * selects -O status --json.  dest names the session in messages.  Returns
 * the launcher's exit status.
 */
int	ctlcmd_run(const char *path, const char *dest, const char *cmd,
	    int json);
/* Nonzero if cmd is a known -O command. */
int	ctlcmd_known(const char *cmd);

#endif
