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
 * reach.c - detect programs LD_PRELOAD cannot reach, before exec.
 *
 * The loader ignores LD_PRELOAD for setuid/setgid programs and for files
 * with capabilities (secure-execution mode); a statically linked program
 * has no loader at all; Go programs make their socket system calls
 * directly, whatever they link.  For those the launcher and the shim fall
 * back to the helper's proxy endpoint (helper/daemon/proxy.c).
 *
 * Runs in exec hooks, possibly in a vfork() child: stack buffers only.
 */
#include <sys/stat.h>
#include <sys/xattr.h>

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reach.h"

#define SHDR_BATCH	32		/* section headers per read */
#define NAMES_MAX	4096		/* section name table kept on stack */

int
reach_lookup(const char *command, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(command, '/') != NULL) {
		if (strlen(command) >= len)
			return -1;
		memcpy(out, command, strlen(command) + 1);
		return 0;
	}
	for (p = path ? path : "/usr/bin:/bin"; ; p = end + 1) {
		end = strchrnul(p, ':');
		if ((size_t)snprintf(out, len, "%.*s%s%s", (int)(end - p), p,
		    end == p ? "" : "/", command) < len &&
		    access(out, X_OK) == 0)
			return 0;
		if (*end == '\0')
			return -1;
	}
}

static int
pread_all(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* Does a PT_INTERP program header name a loader? */
static int
has_interp(int fd, off_t phoff, unsigned phnum, unsigned phentsize)
{
	unsigned i;
	uint32_t type;

	if (phnum > 64 || phentsize < sizeof(type))
		return 0;
	for (i = 0; i < phnum; i++) {
		/* p_type is the first field in both classes. */
		if (pread_all(fd, &type, sizeof(type),
		    phoff + (off_t)i * phentsize) == 0 && type == PT_INTERP)
			return 1;
	}
	return 0;
}

static int
is_go_section(const char *name)
{
	return strcmp(name, ".go.buildinfo") == 0 ||
	    strcmp(name, ".note.go.buildid") == 0;
}

/* Go programs carry a .go.buildinfo section, stripped or not (64-bit). */
static int
is_go(int fd, const Elf64_Ehdr *e)
{
	Elf64_Shdr strsh, sh[SHDR_BATCH];
	char names[NAMES_MAX + 1], one[32];
	unsigned i, j, n;

	if (e->e_shnum == 0 || e->e_shnum > 4096 ||
	    e->e_shstrndx >= e->e_shnum || e->e_shentsize != sizeof(sh[0]) ||
	    pread_all(fd, &strsh, sizeof(strsh), e->e_shoff +
	    (off_t)e->e_shstrndx * sizeof(strsh)) == -1)
		return 0;
	if (strsh.sh_size <= NAMES_MAX &&
	    pread_all(fd, names, strsh.sh_size, strsh.sh_offset) == 0)
		names[strsh.sh_size] = '\0';
	else
		names[0] = '\0', strsh.sh_size = 0;	/* read names one by one */
	for (i = 0; i < e->e_shnum; i += n) {
		n = e->e_shnum - i < SHDR_BATCH ? e->e_shnum - i : SHDR_BATCH;
		if (pread_all(fd, sh, n * sizeof(sh[0]),
		    e->e_shoff + (off_t)i * sizeof(sh[0])) == -1)
			return 0;
		for (j = 0; j < n; j++) {
			if (strsh.sh_size > 0) {
				if (sh[j].sh_name < strsh.sh_size &&
				    is_go_section(names + sh[j].sh_name))
					return 1;
				continue;
			}
			memset(one, 0, sizeof(one));
			if (pread(fd, one, sizeof(one) - 1, strsh.sh_offset +
			    sh[j].sh_name) > 0 && is_go_section(one))
				return 1;
		}
	}
	return 0;
}

enum reach
reach_file(const char *path)
{
	struct stat st;
	Elf64_Ehdr e;
	Elf32_Ehdr e32;
	enum reach r = REACH_OK;
	int fd;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return REACH_OK;
	if (st.st_mode & S_ISUID)
		return REACH_SETUID;
	if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		return REACH_SETGID;
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return REACH_CAPS;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return REACH_OK;
	if (pread_all(fd, &e, sizeof(e), 0) == -1 ||
	    memcmp(e.e_ident, ELFMAG, SELFMAG) != 0)
		goto out;			/* a script, or too short */
	if (e.e_ident[EI_CLASS] == ELFCLASS32) {
		if (pread_all(fd, &e32, sizeof(e32), 0) == 0 &&
		    !has_interp(fd, e32.e_phoff, e32.e_phnum,
		    e32.e_phentsize))
			r = REACH_STATIC;
		goto out;			/* Go detection: 64-bit only */
	}
	if (!has_interp(fd, e.e_phoff, e.e_phnum, e.e_phentsize))
		r = REACH_STATIC;
	else if (is_go(fd, &e))
		r = REACH_GO;
 out:
	close(fd);
	return r;
}

void
reach_why(enum reach r, const char *path, char *why, size_t len)
{
	switch (r) {
	case REACH_SETUID:
	case REACH_SETGID:
		snprintf(why, len, "%s is set%sid: the loader ignores "
		    "LD_PRELOAD for it", path, r == REACH_SETUID ? "u" : "g");
		break;
	case REACH_CAPS:
		snprintf(why, len, "%s has file capabilities: the loader "
		    "ignores LD_PRELOAD for it", path);
		break;
	case REACH_STATIC:
		snprintf(why, len, "%s is statically linked: no loader, no "
		    "LD_PRELOAD", path);
		break;
	case REACH_GO:
		snprintf(why, len, "%s is a Go program: it makes its socket "
		    "system calls itself", path);
		break;
	case REACH_OK:
		snprintf(why, len, "%s is reached", path);
		break;
	}
}
