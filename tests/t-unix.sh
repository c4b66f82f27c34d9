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
# t-unix: `tunnel unix:PATH` carries a program's connect() on a UNIX socket
# to the same path on the bastion (direct-streamlocal channel), like a
# remote Docker socket.  The server here answers with the name of the
# process that connected to it: sshd when tunneled, the client when direct
# (the namespaces share a filesystem, so only that tells them apart).
. "$(dirname "$0")/lib/tap.sh"
tb_plan 6
tb_need_product
tb_need_netns "UNIX socket destinations" || exit 0

sock=$T/remote.sock
cat >"$T/peersrv.py" <<'PY'
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
while True:
    c, _ = s.accept()
    pid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
    comm = open("/proc/%d/comm" % pid).read().strip()
    data = c.recv(100)
    c.sendall(b"peer=" + comm.encode() + b" echo=" + data)
    c.close()
PY
tb_spawn "$TB_NS_GW" "$T/peersrv.out" python3 "$T/peersrv.py" "$sock"
tb_wait 10 test -S "$sock"
client='import socket, sys, errno
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("error", errno.errorcode.get(e.errno, e.errno)); sys.exit(0)
s.sendall(b"hi"); print(s.recv(200).decode())'

R=$T/rules
{ cat "$TB_RULES"; echo "tunnel unix:$T/remote*.sock unix:$T/local/*.sock"; echo "deny unix:$T/denied.sock"; } >"$R"
tw -f "$R" python3 -c "$client" "$sock"
check "tunnel unix:: the connect reached the bastion's socket through sshd" \
    grep -q '^peer=sshd echo=hi' "$OUT"
check "tunnel unix:: the channel was a direct-streamlocal" \
    sh -c "tr -d '\r' <'$TB_SSHD_LOG' | grep -q 'streamlocal.*$sock'"
tw -f "$TB_RULES" python3 -c "$client" "$sock"
check "without a unix: rule UNIX sockets stay local" grep -q '^peer=python3 echo=hi' "$OUT"
tw -f "$R" python3 -c "$client" "$T/denied.sock"
check "deny unix:: EACCES" grep -qx 'error EACCES' "$OUT"
# A path missing at the bastion but present here: the namespaces share a
# filesystem, so the local server lives in a private mount namespace (a
# tmpfs over $T/local) that only the client sees; sshd looks in the real
# one and finds nothing there.  A direct fallback would reach the local
# server, which names the client.
mkdir -p "$T/local"
printf '%s\n' "$client" >"$T/client.py"
cat >"$T/private.sh" <<EOF
mount -t tmpfs none "$T/local" || exit 1
python3 "$T/peersrv.py" "$T/local/x.sock" & srv=\$!
i=0; while [ ! -S "$T/local/x.sock" ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i + 1)); done
echo "direct: \$(python3 "$T/client.py" "$T/local/x.sock")"
echo "tunneled: \$(tunnelwrap -f "$R" python3 "$T/client.py" "$T/local/x.sock")"
kill \$srv
EOF
cli unshare -m --propagation private sh "$T/private.sh"
check "the private local socket answers a direct connect (positive control)" \
    grep -q '^direct: peer=python3 echo=hi' "$OUT"
check "a path missing at the bastion but present here: the connect fails, no direct fallback ($(grep tunneled "$OUT"))" \
    grep -Eq '^tunneled: error (ECONNREFUSED|ENOENT|ECONNRESET)$' "$OUT"
