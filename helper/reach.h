/*
 * reach.h - can the shim reach a program at all?
 */
#ifndef TW_REACH_H
#define TW_REACH_H

#include <stddef.h>

/*
 * Why LD_PRELOAD cannot reach the program COMMAND names (looked up in PATH
 * like execvp): "statically linked", "setuid", "a Go program" ..., written
 * into why; returns 1 then, 0 if the shim will be loaded (or the file
 * cannot be read: exec will say what is wrong).
 */
int	reach_problem(const char *command, char *why, size_t len);

#endif
