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
# t-curl: an unmodified curl through tunnelwrap: by name (remote DNS), by
# IPv4 and IPv6 address, with -4/-6, a 64 MiB download, a refusing port,
# a denied name and address, and a direct destination that must not be
# tunneled.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "curl through the tunnel" || exit 0
tb_plan 18

CURL=(curl -sS --max-time 20 -w '\nremote_ip=%{remote_ip}\n')
V4POOL='203\.0\.113\.[0-9]+'
V6POOL='2001:db8:ff:[0-9a-f:]*'

n0=$(tb_ssh_target_count wiki.corp.test 80)
tw -f "$TB_RULES" "${CURL[@]}" http://wiki.corp.test/
check "by name" grep -q 'intranet wiki OK' "$OUT"
check "by name: curl connected to a synthetic address" \
    grep -Eqx "remote_ip=($V4POOL|$V6POOL)" "$OUT"
check "by name: the bastion resolved the name" \
    [ "$(tb_ssh_target_count wiki.corp.test 80)" -gt "$n0" ]

tw -f "$TB_RULES" "${CURL[@]}" -4 http://wiki.corp.test/
check "-4 by name" sh -c "grep -q 'intranet wiki OK' '$OUT' &&
    grep -Eqx 'remote_ip=$V4POOL' '$OUT'"

tw -f "$TB_RULES" "${CURL[@]}" -6 http://wiki.corp.test/
check "-6 by name" sh -c "grep -q 'intranet wiki OK' '$OUT' &&
    grep -Eqx 'remote_ip=$V6POOL' '$OUT'"

n0=$(tb_ssh_target_count "$TB_INT4" 80)
tw -f "$TB_RULES" "${CURL[@]}" "http://$TB_INT4/"
check "by IPv4 address" grep -q 'intranet wiki OK' "$OUT"
check "by IPv4 address: went through sshd" \
    [ "$(tb_ssh_target_count "$TB_INT4" 80)" -gt "$n0" ]

n0=$(tb_ssh_target_count "$TB_INT6" 80)
tw -f "$TB_RULES" "${CURL[@]}" -g "http://[$TB_INT6]/"
check "by IPv6 address" grep -q 'intranet wiki OK' "$OUT"
check "by IPv6 address: went through sshd" \
    [ "$(tb_ssh_target_count "$TB_INT6" 80)" -gt "$n0" ]

TB_TIMEOUT=120 tw -f "$TB_RULES" sh -c \
    'curl -sS --max-time 100 http://wiki.corp.test/big.bin | sha256sum'
check "64 MiB download, sha256 matches" grep -q "^$TB_BIG_SHA256 " "$OUT"

tw -f "$TB_RULES" curl -sS -v --max-time 20 http://wiki.corp.test:81/
check "refusing port: curl exit 7, Connection refused" \
    sh -c "[ '$RC' = 7 ] && grep -q 'Connection refused' '$ERR'"

b0=$(tb_ssh_target_count blocked.corp.test)
tw -f "$TB_RULES" curl -sS -v --max-time 20 http://blocked.corp.test/
check "denied name: curl exit 7, Permission denied" \
    sh -c "[ '$RC' = 7 ] && grep -q 'Permission denied' '$ERR'"
check "denied name: nothing reached sshd" \
    [ "$(tb_ssh_target_count blocked.corp.test)" = "$b0" ]

tw -f "$TB_RULES" curl -sS -v --max-time 20 "http://$TB_DENY_ADDR/"
check "denied address: curl exit 7, Permission denied" \
    sh -c "[ '$RC' = 7 ] && grep -q 'Permission denied' '$ERR'"

# A direct destination: a web server on the gateway's client-side address,
# which `direct *` lets the client reach without SSH.
mkdir -p "$T/gwwww"
echo 'gateway direct OK' >"$T/gwwww/index.html"
tb_spawn "$TB_NS_GW" "$T/gwhttp.log" python3 -u -m http.server \
    --bind "$TB_GW4" --directory "$T/gwwww" 8080
if tb_wait 10 tb_listening "$TB_NS_GW" "$TB_GW4" 8080; then
	d0=$(tb_ssh_target_count bastion.test 8080)
	a0=$(tb_ssh_target_count "$TB_GW4" 8080)
	tw -f "$TB_RULES" "${CURL[@]}" http://bastion.test:8080/
	check "direct destination works" grep -q 'gateway direct OK' "$OUT"
	check "direct destination: real address, not synthetic" \
	    grep -qx "remote_ip=$TB_GW4" "$OUT"
	d1=$(tb_ssh_target_count bastion.test 8080)
	a1=$(tb_ssh_target_count "$TB_GW4" 8080)
	check "direct destination: not through sshd" \
	    [ "$d1.$a1" = "$d0.$a0" ]
	check "direct destination: server saw the client's own address" \
	    grep -q "^$TB_CLI4 " "$T/gwhttp.log"
else
	fail "direct destination: http server in gw" "$(tail -n 3 "$T/gwhttp.log")"
fi
