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
# t-seccomp: programs the shim cannot reach - a static Go program
# (CGO_ENABLED=0: raw system calls, its own resolver) and static busybox -
# run under the launcher's seccomp supervisor, with no proxy variables:
# their connects to tunneled addresses (intranet and synthetic) go through
# the tunnel, denied ones fail with EACCES, their own DNS queries go to
# the helper's DNS responder (net.Dial by name, LookupHost, LookupSRV), and
# nothing reaches the leak trap (negative controls: the same with the rules
# turned direct).  Also: a Go program started by a shell
# script (the shim hands it to the supervisor), 64 goroutines connecting at
# once, -o Intercept=seccomp for a dynamic program's raw connect, and a
# supervisor killed mid-run (the program's connects then fail, closed).
. "$(dirname "$0")/lib/tap.sh"
tb_plan 57
tb_need_product
tb_need_netns "seccomp supervisor" || exit 0


GOENV=(env GOPATH="$T/gopath" GOCACHE="$T/gocache" GOFLAGS= GOPROXY=off
    GO111MODULE=off HOME="$T" CGO_ENABLED=0)
cp "$TB_TOP/tests/progs/godial.go" "$T/godial.go"
if ! (cd "$T" && timeout 300 "${GOENV[@]}" go build -o godial godial.go) \
    >"$T/go.log" 2>&1; then
	fail "godial builds (CGO_ENABLED=0)" "$(tail -n 5 "$T/go.log")"
	exit 1
fi
GODIAL=$T/godial
BB=$(command -v busybox)

# A synthetic address for wiki.corp.test, from a remote lookup (the shim's
# getaddrinfo in getent), held by the helper the next runs share.
tw -f "$TB_RULES" getent ahostsv4 wiki.corp.test
SYN=$(awk 'NR == 1 { print $1 }' "$OUT")
case $SYN in
203.0.113.*) ok "a remote lookup gives a synthetic address ($SYN)" ;;
*) fail "a remote lookup gives a synthetic address" "$(tb_last)" ;;
esac

# --- a static Go program ----------------------------------------------------
go_probe() {
	tw -f "$1" "$GODIAL" http 198.51.100.20:80 "$SYN:80" \
	    "[2001:db8:2::20]:80"
	[ -n "${O:-}" ] || { O=$OUT; E=$ERR; }
}
O=
check_never_direct "Go net.Dial by address" go_probe "$TB_RULES"
check "Go, intranet address, HTTP through the tunnel" \
    grep -q '^ok http 198.51.100.20:80 .*intranet wiki OK' "$O"
check "Go, synthetic address from a remote lookup, HTTP through the tunnel" \
    grep -q "^ok http $SYN:80 .*intranet wiki OK" "$O"
check "Go, intranet IPv6 address, HTTP through the tunnel" \
    grep -q '^ok http \[2001:db8:2::20\]:80 .*intranet wiki OK' "$O"
check "Go: RemoteAddr (getpeername) names the destination, not the helper" \
    sh -c "grep -q '^ok http 198.51.100.20:80 peer=198.51.100.20:80 ' '$O' &&
        grep -q '^ok http $SYN:80 peer=$SYN:80 ' '$O' &&
        grep -q '^ok http \[2001:db8:2::20\]:80 peer=\[2001:db8:2::20\]:80 ' '$O'"
check "Go: no proxy line, nothing said without -v" \
    sh -c "! grep -q 'proxy' '$E'"

tw -f "$TB_RULES" "$GODIAL" http 192.0.2.99:80
check "Go, denied address: EACCES (permission denied)" \
    grep -q '^fail http 192.0.2.99:80 .*permission denied' "$OUT"

tw -f "$TB_RULES" "$GODIAL" http 198.51.100.20:81
check "Go, closed intranet port: connection refused" \
    grep -q '^fail http 198.51.100.20:81 .*connection refused' "$OUT"
# A name the bastion cannot resolve: the helper's reason, EHOSTUNREACH,
# not the kernel's ECONNRESET (SO_ERROR answered by the supervisor).
tw -f "$TB_RULES" getent ahostsv4 nosuch.corp.test
NOSUCH=$(awk 'NR == 1 { print $1 }' "$OUT")
tw -f "$TB_RULES" "$GODIAL" http "$NOSUCH:80"
check "Go, a name the bastion cannot resolve: no route to host, the helper's reason" \
    grep -q "^fail http $NOSUCH:80 .*no route to host" "$OUT"

# --- names: Go's own resolver, sent to the helper's DNS responder ------------
# Its socket to the nameserver (/etc/resolv.conf: the trap) is connected to
# the responder instead; with the rules turned direct the responder asks
# the system's resolver (the trap sees the question), and the dial goes
# direct (the trap sees it too).
names_probe() {
	tw -f "$1" "$GODIAL" http wiki.corp.test:80
	[ -n "${NH:-}" ] || cp "$OUT" "$T/names.http"
	tw -f "$1" "$GODIAL" lookup wiki.corp.test
	[ -n "${NH:-}" ] || cp "$OUT" "$T/names.lookup"
	tw -f "$1" "$GODIAL" srv ldap tcp corp.test
	[ -n "${NH:-}" ] || { cp "$OUT" "$T/names.srv"; cp "$ERR" "$T/names.err"; }
	NH=1
}
NH=
# The intranet's resolver named: otherwise the responder's first SRV
# question waits for the bastion's /etc/resolv.conf (an exec session, near
# a second here), longer than the bed's resolv.conf lets Go wait (timeout:1).
{ echo 'resolver 198.51.100.20'; cat "$TB_RULES"; } >"$T/resolver.rules"
check_never_direct "Go's own resolver (net.Dial by name, LookupHost, LookupSRV)" \
    names_probe "$T/resolver.rules"
check "Go net.Dial by an intranet name, no proxy variables: HTTP through the tunnel, to its synthetic address" \
    grep -Eq '^ok http wiki\.corp\.test:80 peer=(203\.0\.113\.[0-9]+|\[2001:db8:ff::[0-9a-f:]+\]):80 .*intranet wiki OK' \
    "$T/names.http"
check "Go net.LookupHost of an intranet name: the synthetic addresses" \
    sh -c "grep -q '^ok lookup .*203\.0\.113\.' '$T/names.lookup' &&
        grep -q '^ok lookup .*2001:db8:ff::' '$T/names.lookup'"
check "Go net.LookupSRV: the intranet resolver's record, through the bastion" \
    grep -qx 'ok srv 0 100 389 ldap.corp.test.' "$T/names.srv"
check "Go's resolver under the supervisor: nothing said without -v" \
    test ! -s "$T/names.err"
tw -f "$TB_RULES" "$GODIAL" lookup blocked.corp.test
check "Go net.LookupHost of a denied name: refused (REFUSED from the responder)" \
    grep -q '^fail lookup' "$OUT"

# A query of our own (UDP, TCP; connect then write): the socket's peer is
# still the nameserver; a datagram sent with the nameserver's address
# (unconnected) goes to the responder too, whose address the reply shows.
cli awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf
NS=$(cat "$OUT")
mark=$(tb_trap_mark)
for net in udp tcp unconnected; do
	tw -f "$TB_RULES" "$GODIAL" dns $net wiki.corp.test
	cp "$OUT" "$T/dns.$net"
done
check "a Go query of its own over connected UDP: the synthetic answer, getpeername names the nameserver" \
    grep -Eq "^ok dns udp peer=$NS:53 a=203\.0\.113\." "$T/dns.udp"
check "a Go query of its own over TCP: the synthetic answer, getpeername names the nameserver" \
    grep -Eq "^ok dns tcp peer=$NS:53 a=203\.0\.113\." "$T/dns.tcp"
check "a Go query sendto the nameserver on an unconnected socket: answered by the responder" \
    grep -Eq '^ok dns unconnected from=127\.0\.0\.1:[0-9]+ a=203\.0\.113\.' "$T/dns.unconnected"
tw -f "$TB_RULES" "$BB" nslookup wiki.corp.test
check "busybox nslookup (static, its own resolver): the synthetic addresses from the responder" \
    sh -c "grep -q 'Address: 203\.0\.113\.' '$OUT' && grep -q 'Address: 2001:db8:ff::' '$OUT'"
# Another server than the nameservers: we cannot see what it is asked.
tw -f "$TB_RULES" -v "$BB" nslookup wiki.corp.test 192.0.2.1
check "busybox nslookup to a server not in resolv.conf: refused (EACCES)" \
    grep -q "192.0.2.1:53: a DNS query of pid [0-9]*'s own to a server not in /etc/resolv.conf, refused" "$ERR"
check_no_leak "Go's and busybox's queries of their own: the resolver (trap) saw no question" "$mark"
mark=$(tb_trap_mark)
tw -f "$TB_RULES" -o Intercept=proxy "$GODIAL" lookup wiki.corp.test
check_trap_caught "negative control: without the filter Go's query reaches the resolver" "$mark"

# 64 goroutines at once, to the intranet echo server.
mark=$(tb_trap_mark)
tw -f "$TB_RULES" "$GODIAL" many 64 198.51.100.20:7
check "64 goroutines connecting at once: every echo through the tunnel" \
    grep -qx 'many 64 of 64' "$OUT"
check_no_leak "64 goroutines: nothing reached the trap" "$mark"

# Started by a shell script: the shim hands the Go program to a supervisor.
cat >"$T/script.sh" <<EOF
#!/bin/sh
echo script running
exec "$GODIAL" http 198.51.100.20:80 wiki.corp.test:80
EOF
chmod +x "$T/script.sh"
script_probe() {
	tw -f "$1" "$T/script.sh"
	[ -n "${O:-}" ] || O=$OUT
}
O=
check_never_direct "a Go program started by a shell script" script_probe "$TB_RULES"
check "a Go program started by a shell script: HTTP through the tunnel" \
    grep -q '^ok http 198.51.100.20:80 .*intranet wiki OK' "$O"
check "a Go program started by a shell script: by name too (its resolver to the responder)" \
    grep -Eq '^ok http wiki\.corp\.test:80 peer=(203\.0\.113\.|\[2001:db8:ff::).*intranet wiki OK' "$O"

# --- static busybox ---------------------------------------------------------
# The launcher also sets the proxy variables for them (they carry names,
# which their own resolvers cannot): unset here, so only the filter acts.
NOPROXY="$BB env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u all_proxy"
tw -f "$TB_RULES" $NOPROXY "$BB" env
check "busybox (static) runs with no proxy variable set" \
    sh -c "grep -q '^PATH=' '$OUT' && ! grep -qi '_proxy=' '$OUT'"
bb_probe() {
	tw -f "$1" $NOPROXY "$BB" wget -q -O - http://198.51.100.20/
	[ -n "${O:-}" ] || O=$OUT
}
O=
check_never_direct "busybox wget (static)" bb_probe "$TB_RULES"
check "busybox wget (static), no proxy variables: through the tunnel" \
    grep -q 'intranet wiki OK' "$O"
tw -f "$TB_RULES" sh -c "printf 'via nc\n' | $NOPROXY $BB nc 198.51.100.20 7"
check "busybox nc (static) to the intranet echo server: through the tunnel" \
    grep -qx 'via nc' "$OUT"

# A blocking connect to a closed intranet port: the helper's reason.
tw -f "$TB_RULES" $NOPROXY "$BB" nc 198.51.100.20 81
check "busybox nc to a closed intranet port: Connection refused, as the bastion saw it" \
    sh -c "[ $RC != 0 ] && grep -q 'Connection refused' '$ERR'"
tw -f "$TB_RULES" "$BB" wget -q -O - http://wiki.corp.test/
check "busybox wget by name: the proxy variables carry the name, nothing said" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ ! -s '$ERR' ]"

# The launcher stays the parent: the program's exit status and death are its own.
tw -f "$TB_RULES" "$BB" sh -c 'exit 7'
check "supervised program's exit status is tunnelwrap's (7)" test "$RC" = 7
tw -f "$TB_RULES" "$BB" sh -c 'kill -TERM $$'
check "supervised program killed by SIGTERM: tunnelwrap dies of it too (143)" test "$RC" = 143

tb_spawn "$TB_NS_CLI" "$T/term.out" tunnelwrap -f "$TB_RULES" "$BB" sh -c \
    'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done'
term=$SPAWNED
tb_wait 10 grep -q ready "$T/term.out"
kill -TERM "$term"
wait "$term"
rc=$?
check "SIGTERM to tunnelwrap reaches the supervised program (it exits 3)" \
    sh -c "[ $rc = 3 ] && grep -q 'got TERM' '$T/term.out'"

# --- Intercept=seccomp: a dynamic program's raw connect(2) ----------------
raw_probe() {
	tw -f "$1" -o Intercept=seccomp python3 -c '
import ctypes, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket()
sa = struct.pack("<HH4s8x", socket.AF_INET, socket.htons(80), socket.inet_aton("198.51.100.20"))
# The kernel reads addrlen as an int: junk in the upper half of the register
# must not change what the supervisor decides.
junk = lambda n: ctypes.c_long(n | (0x5a5a5a5a << 32))
r = libc.syscall(42, s.fileno(), sa, junk(len(sa)))
print("raw connect", r, ctypes.get_errno() if r < 0 else 0)  # errno is unspecified on success
req = b"GET / HTTP/1.0\r\nHost: wiki.corp.test\r\n\r\n"
def body(s):
    s.settimeout(20)
    d = b""
    while True:
        b = s.recv(4096)
        if not b:
            return d.decode().split("\r\n\r\n", 1)[-1].strip()
        d += b
s.sendall(req)
print("connect:", body(s))
f = socket.socket()
n = libc.syscall(44, f.fileno(), req, len(req), 0x20000000, sa, junk(len(sa)))
print("raw fastopen", n == len(req), ctypes.get_errno() if n < 0 else 0)
print("fastopen:", body(f))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sa9 = struct.pack("<HH4s8x", socket.AF_INET, socket.htons(9), socket.inet_aton("198.51.100.20"))
r = libc.syscall(44, u.fileno(), b"x", 1, 0, sa9, junk(len(sa9)))
print("raw udp", r, ctypes.get_errno())
# IPv6 at the RFC 2133 length (24 bytes, no scope), which the kernel takes
s6 = socket.socket(socket.AF_INET6)
sa6 = struct.pack("<HHI16s", socket.AF_INET6, socket.htons(80), 0,
    socket.inet_pton(socket.AF_INET6, "2001:db8:2::20"))
r = libc.syscall(42, s6.fileno(), sa6, len(sa6))
print("raw connect6 24", r, ctypes.get_errno() if r < 0 else 0)
if r == 0:
    s6.sendall(req)
    print("connect6:", body(s6))
# sendmsg with a name longer than sockaddr_storage: the kernel cuts it
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint),
        ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int)]
name = ctypes.create_string_buffer(sa9 + bytes(184), 200)
data = ctypes.create_string_buffer(b"x", 1)
v = iovec(ctypes.cast(data, ctypes.c_void_p), 1)
m = msghdr(ctypes.cast(name, ctypes.c_void_p), 200, ctypes.pointer(v), 1, None, 0, 0)
r = libc.syscall(46, u.fileno(), ctypes.byref(m), 0)
print("raw sendmsg long name", r, ctypes.get_errno())'
	[ -n "${O:-}" ] || O=$OUT
}
O=
check_never_direct "Intercept=seccomp, raw syscall(SYS_connect)" raw_probe "$TB_RULES"
check "Intercept=seccomp: a raw connect(2) past the shim (junk in addrlen's upper half) goes through the tunnel" \
    sh -c "grep -qx 'raw connect 0 0' '$O' && grep -q '^connect:.*intranet wiki OK' '$O'"
check "Intercept=seccomp: a raw Fast Open sendto(2): connected through the tunnel, data sent" \
    sh -c "grep -qx 'raw fastopen True 0' '$O' && grep -q '^fastopen:.*intranet wiki OK' '$O'"
check "Intercept=seccomp: a raw UDP sendto(2) to a tunneled address: ENETUNREACH" \
    grep -qx 'raw udp -1 101' "$O"
check "Intercept=seccomp: a raw IPv6 connect at the 24-byte length goes through the tunnel" \
    sh -c "grep -qx 'raw connect6 24 0 0' '$O' && grep -q '^connect6:.*intranet wiki OK' '$O'"
check "Intercept=seccomp: a raw sendmsg(2) with a name longer than the kernel takes: ENETUNREACH" \
    grep -qx 'raw sendmsg long name -1 101' "$O"

# --- signals while notified calls wait ------------------------------------
# A timer signal every 200 us (no SA_RESTART) while blocking raw connects
# to tunneled addresses wait for the supervisor: each one must end
# connected (EINTR, EALREADY on the way are the kernel's own answers), and
# nothing go direct.
mark=$(tb_trap_mark)
tw -f "$TB_RULES" -o Intercept=seccomp python3 -c '
import ctypes, errno, signal, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
hits = [0]
signal.signal(signal.SIGALRM, lambda *a: hits.__setitem__(0, hits[0] + 1))
signal.siginterrupt(signal.SIGALRM, True)
signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
sa = struct.pack("<HH4s8x", socket.AF_INET, socket.htons(7), socket.inet_aton("198.51.100.20"))
good = intr = 0
for i in range(20):
    s = socket.socket()
    while True:
        r = libc.syscall(42, s.fileno(), sa, len(sa))
        e = ctypes.get_errno() if r < 0 else 0
        if r == 0 or e == errno.EISCONN:
            break
        if e not in (errno.EINTR, errno.EALREADY, errno.EINPROGRESS):
            raise SystemExit("connect: " + errno.errorcode.get(e, str(e)))
        intr += 1
    signal.setitimer(signal.ITIMER_REAL, 0)
    s.settimeout(10)
    s.sendall(b"sig %d\n" % i)
    good += s.recv(64) == b"sig %d\n" % i
    s.close()
    signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
signal.setitimer(signal.ITIMER_REAL, 0)
print("echoed", good, "signals", hits[0] > 0, "interrupted", intr)'
check "signals every 200 us during 20 blocking raw connects: all connected, all echoed" \
    grep -q '^echoed 20 signals True' "$OUT"
check_no_leak "signals during notified connects: nothing reached the trap" "$mark"

# --- the supervisor killed mid-run ------------------------------------------
mark=$(tb_trap_mark)
tb_spawn "$TB_NS_CLI" "$T/loop.out" tunnelwrap -f "$TB_RULES" \
    "$GODIAL" loop 4 198.51.100.20:80
loop=$SPAWNED
tb_wait 10 grep -q 'dial ok' "$T/loop.out"
sup=$(awk '/^ppid/ { print $2; exit }' "$T/loop.out")
if [ -n "$sup" ] && ps -o comm= -p "$sup" | grep -q tunnelwrap; then
	kill -KILL "$sup"
	wait "$loop" 2>/dev/null
	# The orphaned program dials on for its four seconds.
	tb_wait 10 sh -c "! pgrep -f '$GODIAL loop' >/dev/null"
	check "supervisor alive: the program's dials went through (positive control)" \
	    grep -q '^dial ok' "$T/loop.out"
	check "supervisor killed: every later dial fails (function not implemented)" \
	    sh -c "awk '/^ppid/ { p = 1; next } p' '$T/loop.out' |
	        sed -n '/dial error/,\$p' | grep -v 'dial error.*function not implemented' |
	        { ! grep -q .; } && grep -q 'dial error.*function not implemented' '$T/loop.out' &&
	        [ \"\$(tail -n 1 '$T/loop.out')\" != 'dial ok' ]"
	check_no_leak "supervisor killed: nothing reached the trap" "$mark"
else
	fail "supervisor killed mid-run" "no supervisor pid: $(cat "$T/loop.out")"
fi

# --- where it cannot run -----------------------------------------------------
mark=$(tb_trap_mark)
tw -f "$TB_RULES" -o Intercept=proxy "$GODIAL" http 198.51.100.20:80
check "Intercept=proxy: today's proxy variables, said in one line" \
    sh -c "grep -q 'is statically linked\|is a Go program' '$ERR' &&
        [ \$(wc -l <'$ERR') = 1 ]"
check_trap_caught "negative control: Intercept=proxy, a raw dial goes direct" "$mark"
# A container whose own filter refuses seccomp(2) (tests/progs/noseccomp.c).
if nosec=$(tb_cc noseccomp 2>"$T/cc.err"); then
	cli "$nosec" tunnelwrap -f "$TB_RULES" "$BB" wget -q -O - http://wiki.corp.test/
	check "no seccomp here: one line saying so, then the proxy variables" \
	    sh -c "grep -q 'no seccomp supervisor here (seccomp user notification: Function not implemented)' '$ERR' &&
	        [ \$(wc -l <'$ERR') = 1 ] && grep -q 'intranet wiki OK' '$OUT'"
else
	fail "noseccomp builds" "$(cat "$T/cc.err")"
fi
tw -f "$TB_RULES" -o Intercept=bogus true
check "Intercept=bogus is refused" sh -c "[ $RC = 255 ] && grep -q 'Intercept=bogus' '$ERR'"
