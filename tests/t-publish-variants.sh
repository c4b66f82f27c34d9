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
# t-publish-variants: `publish LOW-HIGH` (a range: its ends in, its
# neighbours out), `publish ... via NAME` (the named session's bastion,
# not the default's), `publish ... on ADDR` (the bastion listens on that
# address only: reachable from the client's network, not on its
# loopback), and `as`, `on`, `via` together.
#
# A second sshd (port 2205, GatewayPorts clientspecified, so that `on`
# is honoured) is the session `gp`; the bed's sshd (GatewayPorts no) the
# default session.  One program listens on every port at once.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "publish variants" || exit 0
tb_plan 16

tb_own_sshd "$TB_NS_GW" "$TB_GW4" 2205 sshd2 'GatewayPorts clientspecified' ||
    { fail "a second sshd on 2205" "$(tail -n 5 "$T/sshd2.log")"; exit 0; }
sed "s|^[^ ]*|[$TB_GW4]:2205|" "$TB_HOME/.ssh/known_hosts" >"$T/known_hosts"

R=$T/rules
{
	head -n 1 "$TB_RULES"		# session corp bastion (the default)
	echo "session gp root@$TB_GW4:2205 UserKnownHostsFile=$T/known_hosts"
	tail -n +2 "$TB_RULES"
	echo 'publish 18400-18402'
	echo "publish 18410 on $TB_GW4 via gp"
	echo 'publish 18411 via gp'
	echo "publish 18412 via gp as 18413 on $TB_GW4"
} >"$R"
tw_new_runtime -f "$R"

# One program, a listener per port, each answering "port N".
cat >"$T/serve.py" <<'EOF'
import socket, sys, threading
def serve(s, port):
    while True:
        c, _ = s.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nport %d\n" % port)
        c.close()
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p)))
    s.listen()
    threading.Thread(target=serve, args=(s, int(p)), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
EOF
PORTS="18399 18400 18401 18402 18403 18410 18411 18412"
# shellcheck disable=SC2086
tb_spawn "$TB_NS_CLI" "$T/serve.out" timeout 90 tunnelwrap -v -f "$R" \
    python3 "$T/serve.py" $PORTS
tb_wait 20 grep -q '^listening' "$T/serve.out" ||
    fail "the program listens" "$(tail -n 5 "$T/serve.out")"

# gw_get ADDR PORT WANT: from the bastion's namespace, ADDR:PORT answers
# "port WANT" (polled: the forward is requested in the background).
gw_answers() { gw curl -sS --max-time 3 "http://$1:$2/"; grep -qx "port $3" "$OUT"; }
gw_get() { tb_wait 10 gw_answers "$@"; }
fwd_req() {	# fwd_req LOG PORT: tcpip-forward requests sshd logged for PORT
	grep -c "tcpip-forward listen .* port $2\$" <(tr -d '\r' <"$1")
}

# -- a range --------------------------------------------------------------------
check "publish 18400-18402: 18400 (its low end) is served at the bastion" gw_get 127.0.0.1 18400 18400
check "publish 18400-18402: 18401 is served at the bastion" gw_get 127.0.0.1 18401 18401
check "publish 18400-18402: 18402 (its high end) is served at the bastion" gw_get 127.0.0.1 18402 18402
check "the range went to the default session's bastion" \
    sh -c "[ $(fwd_req "$TB_SSHD_LOG" 18401) -ge 1 ] && [ $(fwd_req "$T/sshd2.log" 18401) = 0 ]"
# Once the range is served, every listen of the program has been seen.
check "18399 and 18403, just outside the range, were not published" \
    sh -c "[ \$(cat '$TB_SSHD_LOG' '$T/sshd2.log' | tr -d '\r' |
	grep -c 'tcpip-forward listen .* port 1839[9]\$\|tcpip-forward listen .* port 18403\$') = 0 ]"
gw curl -sS --max-time 3 http://127.0.0.1:18403/
check "18403: nothing listens at the bastion" [ "$RC" = 7 ]
check "18399 and 18403 still work locally" \
    sh -c "ip netns exec '$TB_NS_CLI' curl -sS --max-time 3 http://127.0.0.1:18403/ | grep -qx 'port 18403' &&
	ip netns exec '$TB_NS_CLI' curl -sS --max-time 3 http://127.0.0.1:18399/ | grep -qx 'port 18399'"

# -- via NAME -------------------------------------------------------------------
check "publish 18411 via gp: served at the bastion" gw_get 127.0.0.1 18411 18411
check "via gp: requested from gp's sshd (2205), not the default's" \
    sh -c "[ $(fwd_req "$T/sshd2.log" 18411) -ge 1 ] && [ $(fwd_req "$TB_SSHD_LOG" 18411) = 0 ]"

# -- on ADDR ----------------------------------------------------------------------
check "publish 18410 on $TB_GW4 via gp: served on $TB_GW4" gw_get "$TB_GW4" 18410 18410
check "on $TB_GW4: the request named the address" \
    grep -q "tcpip-forward listen $TB_GW4 port 18410" "$T/sshd2.log"
check "on $TB_GW4: the bastion listens on that address only" \
    sh -c "ip netns exec '$TB_NS_GW' ss -Hltn | awk '{print \$4}' | grep -qx '$TB_GW4:18410' &&
	! ip netns exec '$TB_NS_GW' ss -Hltn | awk '{print \$4}' | grep -qx '127.0.0.1:18410'"
cli curl -sS --max-time 5 "http://$TB_GW4:18410/"
check "on $TB_GW4: reachable from the client's network (plain curl, no tunnel)" \
    grep -qx 'port 18410' "$OUT"
check "control: a port published without 'on' (18411) is not reachable from there" \
    sh -c "! ip netns exec '$TB_NS_CLI' curl -sS --max-time 3 http://$TB_GW4:18411/ >/dev/null 2>&1"

# -- as, on, via together -----------------------------------------------------------
check "publish 18412 via gp as 18413 on $TB_GW4: served on $TB_GW4:18413" \
    gw_get "$TB_GW4" 18413 18412
tw -f "$R" -O status
check "-O status lists each under its session, with address and port" \
    sh -c "grep -q 'bastion localhost:18401 -> 127.0.0.1:18401  active' '$OUT' &&
	grep -q 'bastion $TB_GW4:18410 -> 127.0.0.1:18410  active' '$OUT' &&
	grep -q 'bastion $TB_GW4:18413 -> 127.0.0.1:18412  active' '$OUT' &&
	awk '/^\\[gp\\]/ { gp = 1 } gp && /18411/ { f = 1 } END { exit !f }' '$OUT'"
