#!/usr/bin/env bash
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
TB_TEST_CLEANUP="rm -f -- '$GWETC/passwd' '$GWETC/group' '$GWETC/shadow'"
cp /etc/passwd "$GWETC/passwd"
cp /etc/group "$GWETC/group"
cp /etc/shadow "$GWETC/shadow"
chmod 600 "$GWETC/shadow"
echo 'twpass:x:4300:4300:tunnelwrap password test:/:/bin/sh' >>"$GWETC/passwd"
echo 'twpass:x:4300:' >>"$GWETC/group"
echo "twpass:$(openssl passwd -6 "$SECRET"):20000:0:99999:7:::" >>"$GWETC/shadow"

base() {
	grep -v -i '^ListenAddress\|^PidFile\|^Match\|^	\|^UsePAM\|^PasswordAuthentication\|^KbdInteractiveAuthentication\|^PubkeyAuthentication' \
	    "$TB_SSHD_CONFIG"
	echo 'PubkeyAuthentication no'
}
{ base; printf 'ListenAddress %s:2202\nPidFile %s\nUsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n' \
    "$TB_GW4" "$T/sshd-pw.pid"; } >"$T/sshd-pw.conf"
{ base; printf 'ListenAddress %s:2203\nPidFile %s\nUsePAM yes\nPasswordAuthentication no\nKbdInteractiveAuthentication yes\n' \
    "$TB_GW4" "$T/sshd-kbd.pid"; } >"$T/sshd-kbd.conf"
tb_spawn "$TB_NS_GW" /dev/null /usr/sbin/sshd -D -f "$T/sshd-pw.conf" -E "$T/sshd-pw.log"
tb_spawn "$TB_NS_GW" /dev/null /usr/sbin/sshd -D -f "$T/sshd-kbd.conf" -E "$T/sshd-kbd.log"
if ! tb_wait 10 tb_listening "$TB_NS_GW" "$TB_GW4" 2202 ||
    ! tb_wait 10 tb_listening "$TB_NS_GW" "$TB_GW4" 2203; then
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

# -- password ---------------------------------------------------------------
# Positive control for the logs checked below: DEBUG3 into a file, -vvv
# on the terminal.
tw_new_runtime $RT_ARGS
n0=$(tb_ssh_target_count wiki.corp.test 80)
cli "${PTY[@]}" -e "twpass@$TB_GW4's password: " -s "$SECRET\\n" -- \
    tunnelwrap -vvv -f "$T/rules-2202" -o LogTarget=file:"$T/helper-pw.log" \
    -o LogLevel=DEBUG3 "${CURL[@]}"
cp "$OUT" "$T/pw.transcript"
check "password at the terminal: the prompt, then curl gets the intranet page" \
    sh -c "[ $RC = 0 ] && grep -q 'intranet wiki OK' '$OUT'"
check "password: sshd accepted the password for twpass" \
    grep -q 'Accepted password for twpass' "$T/sshd-pw.log"
check "password: curl's connection went through that session (sshd 2202 opened it)" \
    grep -q 'target wiki.corp.test port 80' "$T/sshd-pw.log"
check "password: not echoed: the transcript does not hold it (and holds -vvv lines)" \
    sh -c "! grep -qF -- '$SECRET' '$T/pw.transcript' && grep -q 'authenticated to twpass@' '$T/pw.transcript'"
# (the helper logs to the terminal until it serves, to its LogTarget after)
check "password: not in the helper's DEBUG3 log (which holds libssh's debug lines)" \
    sh -c "! grep -qF -- '$SECRET' '$T/helper-pw.log' && grep -q 'libssh ' '$T/helper-pw.log'"
check "password: in no file of the runtime directory" \
    sh -c "! grep -rqF -- '$SECRET' '$TW_RUNTIME'"

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
tw_new_runtime $RT_ARGS
n0=$(grep -c 'target wiki.corp.test port 80' "$T/sshd-kbd.log")
cli "${PTY[@]}" -e "Password: " -s "$SECRET\\n" -- \
    tunnelwrap -vvv -f "$T/rules-2203" -o LogTarget=file:"$T/helper-kbd.log" \
    -o LogLevel=DEBUG3 "${CURL[@]}"
cp "$OUT" "$T/kbd.transcript"
check "keyboard-interactive at the terminal: PAM's prompt, then curl gets the page" \
    sh -c "[ $RC = 0 ] && grep -q 'intranet wiki OK' '$OUT'"
check "keyboard-interactive: sshd accepted it (keyboard-interactive/pam)" \
    grep -q 'Accepted keyboard-interactive/pam for twpass' "$T/sshd-kbd.log"
check "keyboard-interactive: curl's connection went through that session" \
    [ "$(grep -c 'target wiki.corp.test port 80' "$T/sshd-kbd.log")" -gt "$n0" ]
check "keyboard-interactive: the answer is neither echoed nor logged" \
    sh -c "! grep -qF -- '$SECRET' '$T/kbd.transcript' '$T/helper-kbd.log' &&
	! grep -rqF -- '$SECRET' '$TW_RUNTIME' && grep -q 'authenticated to twpass@' '$T/kbd.transcript' &&
	grep -q 'libssh ' '$T/helper-kbd.log'"

tw_new_runtime $RT_ARGS
cli "${PTY[@]}" -e "Password: " -s 'wrong-password\n' -- \
    tunnelwrap -f "$T/rules-2203" "${CURL[@]}"
check "keyboard-interactive, a wrong answer: exit 255, tried keyboard-interactive" \
    sh -c "[ $RC = 255 ] && grep -q 'authentication failed for twpass@$TB_GW4 (tried: keyboard-interactive)' '$OUT'"

# The sshd logs are where a password would be if a client sent it as the
# user name or similar: check them too (they must hold the user).
check "the sshds' logs hold the user and never the password" \
    sh -c "grep -q twpass '$T/sshd-pw.log' && ! grep -qF -- '$SECRET' '$T/sshd-pw.log' '$T/sshd-kbd.log'"
