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
# t-trust: what the helper lets through, and to whom (issue 13).
#   1. The proxy the helper starts for static programs, and -D on loopback,
#      serve the helper's own uid only: another local user (twother) is
#      refused, though it reaches a plain local listener; -D bound to a
#      non-loopback address is shared on purpose, as with ssh.
#   2. The hand-over completes only into the program's own parked socket:
#      one that gave up (TCP_SYNCNT, shutdown) while the channel opened
#      hands its freed port to nobody; one the program closed gets no
#      channel; a program racing O_NONBLOCK never freezes the helper.
#   3. A socket bound to a device (SO_BINDTODEVICE) is refused at once.
#   4. A program in another network namespace is refused.
#   5. In a storm of connects, unanswered channel opens are not asked
#      again after every packet.
#   6. A lookup without a port does not take a port rule's direct for
#      every port.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "trust checks" || exit 0
tb_plan 31

R=$TB_RULES
# The helper's log (S.*.log by its socket).
helper_log() { cat $(find "$TW_RUNTIME" -name 'S.*.log') 2>/dev/null; }
cli runuser -u twother -- id -u
OTHER_UID=$(cat "$OUT")

# --- 1. the proxy serves its own user only ---------------------------------
# The first launcher starts the helper: -v, so it logs why it closed a
# channel.
tw -v -f "$R" busybox env
P=$(sed -n 's|^ALL_PROXY=socks5h://127.0.0.1:\([0-9]*\)$|\1|p' "$OUT")
check "a static program gets the helper's proxy (port ${P:-none})" [ -n "$P" ]
cli curl -sS --max-time 10 -x "socks5h://127.0.0.1:$P" http://wiki.corp.test/
check "automatic proxy: the helper's own uid gets through (SOCKS5)" \
    grep -q 'intranet wiki OK' "$OUT"
cli runuser -u twother -- curl -sS --max-time 10 -x "socks5h://127.0.0.1:$P" http://wiki.corp.test/
check "automatic proxy: another user is refused (SOCKS5, curl rc $RC)" \
    sh -c "[ $RC != 0 ] && ! grep -q 'intranet wiki OK' '$OUT'"
cli runuser -u twother -- curl -sS --max-time 10 -x "http://127.0.0.1:$P" http://wiki.corp.test/
check "automatic proxy: another user is refused (HTTP, curl rc $RC)" \
    sh -c "[ $RC != 0 ] && ! grep -q 'intranet wiki OK' '$OUT'"
helper_log >"$T/log"
check "automatic proxy: the refusal is logged with the uid ($OTHER_UID)" \
    grep -q "refused a connection from uid $OTHER_UID:" "$T/log"
# The control: twother can connect to a plain local listener, so what
# refused it was the proxy's check, not the bed.
echo "plain local page" >"$T/plain.txt"
tb_spawn "$TB_NS_CLI" "$T/plain.out" python3 -m http.server 18095 --bind 127.0.0.1 --directory "$T"
tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 18095
cli runuser -u twother -- curl -sS --max-time 10 http://127.0.0.1:18095/plain.txt
check "control: twother reaches a plain listener on 127.0.0.1" \
    grep -q 'plain local page' "$OUT"

tw -f "$R" -D 127.0.0.1:18181
cli curl -sS --max-time 10 --socks5-hostname 127.0.0.1:18181 http://wiki.corp.test/
check "-D on loopback: the helper's own uid gets through" \
    grep -q 'intranet wiki OK' "$OUT"
cli runuser -u twother -- curl -sS --max-time 10 --socks5-hostname 127.0.0.1:18181 http://wiki.corp.test/
check "-D on loopback: another user is refused (curl rc $RC)" \
    sh -c "[ $RC != 0 ] && ! grep -q 'intranet wiki OK' '$OUT'"
tw -f "$R" -D "$TB_CLI4:18182"
cli runuser -u twother -- curl -sS --max-time 10 --socks5-hostname "$TB_CLI4:18182" http://wiki.corp.test/
check "-D on a non-loopback address is shared on purpose (as ssh)" \
    grep -q 'intranet wiki OK' "$OUT"

# --- 2. the hand-over completes only into the program's own socket ---------
# A server in the intranet that holds every SYN for HOLD seconds (its
# accept queue kept full), then answers each connection with a secret: the
# channel open takes about 7 s (the bastion's SYN retransmits at 1, 3, 7 s).
cat >"$T/slow.py" <<'PY'
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
port = int(sys.argv[3]) if len(sys.argv) > 3 else 8001
l.bind((sys.argv[1], port))
l.listen(0)
filler = socket.create_connection((sys.argv[1], port))
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
l.listen(1024)
l.accept()[0].close()
while True:
    c, a = l.accept()
    try:
        c.sendall(b"INTRANET SECRET\n")
    except OSError:
        pass
    c.close()
PY
# parked.py MODE HOST PORT [DELAY]: a non-blocking connect left in
# progress (the helper parks it), then by MODE:
#   syncnt, shutdown: it gives up (TCP_SYNCNT=1: at about 3 s; shutdown()
#     at 0.5 s), then listens on the port it had, as anyone could, and says
#     what arrives there;
#   close: closes the socket after DELAY seconds;
#   move: moves it to another descriptor (dup, close the first), reads.
cat >"$T/parked.py" <<'PY'
import errno, os, select, socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket()
if mode == "syncnt":
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
s.setblocking(False)
try:
    s.connect((host, port))
except BlockingIOError:
    print("parked", flush=True)
if mode == "close":
    time.sleep(float(sys.argv[4]))
    s.close()
    print("closed", flush=True)
    sys.exit(0)
if mode == "move":
    t = socket.socket(fileno=os.dup(s.fileno()))
    s.close()
    select.select([t], [], [], 25)
    print("moved", t.recv(100))
    sys.exit(0)
myport = s.getsockname()[1]
if mode == "shutdown":
    time.sleep(0.5)
    s.shutdown(socket.SHUT_RDWR)
else:
    select.select([], [s], [], 10)
    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    print("connect gave up:", errno.errorcode.get(e, e), flush=True)
# The kernel lets the port go a moment after the connect gave up (the
# helper's copy of the socket is closed when it notices): retry the bind.
# A port still held after 10 s cannot be taken by anyone either: said so.
for i in range(200):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        l.bind(("127.0.0.1", myport))
        break
    except OSError:
        l.close()
        time.sleep(0.05)
else:
    print("port held, nobody can bind it", myport, flush=True)
    sys.exit(0)
l.listen(8)
print("listening on the freed port", myport, flush=True)
l.settimeout(12)
try:
    c, a = l.accept()
    c.settimeout(5)
    print("GOT", c.recv(100), "from", a, flush=True)
except socket.timeout:
    print("nothing", flush=True)
PY
tb_spawn "$TB_NS_INT" "$T/slow.out" python3 "$T/slow.py" "$TB_INT4" 6
tb_wait 10 grep -q holding "$T/slow.out"
tb_spawn "$TB_NS_CLI" "$T/syncnt.out" timeout 30 tunnelwrap -f "$R" python3 "$T/parked.py" syncnt "$TB_INT4" 8001
p1=$SPAWNED
tb_spawn "$TB_NS_CLI" "$T/shutdown.out" timeout 30 tunnelwrap -f "$R" python3 "$T/parked.py" shutdown "$TB_INT4" 8001
p2=$SPAWNED
tb_spawn "$TB_NS_CLI" "$T/patient.out" timeout 30 tunnelwrap -f "$R" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8001), timeout=25)
print("patient", s.recv(100))' "$TB_INT4"
p3=$SPAWNED
# One that closes its socket while the channel opens (the channel is closed
# as soon as it opens, nothing completed into it), and one that moves its
# socket to another descriptor (dup, close the first): still its socket.
tb_spawn "$TB_NS_CLI" "$T/closed.out" timeout 30 tunnelwrap -f "$R" python3 "$T/parked.py" close "$TB_INT4" 8001 0.5
p4=$SPAWNED
tb_spawn "$TB_NS_CLI" "$T/moved.out" timeout 30 tunnelwrap -f "$R" python3 "$T/parked.py" move "$TB_INT4" 8001
p5=$SPAWNED
wait "$p1" "$p2" "$p3" "$p4" "$p5"
check "control: a patient program gets the slow server's answer ($(tr '\n' ' ' <"$T/patient.out"))" \
    grep -q 'INTRANET SECRET' "$T/patient.out"
check "TCP_SYNCNT gave up while parked: a listener on the freed port receives nothing, or nobody can bind it ($(tr '\n' ' ' <"$T/syncnt.out"))" \
    sh -c "(grep -q 'listening on the freed port' '$T/syncnt.out' && grep -qx nothing '$T/syncnt.out') ||
        grep -q 'port held, nobody can bind it' '$T/syncnt.out'"
check "shutdown() while parked: a listener on the freed port receives nothing, or nobody can bind it ($(tr '\n' ' ' <"$T/shutdown.out"))" \
    sh -c "(grep -q 'listening on the freed port' '$T/shutdown.out' && grep -qx nothing '$T/shutdown.out') ||
        grep -q 'port held, nobody can bind it' '$T/shutdown.out'"
helper_log >"$T/log"
check "the helper says why it closed those channels" \
    [ "$(grep -c "connect gave up: channel closed, nothing relayed" "$T/log")" -ge 2 ]
check "a socket closed while its channel opened: the channel is closed, nothing completed" \
    sh -c "grep -q closed '$T/closed.out' && grep -q 'the program closed its socket: channel closed' '$T/log'"
check "a socket moved to another descriptor is still the program's: completed ($(tr '\n' ' ' <"$T/moved.out"))" \
    grep -q "moved b'INTRANET SECRET" "$T/moved.out"

# A program racing O_NONBLOCK on its socket (a thread flips it in a loop
# while the main one connects): the helper must never make a blocking
# connect on it (that froze it ~127 s).  Other connections complete
# meanwhile.
cat >"$T/racer.py" <<'PY'
import fcntl, os, socket, sys, threading, time
stop = [False]
def flip(fd):
    while not stop[0]:
        try:
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) ^ os.O_NONBLOCK)
        except OSError:
            return
n = 0
for i in range(int(sys.argv[2])):
    s = socket.socket()
    s.setblocking(False)
    stop[0] = False
    t = threading.Thread(target=flip, args=(s.fileno(),))
    t.start()
    try:
        s.connect((sys.argv[1], 7))
    except OSError:
        pass
    time.sleep(0.01)
    stop[0] = True
    t.join()
    s.close()
    n += 1
print("raced", n, flush=True)
PY
tb_spawn "$TB_NS_CLI" "$T/racer.out" timeout 60 tunnelwrap -f "$R" python3 "$T/racer.py" "$TB_INT4" 150
racer=$SPAWNED
good=0
for i in 1 2 3 4 5; do
	cli curl -sS --max-time 5 -x "socks5h://127.0.0.1:$P" http://wiki.corp.test/
	grep -q 'intranet wiki OK' "$OUT" && good=$((good + 1))
	tw -f "$R" curl -sS --max-time 5 http://wiki.corp.test/
	grep -q 'intranet wiki OK' "$OUT" && good=$((good + 1))
	sleep 0.3
done
wait "$racer"
check "a program racing O_NONBLOCK: connects went on meanwhile ($good of 10), the helper never froze ($(cat "$T/racer.out"))" \
    sh -c "[ $good = 10 ] && grep -q 'raced 150' '$T/racer.out'"

# --- 3. a socket bound to a device ------------------------------------------
n0=$(tb_ssh_target_count wiki.corp.test 80)
t0=$(date +%s.%N)
tw -f "$R" curl -sS --max-time 10 --interface to-gw http://wiki.corp.test/
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check "SO_BINDTODEVICE (curl --interface): refused at once (${took} s, curl rc $RC), not after the parking SYN's ~3 s" \
    sh -c "[ $RC != 0 ] && ! grep -q 'intranet wiki OK' '$OUT' && awk 'BEGIN { exit !($took < 2) }'"
check "SO_BINDTODEVICE: no channel was opened for it" \
    [ "$(tb_ssh_target_count wiki.corp.test 80)" = "$n0" ]
tw -f "$R" -O status
check "SO_BINDTODEVICE: -O status says why" grep -q 'bound to device to-gw' "$OUT"

# --- 4. a program in another network namespace -------------------------------
cat >"$T/netns.py" <<'PY'
import errno, socket
try:
    s = socket.create_connection(("db.corp.test", 7), timeout=10)
    s.sendall(b"ping\n")
    print("connected", s.recv(10))
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno))
PY
n0=$(tb_ssh_target_count db.corp.test 7)
cli unshare -n sh -c 'ip link set lo up && exec tunnelwrap -f "$1" python3 "$2"' sh "$R" "$T/netns.py"
check "another network namespace: the connect is refused ($(cat "$OUT"))" \
    grep -qx 'error ENETUNREACH' "$OUT"
check "another network namespace: no channel was opened for it" \
    [ "$(tb_ssh_target_count db.corp.test 7)" = "$n0" ]
helper_log >"$T/log"
check "another network namespace: the helper says why" \
    grep -q 'another network namespace' "$T/log"
tw -f "$R" python3 "$T/netns.py"
n1=$(tb_ssh_target_count db.corp.test 7)
check "control: the same program in the helper's namespace connects ($(cat "$OUT"))" \
    sh -c "grep -q '^connected' '$OUT' && [ $n1 -gt $n0 ]"

# --- 5. a connection storm: channel opens are asked again only when they
# can have advanced --------------------------------------------------------
# 200 connects wait on the slow server (opens answered after ~7 s) while a
# download keeps packets coming (a pump each time): asking every unanswered
# open again after each pump was O(n^2); now a confirmed one is asked
# again, and the rest once a second (or when some open was refused).
cat >"$T/storm.py" <<'PY'
import selectors, socket, sys
host, n = sys.argv[1], int(sys.argv[2])
sel = selectors.DefaultSelector()
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((host, 8002))
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_READ)
got = 0
while got < n:
    ev = sel.select(timeout=30)
    if not ev:
        break
    for key, _ in ev:
        try:
            data = key.fileobj.recv(100)
            if data.startswith(b"INTRANET SECRET"):
                got += 1
            else:                       # says which, if the check fails
                print("odd", data, flush=True)
        except OSError as e:
            print("error", e, flush=True)
        sel.unregister(key.fileobj)
        key.fileobj.close()
print("answered", got, flush=True)
PY
open_retries() {
	tw -f "$R" -O status --json >/dev/null
	sed -n 's/.*"open_retries":\([0-9]*\).*/\1/p' "$OUT"
}
r0=$(open_retries)
tb_spawn "$TB_NS_INT" "$T/slow2.out" python3 "$T/slow.py" "$TB_INT4" 6 8002
tb_wait 10 grep -q holding "$T/slow2.out"
tb_spawn "$TB_NS_CLI" "$T/bulk.out" timeout 60 tunnelwrap -f "$R" curl -sS --max-time 50 \
    --limit-rate 4M -o /dev/null -w '%{size_download}\n' http://wiki.corp.test/big.bin
bulk=$SPAWNED
tw -f "$R" python3 "$T/storm.py" "$TB_INT4" 200
r1=$(open_retries)
wait "$bulk"
check "storm: all 200 connections opened and answered ($(tr '\n' ' ' <"$OUT"))" grep -qx 'answered 200' "$OUT"
check "storm: channel opens asked again $((r1 - r0)) times for 200 connections over ~7 s (at most 15 each)" \
    [ $((r1 - r0)) -le 3000 ]

# --- 6. a lookup without a port, for a name whose rules differ by port ----
# `direct wiki.corp.test:443` before `tunnel *.corp.test`: a portless
# lookup (a browser's) must not take the 443 rule for every port.  The
# name gets a synthetic address; port 80 is tunneled; port 443 still goes
# direct, decided at connect (the trap sees that one: the control).
R6=$T/rules-port
sed 's/^deny /direct wiki.corp.test:443\ndeny /' "$R" >"$R6"
cat >"$T/portless.py" <<'PY'
import socket, sys
addr = socket.getaddrinfo("wiki.corp.test", None, socket.AF_INET,
                          socket.SOCK_STREAM)[0][4][0]
s = socket.create_connection((addr, int(sys.argv[1])), timeout=10)
s.sendall(b"GET / HTTP/1.0\r\nHost: wiki.corp.test\r\n\r\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(addr, "wiki OK" if b"intranet wiki OK" in data else data[:40])
PY
mark=$(tb_trap_mark)
tw -f "$R6" python3 "$T/portless.py" 80
check "portless lookup, port 80: a synthetic address, tunneled ($(cat "$OUT"))" \
    grep -Eq '^203\.0\.113\.[0-9]+ wiki OK$' "$OUT"
check_no_leak "portless lookup: the name never went to the local resolver" "$mark"
mark=$(tb_trap_mark)
tw -f "$R6" python3 "$T/portless.py" 443
check_trap_caught "control: port 443 still goes direct by its rule, decided at connect" "$mark"

# --- 2, last: a program that closes its parked socket gets no channel -------
# The session goes down (link down; keepalives notice), so connects wait
# parked.  One program closes its socket meanwhile, another keeps it; once
# the session is back only the kept one gets a channel.
R2=$T/rules-ka
sed 's/^session corp bastion.*/session corp bastion ServerAliveInterval=1 ServerAliveCountMax=2 ConnectTimeout=20/' \
    "$R" >"$R2"
tw_new_runtime -f "$R2"
tw -v -f "$R2" -D 127.0.0.1:18183	# a helper that stays up (like ssh -N)
ip netns exec "$TB_NS_CLI" sysctl -qw net.ipv6.conf.to-gw.keep_addr_on_down=1
ip netns exec "$TB_NS_CLI" ip link set to-gw down
session_down() { tw -f "$R2" -O status; grep -Eq 'session .*, down' "$OUT"; }
tb_wait 10 session_down
check "session down (link down, keepalive)" session_down
nclosed=$(tb_ssh_target_count db.corp.test 7)
nkept=$(tb_ssh_target_count echo.corp.test 7)
tb_spawn "$TB_NS_CLI" "$T/closer.out" timeout 30 tunnelwrap -f "$R2" python3 "$T/parked.py" close db.corp.test 7 1
closer=$SPAWNED
tb_spawn "$TB_NS_CLI" "$T/keeper.out" timeout 30 tunnelwrap -f "$R2" python3 -c '
import socket
s = socket.create_connection(("echo.corp.test", 7), timeout=25)
s.sendall(b"kept\n")
print("echo", s.recv(10))'
keeper=$SPAWNED
wait "$closer"
ip netns exec "$TB_NS_CLI" ip link set to-gw up
wait "$keeper"
check "control: a connect kept through the outage completes ($(cat "$T/keeper.out"))" \
    sh -c "grep -q \"echo b'kept\" '$T/keeper.out' && [ $(tb_ssh_target_count echo.corp.test 7) -gt $nkept ]"
check "a socket closed while parked gets no channel at the bastion ($(tr '\n' ' ' <"$T/closer.out"))" \
    sh -c "grep -q closed '$T/closer.out' && [ $(tb_ssh_target_count db.corp.test 7) = $nclosed ]"
