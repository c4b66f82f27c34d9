#!/usr/bin/env bash
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
# t-udp: SSH carries no datagrams, so the UDP policy is explicit: a
# datagram to a tunneled destination fails at once (ENETUNREACH), to a
# denied one with EACCES; DNS queries the program sends itself for a name
# the rules resolve remotely never leave the machine: to the system's
# nameserver they are answered by the helper's DNS responder (t-dns has
# the rest), to another server refused (EACCES); other names' queries
# leave.  The leak trap, which is the client's nameserver and answers on
# [2001:db8:1::53] too (another server), sees none of the remote names,
# and sees them all when the rules say direct.  TCP Fast
# Open to a tunneled destination goes through the tunnel.
. "$(dirname "$0")/lib/tap.sh"
tb_plan 11
tb_need_product
tb_need_netns "UDP policy" || exit 0

# The program's own datagrams: to a tunneled and a denied address, and DNS
# queries sent straight to the client's resolver (the leak trap, which
# logs every question) for remote names and for other names.
udp_probe() {
	tw -f "$1" python3 -c '
import socket, errno, struct
def err(f):
    try:
        f(); return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def q(name):
    hdr = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    return hdr + b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0\0\1\0\1"
ns = "192.0.2.53"             # the system nameserver (resolv.conf)
other = "2001:db8:1::53"      # another server (the trap too: it logs)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("tunneled", err(lambda: u.sendto(b"x", ("198.51.100.20", 9))))
print("denied", err(lambda: u.sendto(b"x", ("192.0.2.99", 9))))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
print("dns-tunneled-sendto", err(lambda: u6.sendto(q("wiki.corp.test"), (other, 53))))
print("dns-direct-sendto", err(lambda: u6.sendto(q("leak-check.example"), (other, 53))))
c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
c.connect((other, 53))
print("dns-tunneled-send", err(lambda: c.send(q("db.corp.test"))))
print("dns-direct-send", err(lambda: c.send(q("leak-check2.example"))))
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.settimeout(5)
try:
    r.sendto(q("echo.corp.test"), (ns, 53))
    a = r.recv(512)
    print("dns-system-sendto", "answered" if a[:2] == b"\x12\x34" and a[3] & 15 == 0 and a[7] == 1 else "no")
except OSError as e:
    print("dns-system-sendto", errno.errorcode.get(e.errno, str(e.errno)))
'
	# The first run is the one under the real rules.
	[ -n "${O:-}" ] || O=$OUT
}
mark=$(tb_trap_mark)
O=
check_never_direct "UDP and own DNS queries" udp_probe "$TB_RULES"
check "UDP to a tunneled destination: ENETUNREACH" grep -qx 'tunneled ENETUNREACH' "$O"
check "UDP to a denied destination: EACCES" grep -qx 'denied EACCES' "$O"
check "own DNS query (sendto) to another server for a remote name refused: EACCES" grep -qx 'dns-tunneled-sendto EACCES' "$O"
check "own DNS query (connected send) to another server for a remote name refused: EACCES" grep -qx 'dns-tunneled-send EACCES' "$O"
check "own DNS query to the system's nameserver: answered (the helper's responder)" \
    grep -qx 'dns-system-sendto answered' "$O"
check "own DNS query for another name is sent" \
    sh -c "grep -qx 'dns-direct-sendto ok' '$O' && grep -qx 'dns-direct-send ok' '$O'"
check "the resolver received the other names' queries (positive control)" \
    sh -c "awk 'NR > $mark' '$TB_TRAP_LOG' | grep -q 'dns-other leak-check.example' &&
        awk 'NR > $mark' '$TB_TRAP_LOG' | grep -q 'dns-other leak-check2.example'"

tw -f "$TB_RULES" curl -sS --max-time 10 --tcp-fastopen http://wiki.corp.test/
check "curl --tcp-fastopen through the tunnel" grep -q 'intranet wiki OK' "$OUT"
tw -f "$TB_RULES" python3 -c '
import socket
s = socket.socket()
s.sendto(b"GET / HTTP/1.0\r\nHost: wiki.corp.test\r\n\r\n", socket.MSG_FASTOPEN, ("wiki.corp.test", 80))
d = b""
while True:
    b = s.recv(4096)
    if not b: break
    d += b
print(d.decode(errors="replace"))'
check "sendto(MSG_FASTOPEN) to a tunneled name goes through the tunnel" \
    grep -q 'intranet wiki OK' "$OUT"
