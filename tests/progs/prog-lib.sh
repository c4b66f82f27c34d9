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
# prog-lib.sh - shared by tests/t-prog-*.sh (bash, sourced after lib/tap.sh)
#
# Real programs through tunnelwrap, one family per test.  Every check
# belongs to a PROGRAM, and the script ends with a compatibility matrix,
# one line per program, on the runner's output and in the test's log:
#
#   matrix: PROGRAM: works
#   matrix: PROGRAM: works (NOTE)            caveats noted with pnote
#   matrix: PROGRAM: fails (first failed check[; NOTE])
#   matrix: PROGRAM: skipped (REASON)
#
#   pcheck PROG NAME CMD...    ok/fail "PROG: NAME" (fail shows tb_last)
#   pok PROG NAME | pfail PROG NAME [DETAILS] | pskip PROG REASON
#   pnote PROG TEXT            a caveat printed with the matrix line
#   pskipcheck PROG NAME WHY   one check of PROG skipped as expected not to
#                              work (a known limit), PROG's state unchanged
#   pstate PROG                prints works, fails, skipped, or nothing
#   pneed PROG PKG CMD...      true when every CMD exists; missing ones are
#                              installed from Debian (PKG, as CI does from
#                              tests/packages) when we are root with
#                              apt-get (not with TB_NO_INSTALL=1);
#                              otherwise PROG is skipped, with the reason,
#                              and pneed returns false
#   pplan N "PROG K"...        tb_plan: N results, and K for each PROG (a
#                              skip of PROG stands for its K)
#   pmatrix                    print the matrix (last thing in a script)

_PM_ORDER=()
declare -A _PM_STATE=() _PM_WHY=() _PM_NOTE=() _PM_PLAN=()

_pm_reg() {
	[ -n "${_PM_STATE[$1]+x}" ] && return 0
	_PM_ORDER+=("$1")
	_PM_STATE[$1]=works
}
pok() {
	_pm_reg "$1"
	ok "$1: $2"
}
pfail() {
	_pm_reg "$1"
	if [ "${_PM_STATE[$1]}" != fails ]; then
		_PM_STATE[$1]=fails
		_PM_WHY[$1]=$2
	fi
	fail "$1: $2" "${3:-}"
}
pskip() {
	local n=${_PM_PLAN[$1]:-1}
	[ "${_PM_STATE[$1]:-}" = skipped ] && n=0	# counted already
	_pm_reg "$1"
	if [ "${_PM_STATE[$1]}" = works ]; then
		_PM_STATE[$1]=skipped
		_PM_WHY[$1]=$2
	fi
	skip "$1" "$2" "$n"
}
# pplan N "PROG K"...: the test's plan (tb_plan): N results of its own and
# K for each PROG, which a skip of PROG (pneed, pskip) stands for.
pplan() {
	local n=$1 p
	shift
	for p in "$@"; do
		_PM_PLAN[${p% *}]=${p##* }
		n=$((n + ${p##* }))
	done
	tb_plan "$n"
}
pstate() {
	printf '%s\n' "${_PM_STATE[$1]:-}"
}
# pskipcheck PROG NAME WHY: a check of PROG that a documented limit keeps
# from working (README's Limits: programs the shim cannot reach, or the
# line $PSKIP_README names).
pskipcheck() {
	_pm_reg "$1"
	skip_limit "$1: $2 ($3)" "${PSKIP_README:-and name lookups go out directly, as without tunnelwrap}"
}
pnote() {
	_pm_reg "$1"
	_PM_NOTE[$1]="${_PM_NOTE[$1]:+${_PM_NOTE[$1]}; }$2"
}
pcheck() {
	local prog=$1 name=$2
	shift 2
	if "$@"; then pok "$prog" "$name"; else pfail "$prog" "$name" "$(tb_last)"; fi
}

pneed() {
	local prog=$1 pkg=$2 c missing=
	shift 2
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 &&
	    [ "${TB_NO_INSTALL:-0}" != 1 ]; then
		printf 'installing %s for%s\n' "$pkg" "$missing"
		# shellcheck disable=SC2086 # PKG: one or more package names
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
		    --no-install-recommends $pkg >"$T/apt-$prog.log" 2>&1
		missing=
		for c in "$@"; do
			command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
		done
		[ -z "$missing" ] && return 0
		pskip "$prog" "missing$missing; apt-get install $pkg: $(grep -E '^E:' "$T/apt-$prog.log" | tail -n 1)"
		return 1
	fi
	pskip "$prog" "missing$missing (Debian package $pkg, not installed: not root, no apt-get, or TB_NO_INSTALL=1)"
	return 1
}

pmatrix() {
	local p line
	for p in "${_PM_ORDER[@]}"; do
		case ${_PM_STATE[$p]} in
		works) line="works${_PM_NOTE[$p]:+ (${_PM_NOTE[$p]})}" ;;
		fails) line="fails (${_PM_WHY[$p]}${_PM_NOTE[$p]:+; ${_PM_NOTE[$p]}})" ;;
		skipped) line="skipped (${_PM_WHY[$p]})" ;;
		esac
		printf 'matrix: %s: %s\n' "$p" "$line"
		printf '  matrix: %s: %s\n' "$p" "$line" >&3
	done
}

# A server in the intranet namespace: pspawn_int LOG CMD... (PID in SPAWNED).
pspawn_int() {
	local log=$1
	shift
	tb_spawn "$TB_NS_INT" "$log" "$@"
}

# pwait_port PORT [SECS]: a listener on the intranet IPv4 address.
pwait_port() {
	tb_wait "${2:-15}" tb_listening "$TB_NS_INT" "$TB_INT4" "$1"
}
