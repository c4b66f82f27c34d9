#!/usr/bin/env bash
# t-stress: programs killed mid-transfer leave nothing behind (helper fds
# and memory back to baseline); a stopped reader keeps the helper's memory
# bounded by the SSH window and completes intact after SIGCONT; a short
# soak of sequential connections has zero failures and no growth.
# Prints the figures.  Longer runs by hand: TW_STRESS_CYCLES, TW_SOAK_CONNS.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "stress" || exit 0

R=$TB_RULES
cycles=${TW_STRESS_CYCLES:-1000}
conns=${TW_SOAK_CONNS:-3000}
tw -f "$R" true
tw -f "$R" -O status
hpid=$(sed -n 's/^helper *pid \([0-9]*\).*/\1/p' "$OUT")
fds() { ls "/proc/$hpid/fd" 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$hpid/status"; }
settle() {	# wait until the helper has no connections left
	local i
	for i in $(seq 50); do
		tw -f "$R" -O status
		grep -q 'connections  0 live' "$OUT" && return 0
		sleep 0.2
	done
	return 1
}

# 1. Programs killed mid-transfer.
f0=$(fds); r0=$(rss)
for i in $(seq "$cycles"); do
	tb_spawn "$TB_NS_CLI" /dev/null tunnelwrap -f "$R" curl -s \
	    --limit-rate 2M -o /dev/null http://wiki.corp.test/big.bin
	p=$SPAWNED
	sleep 0.05
	pkill -KILL -P "$p" 2>/dev/null	# the curl, not the launcher
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
settle
f1=$(fds); r1=$(rss)
check "$cycles programs killed mid-transfer: helper fds back to baseline ($f0 -> $f1)" \
    [ "$f1" -le "$f0" ]
check "$cycles programs killed mid-transfer: helper RSS back near baseline (${r0} -> ${r1} KiB)" \
    [ "$r1" -le $((r0 + 4096)) ]

# 2. A stopped reader: memory bounded by the window, then intact.
tb_spawn "$TB_NS_CLI" "$T/slow.out" timeout 120 tunnelwrap -f "$R" \
    curl -sS -o "$T/slow.bin" http://wiki.corp.test/big.bin
slow=$SPAWNED
sleep 1
curl_pid=$(pgrep -P "$slow" -x curl || pgrep -f "curl -sS -o $T/slow.bin" | head -n 1)
kill -STOP "$curl_pid"
r_stop0=$(rss)
sleep 3
r_stop1=$(rss)
peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$hpid/status")
kill -CONT "$curl_pid"
wait "$slow"
check "stopped reader: helper RSS flat while stopped (${r_stop0} -> ${r_stop1} KiB, peak ${peak} KiB)" \
    [ "$r_stop1" -le $((r_stop0 + 2048)) ]
tb_capture sha256sum "$T/slow.bin"
check "stopped reader: after SIGCONT the 64 MiB arrive intact" grep -q "$TB_BIG_SHA256" "$OUT"

# 3. Soak: sequential short connections, each echoing its own pattern.
settle
f0=$(fds); r0=$(rss)
tw -f "$R" python3 -c '
import socket, sys, time
n = int(sys.argv[1]); bad = 0; t = time.time()
for i in range(n):
    try:
        s = socket.create_connection(("echo.corp.test", 7), timeout=10)
        msg = b"%d\n" % i
        s.sendall(msg); d = b""
        while len(d) < len(msg):
            b = s.recv(64)
            if not b: break
            d += b
        s.close()
        bad += d != msg
    except OSError:
        bad += 1
print("soak", n, "failed", bad, "%.0f/s" % (n / (time.time() - t)))' "$conns"
soak=$(cat "$OUT")
settle
f1=$(fds); r1=$(rss)
check "soak: $soak, zero failures" sh -c "echo '$soak' | grep -q 'failed 0 '"
check "soak: no fd growth ($f0 -> $f1) and no memory growth (${r0} -> ${r1} KiB)" \
    sh -c "[ $f1 -le $f0 ] && [ $r1 -le $((r0 + 2048)) ]"
