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
# t-prog-browsers: Debian's firefox-esr and chromium, unmodified and
# headless, through tunnelwrap: an intranet page by name (remote DNS),
# content checked.
#
# Firefox runs with its sandbox as shipped; it needs a writable profile
# (-profile in the test's directory) and always runs under `timeout`:
# --screenshot waits forever on a page that does not load.
# Chromium runs as root here, and Chromium refuses to start its sandbox as
# root: --no-sandbox is the test environment's need, not tunnelwrap's.
. "$(dirname "$0")/lib/tap.sh"
. "$TB_TOP/tests/progs/prog-lib.sh"
tb_need_product
tb_need_netns "browsers through the tunnel" || exit 0
pplan 0 "firefox 6" "chromium 4"

PNG="$TB_PYTHON $TB_TOP/tests/progs/pngcheck.py"

# A page of our own with a colour no browser shows by itself, served in
# the intranet on both addresses, so a screenshot proves what was loaded.
mkdir -p "$T/www"
cat >"$T/www/colour.html" <<'EOF'
<html><head><style>html, body { margin: 0; height: 100%; background: #123456; color: #fedcba; }</style></head>
<body><h1>intranet colour page OK</h1></body></html>
EOF
pspawn_int "$T/http.log" "$TB_PYTHON" -u -m http.server --bind :: \
    --directory "$T/www" 8081
if ! tb_wait 15 tb_listening "$TB_NS_INT" "*" 8081; then
	fail "intranet http server on :8081" "$(tail -n 3 "$T/http.log")"
fi

# --- Firefox ---------------------------------------------------------------
if pneed firefox firefox-esr firefox-esr; then
	mkdir -p "$T/ff-profile" "$T/ff-profile2"
	n0=$(tb_ssh_target_count wiki.corp.test 80)
	TB_TIMEOUT=100 tw -f "$TB_RULES" timeout -k 5 90 firefox-esr --headless \
	    --no-remote -profile "$T/ff-profile" --screenshot "$T/wiki.png" \
	    http://wiki.corp.test/
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		pfail firefox "screenshot of http://wiki.corp.test/" \
		    "timed out after 90 s (the page never loaded); $(tb_last)"
	else
		pcheck firefox "screenshot of http://wiki.corp.test/: exit 0" \
		    [ "$RC" = 0 ]
		pcheck firefox "screenshot of http://wiki.corp.test/: a PNG of over 2 kB" \
		    sh -c "[ \$(stat -c %s '$T/wiki.png' 2>/dev/null || echo 0) -gt 2048 ] &&
		        $PNG '$T/wiki.png' >/dev/null"
		pcheck firefox "the bastion opened wiki.corp.test:80 by name" \
		    [ "$(tb_ssh_target_count wiki.corp.test 80)" -gt "$n0" ]
	fi
	n0=$(tb_ssh_target_count wiki.corp.test 8081)
	TB_TIMEOUT=100 tw -f "$TB_RULES" timeout -k 5 90 firefox-esr --headless \
	    --no-remote -profile "$T/ff-profile2" --window-size 400,300 \
	    --screenshot "$T/colour.png" http://wiki.corp.test:8081/colour.html
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		pfail firefox "screenshot of an intranet page in colour" \
		    "timed out after 90 s; $(tb_last)"
	else
		$PNG "$T/colour.png" 123456 0.5 >"$T/colour.check" 2>&1
		pcheck firefox "screenshot shows the intranet page (mostly #123456: $(cat "$T/colour.check"))" \
		    grep -q ' 123456 ' "$T/colour.check"
		pcheck firefox "the intranet server served the page" \
		    grep -q 'GET /colour.html' "$T/http.log"
		pcheck firefox "the bastion opened wiki.corp.test:8081 by name" \
		    [ "$(tb_ssh_target_count wiki.corp.test 8081)" -gt "$n0" ]
	fi
fi

# --- Chromium --------------------------------------------------------------
if pneed chromium chromium chromium; then
	CHROMIUM=(chromium --headless --no-sandbox --disable-gpu
	    --disable-background-networking --disable-component-update
	    --no-first-run --user-data-dir="$T/chromium")
	pnote chromium "--no-sandbox: the tests run as root"
	n0=$(tb_ssh_target_count wiki.corp.test 80)
	TB_TIMEOUT=70 tw -f "$TB_RULES" timeout -k 5 60 "${CHROMIUM[@]}" \
	    --dump-dom http://wiki.corp.test/
	pcheck chromium "--dump-dom http://wiki.corp.test/: the page's text" \
	    grep -q '<h1>intranet wiki OK</h1>' "$OUT"
	pcheck chromium "the bastion opened wiki.corp.test:80 by name" \
	    [ "$(tb_ssh_target_count wiki.corp.test 80)" -gt "$n0" ]
	TB_TIMEOUT=70 tw -f "$TB_RULES" timeout -k 5 60 "${CHROMIUM[@]}" \
	    --dump-dom http://wiki.corp.test:8081/colour.html
	pcheck chromium "--dump-dom of a second intranet server's page" \
	    grep -q 'intranet colour page OK' "$OUT"
	TB_TIMEOUT=70 tw -f "$TB_RULES" timeout -k 5 60 "${CHROMIUM[@]}" \
	    --window-size=400,300 --screenshot="$T/chromium.png" \
	    http://wiki.corp.test:8081/colour.html
	$PNG "$T/chromium.png" 123456 0.5 >"$T/chromium.check" 2>&1
	pcheck chromium "--screenshot shows the intranet page (mostly #123456: $(cat "$T/chromium.check"))" \
	    grep -q ' 123456 ' "$T/chromium.check"
fi

pmatrix
