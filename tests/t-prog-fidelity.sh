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
# t-prog-fidelity: what programs that do unusual things see through
# tunnelwrap (tests/progs/fidelity.c): 64 threads resolving and connecting
# at once, fork without exec (also while other threads connect), fork+exec,
# posix_spawn, vfork, a double-forking setsid() daemon, closing every
# descriptor (closefrom, close_range, SYS_close_range, a close() loop,
# CLOSE_RANGE_CLOEXEC + exec), dup2 over arbitrary numbers, socket options
# and a bind() kept across a tunneled connect, getsockname, and every
# resolver entry point agreeing (getaddrinfo flags, gethostbyname family,
# getnameinfo/gethostbyaddr back to the name).  Each process-and-descriptor
# check runs first directly in the intranet namespace (baseline: the
# program itself is right), then through tunnelwrap.
. "$(dirname "$0")/lib/tap.sh"
. "$TB_TOP/tests/progs/prog-lib.sh"
tb_need_product
tb_need_netns "unusual programs through the tunnel" || exit 0
# fidelity.c prints a fixed set of checks per run.
pplan 176

if fid=$(tb_cc fidelity 2>"$T/cc.err"); then
	ok "compile fidelity.c (-Wall -Wextra -Werror)"
else
	fail "compile fidelity.c (-Wall -Wextra -Werror)" "$(tail -n 5 "$T/cc.err")"
	exit 0
fi

# fidelity PROG int|tw ARGS...: one result per "ok"/"fail" line.
fidelity() {
	local prog=$1 where=$2 line rest name n=0
	shift 2
	if [ "$where" = tw ]; then
		tw -f "$TB_RULES" "$fid" -t 15 "$@"
	else
		int "$fid" -t 15 "$@"
	fi
	while IFS= read -r line; do
		case $line in
		"ok "*)
			line=${line#ok }
			pok "$prog" "${line#"$prog: "}"
			n=$((n + 1)) ;;
		"fail "*)
			rest=${line#fail }
			name=${rest%% -- *}
			pfail "$prog" "${name#"$prog: "}" "${rest#* -- }"
			n=$((n + 1)) ;;
		"info "*)
			printf '%s\n' "$line" ;;
		esac
	done <"$OUT"
	if [ "$n" = 0 ] || { [ "$RC" != 0 ] && [ "$RC" != 1 ]; }; then
		pfail "$prog" "fidelity $* ran" "$(tb_last)"
	fi
}

NAMES=(echo.corp.test wiki.corp.test db.corp.test v4only.corp.test v6only.corp.test)

# Baseline, directly in the intranet (real addresses, no shim).
BASE="fidelity.c without tunnelwrap (baseline)"
fidelity "$BASE" int threads 64 "${NAMES[@]:0:3}"
for c in fork forkthreads forkexec spawn vfork; do
	fidelity "$BASE" int "$c" echo.corp.test
done
fidelity "$BASE" int daemon echo.corp.test "$T/daemon-baseline.out"
for c in closefrom closerange sysclose closeloop cloexec; do
	fidelity "$BASE" int "$c" echo.corp.test wiki.corp.test
done
fidelity "$BASE" int dup2 echo.corp.test "$TB_INT4" "$TB_HTTP_PORT"
fidelity "$BASE" int sockopts echo.corp.test "$TB_INT4"

# Through tunnelwrap; -S: distinct names have distinct (synthetic) addresses.
fidelity threads tw -S threads 64 "${NAMES[@]}"
fidelity fork tw -S fork echo.corp.test
fidelity fork tw -S forkthreads echo.corp.test
fidelity exec tw -S forkexec echo.corp.test
fidelity exec tw -S spawn echo.corp.test
fidelity exec tw -S vfork echo.corp.test
fidelity daemon tw -S daemon echo.corp.test "$T/daemon.out"
# Each closes everything, then resolves a name it has not seen yet.
fidelity close tw -S closefrom echo.corp.test wiki.corp.test
fidelity close tw -S closerange echo.corp.test db.corp.test
fidelity close tw -S sysclose echo.corp.test v4only.corp.test
fidelity close tw -S closeloop echo.corp.test v6only.corp.test
fidelity close tw -S cloexec echo.corp.test git.corp.test
# The direct socket: the bastion's sshd, reached without SSH (direct *).
fidelity dup2 tw -S dup2 echo.corp.test bastion.test 22
fidelity sockopts tw -S sockopts echo.corp.test "$TB_CLI4"
fidelity resolver tw -S resolver wiki.corp.test
# Dual-stack programs (Java) connect AF_INET6 sockets to ::ffff:a.b.c.d.
fidelity mapped tw -S mapped echo.corp.test

# The glibc tools agree with the program's view.
tw -f "$TB_RULES" getent ahostsv4 wiki.corp.test
pcheck resolver "getent ahostsv4: a synthetic IPv4 address" \
    grep -Eq '^203\.0\.113\.[0-9]+ +STREAM wiki\.corp\.test' "$OUT"
tw -f "$TB_RULES" getent hosts wiki.corp.test
pcheck resolver "getent hosts: a synthetic address, the name" \
    grep -Eq '^(203\.0\.113\.[0-9]+|2001:db8:ff:[0-9a-f:]+) +wiki\.corp\.test$' "$OUT"

pmatrix
