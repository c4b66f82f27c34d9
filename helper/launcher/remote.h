/*
 * remote.h - tunnelwrap -e: run a command on the bastion.
 */
#ifndef TW_REMOTE_H
#define TW_REMOTE_H

/*
 * Run argv (joined like ssh does) on the bastion through the helper at
 * sockpath, relaying stdin, stdout and stderr.  Returns the remote exit
 * status; 255 when it died of a signal (reported) or never ran.
 */
int	remote_run(const char *sockpath, char **argv, int argc, int pty,
	    int x11, int agent);

#endif
