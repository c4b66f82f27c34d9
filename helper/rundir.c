/*
 * rundir.c - the per-user runtime directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rundir.h"

int
rundir_get(char *buf, size_t len, char *err, size_t errlen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (xdg != NULL && *xdg == '/')
		n = snprintf(buf, len, "%s/tunnelwrap", xdg);
	else
		n = snprintf(buf, len, "/tmp/tunnelwrap-%u",
		    (unsigned)getuid());
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "runtime directory path too long");
		return -1;
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", buf,
		    strerror(errno));
		return -1;
	}
	if (lstat(buf, &st) == -1) {
		snprintf(err, errlen, "%s: %s", buf, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s is not a private directory of "
		    "ours (must be a directory, owned by uid %u, mode 0700); "
		    "refusing to use it", buf, (unsigned)getuid());
		return -1;
	}
	return 0;
}
