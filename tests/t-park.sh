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
# t-park: the parking listener (helper/daemon/park.c).  Its accept queue must be
# full, so a parked program's SYN is dropped and waits in SYN_SENT: the
# kernel's arithmetic for that differs by version, so the helper connects
# fillers until one no longer completes.  Checked: the default parking
# (backlog 0, one filler), the fallback used on kernels that refuse every
# SYN at backlog 0 (forced here by the test hook TUNNELWRAP_PARK_BACKLOG=1:
# backlog 1 needs two fillers on this kernel) with curl and conncheck, that
# filling never waits long, and the one dropped SYN per tunneled connect
# README documents (TcpExtListenOverflows / TcpExtListenDrops).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "parking listener" || exit 0
tb_plan 19

CURL=(curl -sS --max-time 20 http://wiki.corp.test/)
# counter NAME: the cli namespace's absolute TcpExt counter.
counter() {
	cli nstat -az "$1" >/dev/null
	awk -v n="$1" '$1 == n { print $2 }' "$OUT"
}
# ready_ms FAMILY-ADDRESS: "ready in N ms" of the helper's parking line.
ready_ms() {
	sed -n "s/.*parking on $1: .*, ready in \([0-9]*\) ms.*/\1/p" "$T/log" |
	    head -n 1
}

# --- the kernel: why one filler is not always enough -------------------------
# A listen(fd, 1) socket with one connection queued still completes a
# second: a parking that trusted "backlog 1 holds one" would let the
# program's connect complete against our listener.  This is what the
# fallback's fill-until-full guards against (and the negative case of the
# forced-backlog checks below).
cli python3 -c '
import socket, select
def second_completes(backlog):
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(backlog)
    a = l.getsockname()
    f = socket.create_connection(a, timeout=1)
    s = socket.socket(); s.setblocking(False); s.connect_ex(a)
    w = select.select([], [s], [], 0.3)[1]
    return bool(w) and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
print("b0", second_completes(0), "b1", second_completes(1))'
check "kernel: backlog 1 with one connection queued still takes a second" \
    grep -qx 'b0 False b1 True' "$OUT"

# --- the default parking -------------------------------------------------------
# The helper logs its start (-v) to the first launcher's stderr.
tw_new_runtime
tw -v -f "$TB_RULES" "${CURL[@]}"
check "default: curl through the tunnel" grep -q 'intranet wiki OK' "$OUT"
cat "$ERR" >"$T/log"
check "default: parks with backlog 0 and one filler" \
    grep -q 'parking on 127\.0\.0\.1: backlog 0, 1 filler,' "$T/log"
check "default: no kernel warning on this kernel" \
    sh -c "! grep -q 'refuses every SYN' '$T/log'"
ms=$(ready_ms '127\.0\.0\.1')
check "default: the parking listener was ready in ${ms:-?} ms (< 1000)" \
    sh -c "[ -n '$ms' ] && [ '$ms' -lt 1000 ]"

# One dropped SYN per tunneled connect, by design (README, Limits).
N=5
o0=$(counter TcpExtListenOverflows)
d0=$(counter TcpExtListenDrops)
good=0
for _ in $(seq $N); do
	tw -f "$TB_RULES" "${CURL[@]}"
	grep -q 'intranet wiki OK' "$OUT" && good=$((good + 1))
done
o1=$(counter TcpExtListenOverflows)
d1=$(counter TcpExtListenDrops)
check "$N tunneled curls" [ "$good" = $N ]
novf=$((o1 - o0)) ndrop=$((d1 - d0))
check "each tunneled connect drops one SYN at the parking listener ($N connects: ListenOverflows +$novf, ListenDrops +$ndrop)" \
    sh -c "[ $novf = $N ] && [ $ndrop = $N ]"

# --- the fallback (kernels that refuse SYNs at backlog 0) ---------------------
tw_new_runtime
saved_passenv=${TB_PASSENV:-}
TB_PASSENV="$saved_passenv TUNNELWRAP_PARK_BACKLOG=1"
tw -v -f "$TB_RULES" "${CURL[@]}"
check "backlog 1: curl through the tunnel" grep -q 'intranet wiki OK' "$OUT"
cat "$ERR" >"$T/log"
check "backlog 1: filled with two fillers (IPv4)" \
    grep -q 'parking on 127\.0\.0\.1: backlog 1, 2 fillers,' "$T/log"
check "backlog 1: filled with two fillers (IPv6)" \
    grep -q 'parking on ::1: backlog 1, 2 fillers,' "$T/log"
ms=$(ready_ms '127\.0\.0\.1')
check "backlog 1: the parking listener was ready in ${ms:-?} ms (< 1000)" \
    sh -c "[ -n '$ms' ] && [ '$ms' -lt 1000 ]"
tw -f "$TB_RULES" curl -sS --max-time 20 -6 http://wiki.corp.test/
check "backlog 1: curl -6 (parks on ::1)" grep -q 'intranet wiki OK' "$OUT"
start=$(date +%s%N)
tw -f "$TB_RULES" curl -sS --max-time 20 "http://$TB_INT4/"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "backlog 1: curl by address in $ms ms (< 1000: the SYN was not retried)" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ $ms -lt 1000 ]"

if cc=$(tb_cc conncheck 2>"$T/cc.err"); then
	ok "compile conncheck.c"
else
	fail "compile conncheck.c" "$(tail -n 5 "$T/cc.err")"
fi
tw -f "$TB_RULES" "$cc" -t 30 echo.corp.test 7 \
    block poll select epoll epollet peername many
check "backlog 1: conncheck block/poll/select/epoll/peername/many" \
    sh -c "[ $RC = 0 ] && grep -q '^ok ' '$OUT' && ! grep -q '^fail ' '$OUT'"
tw -f "$TB_RULES" "$cc" -t 30 -6 v6only.corp.test 7 block poll peername
check "backlog 1: conncheck over IPv6" \
    sh -c "[ $RC = 0 ] && grep -q '^ok ' '$OUT' && ! grep -q '^fail ' '$OUT'"
tw -f "$TB_RULES" "$cc" -t 30 wiki.corp.test 81 refused refused-nb
check "backlog 1: conncheck refused connects" \
    sh -c "[ $RC = 0 ] && grep -q '^ok ' '$OUT' && ! grep -q '^fail ' '$OUT'"
TB_PASSENV=$saved_passenv

# --- a kernel that refuses every filler (emulated) -----------------------------
# nft drops every SYN on cli's loopback while a fresh helper starts: the
# backlog-0 fillers go unanswered as on a kernel before 3479c7549fb1 with
# tcp_syncookies=0, and so do backlog 1's.  The helper must say so and give
# up at once, not wait out a connect's two minutes of SYN retries.
tw_new_runtime
cat >"$T/park.nft" <<'NFT'
table inet twpark {
	chain in {
		type filter hook input priority -300;
		iif "lo" tcp flags & (syn | ack) == syn drop
	}
}
NFT
cli nft -f "$T/park.nft"
nftrc=$RC
start=$(date +%s%N)
tw -v -f "$TB_RULES" "${CURL[@]}"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cp "$ERR" "$T/log"
rc=$RC
cli nft delete table inet twpark
check "refused fillers: the helper names the kernel's refusal (nft rc $nftrc)" \
    grep -q 'this kernel refuses every SYN to a listen(fd, 0) socket' "$T/log"
check "refused fillers: the helper gives up in $ms ms (< 3000), saying why" \
    sh -c "[ $rc != 0 ] && grep -q 'parking listener on 127.0.0.1' '$T/log' &&
    [ $ms -lt 3000 ]"
