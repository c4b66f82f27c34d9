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
 * reach.h - can the shim reach a program at all?
 *
 * Shared by the launcher (for COMMAND) and the shim (for what a wrapped
 * program runs in turn).  No allocation, no stdio: the shim calls these
 * from exec hooks that may run in a vfork() child.
 */
#ifndef TW_REACH_H
#define TW_REACH_H

#include <stddef.h>

enum reach {
	REACH_OK,		/* the loader will load the shim */
	REACH_SETUID,		/* secure execution: LD_PRELOAD ignored */
	REACH_SETGID,
	REACH_CAPS,		/* file capabilities: the same */
	REACH_STATIC,		/* no loader at all */
	REACH_GO,		/* makes its socket system calls itself */
};

/* The file execvp() would run for command, in out; 0, or -1 if none. */
int	reach_lookup(const char *command, char *out, size_t len);

/*
 * What keeps LD_PRELOAD from the program at path.  REACH_OK also when the
 * file cannot be read or is not ELF (a script: its interpreter is reached).
 */
enum reach reach_file(const char *path);

/* One line saying why, for the program at path. */
void	reach_why(enum reach r, const char *path, char *why, size_t len);

#endif
