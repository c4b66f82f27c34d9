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
# t-static: programs the shim cannot reach - a statically linked busybox
# wget, a setuid binary, a static Go program - are detected before exec
# with a one-line warning naming the reason, and the proxy variables point
# at the helper's proxy endpoint (same rules, same session), so tools that
# honour them still go through the tunnel.  The same when a wrapped program
# runs them (a shell, env, make, Python's subprocess with vfork, and
# posix_spawn): the shim's exec hooks detect them.  All with
# -o Intercept=proxy: without it, static and Go programs run under the
# seccomp supervisor instead (t-seccomp.sh).
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "unreachable programs" || exit 0
tb_plan 14

# tw_piped ARGS...: tunnelwrap ARGS with stderr into a pipe, as on a
# terminal (the shim does not write into a regular file without -v); both
# streams end up in $OUT.
tw_piped() {
	cli sh -c 'tunnelwrap "$@" 2>&1 | cat' sh "$@"
}

# indirect PROGRAM: PROGRAM (fetching its first argument) run by other
# programs, each one way: fork+execve, execvp, vfork+execve, posix_spawn,
# make.  Each must warn once and fetch through the tunnel.
indirect() {
	local prog=$1 name how
	name=$(basename "$prog")
	printf 'all:\n\t%s http://wiki.corp.test/\n' "$prog" >"$T/Makefile"
	for how in "sh -c" env "python3 subprocess" "python3 posix_spawn" make; do
		case $how in
		"sh -c") tw_piped -f "$TB_RULES" -o Intercept=proxy sh -c "$prog http://wiki.corp.test/" ;;
		env) tw_piped -f "$TB_RULES" -o Intercept=proxy env "$prog" http://wiki.corp.test/ ;;
		"python3 subprocess") tw_piped -f "$TB_RULES" -o Intercept=proxy python3 -c '
import subprocess, sys
subprocess.run([sys.argv[1], "http://wiki.corp.test/"], check=True)' "$prog" ;;
		"python3 posix_spawn") tw_piped -f "$TB_RULES" -o Intercept=proxy python3 -c '
import os, sys
pid = os.posix_spawn(sys.argv[1], [sys.argv[1], "http://wiki.corp.test/"], os.environ)
os.waitpid(pid, 0)' "$prog" ;;
		make) tw_piped -f "$TB_RULES" -o Intercept=proxy make -s -f "$T/Makefile" ;;
		esac
		check "$name run by $how: one warning, then fetched through the tunnel" \
		    sh -c "grep -q 'intranet wiki OK' '$OUT' &&
		        [ \$(grep -c 'statically linked\|Go program' '$OUT') = 1 ]"
	done
}

if command -v busybox >/dev/null && ! ldd "$(command -v busybox)" >/dev/null 2>&1; then
	tw -f "$TB_RULES" -o Intercept=proxy busybox wget -q -O - http://wiki.corp.test/
	check "static busybox wget: one-line warning naming the reason" \
	    sh -c "grep -q 'statically linked' '$ERR' && [ \$(wc -l <'$ERR') = 1 ]"
	check "static busybox wget: fetched through the proxy and the tunnel" \
	    grep -q 'intranet wiki OK' "$OUT"
	tw_piped -f "$TB_RULES" -o Intercept=proxy sh -c 'busybox wget -q -O - http://wiki.corp.test/'
	check "static busybox run by a shell: warned, fetched through the tunnel" \
	    sh -c "grep -q 'intranet wiki OK' '$OUT' && grep -q 'statically linked' '$OUT'"
else
	skip "static busybox wget" "busybox-static not installed" 3
fi

# A setuid copy of curl: the loader would ignore LD_PRELOAD for a user.
cp "$(command -v curl)" "$T/curl-suid"
chmod 4755 "$T/curl-suid"
tw -f "$TB_RULES" "$T/curl-suid" -sS --max-time 10 http://wiki.corp.test/
check "setuid program: warned" grep -q 'setuid' "$ERR"
check "setuid program: works through the proxy variables" grep -q 'intranet wiki OK' "$OUT"

# A user's own proxy setting is kept: the user's proxy (a plain HTTP
# server on the client, which logs the proxy request it gets) receives the
# request, and the wiki's page never comes back.
mkdir -p "$T/userproxy"
echo "user proxy answered" >"$T/userproxy/index.html"
tb_spawn "$TB_NS_CLI" "$T/userproxy.log" python3 -u -m http.server 18123 \
    --bind 127.0.0.1 --directory "$T/userproxy"
userproxy=$SPAWNED
tb_wait 10 tb_listening "$TB_NS_CLI" 127.0.0.1 18123
TB_PASSENV="http_proxy=http://127.0.0.1:18123" tw -f "$TB_RULES" "$T/curl-suid" -sS --max-time 10 http://wiki.corp.test/
check "a proxy variable the user set is not overridden: the user's proxy got the request" \
    sh -c "grep -q '\"GET http://wiki.corp.test/ HTTP/1.1\"' '$T/userproxy.log' &&
    ! grep -q 'intranet wiki OK' '$OUT'"
tb_kill "$userproxy"

# Programs the shim reaches are run as they were: no variable added, no word.
tw -f "$TB_RULES" sh -c 'env | grep -ci "_proxy=" ; python3 -c "import os; print(len([k for k in os.environ if k.lower().endswith(\"_proxy\")]))"'
check "a dynamic program run by a shell gets no proxy variables, no warning" \
    sh -c "[ \"\$(tr '\n' ' ' <'$OUT')\" = '0 0 ' ] && [ ! -s '$ERR' ]"

if command -v go >/dev/null; then
	mkdir -p "$T/gofetch"
	cat >"$T/gofetch/main.go" <<'GO'
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	r, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	b, _ := io.ReadAll(r.Body)
	fmt.Print(string(b))
}
GO
	(cd "$T/gofetch" && HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOFLAGS=-mod=mod \
	    CGO_ENABLED=0 go mod init gofetch >/dev/null 2>&1 &&
	    HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath CGO_ENABLED=0 \
	    go build -o "$T/gofetch.bin" . ) >"$T/gobuild.log" 2>&1
	if [ -x "$T/gofetch.bin" ]; then
		tw -f "$TB_RULES" -o Intercept=proxy "$T/gofetch.bin" http://wiki.corp.test/
		check "static Go program: warned" grep -q 'statically linked\|Go program' "$ERR"
		check "static Go program: fetched through the proxy and the tunnel" \
		    grep -q 'intranet wiki OK' "$OUT"
		indirect "$T/gofetch.bin"
	else
		fail "static Go program builds" "$(tail -n 5 "$T/gobuild.log")"
	fi
else
	skip "static Go program" "no Go toolchain" 7
fi
