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
# testbed.sh - hermetic test bed for tunnelwrap (bash, sourced)
#
#   tb_up      build the bed: three network namespaces, a real OpenSSH sshd
#              in the gateway, intranet services, a test HOME, a rules file.
#              Writes $TB_DIR/state (sourceable, all TB_* variables exported).
#   tb_down    tear it down: the PIDs it started, every process left in its
#              namespaces (they are unique to this run, so everything in them
#              is ours), the namespaces, /etc/netns/<ns>, the temp dir.
#   tb_load    in a test script: source the state file named by $TB_STATE.
#
# Layout (netns mode; addresses only from loopback and documentation ranges):
#
#   cli  to-gw 192.0.2.10/24  2001:db8:1::10/64
#        ↕ veth
#   gw   to-cli 192.0.2.1/24  2001:db8:1::1/64      sshd :22 on both
#        to-int 198.51.100.1/24 2001:db8:2::1/64    forwarding OFF
#        ↕ veth
#   int  to-gw 198.51.100.20/24 2001:db8:2::20/64   http :80, echo :7,
#                                                   discard :9, :81 closed
#
#   cli  to-trap (no address of its own)
#        ↕ veth
#   trap to-cli 192.0.2.53/32 2001:db8:1::53/128   the leak trap
#
#   gw does not forward, so the intranet is reachable from cli only through
#   SSH.  What cli sends by the direct path to the intranet's ranges
#   (198.51.100.0/24, 2001:db8:2::/64), the synthetic pools
#   (203.0.113.0/24, 2001:db8:ff::/64) or the denied address (192.0.2.99)
#   is routed to the trap, which holds all of them as local addresses,
#   answers like a server and logs every packet, connection and DNS
#   question (tests/lib/trap.py; TB_TRAP_LOG).  cli's resolver is the
#   trap too: corp.test names resolve there (into the trap) and are logged,
#   so a name resolved locally is seen.  A leak is visible, not merely a
#   failure that looks like tunnelwrap's own refusal.
#   Names: cli knows bastion.test (192.0.2.1) and bastion6.test
#   (2001:db8:1::1) from its hosts file; gw and int know the corp.test names
#   (ftp/telnet/git/redis/pg/shell.corp.test: IPv4 only, for the servers
#   the t-prog-* tests start in int).
#   In cli, root's passwd entry has TB_HOME as its home (OpenSSH and
#   libssh find ~/.ssh there, not through $HOME), and a second user,
#   twother (uid 4242), exists there only, for the tests of another user.
#
# Loopback mode (when `ip netns add` fails): sshd on 127.0.0.1:<free port>,
# services on 127.0.0.2:<free ports>; TB_MODE=loopback, and tests that need
# names or isolation call tb_need_netns and are skipped.
#
# Every server runs under `ip netns exec`, so it sees /etc/netns/<ns>/hosts.
# Variables tests use: TB_MODE TB_DIR TB_HOME TB_RULES TB_SSHD_LOG
# TB_GW4 TB_GW6 TB_CLI4 TB_CLI6 TB_INT4 TB_INT6 TB_SSH_PORT TB_HTTP_PORT
# TB_ECHO_PORT TB_DISCARD_PORT TB_REFUSE_PORT TB_DENY_ADDR TB_BIG_SHA256
# TB_BIG_SIZE TB_TUNNELWRAP TB_HELPER TB_PRELOAD TB_PYTHON TB_NS_CLI
# TB_NS_GW TB_NS_INT TB_TOP TB_PROTO_VERSION.

TB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The control protocol's version, for tests that speak it by hand.
TB_PROTO_VERSION=$(sed -n 's/^#define PROTO_VERSION[[:space:]]*\([0-9]*\).*/\1/p' \
    "$TB_LIBDIR/../../common/proto.h")

tb_log() { [ "${TB_QUIET:-0}" = 1 ] || printf 'testbed: %s\n' "$*" >&2; }
tb_die() { printf 'testbed: error: %s\n' "$*" >&2; return 1; }

# Append NAME=VALUE (exported) to the state file and the current shell.
tb_state() {
	local k=$1 v=$2
	printf -v "$k" '%s' "$v"
	export "${k?}"
	printf 'export %s=%q\n' "$k" "$v" >>"$TB_DIR/state"
}

tb_load() {
	[ -n "${TB_STATE:-}" ] && [ -r "$TB_STATE" ] ||
	    { tb_die "no test bed state (TB_STATE=${TB_STATE:-unset})"; return 1; }
	# shellcheck disable=SC1090
	. "$TB_STATE"
}

# Poll CMD... every 50 ms for up to SECONDS; returns 0 once it succeeds.
tb_wait() {
	local secs=$1 i=0 n
	shift
	n=$((secs * 20))
	while [ $i -lt $n ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# Run a command in a namespace (or, in loopback mode, here) with the test
# environment only: no proxies, no agent, no LD_PRELOAD from outside.
# Set TW_RUNTIME to use another XDG_RUNTIME_DIR (a fresh helper).
# shellcheck disable=SC2086 # TB_PASSENV: NAME=VALUE words without blanks
tb_env() {
	env -i HOME="$TB_HOME" PATH="$TB_PATH" LANG=C.UTF-8 TERM=dumb \
	    USER=root LOGNAME=root TMPDIR="${T:-$TB_DIR}" \
	    XDG_RUNTIME_DIR="${TW_RUNTIME:-$TB_XDG_RUNTIME_DIR}" \
	    XDG_CONFIG_HOME="$TB_XDG_CONFIG_HOME" $TB_PASSENV "$@"
}
# shellcheck disable=SC2086 # TB_PASSENV: NAME=VALUE words without blanks
tb_run_ns() {
	local ns=$1
	shift
	if [ "$TB_MODE" = netns ]; then
		ip netns exec "$ns" env -i HOME="$TB_HOME" PATH="$TB_PATH" \
		    LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root \
		    TMPDIR="${T:-$TB_DIR}" \
		    XDG_RUNTIME_DIR="${TW_RUNTIME:-$TB_XDG_RUNTIME_DIR}" \
		    XDG_CONFIG_HOME="$TB_XDG_CONFIG_HOME" $TB_PASSENV "$@"
	else
		tb_env "$@"
	fi
}
tb_run_cli() { tb_run_ns "${TB_NS_CLI:-}" "$@"; }
tb_run_gw()  { tb_run_ns "${TB_NS_GW:-}" "$@"; }
tb_run_int() { tb_run_ns "${TB_NS_INT:-}" "$@"; }

# Number of SSH connections sshd accepted so far.
tb_ssh_accepted_count() {
	grep -c 'Accepted publickey' "$TB_SSHD_LOG" 2>/dev/null || true
}

# Number of direct-tcpip channels sshd opened to TARGET (as sent by the
# client: a name proves remote DNS) [and PORT].  Needs LogLevel DEBUG1.
tb_ssh_target_count() {
	local re
	re="server_request_direct_tcpip: originator .*, target $(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g') port"
	[ -n "${2:-}" ] && re="$re $2\$"
	# sshd -E ends its lines with CR LF.
	tr -d '\r' <"$TB_SSHD_LOG" 2>/dev/null | grep -c -- "$re" || true
}

# A free TCP port on 127.0.0.1 (loopback mode only; racy but good enough).
tb_free_port() {
	"$TB_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# True when a TCP listener on ADDR:PORT exists in namespace NS.
tb_listening() {
	local ns=$1 addr=$2 port=$3 out
	if [ "$TB_MODE" = netns ]; then
		out=$(ip netns exec "$ns" ss -Hltn 2>/dev/null) || return 1
	else
		out=$(ss -Hltn 2>/dev/null) || return 1
	fi
	case $addr in *:*) addr="[$addr]" ;; esac
	printf '%s\n' "$out" | awk '{print $4}' | grep -qxF "$addr:$port"
}

tb_pid_alive() { kill -0 "$1" 2>/dev/null; }

tb_add_pid() {
	TB_PIDS="${TB_PIDS:+$TB_PIDS }$1"
	tb_state TB_PIDS "$TB_PIDS"
}

_tb_netns_setup() {
	local cli=$TB_NS_CLI gw=$TB_NS_GW int=$TB_NS_INT trap=$TB_NS_TRAP ns
	for ns in "$gw" "$int" "$trap"; do
		ip netns add "$ns" || return 1
		tb_state TB_NETNS "$TB_NETNS $ns"
	done
	# veth pairs created directly inside the namespaces: the root
	# namespace never sees an interface.
	ip link add to-gw netns "$cli" type veth peer to-cli netns "$gw" &&
	ip link add to-int netns "$gw" type veth peer to-gw netns "$int" &&
	ip link add to-trap netns "$cli" type veth peer to-cli netns "$trap" ||
	    return 1
	for ns in "$cli" "$gw" "$int" "$trap"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		    net.ipv6.conf.default.disable_ipv6=0 \
		    net.ipv6.conf.default.accept_dad=0 \
		    net.ipv6.conf.default.accept_ra=0 \
		    net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 ||
		    return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$cli" addr add 192.0.2.10/24 dev to-gw &&
	ip -n "$cli" addr add 2001:db8:1::10/64 dev to-gw nodad &&
	ip -n "$gw" addr add 192.0.2.1/24 dev to-cli &&
	ip -n "$gw" addr add 2001:db8:1::1/64 dev to-cli nodad &&
	ip -n "$gw" addr add 198.51.100.1/24 dev to-int &&
	ip -n "$gw" addr add 2001:db8:2::1/64 dev to-int nodad &&
	ip -n "$int" addr add 198.51.100.20/24 dev to-gw &&
	ip -n "$int" addr add 2001:db8:2::20/64 dev to-gw nodad &&
	ip -n "$cli" link set to-gw up &&
	ip -n "$gw" link set to-cli up &&
	ip -n "$gw" link set to-int up &&
	ip -n "$int" link set to-gw up || return 1
	_tb_trap_routes || return 1
	# Gateway must not forward (set above; checked here).
	[ "$(ip netns exec "$gw" sysctl -n net.ipv4.ip_forward)" = 0 ] &&
	[ "$(ip netns exec "$gw" sysctl -n net.ipv6.conf.all.forwarding)" = 0 ] ||
	    { tb_die "forwarding still on in $gw"; return 1; }

	# Per-namespace hosts and resolv.conf (bind-mounted by ip netns exec).
	# gw and int: resolv.conf points at loopback where nothing listens, so
	# lookups of unknown names fail at once.  cli: the trap's resolver.
	local corp
	corp="198.51.100.20 wiki.corp.test db.corp.test echo.corp.test blocked.corp.test v4only.corp.test
2001:db8:2::20 wiki.corp.test db.corp.test echo.corp.test blocked.corp.test v6only.corp.test
198.51.100.20 ftp.corp.test telnet.corp.test git.corp.test redis.corp.test pg.corp.test shell.corp.test"
	for ns in "$cli" "$gw" "$int"; do
		mkdir -p "/etc/netns/$ns" || return 1
		tb_state TB_ETC_NETNS "$TB_ETC_NETNS /etc/netns/$ns"
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
		    >"/etc/netns/$ns/resolv.conf"
		printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' \
		    >"/etc/netns/$ns/hosts"
	done
	printf 'nameserver 192.0.2.53\noptions timeout:1 attempts:1\n' \
	    >"/etc/netns/$cli/resolv.conf"
	printf '192.0.2.1 bastion.test\n2001:db8:1::1 bastion6.test\n' \
	    >>"/etc/netns/$cli/hosts"
	# In cli the test HOME is root's home in passwd too, as for a real
	# user: OpenSSH (ssh, ssh -G) and libssh take ~ from getpwuid(), not
	# from $HOME.
	# (A twother of the host's, left by an older bed's useradd, would
	# come first and win: it is not copied.)
	awk -F: -v OFS=: -v h="$TB_HOME" '$1 == "root" { $6 = h }
	    $1 != "twother" { print }' /etc/passwd >"/etc/netns/$cli/passwd" ||
	    return 1
	echo 'twother:x:4242:4242:tunnelwrap test user:/nonexistent:/bin/sh' \
	    >>"/etc/netns/$cli/passwd"
	printf '%s\n' "$corp" >>"/etc/netns/$gw/hosts"
	printf '%s\n' "$corp" >>"/etc/netns/$int/hosts"
	_tb_intdns_resolv
}

# -- the intranet's DNS server (tests/lib/intdns.py; t-dns) ----------------
# It runs in int on 198.51.100.20:53 (UDP, TCP) and is the bastion's
# resolver: the records tunnelwrap's DNS responder fetches through the
# bastion (SRV, TXT, MX) come from it; it logs every question to
# TB_INTDNS_LOG.  Unknown names get NXDOMAIN, as before (at once).
_tb_intdns_resolv() {
	printf 'nameserver 198.51.100.20\noptions timeout:1 attempts:1\n' \
	    >"/etc/netns/$TB_NS_GW/resolv.conf"
}
_tb_intdns_start() {
	tb_state TB_INTDNS_LOG "$TB_DIR/intdns.log"
	: >"$TB_INTDNS_LOG"
	ip netns exec "$TB_NS_INT" "$TB_PYTHON" "$TB_LIBDIR/intdns.py" \
	    --addr "$TB_INT4" --addr "$TB_INT6" --log "$TB_INTDNS_LOG" \
	    --ready "$TB_DIR/intdns.ready" 2>"$TB_DIR/intdns.err" &
	tb_state TB_INTDNS_PID $!
	tb_add_pid "$TB_INTDNS_PID"
}
_tb_intdns_wait() {
	tb_wait 10 test -s "$TB_DIR/intdns.ready" && tb_pid_alive "$TB_INTDNS_PID" ||
	    { tb_die "the intranet's DNS server did not come up; log:"
	      tail -n 20 "$TB_DIR/intdns.err" >&2; return 1; }
}

# The trap's addresses and routes (see the layout above).
_tb_trap_routes() {
	local cli=$TB_NS_CLI trap=$TB_NS_TRAP n
	ip -n "$trap" addr add 192.0.2.53/32 dev to-cli &&
	ip -n "$trap" addr add 2001:db8:1::53/128 dev to-cli nodad &&
	ip -n "$trap" link set to-cli up &&
	ip -n "$cli" link set to-trap up &&
	ip -n "$trap" route add 192.0.2.10/32 dev to-cli &&
	ip -n "$trap" -6 route add 2001:db8:1::10/128 dev to-cli &&
	# cli's IPv6 address lives on to-gw, and IPv6 answers neighbour
	# solicitations only for the interface's own addresses: tell the trap
	# where it is.
	ip -n "$trap" -6 neigh add 2001:db8:1::10 dev to-cli nud permanent \
	    lladdr "$(ip netns exec "$cli" cat /sys/class/net/to-trap/address)" &&
	ip -n "$cli" route add 192.0.2.53/32 dev to-trap &&
	ip -n "$cli" -6 route add 2001:db8:1::53/128 dev to-trap || return 1
	for n in $TB_TRAP_NETS; do
		ip -n "$trap" route add local "$n" dev lo || return 1
		case $n in
		*:*) ip -n "$cli" -6 route add "$n" via 2001:db8:1::53 dev to-trap ;;
		*) ip -n "$cli" route add "$n" via 192.0.2.53 dev to-trap ;;
		esac || return 1
	done
}

_tb_trap_start() {
	local n args=()
	for n in $TB_TRAP_NETS; do
		args+=(--net "$n")
	done
	: >"$TB_TRAP_LOG"
	ip netns exec "$TB_NS_TRAP" "$TB_PYTHON" "$TB_LIBDIR/trap.py" \
	    --iface to-cli --log "$TB_TRAP_LOG" --ready "$TB_DIR/trap.ready" \
	    --dns 192.0.2.53 --dns 2001:db8:1::53 "${args[@]}" \
	    2>"$TB_DIR/trap.err" &
	tb_state TB_TRAP_PID $!
	tb_add_pid "$TB_TRAP_PID"
}

# Lines in the trap log so far: a mark for tb_trap_leaks.
tb_trap_mark() {
	if [ -n "${TB_TRAP_LOG:-}" ] && [ -f "$TB_TRAP_LOG" ]; then
		wc -l <"$TB_TRAP_LOG"
	else
		echo 0
	fi
}

# tb_trap_leaks FROM [TO]: the trap's leak lines (not dns-other) after line
# FROM [up to line TO], without their time stamps.
tb_trap_leaks() {
	[ -n "${TB_TRAP_LOG:-}" ] && [ -f "$TB_TRAP_LOG" ] || return 0
	awk -v from="$1" -v to="${2:-0}" \
	    'NR > from && (to == 0 || NR <= to) && $2 != "dns-other" {
		$1 = ""; sub(/^ /, ""); print }' "$TB_TRAP_LOG"
}

tb_up() {
	local top suffix i cfg
	top=$(cd "$TB_LIBDIR/../.." && pwd)
	TB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/twtest.XXXXXX") || return 1
	export TB_DIR
	: >"$TB_DIR/state"
	tb_state TB_STATE "$TB_DIR/state"
	tb_state TB_TOP "$top"
	tb_state TB_PIDS ""
	tb_state TB_NETNS ""
	tb_state TB_ETC_NETNS ""
	# Binaries: the Makefile's build dir $B (default build/; `make check`
	# passes B), unless named one by one.
	local b=${B:-build}
	case $b in /*) ;; *) b=$top/$b ;; esac
	tb_state TB_TUNNELWRAP "${TUNNELWRAP:-$b/tunnelwrap}"
	tb_state TB_HELPER "${TUNNELWRAP_HELPER:-$b/tunnelwrap-helper}"
	tb_state TB_PRELOAD "${TUNNELWRAP_PRELOAD:-$b/libtunnelwrap.so}"
	# Sanitizer settings (make check-asan) reach the programs under test.
	tb_state TB_PASSENV "$(env | grep -E '^(ASAN|UBSAN|LSAN|MSAN|TSAN)_OPTIONS=' | tr '\n' ' ')"
	if [ -x /usr/bin/python3 ]; then
		tb_state TB_PYTHON /usr/bin/python3
	else
		tb_state TB_PYTHON "$(command -v python3)"
	fi
	tb_state TB_PATH "$(dirname "$TB_TUNNELWRAP"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	tb_state TB_HOME "$TB_DIR/home"
	tb_state TB_XDG_RUNTIME_DIR "$TB_DIR/run"
	tb_state TB_XDG_CONFIG_HOME "$TB_DIR/config"
	mkdir -m 700 "$TB_HOME" "$TB_HOME/.ssh" "$TB_XDG_RUNTIME_DIR" \
	    "$TB_XDG_CONFIG_HOME" "$TB_DIR/sshd" "$TB_DIR/www" || return 1

	# Namespaces, with a suffix unique to this run.
	local mode=loopback
	if [ "${TB_FORCE_LOOPBACK:-0}" != 1 ]; then
		for i in 1 2 3; do
			suffix=$(printf '%x%04x' $$ $RANDOM)
			if ip netns add "tw$suffix-cli" 2>"$TB_DIR/netns.err"; then
				mode=netns
				break
			fi
			[ -e "/run/netns/tw$suffix-cli" ] || break
		done
	fi
	tb_state TB_MODE $mode
	if [ $mode = netns ]; then
		tb_state TB_NS_CLI "tw$suffix-cli"
		tb_state TB_NS_GW "tw$suffix-gw"
		tb_state TB_NS_INT "tw$suffix-int"
		tb_state TB_NS_TRAP "tw$suffix-trap"
		tb_state TB_TRAP_LOG "$TB_DIR/trap.log"
		tb_state TB_TRAP_NETS "198.51.100.0/24 203.0.113.0/24 192.0.2.99/32 2001:db8:2::/64 2001:db8:ff::/64"
		tb_state TB_NETNS "$TB_NS_CLI"
		_tb_netns_setup || { tb_die "namespace setup failed"; return 1; }
		tb_state TB_CLI4 192.0.2.10
		tb_state TB_CLI6 2001:db8:1::10
		tb_state TB_GW4 192.0.2.1
		tb_state TB_GW6 2001:db8:1::1
		tb_state TB_INT4 198.51.100.20
		tb_state TB_INT6 2001:db8:2::20
		tb_state TB_SSH_PORT 22
		tb_state TB_HTTP_PORT 80
		tb_state TB_ECHO_PORT 7
		tb_state TB_DISCARD_PORT 9
		tb_state TB_REFUSE_PORT 81
		tb_state TB_DENY_ADDR 192.0.2.99
		tb_state TB_UNREACHABLE 192.0.2.77
	else
		tb_log "network namespaces unavailable ($(head -n1 "$TB_DIR/netns.err" 2>/dev/null)): loopback-only bed"
		tb_state TB_NS_CLI ""
		tb_state TB_NS_GW ""
		tb_state TB_NS_INT ""
		tb_state TB_NS_TRAP ""
		tb_state TB_TRAP_LOG ""
		tb_state TB_TRAP_NETS ""
		tb_state TB_CLI4 127.0.0.1
		tb_state TB_CLI6 ""
		tb_state TB_GW4 127.0.0.1
		tb_state TB_GW6 ""
		tb_state TB_INT4 127.0.0.2
		tb_state TB_INT6 ""
		tb_state TB_SSH_PORT "$(tb_free_port)"
		tb_state TB_HTTP_PORT "$(tb_free_port)"
		tb_state TB_ECHO_PORT "$(tb_free_port)"
		tb_state TB_DISCARD_PORT "$(tb_free_port)"
		tb_state TB_REFUSE_PORT "$(tb_free_port)"
		tb_state TB_DENY_ADDR 127.0.0.3
		tb_state TB_UNREACHABLE "127.0.0.1:$(tb_free_port)"
	fi

	# Keys: sshd host key, the test user's key.
	ssh-keygen -q -t ed25519 -N '' -C tb-host -f "$TB_DIR/sshd/host_ed25519" &&
	ssh-keygen -q -t ed25519 -N '' -C tb-user -f "$TB_HOME/.ssh/id_ed25519" &&
	cp "$TB_HOME/.ssh/id_ed25519.pub" "$TB_DIR/sshd/authorized_keys" ||
	    return 1

	# sshd.  LogLevel DEBUG1 rather than VERBOSE: it is the lowest level
	# at which sshd logs each direct-tcpip target ("server_request_direct_
	# tcpip: originator ..., target NAME port N"), which lets tests prove
	# that a name was resolved remotely and that denied names never left
	# the client.  It costs a few lines per channel.
	tb_state TB_SSHD_CONFIG "$TB_DIR/sshd/sshd_config"
	tb_state TB_SSHD_LOG "$TB_DIR/sshd/sshd.log"
	cfg=$TB_SSHD_CONFIG
	{
		if [ $mode = netns ]; then
			echo "ListenAddress 192.0.2.1:22"
			echo "ListenAddress [2001:db8:1::1]:22"
			# A door that forbids forwarding, for the tests of
			# "administratively prohibited" (Match below).
			echo "ListenAddress 192.0.2.1:2200"
			# A forwarding-only door (MaxSessions 0): no session
			# channels, so the keepalive falls back to TCP's.
			echo "ListenAddress 192.0.2.1:2201"
		else
			echo "ListenAddress 127.0.0.1:$TB_SSH_PORT"
		fi
		cat <<-EOF
		HostKey $TB_DIR/sshd/host_ed25519
		PidFile $TB_DIR/sshd/sshd.pid
		AuthorizedKeysFile $TB_DIR/sshd/authorized_keys
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		AllowTcpForwarding yes
		AllowAgentForwarding yes
		X11Forwarding yes
		X11UseLocalhost yes
		# sshd's xauth writes the fake X11 cookie into \$XAUTHORITY:
		# a file of the bed, never root's ~/.Xauthority on the host.
		SetEnv XAUTHORITY=$TB_DIR/sshd/xauthority
		UsePAM no
		StrictModes no
		UseDNS no
		LogLevel DEBUG1
		MaxStartups 100:30:200
		MaxSessions 100
		PrintMotd no
		EOF
		if [ $mode = netns ]; then
			printf 'Match LocalPort 2200\n\tAllowTcpForwarding no\n'
			printf 'Match LocalPort 2201\n\tMaxSessions 0\n'
		fi
	} >"$cfg"
	# OpenSSH insists on its privilege separation directory.
	if [ ! -d /run/sshd ]; then
		mkdir -m 0755 /run/sshd || return 1
	fi
	/usr/sbin/sshd -t -f "$cfg" || { tb_die "sshd -t rejected $cfg"; return 1; }
	if [ $mode = netns ]; then
		ip netns exec "$TB_NS_GW" /usr/sbin/sshd -D -f "$cfg" -E "$TB_SSHD_LOG" &
	else
		/usr/sbin/sshd -D -f "$cfg" -E "$TB_SSHD_LOG" &
	fi
	tb_state TB_SSHD_PID $!
	tb_add_pid "$TB_SSHD_PID"

	# Intranet web content and services.
	printf '<html><body><h1>intranet wiki OK</h1></body></html>\n' \
	    >"$TB_DIR/www/index.html"
	tb_state TB_BIG_SIZE $((64 * 1024 * 1024))
	head -c "$TB_BIG_SIZE" /dev/urandom >"$TB_DIR/www/big.bin" || return 1
	tb_state TB_BIG_SHA256 "$(sha256sum <"$TB_DIR/www/big.bin" | cut -d' ' -f1)"
	local svc=("$TB_PYTHON" "$TB_LIBDIR/services.py" --www "$TB_DIR/www"
	    --http "$TB_HTTP_PORT" --echo "$TB_ECHO_PORT"
	    --discard "$TB_DISCARD_PORT" --ready "$TB_DIR/services.ready")
	if [ $mode = netns ]; then
		ip netns exec "$TB_NS_INT" "${svc[@]}" -a "$TB_INT4" -a "$TB_INT6" \
		    2>"$TB_DIR/services.log" &
	else
		"${svc[@]}" -a "$TB_INT4" 2>"$TB_DIR/services.log" &
	fi
	tb_state TB_SERVICES_PID $!
	tb_add_pid "$TB_SERVICES_PID"
	[ $mode = netns ] && _tb_trap_start
	[ $mode = netns ] && _tb_intdns_start

	# Test HOME: key, known_hosts, ssh config.
	local hk
	hk=$(cut -d' ' -f1,2 "$TB_DIR/sshd/host_ed25519.pub")
	if [ $mode = netns ]; then
		echo "bastion.test,192.0.2.1,bastion6.test,2001:db8:1::1 $hk" \
		    >"$TB_HOME/.ssh/known_hosts"
	else
		echo "[127.0.0.1]:$TB_SSH_PORT $hk" >"$TB_HOME/.ssh/known_hosts"
	fi
	cat >"$TB_HOME/.ssh/config" <<-EOF
	Host bastion
	    HostName $TB_GW4
	    Port $TB_SSH_PORT
	Host *
	    User root
	    IdentityFile $TB_HOME/.ssh/id_ed25519
	    IdentitiesOnly yes
	    UserKnownHostsFile $TB_HOME/.ssh/known_hosts
	    GlobalKnownHostsFile /dev/null
	    StrictHostKeyChecking yes
	    BatchMode yes
	    ConnectTimeout 5
	EOF
	chmod 600 "$TB_HOME/.ssh/config" "$TB_HOME/.ssh/known_hosts"

	# The standard rules file.
	tb_state TB_RULES "$TB_XDG_CONFIG_HOME/rules"
	if [ $mode = netns ]; then
		cat >"$TB_RULES" <<-EOF
		session corp bastion
		synthetic 203.0.113.0/24 2001:db8:ff::/64
		deny blocked.corp.test 192.0.2.99
		tunnel *.corp.test 198.51.100.0/24 2001:db8:2::/64
		direct *
		EOF
	else
		# No namespace, so no passwd of our own: ssh would look for
		# ~/.ssh/config in the real home.  Name everything here.
		cat >"$TB_RULES" <<-EOF
		session corp root@127.0.0.1:$TB_SSH_PORT IdentityFile=$TB_HOME/.ssh/id_ed25519 UserKnownHostsFile=$TB_HOME/.ssh/known_hosts GlobalKnownHostsFile=/dev/null StrictHostKeyChecking=yes BatchMode=yes
		synthetic 203.0.113.0/24 2001:db8:ff::/64
		deny blocked.corp.test 127.0.0.3
		tunnel *.corp.test 127.0.0.2
		direct *
		EOF
	fi

	# Readiness: poll, never sleep blindly.
	local ok=1
	if [ $mode = netns ]; then
		tb_wait 10 tb_listening "$TB_NS_GW" 192.0.2.1 22 &&
		tb_wait 5 tb_listening "$TB_NS_GW" 2001:db8:1::1 22 || ok=0
	else
		tb_wait 10 tb_listening "" 127.0.0.1 "$TB_SSH_PORT" || ok=0
	fi
	if [ $ok = 0 ] || ! tb_pid_alive "$TB_SSHD_PID"; then
		tb_die "sshd did not come up; log:"
		tail -n 20 "$TB_SSHD_LOG" >&2
		return 1
	fi
	if [ $mode = netns ] && { ! tb_wait 10 test -s "$TB_DIR/trap.ready" ||
	    ! tb_pid_alive "$TB_TRAP_PID"; }; then
		tb_die "the leak trap did not come up; log:"
		tail -n 20 "$TB_DIR/trap.err" >&2
		return 1
	fi
	if ! tb_wait 20 test -s "$TB_DIR/services.ready" ||
	    ! tb_pid_alive "$TB_SERVICES_PID"; then
		tb_die "intranet services did not come up; log:"
		tail -n 20 "$TB_DIR/services.log" >&2
		return 1
	fi
	[ $mode = netns ] && { _tb_intdns_wait || return 1; }
	tb_log "up: mode=$mode dir=$TB_DIR ${TB_NS_CLI:+ns=$TB_NS_CLI,$TB_NS_GW,$TB_NS_INT,$TB_NS_TRAP}"
}

tb_down() {
	local p ns d i left
	[ -n "${TB_DIR:-}" ] && [ -r "$TB_DIR/state" ] || return 0
	# shellcheck disable=SC1091
	. "$TB_DIR/state"
	for p in $TB_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	# Anything still running inside our namespaces (helpers started by
	# tests, sshd session children) belongs to this run.
	for ns in $TB_NETNS; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$p" 2>/dev/null
		done
	done
	for i in $(seq 40); do
		left=
		for p in $TB_PIDS; do
			tb_pid_alive "$p" && left=1
		done
		for ns in $TB_NETNS; do
			[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && left=1
		done
		[ -z "$left" ] && break
		sleep 0.05
	done
	if [ -n "$left" ]; then
		for p in $TB_PIDS; do
			kill -KILL "$p" 2>/dev/null
		done
		for ns in $TB_NETNS; do
			for p in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$p" 2>/dev/null
			done
		done
	fi
	for p in $TB_PIDS; do
		wait "$p" 2>/dev/null
	done
	for ns in $TB_NETNS; do
		ip netns del "$ns" 2>/dev/null
	done
	for d in $TB_ETC_NETNS; do
		case $d in /etc/netns/tw*) rm -rf -- "$d" ;; esac
	done
	rmdir /etc/netns 2>/dev/null
	[ "${TB_KEEP:-0}" = 1 ] || rm -rf -- "$TB_DIR"
	TB_DIR=
}

# Tests that need names, isolation or IPv6 call this first.
tb_need_netns() {
	[ "$TB_MODE" = netns ] && return 0
	skip "${1:-needs network namespaces}" "loopback-only bed (no network namespaces)"
	return 1
}
