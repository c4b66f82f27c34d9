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
# t-rekey: a session that lasts all day gets rekeyed, by the bastion
# (sshd's RekeyLimit; here a second sshd that rekeys every 4 MiB) or by
# us (RekeyLimit in the ssh configuration).  Transfers running both ways
# through many key exchanges arrive intact.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "rekeying" || exit 0
tb_plan 6		# 3 per round, 2 rounds

# sshd applies RekeyLimit only globally (not from a Match block): a sshd
# of its own, the bed's configuration on another port.
grep -v '^ListenAddress\|^PidFile\|^Match\|^	' "$TB_SSHD_CONFIG" >"$T/sshd_config"
printf 'ListenAddress %s:2202\nPidFile %s\nRekeyLimit 4M\n' "$TB_GW4" \
    "$T/sshd.pid" >>"$T/sshd_config"
tb_spawn "$TB_NS_GW" /dev/null /usr/sbin/sshd -D -f "$T/sshd_config" \
    -E "$T/sshd.log"
tb_wait 10 tb_listening "$TB_NS_GW" "$TB_GW4" 2202 ||
    { fail "a rekeying sshd started" "$(tail -n 5 "$T/sshd.log")"; exit 0; }
sed "s|^[^ ]*|[$TB_GW4]:2202|" "$TB_HOME/.ssh/known_hosts" >"$T/known_hosts"
kexinits() { cat "$T/sshd.log" "$TB_SSHD_LOG" | grep -c 'SSH2_MSG_KEXINIT received'; }

# Both directions at once: the 64 MiB download and 32 MiB through echo.
transfers() {
	rm -f "$T/big" "$T/xfer.out"
	tw -f "$1" sh -c '
	    curl -sS --max-time 60 -o "$1/big" http://wiki.corp.test/big.bin &
	    python3 -c "
import hashlib, os, socket, threading
data = os.urandom(32 << 20)
s = socket.create_connection((\"echo.corp.test\", 7), timeout=60)
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
got = bytearray()
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    got += d
print(\"echo\", \"intact\" if bytes(got) == data else \"damaged %d\" % len(got))"
	    wait' sh "$T"
	cp "$OUT" "$T/xfer.out"
	[ -f "$T/big" ] && sha256sum "$T/big" >>"$T/xfer.out"
}

for who in bastion client; do
	R=$T/rules-$who
	if [ $who = bastion ]; then
		sed "s|^session corp bastion.*|session corp root@$TB_GW4:2202 UserKnownHostsFile=$T/known_hosts|" \
		    "$TB_RULES" >"$R"
	else
		sed "s|^session corp bastion.*|session corp bastion RekeyLimit=4M|" \
		    "$TB_RULES" >"$R"
	fi
	tw_new_runtime
	k0=$(kexinits)
	transfers "$R"
	k=$(($(kexinits) - k0))
	check "rekeyed by the $who: the 64 MiB download arrived intact" \
	    grep -qx "$TB_BIG_SHA256  $T/big" "$T/xfer.out"
	check "rekeyed by the $who: 32 MiB echoed back intact meanwhile" \
	    grep -q '^echo intact$' "$T/xfer.out"
	check "rekeyed by the $who: $((k - 1)) key exchanges after the first" \
	    [ "$k" -gt 5 ]
	tw -f "$R" -O stop
done
