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
# t-rogue: a bastion that breaks the protocol breaks nothing else.  A real
# SSH server that misbehaves on request (tests/lib/rogue-sshd.py, paramiko)
# stands beside the bed's sshd.  Channel-level faults - an open failure
# full of terminal escapes, window adjustments of zero, data packets over
# the maximum size, data ignoring the window, messages for channels that
# do not exist, a double close - must cost only the channel concerned: the
# helper keeps running, a long-lived channel on the same session keeps
# echoing.  Session-level faults - a packet over the transport's limit, the
# bastion vanishing mid-transfer - must reset that session's connections
# (never a silent EOF), leave the other session's untouched, and end in a
# reconnect.  Prints the figures measured.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "misbehaving bastion" || exit 0
tb_plan 25
if ! "$TB_PYTHON" -c 'import paramiko' 2>/dev/null; then
	skip "misbehaving bastion" "python3-paramiko is not installed" rest
	exit 0
fi

# The rogue bastion: its own host key, the bed's user key.
ssh-keygen -q -t ed25519 -N '' -C rogue-host -f "$T/rogue_host"
echo "[$TB_GW4]:2222 $(cut -d' ' -f1,2 "$T/rogue_host.pub")" >"$T/known_rogue"
tb_spawn "$TB_NS_GW" "$T/rogue.log" "$TB_PYTHON" -u \
    "$TB_TOP/tests/lib/rogue-sshd.py" --listen "$TB_GW4:2222" \
    --host-key "$T/rogue_host" --authorized-key "$TB_DIR/sshd/authorized_keys" \
    --ready "$T/rogue.ready"
tb_wait 20 test -s "$T/rogue.ready" ||
    { fail "rogue bastion started" "$(tail -n 5 "$T/rogue.log")"; exit 0; }

R=$T/rules
cat >"$R" <<RULES
session rogue root@$TB_GW4:2222 UserKnownHostsFile=$T/known_rogue ServerAliveInterval=1 ServerAliveCountMax=3 ConnectTimeout=8
session corp bastion
synthetic 203.0.113.0/24 2001:db8:ff::/64
tunnel via rogue *.rogue.test
tunnel via corp *.corp.test
direct *
RULES
HLOG=$T/helper.log
TWO=(-f "$R" -o "LogTarget=file:$HLOG" -o LogLevel=DEBUG3)

# status_of SESSION FIELD: a line of that session's -O status section.
status_of() {
	tw "${TWO[@]}" -O status
	awk -v s="[$1]" -v f="$2" '$0 == s {in_s = 1; next} /^\[/ {in_s = 0}
	    in_s && $1 == f {sub(/^[a-z]+ +/, ""); print; exit}' "$OUT"
}
helper_pid() { status_of "$1" helper | sed -n 's/^pid \([0-9]*\).*/\1/p'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# A python client run through tunnelwrap; prints one result line.
client() { tw "${TWO[@]}" "$TB_PYTHON" -c "$1"; }
PYLIB='
import socket, errno, hashlib, sys, time
def conn(host, port):
    return socket.create_connection((host, port), timeout=30)
def pattern(n):
    return bytes((i * 7) % 251 for i in range(n))
def read_all(s):
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return got, "eof"
            got += d
    except OSError as e:
        return got, "error " + errno.errorcode.get(e.errno, str(e.errno))
'

client "$PYLIB
s = conn('echo.rogue.test', 7); s.sendall(b'ping'); print('echo', s.recv(10).decode())"
check "the rogue bastion serves a well-behaved channel" grep -q '^echo ping$' "$OUT"
rogue_pid=$(helper_pid rogue)
corp_pid=$(helper_pid corp)
check "two helpers, one per session (rogue $rogue_pid, corp $corp_pid)" \
    sh -c "[ -n '$rogue_pid' ] && [ -n '$corp_pid' ] && [ '$rogue_pid' != '$corp_pid' ]"

# keeper OUT: long-lived echo channels on both sessions, ticking every
# 0.3 s until $T/stop appears; says how each one fared.
keeper() {
	rm -f "$T/stop"
	tb_spawn "$TB_NS_CLI" "$1" timeout 120 tunnelwrap "${TWO[@]}" \
	    "$TB_PYTHON" -u -c "$PYLIB
import os
chans = {'rogue': conn('echo.rogue.test', 7), 'corp': conn('echo.corp.test', 7)}
fate = {k: 'ok' for k in chans}
ticks = 0
print('connected', flush=True)
while not os.path.exists('$T/stop'):
    for k, s in chans.items():
        if fate[k] != 'ok':
            continue
        try:
            s.sendall(b'tick %d\n' % ticks)
            want = b'tick %d\n' % ticks
            got = b''
            while len(got) < len(want):
                d = s.recv(len(want) - len(got))
                if not d:
                    raise OSError(0, 'eof')
                got += d
            if got != want:
                fate[k] = 'garbled'
        except OSError as e:
            fate[k] = 'error ' + (errno.errorcode.get(e.errno) or str(e.strerror))
    ticks += 1
    time.sleep(0.3)
print('ticks', ticks, ' '.join('%s=%s' % kv for kv in sorted(fate.items())))"
	KEEPER=$SPAWNED
	tb_wait 20 grep -q connected "$1"
}
keeper_end() {
	touch "$T/stop"
	wait "$KEEPER"
	cat "$1"
}

# ---- Channel-level faults: only the channel concerned suffers. ----------
keeper "$T/keep1.out"

# An open failure with an unknown reason code and a description built to
# drive the terminal.
client "$PYLIB
try:
    conn('refuse.rogue.test', 1001); print('connected?!')
except OSError as e:
    print('refused', errno.errorcode.get(e.errno, e.errno))"
check "open failure with an unknown code: connect fails ($(tail -n 1 "$OUT"))" \
    grep -Eq '^refused (ECONNREFUSED|EHOSTUNREACH|ENETUNREACH)$' "$OUT"

# Window 0, 2000 window adjustments of 0, then a real window.
tb_spawn "$TB_NS_CLI" "$T/zero.out" timeout 60 tunnelwrap "${TWO[@]}" \
    "$TB_PYTHON" -u -c "$PYLIB
data = pattern(1 << 20)
s = conn('zero.rogue.test', 1002)
print('connected', flush=True)
t0 = time.time()
s.sendall(data); s.shutdown(socket.SHUT_WR)
got, how = read_all(s)
print('stalled %.1f s' % (time.time() - t0))
print('reply', got.decode().strip(), 'want', len(data), hashlib.sha256(data).hexdigest())"
zero=$SPAWNED
tb_wait 20 grep -q connected "$T/zero.out"
c0=$(cpu_ticks "$rogue_pid")
sleep 2.5				# inside the 4 s the window stays shut
c1=$(cpu_ticks "$rogue_pid")
wait "$zero"
cat "$T/zero.out"
if [[ ${TB_PASSENV:-} == *ASAN_OPTIONS* ]]; then
	skip_limit "zero window: the helper idles while the window is shut ($((c1 - c0)) ticks under ASan)" \
	    "Under ASan, memory and CPU bounds"
else
	check "zero window: the helper idles while the window is shut ($((c1 - c0)) ticks of CPU in 2.5 s, bound 10)" \
	    [ $((c1 - c0)) -le 10 ]
fi
check "zero window: once it opens, every byte arrives, in order" \
    awk '/^reply/ {r = 1; ok = ($2 == $5 && $3 == $6)} END {exit !(r && ok)}' \
    "$T/zero.out"

# Data packets of 200 KiB against the 32 KiB maximum packet size.
client "$PYLIB
s = conn('big.rogue.test', 1003)
got, how = read_all(s)
print('oversized', 'intact' if got == pattern(1000 * 1024) else 'damaged %d' % len(got), how)"
check "packets over the maximum size: the data arrives intact" \
    grep -q '^oversized intact eof$' "$OUT"

# Data ignoring the window, 64 MiB of it, to a program that does not read.
r0=$(rss_kib "$rogue_pid")
tb_spawn "$TB_NS_CLI" "$T/flood.out" timeout 60 tunnelwrap "${TWO[@]}" \
    "$TB_PYTHON" -u -c "$PYLIB
s = conn('flood.rogue.test', 1004)
print('connected', flush=True)
time.sleep(6)
got, how = read_all(s)
print('flood', len(got), how)"
flood=$SPAWNED
rmax=$r0
while kill -0 "$flood" 2>/dev/null; do
	r=$(rss_kib "$rogue_pid") && [ "$r" -gt "$rmax" ] && rmax=$r
	sleep 0.1
done
wait "$flood"
cat "$T/flood.out"
if [[ ${TB_PASSENV:-} == *ASAN_OPTIONS* ]]; then
	skip_limit "window ignored: the helper's memory stays bounded (peak $((rmax / 1024)) MiB under ASan)" \
	    "Under ASan, memory and CPU bounds"
else
	# The cap: 4 MiB queued (plus the window) in libssh's channel
	# buffer, which grows by doubling (8 MiB), and the session's own
	# buffers; without it the helper would hold the 64 MiB.
	check "window ignored: the helper's memory stays bounded (RSS $((r0 / 1024)) -> peak $((rmax / 1024)) MiB, bound +12 MiB)" \
	    [ $((rmax - r0)) -le $((12 * 1024)) ]
fi
check "window ignored: that connection is reset, not cut short silently" \
    grep -Eq '^flood [0-9]+ error ECONNRESET$' "$T/flood.out"
check "window ignored: the helper says why" grep -q 'ignored the channel window' "$HLOG"

# Data and window adjustments for channels that do not exist, EOF, and
# CHANNEL_CLOSE twice.
client "$PYLIB
s = conn('bogus.rogue.test', 1007)
got, how = read_all(s)
print('bogus', repr(got), how)"
check "bogus channel numbers and a double close: the data, then EOF" \
    grep -q "^bogus b'hello\\\\n' eof$" "$OUT"

keeper_end "$T/keep1.out"
check "channel faults: the long-lived channel on the same session kept echoing" \
    grep -Eq '^ticks [1-9][0-9]* corp=ok rogue=ok$' "$T/keep1.out"
check "channel faults: the rogue session's helper is the one we started" \
    [ "$(helper_pid rogue)" = "$rogue_pid" ]
tw "${TWO[@]}" -O status
check "channel faults: the session stayed up, no reconnect was needed" \
    awk '/^\[rogue\]/ {s = 1; next} /^\[/ {s = 0}
        s && /^session .*, up$/ {up = 1} s && /^reconnects/ {re = 1}
        END {exit !(up && !re)}' "$OUT"

# ---- Session-level faults: that session's connections are reset, the ----
# ---- other session's are untouched, and the helper reconnects. ----------
keeper "$T/keep2.out"
client "$PYLIB
s = conn('huge.rogue.test', 1005)
got, how = read_all(s)
print('huge', len(got), how)"
check "a 1 MiB packet: the connection is reset ($(tail -n 1 "$OUT"))" \
    grep -Eq '^huge 0 error ECONNRESET$' "$OUT"
check "a 1 MiB packet: the helper says the session was lost" \
    grep -q 'connection to .* lost' "$HLOG"
reconnected() { status_of rogue session | grep -q ', up'; }
tb_wait 20 reconnected
check "a 1 MiB packet: the session comes back" reconnected

client "$PYLIB
s = conn('crash.rogue.test', 1006)
got, how = read_all(s)
print('crash', 'prefix-ok' if got == pattern(1000 * 1024)[:len(got)] else 'garbled', len(got), how)"
check "bastion gone mid-transfer: what came is intact, then a reset, never EOF ($(tail -n 1 "$OUT"))" \
    grep -Eq '^crash prefix-ok [0-9]+ error ECONNRESET$' "$OUT"
tb_wait 20 reconnected
keeper_end "$T/keep2.out"
check "session faults: the rogue session's long-lived channel was reset" \
    grep -Eq 'rogue=error ECONNRESET$' "$T/keep2.out"
check "session faults: the other session's channel never noticed" \
    grep -Eq '^ticks [1-9][0-9]* corp=ok ' "$T/keep2.out"
client "$PYLIB
s = conn('echo.rogue.test', 7); s.sendall(b'again'); print('echo', s.recv(10).decode())"
check "after both: the rogue session works again" grep -q '^echo again$' "$OUT"
check "after both: still the same helper process" [ "$(helper_pid rogue)" = "$rogue_pid" ]
echo "reconnects: $(status_of rogue reconnects)"

# The rogue bastion closes idle session channels after 3 s, as sshd's
# ChannelTimeout does: the keepalive reopens its own, and never takes the
# closing for a lost session.
check "a bastion closing the keepalive channel: it is reopened" \
    grep -q 'keepalive channel closed by the bastion: reopening' "$HLOG"
check "a bastion closing the keepalive channel: no session lost for it" \
    sh -c "! grep -q 'lost: no answer to keepalives' '$HLOG'"

# The bastion's reason for the open failure is logged, and its escape
# sequences are not.
check "the bastion's words are logged, made harmless (\\033]0;owned)" \
    grep -qF '\033]0;owned\007\033[2J' "$HLOG"
check "no control character from the bastion in the helper's log" \
    sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$HLOG'"
