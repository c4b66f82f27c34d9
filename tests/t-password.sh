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
# t-password: password and keyboard-interactive authentication typed at
# the terminal (a pty), against sshds that offer only that: the right
# password connects and the program's connections are tunneled; a wrong
# one and no terminal are refused with a clear message (exit 255); the
# password is never echoed or logged (-vvv, LogLevel=DEBUG3).
#
# The account, twpass, exists only in the gateway namespace: its passwd,
# group and shadow are copies of the host's with the user added, in
# /etc/netns/<gw>/, which `ip netns exec` binds over /etc for the sshds
# started after them (the bed's own sshd and the host are untouched; the
# copies are removed at the end).  Two sshds of their own: 2202 password
# (UsePAM no), 2203 keyboard-interactive through PAM (pam_unix, so the
# shadow copy), public keys off on both.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "password authentication" || exit 0
tb_plan 17

PTY=("$TB_PYTHON" "$TB_TOP/tests/lib/ptydrive.py")
SECRET="Tw-pw-$RANDOM$RANDOM-x"
GWETC=/etc/netns/$TB_NS_GW
for f in passwd group shadow; do
	[ -e "$GWETC/$f" ] && { fail "$GWETC/$f already exists: not ours to replace"; exit 0; }
done
# shellcheck disable=SC2034 # run by tap.sh at exit
TB_TEST_CLEANUP="rm -f -- '$GWETC/passwd' '$GWETC/group' '$GWETC/shadow'"
cp /etc/passwd "$GWETC/passwd"
cp /etc/group "$GWETC/group"
cp /etc/shadow "$GWETC/shadow"
chmod 600 "$GWETC/shadow"
echo 'twpass:x:4300:4300:tunnelwrap password test:/:/bin/sh' >>"$GWETC/passwd"
echo 'twpass:x:4300:' >>"$GWETC/group"
echo "twpass:$(openssl passwd -6 "$SECRET"):20000:0:99999:7:::" >>"$GWETC/shadow"

tb_own_sshd "$TB_NS_GW" "$TB_GW4" 2202 sshd-pw 'PubkeyAuthentication no' \
    'UsePAM no' 'PasswordAuthentication yes' 'KbdInteractiveAuthentication no'
up=$?
if [ $up != 0 ] || ! tb_own_sshd "$TB_NS_GW" "$TB_GW4" 2203 sshd-kbd \
    'PubkeyAuthentication no' 'UsePAM yes' 'PasswordAuthentication no' \
    'KbdInteractiveAuthentication yes'; then
	fail "sshds for password and keyboard-interactive started" \
	    "$(tail -n 5 "$T"/sshd-*.log)"
	exit 0
fi
hk=$(cut -d' ' -f1,2 "$TB_DIR/sshd/host_ed25519.pub")
printf '[%s]:2202 %s\n[%s]:2203 %s\n' "$TB_GW4" "$hk" "$TB_GW4" "$hk" >"$T/kh"
for port in 2202 2203; do
	sed "s|^session corp bastion.*|session corp twpass@$TB_GW4:$port UserKnownHostsFile=$T/kh BatchMode=no|" \
	    "$TB_RULES" >"$T/rules-$port"
done
CURL=(curl -sS --max-time 10 http://wiki.corp.test/)
RT_ARGS="-f $T/rules-2202"	# for the cleanup's -O stop

# typed_login NAME PORT PROMPT: a fresh helper for the sshd at PORT,
# whose PROMPT is answered with the password at the terminal; -vvv on the
# terminal (the transcript, $T/NAME.transcript: the helper logs there
# until it serves) and DEBUG3 into $T/helper-NAME.log after.
typed_login() {
	tw_new_runtime $RT_ARGS
	cli "${PTY[@]}" -e "$3" -s "$SECRET\\n" -- \
	    tunnelwrap -vvv -f "$T/rules-$2" -o LogTarget=file:"$T/helper-$1.log" \
	    -o LogLevel=DEBUG3 "${CURL[@]}"
	cp "$OUT" "$T/$1.transcript"
}
# secret_nowhere NAME: the password is in neither the transcript, the
# helper's log nor any file of the runtime directory - which did get the
# lines a leak would be in (positive controls).
secret_nowhere() {
	! grep -qF -- "$SECRET" "$T/$1.transcript" "$T/helper-$1.log" &&
	! grep -rqF -- "$SECRET" "$TW_RUNTIME" &&
	grep -q 'authenticated to twpass@' "$T/$1.transcript" &&
	grep -q 'libssh ' "$T/helper-$1.log"
}

# -- password ---------------------------------------------------------------
typed_login pw 2202 "twpass@$TB_GW4's password: "
check "password at the terminal: the prompt, then curl gets the intranet page" \
    sh -c "[ $RC = 0 ] && grep -q 'intranet wiki OK' '$OUT'"
check "password: sshd accepted the password for twpass" \
    grep -q 'Accepted password for twpass' "$T/sshd-pw.log"
check "password: curl's connection went through that session (sshd 2202 opened it)" \
    grep -q 'target wiki.corp.test port 80' "$T/sshd-pw.log"
check "password: neither echoed nor logged (-vvv transcript, DEBUG3 log, runtime dir)" \
    secret_nowhere pw
# README: password authentication only at the first connect.  The
# session's process at the bastion killed: the helper tries again without
# asking anyone, and says why it cannot get in.
victim=$(tb_conn_pids "$TB_NS_GW" 2202)
# shellcheck disable=SC2086 # PIDs
[ -n "$victim" ] && kill -KILL $victim
reconnect_refused() {
	grep -q "reconnect to twpass@$TB_GW4:2202 failed: authentication failed for twpass@$TB_GW4 (tried: none; password not tried: no terminal)" \
	    "$T/helper-pw.log"
}
lost_and_refused() { [ -n "$victim" ] && tb_wait 20 reconnect_refused; }
check "password: after a loss, reconnects fail without a prompt, saying why" \
    lost_and_refused
tw -f "$T/rules-2202" -O status
check "password: -O status says down, reconnecting" grep -q 'session .*down, reconnecting' "$OUT"

tw_new_runtime $RT_ARGS
cli "${PTY[@]}" -e "twpass@$TB_GW4's password: " -s 'wrong-password\n' -- \
    tunnelwrap -f "$T/rules-2202" "${CURL[@]}"
check "a wrong password: exit 255, authentication failed, tried password" \
    sh -c "[ $RC = 255 ] && grep -q 'authentication failed for twpass@$TB_GW4 (tried: password)' '$OUT' &&
	! grep -q 'intranet wiki OK' '$OUT'"
check "a wrong password: sshd saw it fail" grep -q 'Failed password for twpass' "$T/sshd-pw.log"

tw_new_runtime $RT_ARGS
cli setsid -w tunnelwrap -f "$T/rules-2202" "${CURL[@]}"
check "password, no terminal: exit 255 at once, a message saying to run on a terminal" \
    sh -c "[ $RC = 255 ] && grep -q 'authentication failed for twpass@$TB_GW4 (tried: none; password not tried: no terminal); check the key (ssh-add -l, -i) or run on a terminal to type a password' '$ERR'"

tw_new_runtime $RT_ARGS
# (the session line's BatchMode=no would win over -o: a rules file without it)
sed 's| BatchMode=no||' "$T/rules-2202" >"$T/rules-2202-batch"
cli "${PTY[@]}" -- tunnelwrap -f "$T/rules-2202-batch" -o BatchMode=yes "${CURL[@]}"
check "BatchMode=yes at a terminal: no prompt, exit 255, the message says BatchMode" \
    sh -c "[ $RC = 255 ] && ! grep -q 'password:' '$OUT' &&
	grep -q '(tried: none; password not tried: BatchMode)' '$OUT'"

tw_new_runtime $RT_ARGS
cli "${PTY[@]}" -- tunnelwrap -f "$T/rules-2202" -o PasswordAuthentication=no "${CURL[@]}"
check "PasswordAuthentication=no on our side: no prompt, refused" \
    sh -c "[ $RC = 255 ] && ! grep -q 'password:' '$OUT' && grep -q 'authentication failed' '$OUT'"

# -- keyboard-interactive (PAM) ---------------------------------------------
RT_ARGS="-f $T/rules-2203"
n0=$(grep -c 'target wiki.corp.test port 80' "$T/sshd-kbd.log")
typed_login kbd 2203 "Password: "
check "keyboard-interactive at the terminal: PAM's prompt, then curl gets the page" \
    sh -c "[ $RC = 0 ] && grep -q 'intranet wiki OK' '$OUT'"
check "keyboard-interactive: sshd accepted it (keyboard-interactive/pam)" \
    grep -q 'Accepted keyboard-interactive/pam for twpass' "$T/sshd-kbd.log"
check "keyboard-interactive: curl's connection went through that session" \
    [ "$(grep -c 'target wiki.corp.test port 80' "$T/sshd-kbd.log")" -gt "$n0" ]
check "keyboard-interactive: the answer is neither echoed nor logged" \
    secret_nowhere kbd

tw_new_runtime $RT_ARGS
cli "${PTY[@]}" -e "Password: " -s 'wrong-password\n' -- \
    tunnelwrap -f "$T/rules-2203" "${CURL[@]}"
check "keyboard-interactive, a wrong answer: exit 255, tried keyboard-interactive" \
    sh -c "[ $RC = 255 ] && grep -q 'authentication failed for twpass@$TB_GW4 (tried: keyboard-interactive)' '$OUT'"

# The sshd logs are where a password would be if a client sent it as the
# user name or similar: check them too (they must hold the user).
check "the sshds' logs hold the user and never the password" \
    sh -c "grep -q twpass '$T/sshd-pw.log' && ! grep -qF -- '$SECRET' '$T/sshd-pw.log' '$T/sshd-kbd.log'"
