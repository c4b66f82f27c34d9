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
# t-deps: the dependency step of `make demo` / `make check` (tests/deps).
# Every command the tests name comes from a package in tests/packages or
# from one every Debian system has (Essential or Priority required), so a
# fresh machine gets all of it from `tests/deps check`; nothing listed is
# missing here; without root the exact apt-get line is printed and the
# exit status is non-zero.
. "$(dirname "$0")/lib/tap.sh"
tb_plan 7

D=$TB_TOP/tests/deps

# -- list-diff: commands named by the tests -> packages ------------------------
# The words standing where a command stands (lib/cmdwords.py) that are
# executables on PATH (type -P: files only, not functions or builtins).
words=$(python3 "$TB_TOP/tests/lib/cmdwords.py" "$TB_TOP"/tests/t-*.sh \
    "$TB_TOP"/tests/lib/*.sh "$TB_TOP"/tests/run "$TB_TOP"/tests/demo \
    "$TB_TOP"/tests/progs/*.sh)
paths=$(for w in $words; do
	p=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin type -P "$w") || continue
	case $p in /usr/local/*) continue ;; esac   # not from a package
	readlink -f "$p"
done | sort -u)
NCMD=$(printf '%s\n' $paths | grep -c .)
# path -> package, with one dpkg -S for them all (dpkg knows the path a
# package shipped: try each as resolved and under the usual /usr-merge
# aliases; diversions are not owners).
for f in $paths; do
	printf '%s\n%s\n%s\n' "$f" "${f#/usr}" "/usr$f"
done | sort -u | xargs dpkg -S 2>/dev/null | grep -v '^diversion ' >"$T/dpkg-S"
# Packages every Debian system has.
dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' |
    awk '$2 == "yes" || $3 == "required" { print $1 }' >"$T/base"

# unlisted_of LIST: "package(command)" for each command whose package is
# neither in LIST (a tests/packages file), nor pulled in by one that is
# (Depends/PreDepends, recursively), nor in the base system.
unlisted_of() {
	sed 's/#.*//; /^\[/d; s/[[:space:]]//g; /^$/d' "$1" >"$T/listed"
	# shellcheck disable=SC2046 # package names are words
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	    --no-breaks --no-replaces --no-enhances $(cat "$T/listed") 2>/dev/null |
	    sed -n 's/^ *\(Pre\)\{0,1\}Depends: <*\([^>:]*\)>*.*/\2/p; /^[^ ]/p' |
	    sed 's/:.*//' | sort -u >"$T/closure"
	local f
	for f in $paths; do
		awk -v a="$f" -v b="${f#/usr}" -v c="/usr$f" '
			{ i = index($0, ": "); p = substr($0, i + 2) }
			p == a || p == b || p == c { n = split(substr($0, 1, i - 1), k, ", ")
				for (j = 1; j <= n; j++) { sub(/:.*/, "", k[j]); print k[j] } }' \
		    "$T/dpkg-S" | sort -u >"$T/owners"
		[ -s "$T/owners" ] || { printf ' %s(no package)' "$f"; continue; }
		# The command is covered when one of its owners is.
		if ! cat "$T/listed" "$T/closure" "$T/base" | grep -qxFf "$T/owners"; then
			printf ' %s(%s)' "$(head -n 1 "$T/owners")" "$(basename "$f")"
		fi
	done
}
unlisted=$(unlisted_of "$TB_TOP/tests/packages")
check "every command the tests name ($NCMD found) comes from tests/packages (or what they pull in) or the base system${unlisted:+: not listed:$unlisted}" \
    test -z "$unlisted" -a "$NCMD" -gt 50
# Negative control: the same list without socat must be caught.
grep -vx socat "$TB_TOP/tests/packages" >"$T/packages-minus"
unlisted=$(unlisted_of "$T/packages-minus")
check "negative control: a list without socat is caught (${unlisted:-nothing caught})" \
    sh -c "printf '%s' '$unlisted' | grep -q 'socat(socat)'"

# -- the dependency step itself ------------------------------------------------
tb_capture "$D" check -n
check "tests/deps check -n: nothing missing on this machine" [ "$RC" = 0 ]
printf '[build]\nbash\n[check]\ntw-no-such-package\n' >"$T/pk"
chmod 755 "$T"; chmod 644 "$T/pk"
tb_capture env TW_DEPS_PACKAGES="$T/pk" "$D" check -n
check "a missing package is named (-n)" \
    sh -c "[ $RC = 1 ] && grep -q 'missing for check: tw-no-such-package' '$OUT'"
tb_capture env TW_DEPS_PACKAGES="$T/pk" "$D" build -n
check "sections: build needs only its own packages" [ "$RC" = 0 ]
if [ "$TB_MODE" = netns ]; then
	cp "$TB_TOP/tests/deps" "$T/deps"; chmod 755 "$T/deps"
	# twother must reach it: open the path down to $T for others (x only).
	d=$T; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
	cli runuser -u twother -- env TW_DEPS_PACKAGES="$T/pk" "$T/deps" check
	check "without root: the exact apt-get line, exit 1" \
	    sh -c "[ $RC = 1 ] && grep -q 'apt-get install -y --no-install-recommends tw-no-such-package' '$ERR'"
else
	skip "without root: the apt-get line" "the other user exists in the namespace bed only"
fi
tb_capture make -n -C "$TB_TOP" demo check
check "make demo and make check run the dependency step first" \
    sh -c "grep -q 'tests/deps demo' '$OUT' && grep -q 'tests/deps check' '$OUT'"
