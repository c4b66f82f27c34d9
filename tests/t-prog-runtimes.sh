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
# t-prog-runtimes: language runtimes through tunnelwrap, unmodified, each
# the usual way a program in that language reaches a server (by name, so
# remote DNS): python3 (what t-python does not cover: threads resolving at
# once, many asyncio streams, happy eyeballs, refusal, reverse lookup),
# node (tests/progs/nodeprobe.js: libuv resolves in a thread pool), Java
# (tests/progs/TwProbe.java: Socket, NIO, HttpURLConnection, HttpClient)
# and Go (tests/progs/goprobe.go) built with cgo and run with
# GODEBUG=netdns=cgo, and built static (CGO_ENABLED=0): Go's raw system
# calls bypass the shim and are decided by the launcher's seccomp
# supervisor, which sends a static build's own DNS queries to the helper's
# DNS responder.
. "$(dirname "$0")/lib/tap.sh"
. "$TB_TOP/tests/progs/prog-lib.sh"
tb_need_product
tb_need_netns "runtimes through the tunnel" || exit 0
# python3 6; node: 8 steps and its exit; Java: 5 steps, its exit, the IPv4
# stack; Go: cgo 7, cgo started by env 4, static 8 (one pneed for all).
pplan 6 "node 9" "java 7" "go (cgo, netdns=cgo) 19"

PROGS=$TB_TOP/tests/progs

# probe PROG CMD...: run CMD through tunnelwrap; one result per
# "ok NAME (note)" / "fail NAME -- detail" line it prints.  PROBE_STEPS
# names every step the probe has ("A|B|C"): a step that printed nothing (a
# probe that crashed half way) is a failure; so is an exit status other
# than the probe's own verdict (1 when a step failed, else 0).  A failed
# step whose name matches PROBE_EXPECTED is a limit README documents
# (pskipcheck; PROBE_WHY says which), and so is such a step that passed:
# it can only have gone direct, into the leak trap that answers.  What it
# did goes to the log.
probe() {
	local prog=$1 line name step nfail=0 want mark seen
	shift
	mark=$(tb_trap_mark)
	tw -f "$TB_RULES" "$@"
	# A documented limit (PROBE_EXPECTED) leaks on purpose: what the trap
	# records then is that limit, not a new leak - when every line of it
	# is of the kinds the limit covers (PROBE_LEAKS).  Anything else stays
	# a leak of this test.
	if [ -n "${PROBE_EXPECTED:-}" ]; then
		sleep 0.2
		seen=$(tb_trap_leaks "$mark")
		if [ -n "$seen" ] &&
		    printf '%s\n' "$seen" | grep -Evq -- "$PROBE_LEAKS"; then
			printf 'the leak trap saw more than the documented limit:\n%s\n' "$seen"
		else
			tb_trap_expect "$mark"
		fi
	fi
	while IFS= read -r line; do
		case $line in
		"ok "*)
			name=${line#ok }
			# A step expected not to go through that "works"
			# went direct, into the leak trap (which answers).
			if [ -n "${PROBE_EXPECTED:-}" ] &&
			    printf '%s\n' "${name%% (*}" | grep -Eqx -- "$PROBE_EXPECTED"; then
				printf '%s: %s: a documented limit; it went direct: ok %s\n' \
				    "$prog" "${name%% (*}" "$name"
				pskipcheck "$prog" "${name%% (*}" "$PROBE_WHY"
			else
				pok "$prog" "$name"
			fi ;;
		"fail "*)
			nfail=$((nfail + 1))
			line=${line#fail }
			name=${line%% -- *}
			if [ -n "${PROBE_EXPECTED:-}" ] &&
			    printf '%s\n' "$name" | grep -Eqx -- "$PROBE_EXPECTED"; then
				printf '%s: %s: a documented limit; it did: %s\n' \
				    "$prog" "$name" "${line#* -- }"
				pskipcheck "$prog" "$name" "$PROBE_WHY"
			else
				pfail "$prog" "$name" "${line#* -- }"
			fi ;;
		esac
	done <"$OUT"
	while IFS= read -r step; do
		awk -v s="$step" '
		    index($0, "ok " s) == 1 && (length($0) == length(s) + 3 ||
		        substr($0, length(s) + 4, 2) == " (") { f = 1 }
		    index($0, "fail " s " -- ") == 1 { f = 1 }
		    END { exit !f }' "$OUT" ||
		    pfail "$prog" "$step" "no result: the probe ended first ($(tb_last))"
	done < <(printf '%s\n' "$PROBE_STEPS" | tr '|' '\n')
	want=$((nfail > 0))
	if [ "$RC" = "$want" ]; then
		pok "$prog" "$(basename "$1") exits $RC, as its steps say"
	else
		pfail "$prog" "$(basename "$1") exits $want, as its steps say" "$(tb_last)"
	fi
}

# --- python3 ---------------------------------------------------------------
py() { tw -f "$TB_RULES" python3 -c "$1"; }
py 'import concurrent.futures, urllib.request
def get(i):
    return urllib.request.urlopen("http://wiki.corp.test/", timeout=20).read()
with concurrent.futures.ThreadPoolExecutor(16) as ex:
    bodies = list(ex.map(get, range(32)))
print("ok", sum(b"intranet wiki OK" in b for b in bodies))'
pcheck python3 "urllib: 32 fetches from 16 threads at once" \
    grep -qx 'ok 32' "$OUT"

py 'import asyncio
async def one(i):
    payload = (b"stream %d " % i) * (2000 + i)
    r, w = await asyncio.wait_for(asyncio.open_connection("echo.corp.test", 7), 20)
    w.write(payload)
    w.write_eof()
    data = await asyncio.wait_for(r.read(), 20)
    w.close()
    return data == payload
async def main():
    res = await asyncio.gather(*(one(i) for i in range(30)))
    print("streams", sum(res))
asyncio.run(main())'
pcheck python3 "asyncio: 30 streams at once (executor resolver), each its own echo" \
    grep -qx 'streams 30' "$OUT"

py 'import asyncio
async def main():
    r, w = await asyncio.wait_for(asyncio.open_connection("echo.corp.test", 7,
        happy_eyeballs_delay=0.25, interleave=1), 20)
    w.write(b"eyeballs\n")
    print("echo", (await asyncio.wait_for(r.readline(), 20)).decode().strip())
    w.close()
asyncio.run(main())'
pcheck python3 "asyncio: open_connection with happy eyeballs" \
    grep -qx 'echo eyeballs' "$OUT"

# (AF_INET: by name a tunneled host has two addresses, one per family, and
# asyncio reports two refusals as "Multiple exceptions", as it would for
# any dual-stack host.)
py 'import asyncio, socket
async def main():
    try:
        await asyncio.wait_for(asyncio.open_connection("wiki.corp.test", 81,
            family=socket.AF_INET), 20)
        print("connected")
    except ConnectionRefusedError:
        print("refused")
asyncio.run(main())'
pcheck python3 "asyncio: a refusing port raises ConnectionRefusedError" \
    grep -qx 'refused' "$OUT"

py 'import socket
a = socket.getaddrinfo("wiki.corp.test", 80, socket.AF_INET)[0][4][0]
print("reverse", socket.getnameinfo((a, 80), socket.NI_NAMEREQD)[0])'
pcheck python3 "socket.getnameinfo of the synthetic address: the name" \
    grep -qx 'reverse wiki.corp.test' "$OUT"

# CPython's gethostbyaddr is libc's gethostbyaddr_r.
py 'import socket
a = socket.getaddrinfo("wiki.corp.test", 80, socket.AF_INET)[0][4][0]
print("reverse", socket.gethostbyaddr(a)[0])'
pcheck python3 "socket.gethostbyaddr of the synthetic address: the name" \
    grep -qx 'reverse wiki.corp.test' "$OUT"

# --- node ------------------------------------------------------------------
# Debian's nodejs installs /usr/bin/node; a machine may also have a node of
# its own earlier in PATH (nvm, a tarball): the packaged one is the one
# tested when it is there.
if [ -x /usr/bin/node ] || pneed node nodejs node; then
	NODE=$(command -v node)
	[ -x /usr/bin/node ] && NODE=/usr/bin/node
	pnote node "$NODE $($NODE --version 2>/dev/null) ($(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || echo 'not from a package'))"
	PROBE_STEPS="dns.lookup all|http.get|net.connect, 1 MB echo|net.connect family 6, echo|20 http.get at once (thread-pool resolver)|20 echoes at once, each its own payload|fetch (undici)|refused port: ECONNREFUSED" \
	    probe node "$NODE" "$PROGS/nodeprobe.js" echo.corp.test wiki.corp.test
fi

# --- Java ------------------------------------------------------------------
if pneed java openjdk-17-jdk-headless javac java; then
	if javac -d "$T/java" "$PROGS/TwProbe.java" >"$T/javac.log" 2>&1; then
		PROBE_STEPS="InetAddress.getAllByName|java.net.Socket: connect, echo|SocketChannel (NIO): connect, echo|HttpURLConnection GET http://wiki.corp.test/|java.net.http.HttpClient GET http://wiki.corp.test/" \
		    probe java java -cp "$T/java" TwProbe echo.corp.test wiki.corp.test
		grep -q '^fail .*Network is unreachable' "$OUT" &&
		    pnote java "AF_INET6 sockets connect to ::ffff:<synthetic IPv4>, which the shim sends direct"
		# Java's sockets are AF_INET6 (dual stack): an IPv4 destination
		# is connected as ::ffff:a.b.c.d.  With the IPv4 stack only, or
		# IPv6 addresses first, it sees no mapped address.
		tw -f "$TB_RULES" java -Djava.net.preferIPv4Stack=true -cp "$T/java" \
		    TwProbe echo.corp.test wiki.corp.test
		if [ "$RC" = 0 ] && ! grep -q '^fail' "$OUT"; then
			pok java "all of it with -Djava.net.preferIPv4Stack=true"
			[ "$(pstate java)" = fails ] &&
			    pnote java "works with -Djava.net.preferIPv4Stack=true"
		else
			pfail java "all of it with -Djava.net.preferIPv4Stack=true" "$(tb_last)"
		fi
	else
		pfail java "javac TwProbe.java" "$(tail -n 5 "$T/javac.log")"
	fi
fi

GO_STEPS="net.LookupHost|net.Dial, echo|net/http GET"
# What the leak trap sees of them: the echo connect, a static one's
# queries.
GO_DIAL_LEAK='^(packet tcp [^ ]+ -> [^ ]+:7|connect [^ ]+:7 from [^ ]+)$'

# --- Go --------------------------------------------------------------------
# Go makes its socket system calls itself, cgo or not: only a cgo build's
# resolver goes through libc (GODEBUG=netdns=cgo), and connect(2) never
# does.  The launcher detects a Go (or static) program before exec and
# runs it under its seccomp supervisor, which decides each connect(2) by
# the rules (synthetic addresses by name), and also points the proxy
# variables at the helper's proxy.  A static build's own DNS queries go
# to the helper's DNS responder, which answers by the rules.
GO_CGO="go (cgo, netdns=cgo)"
GO_STATIC="go (static, CGO_ENABLED=0)"
if pneed "$GO_CGO" golang-go go; then
	GOENV=(env GOPATH="$T/gopath" GOCACHE="$T/gocache" GOFLAGS= GOPROXY=off
	    GO111MODULE=off HOME="$T")
	cp "$PROGS/goprobe.go" "$T/goprobe.go"
	if (cd "$T" && CGO_ENABLED=1 timeout 300 "${GOENV[@]}" go build \
	    -o goprobe-cgo goprobe.go) >"$T/go-cgo.log" 2>&1; then
		pok "$GO_CGO" "build with CGO_ENABLED=1"
		saved=$TB_PASSENV
		TB_PASSENV="$TB_PASSENV GODEBUG=netdns=cgo+1"
		PROBE_STEPS=$GO_STEPS probe "$GO_CGO" "$T/goprobe-cgo" echo.corp.test wiki.corp.test
		pcheck "$GO_CGO" "under the seccomp supervisor: no warning" \
		    sh -c "! grep -q 'is a Go program' '$ERR'"
		pcheck "$GO_CGO" "GODEBUG=netdns=cgo: the cgo resolver in use" \
		    grep -q 'using cgo DNS resolver' "$ERR"
		pnote "$GO_CGO" "names through the shim, raw net.Dial through the seccomp supervisor"
		TB_PASSENV=$saved
		# Started by another program (a script, env, make), the launcher
		# sees only that one; the shim in env catches the Go program on
		# its way through execvp and runs it under a supervisor.
		PROBE_STEPS=$GO_STEPS probe "$GO_CGO, started by env" env GODEBUG=netdns=cgo+1 \
		    "$T/goprobe-cgo" echo.corp.test wiki.corp.test
		pnote "$GO_CGO, started by env" "caught by the shim's exec hook in env: supervised (seccomp)"
	else
		pfail "$GO_CGO" "build with CGO_ENABLED=1" "$(tail -n 5 "$T/go-cgo.log")"
	fi
	if (cd "$T" && CGO_ENABLED=0 timeout 300 "${GOENV[@]}" go build \
	    -o goprobe-static goprobe.go) >"$T/go-static.log" 2>&1; then
		pok "$GO_STATIC" "build with CGO_ENABLED=0"
		# Its resolver's socket goes to the helper's DNS responder:
		# by name too, nothing reaches the leak trap (the local
		# resolver); without the filter, its queries do.
		mark=$(tb_trap_mark)
		PROBE_STEPS=$GO_STEPS probe "$GO_STATIC" "$T/goprobe-static" echo.corp.test wiki.corp.test
		check_no_leak "$GO_STATIC: no query and no dial reached the leak trap" "$mark"
		pcheck "$GO_STATIC" "under the seccomp supervisor: no warning" \
		    sh -c "! grep -q 'statically linked' '$ERR'"
		mark=$(tb_trap_mark)
		tw -f "$TB_RULES" -o Intercept=proxy "$T/goprobe-static" echo.corp.test wiki.corp.test
		check_trap_caught "$GO_STATIC: negative control (Intercept=proxy): its own queries reach the local resolver" "$mark"
		pnote "$GO_STATIC" "dials (by name: its resolver to the helper's DNS responder) through the seccomp supervisor, net/http through the launcher's proxy"
	else
		pfail "$GO_STATIC" "build with CGO_ENABLED=0" "$(tail -n 5 "$T/go-static.log")"
	fi
fi

pmatrix
