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
# t-units: the C unit tests (rules parser and matcher with every error
# message; the log's sanitizer; the helper's socket lookups) and the manual pages' lint, folded into the
# suite's one summary.
. "$(dirname "$0")/lib/tap.sh"
# Two unit test programs, one lint per manual page, the options check.
tb_plan $((6 + $(find "$TB_TOP/man" -name '*.[1-8]' | wc -l)))

b=$(dirname "$TB_TUNNELWRAP")
for unit in test_rules:"rules unit tests" test_log:"log sanitizer unit tests" \
    test_sockdiag:"sock_diag and /proc/net lookups"; do
	bin=$b/${unit%%:*} what=${unit#*:}
	if [ ! -x "$bin" ]; then
		fail "$what" "$bin not built"
		continue
	fi
	tb_capture "$bin"
	sum=$(tail -n 1 "$OUT")
	if [ "$RC" = 0 ] && [[ $sum =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] &&
	    [ "${BASH_REMATCH[1]}" -gt 0 ]; then
		ok "$what: $sum"
	else
		fail "$what: ${sum:-no summary}" "$(grep -v '^ok' "$OUT" | head -20)"
	fi
done

top=$(cd "$(dirname "$0")/.." && pwd)
for page in "$top"/man/*.[1-8]; do
	name=$(basename "$page")
	if ! command -v mandoc >/dev/null; then
		skip "man page $name lint" "mandoc not installed"
		continue
	fi
	tb_capture mandoc -Tlint -W warning "$page"
	if [ "$RC" = 0 ] && [ ! -s "$OUT" ] && [ ! -s "$ERR" ]; then
		ok "man page $name: mandoc -Tlint clean"
	else
		fail "man page $name: mandoc -Tlint" "$(cat "$OUT" "$ERR")"
	fi
done

# Every option the launcher's usage shows is documented in the man page.
tb_capture "$TB_TUNNELWRAP" -h
opts=$(grep -o -- '-[A-Za-z]\b' "$OUT" | sort -u)
missing=""
for o in $opts; do
	grep -q "^\.It Fl ${o#-}" "$top/man/tunnelwrap.1" || missing="$missing $o"
done
if [ -n "$opts" ] && [ -z "$missing" ]; then
	ok "every option in -h is in tunnelwrap.1"
else
	fail "options missing from tunnelwrap.1:${missing:- (none found in -h)}"
fi

# The ISC licence (LICENSE) in every source file, and the check can fail.
. "$TB_TOP/tests/lib/licensed.sh"
missing=$(unlicensed_files "$TB_TOP" | sed "s|^$TB_TOP/||")
check "every source file carries the ISC notice${missing:+: missing in $(printf '%s ' $missing)}" \
    [ -z "$missing" ]
mkdir -p "$T/lic"
printf 'int main(void) { return 0; }\n' >"$T/lic/bare.c"
check "negative control: a source file without the notice is named" \
    sh -c ". '$TB_TOP/tests/lib/licensed.sh'; unlicensed_files '$T/lic' | grep -q 'bare.c\$'"
