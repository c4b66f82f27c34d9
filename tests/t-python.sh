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
# t-python: an unmodified python3 through tunnelwrap: urllib by name,
# socket.create_connection and getpeername (the synthetic address and the
# port), getaddrinfo per family (synthetic pools), names stable across
# processes, and asyncio's event loop.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "python through the tunnel" || exit 0
tb_plan 10

py() { tw -f "$TB_RULES" python3 -c "$1"; }
V4POOL='203\.0\.113\.[0-9]+'
V6POOL='2001:db8:ff:[0-9a-f:]*'

py 'import urllib.request
print(urllib.request.urlopen("http://wiki.corp.test/", timeout=20).read().decode())'
check "urllib by name" grep -q 'intranet wiki OK' "$OUT"

py 'import socket
s = socket.create_connection(("echo.corp.test", 7), timeout=20)
print("peer", *s.getpeername()[:2])
s.sendall(b"ping through python\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(100)
    if not d:
        break
    buf += d
print("echo", buf.decode().strip())'
check "create_connection: getpeername is a synthetic address, port 7" \
    grep -Eqx "peer ($V4POOL|$V6POOL) 7" "$OUT"
check "create_connection: echo" grep -qx 'echo ping through python' "$OUT"

py 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(("echo.corp.test", 7))
print("peer", *s.getpeername())
print("family", s.family.name)'
check "AF_INET socket: getpeername is 203.0.113.x port 7" \
    grep -Eqx "peer $V4POOL 7" "$OUT"

py 'import socket
for fam in (socket.AF_INET, socket.AF_INET6):
    addrs = sorted({ai[4][0] for ai in socket.getaddrinfo("wiki.corp.test", 80, fam, socket.SOCK_STREAM)})
    fams = {ai[0] for ai in socket.getaddrinfo("wiki.corp.test", 80, fam)}
    print(fam.name, " ".join(addrs), "families", " ".join(f.name for f in fams))'
check "getaddrinfo AF_INET: 203.0.113.0/24 only" \
    grep -Eqx "AF_INET( $V4POOL)+ families AF_INET" "$OUT"
check "getaddrinfo AF_INET6: 2001:db8:ff::/64 only" \
    grep -Eqx "AF_INET6( $V6POOL)+ families AF_INET6" "$OUT"

# The name table is shared: two processes see the same address for a name,
# and two names get different addresses.
lookup='import socket, sys
for n in sys.argv[1:]:
    print(n, socket.getaddrinfo(n, 80, socket.AF_INET)[0][4][0])'
tw -f "$TB_RULES" python3 -c "$lookup" wiki.corp.test db.corp.test
first=$OUT
tw -f "$TB_RULES" python3 -c "$lookup" db.corp.test wiki.corp.test
second=$OUT
w1=$(awk '$1 == "wiki.corp.test" { print $2 }' "$first")
w2=$(awk '$1 == "wiki.corp.test" { print $2 }' "$second")
d1=$(awk '$1 == "db.corp.test" { print $2 }' "$first")
check "same name, same address in two processes ($w1, $w2)" \
    sh -c "[ -n '$w1' ] && [ '$w1' = '$w2' ]"
check "different names, different addresses ($w1, $d1)" \
    sh -c "[ -n '$w1' ] && [ -n '$d1' ] && [ '$w1' != '$d1' ]"

py 'import asyncio
async def main():
    r, w = await asyncio.wait_for(asyncio.open_connection("echo.corp.test", 7), 20)
    print("peer", *w.get_extra_info("peername")[:2])
    w.write(b"x" * 100000)
    w.write_eof()
    data = await asyncio.wait_for(r.read(), 20)
    print("echoed", len(data), data == b"x" * 100000)
    w.close()
asyncio.run(main())'
check "asyncio: open_connection, 100 kB echoed, EOF" \
    grep -qx 'echoed 100000 True' "$OUT"
check "asyncio: peername synthetic" \
    grep -Eqx "peer ($V4POOL|$V6POOL) 7" "$OUT"
