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
# t-sshtrust: ssh configuration that changes who is trusted or how the
# bastion is reached is honoured as ssh honours it, or refused with the
# reason - never trusted more than ssh would (issue 13, item 7).
#   ProxyJump whose last hop is host:port;
#   @cert-authority (libssh 0.10 cannot verify host certificates): refused,
#   never trusted on first use; @revoked keys refused; HostKeyAlias: keys
#   looked up under the alias; KnownHostsCommand, which we cannot run:
#   refused; IdentitiesOnly (only the IdentityFile keys of the agent are
#   offered: a server with MaxAuthTries would end the connection before the
#   right key), IdentityAgent (a path; none), CertificateFile; and only
#   the IdentityFile list's files (a guard: libssh's defaults stay out).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "ssh trust configuration" || exit 0
tb_plan 17

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
		# First obtained wins: the extra lines before the defaults.
		for l in "$@"; do echo "    $l"; done
		echo "    User root"
		[ -n "${NOKEY:-}" ] || echo "    IdentityFile $key"
		echo "    UserKnownHostsFile $kh"
		echo "    GlobalKnownHostsFile /dev/null"
		echo "    StrictHostKeyChecking yes"
		echo "    BatchMode yes"
		echo "    ConnectTimeout 5"
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
tw -F "$T/cfg" -H "root@$TB_GW4" -o ProxyJump="root@$TB_GW4:2201" -O stop

# run_cfg NAME: a fresh helper, -F cfg, curl; sets RC, OUT, ERR.
# stop_cfg DEST: stop the helper, keeping RC, OUT and ERR.
stop_cfg() {
	local rc=$RC out=$OUT err=$ERR
	tw -F "$T/cfg" -H "$1" -O stop
	RC=$rc OUT=$out ERR=$err
}
run_cfg() {
	tw_new_runtime
	tw -F "$T/cfg" -H "root@$TB_GW4" "${get[@]}"
	stop_cfg "root@$TB_GW4"
}
refused() { # NAME REGEX: refused with REGEX, nothing authenticated
	if [ "$RC" = 255 ] && grep -Eq -- "$2" "$ERR" &&
	    ! grep -q 'intranet wiki OK' "$OUT" &&
	    [ "$(tb_ssh_accepted_count)" = "$a0" ]; then
		ok "$1"
	else
		fail "$1" "$(tb_last)"
	fi
}

# @cert-authority for the bastion's addresses: ssh would verify the host's
# certificate (or refuse); libssh 0.10 cannot, and must not fall back to
# trusting the key on first use, even with accept-new.
ssh-keygen -q -t ed25519 -N '' -C test-ca -f "$T/ca"
printf '@cert-authority 192.0.2.* %s\n' "$(cut -d' ' -f1,2 "$T/ca.pub")" >"$T/kh"
cp "$T/kh" "$T/kh.orig"
config "$T/kh" "StrictHostKeyChecking accept-new"
a0=$(tb_ssh_accepted_count)
run_cfg
refused "@cert-authority 192.0.2.*, accept-new: refused, saying why" \
    'certificate authority for 192\.0\.2\.1 \(@cert-authority\).*cannot verify host certificates'
check "@cert-authority: known_hosts left as it was" cmp -s "$T/kh" "$T/kh.orig"
# The control: without the @cert-authority line, accept-new does accept.
: >"$T/kh"
run_cfg
check "control: no @cert-authority line, accept-new trusts the new key" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && grep -q '^$TB_GW4 ' '$T/kh'"

# @revoked: the bastion's own key, listed as known and as revoked.
printf '%s %s\n@revoked * %s\n' "$TB_GW4" "$hostkey" "$hostkey" >"$T/kh"
config "$T/kh"
a0=$(tb_ssh_accepted_count)
run_cfg
refused "@revoked host key: refused" "is marked @revoked in $T/kh:2"

# HostKeyAlias: ssh files and finds the key under the alias.
printf 'gw-alias %s\n' "$hostkey" >"$T/kh"
config "$T/kh" "HostKeyAlias gw-alias"
run_cfg
check "HostKeyAlias: the key known under the alias is accepted" \
    grep -q 'intranet wiki OK' "$OUT"
# ... and only there: another key under the alias is a changed key, even
# when the address itself is known with the right one.
printf 'gw-alias %s\n%s %s\n' "$(cut -d' ' -f1,2 "$T/ca.pub")" "$TB_GW4" "$hostkey" >"$T/kh"
a0=$(tb_ssh_accepted_count)
run_cfg
refused "HostKeyAlias: another key under the alias is refused as CHANGED" \
    "host key for gw-alias has CHANGED.*$T/kh:1"
# accept-new writes the key under the alias, as ssh does.
: >"$T/kh"
config "$T/kh" "HostKeyAlias gw-alias" "StrictHostKeyChecking accept-new"
run_cfg
check "HostKeyAlias, accept-new: connected, the key added under the alias" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && grep -q '^gw-alias ssh-' '$T/kh' &&
    ! grep -q '^$TB_GW4 ' '$T/kh'"

# KnownHostsCommand: ssh would consult it; we cannot, so we refuse.
printf '%s %s\n' "$TB_GW4" "$hostkey" >"$T/kh"
config "$T/kh" "KnownHostsCommand /bin/echo"
a0=$(tb_ssh_accepted_count)
run_cfg
refused "KnownHostsCommand set: refused with the reason" \
    'KnownHostsCommand is set .*cannot run'
config "$T/kh"
run_cfg
check "control: the same configuration without it connects" \
    grep -q 'intranet wiki OK' "$OUT"

# -- Which keys are offered: a sshd of its own (port 2203) that allows two
# attempts, knows only k3's key and trusts a user CA.
grep -v '^ListenAddress\|^PidFile\|^Match\|^	\|^AuthorizedKeysFile' "$TB_SSHD_CONFIG" >"$T/sshd_config"
for k in w1 w2 w3 k3 k4 userca; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$T/$k"; done
cp "$T/k3.pub" "$T/authorized_keys"
ssh-keygen -q -s "$T/userca" -I k4 -n root -f "$T/userca" "$T/k4.pub" 2>/dev/null ||
    ssh-keygen -q -s "$T/userca" -I k4 -n root "$T/k4.pub"
mkdir "$T/certs" && mv "$T/k4-cert.pub" "$T/certs/k4.cert"
printf 'ListenAddress %s:2203\nPidFile %s\nMaxAuthTries 2\nAuthorizedKeysFile %s\nTrustedUserCAKeys %s\n' \
    "$TB_GW4" "$T/sshd2.pid" "$T/authorized_keys" "$T/userca.pub" >>"$T/sshd_config"
tb_spawn "$TB_NS_GW" /dev/null /usr/sbin/sshd -D -f "$T/sshd_config" -E "$T/sshd2.log"
tb_wait 10 tb_listening "$TB_NS_GW" "$TB_GW4" 2203 ||
    { fail "a second sshd started" "$(tail -n 5 "$T/sshd2.log")"; exit 0; }
printf '[%s]:2203 %s\n' "$TB_GW4" "$hostkey" >"$T/kh2203"
# Two agents: one holding three wrong keys before k3, one holding k3 only.
tb_spawn "$TB_NS_CLI" /dev/null ssh-agent -D -a "$T/agent.sock"
tb_spawn "$TB_NS_CLI" /dev/null ssh-agent -D -a "$T/agent2.sock"
tb_wait 10 test -S "$T/agent.sock" && tb_wait 10 test -S "$T/agent2.sock"
for k in w1 w2 w3 k3; do TB_PASSENV="SSH_AUTH_SOCK=$T/agent.sock" cli ssh-add -q "$T/$k"; done
TB_PASSENV="SSH_AUTH_SOCK=$T/agent2.sock" cli ssh-add -q "$T/k3"
accepted2() { tr -d '\r' <"$T/sshd2.log" | grep -c 'Accepted publickey' || true; }
run2() { # run curl through root@192.0.2.1:2203 with -F cfg
	tw_new_runtime
	tw -F "$T/cfg" -H "root@$TB_GW4:2203" "${get[@]}"
	stop_cfg "root@$TB_GW4:2203"
}

config "$T/kh2203" "IdentitiesOnly yes" "IdentityFile $T/k3"
TB_PASSENV="SSH_AUTH_SOCK=$T/agent.sock" run2
check "IdentitiesOnly yes: only the IdentityFile's key of the agent is offered; in" \
    grep -q 'intranet wiki OK' "$OUT"
config "$T/kh2203" "IdentitiesOnly no" "IdentityFile $T/k3"
TB_PASSENV="SSH_AUTH_SOCK=$T/agent.sock" run2
check "control: IdentitiesOnly no offers the three wrong keys first: too many failures" \
    sh -c "[ $RC = 255 ] && tr -d '\r' <'$T/sshd2.log' | grep -q 'maximum authentication attempts exceeded'"

# IdentityAgent: that agent, not $SSH_AUTH_SOCK's (here unset).
a2=$(accepted2)
config "$T/kh2203" "IdentityAgent $T/agent2.sock" "IdentityFile $T/nonexistent"
run2
check "IdentityAgent PATH: that agent's key is used" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ $(accepted2) = $((a2 + 1)) ]"
# IdentityAgent none: no agent, even with $SSH_AUTH_SOCK set.
a2=$(accepted2)
config "$T/kh2203" "IdentityAgent none" "IdentityFile $T/nonexistent"
TB_PASSENV="SSH_AUTH_SOCK=$T/agent2.sock" run2
check "IdentityAgent none: the agent is not used (refused, no login)" \
    sh -c "[ $RC = 255 ] && ! grep -q 'intranet wiki OK' '$OUT' && [ $(accepted2) = $a2 ]"

# IdentityFile given: exactly the files ssh would try, not libssh's
# defaults too (here ~/.ssh/id_ed25519, the bed's key, which this sshd
# does not know: one more failure spent against MaxAuthTries).  A guard:
# libssh 0.10 already leaves its defaults out once a file is named.
bedfp=$(ssh-keygen -lf "$key.pub" | cut -d' ' -f2)
offered() { tr -d '\r' <"$T/sshd2.log" | grep -c "userauth_pubkey: .*$bedfp" || true; }
o0=$(offered)
NOKEY=1 config "$T/kh2203" "IdentityAgent none" "IdentityFile $T/k3"
run2
check "IdentityFile k3: in, and the default ~/.ssh/id_ed25519 never offered ($(($(offered) - o0)))" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ $(offered) = $o0 ]"

# CertificateFile: k4 is not authorized, its certificate (kept away from
# the k4-cert.pub name) is.
config "$T/kh2203" "IdentitiesOnly yes" "IdentityFile $T/k4" "CertificateFile $T/certs/k4.cert"
run2
check "CertificateFile: the certificate is offered with its key; in" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && tr -d '\r' <'$T/sshd2.log' | grep -q 'Accepted publickey for root .*ED25519-CERT'"
