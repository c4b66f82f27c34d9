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
# licensed.sh - unlicensed_files DIR: the source files under DIR (C, shell,
# Python, Go, Java, JavaScript, make, man pages) whose first 40 lines do
# not carry the ISC notice of LICENSE, one per line.  Sourced by t-units.
unlicensed_files() {
	find "$1" \( -name .git -o -name build -o -name 'build-*' -o \
	    -name 'corpus*' -o -name fuzz-corpus \) -prune -o -type f \( \
	    -name '*.[ch]' -o -name '*.sh' -o -name '*.py' -o -name '*.go' -o \
	    -name '*.java' -o -name '*.js' -o -name '*.[15]' -o \
	    -name Makefile -o -name '*.inc' -o -name run -o -name deps -o \
	    -name demo -o -name '*.bash' -o -name _tunnelwrap \) -print |
	while read -r f; do
		head -n 40 "$f" | grep -q 'Permission to use, copy, modify, and distribute' ||
		    printf '%s\n' "$f"
	done
}
