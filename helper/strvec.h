/*
 * strvec.h - a growing array of string pointers (argument vectors).
 */
#ifndef TW_STRVEC_H
#define TW_STRVEC_H

#include <stddef.h>

/* Append s to *v (of *n entries), growing it; out of memory is fatal. */
void	strvec_push(const char ***v, size_t *n, const char *s);

#endif
