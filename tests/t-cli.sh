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
# t-cli: the launcher's contract.  When tunnelwrap itself fails it exits
# 255 with one clear line on stderr and does not run COMMAND; otherwise
# COMMAND's status is passed through.  -n prints the deciding rule.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
# Two checks more with the namespace bed (a bastion that forbids forwarding).
if [ "$TB_MODE" = netns ]; then tb_plan 21; else tb_plan 19; fi

# expect_error NAME REGEX: RC 255, exactly one stderr line matching REGEX
# (case-insensitive, extended), COMMAND not run.
expect_error() {
	local name=$1 re=$2 lines
	lines=$(grep -c '' "$ERR")
	if [ "$RC" != 255 ]; then
		fail "$name: exit 255" "$(tb_last)"
	elif [ "$lines" != 1 ]; then
		fail "$name: one line on stderr (got $lines)" "$(tb_last)"
	elif ! grep -Eqi -- "$re" "$ERR"; then
		fail "$name: message matches /$re/" "$(tb_last)"
	elif grep -q COMMAND-RAN "$OUT"; then
		fail "$name: COMMAND not run" "$(tb_last)"
	else
		ok "$name: $(head -c 120 "$ERR")"
	fi
}

tw -f "$TB_RULES"
expect_error "missing COMMAND" 'command'

# A usage text may follow the error line here.
tw -Z -f "$TB_RULES" sh -c 'echo COMMAND-RAN'
check "unknown option: exit 255, message, COMMAND not run" \
    sh -c "[ '$RC' = 255 ] && [ -s '$ERR' ] && ! grep -q COMMAND-RAN '$OUT'"

tw -f "$T/no-such-rules" sh -c 'echo COMMAND-RAN'
expect_error "rules file missing" 'no-such-rules'

cat >"$T/bad.rules" <<'EOF'
session corp bastion
synthetic 203.0.113.0/24 2001:db8:ff::/64
tunnnel *.corp.test
direct *
EOF
tw -f "$T/bad.rules" sh -c 'echo COMMAND-RAN'
expect_error "malformed rules" "$T/bad\\.rules:3:"

cat >"$T/via.rules" <<'EOF'
session corp bastion
tunnel via nosuch *.corp.test
direct *
EOF
tw -f "$T/via.rules" sh -c 'echo COMMAND-RAN'
expect_error "unknown session in via" "$T/via\\.rules:2:.*nosuch"

# Unreachable bastion: nothing answers at this on-link address.
tw_new_runtime -H "$TB_UNREACHABLE"
TB_TIMEOUT=40 tw -H "$TB_UNREACHABLE" -f "$TB_RULES" sh -c 'echo COMMAND-RAN'
# The kernel's own word for it: no ARP answer on the link (netns), nothing
# listening (loopback).
if [ "$TB_MODE" = netns ]; then
	why="$TB_UNREACHABLE:22: No route to host"
else
	why="$TB_UNREACHABLE: Connection refused"
fi
expect_error "unreachable bastion" "^tunnelwrap: cannot connect to root@${why//./\\.}\$"

# Host key mismatch: a known_hosts with another key for the bastion.
# Authentication must not even be attempted.
tw_new_runtime -F "$T/ssh_config" -f "$T/hk.rules"
ssh-keygen -q -t ed25519 -N '' -C wrong -f "$T/wrong_key"
wrong=$(cut -d' ' -f1,2 "$T/wrong_key.pub")
if [ "$TB_MODE" = netns ]; then
	echo "bastion.test,$TB_GW4,bastion6.test,$TB_GW6 $wrong" >"$T/bad_known_hosts"
else
	echo "[$TB_GW4]:$TB_SSH_PORT $wrong" >"$T/bad_known_hosts"
fi
sed "s|UserKnownHostsFile .*|UserKnownHostsFile $T/bad_known_hosts|" \
    "$TB_HOME/.ssh/config" >"$T/ssh_config"
# (The loopback bed names the known_hosts file in the session line.)
sed "s|UserKnownHostsFile=[^ ]*|UserKnownHostsFile=$T/bad_known_hosts|" \
    "$TB_RULES" >"$T/hk.rules"
a0=$(tb_ssh_accepted_count)
tw -F "$T/ssh_config" -f "$T/hk.rules" sh -c 'echo COMMAND-RAN'
expect_error "host key mismatch" 'host key'
check "host key mismatch: no authentication happened" \
    [ "$(tb_ssh_accepted_count)" = "$a0" ]

# COMMAND's own status passes through.
tw_new_runtime
tw -f "$TB_RULES" sh -c 'exit 7'
check "COMMAND exit status 7 passed through" [ "$RC" = 7 ]
tw -f "$TB_RULES" sh -c 'echo hello-from-command'
check "COMMAND exit status 0, its stdout intact" \
    sh -c "[ '$RC' = 0 ] && grep -qx hello-from-command '$OUT'"
tw -f "$TB_RULES" sh -c 'kill -TERM $$'
check "COMMAND killed by SIGTERM: status 143" [ "$RC" = 143 ]

# Dry run: the deciding rule with FILE:LINE, no SSH connection.
a0=$(tb_ssh_accepted_count)
tw -n -f "$TB_RULES" wiki.corp.test:80 "$TB_DENY_ADDR" example.org
check "-n exits 0" [ "$RC" = 0 ]
# dryrun_line HOST ACTION LINE
dryrun_line() {
	grep -F -- "$1" "$OUT" | grep -i -- "$2" | grep -qF -- "$TB_RULES:$3"
}
check "-n wiki.corp.test:80 -> tunnel at $TB_RULES:4" dryrun_line wiki.corp.test tunnel 4
check "-n $TB_DENY_ADDR -> deny at $TB_RULES:3" dryrun_line "$TB_DENY_ADDR" deny 3
check "-n example.org -> direct at $TB_RULES:5" dryrun_line example.org direct 5
check "-n makes no SSH connection" [ "$(tb_ssh_accepted_count)" = "$a0" ]

# -s: the user's shell, everything in it wrapped, the session named for
# the prompt.
printf '%s\n' 'echo "session=$TUNNELWRAP_SESSION"' \
    'curl -sS --max-time 10 http://wiki.corp.test/' >"$T/shell.in"
TB_STDIN=$T/shell.in TB_PASSENV="SHELL=/bin/sh" tw -f "$TB_RULES" -s
check "-s: a shell whose commands are wrapped, TUNNELWRAP_SESSION set" \
    sh -c "grep -qx 'session=corp' '$OUT' && grep -q 'intranet wiki OK' '$OUT'"

# Helper logging: -o LogTarget=file:PATH and LogLevel (ours, not passed
# to ssh), the level deciding what is written.
tw_new_runtime
tw -f "$TB_RULES" -o LogTarget=file:"$T/helper.log" -o LogLevel=VERBOSE \
    curl -sS --max-time 10 http://wiki.corp.test/
check "LogTarget=file: the helper logs there, at LogLevel VERBOSE" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && grep -q 'conn 1: curl' '$T/helper.log'"
tw -f "$TB_RULES" -O stop
tw -f "$TB_RULES" -o LogTarget=elsewhere true
check "LogTarget with a bad value: one clear error, exit 255" \
    sh -c "[ $RC = 255 ] && grep -q 'LogTarget=elsewhere: expected syslog or file:/PATH' '$ERR'"

# A bastion that forbids forwarding: EACCES for the program, and a notice
# naming sshd's keywords in -O status.
if [ "$TB_MODE" = netns ]; then
	tw_new_runtime
	sed "s|^session corp bastion.*|session corp root@$TB_GW4:2200 UserKnownHostsFile=$TB_HOME/.ssh/known_hosts2|" \
	    "$TB_RULES" >"$T/rules-noforward"
	sed "s|^[^ ]*|[$TB_GW4]:2200|" "$TB_HOME/.ssh/known_hosts" >"$TB_HOME/.ssh/known_hosts2"
	tw -f "$T/rules-noforward" python3 -c '
import socket, errno
try:
    socket.create_connection(("echo.corp.test", 7), timeout=10); print("connected")
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno))'
	check "forwarding forbidden at the bastion: the program gets EACCES" grep -qx 'error EACCES' "$OUT"
	tw -f "$T/rules-noforward" -O status
	check "forwarding forbidden: -O status names AllowTcpForwarding" \
	    grep -q 'notice .*administratively prohibited.*AllowTcpForwarding' "$OUT"
	tw -f "$T/rules-noforward" -O stop
fi
