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
# t-tsan: the shim under ThreadSanitizer.  The shim (make tsan-shim: the
# Makefile's SHIM_SRC, RULES_SRC and COMMON_SRC with clang
# -fsanitize=thread) is preloaded (TUNNELWRAP_SHIM) into
# tests/progs/fidelity.c, built with -fsanitize=thread too so that the TSan
# runtime, which must be in the program, is there.  `fidelity threads`: 64
# threads released at once resolving and connecting through the tunnel (as
# in t-prog-fidelity), three rounds (a race shows in some runs only); then
# `forkthreads`: 20 forks while 8 threads connect.  Any "WARNING:
# ThreadSanitizer" fails, with the report symbolized here.  The threads run
# first without tunnelwrap, in the intranet: a report there is the test
# program's own, or glibc's.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "the shim under ThreadSanitizer" || exit 0
tb_plan 7		# two builds, the baseline, three rounds, the forks
# Independent of the build under test: make check runs it, check-asan not
# again.
if grep -qa __asan_init "$TB_HELPER"; then
	skip "shim under ThreadSanitizer" "sanitizer build (make check-asan): runs in make check" rest
	exit 0
fi

if ! command -v clang >/dev/null; then
	skip "shim under ThreadSanitizer" "clang not installed (tests/packages)" rest
	exit 0
fi
S=$T/tsan
# TW_TSAN_TOP: build the shim from another tree (a candidate fix).
TB_TIMEOUT=300 tb_capture make -s -C "${TW_TSAN_TOP:-$TB_TOP}" TSAN_OUT="$S" tsan-shim
if [ "$RC" != 0 ]; then
	fail "shim built with -fsanitize=thread (make tsan-shim)" "$(tb_last)"
	exit 0
fi
if nm -D "$S/libtunnelwrap.so" | grep -q ' U __tsan_func_entry'; then
	ok "shim built with -fsanitize=thread (instrumented: calls __tsan_*)"
else
	fail "shim built with -fsanitize=thread" "no __tsan_func_entry in $S/libtunnelwrap.so"
fi
fid=$S/fidelity
tb_capture clang -O1 -g -fsanitize=thread -fno-omit-frame-pointer -Wall \
    -Wextra -Werror -o "$fid" "$TB_TOP/tests/progs/fidelity.c" -lpthread
if [ "$RC" != 0 ]; then
	fail "fidelity.c built with -fsanitize=thread" "$(tb_last)"
	exit 0
fi
ok "fidelity.c built with -fsanitize=thread"

# Reports go to stderr; exit status 66 if any (the program's is 0 or 1).
# glibc is not instrumented: its resolver's internal locking is invisible
# to TSan, which then reports malloc/realloc called from inside it (the
# baseline's gethostbyname_r) as races.  Interceptors called from libc are
# ignored; every access the shim itself makes is still checked.
printf 'called_from_lib:libc.so.6\n' >"$S/suppressions"
TB_PASSENV="${TB_PASSENV:-} TSAN_OPTIONS=exitcode=66:second_deadlock_stack=1:history_size=4:suppressions=$S/suppressions"
NAMES=(echo.corp.test wiki.corp.test db.corp.test v4only.corp.test v6only.corp.test)

# TSan cannot symbolize under the shim (llvm-symbolizer, its child, would
# get the TSan shim preloaded without the runtime): frames named
# (libtunnelwrap.so+0x...) or (fidelity+0x...) are looked up here.
symbolize() {
	local line bin off fn loc
	while IFS= read -r line; do
		if [[ $line =~ \((libtunnelwrap\.so|fidelity)\+(0x[0-9a-f]+)\) ]]; then
			bin=$S/${BASH_REMATCH[1]}
			off=${BASH_REMATCH[2]}
			{ read -r fn; read -r loc; } < <(addr2line -f -e "$bin" "$off")
			line="${line%%<null>*}$fn $loc (${BASH_REMATCH[1]}+$off)"
		fi
		printf '%s\n' "$line"
	done
}

# tsan_run WHAT: checks the last command's output.
tsan_run() {
	local what=$1 nok nfail
	nok=$(grep -c '^ok ' "$OUT")
	nfail=$(grep -c '^fail ' "$OUT")
	if grep -q 'WARNING: ThreadSanitizer\|ERROR: ThreadSanitizer\|FATAL: ThreadSanitizer' "$ERR" "$OUT"; then
		symbolize <"$ERR" >"$ERR.sym"
		fail "$what: ThreadSanitizer reports: $(grep -c 'WARNING: ThreadSanitizer' "$ERR") (the first below; all in $ERR.sym)" \
		    "$(grep -h -A 30 'ThreadSanitizer' "$ERR.sym" "$OUT" | grep -v 'BuildId' | head -n 60)"
	elif [ "$RC" != 0 ] || [ "$nok" = 0 ]; then
		fail "$what: ran (rc $RC, $nok ok, $nfail failed)" "$(tb_last)"
	else
		ok "$what: no ThreadSanitizer report ($nok checks ok)"
	fi
	[ "$nfail" = 0 ] || fail "$what: fidelity's own checks" \
	    "$(grep '^fail ' "$OUT" | head -n 5)"
}

TB_TIMEOUT=240 int "$fid" -t 60 threads 64 "${NAMES[@]:0:3}"
tsan_run "baseline: 64 threads, no tunnelwrap"

t0=$(date +%s)
TB_PASSENV="$TB_PASSENV TUNNELWRAP_SHIM=$S/libtunnelwrap.so"
# A race shows in some runs only: three rounds, each a fresh process.
for round in 1 2 3; do
	TB_TIMEOUT=240 tw -f "$TB_RULES" "$fid" -t 60 -S threads 64 "${NAMES[@]}"
	tsan_run "TSan shim, round $round: 64 threads resolving and connecting through the tunnel"
done
# fork() 20 times while 8 threads connect (the shim's atfork locking).
TB_TIMEOUT=240 tw -f "$TB_RULES" "$fid" -t 60 -S forkthreads echo.corp.test
tsan_run "TSan shim: 20 forks while 8 threads resolve and connect"
printf 'info tsan run through tunnelwrap: %s s\n' "$(($(date +%s) - t0))"
