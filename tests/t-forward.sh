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
# t-forward: ssh's -L, -D and -R on the shared session.  Forwards given
# without a COMMAND are held by the helper (like ssh -N) and shown by
# -O status; the -D port speaks SOCKS5 and HTTP (CONNECT and absolute
# URIs) and decides by the same rules (tunnel, direct, deny); a local port
# already taken is an error naming who holds it.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "forwards" || exit 0
tb_plan 18

R=$TB_RULES
# -L: a local port to the intranet wiki, no COMMAND.
tw -f "$R" -L 127.0.0.1:18080:wiki.corp.test:80
check "-L without COMMAND exits 0" [ "$RC" = 0 ]
cli curl -sS --max-time 10 http://127.0.0.1:18080/
check "-L 18080:wiki.corp.test:80 serves the wiki to a plain curl" \
    grep -q 'intranet wiki OK' "$OUT"
tw -f "$R" -O status
check "-O status shows the -L forward" grep -q -- '-L .*18080 -> wiki.corp.test:80' "$OUT"

# -D: SOCKS5 with remote names, HTTP absolute-URI and CONNECT.
tw -f "$R" -D 127.0.0.1:18081
check "-D exits 0" [ "$RC" = 0 ]
cli curl -sS --max-time 10 --socks5-hostname 127.0.0.1:18081 http://wiki.corp.test/
check "-D: SOCKS5 with a remote name" grep -q 'intranet wiki OK' "$OUT"
cli curl -sS --max-time 10 --socks5 127.0.0.1:18081 "http://$TB_INT4/"
check "-D: SOCKS5 with an address" grep -q 'intranet wiki OK' "$OUT"
cli curl -sS --max-time 10 -x http://127.0.0.1:18081 http://wiki.corp.test/
check "-D: HTTP proxy, absolute URI" grep -q 'intranet wiki OK' "$OUT"
cli curl -sS --max-time 10 -p -x http://127.0.0.1:18081 http://wiki.corp.test/
check "-D: HTTP proxy, CONNECT" grep -q 'intranet wiki OK' "$OUT"
# Refused by the rules: SOCKS5 reply 2 ("connection not allowed by
# ruleset"), curl's status 97, and the bastion was never asked.
n0=$(tb_ssh_target_count blocked.corp.test 80)
cli curl -sS --max-time 10 --socks5-hostname 127.0.0.1:18081 http://blocked.corp.test/
n1=$(tb_ssh_target_count blocked.corp.test 80)
check "-D: a denied name is refused: SOCKS5 reply 2 (curl rc $RC), never sent to the bastion" \
    sh -c "[ $RC = 97 ] && grep -q 'SOCKS5 connection to blocked.corp.test.* (2)' '$ERR' &&
    ! grep -q 'intranet wiki OK' '$OUT' && [ $n1 = $n0 ]"
cli curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -x http://127.0.0.1:18081 http://wiki.corp.test:81/
check "-D: a refused port is a 502 ($(cat "$OUT"))" grep -qx 502 "$OUT"
# A direct destination (the rules say direct *): a server in the client's
# own namespace the bastion could not reach.
tb_spawn "$TB_NS_CLI" "$T/local-http.out" python3 -m http.server 18090 --bind 127.0.0.1 --directory "$T"
echo "local page" >"$T/local.txt"
tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 18090
cli curl -sS --max-time 10 --socks5 127.0.0.1:18081 http://127.0.0.1:18090/local.txt
check "-D: a direct destination goes direct" grep -q 'local page' "$OUT"
# Short connections whose two ends close together: the proxy's sockets end
# in one epoll batch, and freeing the pair on the first must not leave the
# second to run on freed memory (seen under ASan before the loop blanked it).
tb_spawn "$TB_NS_CLI" "$T/echo.out" socat TCP-LISTEN:18091,bind=127.0.0.1,fork,reuseaddr PIPE
tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 18091
cli "$TB_PYTHON" "$TB_LIBDIR/socks-churn.py" 18081 18091 300
check "-D: 300 connections echo while 300 more are dropped mid-echo ($(cat "$OUT"))" \
    grep -qx 300 "$OUT"

# -R: the bastion's port 18082 reaches a server on the client.
tw -f "$R" -R 18082:127.0.0.1:18090
check "-R exits 0" [ "$RC" = 0 ]
for i in $(seq 50); do
	gw curl -sS --max-time 5 http://127.0.0.1:18082/local.txt
	grep -q 'local page' "$OUT" && break
	sleep 0.2
done
check "-R 18082:127.0.0.1:18090: the bastion reaches the client's server" \
    grep -q 'local page' "$OUT"
tw -f "$R" -O status
check "-O status shows the -R forward active" grep -q -- '-R .*18082 -> 127.0.0.1:18090  active' "$OUT"

# A local port already in use: one clear error naming the holder.
tw -f "$R" -L 127.0.0.1:18090:wiki.corp.test:80
check "-L on a taken port: exit 255 naming the port and its holder" \
    sh -c "[ $RC = 255 ] && grep -q '18090.*in use.*python3' '$ERR'"
check "-L on a taken port: one line" [ "$(wc -l <"$ERR")" = 1 ]

tw -f "$R" -O stop
cli curl -sS --max-time 5 http://127.0.0.1:18080/
check "after -O stop the -L port is closed (connection refused: curl rc 7)" \
    sh -c "[ $RC = 7 ] && grep -q 'Failed to connect to 127.0.0.1 port 18080' '$ERR'"
