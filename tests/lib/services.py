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
"""Intranet services for the tunnelwrap test bed.

One process serving, on every address given with -a:
  HTTP    (port 80 by default): static files from --www (threaded)
  echo    (port 7):  returns every byte; on EOF from the client it flushes
                     what is still buffered and then closes (so a client that
                     does shutdown(SHUT_WR) reads all echoed bytes, then EOF)
  discard (port 9):  reads and drops everything; closes on EOF
Once every socket is bound and listening it writes its pid to --ready, so
callers poll for that file instead of sleeping.
"""
import argparse
import asyncio
import functools
import http.server
import os
import socket
import sys
import threading


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        # Large buffers: 256 MiB streams go through here.
        transport.set_write_buffer_limits(high=4 << 20, low=1 << 20)

    def data_received(self, data):
        self.t.write(data)

    # Flow control: stop reading while the client does not read its echo.
    def pause_writing(self):
        self.t.pause_reading()

    def resume_writing(self):
        self.t.resume_reading()

    def eof_received(self):
        # Returning a false value makes the transport close itself, which
        # first flushes everything still buffered, then sends FIN.
        return False


class Discard(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        pass

    def eof_received(self):
        return False


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        sys.stderr.write("http %s %s\n" % (self.client_address[0], fmt % args))


def listener(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(1024)
    return s


def http_thread(sock, www):
    class Server(http.server.ThreadingHTTPServer):
        address_family = sock.family
        daemon_threads = True

        def server_bind(self):
            pass

        def server_activate(self):
            pass

    handler = functools.partial(QuietHandler, directory=www)
    srv = Server(sock.getsockname()[:2], handler, bind_and_activate=False)
    srv.socket.close()
    srv.socket = sock
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()


async def main(args):
    loop = asyncio.get_running_loop()
    servers = []
    for a in args.addr:
        if args.http:
            http_thread(listener(a, args.http), args.www)
        if args.echo:
            servers.append(await loop.create_server(
                Echo, sock=listener(a, args.echo), backlog=1024))
        if args.discard:
            servers.append(await loop.create_server(
                Discard, sock=listener(a, args.discard), backlog=1024))
    if args.ready:
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.ready)
    await asyncio.Event().wait()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("-a", "--addr", action="append", required=True)
    p.add_argument("--www", default=".")
    p.add_argument("--http", type=int, default=80, help="0 to disable")
    p.add_argument("--echo", type=int, default=7, help="0 to disable")
    p.add_argument("--discard", type=int, default=9, help="0 to disable")
    p.add_argument("--ready")
    asyncio.run(main(p.parse_args()))
