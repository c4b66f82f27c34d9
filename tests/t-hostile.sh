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
# t-hostile: bad input breaks nothing.  Clients sending garbage, truncated
# messages, huge lengths or vanishing mid-message to the helper's socket
# are dropped alone (a transfer running meanwhile completes); another
# local user can neither connect to the socket nor see our status; the
# synthetic pool running out reuses only idle names; hostile names are
# refused, never resolved locally.
. "$(dirname "$0")/lib/tap.sh"
tb_plan 11
tb_need_product
tb_need_netns "hostile input" || exit 0

R=$T/rules
sed 's|^synthetic .*|synthetic 203.0.113.0/30 2001:db8:ff::/120|' "$TB_RULES" >"$R"
tw -f "$R" true
sock=$(ls "$TW_RUNTIME"/tunnelwrap/S.* | grep -v '\.' | head -n 1)
[ -S "$sock" ] || sock=$(find "$TW_RUNTIME/tunnelwrap" -type s | head -n 1)

# A transfer runs while garbage is thrown at the control socket.
tb_spawn "$TB_NS_CLI" "$T/dl.out" timeout 60 tunnelwrap -f "$R" \
    curl -sS --max-time 50 --limit-rate 8M -o "$T/big" http://wiki.corp.test/big.bin
dl=$SPAWNED
cat >"$T/garbage.py" <<'PY'
import socket, struct, sys, time
path, V = sys.argv[1], int(sys.argv[2])
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); return s
sent = 0
for payload in (b"\0" * 16, b"GET / HTTP/1.0\r\n\r\n", b"\xff" * 4096,
                struct.pack("=IHHIi", 0x54574c31, V, 1, 0xffffffff, 0),   # huge length
                struct.pack("=IHHIi", 0x54574c31, 99, 1, 416, 0),         # other version
                struct.pack("=IHHIi", 0x54574c31, V, 77, 0, 0),           # unknown type
                struct.pack("=IHHIi", 0x54574c31, V, 1, 416, 0) + b"x" * 100):  # truncated, then gone
    for i in range(20):
        s = conn(); s.sendall(payload); s.close(); sent += 1
for i in range(200):          # connect and vanish
    conn().close(); sent += 1
print("sent", sent)
PY
cli python3 "$T/garbage.py" "$sock" "$TB_PROTO_VERSION"
check "garbage: 340 bad clients thrown at the helper" grep -q 'sent 340' "$OUT"
wait "$dl"
tb_capture sha256sum "$T/big"
check "garbage: the transfer running meanwhile completed intact" \
    grep -q "$TB_BIG_SHA256" "$OUT"
tw -f "$R" curl -sS --max-time 10 http://wiki.corp.test/
check "garbage: the helper still serves new connections" grep -q 'intranet wiki OK' "$OUT"

# Another local user.
# twother (uid 4242) exists in the client namespace's passwd only (the bed
# writes it), so nothing is added to this machine's users.
cli id -u twother
if grep -qx 4242 "$OUT"; then
	cli runuser -u twother -- python3 -c '
import socket, sys
try:
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print("connected")
except OSError as e:
    print("refused", e.errno)' "$sock"
	check "another user cannot even reach the socket (0700 directory)" grep -q '^refused' "$OUT"
	# Even with the directory open, the helper checks the peer's uid.
	# Open every directory on the way (0711) and the socket itself.
	opened=""
	d=$(dirname "$sock")
	while [ "$d" != / ] && [ "$d" != /tmp ]; do
		opened="$opened $d:$(stat -c %a "$d")"
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	chmod 666 "$sock"
	cli runuser -u twother -- python3 -c '
import socket, sys, struct
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(struct.pack("=IHHIi", 0x54574c31, int(sys.argv[2]), 6, 8, 0) + b"\0" * 8)
    d = s.recv(4096)
except (BrokenPipeError, ConnectionResetError):
    d = b""          # dropped at once: the uid check
print("got", len(d))' "$sock" "$TB_PROTO_VERSION"
	for dm in $opened; do chmod "${dm##*:}" "${dm%:*}"; done
	chmod 600 "$sock"
	check "another user connecting anyway gets nothing (SO_PEERCRED check)" \
	    grep -qx 'got 0' "$OUT"
	tw -f "$R" -O status
	check "...and our helper is unharmed" grep -q 'session .*up' "$OUT"
else
	fail "another local user" "twother is not in the client namespace's passwd: $(tb_last)"
fi

# The synthetic pool (a /30: two addresses) runs out: idle names are
# reused, a name with a live connection keeps its address.
tw -f "$R" python3 -c '
import socket, time
a = socket.getaddrinfo("wiki.corp.test", 80, socket.AF_INET)[0][4][0]
s = socket.create_connection(("wiki.corp.test", 80), timeout=10)
b = socket.getaddrinfo("db.corp.test", 80, socket.AF_INET)[0][4][0]
c = socket.getaddrinfo("echo.corp.test", 80, socket.AF_INET)[0][4][0]
a2 = socket.getaddrinfo("wiki.corp.test", 80, socket.AF_INET)[0][4][0]
print("wiki", a, "db", b, "echo", c, "wiki-again", a2)
print("kept" if a == a2 and c != a else "moved")'
check "pool exhausted: a name in use keeps its address, an idle one is reused ($(head -n 1 "$OUT"))" \
    grep -qx kept "$OUT"

# Hostile names: too long, odd bytes - refused, never resolved locally
# (the client's resolver is the leak trap, which logs every question).
hostile_probe() {
	tw -f "$1" python3 -c '
import socket
for n in (("a" * 60 + ".") * 5 + "corp.test", "sp ace.corp.test", "\u00e9t\u00e9.corp.test", "x..corp.test"):
    try:
        r = socket.getaddrinfo(n, 80, socket.AF_INET)[0][4][0]
        print("resolved", r)
    except (socket.gaierror, UnicodeError) as e:
        print("refused", type(e).__name__)'
	[ -n "${HOSTILE_OUT:-}" ] || HOSTILE_OUT=$OUT
}
HOSTILE_OUT=
check_never_direct "hostile names" hostile_probe "$R"
OUT=$HOSTILE_OUT
check "hostile names: none resolved to a real address ($(tr '\n' ' ' <"$OUT"))" \
    sh -c "! grep -Ev '^(refused|resolved 203\.0\.113\.)' '$OUT' | grep -q ."
check "a 300-byte name is refused, not resolved locally" sh -c "head -n 1 '$OUT' | grep -q '^refused'"
