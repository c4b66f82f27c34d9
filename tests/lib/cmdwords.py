#!/usr/bin/env python3
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
"""Print the words of shell scripts that stand where a command stands.

For t-deps: every command a test runs must come from a package that
tests/packages lists.  A word is taken when it follows the start of a
line or one of | && || ; $( "( " ` then do else, and is followed by a blank,
; ) or the end of the line, or one of the bed's
command runners (cli gw int tw tb_capture tb_spawn check pcheck timeout
env runuser "ip netns exec" "command -v" "type -P" exec xargs), after
their own options and arguments.  Comments and here-documents' bodies of
other languages are not shell, and are mostly skipped by the first rule.
"""
import re
import sys

LEAD = re.compile(r"""(?:^\(?|\|\||&&|[|;`]|\$\(|\(\s|\bthen\b|\bdo\b|\belse\b)\s*([A-Za-z][\w.+-]*)(?=\s|$|;|\))""")
RUNNER = re.compile(
    r"""\b(?:cli|gw|int|tb_capture|exec|xargs|command -v|type -P|sudo)\s+"""
    r"""(?:-\S+\s+)*([A-Za-z][\w.+-]*)"""
    r"""|\btb_capture_in\s+\S+\s+([A-Za-z][\w.+-]*)"""
    r"""|\btb_spawn\s+\S+\s+\S+\s+([A-Za-z][\w.+-]*)"""
    r"""|\b(?:check|pcheck(?:\s+\S+)?)\s+"[^"]*"\s+([A-Za-z][\w.+-]*)"""
    r"""|\btimeout\s+(?:-k\s+\S+\s+)?\S+\s+([A-Za-z][\w.+-]*)"""
    r"""|\benv\s+(?:-i\s+)?(?:\S+=\S*\s+)*([A-Za-z][\w.+-]*)"""
    r"""|\brunuser\s+-u\s+\S+\s+--\s+([A-Za-z][\w.+-]*)"""
    r"""|\bip\s+netns\s+exec\s+\S+\s+([A-Za-z][\w.+-]*)"""
    r"""|\bpneed\s+"[^"]*"\s+\S+\s+([A-Za-z][\w.+-]*)""")

words = set()
for path in sys.argv[1:]:
    with open(path, errors="replace") as f:
        for line in f:
            s = line.strip()
            if s.startswith("#"):
                continue
            s = re.sub(r"\s#.*$", "", s)
            for m in LEAD.finditer(s):
                words.add(m.group(1))
            for m in RUNNER.finditer(s):
                words.update(g for g in m.groups() if g)
for w in sorted(words):
    print(w)
