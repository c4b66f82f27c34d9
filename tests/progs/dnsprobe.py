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
"""dnsprobe.py - DNS through the resolver entry points a program can call
itself (tests/t-dns.sh).  Each line of output: KIND NAME RESULT.

  res_query NAME TYPE       res_query(3) on the thread's _res
  res_search NAME TYPE      res_search(3), the search list applied
  res_nquery NAME TYPE      res_nquery(3) on a state of our own
  res_send NAME TYPE        res_mkquery(3), then res_send(3)
  gai_a NAME                getaddrinfo_a(3), GAI_WAIT
  ghbn2 NAME                gethostbyname2(3), AF_INET
  ghbn2_r NAME              gethostbyname2_r(3), AF_INET6
  udp NAME TYPE             a query of our own on a UDP socket connected
                            to the system's nameserver (write, then recv)

RESULT: "fail" or the answer's records, "A 1.2.3.4", "SRV 0 100 389 host".
The functions come from the global scope (CDLL(None)), as a C program's
calls do, so the preloaded shim is the one called.
"""
import ctypes
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
TYPES = {"A": 1, "AAAA": 28, "SRV": 33, "PTR": 12, "TXT": 16, "MX": 15}
NAMES = {v: k for k, v in TYPES.items()}


def read_name(msg, i):
    labels, jumped, end = [], False, None
    for _ in range(128):
        n = msg[i]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = i + 2
            i = ((n & 0x3F) << 8) | msg[i + 1]
            jumped = True
            continue
        i += 1
        if n == 0:
            break
        labels.append(msg[i:i + n].decode())
        i += n
    return ".".join(labels), (end if jumped else i)


def records(msg):
    if len(msg) < 12:
        return "short"
    _id, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    rcode = flags & 0xF
    if rcode:
        return "rcode%d" % rcode
    i = 12
    for _ in range(qd):
        _, i = read_name(msg, i)
        i += 4
    out = []
    for _ in range(an):
        _, i = read_name(msg, i)
        t, _c, _ttl, ln = struct.unpack("!HHIH", msg[i:i + 10])
        i += 10
        rd = msg[i:i + ln]
        if t == 1:
            out.append("A " + socket.inet_ntop(socket.AF_INET, rd))
        elif t == 28:
            out.append("AAAA " + socket.inet_ntop(socket.AF_INET6, rd))
        elif t == 33:
            p, w, port = struct.unpack("!HHH", rd[:6])
            out.append("SRV %d %d %d %s" % (p, w, port, read_name(msg, i + 6)[0]))
        elif t in (12, 5):
            out.append("%s %s" % (NAMES.get(t, "CNAME"), read_name(msg, i)[0]))
        else:
            out.append("%s %d bytes" % (NAMES.get(t, str(t)), ln))
        i += ln
    return ", ".join(out) if out else "empty"


def buf_result(n, buf):
    return "fail" if n < 0 else records(buf.raw[:n])


def query(name, t):
    hdr = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p)
    return hdr + q + b"\0" + struct.pack("!HH", TYPES[t], 1)


class gaicb(ctypes.Structure):
    _fields_ = [("ar_name", ctypes.c_char_p), ("ar_service", ctypes.c_char_p),
                ("ar_request", ctypes.c_void_p), ("ar_result", ctypes.c_void_p),
                ("ret", ctypes.c_int), ("reserved", ctypes.c_int * 5)]


class sockaddr_in(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("port", ctypes.c_ushort),
                ("addr", ctypes.c_ubyte * 4)]


class addrinfo(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_int), ("family", ctypes.c_int),
                ("socktype", ctypes.c_int), ("protocol", ctypes.c_int),
                ("addrlen", ctypes.c_uint), ("addr", ctypes.c_void_p),
                ("canonname", ctypes.c_char_p), ("next", ctypes.c_void_p)]


class hostent(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("aliases", ctypes.c_void_p),
                ("addrtype", ctypes.c_int), ("length", ctypes.c_int),
                ("addr_list", ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)))]


def hostent_result(he):
    if not he:
        return "fail"
    h = he.contents
    fam = socket.AF_INET if h.addrtype == socket.AF_INET else socket.AF_INET6
    a = bytes(h.addr_list[0][:h.length])
    return "%s %s" % ("A" if fam == socket.AF_INET else "AAAA",
                      socket.inet_ntop(fam, a))


def nameserver():
    for line in open("/etc/resolv.conf"):
        w = line.split()
        if len(w) >= 2 and w[0] == "nameserver":
            return w[1]
    return "127.0.0.1"


def probe(kind, name, t="A"):
    buf = ctypes.create_string_buffer(8192)
    if kind == "res_query":
        return buf_result(libc.res_query(name.encode(), 1, TYPES[t], buf, 8192), buf)
    if kind == "res_search":
        return buf_result(libc.res_search(name.encode(), 1, TYPES[t], buf, 8192), buf)
    if kind == "res_nquery":
        state = ctypes.create_string_buffer(4096)
        if libc.__res_ninit(state) != 0:
            return "fail"
        r = buf_result(libc.res_nquery(state, name.encode(), 1, TYPES[t], buf, 8192), buf)
        libc.__res_nclose(state)
        return r
    if kind == "res_send":
        msg = ctypes.create_string_buffer(512)
        n = libc.res_mkquery(0, name.encode(), 1, TYPES[t], None, 0, None, msg, 512)
        if n < 0:
            return "fail"
        return buf_result(libc.res_send(msg, n, buf, 8192), buf)
    if kind == "gai_a":
        cb = gaicb(name.encode(), None, None, None, 0)
        lst = (ctypes.POINTER(gaicb) * 1)(ctypes.pointer(cb))
        if libc.getaddrinfo_a(0, lst, 1, None) != 0 or libc.gai_error(ctypes.pointer(cb)) != 0:
            return "fail"
        ai = ctypes.cast(cb.ar_result, ctypes.POINTER(addrinfo)).contents
        while ai.family != socket.AF_INET and ai.next:
            ai = ctypes.cast(ai.next, ctypes.POINTER(addrinfo)).contents
        sin = ctypes.cast(ai.addr, ctypes.POINTER(sockaddr_in)).contents
        r = "A " + socket.inet_ntop(socket.AF_INET, bytes(sin.addr))
        libc.freeaddrinfo(ctypes.c_void_p(cb.ar_result))
        return r
    if kind == "ghbn2":
        libc.gethostbyname2.restype = ctypes.POINTER(hostent)
        return hostent_result(libc.gethostbyname2(name.encode(), socket.AF_INET))
    if kind == "ghbn2_r":
        he, res, err = hostent(), ctypes.POINTER(hostent)(), ctypes.c_int()
        r = libc.gethostbyname2_r(name.encode(), socket.AF_INET6, ctypes.byref(he),
                                  buf, 8192, ctypes.byref(res), ctypes.byref(err))
        return "fail" if r != 0 or not res else hostent_result(res)
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        try:
            s.connect((nameserver(), 53))
            fd = s.fileno()
            q = query(name, t)
            if libc.write(fd, q, len(q)) != len(q):
                return "fail errno %d" % ctypes.get_errno()
            return records(s.recv(4096))
        except OSError as e:
            return "fail %s" % e
    return "unknown"


def main():
    args = sys.argv[1:]
    while args:
        kind, name = args[0], args[1]
        if kind in ("gai_a", "ghbn2", "ghbn2_r"):
            t, args = "A", args[2:]
        else:
            t, args = args[2], args[3:]
        print(kind, name, t, probe(kind, name, t), flush=True)


main()
