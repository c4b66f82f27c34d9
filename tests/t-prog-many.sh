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
# t-prog-many: many programs at once through one helper.  A shell script
# under a single tunnelwrap runs curl, wget, python3, node, socat and nc
# in pipelines and in the background at the same time (every one by name,
# so remote DNS from many processes at once); all of it must travel in one
# SSH connection.  Then several tunnelwrap launchers started together with
# no helper running yet must still end up sharing one.
. "$(dirname "$0")/lib/tap.sh"
. "$TB_TOP/tests/progs/prog-lib.sh"
tb_need_product
tb_need_netns "many programs through one helper" || exit 0
# A program pneed skips reports that skip instead of its one check.
pplan 11

pneed wget wget wget
pneed socat socat socat
pneed nc netcat-openbsd nc
NODE=
if [ -x /usr/bin/node ]; then NODE=/usr/bin/node
elif pneed node nodejs node; then NODE=$(command -v node); fi

mkdir -p "$T/many"
head -c 4000000 /dev/urandom >"$T/many/rand"
sha256sum <"$T/many/rand" | cut -d' ' -f1 >"$T/many/rand.sha"
cat >"$T/many.sh" <<'EOF'
#!/bin/sh
# many.sh DIR NODE: everything at once; each job's output in DIR.
d=$1 node=$2
sha() { python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'; }
# Pipelines: a download hashed by python; bytes echoed through socat and
# hashed; a line through nc.
curl -sS --max-time 60 http://wiki.corp.test/big.bin | sha >"$d/curl-big.sha" &
socat -T 30 - TCP:echo.corp.test:7 <"$d/rand" | sha256sum | cut -d' ' -f1 >"$d/socat.sha" &
printf 'hello through nc\n' | nc -N -w 30 echo.corp.test 7 >"$d/nc.out" &
# Background jobs.
wget -q -T 30 -t 1 -O "$d/wget.html" http://wiki.corp.test/ &
for i in 1 2 3 4 5 6 7 8; do
	curl -sS --max-time 30 -o "$d/curl.$i" http://db.corp.test/ &
done
python3 - >"$d/py.out" <<'PY' &
import asyncio
async def one(i):
    r, w = await asyncio.open_connection("echo.corp.test", 7)
    msg = b"python %d\n" % i
    w.write(msg * 100)
    w.write_eof()
    ok = await r.read() == msg * 100
    w.close()
    return ok
async def main():
    print("py", sum(await asyncio.gather(*(one(i) for i in range(10)))))
asyncio.run(main())
PY
if [ -n "$node" ]; then
	"$node" -e '
const http = require("http");
let n = 0, ok = 0;
for (let i = 0; i < 10; i++)
  http.get("http://wiki.corp.test/", (r) => {
    let b = ""; r.on("data", (c) => b += c);
    r.on("end", () => { ok += b.includes("intranet wiki OK"); if (++n === 10) console.log("node", ok); });
  }).on("error", (e) => { console.log("node error", e.code); process.exit(1); });
' >"$d/node.out" &
fi
wait
echo done >"$d/done"
EOF
chmod 755 "$T/many.sh"

a0=$(tb_ssh_accepted_count)
TB_TIMEOUT=120 tw -f "$TB_RULES" timeout 100 sh "$T/many.sh" "$T/many" "$NODE"
pcheck many "the script finished" test -f "$T/many/done"
pcheck curl "pipeline: curl | python3, 64 MiB, sha256 matches" \
    grep -qx "$TB_BIG_SHA256" "$T/many/curl-big.sha"
pcheck curl "8 curl in the background" \
    sh -c "[ \$(grep -l 'intranet wiki OK' '$T/many/curl.'* | wc -l) = 8 ]"
if [ "$(pstate socat)" != skipped ]; then
	pcheck socat "pipeline: 4 MB through socat to echo, sha256 matches" \
	    cmp -s "$T/many/socat.sha" "$T/many/rand.sha"
fi
if [ "$(pstate nc)" != skipped ]; then
	pcheck nc "pipeline: a line through nc to echo" \
	    grep -qx 'hello through nc' "$T/many/nc.out"
fi
if [ "$(pstate wget)" != skipped ]; then
	pcheck wget "in the background" grep -q 'intranet wiki OK' "$T/many/wget.html"
fi
pcheck python3 "asyncio, 10 streams, in the background" grep -qx 'py 10' "$T/many/py.out"
if [ -n "$NODE" ]; then
	pcheck node "10 http.get in the background" grep -qx 'node 10' "$T/many/node.out"
fi
a1=$(tb_ssh_accepted_count)
pcheck many "all of it in exactly one new SSH connection ($a0 -> $a1)" \
    [ "$a1" = $((a0 + 1)) ]

# Launchers racing to start the helper: 6 at once, no helper yet.
tw_new_runtime
a0=$(tb_ssh_accepted_count)
pids=
for i in 1 2 3 4 5 6; do
	tb_spawn "$TB_NS_CLI" "$T/race.$i" timeout 60 tunnelwrap -f "$TB_RULES" \
	    curl -sS --max-time 30 http://wiki.corp.test/
	pids="$pids $SPAWNED"
done
for p in $pids; do
	wait "$p"
done
a1=$(tb_ssh_accepted_count)
pcheck many "6 launchers started together: every curl got the page" \
    sh -c "[ \$(grep -l 'intranet wiki OK' '$T/race.'* | wc -l) = 6 ]"
pcheck many "6 launchers started together share one SSH connection ($a0 -> $a1)" \
    [ "$a1" = $((a0 + 1)) ]

pmatrix
