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
"""mkcorpus.py - write fuzz/corpus-proto/: seeds for fuzz_proto.c.

    python3 fuzz/mkcorpus.py [DIR]      # default: fuzz/corpus-proto

One valid request of every type (layouts as in common/proto.h, host
order), a few sent in small writes or with descriptors, sequences of
clients (separated by "TWFZNEXT"), and the bad inputs t-hostile.sh throws.
Each client stream starts with fuzz_proto.c's control byte.
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def proto_version():
    """PROTO_VERSION, read from common/proto.h (one place says it)."""
    with open(os.path.join(HERE, "..", "common", "proto.h")) as f:
        return int(re.search(r"^#define PROTO_VERSION\s+(\d+)", f.read(),
                             re.M).group(1))


MAGIC, VERSION = 0x54574C31, proto_version()
(CONNECT, RESOLVE, REVERSE, OUTCOME, ATTACH, STATUS, STOP, PEER, FORWARD,
 EXEC, WINCH) = range(1, 12)
FWD_LOCAL, FWD_REMOTE, FWD_DYNAMIC, FWD_PUBLISH = range(1, 5)
SEP = b"TWFZNEXT"


def ctl(size=0, nfds=0, second=False, eof=False, again=False):
    """fuzz_proto.c's control byte."""
    return bytes([size | nfds << 3 | (0x20 if second else 0) |
                  (0x40 if eof else 0) | (0x80 if again else 0)])


def hdr(typ, length, version=VERSION, magic=MAGIC):
    return struct.pack("=IHHIi", magic, version, typ, length, 0)


def req(typ, body):
    return hdr(typ, len(body)) + body


def addr(family, port, a):
    return struct.pack("=HH16s", family, port, a)


V4 = lambda s, port=0: addr(2, port, bytes(int(x) for x in s.split(".")))
V6 = lambda raw, port=0: addr(10, port, raw)


def connect(dest, host=b"", rule=b"rules:3"):
    return req(CONNECT, struct.pack("=II", 0, 4242) + dest +
               struct.pack("256s128si", host, rule, 3))


def resolve(name):
    return req(RESOLVE, struct.pack("256s", name))


def forward(kind, port, target=b"", tport=0, bind=b"", origin=b"-L",
            tail=b"", ino=0):
    return req(FORWARD, struct.pack("=IIQHHI256s256s128s", kind, 4242, ino,
                                    port, tport, 0, bind, target, origin)
               + tail)


def exec_(cmd, flags=0, term=b"xterm", cols=80, rows=24):
    return req(EXEC, struct.pack("=IHH64s32s64s64s108sI108sI", flags, cols,
                                 rows, term, b"MIT-MAGIC-COOKIE-1",
                                 b"00" * 16, b"11" * 16,
                                 b"/tmp/.X11-unix/X0", 0,
                                 b"/run/user/0/agent", 0) + cmd)


SEEDS = {
    "connect-name": ctl(nfds=1) + connect(V4("203.0.113.1", 80),
                                          b"wiki.corp.test"),
    "connect-addr": ctl(nfds=1) + connect(V4("10.20.1.5", 5432)),
    "connect-v6": ctl(nfds=1) + connect(V6(b"\x20\x01\x0d\xb8" + b"\0" * 11
                                           + b"\x05", 22)),
    "connect-nofd": ctl() + connect(V4("203.0.113.2", 7), b"echo.corp.test"),
    "connect-slow": ctl(size=4, nfds=1, second=True) +
                    connect(V4("203.0.113.1", 80), b"wiki.corp.test"),
    "resolve": ctl() + resolve(b"wiki.corp.test"),
    "resolve-bytewise": ctl(size=1) + resolve(b"db.corp.test"),
    "reverse": ctl() + req(REVERSE, V4("203.0.113.1")),
    "peer": ctl() + req(PEER, V4("127.0.0.1", 40000)),
    "outcome": ctl() + req(OUTCOME, struct.pack("=Q", 123456)),
    "attach": ctl() + req(ATTACH, struct.pack("=II", 4242, 0)),
    "attach-eof": ctl(eof=True) + req(ATTACH, struct.pack("=II", 4242, 0)),
    "status-text": ctl() + req(STATUS, struct.pack("=II", 0, 0)),
    "status-json": ctl() + req(STATUS, struct.pack("=II", 1, 0)),
    "status-top": ctl() + req(STATUS, struct.pack("=II", 2, 0)),
    "stop": ctl() + req(STOP, b""),
    "winch": ctl() + req(WINCH, struct.pack("=HHI", 120, 40, 0)),
    "forward-local": ctl() + forward(FWD_LOCAL, 18080, b"wiki.corp.test",
                                     80, b"127.0.0.1",
                                     b"-L 18080:wiki.corp.test:80"),
    "forward-remote": ctl() + forward(FWD_REMOTE, 18082, b"127.0.0.1", 18090,
                                      origin=b"-R 18082:127.0.0.1:18090"),
    "forward-dynamic": ctl(size=6) + forward(
        FWD_DYNAMIC, 1080, bind=b"127.0.0.1", origin=b"-D 1080",
        tail=b"session corp alice@bastion.test\ntunnel *.corp.test "
             b"10.20.0.0/16 [2001:db8:20::]/48\ndeny *.tracker.example\n"
             b"default direct\n\0"),
    "forward-publish": ctl() + forward(FWD_PUBLISH, 8080, b"127.0.0.1", 8080,
                                       origin=b"rules:7", ino=99),
    "exec": ctl(nfds=2) + exec_(b"uname -a\0"),
    "exec-pty-slow": ctl(size=5, nfds=2, second=True) +
                     exec_(b"top\0", flags=1),
    "exec-fds-apart": ctl(size=6, nfds=1, again=True) + exec_(b"true\0"),
    "exec-3fds": ctl(nfds=3) + exec_(b"id\0"),
    "exec-2fds-twice": ctl(size=6, nfds=2, again=True) + exec_(b"id\0"),
    "connect-2fds": ctl(nfds=2) + connect(V4("203.0.113.1", 80),
                                          b"wiki.corp.test"),
    "resolve-fd": ctl(size=3, nfds=1, second=True) + resolve(b"x.corp.test"),
    "truncated-fds": ctl(size=5, nfds=2, eof=True) + hdr(EXEC, 500) +
                     b"\0" * 40,
    "resolve-reverse": ctl() + resolve(b"wiki.corp.test") + SEP + ctl() +
                       req(REVERSE, V4("203.0.113.1")),
    "resolve-3names": ctl() + resolve(b"a.corp.test") + SEP + ctl(size=3) +
                      resolve(b"b.corp.test") + SEP + ctl() +
                      resolve(b"c.corp.test") + SEP + ctl(nfds=1) +
                      connect(V4("203.0.113.1", 80)),
    "attach-and-status": ctl() + req(ATTACH, struct.pack("=II", 1, 0)) + SEP
                         + ctl(size=2) + req(STATUS, struct.pack("=II", 0, 0)),
    # t-hostile.sh's garbage
    "zeros": ctl() + b"\0" * 16,
    "http": ctl() + b"GET / HTTP/1.0\r\n\r\n",
    "huge-len": ctl() + hdr(CONNECT, 0xFFFFFFFF),
    "huge-forward": ctl() + hdr(FORWARD, 664 + (256 << 10) + 1),
    "max-exec": ctl(size=7) + hdr(EXEC, 456 + (64 << 10)),
    "other-version": ctl() + hdr(CONNECT, 416, version=99),
    "unknown-type": ctl() + hdr(77, 0),
    "truncated": ctl(eof=True) + hdr(CONNECT, 416) + b"x" * 100,
    "short-header": ctl(size=1, eof=True) + hdr(RESOLVE, 256)[:9],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, "corpus-proto")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
