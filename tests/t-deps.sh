#!/usr/bin/env bash
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
# Every word of every non-comment line of the test scripts that is an
# executable on PATH (type -P: files only, not functions or builtins).
words=$(cat "$TB_TOP"/tests/t-*.sh "$TB_TOP"/tests/lib/*.sh "$TB_TOP"/tests/run \
    "$TB_TOP"/tests/demo "$TB_TOP"/tests/progs/*.sh |
    sed 's/#.*//' | tr -c 'A-Za-z0-9._+-' '\n' | grep -E '^[a-z][a-z0-9._+-]+$' | sort -u)
paths=
for w in $words; do
	p=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin type -P "$w") || continue
	case $p in /usr/local/*) continue ;; esac   # not from a package
	paths="$paths $(readlink -f "$p")"
done
# dpkg -S knows the path a package shipped: try it as resolved, and the
# usual /usr-merge aliases.
pkgs_of() {
	local f=$1 alt
	for alt in "$f" "${f#/usr}" "/usr$f"; do
		dpkg -S "$alt" 2>/dev/null | sed -n '1s/:.*//p' | tr ', ' '\n\n' | sed '/^$/d' && return 0
	done
	echo "?$f"
}
# unlisted_of LIST: the packages (with the command) not in LIST (a package
# list file) nor Essential/required.  Sets NCMD.
unlisted_of() {
	local listed f pkg base out=
	listed=$(sed 's/#.*//; /^\[/d; s/[[:space:]]//g; /^$/d' "$1")
	NCMD=0
	for f in $paths; do
		NCMD=$((NCMD + 1))
		for pkg in $(pkgs_of "$f"); do
			case $pkg in \?*) out="$out ${pkg#\?}(no package)"; continue ;; esac
			pkg=${pkg%%:*}
			printf '%s\n' "$listed" | grep -qx "$pkg" && continue
			base=$(dpkg-query -W -f='${Essential} ${Priority}' "$pkg" 2>/dev/null)
			case $base in yes*|*required) continue ;; esac
			out="$out $pkg($(basename "$f"))"
		done
	done
	printf '%s\n' "$out"
}
unlisted=$(unlisted_of "$TB_TOP/tests/packages")
check "every command the tests name ($NCMD found) comes from tests/packages or an essential package${unlisted:+: not listed:$unlisted}" \
    [ -z "$unlisted" ] -a "$NCMD" -gt 50
# Negative control: the same list without tcpdump must be caught.
grep -vx tcpdump "$TB_TOP/tests/packages" >"$T/packages-minus"
unlisted=$(unlisted_of "$T/packages-minus")
check "negative control: a list without tcpdump is caught (${unlisted:-nothing caught})" \
    sh -c "printf '%s' '$unlisted' | grep -q 'tcpdump(tcpdump)'"

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
	cp -r "$TB_TOP/tests/deps" "$T/deps"; chmod 755 "$T/deps"
	cli runuser -u twother -- env TW_DEPS_PACKAGES="$T/pk" "$T/deps" check
	check "without root: the exact apt-get line, exit 1" \
	    sh -c "[ $RC = 1 ] && grep -q 'apt-get install -y --no-install-recommends tw-no-such-package' '$ERR'"
else
	skip "without root: the apt-get line" "the other user exists in the namespace bed only"
fi
tb_capture make -n -C "$TB_TOP" demo check
check "make demo and make check run the dependency step first" \
    sh -c "grep -q 'tests/deps demo' '$OUT' && grep -q 'tests/deps check' '$OUT'"
