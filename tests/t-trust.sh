#!/usr/bin/env bash
# t-trust: what the helper lets through, and to whom (issue 13).
#   1. The proxy the helper starts for static programs, and -D on loopback,
#      serve the helper's own uid only: another local user (twother) is
#      refused, though it reaches a plain local listener; -D bound to a
#      non-loopback address is shared on purpose, as with ssh.
#   2. The hand-over completes only into the program's own parked socket:
#      one that gave up (TCP_SYNCNT, shutdown) while the channel opened
#      hands its freed port to nobody; one the program closed gets no
#      channel; a program racing O_NONBLOCK never freezes the helper.
#   3. A socket bound to a device (SO_BINDTODEVICE) is refused at once,
#      and a storm of connects opens every channel.
#   4. A program in another network namespace is refused.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "trust checks" || exit 0

R=$TB_RULES
# The helper's log (S.*.log by its socket).
helper_log() { cat $(find "$TW_RUNTIME" -name 'S.*.log') 2>/dev/null; }
cli runuser -u twother -- id -u
OTHER_UID=$(cat "$OUT")

# --- 1. the proxy serves its own user only ---------------------------------
tw -f "$R" busybox env
P=$(sed -n 's|^ALL_PROXY=socks5h://127.0.0.1:\([0-9]*\)$|\1|p' "$OUT")
check "a static program gets the helper's proxy (port ${P:-none})" [ -n "$P" ]
cli curl -sS --max-time 10 -x "socks5h://127.0.0.1:$P" http://wiki.corp.test/
check "automatic proxy: the helper's own uid gets through (SOCKS5)" \
    grep -q 'intranet wiki OK' "$OUT"
cli runuser -u twother -- curl -sS --max-time 10 -x "socks5h://127.0.0.1:$P" http://wiki.corp.test/
check "automatic proxy: another user is refused (SOCKS5, curl rc $RC)" \
    sh -c "[ $RC != 0 ] && ! grep -q 'intranet wiki OK' '$OUT'"
cli runuser -u twother -- curl -sS --max-time 10 -x "http://127.0.0.1:$P" http://wiki.corp.test/
check "automatic proxy: another user is refused (HTTP, curl rc $RC)" \
    sh -c "[ $RC != 0 ] && ! grep -q 'intranet wiki OK' '$OUT'"
helper_log >"$T/log"
check "automatic proxy: the refusal is logged with the uid ($OTHER_UID)" \
    grep -q "refused a connection from uid $OTHER_UID:" "$T/log"
# The control: twother can connect to a plain local listener, so what
# refused it was the proxy's check, not the bed.
echo "plain local page" >"$T/plain.txt"
tb_spawn "$TB_NS_CLI" "$T/plain.out" python3 -m http.server 18095 --bind 127.0.0.1 --directory "$T"
tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 18095
cli runuser -u twother -- curl -sS --max-time 10 http://127.0.0.1:18095/plain.txt
check "control: twother reaches a plain listener on 127.0.0.1" \
    grep -q 'plain local page' "$OUT"

tw -f "$R" -D 127.0.0.1:18181
cli curl -sS --max-time 10 --socks5-hostname 127.0.0.1:18181 http://wiki.corp.test/
check "-D on loopback: the helper's own uid gets through" \
    grep -q 'intranet wiki OK' "$OUT"
cli runuser -u twother -- curl -sS --max-time 10 --socks5-hostname 127.0.0.1:18181 http://wiki.corp.test/
check "-D on loopback: another user is refused (curl rc $RC)" \
    sh -c "[ $RC != 0 ] && ! grep -q 'intranet wiki OK' '$OUT'"
tw -f "$R" -D "$TB_CLI4:18182"
cli runuser -u twother -- curl -sS --max-time 10 --socks5-hostname "$TB_CLI4:18182" http://wiki.corp.test/
check "-D on a non-loopback address is shared on purpose (as ssh)" \
    grep -q 'intranet wiki OK' "$OUT"
