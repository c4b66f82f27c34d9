#!/usr/bin/env bash
# t-prog-runtimes: language runtimes through tunnelwrap, unmodified, each
# the usual way a program in that language reaches a server (by name, so
# remote DNS): python3 (what t-python does not cover: threads resolving at
# once, many asyncio streams, happy eyeballs, refusal, reverse lookup),
# node (tests/progs/nodeprobe.js: libuv resolves in a thread pool), Java
# (tests/progs/TwProbe.java: Socket, NIO, HttpURLConnection, HttpClient)
# and Go (tests/progs/goprobe.go) built with cgo and run with
# GODEBUG=netdns=cgo, and built static (CGO_ENABLED=0): Go's raw system
# calls bypass the shim and are decided by the launcher's seccomp
# supervisor; a static build's own DNS queries are refused there.
. "$(dirname "$0")/lib/tap.sh"
. "$TB_TOP/tests/progs/prog-lib.sh"
tb_need_product
tb_need_netns "runtimes through the tunnel" || exit 0

PROGS=$TB_TOP/tests/progs

# probe PROG CMD...: run CMD through tunnelwrap; one result per
# "ok NAME (note)" / "fail NAME -- detail" line it prints.
probe() {
	local prog=$1 line name n=0 mark
	shift
	mark=$(tb_trap_mark)
	tw -f "$TB_RULES" "$@"
	# A documented limit (PROBE_EXPECTED) leaks on purpose: what the trap
	# records then is that limit, not a new leak.
	[ -n "${PROBE_EXPECTED:-}" ] && tb_trap_expect "$mark"
	while IFS= read -r line; do
		case $line in
		"ok "*)
			pok "$prog" "${line#ok }"
			n=$((n + 1)) ;;
		"fail "*)
			line=${line#fail }
			name=${line%% -- *}
			if [ -n "${PROBE_EXPECTED:-}" ] &&
			    printf '%s\n' "$name" | grep -Eqx -- "$PROBE_EXPECTED"; then
				pskipcheck "$prog" "$name" "$PROBE_WHY; it did: ${line#* -- }"
			else
				pfail "$prog" "$name" "${line#* -- }"
			fi
			n=$((n + 1)) ;;
		esac
	done <"$OUT"
	if [ "$n" = 0 ]; then
		pfail "$prog" "$(basename "$1") ran" "$(tb_last)"
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
	probe node "$NODE" "$PROGS/nodeprobe.js" echo.corp.test wiki.corp.test
fi

# --- Java ------------------------------------------------------------------
if pneed java openjdk-17-jdk-headless javac java; then
	if javac -d "$T/java" "$PROGS/TwProbe.java" >"$T/javac.log" 2>&1; then
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

# --- Go --------------------------------------------------------------------
# Go makes its socket system calls itself, cgo or not: only a cgo build's
# resolver goes through libc (GODEBUG=netdns=cgo), and connect(2) never
# does.  The launcher detects a Go (or static) program before exec and
# runs it under its seccomp supervisor, which decides each connect(2) by
# the rules (synthetic addresses by name), and also points the proxy
# variables at the helper's proxy.  A static build's own DNS queries are
# refused (skips, with what happened); anything else is a failure.
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
		probe "$GO_CGO" "$T/goprobe-cgo" echo.corp.test wiki.corp.test
		pcheck "$GO_CGO" "under the seccomp supervisor: no warning" \
		    sh -c "! grep -q 'is a Go program' '$ERR'"
		pcheck "$GO_CGO" "GODEBUG=netdns=cgo: the cgo resolver in use" \
		    grep -q 'using cgo DNS resolver' "$ERR"
		pnote "$GO_CGO" "names through the shim, raw net.Dial through the seccomp supervisor"
		TB_PASSENV=$saved
		# Started by another program (a script, env, make), the launcher
		# sees only that one; the shim in env catches the Go program on
		# its way through execvp and runs it under a supervisor.
		probe "$GO_CGO, started by env" env GODEBUG=netdns=cgo+1 \
		    "$T/goprobe-cgo" echo.corp.test wiki.corp.test
		pnote "$GO_CGO, started by env" "caught by the shim's exec hook in env: supervised (seccomp)"
	else
		pfail "$GO_CGO" "build with CGO_ENABLED=1" "$(tail -n 5 "$T/go-cgo.log")"
	fi
	if (cd "$T" && CGO_ENABLED=0 timeout 300 "${GOENV[@]}" go build \
	    -o goprobe-static goprobe.go) >"$T/go-static.log" 2>&1; then
		pok "$GO_STATIC" "build with CGO_ENABLED=0"
		PSKIP_README='DNS queries (UDP/TCP port 53) are refused with `EACCES`' \
		    PROBE_EXPECTED='net\.Dial, echo|net\.LookupHost' \
		    PROBE_WHY="a static Go program's own DNS queries are refused under the seccomp supervisor (EACCES) until the helper answers DNS; by name it reaches hosts only through the proxy variables" \
		    probe "$GO_STATIC" "$T/goprobe-static" echo.corp.test wiki.corp.test
		pcheck "$GO_STATIC" "under the seccomp supervisor: no warning" \
		    sh -c "! grep -q 'statically linked' '$ERR'"
		pnote "$GO_STATIC" "raw dials by address through the seccomp supervisor, net/http through the launcher's proxy; its own DNS refused"
	else
		pfail "$GO_STATIC" "build with CGO_ENABLED=0" "$(tail -n 5 "$T/go-static.log")"
	fi
fi

pmatrix
