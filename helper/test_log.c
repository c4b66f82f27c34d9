/*
 * Copyright (c) 2026 tunnelwrap developers <dev@tunnelwrap.test>
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * test_log.c - unit tests for str_clean(): what the log lets through of
 * text a bastion wrote.  Prints "N passed, M failed".
 */
#include <stdio.h>
#include <string.h>

#include "log.h"

static int passed, failed;

static void
expect(const char *what, const char *in, size_t dstlen, const char *want)
{
	char out[256];

	memset(out, 'X', sizeof(out));
	str_clean(out, dstlen, in);
	if (strcmp(out, want) == 0) {
		passed++;
		printf("ok     %s\n", what);
	} else {
		failed++;
		printf("FAIL   %s: got \"%s\", want \"%s\"\n", what, out, want);
	}
}

int
main(void)
{
	expect("plain ASCII kept", "host:22 refused", 64, "host:22 refused");
	expect("ESC and BEL escaped", "\033]0;t\007", 64, "\\033]0;t\\007");
	expect("CR, LF and TAB escaped", "a\rb\nc\td", 64,
	    "a\\015b\\012c\\011d");
	expect("DEL escaped", "a\177", 64, "a\\177");
	expect("UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", 64,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
	expect("lone C1 byte escaped", "\x9b" "2J", 64, "\\2332J");
	expect("C1 control as UTF-8 escaped", "\xc2\x9b" "2J", 64,
	    "\\302\\2332J");
	expect("overlong encoding escaped", "\xc0\xaf", 64, "\\300\\257");
	expect("UTF-16 surrogate escaped", "\xed\xa0\x80", 64,
	    "\\355\\240\\200");
	expect("truncated sequence at the end escaped", "ok\xe2\x82", 64,
	    "ok\\342\\202");
	expect("invalid lead bytes escaped", "\xff\xfe", 64, "\\377\\376");
	expect("cut to fit, never mid-escape", "ab\033", 5, "ab");
	expect("cut to fit, never mid-character", "a\xe2\x82\xac", 3, "a");
	expect("exact fit", "abc", 4, "abc");
	expect("empty", "", 1, "");
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
