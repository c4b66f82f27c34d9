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
# t-setuid-user: setuid programs run by an ordinary user (twother, uid
# 4242, which exists in the client namespace only).  For a user, unlike
# root, the loader runs a setuid program in secure mode and drops
# LD_PRELOAD: shown here (the shim is in a plain copy's memory map, not in
# the setuid copy's).  As COMMAND, tunnelwrap says so and points the proxy
# variables at the helper: a setuid curl reaches the intranet through the
# tunnel, never directly (leak trap, with a negative control).  Started by
# a wrapped shell, a setuid program is left alone (README) and nothing
# breaks: it runs, and the shell after it is still wrapped.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "setuid as a user" || exit 0
tb_plan 10

# twother's files: a directory of its own under $T; the directories on
# the way opened for traversal (o+x) while the test runs.
D=$T/other
opened=""
d=$T
while [ "$d" != / ] && [ "$d" != /tmp ]; do
	opened="$opened $d:$(stat -c %a "$d")"
	chmod o+x "$d"
	d=$(dirname "$d")
done
TB_TEST_CLEANUP="for dm in $opened; do chmod \"\${dm##*:}\" \"\${dm%:*}\"; done"
mkdir -p "$D/run" "$D/home" "$D/cfg" "$D/bin"
cp "$TB_HOME/.ssh/id_ed25519" "$D/key"
cp "$TB_HOME/.ssh/known_hosts" "$D/kh"
sed "s|^session corp bastion.*|session corp root@$TB_GW4 IdentityFile=$D/key UserKnownHostsFile=$D/kh GlobalKnownHostsFile=/dev/null StrictHostKeyChecking=yes BatchMode=yes|" \
    "$TB_RULES" >"$D/rules"
chown -R 4242:4242 "$D"
chmod 700 "$D/run"
# Root-owned programs: plain and setuid copies of cat and curl.
cp "$(command -v cat)" "$D/bin/cat-plain"
cp "$(command -v cat)" "$D/bin/cat-suid"
cp "$(command -v curl)" "$D/bin/curl-suid"
chown root:root "$D/bin" "$D"/bin/*
chmod 755 "$D/bin" "$D/bin/cat-plain"
chmod 4755 "$D/bin/cat-suid" "$D/bin/curl-suid"

# as_other CMD...: CMD as twother, in the client namespace, with its
# own runtime directory, home and temporary directory.
as_other() {
	cli runuser -u twother -- env HOME="$D/home" XDG_RUNTIME_DIR="$D/run" \
	    XDG_CONFIG_HOME="$D/cfg" TMPDIR="$D" "$@"
}
# (twother's helper stopped before the directories close again)
TB_TEST_CLEANUP="ip netns exec '$TB_NS_CLI' runuser -u twother -- env PATH='$TB_PATH' XDG_RUNTIME_DIR='$D/run' tunnelwrap -O stop -f '$D/rules' >/dev/null 2>&1; $TB_TEST_CLEANUP"

as_other tunnelwrap -f "$D/rules" "$D/bin/cat-plain" /proc/self/status /proc/self/maps
check "control: as twother, a plain program has the shim loaded (its memory map)" \
    sh -c "grep -q '^Uid:.4242' '$OUT' && grep -q 'libtunnelwrap.so' '$OUT'"
as_other tunnelwrap -f "$D/rules" "$D/bin/cat-suid" /proc/self/status /proc/self/maps
cp "$ERR" "$T/suid-cat.err"
check "as twother, a setuid program runs (euid 0) without the shim: the loader dropped LD_PRELOAD" \
    sh -c "[ $RC = 0 ] && grep -q '^Uid:.4242.0.' '$OUT' && grep -q 'r-xp.*/libc.so' '$OUT' &&
	! grep -q 'libtunnelwrap.so' '$OUT'"
check "the launcher says so in one line" \
    grep -q "$D/bin/cat-suid is setuid: the loader ignores LD_PRELOAD for it; its proxy-aware connections use 127.0.0.1:[0-9]* (http_proxy, ALL_PROXY)" "$T/suid-cat.err"

n0=$(tb_ssh_target_count wiki.corp.test 80)
mark=$(tb_trap_mark)
as_other tunnelwrap -f "$D/rules" "$D/bin/curl-suid" -sS --max-time 10 http://wiki.corp.test/
check "a setuid curl as COMMAND: the intranet page, through the proxy variables" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && grep -q 'curl-suid is setuid' '$ERR'"
check "a setuid curl as COMMAND: the bastion resolved and connected the name" \
    [ "$(tb_ssh_target_count wiki.corp.test 80)" -gt "$n0" ]
check_no_leak "a setuid curl as COMMAND: nothing went directly" "$mark"
mark=$(tb_trap_mark)
as_other "$D/bin/curl-suid" -sS --max-time 5 http://wiki.corp.test/
check_trap_caught "negative control: the same curl without tunnelwrap: the trap sees it" "$mark"

# Started by a wrapped shell: left alone, nothing breaks.
as_other tunnelwrap -f "$D/rules" sh -c \
    "'$D/bin/cat-suid' /proc/self/maps >'$D/inner.maps'; echo inner-rc=\$?; cat /proc/self/maps"
check "a setuid program run by a wrapped shell: it runs, exit 0, no shim in it" \
    sh -c "grep -qx 'inner-rc=0' '$OUT' && grep -q 'r-xp.*/libc.so' '$D/inner.maps' &&
	! grep -q libtunnelwrap.so '$D/inner.maps'"
check "after it, the shell's next program is still wrapped" grep -q 'libtunnelwrap.so' "$OUT"
as_other tunnelwrap -f "$D/rules" -O status
check "twother's own helper served all of it, as twother" \
    sh -c "grep -q 'connections' '$OUT' && [ \"\$(stat -c %u '$D/run/tunnelwrap')\" = 4242 ]"
