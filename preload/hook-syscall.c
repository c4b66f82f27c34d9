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
 * hook-syscall.c - syscall(): the socket calls a program makes by number.
 *
 * libuv (dig, host, node) and others call syscall(SYS_sendmmsg, ...) or
 * syscall(SYS_connect, ...) themselves; without this hook those would
 * skip the rules.  connect, sendto, sendmsg and sendmmsg go through the
 * same work as their libc hooks (tunnel, deny, direct, the DNS checks).
 *
 * Every other number passes through untouched, with all six arguments:
 * syscall() has no way to say how many the caller gave, so six longs are
 * read (what glibc's own syscall() hands the kernel), and numbers we do
 * not know are never refused (torsocks refuses them; real programs broke).
 *
 * The pass-through must work at any time, even before the shim is set up
 * or while it is (a malloc that calls syscall() while we resolve symbols):
 * it never calls shim_get().  libc's syscall() is found at load time; if
 * it is not known yet, the call is made directly where we know how.
 *
 * io_uring (IORING_OP_CONNECT, SENDMSG) is out of reach: its operations
 * are submitted through shared memory, with no call to hook.  README's
 * Limits says so.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>

#include "shim.h"

typedef long (*syscall_fn)(long, ...);

static syscall_fn real_syscall;

__attribute__((constructor)) static void
find_real_syscall(void)
{
	syscall_fn f = (syscall_fn)dlsym(RTLD_NEXT, "syscall");

	if (f != NULL)
		__atomic_store_n(&real_syscall, f, __ATOMIC_RELEASE);
}

/* The kernel's own answer, with no libc in between (-1 and errno). */
static long
direct_syscall(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long r;

	__asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b),
	    "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	long r;

	__asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2),
	    "r"(x3), "r"(x4), "r"(x5) : "memory");
	r = x0;
#else
	syscall_fn fn = (syscall_fn)dlsym(RTLD_NEXT, "syscall");

	if (fn == NULL) {
		errno = ENOSYS;
		return -1;
	}
	__atomic_store_n(&real_syscall, fn, __ATOMIC_RELEASE);
	return fn(n, a, b, c, d, e, f);
#endif
#if defined(__x86_64__) || defined(__aarch64__)
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
#endif
}

SHIM_EXPORT long
syscall(long number, ...)
{
	syscall_fn fn;
	va_list ap;
	long a[6];
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (number) {
#ifdef SYS_connect
	case SYS_connect:
		return shim_connect((int)a[0], (const struct sockaddr *)a[1],
		    (socklen_t)a[2]);
#endif
#ifdef SYS_sendto
	case SYS_sendto:
		return shim_sendto((int)a[0], (const void *)a[1],
		    (size_t)a[2], (int)a[3], (const struct sockaddr *)a[4],
		    (socklen_t)a[5]);
#endif
#ifdef SYS_sendmsg
	case SYS_sendmsg:
		return shim_sendmsg((int)a[0], (const struct msghdr *)a[1],
		    (int)a[2]);
#endif
#ifdef SYS_sendmmsg
	case SYS_sendmmsg:
		return shim_sendmmsg((int)a[0], (struct mmsghdr *)a[1],
		    (unsigned int)a[2], (int)a[3]);
#endif
	}
	if ((fn = __atomic_load_n(&real_syscall, __ATOMIC_ACQUIRE)) != NULL)
		return fn(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	return direct_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
