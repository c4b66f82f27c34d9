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
"""The intranet's DNS server in the tunnelwrap test bed (namespace int).

A tiny authoritative server for corp.test on UDP and TCP port 53 of the
addresses given: the records a synthetic address cannot stand for, which
tunnelwrap's DNS responder must fetch through the bastion (t-dns):

  _ldap._tcp.corp.test   SRV 0 100 389 ldap.corp.test
  wiki.corp.test         TXT "intranet wiki"     A 198.51.100.20
  lists.corp.test        MX 10 mail.corp.test
  ldap.corp.test, mail.corp.test, and the names of int's hosts file
                         A 198.51.100.20 / AAAA 2001:db8:2::20
  20.100.51.198.in-addr.arpa  PTR wiki.corp.test

Every other name: NXDOMAIN (so unknown names still fail at the bastion).
Every question is logged to --log as "QNAME TYPE" (TYPE as trap.py names
them), so a test can tell it was asked here.  --ready gets the pid once
bound.
"""
import argparse
import os
import select
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trap import (TYPES, dns_listen, dns_serve_tcp, encode_name,  # noqa: E402
                  parse_question)

A4, A6 = "198.51.100.20", "2001:db8:2::20"


def records(hosts):
    r = {
        ("_ldap._tcp.corp.test", 33): [struct.pack("!HHH", 0, 100, 389) +
                                       encode_name("ldap.corp.test")],
        ("wiki.corp.test", 16): [b"\x0dintranet wiki"],
        ("lists.corp.test", 15): [struct.pack("!H", 10) + encode_name("mail.corp.test")],
        ("20.100.51.198.in-addr.arpa", 12): [encode_name("wiki.corp.test")],
    }
    for name in ["ldap.corp.test", "mail.corp.test"] + hosts:
        r[(name, 1)] = [socket.inet_pton(socket.AF_INET, A4)]
        r[(name, 28)] = [socket.inet_pton(socket.AF_INET6, A6)]
    return r


def answer(msg, recs, log):
    q = parse_question(msg)
    if q is None:
        return None
    qid, flags, name, qtype, end = q
    log.write("%s %s\n" % (name, TYPES.get(qtype, str(qtype))))
    log.flush()
    known = any(n == name for n, _ in recs)
    rrs = recs.get((name, qtype), [])
    rcode = 0 if known else 3
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | 0x0080 | rcode,
                      1, len(rrs), 0, 0)
    out = hdr + msg[12:end]
    for rdata in rrs:
        out += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rdata)) + rdata
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", action="append", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--hosts", default="/etc/hosts")
    a = ap.parse_args()
    hosts = []
    for line in open(a.hosts):
        w = line.split("#")[0].split()
        hosts += [n.lower() for n in w[1:] if n.endswith(".corp.test")]
    recs = records(hosts)
    log = open(a.log, "a")
    socks = {}
    for addr in a.addr:
        u, t = dns_listen(addr)
        socks[u] = "udp"
        socks[t] = "tcp"
    with open(a.ready + ".tmp", "w") as r:
        r.write("%d\n" % os.getpid())
    os.rename(a.ready + ".tmp", a.ready)
    while True:
        ready, _, _ = select.select(list(socks), [], [])
        for s in ready:
            if socks[s] == "udp":
                msg, peer = s.recvfrom(4096)
                out = answer(msg, recs, log)
                if out:
                    s.sendto(out, peer)
                continue
            dns_serve_tcp(s, lambda m: answer(m, recs, log), many=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
