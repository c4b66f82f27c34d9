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
# t-reconnect-forwards: what a reconnection keeps.  -L, -D and -R forwards
# held by the helper (no COMMAND, like ssh -N); the bastion's process for
# our connection killed: the helper reconnects, the -L and -D ports were
# never closed and work again, the -R forward is requested again and
# works.  Then the bastion unreachable (its sshd stopped): reconnect
# attempts spaced 1, 2, 4, 8 s (README: "1 s after the loss and then with
# waits doubling up to 30 s"), the local ports still open meanwhile; the
# sshd back: reconnected at the next attempt, forwards working again.
#
# A sshd of its own (the bed's configuration, port 2204), so that its
# children are exactly our connection and stopping it disturbs nothing.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "reconnection with forwards" || exit 0
tb_plan 22

start_sshd() {
	local r
	tb_own_sshd "$TB_NS_GW" "$TB_GW4" 2204 sshd
	r=$?
	SSHD=$SSHD_PID
	return $r
}
start_sshd || { fail "a sshd on port 2204" "$(tail -n 5 "$T/sshd.log")"; exit 0; }
sed "s|^[^ ]*|[$TB_GW4]:2204|" "$TB_HOME/.ssh/known_hosts" >"$T/known_hosts"
R=$T/rules
sed "s|^session corp bastion.*|session corp root@$TB_GW4:2204 UserKnownHostsFile=$T/known_hosts ServerAliveInterval=1 ServerAliveCountMax=3|" \
    "$TB_RULES" >"$R"
tw_new_runtime -f "$R"
LOG=$T/helper.log

# The client's server that -R publishes.
mkdir -p "$T/www"
echo 'client side page' >"$T/www/index.html"
tb_spawn "$TB_NS_CLI" "$T/http.log" python3 -m http.server --bind 127.0.0.1 \
    --directory "$T/www" 18303
tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 18303

tw -f "$R" -o LogTarget=file:"$LOG" -L 18301:echo.corp.test:7 \
    -R 18302:127.0.0.1:18303 -D 18304
check "forwards held by the helper (no COMMAND: exit 0)" [ "$RC" = 0 ]
listens_both() {
	local l
	l=$(ip netns exec "$TB_NS_CLI" ss -Hltn | awk '{print $4}')
	for a in 127.0.0.1:18301 '[::1]:18301' 127.0.0.1:18304 '[::1]:18304'; do
		printf '%s\n' "$l" | grep -qxF "$a" || return 1
	done
}
check "-L and -D without an address listen on 127.0.0.1 and ::1, as ssh's" listens_both

status() { tw -f "$R" -O status; cat "$OUT"; }
# The three forwards, each through the session.
L_ok() {
	cli python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 18301), timeout=10)
s.sendall(b"ping-L\n"); print(s.recv(100).decode().strip())'
	grep -qx 'ping-L' "$OUT"
}
D_ok() {
	cli curl -sS --max-time 10 --socks5-hostname 127.0.0.1:18304 http://wiki.corp.test/
	grep -q 'intranet wiki OK' "$OUT"
}
R_ok() {
	gw curl -sS --max-time 5 http://127.0.0.1:18302/
	grep -qx 'client side page' "$OUT"
}
LD_ok() { L_ok && D_ok; }
rfwd_requests() { grep -c 'tcpip-forward listen .* port 18302' "$T/sshd.log"; }
tb_wait 10 R_ok
check "before: -L 18301 reaches the intranet echo" L_ok
check "before: -D 18304 (SOCKS5, remote DNS) reaches the intranet page" D_ok
check "before: -R 18302 on the bastion reaches the client's server" R_ok
check "before: sshd got one tcpip-forward request" [ "$(rfwd_requests)" = 1 ]

# 1. Our connection's process at the bastion killed (by PID: the only
# child of this sshd, the one ss shows with our address).
victim=$(pgrep -P "$SSHD" | xargs)
ssline=$(ip netns exec "$TB_NS_GW" ss -Htnp state established "( sport = :2204 )")
check "the sshd process of our connection found ($victim), ss shows it with our address" \
    sh -c "[ -n '$victim' ] && [ \$(echo $victim | wc -w) = 1 ] &&
	printf '%s\n' '$ssline' | grep -q '$TB_CLI4:.*pid=$victim,'"
kill -KILL "$victim"
wait_up() { status | grep -q 'session .*, up' && status | grep -q "reconnects *$1 of $1"; }
check "session lost and reconnected by the same helper (reconnects 1 of 1)" \
    tb_wait 20 wait_up 1
check "after: -L 18301 works again" L_ok
check "after: -D 18304 works again" D_ok
check "after: -R 18302 works again (on the bastion)" tb_wait 10 R_ok
check "after: the remote forward was requested again (2 tcpip-forward requests)" \
    [ "$(rfwd_requests)" = 2 ]
status >"$T/status1"
check "after: -O status shows the -R forward active" \
    grep -q 'bastion localhost:18302 .*active' "$T/status1"
newowner=$(ip netns exec "$TB_NS_GW" ss -Hltnp "( sport = :18302 )" | grep -o 'pid=[0-9]*' | head -n 1)
check "after: the bastion's listener belongs to the new session process ($newowner), not $victim" \
    sh -c "[ -n '$newowner' ] && [ '$newowner' != 'pid=$victim' ]"

# 2. The bastion unreachable: sshd stopped (listener and our session).
n0=$(grep -c 'reconnect to .* failed' "$LOG")
kids=$(pgrep -P "$SSHD" | xargs)
tb_kill "$SSHD"
# shellcheck disable=SC2086
[ -n "$kids" ] && kill -KILL $kids
now() { date +%s.%N; }
# Time of each failed attempt, as the log gets it (polled every 50 ms).
times=()
for i in 1 2 3 4; do
	if tb_wait 30 sh -c "[ \$(grep -c 'reconnect to .* failed' '$LOG') -ge $((n0 + i)) ]"; then
		times+=("$(now)")
	fi
done
check "bastion unreachable: 4 attempts logged, each failed with the reason" \
    sh -c "[ ${#times[@]} = 4 ] && grep -q 'reconnect to .* failed: .*refused.*; next try in' '$LOG'"
gaps=$(awk -v a="${times[*]}" 'BEGIN { n = split(a, t, " ");
	for (i = 2; i <= n; i++) printf "%.1f ", t[i] - t[i - 1] }')
check "attempts spaced 2, 4, 8 s after the first (measured: $gaps)" \
    awk -v g="$gaps" 'BEGIN { n = split(g, x, " "); if (n != 3) exit 1
	for (i = 1; i <= 3; i++) { want = 2 ^ i
		# the helper counts in whole seconds: up to 1 s early
		if (x[i] < want - 1.1 || x[i] > want + 2.5) exit 1 } }'
check "the log announces the waits doubling (next try in 2, 4, 8 s)" \
    sh -c "grep -q 'next try in 2 s' '$LOG' && grep -q 'next try in 4 s' '$LOG' &&
	grep -q 'next try in 8 s' '$LOG'"
check "meanwhile -L 18301 and -D 18304 still listen in the client" \
    sh -c "ip netns exec '$TB_NS_CLI' ss -Hltn | grep -q '127.0.0.1:18301 ' &&
	ip netns exec '$TB_NS_CLI' ss -Hltn | grep -q '127.0.0.1:18304 '"
status >"$T/status2"
check "meanwhile -O status says down, reconnecting" \
    grep -q 'session .*down, reconnecting' "$T/status2"

# 3. The bastion back.
start_sshd
check "bastion back: reconnected (reconnects 2 of 2) within the next wait (16 s)" \
    tb_wait 25 wait_up 2
check "bastion back: -L, -D work again" LD_ok
check "bastion back: -R requested again and working" tb_wait 10 R_ok
