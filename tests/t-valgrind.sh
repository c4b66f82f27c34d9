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
# t-valgrind: the helper under valgrind memcheck through real tunneled
# operations in the bed: curl by name, a python echo, a refused port, 8 MiB
# through the relay, a program killed mid-transfer, garbage on the control
# socket, -O status (text and --json), an -L forward and a -D proxy
# fetched by a plain curl, DNS through the responder (dig, host), -O stop.  The launcher starts the helper through TUNNELWRAP_HELPER, a
# wrapper that execs valgrind --leak-check=full --error-exitcode=99 on it;
# once it has exited, its log must show no invalid read or write, nothing
# definitely lost and "ERROR SUMMARY: 0 errors".  (The helper forks for
# `ssh -G`: that child, silent, execs ssh natively.)  valgrind makes the
# helper some 20-50 times slower: timeouts are generous.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "the helper under valgrind" || exit 0
# 17, and 3 per helper log (one helper: recomputed below).
tb_plan 20
# make check-asan: valgrind cannot run an ASan binary (make check runs this).
if grep -qa __asan_init "$TB_HELPER"; then
	skip "helper under valgrind" "the helper is an ASan build; valgrind runs in make check" rest
	exit 0
fi

if ! VG=$(command -v valgrind); then
	skip "helper under valgrind" "valgrind not installed (tests/packages)" rest
	exit 0
fi
LOGS=$T/vg
mkdir -p "$LOGS"
cat >"$T/vg-helper" <<EOF
#!/bin/sh
exec $VG --tool=memcheck --leak-check=full --error-exitcode=99 \\
    --num-callers=30 --child-silent-after-fork=yes \\
    --log-file=$LOGS/helper.%p.log $TB_HELPER "\$@"
EOF
chmod 755 "$T/vg-helper"
TB_PASSENV="${TB_PASSENV:-} TUNNELWRAP_HELPER=$T/vg-helper"
export TB_TIMEOUT=180
R=$TB_RULES
t0=$(date +%s)

tw -f "$R" curl -sS --max-time 150 http://wiki.corp.test/
check "curl by name through the helper under valgrind" grep -q 'intranet wiki OK' "$OUT"
# The helper's own logs (a forked child's, if any, has no Command: line).
helper_logs() { grep -l '^==[0-9]*== Command: ' "$LOGS"/helper.*.log 2>/dev/null; }
logs=$(helper_logs)
[ -n "$logs" ] && tb_plan $((17 + 3 * $(printf '%s\n' "$logs" | wc -l)))
check "the helper runs under valgrind (its log: ${logs:-none})" [ -n "$logs" ]
started=$(($(date +%s) - t0))

tw -f "$R" python3 -c 'import socket
s = socket.create_connection(("echo.corp.test", 7), timeout=120)
s.sendall(b"ping under valgrind\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(100)
    if not d:
        break
    buf += d
print("echo", buf.decode().strip())'
check "python echo" grep -qx 'echo ping under valgrind' "$OUT"

tw -f "$R" curl -sS --max-time 150 -o /dev/null http://wiki.corp.test:81/
check "a refused port fails (curl rc $RC)" [ "$RC" = 7 ]

# The relay under load: 8 MiB (window adjustments, partial writes), then
# the reader closes (head), mid-transfer.
want=$(head -c 8388608 "$TB_DIR/www/big.bin" | sha256sum | cut -d' ' -f1)
tw -f "$R" sh -c 'curl -sS --max-time 150 http://wiki.corp.test/big.bin | head -c 8388608 | sha256sum'
check "8 MiB of big.bin intact, then the reader gone" grep -q "^$want " "$OUT"
# A program killed mid-transfer: its channel is torn down.
tw -f "$R" timeout -s KILL 3 curl -sS --limit-rate 200k -o /dev/null http://wiki.corp.test/big.bin
check "a curl killed mid-transfer (rc $RC)" [ "$RC" = 137 ]
# Garbage on the control socket: the bad-request paths.
sock=$(find "$TW_RUNTIME/tunnelwrap" -type s -name 'S.*' | head -n 1)
cli python3 -c 'import socket, struct, sys
V = int(sys.argv[2])
def send(b):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b); s.close()
for b in (b"\0" * 16, b"GET / HTTP/1.0\r\n\r\n",
          struct.pack("=IHHIi", 0x54574c31, V, 1, 0xffffffff, 0),
          struct.pack("=IHHIi", 0x54574c31, 99, 1, 416, 0),
          struct.pack("=IHHIi", 0x54574c31, V, 10, 456 + 100, 0) + b"x" * 300,
          struct.pack("=IHHIi", 0x54574c31, V, 9, 664 + 50, 0) + b"\0" * 664 + b"y" * 50):
    send(b)
print("sent")' "$sock" "$TB_PROTO_VERSION"
check "garbage thrown at the control socket" grep -qx sent "$OUT"

tw -f "$R" -O status
check "-O status" grep -q '^session .*, up' "$OUT"
tw -f "$R" -O status --json
check "-O status --json" grep -q '"session"' "$OUT"

port=18479
tw -f "$R" -L "127.0.0.1:$port:wiki.corp.test:80"
check "-L without a COMMAND exits 0" [ "$RC" = 0 ]
cli curl -sS --max-time 150 "http://127.0.0.1:$port/"
check "-L forward serves the wiki to a plain curl" grep -q 'intranet wiki OK' "$OUT"

tw -f "$R" -D 127.0.0.1:$((port + 1))
check "-D without a COMMAND exits 0" [ "$RC" = 0 ]
cli curl -sS --max-time 150 --socks5-hostname "127.0.0.1:$((port + 1))" http://wiki.corp.test/
check "-D: SOCKS5 with a remote name" grep -q 'intranet wiki OK' "$OUT"
cli curl -sS --max-time 150 -x "http://127.0.0.1:$((port + 1))" http://wiki.corp.test/
check "-D: HTTP proxy" grep -q 'intranet wiki OK' "$OUT"

tw -f "$R" sh -c 'dig +time=30 +tries=1 +short wiki.corp.test;
    dig +tcp +time=30 +tries=1 +short blocked.corp.test;
    host -W 30 -t SRV _ldap._tcp.corp.test'
check "DNS responder: a synthetic address, and SRV through the bastion" \
    sh -c "grep -Eqx '203\.0\.113\.[0-9]+' '$OUT' &&
        grep -q 'has SRV record 0 100 389 ldap.corp.test' '$OUT'"

tw -f "$R" -O stop
check "-O stop" [ "$RC" = 0 ]
# The leak check runs as the helper exits: wait for valgrind's summary.
done_logs() {
	local f
	for f in $(helper_logs); do
		grep -q 'ERROR SUMMARY' "$f" || return 1
	done
}
if ! tb_wait 120 done_logs; then
	# shellcheck disable=SC2046 # log paths have no blanks
	fail "valgrind finished (ERROR SUMMARY written)" \
	    "$(tail -n 5 $(helper_logs))"
	exit 0
fi
ok "the helper exited under valgrind ($(($(date +%s) - t0)) s in all, $started s to the first page)"

for f in $(helper_logs); do
	n=$(basename "$f")
	bad=$(grep -E -A 12 'Invalid (read|write|free)|Mismatched free|Syscall param|uninitialised|Process terminating' "$f" | head -n 40)
	if [ -z "$bad" ]; then
		ok "$n: no invalid read/write/free, no uninitialised use, no crash"
	else
		fail "$n: memory errors" "$bad"
	fi
	# valgrind's leak summary, or its word that nothing could leak.
	lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
	grep -q 'no leaks are possible' "$f" && lost=${lost:-0}
	if [ "${lost:-none}" = 0 ]; then
		ok "$n: nothing definitely lost ($(grep -E -o '(in use at exit|possibly lost|still reachable): [0-9,]+ bytes' "$f" | tr '\n' ';'))"
	else
		fail "$n: ${lost:-no leak summary:} bytes definitely lost" \
		    "$(grep -B 2 -A 20 'definitely lost in loss record' "$f" | head -n 40)"
	fi
	summary=$(grep -o 'ERROR SUMMARY: .*' "$f" | tail -n 1)
	check "$n: $summary" grep -q 'ERROR SUMMARY: 0 errors' "$f"
done
