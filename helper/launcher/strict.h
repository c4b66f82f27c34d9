/* strict.h - -o Strict=yes (strict.c). */
#ifndef TW_STRICT_H
#define TW_STRICT_H

#include <stddef.h>

/*
 * Make io_uring_setup fail with ENOSYS for this process and everything it
 * starts (a seccomp filter; sets no_new_privs).  Returns 0, or -1 with a
 * message in err.
 */
int	strict_refuse_io_uring(char *err, size_t len);

#endif
