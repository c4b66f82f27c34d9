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
# t-reconnect: the session survives the real world.  sshd's connection
# process killed; the link going down (keepalive notices it, by a channel
# request or, where the bastion allows no session channel, by TCP
# keepalives); connects made
# while the session is down wait for the reconnect, or time out - never a
# direct connection; the helper killed (tunneled connects fail at once,
# direct ones keep working, the next launcher starts a fresh helper); ten
# launchers racing to start one helper.  Prints the figures measured.
. "$(dirname "$0")/lib/tap.sh"
tb_plan 20
tb_need_product
tb_need_netns "fault injection" || exit 0

R=$T/rules
sed 's/^session corp bastion.*/session corp bastion ServerAliveInterval=1 ServerAliveCountMax=2 ConnectTimeout=6/' \
    "$TB_RULES" >"$R"

status() { tw -f "$R" -O status; cat "$OUT"; }
helper_pid() { status | sed -n 's/^helper *pid \([0-9]*\).*/\1/p'; }
# wait_status SECONDS REGEX: poll -O status until it matches.
wait_status() {
	local i
	for i in $(seq $(($1 * 5))); do
		status | grep -Eq "$2" && return 0
		sleep 0.2
	done
	return 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# A long-lived echo connection that reports how it ends.
spawn_idle() {
	tb_spawn "$TB_NS_CLI" "$1" timeout 60 tunnelwrap -f "$R" python3 -u -c '
import socket, time, errno
s = socket.create_connection(("echo.corp.test", 7), timeout=30)
s.sendall(b"x"); s.recv(1); print("connected", flush=True)
s.settimeout(40)
try:
    d = s.recv(100)
    print("eof" if not d else "data")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno))'
}

tw -f "$R" curl -sS --max-time 10 http://wiki.corp.test/
check "helper up, first fetch works" grep -q 'intranet wiki OK' "$OUT"
hpid=$(helper_pid)

# 1. sshd's per-connection process killed.
spawn_idle "$T/idle1.out"
idle=$SPAWNED
tb_wait 10 grep -q connected "$T/idle1.out"
kids=$(pgrep -P "$TB_SSHD_PID" | xargs)
t0=$(now)
# shellcheck disable=SC2086
[ -n "$kids" ] && kill -KILL $kids
wait "$idle"
check "sshd killed: the open connection is reset, not silently kept ($(cat "$T/idle1.out" | tail -n 1))" \
    grep -Eq '^(error ECONNRESET|eof)$' "$T/idle1.out"
took=never
if wait_status 20 'session .*, up' && status | grep -q 'reconnects *1 of 1' &&
    took=$(elapsed "$t0") && awk "BEGIN { exit !($took <= 2.5) }"; then
	ok "sshd killed: helper reconnected in $took s (bound 2.5 s)"
else
	fail "sshd killed: helper reconnected within 2.5 s ($took)" "$(status)"
fi
check "sshd killed: same helper process" [ "$(helper_pid)" = "$hpid" ]
tw -f "$R" curl -sS --max-time 10 http://wiki.corp.test/
check "sshd killed: new connections work after the reconnect" \
    grep -q 'intranet wiki OK' "$OUT"

# Keep the IPv6 addresses across link down/up (the default flushes them),
# so later tests find the bed as it was.
ip netns exec "$TB_NS_CLI" sysctl -qw net.ipv6.conf.to-gw.keep_addr_on_down=1

# 2. The link goes down: keepalives notice; a connect made meanwhile waits
# for the reconnect and then succeeds.
t0=$(now)
ip netns exec "$TB_NS_CLI" ip link set to-gw down
if wait_status 10 'session .*, down'; then
	ok "link down: noticed by keepalive in $(elapsed "$t0") s (interval 1 s x 2)"
else
	fail "link down: noticed by keepalive" "$(status)"
fi
tb_spawn "$TB_NS_CLI" "$T/wait.out" timeout 30 tunnelwrap -f "$R" \
    curl -sS --max-time 25 http://wiki.corp.test/
waiter=$SPAWNED
sleep 2
t1=$(now)
ip netns exec "$TB_NS_CLI" ip link set to-gw up
wait "$waiter"
check "link down: a connect made meanwhile waited and succeeded once back ($(elapsed "$t1") s after link up)" \
    grep -q 'intranet wiki OK' "$T/wait.out"

# 3. Down for longer than ConnectTimeout: the connect fails (ETIMEDOUT),
# never going direct.
wait_status 15 'session .*, up' >/dev/null
ip netns exec "$TB_NS_CLI" ip link set to-gw down
wait_status 10 'session .*, down' >/dev/null
t0=$(now)
mark=$(tb_trap_mark)
tw -f "$R" python3 -c '
import socket, errno
try:
    socket.create_connection(("echo.corp.test", 7), timeout=30)
    print("connected")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno))'
took=$(elapsed "$t0")
check "down past ConnectTimeout (6 s per address, 2 addresses): connect fails with ETIMEDOUT after ${took} s, within 10-20 s ($(cat "$OUT"))" \
    sh -c "grep -qx 'error ETIMEDOUT' '$OUT' && awk 'BEGIN { exit !($took >= 10 && $took <= 20) }'"
check_no_leak "down past ConnectTimeout: nothing went direct (the leak trap saw nothing)" "$mark"
ip netns exec "$TB_NS_CLI" ip link set to-gw up
wait_status 20 'session .*, up' >/dev/null

# 4. The helper killed: tunneled connects fail promptly, direct ones work,
# and the next launcher starts a fresh helper.
tb_spawn "$TB_NS_CLI" "$T/after.out" timeout 30 tunnelwrap -f "$R" python3 -u -c '
import socket, time, errno, sys
time.sleep(2)
t = time.time()
try:
    socket.getaddrinfo("echo.corp.test", 7)
    print("name resolved")
except socket.gaierror as e:
    print("name error", "EAI_AGAIN" if e.errno == socket.EAI_AGAIN else e.errno, "%.2f" % (time.time() - t))
t = time.time()
try:
    socket.create_connection(("198.51.100.20", 7), timeout=20)
    print("tunneled connected")
except OSError as e:
    print("tunneled error", errno.errorcode.get(e.errno, e.errno), "%.2f" % (time.time() - t))
s = socket.create_connection((sys.argv[1], 22), timeout=5)
print("direct", s.recv(4).decode())' "$TB_GW4"
prog=$SPAWNED
sleep 1
hpid=$(helper_pid)
kill -KILL "$hpid"
wait "$prog"
check "helper killed: tunneled connect fails promptly with ENETUNREACH ($(grep tunneled "$T/after.out"))" \
    awk '/^tunneled error ENETUNREACH / { found = 1; exit !($4 < 0.2) } END { exit !found }' "$T/after.out"
check "helper killed: a tunneled name fails promptly with EAI_AGAIN ($(grep '^name' "$T/after.out"))" \
    awk '/^name error EAI_AGAIN / { found = 1; exit !($4 < 0.2) } END { exit !found }' "$T/after.out"
check "helper killed: direct connections keep working" grep -q '^direct SSH-' "$T/after.out"
tw -f "$R" curl -sS --max-time 10 http://wiki.corp.test/
check "helper killed: the next launcher starts a fresh helper" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ '$(helper_pid)' != '$hpid' ]"
tw -f "$R" -O stop

# 5. Ten launchers at once on a fresh runtime dir: exactly one helper.
tw_new_runtime
a0=$(tb_ssh_accepted_count)
pids=""
for i in $(seq 10); do
	tb_spawn "$TB_NS_CLI" "$T/race$i.out" timeout 40 tunnelwrap -f "$R" \
	    curl -sS --max-time 20 http://wiki.corp.test/
	pids="$pids $SPAWNED"
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
check "ten concurrent launchers all succeed ($bad failed)" [ "$bad" = 0 ]
check "ten concurrent launchers: exactly one SSH connection ($(($(tb_ssh_accepted_count) - a0)))" \
    [ $(($(tb_ssh_accepted_count) - a0)) = 1 ]

# 6. A forwarding-only bastion (sshd MaxSessions 0) refuses the keepalive's
# session channel: an idle session must not be taken for a dead one, and a
# dead link is still noticed, by TCP keepalives.
tw_new_runtime
R2=$T/rules-nosession
sed "s|^session corp bastion.*|session corp root@$TB_GW4:2201 UserKnownHostsFile=$TB_HOME/.ssh/known_hosts3 ServerAliveInterval=1 ServerAliveCountMax=2 ConnectTimeout=6|" \
    "$TB_RULES" >"$R2"
sed "s|^[^ ]*|[$TB_GW4]:2201|" "$TB_HOME/.ssh/known_hosts" >"$TB_HOME/.ssh/known_hosts3"
HLOG=$T/nosession.log
tw -f "$R2" -o "LogTarget=file:$HLOG" -o LogLevel=VERBOSE \
    curl -sS --max-time 10 http://wiki.corp.test/
check "MaxSessions 0: forwarding works" grep -q 'intranet wiki OK' "$OUT"
sleep 5				# idle: five keepalive intervals
tw -f "$R2" -O status
check "MaxSessions 0: the keepalive falls back to TCP keepalives" \
    grep -q 'keepalive channel refused: probing the link with TCP' "$HLOG"
check "MaxSessions 0: idle for 5 s (interval 1 s x 2), no spurious reconnect" \
    sh -c "grep -q 'session .*, up' '$OUT' && ! grep -q 'lost' '$HLOG'"
t0=$(now)
ip netns exec "$TB_NS_CLI" ip link set to-gw down
status() { tw -f "$R2" -O status; cat "$OUT"; }
if wait_status 15 'session .*, down'; then
	ok "MaxSessions 0: link down noticed by TCP keepalives in $(elapsed "$t0") s"
else
	fail "MaxSessions 0: link down noticed by TCP keepalives" "$(status)"
fi
ip netns exec "$TB_NS_CLI" ip link set to-gw up
wait_status 20 'session .*, up' >/dev/null
tw -f "$R2" curl -sS --max-time 10 http://wiki.corp.test/
check "MaxSessions 0: works again after the link is back" grep -q 'intranet wiki OK' "$OUT"
tw -f "$R2" -O stop
