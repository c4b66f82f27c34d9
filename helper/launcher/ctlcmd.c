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
 * ctlcmd.c - tunnelwrap -O status|stop|top against a running helper.
 *
 * -O top is a small live view, refreshed every second, of connections per
 * program with their throughput (the helper keeps the rates): `q` or ^C
 * ends it.  It redraws with plain ANSI home/clear sequences, so it works in
 * any terminal and under tmux.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../common/proto.h"
#include "client.h"
#include "ctlcmd.h"
#include "log.h"

static struct termios top_saved;
static int top_tty;
static volatile sig_atomic_t top_stop;

static void
top_restore(void)
{
	if (top_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &top_saved);
	top_tty = 0;
}

static void
on_int(int sig)
{
	(void)sig;
	top_stop = 1;
}

int
ctlcmd_known(const char *cmd)
{
	return strcmp(cmd, "status") == 0 || strcmp(cmd, "stop") == 0 ||
	    strcmp(cmd, "top") == 0;
}

/* One STATUS exchange in format; the text malloc'd, or NULL. */
static char *
fetch(const char *path, uint32_t format, int *err)
{
	struct proto_status req;
	char *text = NULL;
	int fd, st;

	memset(&req, 0, sizeof(req));
	req.format = format;
	if ((fd = client_dial(path)) < 0) {
		*err = -fd;
		return NULL;
	}
	st = client_call(fd, PROTO_STATUS, &req, sizeof(req), &text);
	close(fd);
	if (st != 0) {
		free(text);
		*err = st < 0 ? -st : st;
		return NULL;
	}
	return text ? text : strdup("");
}

static int
top(const char *path, const char *dest)
{
	struct sigaction sa;
	struct termios t;
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	char *text, c;
	int err = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &top_saved) == 0) {
		t = top_saved;
		t.c_lflag &= ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
		top_tty = 1;
		atexit(top_restore);
	}
	while (!top_stop) {
		if ((text = fetch(path, PROTO_STATUS_TOP, &err)) == NULL) {
			top_restore();
			fprintf(stderr, "\ntunnelwrap: helper for %s gone: %s\n",
			    dest, strerror(err));
			return 255;
		}
		printf("\033[H\033[2J%s\n(q to quit)\n", text);
		fflush(stdout);
		free(text);
		if (poll(&pfd, 1, 1000) > 0 && read(STDIN_FILENO, &c, 1) == 1 &&
		    (c == 'q' || c == 'Q'))
			break;
	}
	top_restore();
	return 0;
}

int
ctlcmd_run(const char *path, const char *dest, const char *cmd, int json)
{
	char *text;
	int fd, st, err = 0;

	if (strcmp(cmd, "top") == 0)
		return top(path, dest);
	if (strcmp(cmd, "status") == 0) {
		if ((text = fetch(path, json ? PROTO_STATUS_JSON :
		    PROTO_STATUS_TEXT, &err)) == NULL)
			goto unreachable;
		printf("%s", text);
		free(text);
		return 0;
	}
	if ((fd = client_dial(path)) < 0) {
		err = -fd;
		goto unreachable;
	}
	if ((st = client_call(fd, PROTO_STOP, NULL, 0, NULL)) != 0)
		fatal("stop: %s", strerror(st < 0 ? -st : st));
	close(fd);
	printf("helper for %s stopped\n", dest);
	return 0;
 unreachable:
	fprintf(stderr, "tunnelwrap: no helper running for %s (%s); the next "
	    "tunnelwrap COMMAND starts one\n", dest, strerror(err));
	return 255;
}
