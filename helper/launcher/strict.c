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
 * strict.c - -o Strict=yes: wrapped programs get no io_uring.
 *
 * io_uring submits connects and sends through memory shared with the
 * kernel: no C library call, nothing a preloaded shim can see, so a program
 * using it (liburing makes its own system calls) would connect wherever it
 * likes, rules or not.  The one place that reaches every such call is the
 * kernel: a seccomp filter, installed here before COMMAND runs and
 * inherited by everything it starts, makes io_uring_setup fail with ENOSYS,
 * which programs already take for "no io_uring on this kernel" and fall
 * back to plain calls, which the shim sees.
 *
 * A filter needs no_new_privs (without CAP_SYS_ADMIN): set-user-ID and
 * file-capability programs started under it run without their privileges.
 * That is the price of Strict=yes, and why it is not the default.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "strict.h"

#if defined(__x86_64__)
#define NATIVE_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH	AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH	AUDIT_ARCH_I386
#endif

/* io_uring_setup is 425 for x86_64 (x32 too, with its bit), i386, arm64. */
#define IO_URING_SETUP	425
#define X32_BIT		0x40000000u

int
strict_refuse_io_uring(char *err, size_t len)
{
#ifdef NATIVE_ARCH
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		/* The native ABI, or (on x86_64) the i386 one: same number. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 2, 0),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~X32_BIT),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IO_URING_SETUP, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

#if defined(SYS_io_uring_setup)
	_Static_assert(SYS_io_uring_setup == IO_URING_SETUP,
	    "io_uring_setup's number");
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1) {
		snprintf(err, len, "Strict=yes: cannot install the seccomp "
		    "filter that refuses io_uring: %s", strerror(errno));
		return -1;
	}
	return 0;
#else
	snprintf(err, len, "Strict=yes: refusing io_uring is not supported "
	    "on this architecture");
	return -1;
#endif
}
