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
# t-ssh-options: SSH options a user gives on the command line, each proven
# at the far end: -i (a key only this sshd accepts), -C (compression
# negotiated, in sshd's log), ProxyCommand (an sshd inside the intranet
# reached through `ssh -W` at the bastion: never directly, the leak trap
# watching, with a negative control), and LogTarget=syslog (lines arrive
# at a syslog socket; without one, a clear warning and the log beside the
# socket instead of silence).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "ssh options" || exit 0
tb_plan 19

CURL=(curl -sS --max-time 10 http://wiki.corp.test/)
hk=$(cut -d' ' -f1,2 "$TB_DIR/sshd/host_ed25519.pub")

# -- -i and -C: a sshd of its own (2206) that accepts only a new key -------
ssh-keygen -q -t ed25519 -N '' -C only-for-2206 -f "$T/idkey"
cp "$T/idkey.pub" "$T/authorized_keys"
tb_own_sshd "$TB_NS_GW" "$TB_GW4" 2206 sshd "AuthorizedKeysFile $T/authorized_keys" ||
    { fail "a sshd on 2206" "$(tail -n 5 "$T/sshd.log")"; exit 0; }
printf '[%s]:2206 %s\n' "$TB_GW4" "$hk" >"$T/kh"
R=$T/rules
sed "s|^session corp bastion.*|session corp root@$TB_GW4:2206 UserKnownHostsFile=$T/kh|" \
    "$TB_RULES" >"$R"
idfp=$(ssh-keygen -lf "$T/idkey.pub" | awk '{print $2}')
since() { tr -d '\r' <"$T/sshd.log" | tail -n +"$(($1 + 1))"; }
mark() { wc -l <"$T/sshd.log"; }

tw_new_runtime -f "$R"
tw -f "$R" "${CURL[@]}"
check "control: without -i the key is not offered: exit 255, publickey tried" \
    sh -c "[ $RC = 255 ] && grep -q 'authentication failed for root@$TB_GW4 (tried: publickey)' '$ERR'"

tw_new_runtime -f "$R"
m=$(mark)
tw -f "$R" -i "$T/idkey" "${CURL[@]}"
check "-i KEY: authenticated, curl gets the intranet page" grep -q 'intranet wiki OK' "$OUT"
since "$m" >"$T/noC.log"
check "-i KEY: sshd accepted that key (its fingerprint)" \
    grep -q "Accepted publickey for root from $TB_CLI4 .*ED25519 $idfp" "$T/noC.log"
check "without -C: no compression negotiated (sshd: compression: none)" \
    sh -c "grep -q 'kex: client->server cipher: .* compression: none' '$T/noC.log' &&
	! grep -q 'compression: zlib' '$T/noC.log'"

tw_new_runtime -f "$R"
m=$(mark)
tw -f "$R" -i "$T/idkey" -C "${CURL[@]}"
since "$m" >"$T/C.log"
check "-C: curl gets the page" grep -q 'intranet wiki OK' "$OUT"
check "-C: compression negotiated both ways (sshd: compression: zlib@openssh.com)" \
    sh -c "grep -q 'kex: client->server cipher: .* compression: zlib@openssh.com' '$T/C.log' &&
	grep -q 'kex: server->client cipher: .* compression: zlib@openssh.com' '$T/C.log'"
check "-C: the data went through the compressed session (sshd opened the channel)" \
    grep -q 'target wiki.corp.test port 80' "$T/C.log"

# -- ProxyCommand: an sshd inside the intranet, via ssh -W at the bastion ----
tb_own_sshd "$TB_NS_INT" "$TB_INT4" 2222 sshd-int ||
    fail "a sshd in the intranet" "$(tail -n 5 "$T/sshd-int.log")"
printf '[%s]:2222 %s\n' "$TB_INT4" "$hk" >"$T/kh-int"
RJ=$T/rules-jump
sed "s|^session corp bastion.*|session corp root@$TB_INT4:2222 UserKnownHostsFile=$T/kh-int|" \
    "$TB_RULES" >"$RJ"
tw_new_runtime -f "$RJ"
trap_mark=$(tb_trap_mark)
n0=$(tb_ssh_target_count "$TB_INT4" 2222)
tw -f "$RJ" -o 'ProxyCommand=ssh -W %h:%p bastion' "${CURL[@]}"
check "ProxyCommand ssh -W via the bastion: the intranet sshd's session serves curl" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' &&
	tr -d '\r' <'$T/sshd-int.log' | grep -q 'target wiki.corp.test port 80'"
check "ProxyCommand: the bastion forwarded the SSH connection (ssh -W's channel)" \
    [ "$(tb_ssh_target_count "$TB_INT4" 2222)" -gt "$n0" ]
check "ProxyCommand: the intranet sshd saw it come from the bastion's address" \
    sh -c "tr -d '\r' <'$T/sshd-int.log' | grep -q 'Accepted publickey for root from 198.51.100.1 '"
check_no_leak "ProxyCommand: nothing went directly to the intranet" "$trap_mark"
# ProxyJump: the helper makes it `ssh -W [%h]:%p JUMP`.
tw_new_runtime -f "$RJ"
trap_mark=$(tb_trap_mark)
n0=$(tb_ssh_target_count "$TB_INT4" 2222)
a0=$(tr -d '\r' <"$T/sshd-int.log" | grep -c "Accepted publickey for root from 198.51.100.1 ")
tw -f "$RJ" -o ProxyJump=bastion "${CURL[@]}"
check "ProxyJump=bastion: curl served through the intranet sshd, reached via the bastion" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ $(tb_ssh_target_count "$TB_INT4" 2222) -gt $n0 ] &&
	[ \$(tr -d '\r' <'$T/sshd-int.log' | grep -c 'Accepted publickey for root from 198.51.100.1 ') -gt $a0 ]"
check_no_leak "ProxyJump: nothing went directly to the intranet" "$trap_mark"
tw_new_runtime -f "$RJ"
trap_mark=$(tb_trap_mark)
tw -f "$RJ" "${CURL[@]}"
check_trap_caught "ProxyCommand: negative control (no ProxyCommand): the trap sees the direct SSH connect" "$trap_mark"

# -- LogTarget=syslog ---------------------------------------------------------
# A syslog socket of our own at /dev/log: a tmpfs /dev in a mount namespace
# of its own, with the device nodes the programs need bound from the real
# one and /dev/log a link to our socket (SOCK) or to nothing.
with_devlog() {
	local sock=$1
	shift
	mkdir -p "$T/olddev"
	cli unshare -m sh -c '
	    mount --bind /dev "$1/olddev" && mount -t tmpfs tmpfs /dev &&
	    for n in null zero full random urandom tty; do
		touch "/dev/$n" && mount --bind "$1/olddev/$n" "/dev/$n" || exit 99
	    done &&
	    ln -s "$2" /dev/log && shift 2 && exec "$@"' sh "$T" "$sock" "$@"
}
tb_spawn "" "$T/syslogd.out" "$TB_PYTHON" -u -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
print("ready", flush=True)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")' "$T/log.sock" "$T/syslog.txt"
tb_wait 10 grep -q ready "$T/syslogd.out"
tw_new_runtime
with_devlog "$T/log.sock" tunnelwrap -f "$TB_RULES" -o LogTarget=syslog \
    -o LogLevel=VERBOSE "${CURL[@]}"
check "LogTarget=syslog: curl works, no warning" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && ! grep -q 'LogTarget' '$ERR'"
check "LogTarget=syslog: the helper's lines reach /dev/log, as user.info, with its name and pid" \
    tb_wait 5 grep -q '^<14>.*tunnelwrap-helper\[[0-9]*\]: conn 1: curl' "$T/syslog.txt"
check "LogTarget=syslog: no log file beside the socket" \
    sh -c "! ls '$TW_RUNTIME'/tunnelwrap/*.log >/dev/null 2>&1"

tw_new_runtime
with_devlog "$T/no-such.sock" tunnelwrap -f "$TB_RULES" -o LogTarget=syslog \
    -o LogLevel=VERBOSE "${CURL[@]}"
check "LogTarget=syslog and nothing at /dev/log: curl works, one clear warning naming the fallback" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' &&
	grep -q 'LogTarget=syslog: /dev/log: No such file or directory; logging to $TW_RUNTIME/tunnelwrap/S\.[0-9a-f]*\.log instead' '$ERR'"
check "LogTarget=syslog and nothing at /dev/log: the lines are in that file" \
    sh -c "grep -q 'conn 1: curl' '$TW_RUNTIME'/tunnelwrap/S.*.log"
