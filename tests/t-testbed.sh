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
# t-testbed: the bed itself, without tunnelwrap.  The client cannot reach
# the intranet on its own: its direct path and its resolver lead to the
# leak trap, which records them; plain OpenSSH reaches the bastion (v4 and
# v6) and, with -L, the intranet services, so every later failure is the
# product's.
. "$(dirname "$0")/lib/tap.sh"
tb_plan 34

SSH=(ssh -F "$TB_HOME/.ssh/config")

# -- isolation -------------------------------------------------------------
if [ "$TB_MODE" = netns ]; then
	# The direct path from cli leads to the leak trap, never to the
	# intranet, and the trap records it: these are the negative controls
	# of every "nothing reached the trap" check in the suite.
	cli ip route get "$TB_INT4"
	check "cli's IPv4 route to the intranet leads to the trap" grep -q 'dev to-trap' "$OUT"
	cli ip -6 route get "$TB_INT6"
	check "cli's IPv6 route to the intranet leads to the trap" grep -q 'dev to-trap' "$OUT"
	for a in "$TB_INT4" "[$TB_INT6]" 203.0.113.9 "[2001:db8:ff::9]" "$TB_DENY_ADDR"; do
		mark=$(tb_trap_mark)
		TB_TIMEOUT=5 cli curl -sS --max-time 3 -g "http://$a:$TB_HTTP_PORT/"
		check "a direct connect to $a:$TB_HTTP_PORT reaches the trap, not the intranet" \
		    sh -c "grep -qx trap '$OUT' && ! grep -q 'intranet wiki' '$OUT'"
		check_trap_caught "the trap recorded the connect to $a" "$mark"
	done
	mark=$(tb_trap_mark)
	cli "$TB_PYTHON" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.51.100.20", 9))'
	check_trap_caught "the trap recorded a UDP datagram to the intranet" "$mark"
	gw sh -c 'echo $(sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding)'
	check "gw forwards nothing" grep -qx '0 0' "$OUT"
	mark=$(tb_trap_mark)
	cli getent ahosts wiki.corp.test
	check "cli resolves corp names only at the trap ($(head -n 1 "$OUT"))" \
	    grep -q "^$TB_INT4 " "$OUT"
	check_trap_caught "the trap recorded the local DNS question" "$mark"
	mark=$(tb_trap_mark)
	cli getent hosts example.org
	cli getent ahosts bastion.test
	check "cli knows bastion.test" grep -q '^192\.0\.2\.1 ' "$OUT"
	check_no_leak "other names and the bastion are not counted as leaks" "$mark"
	gw getent ahosts v6only.corp.test
	check "gw resolves v6only.corp.test to IPv6 only" \
	    sh -c "grep -q '^$TB_INT6 ' '$OUT' && ! grep -q '^198' '$OUT'"
else
	skip "isolation checks" "loopback-only bed (no network namespaces)"
fi

# -- services (from inside the intranet) -----------------------------------
int curl -sS --max-time 10 "http://$TB_INT4:$TB_HTTP_PORT/"
check "intranet http on $TB_INT4" grep -q 'intranet wiki OK' "$OUT"
if [ "$TB_MODE" = netns ]; then
	int curl -sS --max-time 10 -g "http://[$TB_INT6]:$TB_HTTP_PORT/"
	check "intranet http on [$TB_INT6]" grep -q 'intranet wiki OK' "$OUT"
fi
int curl -sS --max-time 10 "http://$TB_INT4:$TB_REFUSE_PORT/"
check "intranet port $TB_REFUSE_PORT refuses" [ "$RC" = 7 ]

# -- plain OpenSSH to the bastion ----------------------------------------------
n0=$(tb_ssh_accepted_count)
cli "${SSH[@]}" bastion true
check "ssh -F ~/.ssh/config bastion true" [ "$RC" = 0 ]
n1=$(tb_ssh_accepted_count)
check "sshd log counts the connection" [ "$n1" = $((n0 + 1)) ]
if [ "$TB_MODE" = netns ]; then
	cli sh -c 'getent passwd root | cut -d: -f6'
	check "cli: root's home is the test HOME" grep -qx "$TB_HOME" "$OUT"
	cli ssh bastion true
	check "ssh bastion true (finds ~/.ssh/config by itself)" [ "$RC" = 0 ]
	cli sh -c 'ssh -G bastion | grep -E "^(hostname|user|port) "'
	check "ssh -G bastion: 192.0.2.1, root, 22" \
	    sh -c "grep -qx 'hostname 192.0.2.1' '$OUT' && grep -qx 'user root' '$OUT' && grep -qx 'port 22' '$OUT'"
fi
if [ "$TB_MODE" = netns ]; then
	cli "${SSH[@]}" bastion6.test true
	check "ssh over IPv6 (bastion6.test, known host)" [ "$RC" = 0 ]
	cli "${SSH[@]}" root@bastion.test getent hosts v6only.corp.test
	check "sshd's namespace resolves corp names" grep -q "$TB_INT6" "$OUT"
fi

# -- ssh -L reaches the intranet services --------------------------------------
if [ "$TB_MODE" = netns ]; then
	lport=8000 wiki=wiki.corp.test echo=echo.corp.test
else
	lport=$(tb_free_port) wiki=$TB_INT4 echo=$TB_INT4
fi
eport=$((lport + 1))
tb_spawn "${TB_NS_CLI:-}" "$T/ssh-L.log" "${SSH[@]}" -N \
    -o ExitOnForwardFailure=yes \
    -L "127.0.0.1:$lport:$wiki:$TB_HTTP_PORT" \
    -L "127.0.0.1:$eport:$echo:$TB_ECHO_PORT" bastion
sshL=$SPAWNED
if tb_wait 10 tb_listening "${TB_NS_CLI:-}" 127.0.0.1 "$eport"; then
	ok "ssh -L forwards listening"
	cli curl -sS --max-time 10 "http://127.0.0.1:$lport/"
	check "ssh -L to wiki" grep -q 'intranet wiki OK' "$OUT"
	cli sh -c "curl -sS --max-time 30 http://127.0.0.1:$lport/big.bin | sha256sum"
	check "ssh -L 64 MiB download sha256" grep -q "^$TB_BIG_SHA256 " "$OUT"
	cli bash -c "exec 3<>/dev/tcp/127.0.0.1/$eport && printf 'hello echo\n' >&3 && head -n 1 <&3"
	check "ssh -L to echo" grep -qx 'hello echo' "$OUT"
	if [ "$TB_MODE" = netns ]; then
		check "sshd logs the direct-tcpip target name" \
		    [ "$(tb_ssh_target_count wiki.corp.test "$TB_HTTP_PORT")" -ge 1 ]
	fi
else
	fail "ssh -L forwards listening" "$(tail -n 5 "$T/ssh-L.log")"
fi
tb_kill "$sshL"
