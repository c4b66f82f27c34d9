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
# t-exec: tunnelwrap -e runs a command on the bastion over the already open
# session (no new SSH connection): stdout, stderr and stdin pass through,
# the exit status is the remote one, a remote signal death is reported,
# -t gives a pty, -A forwards the local ssh-agent (used for a real hop).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "remote commands" || exit 0
tb_plan 17

R=$TB_RULES
tw -f "$R" true			# the helper is up from here on
a0=$(tb_ssh_accepted_count)

tw -f "$R" -e -- 'echo "remote from $SSH_CONNECTION"; echo to-stderr >&2'
check "-e: stdout of the remote command" grep -q "^remote from $TB_CLI4 " "$OUT"
check "-e: stderr of the remote command" grep -qx 'to-stderr' "$ERR"
check "-e: exit status 0" [ "$RC" = 0 ]
tw -f "$R" -e -- exit 3
check "-e: remote exit status 3 becomes ours" [ "$RC" = 3 ]
printf 'line one\nline two\n' >"$T/in.txt"
TB_STDIN=$T/in.txt tw -f "$R" -e -- wc -l
check "-e: stdin passes through (and its EOF)" grep -qx '2' "$OUT"
tw -f "$R" -e -- 'kill -TERM $$'
check "-e: a remote signal death is reported, status 255" \
    sh -c "[ $RC = 255 ] && grep -q 'killed by signal TERM' '$ERR'"
tw -f "$R" -e -t -- tty
check "-e -t: the remote command has a pty" grep -q '^/dev/pts/' "$OUT"
head -c 3000000 /dev/urandom >"$T/blob"
TB_STDIN=$T/blob tw -f "$R" -e -- sha256sum
check "-e: 3 MB through stdin intact" grep -q "$(sha256sum <"$T/blob" | cut -d' ' -f1)" "$OUT"
check "-e: no new SSH connection for any of these ($(($(tb_ssh_accepted_count) - a0)))" \
    [ "$(tb_ssh_accepted_count)" = "$a0" ]

# -A: the local agent, and only it, holds the key for a hop from the
# bastion to the intranet's sshd (started here) - the classic agent hop.
if command -v ssh-agent >/dev/null; then
	ssh-keygen -q -t ed25519 -N '' -f "$T/hopkey" -C hop-key
	eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
	agent=$SSH_AGENT_PID
	SSH_AUTH_SOCK=$T/agent.sock ssh-add -q "$T/hopkey" 2>/dev/null
	TB_PASSENV="SSH_AUTH_SOCK=$T/agent.sock" tw -f "$R" -e -A -- ssh-add -l
	check "-e -A: ssh-add -l on the bastion lists the local agent's key" \
	    grep -q 'hop-key' "$OUT"
	# Without -A ssh-add -l runs and finds no agent: sshd sets
	# SSH_AUTH_SOCK in every session of a connection once one asked for
	# agent forwarding (the -A above), but the helper refuses the agent
	# channel of a session that did not (SIGPIPE ignored: ssh-add then
	# says so rather than dying of the closed socket).
	tw -f "$R" -e -- 'trap "" PIPE; ssh-add -l; echo "ssh-add status $?"'
	check "-e without -A: no agent on the bastion (ssh-add -l ran, reached none)" \
	    sh -c "grep -Eqx 'ssh-add status (1|2)' '$OUT' &&
	    grep -Eq 'communication with agent failed|Could not open a connection to your authentication agent' '$ERR' &&
	    ! grep -q 'hop-key' '$OUT'"
	# The real hop: an sshd in the intranet that accepts only the hop key.
	mkdir -p "$T/sshd2"
	ssh-keygen -q -t ed25519 -N '' -f "$T/sshd2/host"
	cp "$T/hopkey.pub" "$T/sshd2/authorized"
	cat >"$T/sshd2/config" <<CFG
ListenAddress $TB_INT4:2222
HostKey $T/sshd2/host
PidFile $T/sshd2/pid
AuthorizedKeysFile $T/sshd2/authorized
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CFG
	tb_spawn "$TB_NS_INT" "$T/sshd2.out" /usr/sbin/sshd -D -f "$T/sshd2/config" -E "$T/sshd2/log"
	tb_wait 10 tb_listening "$TB_NS_INT" "$TB_INT4" 2222
	hop="ssh -F /dev/null -p 2222 -o BatchMode=yes -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o IdentityFile=/nonexistent \
	    root@$TB_INT4 echo hop-ok"
	TB_PASSENV="SSH_AUTH_SOCK=$T/agent.sock" tw -f "$R" -e -A -- "$hop"
	check "-e -A: a hop from the bastion to the intranet with the key only in the local agent" \
	    grep -qx 'hop-ok' "$OUT"
	tw -f "$R" -e -- "$hop"
	check "-e without -A: the same hop is refused by the intranet's sshd (publickey)" \
	    sh -c "[ $RC = 255 ] && grep -q 'Permission denied (publickey)' '$ERR' &&
	    ! grep -q 'hop-ok' '$OUT'"
	kill "$agent" 2>/dev/null
else
	skip "-e -A" "no ssh-agent" 4
fi

# -X: a local Xvfb; xdpyinfo on the bastion reaches it through the
# session's X11 forwarding (the bastion's DISPLAY is sshd's, with a fake
# cookie; the helper swaps in the real one).
if command -v Xvfb >/dev/null && command -v xauth >/dev/null; then
	n=$((60 + RANDOM % 30))
	xa=$T/xauthority
	xauth -f "$xa" add ":$n" . "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
	tb_spawn "" "$T/xvfb.out" Xvfb ":$n" -auth "$xa" -nolisten tcp -screen 0 1234x567x24
	xvfb=$SPAWNED
	tb_wait 10 test -S "/tmp/.X11-unix/X$n"
	TB_PASSENV="DISPLAY=:$n XAUTHORITY=$xa" tw -f "$R" -e -X -- \
	    'echo "remote DISPLAY=$DISPLAY"; xdpyinfo | grep -E "dimensions|name of display"'
	check "-e -X: xdpyinfo on the bastion describes the local display (1234x567)" \
	    grep -q 'dimensions: *1234x567 pixels' "$OUT"
	check "-e -X: through sshd's forwarded display, not the socket directly" \
	    grep -q 'remote DISPLAY=localhost:[0-9]' "$OUT"
	# The bastion sees a fake cookie: a client with the real one via TCP
	# from the bastion would be refused; the fake is not the real one.
	# sshd adds the fake cookie with xauth into $XAUTHORITY, which the
	# bed's sshd sets (SetEnv) to a file of the bed, never ~/.Xauthority.
	TB_PASSENV="DISPLAY=:$n XAUTHORITY=$xa" tw -f "$R" -e -X -- \
	    'echo "XAUTHORITY=$XAUTHORITY"; xauth list "$DISPLAY"'
	fake=$(awk '/MIT-MAGIC-COOKIE-1/ { print $3 }' "$OUT" | tail -n 1)
	real=$(xauth -f "$xa" list ":$n" | awk '{print $3}')
	check "-e -X: the bastion holds a cookie for its display ($fake), not the real one" \
	    sh -c '[ ${#1} = 32 ] && [ ${#2} = 32 ] && [ "$1" != "$2" ]' sh "$real" "$fake"
	check "-e -X: sshd's xauth wrote the bed's file, not the host's ~/.Xauthority" \
	    grep -qx "XAUTHORITY=$TB_DIR/sshd/xauthority" "$OUT"
	tb_kill "$xvfb"
else
	skip "-e -X" "Xvfb or xauth not installed" 4
fi
