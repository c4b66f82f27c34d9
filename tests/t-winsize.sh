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
# t-winsize: tunnelwrap -e -t at a terminal (a pty of ptydrive's): the
# remote pty starts with the local window size, and each resize of the
# local terminal (SIGWINCH) reaches the remote command: `stty size`
# follows, and the remote process gets its own SIGWINCH; a resize while
# output pours in (the launcher busy copying it) too.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "remote pty" || exit 0
tb_plan 7

PTY=("$TB_PYTHON" "$TB_TOP/tests/lib/ptydrive.py")
tw -f "$TB_RULES" true		# the helper is up

# The remote side: report the size, then each change of it (polled, up
# to 15 s each), and each SIGWINCH it gets.
remote='trap "echo got-winch" WINCH
last=$(stty size); echo "size $last"
for round in 1 2; do
	i=0
	while [ "$(stty size)" = "$last" ] && [ $i -lt 150 ]; do
		sleep 0.1; i=$((i + 1))
	done
	last=$(stty size); echo "size $last"
done'
cli "${PTY[@]}" -t 60 --size 33 97 -e 'size 33 97' -w 41 123 -e 'size 41 123' \
    -w 52 140 -e 'size 52 140' -- tunnelwrap -f "$TB_RULES" -e -t -- "$remote"
cp "$OUT" "$T/transcript"
check "-e -t: the remote pty starts with the local size (33 97)" \
    grep -q '^size 33 97' "$T/transcript"
check "-e -t: a resize to 41x123 reaches the remote pty" \
    grep -q '^size 41 123' "$T/transcript"
check "-e -t: a second resize to 52x140 too" \
    grep -q '^size 52 140' "$T/transcript"
check "-e -t: the remote command got SIGWINCH for them" \
    grep -q '^got-winch' "$T/transcript"
check "-e -t: exit status 0 after the command ends" [ "$RC" = 0 ]

# A resize while the remote command writes without pause: the launcher
# is copying output, not waiting, when the signal comes.
remote='last=$(stty size); echo "size $last"; i=0
while [ "$(stty size)" = "$last" ] && [ $i -lt 300 ]; do
	head -c 65536 /dev/zero | tr "\0" .; echo; i=$((i + 1))
done
echo "size $(stty size) after $i blocks"'
cli "${PTY[@]}" -t 60 --size 33 97 -e 'size 33 97' -w 45 130 \
    -e 'size [0-9]+ [0-9]+ after [0-9]+ blocks' -- \
    tunnelwrap -f "$TB_RULES" -e -t -- "$remote"
check "-e -t: a resize while output pours in reaches the remote pty ($(grep -ao 'after [0-9]* blocks' "$OUT"))" \
    grep -aq 'size 45 130 after' "$OUT"

# Control: without -t the remote side has no terminal, so no size.
cli "${PTY[@]}" -- tunnelwrap -f "$TB_RULES" -e -- 'stty size || echo no-tty'
check "control: -e without -t: no remote terminal (stty size fails)" \
    grep -q 'no-tty' "$OUT"
