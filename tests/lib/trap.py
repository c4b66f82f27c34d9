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
"""The leak trap of the tunnelwrap test bed.

The client namespace routes the intranet, the synthetic pools and the
denied address here, and uses this process as its resolver: whatever a
wrapped program sends by the direct path arrives here instead of failing,
so a leak is seen, not merely absent.  One single-threaded select loop:

  packets   an AF_PACKET socket on --iface logs every IP packet arriving
            (TCP SYNs only, so a leaked bulk transfer is one line; UDP;
            ICMP echo), except the resolver's own port 53 traffic and
            IPv6 neighbour discovery
  connects  TCP listeners on --tcp ports, on every trapped address (the
            namespace holds them as local routes), answer like a server
            would: a banner, or an HTTP 200 page saying "trap"
  dns       UDP and TCP port 53 on the resolver addresses: every question
            is logged; names under --zone get A/AAAA answers inside the
            trapped ranges (and SRV/PTR), others NXDOMAIN

Log lines (--log), one per event, appended and flushed at once:
  packet PROTO SRC -> DST[:PORT]
  connect DST:PORT from SRC
  dns NAME TYPE            a question about the intranet: a leak
  dns-other NAME TYPE      any other name: not a leak (direct traffic)
Tests count the lines that are not dns-other.  --ready gets the pid once
everything is bound.
"""
import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def log(f, line):
    f.write("%.3f %s\n" % (time.time(), line))
    f.flush()


# -- DNS ---------------------------------------------------------------------

def parse_question(msg):
    """(id, flags, name, qtype, end of question) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd < 1:
        return None
    labels, i = [], 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        i += 1
        if n == 0:
            break
        if n & 0xC0 or i + n > len(msg):
            return None
        labels.append(msg[i:i + n].decode("ascii", "replace"))
        i += n
    if i + 4 > len(msg):
        return None
    qtype, _qclass = struct.unpack("!HH", msg[i:i + 4])
    return qid, flags, ".".join(labels).lower(), qtype, i + 4


TYPES = {1: "A", 28: "AAAA", 33: "SRV", 12: "PTR", 5: "CNAME", 15: "MX",
         16: "TXT", 255: "ANY", 65: "HTTPS", 64: "SVCB"}


def encode_name(name):
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


class Resolver:
    def __init__(self, zone, a, aaaa, nets):
        self.zone = zone.lower().strip(".")
        self.a = socket.inet_pton(socket.AF_INET, a)
        self.aaaa = socket.inet_pton(socket.AF_INET6, aaaa)
        self.nets = nets

    def in_zone(self, name):
        return name == self.zone or name.endswith("." + self.zone)

    def reverse_trapped(self, name):
        """True for a PTR name of an address in a trapped range."""
        try:
            if name.endswith(".in-addr.arpa"):
                parts = name[:-len(".in-addr.arpa")].split(".")
                if len(parts) != 4:
                    return False
                addr = ipaddress.ip_address(".".join(reversed(parts)))
            elif name.endswith(".ip6.arpa"):
                nib = name[:-len(".ip6.arpa")].split(".")
                if len(nib) != 32:
                    return False
                h = "".join(reversed(nib))
                addr = ipaddress.ip_address(
                    ":".join(h[i:i + 4] for i in range(0, 32, 4)))
            else:
                return False
        except ValueError:
            return False
        return any(addr in n for n in self.nets)

    def answer(self, msg, f):
        q = parse_question(msg)
        if q is None:
            return None
        qid, flags, name, qtype, end = q
        leak = self.in_zone(name) or self.reverse_trapped(name)
        log(f, "%s %s %s" % ("dns" if leak else "dns-other", name,
                             TYPES.get(qtype, str(qtype))))
        rrs = []
        if self.in_zone(name):
            if qtype == 1:
                rrs.append((1, self.a))
            elif qtype == 28:
                rrs.append((28, self.aaaa))
            elif qtype == 33:
                rrs.append((33, struct.pack("!HHH", 0, 0, 389) +
                            encode_name("trap." + self.zone)))
            rcode = 0
        elif self.reverse_trapped(name) and qtype == 12:
            rrs.append((12, encode_name("trap." + self.zone)))
            rcode = 0
        else:
            rcode = 3
        hdr = struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x0100) | 0x0400 | rcode,
                          1, len(rrs), 0, 0)
        out = hdr + msg[12:end]
        for t, rdata in rrs:
            out += b"\xc0\x0c" + struct.pack("!HHIH", t, 1, 60, len(rdata)) + rdata
        return out


def dns_listen(addr):
    """UDP and TCP sockets on addr port 53 (intdns.py uses it too)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, 53))
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, 53))
    t.listen(64)
    return u, t


def dns_serve_tcp(listener, answer, many=False):
    """Accept one TCP client and answer its framed query (many: queries,
    until it ends)."""
    c, _ = listener.accept()
    c.settimeout(2)
    try:
        for _ in range(1000 if many else 1):
            hdr = c.recv(2, socket.MSG_WAITALL)
            if len(hdr) < 2:
                break
            out = answer(c.recv(struct.unpack("!H", hdr)[0], socket.MSG_WAITALL))
            if not out:
                break
            c.sendall(struct.pack("!H", len(out)) + out)
    except (OSError, struct.error):
        pass
    c.close()


# -- packets -----------------------------------------------------------------

def describe(frame, dns_addrs):
    """A log line for an Ethernet frame, or None for what is not logged."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if ethertype == 0x0800 and len(p) >= 20:
        ihl = (p[0] & 0x0F) * 4
        proto = p[9]
        src = socket.inet_ntop(socket.AF_INET, p[12:16])
        dst = socket.inet_ntop(socket.AF_INET, p[16:20])
        l4 = p[ihl:]
        fmt = "%s -> %s"
    elif ethertype == 0x86DD and len(p) >= 40:
        proto = p[6]
        src = socket.inet_ntop(socket.AF_INET6, p[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, p[24:40])
        l4 = p[40:]
        fmt = "%s -> [%s]"
    else:
        return None
    if dst.startswith("ff") or dst.startswith("224."):
        return None                        # multicast: MLD, IGMP
    if proto == 6 and len(l4) >= 14:
        sport, dport = struct.unpack("!HH", l4[:4])
        tcpflags = l4[13]
        if not (tcpflags & 0x02) or (tcpflags & 0x10):
            return None                    # only the opening SYN
        if dst in dns_addrs and dport == 53:
            return None
        return "packet tcp " + fmt % (src, dst) + ":%d" % dport
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack("!HH", l4[:4])
        if dst in dns_addrs and dport == 53:
            return None
        return "packet udp " + fmt % (src, dst) + ":%d" % dport
    if proto == 1:
        if l4[:1] == b"\x08":
            return "packet icmp-echo " + fmt % (src, dst)
        return None                        # errors (port unreachable) about our own replies
    if proto == 58:
        if l4[:1] == b"\x80":
            return "packet icmp6-echo " + fmt % (src, dst)
        return None                        # neighbour discovery, MLD
    if proto in (6, 17):
        return None
    return "packet proto-%d " % proto + fmt % (src, dst)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--dns", action="append", default=[],
                    help="resolver address (repeatable)")
    ap.add_argument("--tcp", default="21,22,23,25,80,81,389,443,5432,6379,7,8080,9")
    ap.add_argument("--zone", default="corp.test")
    ap.add_argument("--answer4", default="198.51.100.20")
    ap.add_argument("--answer6", default="2001:db8:2::20")
    ap.add_argument("--net", action="append", default=[],
                    help="a trapped range, for PTR questions (repeatable)")
    a = ap.parse_args()

    f = open(a.log, "a")
    nets = [ipaddress.ip_network(n) for n in a.net]
    res = Resolver(a.zone, a.answer4, a.answer6, nets)
    socks = {}

    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind((a.iface, 0))
    socks[sniff] = "sniff"

    for addr in a.dns:
        u, t = dns_listen(addr)
        socks[u] = "dns-udp"
        socks[t] = "dns-tcp"

    for port in (int(x) for x in a.tcp.split(",") if x):
        # One dual-stack socket per port: every trapped address is local.
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(128)
        s.setblocking(False)
        socks[s] = "listen"

    dns_addrs = set(a.dns)
    with open(a.ready + ".tmp", "w") as r:
        r.write("%d\n" % os.getpid())
    os.rename(a.ready + ".tmp", a.ready)

    while True:
        ready, _, _ = select.select(list(socks), [], [])
        for s in ready:
            kind = socks[s]
            if kind == "sniff":
                frame, addr = s.recvfrom(65535)
                if addr[2] == PACKET_OUTGOING:
                    continue
                line = describe(frame, dns_addrs)
                if line:
                    log(f, line)
            elif kind == "dns-udp":
                msg, peer = s.recvfrom(4096)
                out = res.answer(msg, f)
                if out:
                    s.sendto(out, peer)
            elif kind == "dns-tcp":
                dns_serve_tcp(s, lambda m: res.answer(m, f))
            elif kind == "listen":
                try:
                    c, peer = s.accept()
                except BlockingIOError:
                    continue
                here = c.getsockname()
                dst = here[0].replace("::ffff:", "")
                if ":" in dst:
                    dst = "[%s]" % dst
                log(f, "connect %s:%d from %s" % (dst, here[1],
                                                  peer[0].replace("::ffff:", "")))
                try:
                    c.setblocking(False)
                    if here[1] in (80, 8080):
                        c.send(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\ntrap\n")
                    else:
                        c.send(b"tunnelwrap leak trap\r\n")
                except OSError:
                    pass
                c.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
