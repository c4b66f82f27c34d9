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
# t-install: `make install` and `make uninstall` as GNU conventions want
# them (PREFIX, DESTDIR, BINDIR, LIBDIR, MANDIR, SYSCONFDIR), and the
# installed tree standing on its own: the launcher finds the installed shim
# and helper relative to itself (no TUNNELWRAP_* in the environment), a
# tunneled curl goes through the installed helper, no build path is baked
# into what is installed, the shipped rules examples parse, and uninstall
# leaves nothing.  With gcc -m32, the 32-bit shim (make shim32) is installed
# and carries a 32-bit program's connections to the 64-bit helper.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product

top=$TB_TOP
b=$(cd "$(dirname "$TB_TUNNELWRAP")" && pwd)
# Installing rebuilds nothing, but make must be given the build tree the
# suite tests (B), and that must be one.
if [ ! -d "$b/obj" ] || [ ! -f "$top/Makefile" ]; then
	skip "make install" "$b is not a build tree of $top (installed product?)"
	exit 0
fi
MAKE=(make -s -C "$top" B="$b")

# inst ROOT [VAR=VALUE...]: make install into ROOT (DESTDIR); RC, OUT, ERR.
inst() {
	local root=$1
	shift
	tb_capture "${MAKE[@]}" DESTDIR="$root" "$@" install
}
uninst() {
	local root=$1
	shift
	tb_capture "${MAKE[@]}" DESTDIR="$root" "$@" uninstall
}
# left ROOT: what is left in ROOT besides directories.
left() { find "$1" ! -type d | sed "s|^$1||"; }

# -- PREFIX=/usr, the default layout --------------------------------------
R=$T/root
inst "$R" PREFIX=/usr
if [ "$RC" != 0 ]; then
	fail "make install DESTDIR=... PREFIX=/usr" "$(tb_last)"
	exit 0
fi
ok "make install DESTDIR=\$T/root PREFIX=/usr"
# 26 results; without namespaces the unit's run stands as one skip (of 3)
# and the tunneled curl as one (of 2).
if [ "$TB_MODE" = netns ]; then tb_plan 26; else tb_plan 23; fi

missing=""
for f in usr/bin/tunnelwrap:755 \
    usr/lib/tunnelwrap/tunnelwrap-helper:755 \
    usr/lib/tunnelwrap/libtunnelwrap.so:644 \
    usr/share/man/man1/tunnelwrap.1:644 \
    usr/share/man/man5/tunnelwrap-rules.5:644 \
    etc/tunnelwrap/rules.example:644 \
    usr/share/bash-completion/completions/tunnelwrap:644 \
    usr/share/zsh/site-functions/_tunnelwrap:644 \
    usr/lib/systemd/user/tunnelwrap@.service:644 \
    usr/share/doc/tunnelwrap/examples/firefox-tunnelwrap.desktop:644; do
	p=${f%:*} mode=${f##*:}
	if [ ! -f "$R/$p" ]; then
		missing="$missing $p"
	elif [ "$(stat -c %a "$R/$p")" != "$mode" ]; then
		missing="$missing $p(mode $(stat -c %a "$R/$p"), want $mode)"
	fi
done
if [ -z "$missing" ]; then
	ok "installed tree: launcher, helper, shim, man pages, rules.example, completions, unit, desktop entry (modes)"
else
	fail "installed tree: missing or wrong mode:$missing" "$(left "$R")"
fi
napps=$(find "$top/contrib/apps" -name '*.rules' | wc -l)
nin=$(find "$R/usr/share/doc/tunnelwrap/examples/apps" -name '*.rules' 2>/dev/null | wc -l)
check "the $napps per-app profiles installed as examples ($nin)" \
    sh -c "[ $napps -ge 7 ] && [ $nin = $napps ]"
check "no live rules file installed (only rules.example)" \
    sh -c "[ -f '$R/etc/tunnelwrap/rules.example' ] && [ ! -e '$R/etc/tunnelwrap/rules' ]"
check "installed man pages are the tree's" \
    cmp -s "$top/man/tunnelwrap.1" "$R/usr/share/man/man1/tunnelwrap.1"

# No build path and no DESTDIR in anything installed.
hits=""
while IFS= read -r f; do
	n=$(grep -c -a -F -e "$top" -e "$R" "$f")
	[ "$n" = 0 ] || hits="$hits ${f#"$R"}($n)"
done < <(find "$R" -type f)
if [ -z "$hits" ]; then
	ok "no build path ($top) or DESTDIR in any installed file"
else
	fail "build path or DESTDIR baked into:$hits" \
	    "(debug info names the build directory: compile with -ffile-prefix-map=\$(CURDIR)=.)
$(strings -a "$R/usr/bin/tunnelwrap" | grep -F -e "$top" -e "$R" | head -3)"
fi

check "installed unit runs the installed launcher (BINDIR)" \
    sh -c "grep -q '^ExecStart=/usr/bin/tunnelwrap ' '$R/usr/lib/systemd/user/tunnelwrap@.service' &&
    grep -q '^ExecStop=-/usr/bin/tunnelwrap ' '$R/usr/lib/systemd/user/tunnelwrap@.service' &&
    grep -q 'while /usr/bin/tunnelwrap -O status' '$R/usr/lib/systemd/user/tunnelwrap@.service'"
if command -v systemd-analyze >/dev/null; then
	# An instance of the template, with the launcher where it is here.
	mkdir -p "$T/units" "$T/xdg" && chmod 700 "$T/xdg"
	sed "s|/usr/bin/tunnelwrap|$R/usr/bin/tunnelwrap|g" \
	    "$R/usr/lib/systemd/user/tunnelwrap@.service" \
	    >"$T/units/tunnelwrap@corp.service"
	tb_capture env XDG_RUNTIME_DIR="$T/xdg" systemd-analyze verify \
	    --man=no --user "$T/units/tunnelwrap@corp.service"
	check "systemd-analyze verify: tunnelwrap@corp.service" \
	    sh -c "[ '$RC' = 0 ] && ! grep -q . '$ERR'"
else
	skip "systemd-analyze verify of the unit" "systemd-analyze not installed"
fi
# The unit's commands, run as systemd would run them (specifiers expanded,
# NOTIFY_SOCKET set; the 30 s check interval shortened): READY=1 comes once
# the helper serves; ExecStop stops it; the main command then fails, so
# Restart=on-failure would start a new helper.
unit=$R/usr/lib/systemd/user/tunnelwrap@.service
if ! command -v systemd-notify >/dev/null; then
	skip "the unit's commands under a stand-in service manager" "systemd-notify not installed" 3
elif tb_need_netns "the unit's commands under a stand-in service manager"; then
	tw_new_runtime
	U=$T/uhome
	mkdir -p "$U/.config/tunnelwrap"
	cp "$TB_RULES" "$U/.config/tunnelwrap/corp.rules"
	# unitline KEY: the unit's KEY= value, for instance corp of home $U.
	unitline() {
		sed -n "s/^$1=//p" "$unit" | sed -e "s|%h|$U|g" -e 's|%i|corp|g' \
		    -e "s|/usr/bin/tunnelwrap|$R/usr/bin/tunnelwrap|g" \
		    -e 's|sleep 30|sleep 1|'
	}
	cat >"$T/notify.py" <<'PYEOF'
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(data[:len(data) - len(data) % 4])
                for fd in fds:
                    os.close(fd)   # systemd-notify's barrier waits for this
        log.write(msg.decode(errors="replace").replace("\n", " ") + "\n")
PYEOF
	: >"$T/notify.log"
	"$TB_PYTHON" "$T/notify.py" "$T/notify.sock" "$T/notify.log" &
	_TB_PIDS_T="$_TB_PIDS_T $!"
	tb_wait 5 test -S "$T/notify.sock"
	env_line=$(unitline Environment)
	eval "set -- $(unitline ExecStart)"
	tb_spawn "$TB_NS_CLI" "$T/unit.out" env NOTIFY_SOCKET="$T/notify.sock" \
	    "$env_line" "$@"
	main=$SPAWNED
	if tb_wait 30 grep -q READY=1 "$T/notify.log"; then
		cli env "$env_line" "$R/usr/bin/tunnelwrap" -O status
		check "unit: READY=1 once the helper serves (-O status right after)" [ "$RC" = 0 ]
		eval "set -- $(unitline ExecStop | sed 's/^-//')"
		cli env "$env_line" "$@"
		check "unit: ExecStop stops the helper" [ "$RC" = 0 ]
		if tb_wait 15 sh -c "! kill -0 $main"; then
			wait "$main"
			st=$?
			check "unit: main command fails once the helper is gone (status $st: Restart=on-failure)" \
			    [ "$st" != 0 ]
		else
			fail "unit: main command ends once the helper is gone" "$(cat "$T/unit.out")"
		fi
	else
		fail "unit: READY=1 sent" "$(cat "$T/unit.out" "$T/notify.log")"
	fi
fi
if command -v desktop-file-validate >/dev/null; then
	tb_capture desktop-file-validate \
	    "$R/usr/share/doc/tunnelwrap/examples/firefox-tunnelwrap.desktop"
	check "desktop-file-validate firefox-tunnelwrap.desktop" \
	    sh -c "[ '$RC' = 0 ] && ! grep -q . '$OUT' '$ERR'"
else
	skip "desktop-file-validate" "desktop-file-utils not installed"
fi

# The installed launcher, with nothing but the test environment.
TWI=$R/usr/bin/tunnelwrap
tb_capture "$TWI" -V
check "installed tunnelwrap -V" \
    sh -c "[ '$RC' = 0 ] && grep -q '^tunnelwrap [0-9]' '$OUT'"

bad=""
for f in "$R/etc/tunnelwrap/rules.example" \
    "$R"/usr/share/doc/tunnelwrap/examples/apps/*.rules; do
	# One destination each profile is about, and one on the Internet.
	tb_capture "$TWI" -n -f "$f" wiki.corp.test:443 git.corp.test:9418 \
	    sw1.corp.test:23 ws7.lab.corp.test:5901 db.corp.test:5432 \
	    ftp.corp.test:21 example.org:443
	[ "$RC" = 0 ] && grep -q 'tunnel via' "$OUT" &&
	    grep -q '^example.org:443: direct' "$OUT" ||
	    bad="$bad ${f##*/}: $(head -n 2 "$ERR")"
done
if [ -z "$bad" ]; then
	ok "rules.example and every app profile parse, tunnel something, send the rest direct"
else
	fail "example rules:$bad"
fi

# Rules without a session: no helper, but the shim is still set up.
printf 'direct *\n' >"$T/direct.rules"
tb_capture "$TWI" -f "$T/direct.rules" sh -c 'printf "%s\n" "$LD_PRELOAD"'
check "installed launcher preloads the installed shim" \
    sh -c "[ '$RC' = 0 ] && grep -qxF '$R/usr/lib/tunnelwrap/libtunnelwrap.so' '$OUT'"

# A real tunneled curl through the installed tree: the helper it starts
# is the installed one.
if tb_need_netns "tunneled curl through the installed tree"; then
	tw_new_runtime
	cli "$TWI" -f "$TB_RULES" curl -sS --max-time 20 http://wiki.corp.test/
	check "installed tree: tunnelwrap curl http://wiki.corp.test/" \
	    grep -q 'intranet wiki OK' "$OUT"
	exes=""
	for p in $(ip netns pids "$TB_NS_CLI" 2>/dev/null); do
		exes="$exes $(readlink "/proc/$p/exe" 2>/dev/null)"
	done
	case " $exes " in
	*" $R/usr/lib/tunnelwrap/tunnelwrap-helper "*)
		ok "the helper running is the installed one" ;;
	*)
		fail "the helper running is the installed one" "running:$exes" ;;
	esac
	cli "$TWI" -f "$TB_RULES" -O stop
fi

# -- 32-bit shim -----------------------------------------------------------
if printf 'int main(void){return 0;}\n' >"$T/m32.c" &&
    cc -m32 -o "$T/m32" "$T/m32.c" 2>/dev/null; then
	tb_capture "${MAKE[@]}" shim32
	check "make shim32" [ "$RC" = 0 ]
	inst "$R" PREFIX=/usr
	s32=$R/usr/lib32/tunnelwrap/libtunnelwrap.so
	# EI_CLASS, the ELF header's fifth byte: 1 for 32-bit.
	check "make install puts the 32-bit shim in LIBDIR32 (usr/lib32/tunnelwrap)" \
	    sh -c "[ -f '$s32' ] && [ \"\$(od -An -tu1 -j4 -N1 '$s32' | tr -d ' ')\" = 1 ]"
	if ! "$T/m32" 2>/dev/null; then
		skip_limit "32-bit program through the 32-bit shim (this kernel cannot run 32-bit programs)" \
		    "tested only where the kernel runs 32-bit programs"
	elif [ "$TB_MODE" = netns ] &&
	    cc -m32 -O2 -Wall -Wextra -Werror -o "$T/conncheck32" \
	    "$top/tests/progs/conncheck.c" 2>"$T/cc32.err"; then
		tw_new_runtime
		cli env TUNNELWRAP_SHIM="$s32" "$TWI" -f "$TB_RULES" \
		    "$T/conncheck32" -t 30 echo.corp.test 7 block poll gai
		n=$(grep -c '^ok ' "$OUT")
		check "32-bit program through the 32-bit shim: conncheck block poll gai ($n ok)" \
		    sh -c "[ '$RC' = 0 ] && [ '$n' -ge 3 ] && ! grep -q '^fail' '$OUT'"
		cli "$TWI" -f "$TB_RULES" -O stop
	else
		skip "32-bit program through the 32-bit shim" "no netns, or conncheck.c does not build with -m32"
	fi
else
	skip "32-bit shim" "cc -m32 cannot build a program here (gcc-multilib)" 3
fi

nfiles=$(find "$R" ! -type d | wc -l)
uninst "$R" PREFIX=/usr
rest=$(left "$R")
own=$(find "$R" -name '*tunnelwrap*' | sed "s|^$R||")
if [ "$RC" = 0 ] && [ "$nfiles" -ge 10 ] && [ -z "$rest" ] && [ -z "$own" ]; then
	ok "make uninstall leaves no file and no tunnelwrap directory (of $nfiles files)"
else
	fail "make uninstall leaves:" "rc=$RC
$rest
$own"
fi

# -- Every directory variable honoured ------------------------------------
# PREFIX, MANDIR, SYSCONFDIR elsewhere; the launcher in PREFIX/bin still
# finds PREFIX/lib/tunnelwrap.
R2=$T/root2
V=(PREFIX=/opt/tw MANDIR=/opt/tw/man SYSCONFDIR=/opt/tw/etc)
inst "$R2" "${V[@]}"
check "make install PREFIX=/opt/tw MANDIR=... SYSCONFDIR=..." \
    sh -c "[ '$RC' = 0 ] && [ -x '$R2/opt/tw/bin/tunnelwrap' ] &&
    [ -x '$R2/opt/tw/lib/tunnelwrap/tunnelwrap-helper' ] &&
    [ -f '$R2/opt/tw/lib/tunnelwrap/libtunnelwrap.so' ] &&
    [ -f '$R2/opt/tw/man/man1/tunnelwrap.1' ] &&
    [ -f '$R2/opt/tw/man/man5/tunnelwrap-rules.5' ] &&
    [ -f '$R2/opt/tw/etc/tunnelwrap/rules.example' ] &&
    [ -f '$R2/opt/tw/share/bash-completion/completions/tunnelwrap' ]"
tb_capture "$R2/opt/tw/bin/tunnelwrap" -f "$T/direct.rules" sh -c 'printf "%s\n" "$LD_PRELOAD"'
check "launcher in /opt/tw/bin preloads /opt/tw/lib/tunnelwrap/libtunnelwrap.so" \
    sh -c "[ '$RC' = 0 ] && grep -qxF '$R2/opt/tw/lib/tunnelwrap/libtunnelwrap.so' '$OUT'"
nfiles=$(find "$R2" ! -type d | wc -l)
uninst "$R2" "${V[@]}"
check "make uninstall with the same variables leaves nothing (of $nfiles files)" \
    sh -c "[ '$RC' = 0 ] && [ $nfiles -ge 5 ] && [ -z \"\$(find '$R2' ! -type d)\" ]"

# BINDIR and LIBDIR anywhere (files only: the launcher looks for the shim
# relative to itself, ../lib/tunnelwrap/).
R3=$T/root3
V=(PREFIX=/usr BINDIR=/b/in LIBDIR=/l/ib)
inst "$R3" "${V[@]}"
check "make install BINDIR=/b/in LIBDIR=/l/ib" \
    sh -c "[ '$RC' = 0 ] && [ -x '$R3/b/in/tunnelwrap' ] &&
    [ -x '$R3/l/ib/tunnelwrap/tunnelwrap-helper' ] &&
    [ -f '$R3/l/ib/tunnelwrap/libtunnelwrap.so' ]"
nfiles=$(find "$R3" ! -type d | wc -l)
uninst "$R3" "${V[@]}"
check "make uninstall BINDIR=/b/in LIBDIR=/l/ib leaves nothing (of $nfiles files)" \
    sh -c "[ '$RC' = 0 ] && [ $nfiles -ge 5 ] && [ -z \"\$(find '$R3' ! -type d)\" ]"
