#!/usr/bin/env bash
# t-sshtrust: ssh configuration that changes who is trusted or how the
# bastion is reached is honoured as ssh honours it, or refused with the
# reason - never trusted more than ssh would (issue 13, item 7).
#   ProxyJump whose last hop is host:port.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "ssh trust configuration" || exit 0
tb_plan 2

key=$TB_HOME/.ssh/id_ed25519
hostkey=$(cut -d' ' -f2- "$TB_HOME/.ssh/known_hosts" | head -n 1)
get=(curl -sS --max-time 10 http://wiki.corp.test/)
# An -F configuration of the test's own: known_hosts and options in $T.
# config KNOWN_HOSTS [EXTRA LINES...]
config() {
	local kh=$1
	shift
	{
		echo "Host *"
		echo "    User root"
		echo "    IdentityFile $key"
		echo "    UserKnownHostsFile $kh"
		echo "    GlobalKnownHostsFile /dev/null"
		echo "    StrictHostKeyChecking yes"
		echo "    BatchMode yes"
		echo "    ConnectTimeout 5"
		for l in "$@"; do echo "    $l"; done
	} >"$T/cfg"
}
conns_on() { tr -d '\r' <"$TB_SSHD_LOG" | grep -c "Connection from .* on $TB_GW4 port $1 " || true; }

# ProxyJump root@192.0.2.1:2201: the jump's port must reach ssh as -p,
# not as part of a host name "192.0.2.1:2201".  The jump is ssh itself,
# reading the same -F file (as ssh passes it on).
printf '%s %s\n[%s]:2201 %s\n' "$TB_GW4" "$hostkey" "$TB_GW4" "$hostkey" >"$T/kh"
config "$T/kh"
tw_new_runtime
j0=$(conns_on 2201)
tw -F "$T/cfg" -H "root@$TB_GW4" -o ProxyJump="root@$TB_GW4:2201" "${get[@]}"
check "ProxyJump user@host:port: tunneled through the jump" \
    grep -q 'intranet wiki OK' "$OUT"
check "ProxyJump user@host:port: the jump connected to port 2201 ($(($(conns_on 2201) - j0)))" \
    [ $(($(conns_on 2201) - j0)) = 1 ]
