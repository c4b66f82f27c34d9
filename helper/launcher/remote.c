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
 * remote.c - tunnelwrap -e: the launcher's side of a remote command.
 *
 * The helper runs the command over the already open session; we hand it
 * two socket pairs (stdin/stdout, stderr) and copy between them and our own
 * descriptors, so the helper never touches the terminal's file flags.  With
 * -t the local terminal goes raw and size changes are sent along; -X and
 * -A prepare X11 (a fake cookie for the bastion, the real one for the
 * helper to swap in) and agent forwarding.
 */
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <bsd/string.h>

#include "../common/proto.h"
#include "client.h"
#include "log.h"
#include "remote.h"

static struct termios saved_tio;
static int tio_saved;
static volatile sig_atomic_t winch;

static void
restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
	tio_saved = 0;
}

static void
on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static void
window_size(uint16_t *cols, uint16_t *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* X11: the local display's socket, screen and real cookie; a fake one. */
static void
prepare_x11(struct proto_exec *req)
{
	const char *d = getenv("DISPLAY");
	char cmd[300], line[512], proto[64], hex[128];
	unsigned char fake[16];
	unsigned n, screen = 0;
	const char *p;
	FILE *f;
	size_t i;

	if (d == NULL || *d == '\0')
		fatal("-X: DISPLAY is not set");
	p = strrchr(d, ':');
	if (p == NULL || (strncmp(d, "unix:", 5) != 0 && d[0] != ':') ||
	    sscanf(p + 1, "%u.%u", &n, &screen) < 1)
		fatal("-X: DISPLAY=%s: only local displays (:N) are supported",
		    d);
	snprintf(req->x11_path, sizeof(req->x11_path), "/tmp/.X11-unix/X%u", n);
	req->x11_screen = screen;
	snprintf(cmd, sizeof(cmd), "xauth list ':%u' 2>/dev/null", n);
	req->x11_real[0] = '\0';
	if ((f = popen(cmd, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%*s %63s %127s", proto, hex) == 2 &&
			    strcmp(proto, "MIT-MAGIC-COOKIE-1") == 0 &&
			    strlen(hex) == 32) {
				strlcpy(req->x11_real, hex,
				    sizeof(req->x11_real));
				break;
			}
		pclose(f);
	}
	if (req->x11_real[0] == '\0')
		fatal("-X: no MIT-MAGIC-COOKIE-1 for display :%u in xauth "
		    "(is xauth installed and the display running?)", n);
	if (getrandom(fake, sizeof(fake), 0) != (ssize_t)sizeof(fake))
		fatal("-X: no randomness for the fake cookie");
	for (i = 0; i < sizeof(fake); i++)
		snprintf(req->x11_fake + 2 * i, 3, "%02x", fake[i]);
	strlcpy(req->x11_proto, "MIT-MAGIC-COOKIE-1", sizeof(req->x11_proto));
	req->flags |= PROTO_EXEC_X11;
}

/* Copy what is readable on from to to; returns 0 at EOF, -1 on error. */
static int
copy(int from, int to)
{
	char buf[32768];
	ssize_t n, off, w;

	while ((n = read(from, buf, sizeof(buf))) == -1 && errno == EINTR)
		;
	if (n <= 0)
		return n == 0 ? 0 : -1;
	for (off = 0; off < n; off += w)
		if ((w = write(to, buf + off, n - off)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			return -1;
		}
	return 1;
}

int
remote_run(const char *sockpath, char **argv, int argc, int pty, int x11,
    int agent)
{
	struct proto_exec req;
	struct proto_hdr hdr;
	struct {
		struct proto_hdr	hdr;
		struct proto_winch	winch;
	} wm;
	struct pollfd pfd[4];
	struct sigaction sa;
	struct termios raw;
	char *cmd = NULL, *tmp, text[128] = "";
	const char *sock;
	int io[2], err[2], fds[2], ctl, i, r, status = -1;
	int in_open = 1, out_open = 1, err_open = 1;
	int watch_winch = pty && isatty(STDIN_FILENO);
	sigset_t winch_set, poll_mask;
	size_t len;

	/*
	 * SIGWINCH stays blocked except inside ppoll(): a resize at any
	 * other moment (while output is being copied, before the request
	 * is sent) is delivered at the next ppoll and forwarded, not lost.
	 */
	sigprocmask(SIG_SETMASK, NULL, &poll_mask);
	if (watch_winch) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_winch;
		sigaction(SIGWINCH, &sa, NULL);
		sigemptyset(&winch_set);
		sigaddset(&winch_set, SIGWINCH);
		sigprocmask(SIG_BLOCK, &winch_set, &poll_mask);
		sigdelset(&poll_mask, SIGWINCH);
	}
	memset(&req, 0, sizeof(req));
	for (i = 0; i < argc; i++) {
		if (asprintf(&tmp, "%s%s%s", cmd ? cmd : "", cmd ? " " : "",
		    argv[i]) == -1)
			fatal("out of memory");
		free(cmd);
		cmd = tmp;
	}
	if (pty) {
		req.flags |= PROTO_EXEC_PTY;
		strlcpy(req.term, getenv("TERM") ? getenv("TERM") : "xterm",
		    sizeof(req.term));
		window_size(&req.cols, &req.rows);
	}
	if (x11)
		prepare_x11(&req);
	if (agent) {
		if ((sock = getenv("SSH_AUTH_SOCK")) == NULL || *sock == '\0')
			fatal("-A: SSH_AUTH_SOCK is not set: no agent to "
			    "forward");
		if (strlcpy(req.agent, sock, sizeof(req.agent)) >=
		    sizeof(req.agent))
			fatal("-A: SSH_AUTH_SOCK too long");
		req.flags |= PROTO_EXEC_AGENT;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err) == -1)
		fatal("socketpair: %s", strerror(errno));
	if ((ctl = client_dial(sockpath)) < 0)
		fatal("helper unreachable: %s", strerror(-ctl));
	len = sizeof(req) + strlen(cmd) + 1;
	if ((tmp = malloc(len)) == NULL)
		fatal("out of memory");
	memcpy(tmp, &req, sizeof(req));
	memcpy(tmp + sizeof(req), cmd, strlen(cmd) + 1);
	proto_hdr_init(&hdr, PROTO_EXEC, (uint32_t)len, 0);
	fds[0] = io[1];
	fds[1] = err[1];
	if ((r = proto_send_fds(ctl, &hdr, tmp, len, fds, 2)) < 0)
		fatal("exec request: %s", strerror(-r));
	free(tmp);
	free(cmd);
	close(io[1]);
	close(err[1]);
	if (pty && isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		tio_saved = 1;
		atexit(restore_tty);
		raw = saved_tio;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
	}
	while (status < 0 || out_open || err_open) {
		if (winch && status < 0) {
			winch = 0;
			proto_hdr_init(&wm.hdr, PROTO_WINCH, sizeof(wm.winch),
			    0);
			memset(&wm.winch, 0, sizeof(wm.winch));
			window_size(&wm.winch.cols, &wm.winch.rows);
			(void)send(ctl, &wm, sizeof(wm), MSG_NOSIGNAL);
		}
		pfd[0].fd = in_open ? STDIN_FILENO : -1;
		pfd[1].fd = out_open ? io[0] : -1;
		pfd[2].fd = err_open ? err[0] : -1;
		pfd[3].fd = status < 0 ? ctl : -1;
		for (i = 0; i < 4; i++)
			pfd[i].events = POLLIN;
		if (ppoll(pfd, 4, NULL, &poll_mask) == -1) {
			if (errno != EINTR)
				fatal("poll: %s", strerror(errno));
			continue;
		}
		if (pfd[0].revents && (r = copy(STDIN_FILENO, io[0])) <= 0) {
			in_open = 0;
			shutdown(io[0], SHUT_WR);
		}
		if (pfd[1].revents && copy(io[0], STDOUT_FILENO) <= 0)
			out_open = 0;
		if (pfd[2].revents && copy(err[0], STDERR_FILENO) <= 0)
			err_open = 0;
		if (pfd[3].revents) {
			if (proto_recv(ctl, &hdr, sizeof(hdr), NULL) < 0 ||
			    hdr.type != (PROTO_EXEC | PROTO_REPLY) ||
			    hdr.len >= sizeof(text) ||
			    proto_recv(ctl, text, hdr.len, NULL) < 0) {
				restore_tty();
				fatal("helper went away during the remote "
				    "command");
			}
			text[hdr.len] = '\0';
			status = hdr.status;
		}
	}
	restore_tty();
	if (watch_winch)
		sigprocmask(SIG_UNBLOCK, &winch_set, NULL);
	close(ctl);
	if (strncmp(text, "signal ", 7) == 0)
		error("remote command killed by %s", text);
	else if (*text != '\0')
		error("remote command: %s", text);
	return status;
}
