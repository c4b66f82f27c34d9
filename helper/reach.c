/*
 * reach.c - detect programs LD_PRELOAD cannot reach, before exec.
 *
 * The loader ignores LD_PRELOAD for setuid/setgid programs and for files
 * with capabilities (secure-execution mode); a statically linked program
 * has no loader at all; Go programs make their socket system calls
 * directly, whatever they link.  For those the launcher falls back to the
 * helper's proxy endpoint (proxy.c) and says so.
 */
#include <sys/stat.h>
#include <sys/xattr.h>

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "reach.h"

/* execvp's lookup: the path COMMAND will run, or -1. */
static int
resolve(const char *command, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(command, '/') != NULL)
		return strlcpy(out, command, len) < len ? 0 : -1;
	for (p = path ? path : "/usr/bin:/bin"; *p != '\0'; p = end + !!*end) {
		end = strchrnul(p, ':');
		if ((size_t)snprintf(out, len, "%.*s/%s", (int)(end - p), p,
		    command) < len && access(out, X_OK) == 0)
			return 0;
		if (*end == '\0')
			break;
	}
	return -1;
}

static int
pread_all(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* ELF facts: has an interpreter?  Is it Go (section names)? */
static int
elf_facts(int fd, int *dynamic, int *go)
{
	Elf64_Ehdr e;
	Elf64_Phdr ph;
	Elf64_Shdr sh, strsh;
	Elf32_Ehdr e32;
	Elf32_Phdr ph32;
	char *names = NULL;
	int i;

	*dynamic = *go = 0;
	if (pread_all(fd, &e, sizeof(e), 0) == -1 ||
	    memcmp(e.e_ident, ELFMAG, SELFMAG) != 0)
		return -1;
	if (e.e_ident[EI_CLASS] == ELFCLASS32) {
		if (pread_all(fd, &e32, sizeof(e32), 0) == -1)
			return -1;
		for (i = 0; i < e32.e_phnum && i < 64; i++)
			if (pread_all(fd, &ph32, sizeof(ph32), e32.e_phoff +
			    (off_t)i * e32.e_phentsize) == 0 &&
			    ph32.p_type == PT_INTERP)
				*dynamic = 1;
		return 0;		/* Go detection: 64-bit only */
	}
	for (i = 0; i < e.e_phnum && i < 64; i++)
		if (pread_all(fd, &ph, sizeof(ph), e.e_phoff +
		    (off_t)i * e.e_phentsize) == 0 && ph.p_type == PT_INTERP)
			*dynamic = 1;
	if (e.e_shnum == 0 || e.e_shstrndx >= e.e_shnum || e.e_shnum > 4096 ||
	    pread_all(fd, &strsh, sizeof(strsh), e.e_shoff +
	    (off_t)e.e_shstrndx * e.e_shentsize) == -1 ||
	    strsh.sh_size > (1 << 20) ||
	    (names = calloc(1, strsh.sh_size + 1)) == NULL ||
	    pread_all(fd, names, strsh.sh_size, strsh.sh_offset) == -1) {
		free(names);
		return 0;
	}
	for (i = 0; i < e.e_shnum && !*go; i++) {
		if (pread_all(fd, &sh, sizeof(sh), e.e_shoff +
		    (off_t)i * e.e_shentsize) == -1 ||
		    sh.sh_name >= strsh.sh_size)
			continue;
		if (strcmp(names + sh.sh_name, ".go.buildinfo") == 0 ||
		    strcmp(names + sh.sh_name, ".note.go.buildid") == 0)
			*go = 1;
	}
	free(names);
	return 0;
}

int
reach_problem(const char *command, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, dynamic, go;

	if (resolve(command, path, sizeof(path)) == -1 ||
	    stat(path, &st) == -1)
		return 0;
	if (st.st_mode & (S_ISUID | S_ISGID)) {
		snprintf(why, len, "%s is set%sid: the loader ignores "
		    "LD_PRELOAD for it", path, st.st_mode & S_ISUID ? "u" : "g");
		return 1;
	}
	if (getxattr(path, "security.capability", NULL, 0) > 0) {
		snprintf(why, len, "%s has file capabilities: the loader "
		    "ignores LD_PRELOAD for it", path);
		return 1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (elf_facts(fd, &dynamic, &go) == -1) {
		close(fd);
		return 0;		/* a script: its interpreter is reached */
	}
	close(fd);
	if (!dynamic) {
		snprintf(why, len, "%s is statically linked: no loader, no "
		    "LD_PRELOAD", path);
		return 1;
	}
	if (go) {
		snprintf(why, len, "%s is a Go program: it makes its socket "
		    "system calls itself", path);
		return 1;
	}
	return 0;
}
