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
# t-samesession: one helper, one SSH connection per account and bastion,
# however it is named (-H or a session line; an ~/.ssh/config alias, user@ip,
# user@ip:22; -F, -i, -o beside it), like ssh's ControlPath %C.  At -v a
# later invocation whose options differ says they are not applied.  Another
# user or port is another helper.  The name is cached in the runtime
# directory, and the cache notices a change of the configuration files.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "one session per bastion" || exit 0
tb_plan 21

key=$TB_HOME/.ssh/id_ed25519
kh=$TB_HOME/.ssh/known_hosts
get=(curl -sS --max-time 10 http://wiki.corp.test/)
# helpers: the control sockets in the runtime directory (a helper removes
# its own when it exits).
helpers() { find "$TW_RUNTIME/tunnelwrap" -maxdepth 1 -type s -name 'S.*' | wc -l; }
differ_line='options differ from the running session.s: .*; not applied (tunnelwrap -O stop to change)'

# An ssh configuration of its own for -F; Compression differs from the
# user's ~/.ssh/config, so that the second invocation's options differ.
cat >"$T/cfg" <<EOF
Host *
    Compression yes
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 5
EOF
sed "s|^session corp bastion.*|session gw root@$TB_GW4:22 IdentityFile=$key UserKnownHostsFile=$kh|" \
    "$TB_RULES" >"$T/rules"

a0=$(tb_ssh_accepted_count)
tw -v -H "root@$TB_GW4" -F "$T/cfg" -i "$key" -o UserKnownHostsFile="$kh" \
    -e -- echo remote-ok
check "-H root@$TB_GW4 -F -i -o -e: the remote command ran" \
    sh -c "[ $RC = 0 ] && grep -qx remote-ok '$OUT'"
check "the first invocation started the helper: no differing-options line" \
    sh -c "! grep -q 'options differ' '$ERR' && grep -q 'starting helper' '$ERR'"
tw -v -f "$T/rules" "${get[@]}"
check "session gw root@$TB_GW4:22 IdentityFile= UserKnownHostsFile=: curl got through" \
    grep -q 'intranet wiki OK' "$OUT"
check "-v: the options that differ are named and not applied" \
    sh -c "grep -q '$differ_line' '$ERR' && grep 'options differ' '$ERR' | grep -q compression"
# The helper was started by -H with the built-in rules (pools
# 198.18.0.0/15 ...), the rules file names 203.0.113.0/24: the shim takes
# the helper's, or the name it was given would be "direct".
check "-v: the shim takes the running helper's synthetic pools" \
    grep -q "synthetic addresses from the running helper's pools 198.18.0.0/15" "$ERR"
check "both invocations: one SSH connection ($(($(tb_ssh_accepted_count) - a0)))" \
    [ $(($(tb_ssh_accepted_count) - a0)) = 1 ]
check "both invocations: one helper ($(helpers))" [ "$(helpers)" = 1 ]
tw -f "$T/rules" -O status
check "-O status through the session line finds the -H helper (compression on)" \
    grep -q compression "$OUT"
tw -H "root@$TB_GW4" -O stop
check "-O stop -H root@$TB_GW4 stops it" sh -c "grep -q stopped '$OUT' && [ $(helpers) = 0 ]"

# The ~/.ssh/config alias, user@ip and user@ip:22: one helper, one
# connection, and - the same options - no differing-options line.
a0=$(tb_ssh_accepted_count)
diffs=0 got=0
for dest in bastion "root@$TB_GW4" "root@$TB_GW4:22"; do
	tw -v -H "$dest" "${get[@]}"
	grep -q 'intranet wiki OK' "$OUT" && got=$((got + 1))
	grep -q 'options differ' "$ERR" && diffs=$((diffs + 1))
done
check "-H bastion, root@$TB_GW4, root@$TB_GW4:22: curl got through ($got of 3)" \
    [ $got = 3 ]
check "-H bastion, root@$TB_GW4, root@$TB_GW4:22: one SSH connection ($(($(tb_ssh_accepted_count) - a0)))" \
    [ $(($(tb_ssh_accepted_count) - a0)) = 1 ]
check "... one helper ($(helpers))" [ "$(helpers)" = 1 ]
check "... the same options: no differing-options line ($diffs)" [ $diffs = 0 ]

# Another port, another user: other helpers, other connections.
sed "s|^[^ ]*|[$TB_GW4]:2201|" "$kh" >"$T/kh2201"
a0=$(tb_ssh_accepted_count)
tw -H "root@$TB_GW4:2201" -o UserKnownHostsFile="$T/kh2201" "${get[@]}"
check "root@$TB_GW4:2201: its own helper and connection" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ $(helpers) = 2 ] &&
    [ $(($(tb_ssh_accepted_count) - a0)) = 1 ]"
n0=$(tr -d '\r' <"$TB_SSHD_LOG" | grep -c 'for nobody from' || true)
tw -H "nobody@$TB_GW4" true
n1=$(tr -d '\r' <"$TB_SSHD_LOG" | grep -c 'for nobody from' || true)
check "nobody@$TB_GW4: its own helper, which logs in as nobody ($((n1 - n0)) sshd lines)" \
    [ $((n1 - n0)) -ge 1 ]

# The name cache: used while the configuration files are unchanged; a
# change to one, or a file added where an Include looks, is seen.
mkdir "$T/inc"
printf 'Include %s/inc/*.conf\n' "$T" >>"$T/cfg"
tw -vv -F "$T/cfg" -H "root@$TB_GW4" -i "$key" -o UserKnownHostsFile="$kh" true
tw -vv -F "$T/cfg" -H "root@$TB_GW4" -i "$key" -o UserKnownHostsFile="$kh" true
check "unchanged configuration: the name comes from the cache" \
    sh -c "[ $RC = 0 ] && grep -q '(name cached)' '$ERR'"
echo '# edited' >>"$T/cfg"
tw -vv -F "$T/cfg" -H "root@$TB_GW4" -i "$key" -o UserKnownHostsFile="$kh" true
check "-F file edited: ssh -G asked again" \
    sh -c "[ $RC = 0 ] && grep -q ': root@$TB_GW4:22, helper ' '$ERR' && ! grep -q '(name cached)' '$ERR'"
printf 'Host %s\n    Port 2201\n' "$TB_GW4" >"$T/inc/port.conf"
a0=$(tb_ssh_accepted_count)
tw -vv -F "$T/cfg" -H "root@$TB_GW4" -i "$key" -o UserKnownHostsFile="$T/kh2201" true
check "a file added where an Include looks: the new port (2201) is used" \
    sh -c "[ $RC = 0 ] && grep -q ': root@$TB_GW4:2201, helper ' '$ERR' && ! grep -q '(name cached)' '$ERR'"
# A launcher that starts a helper asks ssh -G afresh (even with a cached
# name) and hands the answer over: the helper's first connect runs no ssh
# of its own.  And -v as ssh's: the helper at -vvv (DEBUG3) carries
# libssh's protocol trace, which -vv (DEBUG2) does not (tunnelwrap(1)).
# fresh_helper -vv|-vvv: the 2201 helper stopped, then started anew.
fresh_helper() {
	tw -H "root@$TB_GW4:2201" -o UserKnownHostsFile="$T/kh2201" -O stop
	tw "$1" -F "$T/cfg" -H "root@$TB_GW4" -i "$key" -o UserKnownHostsFile="$T/kh2201" true
}
fresh_helper -vv
check "a new helper's first connect uses the launcher's ssh -G" \
    sh -c "grep -q 'starting helper' '$ERR' && grep -q \"ssh configuration: the launcher's ssh -G\" '$ERR'"
check "-vv: no protocol trace" \
    sh -c "grep -q 'starting helper' '$ERR' && ! grep -q 'libssh ' '$ERR'"
fresh_helper -vvv
check "-vvv: the new helper's log carries libssh's protocol trace" \
    sh -c "grep -q 'starting helper' '$ERR' && grep -q 'libssh ' '$ERR'"
tw -H "root@$TB_GW4" -O stop
tw -H "root@$TB_GW4:2201" -o UserKnownHostsFile="$T/kh2201" -O stop
