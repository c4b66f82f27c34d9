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
# socks-churn.py PROXY_PORT DEST_PORT N: 2N short SOCKS5 connections to
# 127.0.0.1:DEST_PORT (an echo-and-close server) from four threads.  Half
# send a line, close at once and leave the echo to meet a closed socket (a
# reset on one side while the server's FIN arrives on the other: the proxy
# sees both of a pair's sockets end in one epoll batch); half read their
# echo back.  Prints how many of those N got their line back intact.
import socket
import struct
import sys
import threading

proxy, dest, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
good = 0
lock = threading.Lock()


def opened():
    s = socket.create_connection(("127.0.0.1", proxy), timeout=10)
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        raise OSError("no SOCKS5 greeting")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") +
              struct.pack(">H", dest))
    rep = s.recv(10)
    if len(rep) < 2 or rep[1] != 0:
        raise OSError("SOCKS5 refused")
    return s


def worker(first, count, wait_echo):
    global good
    for i in range(first, first + count):
        try:
            s = opened()
            msg = b"churn %d\n" % i
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            if not wait_echo:
                s.close()
                continue
            got = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
            s.close()
        except OSError:
            continue
        with lock:
            good += got == msg


half = n // 2
threads = [threading.Thread(target=worker, args=(k * half, half, k % 2))
           for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(good)
