/*
 * strvec.c - a growing array of string pointers (argument vectors), for
 * the launcher's and the helper's command lines.
 */
#include <stdlib.h>

#include "log.h"
#include "strvec.h"

void
strvec_push(const char ***v, size_t *n, const char *s)
{
	if ((*v = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		fatal("out of memory");
	(*v)[(*n)++] = s;
}
