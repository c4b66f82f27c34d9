/*
 * rundir.h - the per-user runtime directory holding helper sockets.
 */
#ifndef TW_RUNDIR_H
#define TW_RUNDIR_H

#include <stddef.h>

/*
 * Find or create the runtime directory: $XDG_RUNTIME_DIR/tunnelwrap, else
 * /tmp/tunnelwrap-UID.  It must be a directory (not a symlink) owned by us
 * with no group/other access; anything else is refused, since whoever
 * controls it could impersonate our helper.  Returns 0, or -1 with a
 * message in err.
 */
int	rundir_get(char *buf, size_t len, char *err, size_t errlen);

#endif
