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
# t-fuzz: bounded libFuzzer runs (clang, ASan+UBSan) of the rules parser
# (rules/fuzz_rules.c, seeds rules/fuzz-corpus) and of the helper's
# control-socket decoder (fuzz/fuzz_proto.c: the real helper/daemon/ctl.c framing,
# proto_check_request and dispatch, SCM_RIGHTS over real sockets; seeds
# fuzz/corpus-proto), and of the DNS responder's message code
# (fuzz/fuzz_dns.c: helper/daemon/dns-msg.c, seeds fuzz/corpus-dns).  TW_FUZZ_SECONDS each (default 20); any crash, leak,
# timeout (10 s for one input) or out-of-memory fails, naming the
# reproducer.  `make fuzz` is the same, longer (FUZZ_SECONDS, default 60).
# Needs no test bed; built with `make fuzz-build` into this test's dir.
. "$(dirname "$0")/lib/tap.sh"
tb_plan 4		# built, then one run per fuzzer (rules, proto, dns)

# Independent of the build under test: make check runs it, check-asan not
# again.
if grep -qa __asan_init "$TB_HELPER" 2>/dev/null; then
	skip "fuzzers" "sanitizer build (make check-asan): run in make check" rest
	exit 0
fi

secs=${TW_FUZZ_SECONDS:-20}
F=$T/fuzz
if ! command -v clang >/dev/null; then
	skip "fuzzers built" "clang not installed (tests/packages: clang, libclang-rt-14-dev)" rest
	exit 0
fi
TB_TIMEOUT=300 tb_capture make -s -C "$TB_TOP" FUZZ_OUT="$F" fuzz-build
if [ "$RC" != 0 ]; then
	fail "fuzzers built (make fuzz-build)" "$(tb_last)"
	exit 0
fi
ok "fuzzers built with -fsanitize=fuzzer,address,undefined"

# run NAME DICT SEEDS: one bounded run, reported with its executions.
# From $F: relative includes a rules input names stay in there.
cd "$F" || exit 1
run() {
	local name=$1 dict=$2 seeds=$3 execs summary art
	mkdir -p "$F/corpus-$name"
	TB_TIMEOUT=$((secs + 90)) tb_capture "./$name" \
	    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -dict="$dict" -artifact_prefix="$F/$name-" \
	    "corpus-$name" "$seeds"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$ERR")
	if [ "$RC" = 0 ] && [ -n "$execs" ] && [ "$execs" -gt 0 ]; then
		ok "$name: $execs executions in $secs s, no crash, leak or timeout"
		return
	fi
	summary=$(grep -E '^(==[0-9]+== ?ERROR|SUMMARY|fuzz_proto: |fuzz_dns: |.*runtime error:)' "$ERR" | head -n 6)
	art=$(ls "$F/$name"-crash-* "$F/$name"-leak-* "$F/$name"-timeout-* \
	    "$F/$name"-oom-* 2>/dev/null | head -n 1)
	fail "$name: $secs s of fuzzing (rc $RC, ${execs:-?} executions)" \
	    "${summary:-$(tail -n 5 "$ERR")}
reproducer: ${art:-none written} (run: $F/$name ${art:-INPUT})"
}

run fuzz_rules "$TB_TOP/rules/fuzz-rules.dict" "$TB_TOP/rules/fuzz-corpus"
run fuzz_proto "$TB_TOP/fuzz/fuzz-proto.dict" "$TB_TOP/fuzz/corpus-proto"
run fuzz_dns "$TB_TOP/fuzz/fuzz-dns.dict" "$TB_TOP/fuzz/corpus-dns"
