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
# t-window: the channel window across a delayed path (issue 12).  The
# bastion is reached through a delay line (tests/bench/delay.c, 50 ms each
# way: a 100 ms round trip) and the caps are small (ChannelWindowMax=4M,
# ChannelWindowTotal=6M), so that autotuning meets them in a few seconds.
# The window grows to its per-connection cap and never past it; two
# connections together stay within the total; a reader that stops costs
# the helper at most its window (-O status --json, and the helper's RSS);
# and the bytes arrive intact through all of it, both ways.  Not a
# timing: every check is about bytes and bounds.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "a delayed path to the bastion" || exit 0
tb_plan 11

MiB=$((1024 * 1024))
CAP=$((4 * MiB))
TOTAL=$((6 * MiB))
cc -O2 -std=c11 -D_GNU_SOURCE -o "$T/delay" "$TB_TOP/tests/bench/delay.c" ||
    { fail "the delay line builds" "cc failed"; exit 0; }
tb_spawn "$TB_NS_GW" "$T/delay.out" "$T/delay" 22 50000 "$TB_GW4" 2210
tb_wait 10 tb_listening "$TB_NS_GW" "$TB_GW4" 2210 ||
    { fail "the delay line listens" "$(cat "$T/delay.out")"; exit 0; }
sed "s|^[^ ]*|[$TB_GW4]:2210|" "$TB_HOME/.ssh/known_hosts" >"$T/known_hosts"
R=$T/rules
sed "s|^session corp bastion.*|session corp root@$TB_GW4:2210 UserKnownHostsFile=$T/known_hosts ChannelWindowMax=4M ChannelWindowTotal=6M|" \
    "$TB_RULES" >"$R"

# jget FILE EXPR: a figure from a saved -O status --json (EXPR in Python,
# j is the document).
jget() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
status_json() {
	tw -f "$R" -O status --json
	cp "$OUT" "$1"
}

tw_new_runtime
# One stream: grows to the cap, not past it; intact.
tw -f "$R" -o LogLevel=VERBOSE curl -sS --max-time 60 -o "$T/big" \
    http://wiki.corp.test/big.bin
sha256sum "$T/big" >"$T/big.sum"
check "one stream: 64 MiB intact through the autotuned window" \
    grep -q "$TB_BIG_SHA256" "$T/big.sum"
status_json "$T/s1.json"
peak=$(jget "$T/s1.json" 'j["window"]["peak"]')
check "one stream: the window grew to ChannelWindowMax (4 MiB) and no further (peak $peak)" \
    [ "$(jget "$T/s1.json" 'j["window"]["max_conn"]')" = $CAP -a \
    "$peak" = $CAP ]
check "-v logs the window's growth" \
    grep -q 'window 2048 -> [0-9]* KiB' "$TW_RUNTIME"/tunnelwrap/*.log

# Two at once: within ChannelWindowTotal; both intact.
tw -f "$R" sh -c 'curl -sS --max-time 60 -o "$1/a" http://wiki.corp.test/big.bin &
    curl -sS --max-time 60 -o "$1/b" http://wiki.corp.test/big.bin; wait' sh "$T"
sha256sum "$T/a" "$T/b" >"$T/ab.sum"
check "two streams: both intact" \
    [ "$(grep -c "$TB_BIG_SHA256" "$T/ab.sum")" = 2 ]
status_json "$T/s2.json"
peak=$(jget "$T/s2.json" 'j["window"]["peak"]')
check "two streams: windows together above one cap, within ChannelWindowTotal (6 MiB; peak $peak)" \
    [ "$peak" -gt $CAP -a "$peak" -le $TOTAL ]

# A reader that stops: the helper holds at most its window for it.
cat >"$T/stall.py" <<'EOF'
import hashlib, os, socket, sys, time
s = socket.create_connection(("wiki.corp.test", 80), timeout=60)
s.sendall(b"GET /big.bin HTTP/1.0\r\nHost: wiki.corp.test\r\n\r\n")
buf = bytearray()
while len(buf) < 16 << 20:          # fast at first: the window grows
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
open(sys.argv[1], "w").write("stalled\n")
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
body = bytes(buf[buf.index(b"\r\n\r\n") + 4:])
print(hashlib.sha256(body).hexdigest(), len(body))
EOF
status_json "$T/s3.json"
hpid=$(jget "$T/s3.json" 'j["session"]["helper_pid"]')
rss() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$hpid/status"; }
rss0=$(rss)
tb_spawn "$TB_NS_CLI" "$T/stall.out" tunnelwrap -f "$R" python3 \
    "$T/stall.py" "$T/stalled" "$T/go"
stall_pid=$SPAWNED
tb_wait 60 test -e "$T/stalled"
sleep 3                 # 30 round trips: whatever may come has come
status_json "$T/s4.json"
rss1=$(rss)
held=$(jget "$T/s4.json" 'max(c["held"] for c in j["connections"])')
win=$(jget "$T/s4.json" 'max(c["window"] for c in j["connections"])')
check "stopped reader: the helper holds data for it (held $held bytes)" \
    [ "$held" -gt "$MiB" ]
check "stopped reader: held and window within ChannelWindowMax (held $held, window $win)" \
    [ "$held" -le $CAP -a "$win" -le $CAP ]
grow=$((rss1 - rss0))
if [[ ${TB_PASSENV:-} == *ASAN_OPTIONS* ]]; then
	skip_limit "stopped reader: the helper's RSS grew by at most the cap + 3 MiB ($grow bytes under ASan)" \
	    "Under ASan, memory and CPU bounds"
else
	check "stopped reader: the helper's RSS grew by at most the cap + 3 MiB ($grow bytes)" \
	    [ "$grow" -le $((CAP + 3 * MiB)) ]
fi
touch "$T/go"
wait "$stall_pid"
check "stopped reader: every byte arrived intact once it read again" \
    grep -q "^$TB_BIG_SHA256 " "$T/stall.out"

# Uploads too: 32 MiB through echo and back, both directions at once.
tw -f "$R" python3 -c '
import hashlib, os, socket, threading
data = os.urandom(32 << 20)
s = socket.create_connection(("echo.corp.test", 7), timeout=60)
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
got = bytearray()
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    got += d
print("echo", "intact" if bytes(got) == data else "damaged %d" % len(got))'
check "32 MiB echoed back intact (upload and download at once)" \
    grep -q '^echo intact$' "$OUT"

tw -f "$R" -O status
check "-O status shows the windows" grep -q '^windows .* of 6144 KiB, up to 4096 KiB per connection' "$OUT"
tw -f "$R" -O stop
