#!/usr/bin/env bash
# t-udp: SSH carries no datagrams, so the UDP policy is explicit: a
# datagram to a tunneled destination fails at once (ENETUNREACH), to a
# denied one with EACCES; DNS queries the program sends itself for a name
# the rules resolve remotely never leave the machine (a capture on the
# client's interface proves it): to the system's nameserver they are
# answered by the helper's DNS responder (t-dns has the rest), to another
# server refused (EACCES); other names' queries leave.  TCP Fast
# Open to a tunneled destination goes through the tunnel.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "UDP policy" || exit 0

cap=""
if command -v tcpdump >/dev/null; then
	tb_spawn "$TB_NS_CLI" "$T/cap.txt" tcpdump -l -n -i to-gw -A udp port 53
	cap=$SPAWNED
	sleep 1
fi

tw -f "$TB_RULES" python3 -c '
import socket, errno, struct
def err(f):
    try:
        f(); return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def q(name):
    hdr = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    return hdr + b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0\0\1\0\1"
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("tunneled", err(lambda: u.sendto(b"x", ("198.51.100.20", 9))))
print("denied", err(lambda: u.sendto(b"x", ("192.0.2.99", 9))))
print("dns-tunneled-sendto", err(lambda: u.sendto(q("wiki.corp.test"), ("192.0.2.1", 53))))
print("dns-direct-sendto", err(lambda: u.sendto(q("leak-check.example"), ("192.0.2.1", 53))))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.connect(("192.0.2.1", 53))
print("dns-tunneled-send", err(lambda: c.send(q("db.corp.test"))))
print("dns-direct-send", err(lambda: c.send(q("leak-check2.example"))))
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.settimeout(5)
r.sendto(q("wiki.corp.test"), ("192.0.2.53", 53))
a = r.recv(512)
print("dns-system-sendto", "answered" if a[:2] == b"\x12\x34" and a[3] & 15 == 0 and a[7] == 1 else "no")
'
check "UDP to a tunneled destination: ENETUNREACH" grep -qx 'tunneled ENETUNREACH' "$OUT"
check "UDP to a denied destination: EACCES" grep -qx 'denied EACCES' "$OUT"
check "own DNS query (sendto) for a remote name refused: EACCES" grep -qx 'dns-tunneled-sendto EACCES' "$OUT"
check "own DNS query (connected send) for a remote name refused: EACCES" grep -qx 'dns-tunneled-send EACCES' "$OUT"
check "own DNS query to the system's nameserver: answered (the helper's responder)" \
    grep -qx 'dns-system-sendto answered' "$OUT"
check "own DNS query for another name is sent" \
    sh -c "grep -qx 'dns-direct-sendto ok' '$OUT' && grep -qx 'dns-direct-send ok' '$OUT'"
if [ -n "$cap" ]; then
	sleep 1
	tb_kill "$cap"
	check "capture: the direct names' queries left the machine" \
	    sh -c "grep -q 'leak-check' '$T/cap.txt' && grep -q 'leak-check2' '$T/cap.txt'"
	check "capture: nothing for the tunneled names reached any DNS server" \
	    sh -c "! grep -Eq 'wiki.corp|db.corp' '$T/cap.txt'"
else
	skip "capture on the client interface" "tcpdump not installed"
fi

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
