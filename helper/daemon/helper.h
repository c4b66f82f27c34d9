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
 * helper.h - tunnelwrap-helper: one SSH session, many tunneled sockets.
 *
 * One single-threaded epoll loop.  libssh is driven from it: the session
 * socket is registered like any other descriptor and pumped with an
 * ssh_event holding only that session, a bounded number of times while
 * readable (putting local descriptors into an ssh_event would poll all of
 * them for every 4 KiB libssh reads).
 *
 * Life of a tunneled connection (struct conn), see relay.c (and handover.c
 * for parking and pairing, pump.c for the bytes):
 *   WAITING    the session is down (reconnecting); the program's socket
 *              waits parked, up to the connect timeout.
 *   OPENING    a direct-tcpip channel open is in flight; the program's
 *              socket (a dup of it) waits parked in SYN_SENT.
 *   PAIRING    the channel is open; our relay socket completes the
 *              parked connect, and the pair is checked to be the
 *              program's own socket before anything is relayed.
 *   OPEN       the parked connect was completed with our relay socket;
 *              bytes flow between it and the channel, each direction
 *              bounded by the other side's pace.
 *   FAILED     the channel failed or the session went away.
 * A conn is freed once both halves are done (after pumping, never from a
 * libssh callback).
 */
#ifndef TW_HELPER_H
#define TW_HELPER_H

#include <sys/queue.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>	/* ssh_set_message_callback, ssh_message_* */

#include "../common/proto.h"

struct helper;
struct dns_state;

/* An epoll registration: the loop calls fn with the ready events. */
struct watch {
	int		 fd;
	uint32_t	 events;	/* currently registered */
	int		 registered;
	void		(*fn)(struct helper *, struct watch *, uint32_t);
	void		*arg;
};

enum conn_state {
	CONN_WAITING,		/* parked, waiting for the session to return */
	CONN_OPENING,
	CONN_PAIRING,		/* parked connect completed from our side;
				   the pair is checked before any byte */
	CONN_LOCAL,		/* -R: channel open, connecting the target */
	CONN_OPEN,
	CONN_FAILED,
};

/* Where the local end of a conn comes from. */
struct conn;
/*
 * What differs between kinds of connection, after dropbear's per-channel-
 * type struct; relay.c and pump.c call only these.  The kinds: a
 * program's socket, handed over (handover.c: TCP and `tunnel unix:`), a
 * socket accepted by a -L or -D listener or the DNS responder and a
 * channel the bastion opened for -R/publish (relay.c), a session channel
 * running a command for -e (exec.c).  NULL members do nothing.
 */
struct conn_ops {
	const char *name;
	/* Send or advance the channel open: SSH_OK, SSH_AGAIN or SSH_ERROR
	 * (NULL: the bastion opened it). */
	int	(*open)(struct conn *);
	/* The open advances by channel requests, whose answers leave no
	 * mark: ask on every pump (see open_may_advance()). */
	int	 open_each_pump;
	/* The channel opened: connect the local end and go OPEN (or
	 * PAIRING), or relay_failed(). */
	void	(*opened)(struct conn *);
	/* No channel (errno err): tell the local end, before relay.c
	 * closes it. */
	void	(*failed)(struct conn *, int err);
	/* After a reconnect: does the local end still want a channel?
	 * 1, or 0 with the conn failed. */
	int	(*wanted)(struct conn *);
	/* Extended data (stderr): returns the bytes taken. */
	int	(*stderr_data)(struct conn *, const void *, uint32_t);
	/* Still something to deliver besides the stream?  1 or 0. */
	int	(*busy)(const struct conn *);
	/* Ends at the channel's close only (an exit status follows EOF). */
	int	 ends_at_close;
	/* The conn is being freed. */
	void	(*freed)(struct conn *);
	ssh_channel_exit_status_callback exit_status;
	ssh_channel_exit_signal_callback exit_signal;
};

enum exec_step { EXEC_OPEN, EXEC_PTY, EXEC_X11, EXEC_AGENT, EXEC_RUN,
	EXEC_RUNNING };

struct exec_state {
	struct proto_exec req;
	char		*cmd;
	enum exec_step	 step;
	struct watch	 err;		/* the launcher's stderr socket */
	struct watch	 ctlw;		/* its control connection */
	int		 err_blocked;
	int		 exit_status;	/* -1 until the bastion says */
	char		 exit_signal[48];
	int		 failure;	/* errno when it never ran */
};

/* Proxy (-D) replies, called when the channel opens or fails. */
struct accept_hooks {
	void	(*opened)(struct conn *);
	void	(*failed)(struct conn *, int err);
};

enum fwd_state {
	FWD_PENDING,		/* remote: to be requested */
	FWD_REQUESTING,
	FWD_ACTIVE,
	FWD_FAILED,
	FWD_CANCELLING,
};

struct fwd {
	TAILQ_ENTRY(fwd) entry;
	struct helper	*h;
	int		 kind;		/* PROTO_FWD_* */
	enum fwd_state	 state;
	char		 bind[PROTO_NAMELEN];
	uint16_t	 port;		/* listening port (ours or remote) */
	uint16_t	 remote_port;	/* as bound at the bastion */
	char		 target[PROTO_NAMELEN];
	uint16_t	 target_port;
	char		 origin[PROTO_RULELEN];
	struct watch	 listen;	/* -L/-D */
	struct watch	 listen_alt;	/* the bind name's other family, or -1 */
	struct rules	*rules;		/* -D */
	char		*rules_text;	/* the automatic proxy's, to share it */
	int		 auto_proxy;	/* for static/setuid programs */
	int		 owner_only;	/* on loopback: our uid's sockets only */
	unsigned	 refused;	/* connections from other users */
	pid_t		 pid;		/* publish */
	uint64_t	 ino;
	unsigned	 accepted;
	char		 err[256];
};
TAILQ_HEAD(fwd_list, fwd);
struct handshake;
TAILQ_HEAD(handshake_list, handshake);

/* User-space holding area for bytes read from libssh but not yet written. */
struct chunk {
	char		*data;
	size_t		 off, len;
};

/* A connection's receive window, see window.c. */
struct win {
	TAILQ_ENTRY(conn) due_entry;	/* on h->win.due */
	uint32_t	 target;	/* window kept granted; 0: libssh's */
	uint32_t	 held;		/* bytes libssh holds for us */
	uint64_t	 rx;		/* bytes received on the channel */
	uint64_t	 edge;		/* rx the peer may reach (estimate) */
	uint64_t	 probe_edge;	/* a round trip being measured */
	uint64_t	 probe_t;	/* ns; 0: none */
	uint64_t	 epoch_t, epoch_rx;	/* the current RTT's start */
	uint64_t	 epoch_samples;	/* wc->samples then */
	uint64_t	 rate;		/* bytes/s in the last RTT */
	unsigned	 due:1;		/* on the due list */
	unsigned	 blocked:1;	/* the reader fell behind this RTT */
	unsigned	 settled:1;	/* met a queue: grow by eighths */
};

/* Window memory for the session, see window.c. */
struct winctl {
	TAILQ_HEAD(, conn) due;		/* conns that received data */
	uint32_t	 max_conn;	/* ChannelWindowMax */
	uint64_t	 max_total;	/* ChannelWindowTotal */
	uint64_t	 total;		/* sum of the targets */
	uint64_t	 peak;		/* its high-water mark */
	uint64_t	 rtt_min;	/* ns, from the window; 0: unknown */
	uint64_t	 rtt_last;	/* ns, the latest sample */
	uint64_t	 samples;	/* how many so far */
	uint64_t	 grown, shrunk, topups;	/* counters, for -O status */
	int		 trim;		/* conns freed: malloc_trim when idle */
	char		*scratch;	/* max_conn bytes, touched only in part */
};

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct helper	*h;
	enum conn_state	 state;
	const struct conn_ops *ops;	/* its kind */
	const struct accept_hooks *hooks;
	int		 proxy;		/* proxy.c's protocol, for hooks */
	struct chunk	 pre;		/* bytes for the channel before any */
	struct chunk	 held;		/* read from the program, not yet taken
					   by libssh (a key exchange runs) */
	struct exec_state *exec;	/* a remote command (exec.c) */
	int		 x11_filter;	/* X11: setup request not seen yet */
	int		(*down_filter)(struct conn *);	/* rewrites it: 1 done,
					   0 more needed, -1 bad */
	unsigned char	 x11_fake[32], x11_real[32];
	int		 x11_fake_len, x11_real_len;
	uint64_t	 id;
	ssh_channel	 ch;
	struct ssh_channel_callbacks_struct cb;
	int		 sockdup;	/* program's socket until paired */
	int		 prog_fd;	/* its number in the program */
	int		 ctl;		/* control conn awaiting a reply, or -1 */
	int		 nonblock;	/* program socket was non-blocking */
	uint64_t	 ino;		/* program socket inode */
	struct sockaddr_storage local_addr;	/* program socket's address */
	struct proto_addr dest;		/* what the program connected to */
	struct watch	 local;		/* our end of the program's connection */
	struct chunk	 down;		/* channel -> local leftovers */
	/* half-close state, after OpenSSH nchan.c */
	unsigned	 local_eof:1;	/* read 0 from local: EOF sent */
	unsigned	 remote_eof:1;	/* EOF received from channel */
	unsigned	 local_shut:1;	/* shutdown(SHUT_WR) done on local */
	unsigned	 remote_closed:1;	/* CLOSE received */
	unsigned	 dead:1;	/* free at the next reap */
	unsigned	 wait_window:1;	/* local reads paused: window 0 */
	unsigned	 in_flush:1;	/* libssh is being asked for our bytes
					   (down_flush, a window top-up): its
					   callbacks for us must wait */
	unsigned	 wait_flush:1;	/* local reads paused: session output
					   backed up */
	unsigned	 down_blocked:1;	/* local socket refused bytes */
	unsigned	 local_broken:1;	/* local reset or write error */
	unsigned	 abandoned:1;	/* answered (timeout); channel still
					   opening, drop it when it settles */
	unsigned	 named:1;	/* holds a names_ref() */
	unsigned	 graceful:1;	/* close the local end without reset */
	unsigned	 parked:1;	/* the program's socket waits in SYN_SENT */
	int		 family;	/* of the program's socket */
	char		 host[PROTO_NAMELEN];
	uint16_t	 port;
	char		 rule[PROTO_RULELEN];
	pid_t		 pid;
	char		 comm[17];	/* see relay_comm() */
	int		 comm_tried;
	struct timespec	 started;
	time_t		 deadline;	/* OPENING: give up then (ETIMEDOUT) */
	uint64_t	 bytes_up, bytes_down;
	struct win	 win;		/* download flow control */
	uint64_t	 last_up, last_down;	/* at the previous tick */
	double		 rate_up, rate_down;	/* bytes/s, smoothed */
};
TAILQ_HEAD(conn_list, conn);

/* Remote-DNS table, see names.c. */
struct name_slot {
	char		*name;
	time_t		 used;
	unsigned	 refs;		/* live connections using it */
};

struct names {
	struct in_addr	 net4;
	int		 len4;
	struct in6_addr	 net6;
	int		 len6;
	struct name_slot *slots;
	size_t		 nslots, cap;
};

/* Recent outcomes of parked connects, for the shim's SO_ERROR. */
#define OUTCOMES	4096	/* a storm of failures read late keeps its reasons */
struct outcome {
	uint64_t	 ino;
	int		 err;
};

struct helper_config {
	const char	*socket_path;
	const char	*dest;		/* [user@]host[:port] */
	const char	*ssh_config;	/* -F */
	const char	**options;	/* -o Key=Value */
	size_t		 noptions;
	const char	**identities;	/* -i */
	size_t		 nidentities;
	int		 linger;	/* ControlPersist seconds; -1 forever */
	int		 connect_timeout;	/* seconds */
	int		 ready_fd;	/* tell the launcher we are up */
	char		*resolved;	/* -G: the ssh -G output the launcher
					   just ran for the same query, used
					   for the first connect only */
	const char	*pool4, *pool6;	/* synthetic pools (CIDR) */
	const char	*log_target;	/* NULL (file by the socket), "syslog",
					   "file:PATH" */
	uint32_t	 win_max;	/* -o ChannelWindowMax, 0: default */
	uint64_t	 win_total;	/* -o ChannelWindowTotal, 0: default */
};

struct helper {
	struct helper_config cfg;
	ssh_session	 template;	/* configured, never connected */
	ssh_session	 ssh;		/* the live session, or NULL */
	ssh_event	 ev;
	struct ssh_callbacks_struct *ssh_cb;
	struct watch	 sshw;
	int		 session_up;
	int		 interactive;	/* prompts allowed (first connect) */
	time_t		 last_rx;	/* session socket last readable */
	ssh_channel	 ka;		/* keepalive probe channel */
	int		 ka_open;	/* ka has been opened */
	int		 ka_failed;	/* refused: TCP keepalives instead */
	/* reconnection (session.c) */
	int		 attempting;
	pthread_t	 reconnect_thread;
	int		 reconnect_pipe[2];
	struct watch	 reconnect_w;
	int		 backoff;	/* seconds before the next attempt */
	time_t		 next_attempt;
	unsigned	 losses, reconnects;
	int		 epfd;
	struct watch	 ctl;		/* control listener */
	ino_t		 ctl_ino;	/* its file, to unlink only ours */
	dev_t		 ctl_dev;
	int		 park4, park6;	/* parking listeners, queue full */
	int		 park_fill[2];	/* what fills their queues */
	struct sockaddr_storage park4_addr, park6_addr;
	socklen_t	 park4_len, park6_len;
	struct conn_list conns;
	struct winctl	 win;
	size_t		 nconns;
	uint64_t	 next_id;
	unsigned	 attached;	/* launchers running a COMMAND */
	TAILQ_HEAD(, pid_attach) pid_attached;	/* those that exec'd it */
	time_t		 idle_since;	/* 0 while in use */
	time_t		 started;
	int		 quit;
	volatile sig_atomic_t *got_signal;	/* set by SIGTERM/SIGINT */
	struct names	 names;
	struct outcome	 outcomes[OUTCOMES];
	unsigned	 next_outcome;
	char		 peer_desc[256];	/* user@host:port, cipher */
	/* from the ssh configuration (sshconf.c) */
	int		 strict;	/* STRICT_* */
	char		 hostkey_alias[256];	/* HostKeyAlias, or "" */
	char		 identity_agent[PATH_MAX];	/* IdentityAgent, or "" */
	/* The agent filter's thread, and our copy of its socket end, by
	 * which identity_agent_stop() ends it (-1: none runs). */
	pthread_t	 agent_thread;
	int		 agent_stop_fd;
	int		 identities_only;
	char		**identity_files;	/* IdentityFile, expanded */
	size_t		 nidentity_files;
	char		**cert_files;		/* CertificateFile, expanded */
	size_t		 ncert_files;
	int		 batch;
	int		 allow_password, allow_kbdint;
	int		 alive_interval, alive_countmax;
	int		 user_ciphers;
	int		 compression;
	uint64_t	 rekey_bytes;	/* RekeyLimit; 0 = libssh's default */
	uint32_t	 rekey_secs;
	char		 notice[512];	/* last thing the user should know */
	int		 told_prohibited;	/* once per session */
	char		*iobuf;		/* one shared read buffer */
	size_t		 iobuf_len;
	int		 need_reap;
	size_t		 nopening;	/* conns in CONN_OPENING */
	size_t		 nwaiting;	/* conns with wait_window/wait_flush */
	size_t		 nqueued;	/* conns in CONN_WAITING */
	int		 pumped;	/* libssh processed packets since the
					   last relay_after_pump() */
	time_t		 last_open_scan;
	char		 open_err[160];	/* session error at the last scan: a
					   change means an open was refused */
	uint64_t	 open_retries;	/* channel opens asked again, unanswered */
	struct fwd_list	 fwds;
	struct fwd	*fwd_inflight;	/* remote forward request under way */
	struct handshake_list handshakes;
	struct conn	*x11_exec, *agent_exec;	/* latest -e -X / -e -A */
	struct watch	*paused[16];	/* listeners paused on EMFILE */
	size_t		 npaused;
	uint64_t	 total_conns;
	struct dns_state *dns;		/* DNS responders (dns.c), or NULL */
	/* Bytes of the connections already freed (-O status --json). */
	uint64_t	 freed_up, freed_down;
};

/* loop.c */
void	loop_init(struct helper *);
void	loop_run(struct helper *);
time_t	monotime(void);

/* watch.c */
struct epoll_event;
/* (Re-)register w for events (0 removes interest but keeps it known). */
void	watch_set(struct helper *, struct watch *, uint32_t events);
void	watch_del(struct helper *, struct watch *);
/* Run the handlers of one epoll_wait batch. */
void	watch_dispatch(struct helper *, struct epoll_event *, int);
/* accept4 on listener w; out of descriptors, pauses w for a second. */
int	listener_accept(struct helper *, struct watch *);
void	listeners_resume(struct helper *);

/* session.c */
/* Connect, verify the host key, authenticate.  Exits via fatal(). */
void	session_open(struct helper *);
void	session_check(struct helper *);
/* prefetch.c: the session socket read in big gulps (see there). */
void	prefetch_start(int fd);
void	prefetch_stop(void);
void	prefetch_free(void);
int	prefetch_pending(void);
void	session_pump(struct helper *);
/* Disconnect (if connected) and free the session. */
void	session_close(struct helper *);
/* Once a second: keepalive, liveness, reconnect scheduling. */
void	session_tick(struct helper *);
/* Unsent bytes the session socket holds at most (TCP_NOTSENT_LOWAT). */
#define SESSION_LOWAT	(2 * 1024 * 1024)
/* Nonzero while the session's output is really backed up. */
int	session_congested(struct helper *);
/* Bytes the session takes now without queueing in libssh; 0: congested. */
int	session_room(struct helper *);
/* Register interest in the session socket (EPOLLOUT while output waits). */
void	session_update_interest(struct helper *);

/* window.c */
/* -o ChannelWindowMax/Total: 1 if opt is one of them (fatal() when its
 * value is bad), 0 for any other option. */
int	window_option(struct helper_config *, const char *opt);
void	window_init(struct helper *);
/* Accounting from the data callback: len bytes buffered, taken of them. */
void	window_data(struct conn *, uint32_t len, uint32_t taken);
/* Bytes read out of libssh's buffer (down_flush). */
void	window_taken(struct conn *, uint32_t n);
/* After the pump: measure, grow or shrink, top up (never in callbacks);
 * before relay_after_pump, which sees what the top-ups' reads brought. */
void	window_after_pump(struct helper *);
void	window_conn_free(struct conn *);
/* After a reap: with no connection left, return free heap memory. */
void	window_idle(struct helper *);
void	window_session_down(struct helper *);
/* For -O status: text lines / the JSON session object's members. */
void	window_status(struct helper *, void (*put)(void *, const char *, ...),
	    void *, int json);

/* sshconf.c */
/* Apply ssh configuration for cfg->dest to the session; fatal() on error. */
void	sshconf_apply(struct helper *, ssh_session);

/* identity.c */
/*
 * Route libssh's agent through a filter when IdentityAgent or
 * IdentitiesOnly make ssh's choice of agent keys differ from libssh's.
 * Returns 0, or -1 if the filter could not be set up.
 */
int	identity_agent_setup(struct helper *, ssh_session);
/* End the agent filter's thread, if one runs, and wait for it. */
void	identity_agent_stop(struct helper *);
/*
 * Try every CertificateFile with the IdentityFile key it certifies (prompt
 * asks for a passphrase).  Returns SSH_AUTH_SUCCESS or SSH_AUTH_DENIED.
 */
int	identity_try_certificates(struct helper *, ssh_session,
	    ssh_auth_callback prompt);

/* relay.c: the life of a connection (kinds: struct conn_ops) */
/* Parking listeners, the read buffer, the connection list; fatal if not. */
void	relay_init(struct helper *);
/* After the session pump: channel opens advance, paused reads resume. */
void	relay_after_pump(struct helper *);
/* Free the connections that are finished or dead. */
void	relay_reap(struct helper *);
/* Fail every connection with err (shutting down). */
void	relay_fail_all(struct helper *, int err);
/* The session died: reset open conns, queue those opening. */
void	relay_session_down(struct helper *);
/* A session is live again: open channels for queued conns. */
void	relay_session_up(struct helper *);
/* Once a second: deadlines of queued conns. */
void	relay_tick(struct helper *);
/* A conn for an accepted, connected socket: opens a channel to host:port. */
struct conn *relay_accepted(struct helper *, int fd, const char *host,
	    uint16_t port, const char *origin, const struct accept_hooks *,
	    int proxy, const void *pre, size_t prelen);
/* A non-blocking TCP connect to host:port started here; fd or -1/errno. */
int	relay_dial(const char *host, uint16_t port);
/* A conn for a channel the bastion opened: connects host:port here. */
void	relay_forwarded(struct helper *, ssh_channel, const char *host,
	    uint16_t port, const char *origin, const char *from, int fromport);
/* A conn for a channel the bastion opened to a local UNIX socket. */
struct conn *relay_forwarded_unix(struct helper *, ssh_channel,
	    const char *path, const char *origin);
/* The program's name (read from /proc once, lazily). */
const char *relay_comm(struct conn *);

/* relay.c, for the kinds (handover.c, exec.c) */
/* A new conn of kind ops, named rule in status (out of memory: fatal). */
struct conn *relay_conn_new(struct helper *, const struct conn_ops *,
	    const char *rule);
/* Open c's channel now, or wait for a reconnect (ConnectTimeout). */
void	relay_start_or_wait(struct conn *);
/* Create c's channel and send the open; c goes OPENING. */
void	relay_start(struct conn *);
/* No channel for c (errno err): its kind tells its local end; reaped. */
void	relay_failed(struct conn *, int err);
/* Mark c for the next reap. */
void	relay_kill(struct conn *);
/* A direct-tcpip open to c->host:c->port: SSH_OK, SSH_AGAIN, SSH_ERROR. */
int	relay_open_direct(struct conn *);
/* An opened hook: the local end is connected already; relay. */
void	relay_local_ready(struct conn *);

/* pump.c: the bytes of an open connection */
/* The buffer local reads go through; fatal if out of memory. */
void	pump_init(struct helper *);
/* Our data, EOF and close callbacks (and its kind's) on c's channel. */
void	pump_attach(struct conn *);
/* The local socket's watch function. */
void	pump_io(struct helper *, struct watch *, uint32_t);
/* Ask epoll for the local events c can use now. */
void	pump_update(struct conn *);
/* Hand bytes to the channel: 0 all went, 1 some held, -1 error. */
int	pump_send(struct conn *, const char *, size_t);
/* Bytes for the local end still waiting?  1 or 0. */
int	pump_pending(const struct conn *);
/* Channel EOF delivered: shutdown(SHUT_WR) the local end, once. */
void	pump_shutdown_local(struct conn *);
/* Resume a conn paused for the window or the session's output. */
void	pump_resume(struct conn *, int write_pending);
/* For window.c: bytes read out of libssh, delivered first. */
void	pump_down_stash(struct conn *, const char *, size_t);

/* exec.c */
void	exec_request(struct helper *, int ctl, const struct proto_exec *,
	    const char *cmd, int fds[PROTO_MAX_FDS]);
/* A conn running the remote command x; fd is its stdio socket. */
struct conn *exec_start(struct helper *, int fd, struct exec_state *x);
ssh_channel exec_x11_open(ssh_session, const char *, int, void *);
ssh_channel exec_agent_open(ssh_session, void *);

/* forward.c */
void	fwd_request(struct helper *, int ctl, const struct proto_forward *,
	    const char *tail, size_t taillen);
void	fwd_pump(struct helper *);
void	fwd_tick(struct helper *);
void	fwd_session_down(struct helper *);
int	fwd_message(ssh_session, ssh_message, void *);
void	fwd_status(struct helper *, void (*put)(void *, const char *, ...),
	    void *);
void	fwd_free_all(struct helper *);
void	fwd_json(struct helper *, void (*put)(void *, const char *, ...),
	    void *);

/* proxy.c */
void	proxy_accept(struct helper *, int fd, struct fwd *);
void	proxy_tick(struct helper *);

/* dns.c */
/*
 * The DNS responder for a rules text (len bytes, no NUL): made on first
 * request, shared after.  Replies on ctl with its port as text, or an
 * errno (EINVAL: rules that do not parse).
 */
void	dns_request(struct helper *, int ctl, const char *rules, size_t len);
/* Once a second: upstream deadlines, idle TCP clients. */
void	dns_tick(struct helper *);
/* The responders' lines of -O status. */
void	dns_status(struct helper *, void (*put)(void *, const char *, ...),
	    void *);
/* The same as a JSON array, for -O status --json. */
void	dns_json(struct helper *, void (*put)(void *, const char *, ...),
	    void *);
void	dns_free_all(struct helper *);

/* ctl.c */
void	ctl_init(struct helper *);
void	ctl_free_attached(struct helper *);
void	ctl_reply(int fd, uint16_t type, int status, const void *body,
	    size_t len);

/* park.c */
/*
 * The loopback parking listener for family, its accept queue filled by
 * our own connects: its address in addr/alen, a filler in *filler.
 * Returns the listener, or -1 with errno.
 */
int	park_open(int family, struct sockaddr_storage *addr, socklen_t *alen,
	    int *filler);

/* handover.c */
/* The parking listeners; fatal if IPv4 loopback has none. */
void	handover_init(struct helper *);
/* A program's CONNECT with its socket: park it, open a channel. */
void	handover_request(struct helper *, int ctl,
	    const struct proto_connect *, int sockfd, pid_t pid);
/* The errno a failed hand-over of socket ino gave, or 0. */
int	handover_outcome(struct helper *, uint64_t ino);
/* The destination of the tunneled connection from local, or NULL. */
const struct proto_addr *handover_peer(struct helper *,
	    const struct proto_addr *local);
/* Can fd be parked (same netns, no device)?  0 or errno, reason in why. */
int	handover_check(struct helper *, int fd, pid_t pid, char *why,
	    size_t len);
/* connect(2) a program's socket without blocking; 0 if under way. */
int	handover_connect(int fd, const struct sockaddr *, socklen_t);
/* Does pid still hold the socket (its fd prog_fd, our dup)?  1 or 0. */
int	handover_held(pid_t pid, int prog_fd, int dup, uint64_t ino);

/* sockdiag.c */
struct sockdiag {
	int		 state;		/* TCP_ESTABLISHED, TCP_SYN_SENT, ... */
	uid_t		 uid;		/* owner */
	uint64_t	 ino;
};
int	sockdiag_tcp(const struct sockaddr *local, const struct sockaddr *remote,
	    struct sockdiag *);
/* Owner of the local peer of accepted TCP socket fd: 0, or -1 if unknown. */
int	sockdiag_peer_uid(int fd, uid_t *uid);
/* May a socket of uid use what the session knows?  Ours, or root's. */
int	uid_trusted(uid_t uid);

/* names.c */
int	names_init(struct names *, const char *pool4, const char *pool6);
/* Look up or assign addresses for name; returns 0 or an errno. */
int	names_assign(struct names *, const char *name, struct in_addr *,
	    struct in6_addr *);
/* Name for a synthetic address or NULL. */
const char *names_lookup(struct names *, const struct proto_addr *);
/* Nonzero if the address is in a synthetic pool. */
int	names_in_pool(const struct names *, const struct proto_addr *);
void	names_ref(struct names *, const char *name, int delta);
void	names_free(struct names *);

/* status.c */
/* Status as text, JSON (-O status --json) or the -O top view; malloc'd. */
char	*status_text(struct helper *);
char	*status_json(struct helper *);
char	*status_top(struct helper *);
/* Once a second: per-connection throughput for -O top. */
void	status_tick(struct helper *);

#endif
