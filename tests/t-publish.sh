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
# t-publish: a wrapped program's own listener published at the bastion
# (`publish PORT [as REMOTEPORT]`, like ssh -R driven by listen()): the
# seeds' "serve a local web server to the development server".  The
# bastion's port reaches the program's accept(); -O status shows the
# forward; closing the listener cancels it; a port the bastion refuses is
# reported and the program's local listen still works.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "publish" || exit 0
tb_plan 12

R=$T/rules
cp "$TB_RULES" "$R"
cat >>"$R" <<'RULES'
publish 18095
publish 18096
publish 18097 as 18098
RULES
echo "published page" >"$T/pub.txt"

gw_get() {	# gw_get PORT: fetch pub.txt from the bastion's loopback port
	local i
	for i in $(seq 50); do
		gw curl -sS --max-time 3 "http://127.0.0.1:$1/pub.txt"
		grep -q 'published page' "$OUT" && return 0
		sleep 0.2
	done
	return 1
}

tb_spawn "$TB_NS_CLI" "$T/srv1.out" timeout 60 tunnelwrap -v -f "$R" \
    python3 -m http.server 18095 --bind 127.0.0.1 --directory "$T"
srv=$SPAWNED
check "publish 18095: the bastion's port 18095 serves the program's page" gw_get 18095
tw -f "$R" -O status
check "-O status shows the published forward, active" \
    grep -q 'publish .*bastion localhost:18095 -> 127.0.0.1:18095  active' "$OUT"
tb_kill "$srv"
gone=1
for i in $(seq 30); do
	tw -f "$R" -O status
	grep -q 'bastion localhost:18095' "$OUT" || { gone=0; break; }
	sleep 0.2
done
check "closing the listener cancels the remote forward" [ "$gone" = 0 ]
gw curl -sS --max-time 3 http://127.0.0.1:18095/pub.txt
check "after the cancel the bastion's port is closed (connection refused: curl rc $RC)" \
    sh -c "[ $RC = 7 ] && grep -q 'Failed to connect to 127.0.0.1 port 18095' '$ERR'"

tw -v -f "$R" python3 -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18095)); s.listen()'
check "-v says the listener was published" grep -q 'listen on port 18095: publish as bastion port 18095' "$ERR"

# publish ... as REMOTEPORT
tb_spawn "$TB_NS_CLI" "$T/srv2.out" timeout 60 tunnelwrap -f "$R" \
    python3 -m http.server 18097 --bind 127.0.0.1 --directory "$T"
srv=$SPAWNED
check "publish 18097 as 18098: served on the bastion's port 18098" gw_get 18098
tb_kill "$srv"

# A port the bastion cannot give (taken there): reported, local listen works.
tb_spawn "$TB_NS_GW" "$T/taken.out" python3 -m http.server 18096 --bind :: --directory /
taken=$SPAWNED
tb_wait 10 tb_listening "$TB_NS_GW" 127.0.0.1 18096
tb_spawn "$TB_NS_CLI" "$T/srv3.out" timeout 60 tunnelwrap -f "$R" \
    python3 -m http.server 18096 --bind 127.0.0.1 --directory "$T"
srv=$SPAWNED
refused=1
for i in $(seq 50); do
	tw -f "$R" -O status
	grep -q 'bastion localhost:18096 .*FAILED' "$OUT" && { refused=0; break; }
	sleep 0.2
done
check "a port the bastion refuses: FAILED with the reason in -O status" [ "$refused" = 0 ]
check "the refusal names sshd's keywords" grep -q 'GatewayPorts' "$OUT"
cli curl -sS --max-time 5 http://127.0.0.1:18096/pub.txt
check "the program's own listen still works" grep -q 'published page' "$OUT"
tb_kill "$srv" "$taken"

# publish *: a program listening on an ephemeral port (port 0) gets that
# port at the bastion, reported in -O status and at -v.
R2=$T/rules2
cp "$TB_RULES" "$R2"
echo 'publish *' >>"$R2"
tb_spawn "$TB_NS_CLI" "$T/eph.out" timeout 60 tunnelwrap -v -f "$R2" python3 -u -c '
import http.server, os, socketserver
os.chdir(os.environ["TMPDIR"])
with socketserver.TCPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler) as s:
    print("PORT", s.server_address[1], flush=True)
    s.serve_forever()'
eph=$SPAWNED
tb_wait 15 grep -q '^PORT' "$T/eph.out"
port=$(sed -n 's/^PORT //p' "$T/eph.out")
cp "$T/pub.txt" "$T/pub.txt.keep" 2>/dev/null
check "publish *: an ephemeral listener (port $port) is served at the bastion" gw_get "$port"
tw -f "$R2" -O status
check "publish *: -O status reports the bastion port" \
    grep -q "publish .*bastion localhost:$port -> 127.0.0.1:$port  active" "$OUT"
check "publish *: -v reports it" grep -q "listen on port $port: publish as bastion port $port" "$T/eph.out"
tb_kill "$eph"
