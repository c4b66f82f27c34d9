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
# t-dns: DNS a program asks for itself never leaks a tunneled or denied
# name: the res_* API (res_query, res_search, res_nquery, res_send),
# getaddrinfo_a, gethostbyname2(_r), a query written on a connected UDP
# socket, dig and host.  The client's resolver is the leak trap, which logs
# every question: with the standard rules none about corp.test arrives;
# with the same rules turned direct, it does (the negative control).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "DNS entry points" || exit 0
tb_plan 36

PROBE=$TB_TOP/tests/progs/dnsprobe.py
PROBES=(res_query wiki.corp.test A res_search _ldap._tcp.corp.test SRV
    res_nquery db.corp.test AAAA res_send wiki.corp.test TXT
    gai_a echo.corp.test ghbn2 wiki.corp.test ghbn2_r db.corp.test
    udp wiki.corp.test A res_query blocked.corp.test A)

entry_points() {
	tw -f "$1" python3 "$PROBE" "${PROBES[@]}"
	cp "$OUT" "$T/entry.$(basename "$1")"
}
check_never_direct "resolver entry points (res_*, getaddrinfo_a, gethostbyname2, write on UDP:53)" \
    entry_points "$TB_RULES"
f=$T/entry.$(basename "$TB_RULES")
check "res_query, res_nquery, a query written on UDP:53: synthetic addresses from the responder" \
    sh -c "grep -Eqx 'res_query wiki.corp.test A A 203\.0\.113\.[0-9]+' '$f' &&
        grep -Eqx 'res_nquery db.corp.test AAAA AAAA 2001:db8:ff::[0-9a-f]+' '$f' &&
        grep -Eqx 'udp wiki.corp.test A A 203\.0\.113\.[0-9]+' '$f'"
check "res_search SRV, res_send TXT: the intranet's records, through the bastion" \
    sh -c "grep -qx 'res_search _ldap._tcp.corp.test SRV SRV 0 100 389 ldap.corp.test' '$f' &&
        grep -qx 'res_send wiki.corp.test TXT TXT 14 bytes' '$f'"
check "res_query of a denied name fails" \
    grep -qx 'res_query blocked.corp.test A fail' "$f"
check "getaddrinfo_a and gethostbyname2(_r) give synthetic addresses" \
    sh -c "[ \$(grep -Ec '^(gai_a|ghbn2|ghbn2_r) .* (A 203\.0\.113\.|AAAA 2001:db8:ff:)' '$f') -eq 3 ]"

# -- dig, host, nslookup: raw DNS clients (dig and host send with libuv's
# raw sendmmsg; their socket is connected to the system's nameserver, and
# the shim connects it to the responder instead).
dig_host() {
	tw -f "$1" dig +time=2 +tries=1 wiki.corp.test
	cp "$OUT" "$T/dig.$(basename "$1")"
	tw -f "$1" host -W 2 -t SRV _ldap._tcp.corp.test
	cp "$OUT" "$T/host.$(basename "$1")"
}
check_never_direct "dig and host" dig_host "$TB_RULES"
f=$T/dig.$(basename "$TB_RULES")
check "tunnelwrap dig wiki.corp.test: a synthetic address" \
    grep -Eq '^wiki\.corp\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+203\.0\.113\.[0-9]+$' "$f"
check "tunnelwrap host -t SRV _ldap._tcp.corp.test: the intranet's SRV record" \
    grep -qx '_ldap._tcp.corp.test has SRV record 0 100 389 ldap.corp.test.' \
    "$T/host.$(basename "$TB_RULES")"
mark=$(tb_trap_mark)
tw -f "$TB_RULES" sh -c 'a=$(dig +short wiki.corp.test) && echo "addr $a" &&
    curl -sS --max-time 10 "http://$a/"'
check "a connect to dig's answer reaches the intranet" \
    sh -c "grep -Eq '^addr 203\.0\.113\.' '$OUT' && grep -q 'intranet wiki OK' '$OUT'"
tw -f "$TB_RULES" dig +tcp +short +time=2 +tries=1 db.corp.test AAAA
check "dig +tcp: a synthetic address" grep -Eqx '2001:db8:ff::[0-9a-f]+' "$OUT"
tw -f "$TB_RULES" nslookup -timeout=2 echo.corp.test
check "nslookup: a synthetic address" grep -Eq '^Address: 203\.0\.113\.[0-9]+$' "$OUT"
tw -f "$TB_RULES" host -W 2 blocked.corp.test
check "host of a denied name: REFUSED" grep -q 'REFUSED' "$OUT"
tw -f "$TB_RULES" dig +short +time=2 +tries=1 leak-check4.example
check "dig of another name: the system's resolver answers (through the responder)" \
    sh -c "tail -n +$((mark + 1)) '$TB_TRAP_LOG' | grep -q 'dns-other leak-check4.example'"
check_no_leak "dig, host, nslookup: no tunneled name reached the local resolver" "$mark"

# -- The helper's DNS responder, asked directly (dig @127.0.0.1 -p PORT) ----
# $PORT: the responder for rules file $1, as -O status prints it.
responder() {
	tw -f "$1" true
	tw -f "$1" -O status
	cp "$OUT" "$T/status.$(basename "$1")"
	PORT=$(sed -En "s|^  127\.0\.0\.1:([0-9]+) \(UDP, TCP\)  rules $1 .*|\1|p" "$OUT")
}
DIG=(dig +time=2 +tries=1 @127.0.0.1)
ask() {
	responder "$1"
	[ -n "$PORT" ] || return 0
	cli "${DIG[@]}" -p "$PORT" wiki.corp.test A
	cp "$OUT" "$T/ask.a.$(basename "$1")"
	cli "${DIG[@]}" -p "$PORT" +tcp _ldap._tcp.corp.test SRV
	cp "$OUT" "$T/ask.srv.$(basename "$1")"
}
check_never_direct "DNS responder: tunneled names answered without the local resolver" \
    ask "$TB_RULES"
check "-O status prints the responder's address" \
    grep -Eq '^  127\.0\.0\.1:[0-9]+ \(UDP, TCP\)' "$T/status.$(basename "$TB_RULES")"
responder "$TB_RULES"
mark=$(tb_trap_mark)
ilog=$(wc -l <"$TB_INTDNS_LOG")
cli "${DIG[@]}" -p "$PORT" +short wiki.corp.test A
check "A of a tunneled name: a synthetic address" grep -Eqx '203\.0\.113\.[0-9]+' "$OUT"
syn=$(head -n 1 "$OUT")
cli "${DIG[@]}" -p "$PORT" +short +tcp wiki.corp.test AAAA
check "AAAA over TCP: a synthetic address" grep -Eqx '2001:db8:ff:[0-9a-f:]+' "$OUT"
cli "${DIG[@]}" -p "$PORT" +short -x "$syn"
check "PTR of the synthetic address: the name" grep -qx 'wiki.corp.test.' "$OUT"
cli "${DIG[@]}" -p "$PORT" blocked.corp.test A
check "a denied name: REFUSED" grep -q 'status: REFUSED' "$OUT"
cli "${DIG[@]}" -p "$PORT" +short _ldap._tcp.corp.test SRV
check "SRV of a tunneled name: from the intranet's resolver, through the bastion" \
    grep -qx '0 100 389 ldap.corp.test.' "$OUT"
cli "${DIG[@]}" -p "$PORT" +short wiki.corp.test TXT
check "TXT of a tunneled name: through the bastion" grep -qx '"intranet wiki"' "$OUT"
check "the intranet's resolver was asked (SRV, TXT)" \
    sh -c "tail -n +$((ilog + 1)) '$TB_INTDNS_LOG' | grep -q '^_ldap._tcp.corp.test SRV' &&
        tail -n +$((ilog + 1)) '$TB_INTDNS_LOG' | grep -q '^wiki.corp.test TXT'"
tw -f "$TB_RULES" -O status
check "the intranet's resolver came from the bastion's /etc/resolv.conf" \
    grep -q "rules $TB_RULES  intranet resolver 198\.51\.100\.20 " "$OUT"
cli "${DIG[@]}" -p "$PORT" leak-check3.example A
check "another name: forwarded to the system's resolver, its answer passed on" \
    sh -c "grep -q 'status: NXDOMAIN' '$OUT' &&
        tail -n +$((mark + 1)) '$TB_TRAP_LOG' | grep -q 'dns-other leak-check3.example'"
cli "${DIG[@]}" -p "$PORT" +tcp leak-check5.example A
check "another name over TCP: forwarded by TCP, its answer passed on" \
    sh -c "grep -q 'status: NXDOMAIN' '$OUT' &&
        tail -n +$((mark + 1)) '$TB_TRAP_LOG' | grep -q 'dns-other leak-check5.example'"
check_no_leak "DNS responder: no tunneled name reached the local resolver" "$mark"

# `resolver ADDRESS` names the intranet's resolver (here by IPv6).
{ echo 'resolver [2001:db8:2::20]'; cat "$TB_RULES"; } >"$T/resolver.rules"
responder "$T/resolver.rules"
ilog=$(wc -l <"$TB_INTDNS_LOG")
cli "${DIG[@]}" -p "$PORT" +short lists.corp.test MX
check "resolver rule: MX through the bastion from the resolver named" \
    sh -c "grep -qx '10 mail.corp.test.' '$OUT' &&
        tail -n +$((ilog + 1)) '$TB_INTDNS_LOG' | grep -q '^lists.corp.test MX'"
tw -f "$T/resolver.rules" -O status
check "resolver rule: -O status names it" \
    grep -q "rules $T/resolver.rules  intranet resolver \[2001:db8:2::20\] " "$OUT"

# Another local user reaches the loopback port too: what the session knows
# (tunneled names, their records) is not for it.
responder "$TB_RULES"
AS_OTHER=(setpriv --reuid=4242 --regid=4242 --clear-groups)
cli "${AS_OTHER[@]}" "${DIG[@]}" -p "$PORT" wiki.corp.test A
check "another user's question about a tunneled name: REFUSED" \
    sh -c "grep -q 'status: REFUSED' '$OUT' && ! grep -Eq '203\.0\.113\.' '$OUT'"
cli "${AS_OTHER[@]}" "${DIG[@]}" -p "$PORT" +tcp _ldap._tcp.corp.test SRV
check "another user's SRV question over TCP: REFUSED" \
    sh -c "grep -q 'status: REFUSED' '$OUT' && ! grep -q 'ldap.corp.test' '$OUT'"
cli "${DIG[@]}" -p "$PORT" +short wiki.corp.test A
check "the same question from our uid is answered (the control)" \
    grep -Eqx '203\.0\.113\.[0-9]+' "$OUT"

tw -f "$TB_RULES" -O status --json
check "-O status --json: the responder, with its counts" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["dns"]
assert any(r["port"] == int(sys.argv[2]) and r["questions"] > 0 and
           r["synthetic"] > 0 and r["bastion"] > 0 and r["refused"] > 0
           for r in d), d' "$OUT" "$PORT"
