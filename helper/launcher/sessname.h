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
 * sessname.h - naming a session's helper by the account and bastion it
 * reaches, as ssh's ControlPath %C names a master, so that every way of
 * naming one bastion shares one helper.
 */
#ifndef TW_SESSNAME_H
#define TW_SESSNAME_H

#include <stddef.h>

#include "sshg.h"

struct sessname {
	char	 path[108];	/* RUNDIR/S.<hash of canon> */
	char	 canon[4608];	/* user@host:port [via ...], for messages */
	char	*resolved;	/* ssh -G's output once run, else NULL */
	int	 from_cache;	/* canon came from the name cache */
};

/*
 * Name the helper for q: from the runtime directory's name cache when its
 * entry for exactly these inputs is still valid (no configuration file it
 * depends on has changed), else by asking ssh -G (fresh forces that) and
 * caching the answer.  Returns 0, or -1 with a message in err (the ssh
 * configuration does not resolve, a path too long).
 */
int	sessname_find(struct sessname *sn, const char *rundir,
	    const struct sshg_query *q, int fresh, char *err, size_t errlen);
/*
 * The ssh -G keys whose values differ between what q resolves to (asked
 * now unless sn->resolved holds it) and the running helper's record
 * beside its socket (SOCKET.conf), comma separated in buf.  Returns how
 * many differ, or -1 when either side is unknown.
 */
int	sessname_differ(struct sessname *sn, const struct sshg_query *q,
	    char *buf, size_t len);
void	sessname_free(struct sessname *sn);

#endif
