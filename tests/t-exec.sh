#!/usr/bin/env bash
# t-exec: tunnelwrap -e runs a command on the bastion over the already open
# session (no new SSH connection): stdout, stderr and stdin pass through,
# the exit status is the remote one, a remote signal death is reported,
# -t gives a pty, -A forwards the local ssh-agent (used for a real hop).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "remote commands" || exit 0

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
	tw -f "$R" -e -- ssh-add -l
	check "-e without -A: no agent on the bastion" sh -c "! grep -q 'hop-key' '$OUT'"
	kill "$agent" 2>/dev/null
else
	skip "-e -A" "no ssh-agent"
fi
