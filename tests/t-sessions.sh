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
# t-sessions: several bastions in one rules file, `tunnel via NAME`
# routing by rule, -O status showing each session; ProxyJump reaching a
# bastion through another one; -C compression shown in the status.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "sessions" || exit 0
tb_plan 6

R=$T/rules
cat >"$R" <<RULES
session corp bastion
session corp6 root@bastion6.test
session jumped root@$TB_GW4 ProxyJump=bastion Compression=yes
synthetic 203.0.113.0/24 2001:db8:ff::/64
tunnel via corp6 db.corp.test
tunnel via jumped echo.corp.test
tunnel *.corp.test
direct *
RULES
a0=$(tb_ssh_accepted_count)
tw -f "$R" sh -c 'curl -sS --max-time 10 http://wiki.corp.test/ &&
    curl -sS --max-time 10 http://db.corp.test/ &&
    python3 -c "
import socket
s = socket.create_connection((\"echo.corp.test\", 7), timeout=10)
s.sendall(b\"via the jump\\n\"); print(s.recv(100).decode().strip())"'
check "three sessions: every destination reached" \
    sh -c "[ \$(grep -c 'intranet wiki OK' '$OUT') = 2 ] && grep -q 'via the jump' '$OUT'"
# Three helpers, plus the jump's own ssh: four SSH logins at the sshd.
check "three sessions: three helpers (+1 jump connection) logged in ($(($(tb_ssh_accepted_count) - a0)))" \
    [ $(($(tb_ssh_accepted_count) - a0)) = 4 ]
tb_spawn "$TB_NS_CLI" "$T/idle.out" timeout 30 tunnelwrap -f "$R" python3 -u -c '
import socket, time
a = socket.create_connection(("db.corp.test", 80), timeout=10)
b = socket.create_connection(("wiki.corp.test", 80), timeout=10)
print("connected", flush=True); time.sleep(20)'
idle=$SPAWNED
tb_wait 15 grep -q connected "$T/idle.out"
tw -f "$R" -O status
check "-O status: a section per session" \
    sh -c "grep -q '^\[corp\]' '$OUT' && grep -q '^\[corp6\]' '$OUT' && grep -q '^\[jumped\]' '$OUT'"
check "-O status: db.corp.test went via corp6, wiki via corp" \
    awk '/^\[corp\]/{s="corp"} /^\[corp6\]/{s="corp6"} /^\[jumped\]/{s="jumped"}
         /db\.corp\.test:80/ && s=="corp6" {d=1} /wiki\.corp\.test:80/ && s=="corp" {w=1}
         END {exit !(d && w)}' "$OUT"
check "-C/Compression=yes shown for the jumped session" \
    awk '/^\[jumped\]/{s=1} s && /compression/ {f=1} END {exit !f}' "$OUT"
tb_kill "$idle"
tw -f "$R" -O stop
check "-O stop stops every session's helper" [ "$(grep -c 'stopped' "$OUT")" = 3 ]
