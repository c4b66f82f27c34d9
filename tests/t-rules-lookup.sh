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
# t-rules-lookup: where the rules come from when no -f is given, and
# README's first example, -H with no rules file at all (everything but
# loopback tunneled).
#
# The order (README, tunnelwrap(1)): -f FILE; $TUNNELWRAP_RULES;
# $XDG_CONFIG_HOME/tunnelwrap/apps/COMMAND.rules;
# $XDG_CONFIG_HOME/tunnelwrap/rules ($HOME/.config without XDG_CONFIG_HOME);
# /etc/tunnelwrap/rules.  The host's /etc is never written: the system file
# is laid in an overlay of /etc inside a mount namespace of its own
# (unshare -m), upper layer in $T, with the client namespace's own
# /etc/netns files bound over it again as `ip netns exec` had.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "rules lookup" || exit 0
tb_plan 27

CFG=$T/cfg		# XDG_CONFIG_HOME of this test
mkdir -p "$CFG/tunnelwrap/apps" "$T/etc-up/tunnelwrap" "$T/etc-work" \
    "$T/home/.config/tunnelwrap" "$T/empty"
# One file per place, each deciding probe.corp.test by a line of its own
# (the line number says which file decided).
mkrules() {	# mkrules FILE PADDING-LINES ACTION
	{
		echo 'session corp bastion'
		echo 'synthetic 203.0.113.0/24 2001:db8:ff::/64'
		for _ in $(seq "$2"); do echo '# padding'; done
		echo "$3 probe.corp.test wiki.corp.test"
		echo 'tunnel *.corp.test 198.51.100.0/24 2001:db8:2::/64'
		echo 'direct *'
	} >"$1"
}
mkrules "$T/minus-f.rules" 0 tunnel	# probe at line 3
mkrules "$T/env.rules" 1 tunnel		# line 4
mkrules "$CFG/tunnelwrap/apps/curl.rules" 2 deny	# line 5
mkrules "$CFG/tunnelwrap/rules" 3 tunnel	# line 6
mkrules "$T/home/.config/tunnelwrap/rules" 4 tunnel	# line 7
mkrules "$T/etc-up/tunnelwrap/rules" 5 tunnel	# line 8

# lookup VAR=VALUE... -- ARGS: tunnelwrap ARGS in cli, with the overlay
# /etc (holding tunnelwrap/rules while $T/etc-up does) and the variables.
lookup() {
	local vars=()
	while [ "$1" != -- ]; do vars+=("$1"); shift; done
	shift
	cli unshare -m sh -c '
	    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc &&
	    for f in /etc/netns/"$3"/*; do mount --bind "$f" "/etc/${f##*/}" || exit 99; done &&
	    shift 3 && exec env "$@"' sh "$T/etc-up" "$T/etc-work" "$TB_NS_CLI" \
	    "${vars[@]}" tunnelwrap "$@"
}
# decided_by FILE LINE: -n's answer for probe.corp.test names FILE:LINE.
decided_by() { grep -q "^probe.corp.test: .* by $1:$2 " "$OUT"; }

lookup XDG_CONFIG_HOME="$CFG" TUNNELWRAP_RULES="$T/env.rules" -- \
    -n -f "$T/minus-f.rules" probe.corp.test
check "-f beats everything" decided_by "$T/minus-f.rules" 3
lookup XDG_CONFIG_HOME="$CFG" TUNNELWRAP_RULES="$T/env.rules" -- \
    -n probe.corp.test
check "\$TUNNELWRAP_RULES beats the files" decided_by "$T/env.rules" 4
lookup XDG_CONFIG_HOME="$CFG" TUNNELWRAP_RULES= -- -n probe.corp.test
check "an empty \$TUNNELWRAP_RULES is not set: \$XDG_CONFIG_HOME/tunnelwrap/rules" \
    decided_by "$CFG/tunnelwrap/rules" 6

# apps/COMMAND.rules: only for that command (named by path or not), and
# it really decides (it denies what the others tunnel).
lookup XDG_CONFIG_HOME="$CFG" -- -v curl -sS --max-time 10 http://probe.corp.test/
check "apps/curl.rules is used for curl (-v names it)" \
    grep -q "rules from $CFG/tunnelwrap/apps/curl.rules" "$ERR"
check "apps/curl.rules decides: curl is denied by its line 5 (exit 7)" \
    sh -c "[ '$RC' = 7 ] && grep -q 'denied by $CFG/tunnelwrap/apps/curl.rules:5' '$ERR'"
lookup XDG_CONFIG_HOME="$CFG" -- -v /usr/bin/curl -sS --max-time 10 http://wiki.corp.test/
check "apps/curl.rules is used for /usr/bin/curl too" \
    sh -c "grep -q 'rules from $CFG/tunnelwrap/apps/curl.rules' '$ERR' && [ '$RC' = 7 ]"
n0=$(tb_ssh_target_count wiki.corp.test 80)
lookup XDG_CONFIG_HOME="$CFG" -- -v python3 -c '
import urllib.request
print(urllib.request.urlopen("http://wiki.corp.test/", timeout=10).read().decode())'
check "another command (python3) gets \$XDG_CONFIG_HOME/tunnelwrap/rules, and is tunneled" \
    sh -c "grep -q 'rules from $CFG/tunnelwrap/rules' '$ERR' &&
	grep -q 'intranet wiki OK' '$OUT' &&
	[ $(tb_ssh_target_count wiki.corp.test 80) -gt $n0 ]"
lookup XDG_CONFIG_HOME="$CFG" TUNNELWRAP_RULES="$T/env.rules" -- -v curl -sS \
    --max-time 10 http://wiki.corp.test/
check "\$TUNNELWRAP_RULES beats apps/curl.rules (curl tunneled)" \
    grep -q 'intranet wiki OK' "$OUT"

rm "$CFG/tunnelwrap/apps/curl.rules"
lookup XDG_CONFIG_HOME="$CFG" -- -v curl -sS --max-time 10 http://wiki.corp.test/
check "without apps/curl.rules curl gets \$XDG_CONFIG_HOME/tunnelwrap/rules" \
    sh -c "grep -q 'rules from $CFG/tunnelwrap/rules' '$ERR' &&
	grep -q 'intranet wiki OK' '$OUT'"
lookup -u XDG_CONFIG_HOME HOME="$T/home" -- -n probe.corp.test
check "no \$XDG_CONFIG_HOME: \$HOME/.config/tunnelwrap/rules" \
    decided_by "$T/home/.config/tunnelwrap/rules" 7
lookup HOME="$T/home" XDG_CONFIG_HOME=relative/dir -- -n probe.corp.test
check "a relative \$XDG_CONFIG_HOME is ignored (XDG): \$HOME/.config" \
    decided_by "$T/home/.config/tunnelwrap/rules" 7
rm "$CFG/tunnelwrap/rules"
lookup XDG_CONFIG_HOME="$CFG" -- -n probe.corp.test
check "no user file: /etc/tunnelwrap/rules" \
    decided_by /etc/tunnelwrap/rules 8
lookup XDG_CONFIG_HOME="$CFG" -- -v curl -sS --max-time 10 http://wiki.corp.test/
check "/etc/tunnelwrap/rules for a real command (-v names it; tunneled)" \
    sh -c "grep -q 'rules from /etc/tunnelwrap/rules' '$ERR' &&
	grep -q 'intranet wiki OK' '$OUT'"
rm "$T/etc-up/tunnelwrap/rules"
lookup XDG_CONFIG_HOME="$CFG" -- curl -sS --max-time 5 http://wiki.corp.test/
check "no rules anywhere and no -H: one clear error, exit 255, curl not run" \
    sh -c "[ '$RC' = 255 ] && grep -q 'no rules for curl and no -H' '$ERR' &&
	! [ -s '$OUT' ]"

# -- -H and no rules file: everything but loopback tunneled --------------
H=(env XDG_CONFIG_HOME="$T/empty" tunnelwrap -H bastion)
tw_new_runtime -H bastion
cli "${H[@]}" -n wiki.corp.test:80 "$TB_INT4" 127.0.0.1:80 '[::1]:80' localhost
check "-H alone: -n says the built-in rules decide: names and addresses tunneled" \
    sh -c "grep -q '^wiki.corp.test:80: tunnel .*(built-in)' '$OUT' &&
	grep -q '^$TB_INT4: tunnel .*(built-in)' '$OUT'"
check "-H alone: -n says loopback (127/8, ::1, localhost) is direct" \
    sh -c "grep -q '^127.0.0.1:80: direct by (built-in)' '$OUT' &&
	grep -q '^\[::1\]:80: direct by (built-in)' '$OUT' &&
	grep -q '^localhost: direct by (built-in)' '$OUT'"

# The leak trap sees any direct connect to the intranet address and any
# local DNS question for a corp.test name.
direct_rules=$T/direct.rules
echo 'direct *' >"$direct_rules"
n0=$(tb_ssh_target_count wiki.corp.test 80)
mark=$(tb_trap_mark)
cli "${H[@]}" curl -sS --max-time 10 http://wiki.corp.test/
check "-H alone: curl by name gets the intranet page" grep -q 'intranet wiki OK' "$OUT"
check "-H alone: the bastion resolved and connected the name (sshd log)" \
    [ "$(tb_ssh_target_count wiki.corp.test 80)" -gt "$n0" ]
check_no_leak "-H alone, by name: no local DNS question, no direct packet" "$mark"
mark=$(tb_trap_mark)
cli "${H[@]}" -f "$direct_rules" curl -sS --max-time 10 http://wiki.corp.test/
check_trap_caught "-H alone, by name: negative control (rules say direct): the trap sees it" "$mark"

n0=$(tb_ssh_target_count "$TB_INT4" 80)
mark=$(tb_trap_mark)
cli "${H[@]}" curl -sS --max-time 10 "http://$TB_INT4/"
check "-H alone: curl by address gets the intranet page through sshd" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' &&
	[ $(tb_ssh_target_count "$TB_INT4" 80) -gt $n0 ]"
check_no_leak "-H alone, by address: nothing reached the trap" "$mark"
mark=$(tb_trap_mark)
cli "${H[@]}" -f "$direct_rules" curl -sS --max-time 10 "http://$TB_INT4/"
check_trap_caught "-H alone, by address: negative control (rules say direct): the trap sees it" "$mark"

# Loopback stays direct: the same port on both sides' loopback serves a
# different page, so the answer says which side was reached.
mkdir -p "$T/www-cli" "$T/www-gw"
echo 'client loopback' >"$T/www-cli/index.html"
echo 'bastion loopback' >"$T/www-gw/index.html"
tb_spawn "$TB_NS_CLI" "$T/http-cli.log" python3 -m http.server \
    --bind 127.0.0.1 --directory "$T/www-cli" 18201
tb_spawn "$TB_NS_GW" "$T/http-gw.log" python3 -m http.server \
    --bind 127.0.0.1 --directory "$T/www-gw" 18201
tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 18201 &&
    tb_wait 10 tb_listening "$TB_NS_GW" 127.0.0.1 18201 ||
    fail "loopback servers on both sides" "$(cat "$T"/http-*.log)"
n0=$(tb_ssh_target_count 127.0.0.1 18201)
cli "${H[@]}" curl -sS --max-time 10 http://127.0.0.1:18201/
check "-H alone: 127.0.0.1 reaches the client's own loopback" \
    grep -qx 'client loopback' "$OUT"
cli "${H[@]}" curl -sS --max-time 10 http://localhost:18201/
check "-H alone: localhost reaches the client's own loopback" \
    grep -qx 'client loopback' "$OUT"
check "-H alone: loopback never went through sshd" \
    [ "$(tb_ssh_target_count 127.0.0.1 18201).$(tb_ssh_target_count localhost 18201)" = "$n0.0" ]
echo 'tunnel *' >"$T/all.rules"
cli "${H[@]}" -f "$T/all.rules" curl -sS --max-time 10 http://127.0.0.1:18201/
check "control: with 'tunnel *' the same curl reaches the bastion's loopback" \
    grep -qx 'bastion loopback' "$OUT"
