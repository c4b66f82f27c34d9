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
# t-holes: calls that could go around the rules, and waits that could hang
# on the helper (issue 13, items 3 and 5, and the shim's own plumbing).
#  - sendmmsg(MSG_FASTOPEN) and the raw syscall() of connect, sendto,
#    sendmsg and sendmmsg are decided like the libc calls: denied stays
#    denied, tunneled goes through the tunnel, never direct (the leak trap
#    proves it, with rules turned direct as the negative control); every
#    other system call number passes through with its six arguments;
#  - a blocking connect interrupted by a signal without SA_RESTART fails
#    with EINTR at once, as the kernel's does; with SA_RESTART it goes on;
#  - a stopped helper does not freeze a program: a tunneled resolve and a
#    connect fail after HelperTimeout, and getpeername of a direct socket
#    never asks the helper;
#  - getpeername names each socket's own peer when a tunneled and a direct
#    socket share a local port;
#  - a refusal through a second session reads ECONNREFUSED, and so do 300
#    refusals at once;
#  - the shim's own messages to the helper never pass through the
#    program's socket functions;
#  - io_uring is out of the shim's reach (shown), and -o Strict=yes
#    refuses it to wrapped programs.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "holes" || exit 0
tb_plan 30

H=$(tb_cc holes) || { fail "compile holes.c" "$(tb_last)"; exit 0; }
OWN=$T/ownsend
cc -O2 -g -Wall -Wextra -Werror -rdynamic -o "$OWN" \
    "$TB_TOP/tests/progs/ownsend.c" -ldl ||
    { fail "compile ownsend.c"; exit 0; }

INT=198.51.100.20
DENIED=192.0.2.99

# --- 1. calls around the rules ----------------------------------------------

# probe_fastopen RULES: sendmmsg(MSG_FASTOPEN) to a tunneled and to a denied
# address; outputs kept per rules file.
probe_fastopen() {
	tw -f "$1" "$H" fo-sendmmsg "$INT" 80
	cp "$OUT" "$1.fo-tunneled"
	tw -f "$1" "$H" fo-sendmmsg "$DENIED" 80
	cp "$OUT" "$1.fo-denied"
}
check_never_direct "sendmmsg(MSG_FASTOPEN)" probe_fastopen "$TB_RULES"
check "sendmmsg(MSG_FASTOPEN) to a tunneled address goes through the tunnel" \
    grep -qx 'reply=intranet' "$TB_RULES.fo-tunneled"
check "sendmmsg(MSG_FASTOPEN) to a denied address: EACCES" \
    grep -qx 'sendmmsg=EACCES' "$TB_RULES.fo-denied"

# probe_syscall RULES: the raw system calls, tunneled and denied.
probe_syscall() {
	local out=$1.sys
	: >"$out"
	for dest in "$INT" "$DENIED"; do
		tw -f "$1" "$H" sys-connect "$dest" 80
		sed "s/^/$dest /" "$OUT" >>"$out"
		tw -f "$1" "$H" sys-fo-sendto "$dest" 80
		sed "s/^/$dest /" "$OUT" >>"$out"
		for c in sys-sendto sys-sendmsg sys-sendmmsg; do
			tw -f "$1" "$H" "$c" "$dest" 9
			sed "s/^/$dest /" "$OUT" >>"$out"
		done
	done
}
check_never_direct "syscall(SYS_connect/sendto/sendmsg/sendmmsg)" \
    probe_syscall "$TB_RULES"
S=$TB_RULES.sys
check "syscall(SYS_connect) to a tunneled address goes through the tunnel" \
    sh -c "grep -qx '$INT connect=0' '$S' && [ \$(grep -c '^$INT reply=intranet' '$S') = 2 ]"
check "syscall(SYS_sendto, MSG_FASTOPEN) to a tunneled address: tunneled" \
    grep -qx "$INT sendto=sent" "$S"
check "syscall(SYS_connect) and Fast Open by syscall to a denied address: EACCES" \
    sh -c "grep -qx '$DENIED connect=EACCES' '$S' && grep -qx '$DENIED sendto=EACCES' '$S'"
check "raw UDP sendto/sendmsg/sendmmsg to a tunneled address: ENETUNREACH" \
    [ "$(grep -c "^$INT udp-send[a-z]*=ENETUNREACH" "$S")" = 3 ]
check "raw UDP sendto/sendmsg/sendmmsg to a denied address: EACCES" \
    [ "$(grep -c "^$DENIED udp-send[a-z]*=EACCES" "$S")" = 3 ]

tw -f "$TB_RULES" "$H" passthrough
check "syscall(): other numbers pass through, six arguments, unknown ENOSYS" \
    grep -qx 'passthrough=ok' "$OUT"

# --- 2. waits: signals, a stalled helper ------------------------------------

# 198.51.100.99 does not exist: the bastion's connect fails after ~3 s of
# neighbour discovery, so a connect there is in progress for ~3 s.
tw -f "$TB_RULES" "$H" eintr 198.51.100.99 80 norestart
check "blocking connect, alarm(1) without SA_RESTART: EINTR at 1 s" \
    grep -Eq '^connect=EINTR seconds=1\.[0-4]' "$OUT"
check "after EINTR the connect went on: a second connect gets its outcome" \
    sh -c "grep -q '^again=' '$OUT' && ! grep -Eq '^again=(EINTR|EALREADY)' '$OUT'"
tw -f "$TB_RULES" "$H" eintr 198.51.100.99 80 restart
check "blocking connect, alarm(1) with SA_RESTART: goes on to the outcome" \
    grep -Eq '^connect=E[A-Z]+ seconds=([2-9]|1[0-9])\.' "$OUT"

# A program started while the helper runs, told to go on once it is
# stopped.  Without a bound each call below would wait forever.
tw -f "$TB_RULES" "$H" passthrough	# the helper is up
tw -f "$TB_RULES" -O status
hpid=$(sed -n 's/^helper *pid \([0-9]*\).*/\1/p' "$OUT")
tb_spawn "$TB_NS_CLI" "$T/stall.out" tunnelwrap -f "$TB_RULES" \
    -o HelperTimeout=2 sh -c "
	while [ ! -e '$T/go' ]; do sleep 0.1; done
	timeout 20 '$H' peer-direct
	timeout 20 '$H' resolve never-seen.corp.test
	timeout 20 '$H' connect $INT 80
	echo done"
stall=$SPAWNED
sleep 1
if [ -n "$hpid" ] && kill -STOP "$hpid"; then
	touch "$T/go"
	tb_wait 30 grep -q done "$T/stall.out"
	kill -CONT "$hpid"
else
	touch "$T/go"
fi
tb_kill "$stall"
check "stopped helper: getpeername of a direct loopback socket does not ask it" \
    grep -Eq '^peer=right seconds=0\.[0-2]' "$T/stall.out"
check "stopped helper: a tunneled resolve fails EAI_AGAIN after HelperTimeout=2" \
    grep -Eq '^getaddrinfo=EAI_AGAIN seconds=(1\.9|2\.|3\.)' "$T/stall.out"
check "stopped helper: a tunneled connect fails ETIMEDOUT after HelperTimeout=2" \
    grep -Eq '^connect=ETIMEDOUT seconds=(1\.9|2\.|3\.)' "$T/stall.out"
tw -f "$TB_RULES" "$H" connect "$INT" 80
check "the helper, continued, serves again" grep -q '^connect=0 ' "$OUT"

tw -f "$TB_RULES" "$H" peer-shared "$INT" 80
check "shared local port: the direct socket's peer is its own" \
    grep -qx 'direct-peer=right' "$OUT"
check "shared local port: the tunneled socket's peer is its destination" \
    grep -qx 'tunneled-peer=right' "$OUT"

# --- 3. the reason of a refusal ---------------------------------------------

R=$T/lab.rules
cat >"$R" <<RULES
session corp bastion
session lab root@bastion6.test
synthetic 203.0.113.0/24 2001:db8:ff::/64
tunnel via lab $INT:81
tunnel *.corp.test 198.51.100.0/24 2001:db8:2::/64
direct *
RULES
tw -f "$R" "$H" connect "$INT" 81
check "refused through a second session (tunnel via lab): ECONNREFUSED" \
    grep -q '^connect=ECONNREFUSED ' "$OUT"
tw -f "$R" -O stop

tw -f "$TB_RULES" "$H" refused-many "$INT" 81 300
check "300 refusals at once: every one reads ECONNREFUSED" \
    grep -qx 'unfinished=0 ECONNREFUSED=300 ECONNRESET=0 other=0' "$OUT"

# --- 4. the shim's own plumbing ---------------------------------------------

tw -f "$TB_RULES" "$OWN" wiki.corp.test 80
check "a program with its own send/sendmsg/getsockopt/connect: works" \
    grep -qx 'reply=intranet' "$OUT"
check "... and none of the shim's messages went through them" \
    grep -qx 'unix-calls=0' "$OUT"

# --- 5. io_uring: out of a preload's reach; -o Strict=yes refuses it ---------

# The limit itself, shown: without Strict an io_uring connect to a denied
# address goes direct (the trap sees it).  Then Strict=yes: io_uring_setup
# fails ENOSYS, nothing leaves, and plain connects still work.
mark=$(tb_trap_mark)
tw -f "$TB_RULES" "$H" uring-connect "$DENIED" 80
check "io_uring connect without Strict: not seen by the shim (the limit)" \
    grep -qx 'uring-connect=0' "$OUT"
check_trap_caught "io_uring connect without Strict reaches the trap (README Limits)" "$mark"
mark=$(tb_trap_mark)
tw -o Strict=yes -f "$TB_RULES" "$H" uring-connect "$DENIED" 80
check "-o Strict=yes: io_uring_setup fails ENOSYS" grep -qx 'setup=ENOSYS' "$OUT"
check_no_leak "-o Strict=yes: the io_uring connect never left" "$mark"
tw -o Strict=yes -f "$TB_RULES" "$H" sys-connect "$INT" 80
check "-o Strict=yes: tunneled connects still work" grep -qx 'reply=intranet' "$OUT"
