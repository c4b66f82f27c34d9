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
# t-package: the Debian package.  contrib/debian, copied to debian/ in a
# copy of the tree, builds with dpkg-buildpackage -us -uc -b; lintian finds
# no error in it; it holds what `make install` installs, in the Debian layout
# (shim and helper in /usr/lib/<multiarch>/tunnelwrap/, a 32-bit shim in
# /usr/lib32/tunnelwrap/ on amd64); and, extracted (dpkg-deb -x: nothing is
# installed on this system), it works: its launcher finds its own shim and
# helper, a tunneled curl goes through them, and a 32-bit program gets the
# 32-bit shim through the loader's $LIB.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
# 14 results; without namespaces the packaged tree's run stands as one
# skip (of 3).
if [ "$TB_MODE" = netns ]; then tb_plan 14; else tb_plan 12; fi

top=$TB_TOP
for c in dpkg-buildpackage dh dpkg-checkbuilddeps; do
	if ! command -v $c >/dev/null; then
		skip "Debian package" "$c not installed (dpkg-dev, debhelper)" rest
		exit 0
	fi
done

# A copy of the tree, without build output, with debian/ from contrib.
S=$T/src
mkdir -p "$S"
(cd "$top" && tar --exclude=./build --exclude=./build-asan --exclude=./.git \
    --exclude=./debian -cf - .) | tar -C "$S" -xf -
cp -r "$top/contrib/debian" "$S/debian"
rm -rf "$S"/build*
tb_capture sh -c "cd '$S' && dpkg-checkbuilddeps"
if [ "$RC" != 0 ]; then
	skip "Debian package" "build dependencies missing: $(head -c 300 "$ERR")" rest
	exit 0
fi

TB_TIMEOUT=240 tb_capture env DEB_BUILD_OPTIONS=parallel=2 \
    sh -c "cd '$S' && dpkg-buildpackage -us -uc -b"
version=$(sed -n 's/^VERSION *= *//p' "$top/Makefile")
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb=$T/tunnelwrap_${version}_$arch.deb
if [ "$RC" = 0 ] && [ -f "$deb" ]; then
	ok "dpkg-buildpackage -us -uc -b: ${deb##*/}"
else
	fail "dpkg-buildpackage -us -uc -b (${deb##*/})" \
	    "$(tb_last; ls "$T"/*.deb 2>&1)"
	exit 0
fi
check "debian/changelog version is the Makefile's VERSION ($version)" \
    [ "$(dpkg-parsechangelog -l "$S/debian/changelog" -S Version)" = "$version" ]

if command -v lintian >/dev/null; then
	TB_TIMEOUT=120 tb_capture lintian --no-tag-display-limit \
	    "$T/tunnelwrap_${version}_$arch.changes"
	errors=$(grep -c '^E:' "$OUT")
	warnings=$(grep -c '^W:' "$OUT")
	if [ "$errors" = 0 ] && [ "$RC" = 0 ]; then
		ok "lintian: no error ($warnings warnings)"
	else
		fail "lintian: $errors errors" "$(grep -E '^[EW]:' "$OUT"; tail -n 3 "$ERR")"
	fi
else
	skip "lintian" "lintian not installed"
fi

# Contents.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/contents"
missing=""
want=(/usr/bin/tunnelwrap
    "/usr/lib/$ma/tunnelwrap/libtunnelwrap.so"
    "/usr/lib/$ma/tunnelwrap/tunnelwrap-helper"
    /usr/share/man/man1/tunnelwrap.1.gz
    /usr/share/man/man5/tunnelwrap-rules.5.gz
    /etc/tunnelwrap/rules.example
    /usr/share/bash-completion/completions/tunnelwrap
    /usr/share/zsh/vendor-completions/_tunnelwrap
    /usr/lib/systemd/user/tunnelwrap@.service
    /usr/share/doc/tunnelwrap/copyright
    /usr/share/doc/tunnelwrap/examples/apps/firefox.rules
    /usr/share/doc/tunnelwrap/examples/firefox-tunnelwrap.desktop)
[ "$arch" = amd64 ] && want+=(/usr/lib32/tunnelwrap/libtunnelwrap.so)
for f in "${want[@]}"; do
	grep -qxF -- "$f" "$T/contents" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	ok "package holds launcher, shim and helper in /usr/lib/$ma/tunnelwrap, man pages, completions, unit, examples${want[12]:+, 32-bit shim}"
else
	fail "package lacks:$missing" "$(cat "$T/contents")"
fi
check "no live /etc/tunnelwrap/rules in the package (rules.example is)" \
    sh -c "grep -qx /etc/tunnelwrap/rules.example '$T/contents' &&
    ! grep -qx /etc/tunnelwrap/rules '$T/contents'"
mkdir -p "$T/ctrl"
dpkg-deb -e "$deb" "$T/ctrl"
check "rules.example is a conffile" grep -qx /etc/tunnelwrap/rules.example "$T/ctrl/conffiles"
dep=$(dpkg-deb -f "$deb" Depends)
check "Depends from shlibs (libssh, libc): $dep" \
    sh -c "printf '%s\n' '$dep' | grep -q libssh && printf '%s\n' '$dep' | grep -q libc6"
check "Recommends: openssh-client" \
    sh -c "dpkg-deb -f '$deb' Recommends | grep -qw openssh-client"

# Extracted, never installed.
X=$T/x
dpkg-deb -x "$deb" "$X"
hits="" nbin=0
for f in "$X/usr/bin/tunnelwrap" "$X/usr/lib/$ma/tunnelwrap/"* "$X"/usr/lib32/tunnelwrap/*; do
	[ -f "$f" ] || continue
	nbin=$((nbin + 1))
	n=$(grep -c -a -F -e "$S" -e "$top" "$f")
	[ "$n" = 0 ] || hits="$hits ${f#"$X"}"
done
check "no build path in the $nbin packaged binaries${hits:+:$hits}" \
    sh -c "[ $nbin -ge 3 ] && [ -z '$hits' ]"

TWX=$X/usr/bin/tunnelwrap
tb_capture "$TWX" -V
check "packaged tunnelwrap -V" sh -c "[ '$RC' = 0 ] && grep -q '^tunnelwrap $version' '$OUT'"

printf 'direct *\n' >"$T/direct.rules"
tb_capture "$TWX" -f "$T/direct.rules" sh -c 'printf "%s\n" "$LD_PRELOAD"'
# Either the shim itself, or the same path through the loader's $LIB.
if [ "$RC" = 0 ] && grep -qxF -e "$X/usr/lib/$ma/tunnelwrap/libtunnelwrap.so" \
    -e "$X/usr/\$LIB/tunnelwrap/libtunnelwrap.so" "$OUT"; then
	ok "packaged launcher preloads the packaged shim: $(cat "$OUT")"
	found=1
else
	fail "packaged launcher finds its shim in ../lib/$ma/tunnelwrap/" "$(tb_last)"
	found=0
fi

if [ $found = 0 ]; then
	skip "tunneled curl and 32-bit program through the packaged tree" \
	    "the packaged launcher does not find its shim" 3
elif tb_need_netns "tunneled curl through the packaged tree"; then
	tw_new_runtime
	cli "$TWX" -f "$TB_RULES" curl -sS --max-time 20 http://wiki.corp.test/
	check "packaged tree: tunnelwrap curl http://wiki.corp.test/" \
	    grep -q 'intranet wiki OK' "$OUT"
	exes=""
	for p in $(ip netns pids "$TB_NS_CLI" 2>/dev/null); do
		exes="$exes $(readlink "/proc/$p/exe" 2>/dev/null)"
	done
	case " $exes " in
	*" $X/usr/lib/$ma/tunnelwrap/tunnelwrap-helper "*)
		ok "the helper running is the packaged one" ;;
	*)
		fail "the helper running is the packaged one" "running:$exes" ;;
	esac
	cli "$TWX" -f "$TB_RULES" -O stop

	# A 32-bit program, no TUNNELWRAP_SHIM: the loader's $LIB must give
	# it /usr/lib32/tunnelwrap/libtunnelwrap.so.
	printf 'int main(void){return 0;}\n' >"$T/m32.c"
	if [ -f "$X/usr/lib32/tunnelwrap/libtunnelwrap.so" ] &&
	    cc -m32 -o "$T/m32" "$T/m32.c" 2>/dev/null && ! "$T/m32" 2>/dev/null; then
		skip_limit "32-bit program through the packaged launcher (this kernel cannot run 32-bit programs)" \
		    "tested only where the kernel runs 32-bit programs"
	elif [ -f "$X/usr/lib32/tunnelwrap/libtunnelwrap.so" ] &&
	    cc -m32 -O2 -Wall -Wextra -Werror -o "$T/conncheck32" \
	    "$top/tests/progs/conncheck.c" 2>"$T/cc32.err"; then
		tw_new_runtime
		cli "$TWX" -f "$TB_RULES" "$T/conncheck32" -t 30 echo.corp.test 7 block gai
		n=$(grep -c '^ok ' "$OUT")
		check "32-bit program through the packaged launcher gets the 32-bit shim (\$LIB): $n ok" \
		    sh -c "[ '$RC' = 0 ] && [ '$n' = 2 ] && ! grep -q 'cannot be preloaded' '$ERR'"
		cli "$TWX" -f "$TB_RULES" -O stop
	else
		skip "32-bit program through the packaged launcher" "no 32-bit shim in the package or no cc -m32"
	fi
fi
