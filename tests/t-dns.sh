#!/usr/bin/env bash
# t-dns: DNS a program asks for itself never leaks a tunneled or denied
# name: the res_* API (res_query, res_search, res_nquery, res_send),
# getaddrinfo_a, gethostbyname2(_r), a query written on a connected UDP
# socket, dig and host.  The client's resolver is the leak trap, which logs
# every question: with the standard rules none about corp.test arrives;
# with the same rules turned direct, it does (the negative control).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "DNS entry points" || exit 0
tb_plan 4

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
check "res_*, and a query written on UDP:53, refused for remote names" \
    sh -c "[ \$(grep -Ec '^(res_|udp).* fail' '$f') -eq 6 ]"
check "getaddrinfo_a and gethostbyname2(_r) give synthetic addresses" \
    sh -c "[ \$(grep -Ec '^(gai_a|ghbn2|ghbn2_r) .* (A 203\.0\.113\.|AAAA 2001:db8:ff:)' '$f') -eq 3 ]"
