/*
 * synth.h - is an address one of the synthetic (remote-DNS) pools?
 *
 * Shared by the shim (connect and send hooks) and the launcher's seccomp
 * supervisor, which decide the same way.  Pure functions: no allocation,
 * no state.
 */
#ifndef TW_SYNTH_H
#define TW_SYNTH_H

#include <netinet/in.h>
#include <sys/socket.h>

struct synth_pools {
	struct in_addr	 v4;
	int		 v4len;
	struct in6_addr	 v6;
	int		 v6len;
};

/*
 * An IPv4-mapped IPv6 address (what dual-stack programs like Java use) as
 * plain IPv4, in buf; any other address unchanged.  Returns sa or buf.
 */
const struct sockaddr *synth_unmap(const struct sockaddr *sa,
	    struct sockaddr_in *buf);

/* Nonzero if sa (mapped ones too) lies in one of the pools. */
int	synth_contains(const struct synth_pools *, const struct sockaddr *sa);

#endif
