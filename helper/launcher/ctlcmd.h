/*
 * ctlcmd.h - tunnelwrap -O: status, stop, top.
 */
#ifndef TW_CTLCMD_H
#define TW_CTLCMD_H

/*
 * Run -O cmd ("status", "stop", "top") against the helper at path; json
 * selects -O status --json.  dest names the session in messages.  Returns
 * the launcher's exit status.
 */
int	ctlcmd_run(const char *path, const char *dest, const char *cmd,
	    int json);
/* Nonzero if cmd is a known -O command. */
int	ctlcmd_known(const char *cmd);

#endif
