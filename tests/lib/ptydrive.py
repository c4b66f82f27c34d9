#!/usr/bin/env python3
# Copyright (c) 2026 tunnelwrap developers <dev@tunnelwrap.test>
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
#
"""ptydrive.py - run a command on a new pseudo-terminal and drive it.

    ptydrive.py [-t SECONDS] [--size ROWS COLS] STEP... -- COMMAND [ARG...]

The command runs in a session of its own with the pty as its controlling
terminal (so /dev/tty is the pty, as for a user at a terminal).  Steps,
in order:

    -e REGEX       wait until the output since the previous match matches
    -s TEXT        type TEXT (\\n, \\r and \\t are understood)
    -w ROWS COLS   resize the terminal (the kernel sends SIGWINCH)

Everything the command writes to the terminal is copied to our stdout (the
transcript).  Exit status: the command's (128+N when killed by signal N),
or 124 when a step timed out (the default limit is 30 s in all), with a
line on stderr naming the step.
"""
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    limit = 30.0
    size = (24, 80)
    steps = []
    while args and args[0] != "--":
        a = args.pop(0)
        if a == "-t":
            limit = float(args.pop(0))
        elif a == "--size":
            size = (int(args.pop(0)), int(args.pop(0)))
        elif a == "-e":
            steps.append(("expect", re.compile(args.pop(0).encode())))
        elif a == "-s":
            text = args.pop(0).replace("\\n", "\n").replace("\\r", "\r")
            steps.append(("send", text.replace("\\t", "\t").encode()))
        elif a == "-w":
            steps.append(("size", (int(args.pop(0)), int(args.pop(0)))))
        else:
            sys.exit("ptydrive: unknown argument %r" % a)
    if not args or len(args) < 2:
        sys.exit("ptydrive: no command (expected -- COMMAND)")
    cmd = args[1:]

    master, slave = os.openpty()
    set_size(slave, *size)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            os.write(2, ("ptydrive: %s: %s\n" % (cmd[0], e)).encode())
        os._exit(127)
    os.close(slave)

    deadline = time.monotonic() + limit
    buf = b""
    pos = 0
    eof = False

    def pump(timeout):
        nonlocal buf, eof
        if eof:
            time.sleep(min(timeout, 0.05))
            return
        r, _, _ = select.select([master], [], [], max(0.0, timeout))
        if not r:
            return
        try:
            d = os.read(master, 65536)
        except OSError:
            d = b""
        if not d:
            eof = True
            return
        buf += d
        sys.stdout.buffer.write(d)
        sys.stdout.flush()

    for kind, arg in steps:
        if kind == "expect":
            while True:
                m = arg.search(buf, pos)
                if m:
                    pos = m.end()
                    break
                if time.monotonic() > deadline or eof:
                    sys.stderr.write("ptydrive: timed out waiting for %r\n"
                                     % arg.pattern.decode())
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    sys.exit(124)
                pump(deadline - time.monotonic())
        elif kind == "send":
            os.write(master, arg)
        elif kind == "size":
            set_size(master, *arg)
    # Copy the output until the command ends (a helper it started may keep
    # the terminal open longer: we do not wait for the terminal's end),
    # then what it left in the terminal.
    while True:
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid != 0:
            break
        if time.monotonic() > deadline:
            sys.stderr.write("ptydrive: timed out waiting for the end\n")
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.exit(124)
        pump(0.05)
    while not eof and select.select([master], [], [], 0)[0]:
        pump(0)
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
