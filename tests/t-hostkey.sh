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
# t-hostkey: the bastion's host key against known_hosts, by
# StrictHostKeyChecking: an unknown key is refused (yes), added
# (accept-new), asked about at the terminal (ask: the prompt driven
# through a pty, answered yes and no) or refused when nobody is at a
# terminal; a changed key is refused whatever the policy, naming the file
# and line, exit 255, and the command never runs.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "host key checking" || exit 0
tb_plan 21

PTY=("$TB_PYTHON" "$TB_TOP/tests/lib/ptydrive.py")
hostkey=$(cut -d' ' -f2 "$TB_DIR/sshd/host_ed25519.pub")
fp=$(ssh-keygen -lf "$TB_DIR/sshd/host_ed25519.pub" | awk '{print $2}')
# A known_hosts whose line 2 holds another key for the bastion.
ssh-keygen -q -t ed25519 -N '' -f "$T/otherkey"
{
	echo "other.test $(cut -d' ' -f1,2 "$T/otherkey.pub")"
	echo "bastion.test,$TB_GW4 $(cut -d' ' -f1,2 "$T/otherkey.pub")"
} >"$T/kh-changed"
cp "$T/kh-changed" "$T/kh-changed.orig"

# run_tw POLICY KNOWN_HOSTS [PREFIX...]: a fresh helper, whose COMMAND says
# "ran"; BatchMode=no, so only the policy and the terminal decide.
run_tw() {
	local policy=$1 kh=$2
	shift 2
	tw_new_runtime
	cli "$@" tunnelwrap -f "$TB_RULES" -o BatchMode=no \
	    -o StrictHostKeyChecking="$policy" -o UserKnownHostsFile="$kh" \
	    sh -c 'echo command-ran'
}
ran() { grep -q command-ran "$OUT"; }
# has_key FILE: FILE has a line for the bastion's address with its key.
has_key() { grep -q "^[^ ]*${TB_GW4}[^ ]* ssh-ed25519 $hostkey" "$1"; }

# Positive control: the bed's known_hosts, policy yes.
run_tw yes "$TB_HOME/.ssh/known_hosts"
check "control: a known key and StrictHostKeyChecking=yes: the command runs" ran

# -- an unknown key ---------------------------------------------------------
: >"$T/kh-yes"
run_tw yes "$T/kh-yes"
check "yes, unknown key: exit 255, the message names the file and the policy" \
    sh -c "[ $RC = 255 ] && grep -q 'no key known for $TB_GW4 (ssh-ed25519 key $fp) and StrictHostKeyChecking is yes; add it to $T/kh-yes first' '$ERR'"
check "yes, unknown key: the command did not run, known_hosts untouched" \
    sh -c "! grep -q command-ran '$OUT' && ! [ -s '$T/kh-yes' ]"

: >"$T/kh-new"
run_tw accept-new "$T/kh-new"
check "accept-new, unknown key: connected, the command ran" ran
check "accept-new: the bastion's key was added to known_hosts" has_key "$T/kh-new"
run_tw yes "$T/kh-new"
check "accept-new: the key it added is accepted by StrictHostKeyChecking=yes" ran

: >"$T/kh-ask"
run_tw ask "$T/kh-ask" setsid -w
check "ask, no terminal: exit 255, a message naming ssh and accept-new" \
    sh -c "[ $RC = 255 ] && grep -q 'unknown host $TB_GW4 (ssh-ed25519 key $fp); connect once with ssh to accept it, or use -o StrictHostKeyChecking=accept-new' '$ERR'"
check "ask, no terminal: the command did not run, known_hosts untouched" \
    sh -c "! grep -q command-ran '$OUT' && ! [ -s '$T/kh-ask' ]"

# ask at a terminal: the question, with the fingerprint, answered.
run_tw ask "$T/kh-ask" "${PTY[@]}" -e "continue connecting \\(yes/no\\)\\? " \
    -s 'maybe\n' -e "Please type 'yes' or 'no': " -s 'no\n' --
check "ask at a terminal: the question names the host and the key's fingerprint" \
    sh -c "grep -q \"The authenticity of host '$TB_GW4' can't be established\" '$OUT' &&
	grep -q '^ssh-ed25519 key $fp\.' '$OUT'"
check "ask, answered something else then no: exit 255, refused, not run" \
    sh -c "[ $RC = 255 ] && grep -q 'host key verification failed for $TB_GW4' '$OUT' &&
	! grep -q command-ran '$OUT'"
check "ask, answered no: known_hosts untouched" sh -c "! [ -s '$T/kh-ask' ]"
run_tw ask "$T/kh-ask" "${PTY[@]}" -e "continue connecting \\(yes/no\\)\\? " \
    -s 'yes\n' --
check "ask, answered yes: connected, the command ran" \
    sh -c "[ $RC = 0 ] && grep -q command-ran '$OUT'"
check "ask, answered yes: the key was added to known_hosts" has_key "$T/kh-ask"
run_tw ask "$T/kh-ask" "${PTY[@]}" --
check "ask, key now known: no question, the command ran" \
    sh -c "grep -q command-ran '$OUT' && ! grep -q 'authenticity' '$OUT'"

# -- a changed key: refused by every policy, at a terminal too --------------
for policy in yes accept-new no; do
	run_tw "$policy" "$T/kh-changed"
	check "$policy, changed key: exit 255, CHANGED, the offending file:line, not run" \
	    sh -c "[ $RC = 255 ] && grep -q 'host key for $TB_GW4 has CHANGED (now ssh-ed25519 key $fp); refusing to connect' '$ERR' &&
		grep -q 'Offending key in $T/kh-changed:2' '$ERR' && ! grep -q command-ran '$OUT'"
done
run_tw ask "$T/kh-changed" "${PTY[@]}" --
check "ask at a terminal, changed key: refused without a question, not run" \
    sh -c "[ $RC = 255 ] && grep -q 'has CHANGED' '$OUT' &&
	! grep -q authenticity '$OUT' && ! grep -q command-ran '$OUT'"
check "changed key: known_hosts untouched by all four" \
    cmp -s "$T/kh-changed" "$T/kh-changed.orig"

# A hashed entry (HashKnownHosts) is found for the line number as well:
# the line ssh-keygen -F names.
cp "$T/kh-changed" "$T/kh-hashed"
ssh-keygen -q -H -f "$T/kh-hashed" 2>/dev/null
rm -f "$T/kh-hashed.old"
hline=$(ssh-keygen -F "$TB_GW4" -f "$T/kh-hashed" | sed -n 's/^# Host .* found: line \([0-9]*\).*/\1/p')
run_tw yes "$T/kh-hashed"
check "changed key in a hashed known_hosts: refused, line $hline named (as ssh-keygen -F)" \
    sh -c "[ $RC = 255 ] && [ -n '$hline' ] && grep -q 'Offending key in $T/kh-hashed:$hline;' '$ERR'"
# The bastion named by a name that shares the line with the address: the
# same verdict, and the same line.
tw_new_runtime
sed "s|^session corp bastion|session corp root@bastion.test|" "$TB_RULES" >"$T/rules-byname"
cli tunnelwrap -f "$T/rules-byname" -o StrictHostKeyChecking=accept-new \
    -o UserKnownHostsFile="$T/kh-changed" sh -c 'echo command-ran'
check "by name (bastion.test), changed key: refused, the line named" \
    sh -c "[ $RC = 255 ] && grep -q 'host key for bastion.test has CHANGED' '$ERR' &&
	grep -q 'Offending key in $T/kh-changed:2' '$ERR' && ! grep -q command-ran '$OUT'"
