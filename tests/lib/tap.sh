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
# tap.sh - helpers for tests/t-*.sh (bash, sourced first thing by a test)
#
# A test is run by tests/run as a child process with the bed's state in
# $TB_STATE, its own directory in $T, and fd 3 open to the runner's output.
# It reports checks with
#   ok NAME | fail NAME [DETAILS] | skip NAME REASON
# which append "RESULT<TAB>TEST<TAB>NAME" to $TB_RESULTS.  Commands are run
# with tb_capture / tw / tw_in, which set RC and the files OUT and ERR.
# Background processes are started with tb_spawn and killed (by PID) by the
# trap; helpers started through a runtime dir of this test are stopped with
# `tunnelwrap -O stop` by the trap.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/testbed.sh"
tb_load || exit 1

TEST=$(basename "$0" .sh)
if [ -z "${T:-}" ]; then
	T=$(mktemp -d "$TB_DIR/$TEST.XXXXXX")
fi
export T
TB_RESULTS=${TB_RESULTS:-$T/results}
TB_VERBOSE=${TB_VERBOSE:-0}
{ true >&3; } 2>/dev/null || exec 3>&1

_TB_N=0
_TB_PIDS_T=""
_TB_REPORTED=0
_TB_FAILED=0

_tb_report() {
	local res=$1 name=$2 details=${3:-}
	_TB_REPORTED=$((_TB_REPORTED + 1))
	[ "$res" = fail ] && _TB_FAILED=$((_TB_FAILED + 1))
	printf '%s\t%s\t%s\n' "$res" "$TEST" "$name" >>"$TB_RESULTS"
	printf '  %-5s %s\n' "$res" "$name" >&3
	if [ -n "$details" ]; then
		printf '%s\n' "$details" | head -n 12 | sed 's/^/          /' >&3
	fi
	printf '%s %s %s\n' "$res" "$name" "$details"
}
ok()   { _tb_report ok "$1"; }
fail() { _tb_report fail "$1" "${2:-}"; }

# Strict runs: under CI, or as root with the namespace bed, nothing that
# is missing may pass for a skip.
tb_strict() {
	[ "${CI:-}" = true ] || { [ "$(id -u)" = 0 ] && [ "$TB_MODE" = netns ]; }
}

# skip NAME REASON [N]: something needed is missing (a package, a tool,
# namespaces).  A failure in strict runs (tests/deps check installs it all).
# N: how many of the planned results (tb_plan) it stands for, default 1;
# "rest" before an exit: all those still to come.
skip() {
	if tb_strict; then
		_tb_report fail "$1" "not run: ${2:-} (a missing package, tool or namespace fails under CI or as root: tests/deps check)"
	else
		_tb_report skip "$1" "${2:-}"
	fi
	case ${3:-1} in
	rest) _TB_PLAN= ;;
	*) _TB_REPORTED=$((_TB_REPORTED + ${3:-1} - 1)) ;;
	esac
}

# skip_limit NAME TEXT: not run because of a limit README documents; TEXT
# (one line of README) must be found word for word in README.md, so the
# limit stays written.
skip_limit() {
	if grep -qF -- "$2" "$TB_TOP/README.md"; then
		_tb_report skip "$1" "documented limit (README: \"$2\")"
	else
		_tb_report fail "$1" "skipped for a limit README does not document: \"$2\""
	fi
}

# tb_plan N: the test reports N results; fewer (a crash, an early exit, a
# check that vanished) is a failure at exit, and so is more when nothing
# failed (a stale plan; a failure may come with details of its own).  Give it after tb_need_netns
# (whose skip ends a test early); a skip of several checks says how many.
tb_plan() { _TB_PLAN=$1; }

# -- the leak trap (tests/lib/trap.py; netns bed only) ------------------------
# check_no_leak NAME MARK: ok when nothing reached the trap (a packet, a
# connection, a DNS question about the intranet) since tb_trap_mark gave
# MARK.  A short settle first: the trap logs what it sniffs a little later.
check_no_leak() {
	local name=$1 mark=$2 seen
	if [ "$TB_MODE" != netns ]; then
		skip "$name" "the leak trap needs the namespace bed"
		return 0
	fi
	sleep 0.2
	seen=$(tb_trap_leaks "$mark")
	if [ -z "$seen" ]; then
		ok "$name"
	else
		fail "$name" "the trap saw: $(printf '%s\n' "$seen" | head -n 5)"
	fi
}

# check_trap_caught NAME MARK: the negative control of a "never direct"
# check, run with the guarantee broken on purpose: ok when the trap saw it
# (waiting up to 3 s).  What it saw is recorded as expected, so tests/run
# does not count it against this test.
check_trap_caught() {
	local name=$1 mark=$2 i seen=
	if [ "$TB_MODE" != netns ]; then
		skip "$name" "the leak trap needs the namespace bed"
		return 0
	fi
	for i in $(seq 30); do
		seen=$(tb_trap_leaks "$mark")
		[ -n "$seen" ] && break
		sleep 0.1
	done
	sleep 0.3
	printf '%s %s\n' "$mark" "$(tb_trap_mark)" >>"$T/.trap-expected"
	if [ -n "$seen" ]; then
		ok "$name ($(printf '%s\n' "$seen" | head -n 1))"
	else
		fail "$name" "the trap saw nothing: the negative control proves nothing"
	fi
}

# tb_trap_expect MARK: what reached the trap since MARK was expected (a
# documented limit); tests/run does not count it.  Waits for stragglers.
tb_trap_expect() {
	[ "$TB_MODE" = netns ] || return 0
	sleep 0.3
	printf '%s %s\n' "$1" "$(tb_trap_mark)" >>"$T/.trap-expected"
}

# check_never_direct NAME PROBE RULES: runs `PROBE RULES` (a function that
# runs the program under tunnelwrap -f RULES) and checks that nothing
# reached the trap; then runs `PROBE DIRECT_RULES` with the same rules but
# every tunnel turned into direct, and checks that the trap saw that.  So
# the check is shown to fail when the guarantee breaks, in every run.
check_never_direct() {
	local name=$1 probe=$2 rules=$3 mark broken
	mark=$(tb_trap_mark)
	"$probe" "$rules"
	check_no_leak "$name: nothing reached the leak trap" "$mark"
	broken=$T/broken-$RANDOM.rules
	sed -E 's/^([[:space:]]*)(tunnel|deny)([[:space:]]+via[[:space:]]+[^[:space:]]+)?/\1direct/' \
	    "$rules" >"$broken"
	mark=$(tb_trap_mark)
	"$probe" "$broken"
	check_trap_caught "$name: negative control (rules say direct): the trap sees it" "$mark"
}

# check NAME CMD...: ok if CMD succeeds, else fail with the last output.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "$(tb_last)"; fi
}

# Summary of the last captured command, for failure details.
tb_last() {
	printf 'rc=%s: %s\n' "${RC:-?}" "${CMDLINE:-}"
	[ -s "${ERR:-/dev/null}" ] && sed 's/^/stderr: /' "$ERR" | tail -n 5
	[ -s "${OUT:-/dev/null}" ] && sed 's/^/stdout: /' "$OUT" | head -c 600 | tail -n 5
	return 0
}

# Command prefix running in namespace NS ("" = here) with the test env.
_tb_cmd() {
	local ns=$1
	TB_CMD=(env -i HOME="$TB_HOME" PATH="$TB_PATH" LANG=C.UTF-8 TERM=dumb
	    USER=root LOGNAME=root TMPDIR="$T"
	    XDG_RUNTIME_DIR="${TW_RUNTIME:-$TB_XDG_RUNTIME_DIR}"
	    XDG_CONFIG_HOME="$TB_XDG_CONFIG_HOME")
	# shellcheck disable=SC2206 # NAME=VALUE words without blanks
	[ -n "${TB_PASSENV:-}" ] && TB_CMD+=($TB_PASSENV)
	if [ "$TB_MODE" = netns ] && [ -n "$ns" ]; then
		TB_CMD=(ip netns exec "$ns" "${TB_CMD[@]}")
	fi
}

# tb_capture_in NS CMD...: run with a timeout (TB_TIMEOUT, default 60 s);
# sets RC, OUT, ERR, CMDLINE.  stdin is /dev/null unless TB_STDIN is set.
tb_capture_in() {
	local ns=$1
	shift
	_tb_cmd "$ns"
	_TB_N=$((_TB_N + 1))
	OUT=$T/cmd$_TB_N.out
	ERR=$T/cmd$_TB_N.err
	CMDLINE="$*"
	timeout -k 5 "${TB_TIMEOUT:-60}" "${TB_CMD[@]}" "$@" \
	    <"${TB_STDIN:-/dev/null}" >"$OUT" 2>"$ERR"
	RC=$?
	printf '$ [%s] %s\n-> rc=%s\n' "${ns:-here}" "$*" "$RC"
	if [ "$TB_VERBOSE" = 1 ]; then
		head -c 2000 "$OUT"
		head -c 2000 "$ERR"
	fi
	return 0
}
tb_capture() { tb_capture_in "" "$@"; }
cli() { tb_capture_in "${TB_NS_CLI:-}" "$@"; }
gw()  { tb_capture_in "${TB_NS_GW:-}" "$@"; }
int() { tb_capture_in "${TB_NS_INT:-}" "$@"; }
# tw ARGS...: tunnelwrap ARGS in the client namespace.
tw()  { tb_capture_in "${TB_NS_CLI:-}" tunnelwrap "$@"; }

# tb_spawn NS OUTFILE CMD...: start CMD in the background in NS; its PID is
# in SPAWNED and is killed by the trap.
tb_spawn() {
	local ns=$1 out=$2
	shift 2
	_tb_cmd "$ns"
	"${TB_CMD[@]}" "$@" <"${TB_STDIN:-/dev/null}" >"$out" 2>&1 &
	SPAWNED=$!
	_TB_PIDS_T="$_TB_PIDS_T $SPAWNED"
	printf '$ [%s] %s &   (pid %s)\n' "${ns:-here}" "$*" "$SPAWNED"
}
tb_kill() {
	local p
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

# tw_new_runtime [ARGS...]: a fresh XDG_RUNTIME_DIR (so a fresh helper),
# exported as TW_RUNTIME.  On exit `tunnelwrap -O stop -f $TB_RULES ARGS`
# runs in it: give the options (-F, -H, -f ...) that name the helper used.
# shellcheck disable=SC2120 # arguments are optional
tw_new_runtime() {
	TW_RUNTIME=$(mktemp -d "$T/run.XXXXXX")
	chmod 700 "$TW_RUNTIME"
	export TW_RUNTIME
	printf '%s\n' "$TW_RUNTIME $*" >>"$T/.runtimes"
}

tb_have_product() {
	[ -x "$TB_TUNNELWRAP" ] && [ -x "$TB_HELPER" ] && [ -r "$TB_PRELOAD" ]
}

# Without the built product there is nothing to test: one failure, done.
tb_need_product() {
	tb_have_product && return 0
	local m="" f
	for f in "$TB_TUNNELWRAP" "$TB_HELPER" "$TB_PRELOAD"; do
		[ -e "$f" ] || m="$m $f"
	done
	fail "product built" "missing:$m (run make first)"
	exit 0
}

_tb_test_cleanup() {
	local r saved=${TW_RUNTIME:-}
	if [ -n "${_TB_PLAN:-}" ] && [ "$_TB_REPORTED" -lt "$_TB_PLAN" ]; then
		_tb_report fail "plan: $_TB_PLAN results" \
		    "only $_TB_REPORTED reported: checks vanished (a crash or an early exit?)"
	elif [ -n "${_TB_PLAN:-}" ] && [ "$_TB_REPORTED" -gt "$_TB_PLAN" ] &&
	    [ "$_TB_FAILED" = 0 ]; then
		_tb_report fail "plan: $_TB_PLAN results" \
		    "$_TB_REPORTED reported: the plan is out of date"
	fi
	if [ -n "$_TB_PIDS_T" ]; then
		# shellcheck disable=SC2086
		tb_kill $_TB_PIDS_T
	fi
	if tb_have_product && [ -f "$T/.runtimes" ]; then
		local args
		while read -r r args; do
			TW_RUNTIME=$r
			_tb_cmd "${TB_NS_CLI:-}"
			# shellcheck disable=SC2086 # args are words without blanks
			timeout -k 2 10 "${TB_CMD[@]}" tunnelwrap -O stop \
			    -f "$TB_RULES" $args >/dev/null 2>&1 </dev/null
		done <"$T/.runtimes"
	fi
	TW_RUNTIME=$saved
	[ -n "${TB_TEST_CLEANUP:-}" ] && eval "$TB_TEST_CLEANUP"
	return 0
}
trap _tb_test_cleanup EXIT
trap 'exit 143' TERM INT

# Every test starts with a runtime dir of its own: helpers are not shared
# between tests.
tw_new_runtime

# tb_own_sshd NS ADDR PORT NAME [LINE...]: an sshd of the test's own in
# namespace NS, with the bed's configuration but listening on ADDR:PORT
# only, each LINE (an sshd_config line) replacing the bed's lines of its
# keyword.  Configuration $T/NAME.conf, log $T/NAME.log, PID in SSHD_PID
# (killed at exit).  Returns 1 when it does not listen within 10 s.
tb_own_sshd() {
	local ns=$1 addr=$2 port=$3 name=$4 l keys='ListenAddress|PidFile'
	shift 4
	for l in "$@"; do
		keys="$keys|${l%% *}"
	done
	{
		grep -Eiv "^(Match|[[:space:]]|($keys)[[:space:]])" "$TB_SSHD_CONFIG"
		printf 'ListenAddress %s:%s\nPidFile %s\n' "$addr" "$port" \
		    "$T/$name.pid"
		printf '%s\n' "$@"
	} >"$T/$name.conf"
	tb_spawn "$ns" /dev/null /usr/sbin/sshd -D -f "$T/$name.conf" \
	    -E "$T/$name.log"
	# shellcheck disable=SC2034 # for the test
	SSHD_PID=$SPAWNED
	tb_wait 10 tb_listening "$ns" "$addr" "$port"
}

# tb_conn_pids NS PORT: the PIDs holding the established TCP connections
# to local port PORT in namespace NS (an sshd's processes for our session:
# its monitor and the user's child), from ss.
tb_conn_pids() {
	ip netns exec "$1" ss -Htnp state established "( sport = :$2 )" |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u | xargs
}

# Compile a C program from tests/progs into $T; prints the binary's path.
tb_cc() {
	local src=$TB_TOP/tests/progs/$1.c bin=$T/$1
	[ -x "$bin" ] || cc -O2 -g -Wall -Wextra -Werror -o "$bin" "$src" ||
	    return 1
	printf '%s\n' "$bin"
}
