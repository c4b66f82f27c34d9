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
# t-conncheck: what a C program sees through tunnelwrap, socket call by
# socket call (tests/progs/conncheck.c): blocking and non-blocking connect
# with poll/select/epoll/EPOLLET, getpeername, refusal and deny errnos,
# getaddrinfo, half-close, 256 MiB both ways, 200 simultaneous connections,
# fork and exec.  Each check also runs directly against the same echo
# server (in the intranet namespace) as a baseline, so the program and
# the server are known good; TB_SSH_BASELINE=1 adds a run over `ssh -L`.
. "$(dirname "$0")/lib/tap.sh"

if cc=$(tb_cc conncheck 2>"$T/cc.err"); then
	ok "compile conncheck.c (-Wall -Wextra -Werror)"
else
	fail "compile conncheck.c (-Wall -Wextra -Werror)" "$(tail -n 5 "$T/cc.err")"
	exit 0
fi

ALL=(block poll select epoll epollet peername gai halfclose bigxfer many fork exec)
V6=(block poll select epoll epollet peername halfclose fork)
# Non-blocking connects repeated: a wake-up race shows in one round of 50.
RACE=(poll select epoll epollet)

# conncheck LABEL NS|tw [conncheck args...]: one result per check line.
conncheck() {
	local label=$1 where=$2 line name rest n=0
	shift 2
	if [ "$where" = tw ]; then
		tw -f "$TB_RULES" "$cc" -t 30 "$@"
	else
		tb_capture_in "$where" "$cc" -t 30 "$@"
	fi
	while IFS= read -r line; do
		case $line in
		"ok "*)
			ok "$label: ${line#ok }"
			n=$((n + 1)) ;;
		"fail "*)
			rest=${line#fail }
			name=${rest%%:*}
			fail "$label: $name" "${rest#*: }"
			n=$((n + 1)) ;;
		esac
	done <"$OUT"
	if [ "$RC" != 0 ] && ! grep -q '^fail ' "$OUT"; then
		fail "$label: conncheck exited $RC" "$(tb_last)"
	elif [ "$n" = 0 ]; then
		fail "$label: conncheck reported nothing" "$(tb_last)"
	fi
}

# -- baseline: the same checks, directly, in the server's namespace -------------
if [ "$TB_MODE" = netns ]; then
	TB_TIMEOUT=120 conncheck "direct" "$TB_NS_INT" echo.corp.test 7 "${ALL[@]}"
	TB_TIMEOUT=60 conncheck "direct v6" "$TB_NS_INT" -6 v6only.corp.test 7 "${V6[@]}"
	conncheck "direct refused" "$TB_NS_INT" wiki.corp.test 81 refused refused-nb
	conncheck "direct x50" "$TB_NS_INT" -r 50 echo.corp.test 7 "${RACE[@]}"
	conncheck "direct refused x50" "$TB_NS_INT" -r 50 wiki.corp.test 81 refused-nb
else
	TB_TIMEOUT=120 conncheck "direct" "" "$TB_INT4" "$TB_ECHO_PORT" \
	    block poll select epoll epollet peername halfclose bigxfer many fork exec
fi

if [ "${TB_SSH_BASELINE:-0}" = 1 ] && [ "$TB_MODE" = netns ]; then
	tb_spawn "$TB_NS_CLI" "$T/ssh-L.log" ssh -F "$TB_HOME/.ssh/config" -N \
	    -o ExitOnForwardFailure=yes -L 127.0.0.1:7007:echo.corp.test:7 bastion
	if tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 7007; then
		TB_TIMEOUT=120 conncheck "ssh -L" "$TB_NS_CLI" 127.0.0.1 7007 \
		    block poll select epoll epollet halfclose bigxfer many fork exec
	else
		fail "ssh -L baseline" "$(tail -n 3 "$T/ssh-L.log")"
	fi
	tb_kill "$SPAWNED"
fi

# -- through tunnelwrap ---------------------------------------------------------
tb_need_product
tb_need_netns "tunneled conncheck" || exit 0
# conncheck's lines per run (fixed by its arguments) and the checks here;
# TB_SSH_BASELINE=1 (by hand) adds its own.
[ "${TB_SSH_BASELINE:-0}" = 1 ] || tb_plan 87

n0=$(tb_ssh_target_count echo.corp.test 7)
TB_TIMEOUT=180 conncheck "tunnel" tw echo.corp.test 7 "${ALL[@]}"
check "tunnel: connected to a synthetic address" \
    grep -Eq -- '-> (203\.0\.113\.[0-9]+|\[2001:db8:ff:[0-9a-f:]*\]):7$' "$ERR"
check "tunnel: gai AF_INET answers are in 203.0.113.0/24" \
    grep -Eq '^gai AF_INET( 203\.0\.113\.[0-9]+)+$' "$OUT"
check "tunnel: gai AF_INET6 answers are in 2001:db8:ff::/64" \
    grep -Eq '^gai AF_INET6( 2001:db8:ff:(:|0:)[0-9a-f:]*)+$' "$OUT"
n1=$(tb_ssh_target_count echo.corp.test 7)
check "tunnel: sshd opened the channels to the name (remote DNS)" \
    [ $((n1 - n0)) -ge 200 ]

TB_TIMEOUT=60 conncheck "tunnel -4" tw -4 echo.corp.test 7 block poll epollet peername halfclose
check "tunnel -4: synthetic IPv4 address" \
    grep -Eq -- '-> 203\.0\.113\.[0-9]+:7$' "$ERR"
TB_TIMEOUT=60 conncheck "tunnel v6only" tw -6 v6only.corp.test 7 "${V6[@]}"
check "tunnel v6only: synthetic IPv6 address" \
    grep -Eq -- '-> \[2001:db8:ff:[0-9a-f:]*\]:7$' "$ERR"
TB_TIMEOUT=60 conncheck "tunnel $TB_INT4" tw "$TB_INT4" 7 block poll epollet peername halfclose
TB_TIMEOUT=60 conncheck "tunnel $TB_INT6" tw "$TB_INT6" 7 block poll epollet peername halfclose

conncheck "tunnel refused" tw wiki.corp.test 81 refused refused-nb
conncheck "tunnel refused v6" tw -6 wiki.corp.test 81 refused refused-nb
TB_TIMEOUT=120 conncheck "tunnel x50" tw -r 50 echo.corp.test 7 "${RACE[@]}"
TB_TIMEOUT=120 conncheck "tunnel refused x50" tw -r 50 wiki.corp.test 81 refused-nb

b0=$(tb_ssh_target_count blocked.corp.test)
conncheck "deny by name" tw blocked.corp.test 7 deny deny-nb
conncheck "deny by address" tw "$TB_DENY_ADDR" 7 deny deny-nb
check "deny: nothing reached sshd" [ "$(tb_ssh_target_count blocked.corp.test)" = "$b0" ]
