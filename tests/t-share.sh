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
# t-share: one helper and one SSH connection per user and bastion.  Two
# concurrent launchers attach to the same helper; `-O status` shows a live
# connection's destination and its process; `-O stop` ends the helper,
# and the next launcher starts a fresh one.  The launcher becomes COMMAND
# by exec, the helper counting its process until it exits.
. "$(dirname "$0")/lib/tap.sh"
tb_need_product
tb_need_netns "helper sharing" || exit 0
tb_plan 19

# PIDs of helper processes in the client namespace (all are this run's).
helper_pids() {
	local p exe want
	want=$(readlink -f "$TB_HELPER")
	for p in $(ip netns pids "$TB_NS_CLI" 2>/dev/null); do
		exe=$(readlink -f "/proc/$p/exe" 2>/dev/null) || continue
		[ "$exe" = "$want" ] && echo "$p"
	done | sort
}
new_helpers() { comm -13 <(printf '%s\n' "$1") <(helper_pids) | grep .; }

h0=$(helper_pids)
a0=$(tb_ssh_accepted_count)
w0=$(tb_ssh_target_count wiki.corp.test 80)
get=(curl -sS --max-time 20 http://wiki.corp.test/)
tb_spawn "$TB_NS_CLI" "$T/a.out" timeout 40 tunnelwrap -f "$TB_RULES" "${get[@]}"
pa=$SPAWNED
tb_spawn "$TB_NS_CLI" "$T/b.out" timeout 40 tunnelwrap -f "$TB_RULES" "${get[@]}"
pb=$SPAWNED
wait "$pa"; ra=$?
wait "$pb"; rb=$?
if [ $ra = 0 ] && [ $rb = 0 ] && grep -q 'intranet wiki OK' "$T/a.out" &&
    grep -q 'intranet wiki OK' "$T/b.out"; then
	ok "two concurrent invocations both work"
else
	fail "two concurrent invocations both work" \
	    "rc $ra, $rb; $(tail -n 2 "$T/a.out"); $(tail -n 2 "$T/b.out")"
fi
a1=$(tb_ssh_accepted_count)
w1=$(tb_ssh_target_count wiki.corp.test 80)
check "both went through the bastion ($((w1 - w0)) channels to wiki)" \
    [ $((w1 - w0)) = 2 ]
check "exactly one new SSH connection for both (got $((a1 - a0)))" \
    [ $((a1 - a0)) = 1 ]
helpers=$(new_helpers "$h0")
check "exactly one helper process (got: $(printf "%s\n" "$helpers" | xargs))" \
    [ "$(printf '%s\n' "$helpers" | grep -c .)" = 1 ]
hpid=$(printf '%s\n' "$helpers" | head -n 1)

tw -f "$TB_RULES" "${get[@]}"
w2=$(tb_ssh_target_count wiki.corp.test 80)
check "a later invocation reuses the helper (tunneled, no new SSH connection)" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ $w2 = $((w1 + 1)) ] &&
    [ $(tb_ssh_accepted_count) = $a1 ]"

# A live, idle connection shows in -O status with its destination and pid.
tb_spawn "$TB_NS_CLI" "$T/idle.out" timeout 60 tunnelwrap -f "$TB_RULES" \
    python3 -u -c 'import socket, os, time
s = socket.create_connection(("echo.corp.test", 7), timeout=20)
print("connected", os.getpid(), flush=True)
time.sleep(50)'
idle=$SPAWNED
if tb_wait 20 grep -q '^connected' "$T/idle.out"; then
	cpid=$(awk '/^connected/ { print $2 }' "$T/idle.out")
	tw -O status -f "$TB_RULES"
	check "-O status exits 0" [ "$RC" = 0 ]
	if grep -F echo.corp.test "$OUT" | grep -w "$cpid" | grep -qw 7; then
		ok "-O status shows echo.corp.test port 7 and client pid $cpid"
		shown=1
	else
		fail "-O status shows echo.corp.test port 7 and client pid $cpid" \
		    "$(tb_last)"
		shown=0
	fi
	kill -TERM "$cpid" 2>/dev/null
	tb_kill "$idle"
	gone() {
		tw -O status -f "$TB_RULES"
		[ "$RC" = 0 ] && ! grep -q 'echo\.corp\.test' "$OUT"
	}
	if [ $shown = 1 ]; then
		check "-O status drops the connection once its client exits" \
		    tb_wait 5 gone
	else
		fail "-O status drops the connection once its client exits" \
		    "not checked: status never showed it"
	fi
else
	fail "idle client connected" "$(tail -n 3 "$T/idle.out")"
	tb_kill "$idle"
fi

tw -O stop -f "$TB_RULES"
check "-O stop exits 0" [ "$RC" = 0 ]
if [ -n "$hpid" ]; then
	check "-O stop ends the helper (pid $hpid)" \
	    tb_wait 10 sh -c "! kill -0 $hpid"
else
	fail "-O stop ends the helper" "no helper pid known"
fi

a2=$(tb_ssh_accepted_count)
tw -f "$TB_RULES" "${get[@]}"
check "after -O stop a new invocation starts a fresh helper" \
    sh -c "grep -q 'intranet wiki OK' '$OUT' && [ $(tb_ssh_accepted_count) = $((a2 + 1)) ]"

# -O status --json: stable, parseable, with the live connection.
tb_spawn "$TB_NS_CLI" "$T/idle2.out" timeout 30 tunnelwrap -f "$TB_RULES" \
    python3 -u -c 'import socket, time
s = socket.create_connection(("echo.corp.test", 7), timeout=20)
s.sendall(b"x" * 1000); s.recv(1000)
print("connected", flush=True)
time.sleep(20)'
idle2=$SPAWNED
tb_wait 15 grep -q connected "$T/idle2.out"
tw -f "$TB_RULES" -O status --json
cp "$OUT" "$T/status.json"
cli python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1, d
assert d["session"]["state"] == "up", d
c = [c for c in d["connections"] if c["destination"] == "echo.corp.test" and c["port"] == 7]
assert c and c[0]["bytes_up"] >= 1000 and c[0]["program"] == "python3", d
print("json ok")' "$T/status.json"
check "-O status --json parses and shows the live connection" grep -q 'json ok' "$OUT"

# -O top under tmux: a live screen with the program and its destination.
if command -v tmux >/dev/null; then
	sock=$T/tmux.sock
	_tb_cmd "$TB_NS_CLI"
	tmux -S "$sock" new-session -d -x 160 -y 30 \
	    "$(printf '%q ' "${TB_CMD[@]}") tunnelwrap -f $TB_RULES -O top"
	sleep 2.5
	tmux -S "$sock" capture-pane -p >"$T/top.txt"
	tmux -S "$sock" send-keys q
	sleep 0.5
	tmux -S "$sock" kill-server 2>/dev/null
	check "-O top under tmux shows the program and its destination" \
	    sh -c "grep -q 'tunnelwrap top' '$T/top.txt' && grep -q 'python3.*echo.corp.test' '$T/top.txt'"
else
	skip "-O top under tmux" "tmux not installed"
fi
tb_kill "$idle2"

# The launcher becomes COMMAND (exec, no fork): the helper counts the
# process, by pidfd, until it exits.  Run with stderr into a file, where
# the shim has nothing to say and the launcher need not stay.
tb_spawn "$TB_NS_CLI" "$T/sleeper.out" tunnelwrap -f "$TB_RULES" sleep 30
sleeper=$SPAWNED
tb_wait 10 sh -c "[ \"\$(cat /proc/$sleeper/comm 2>/dev/null)\" = sleep ]"
check "the launcher's process is COMMAND itself ($(cat /proc/$sleeper/comm 2>/dev/null))" \
    [ "$(cat "/proc/$sleeper/comm" 2>/dev/null)" = sleep ]
check "no second process: COMMAND has no child" \
    sh -c "[ -n '$sleeper' ] && [ -d /proc/$sleeper ] && [ -z \"\$(pgrep -P $sleeper)\" ]"
tw -f "$TB_RULES" -O status
n1=$(sed -n 's/^helper .*, \([0-9]*\) launchers\{0,1\} attached$/\1/p' "$OUT")
kill "$sleeper"; wait "$sleeper" 2>/dev/null
for i in $(seq 25); do
	tw -f "$TB_RULES" -O status
	n2=$(sed -n 's/^helper .*, \([0-9]*\) launchers\{0,1\} attached$/\1/p' "$OUT")
	[ "$n2" = $((n1 - 1)) ] && break
	sleep 0.2
done
check "the helper counted it while it ran and let go when it died ($n1 -> $n2)" \
    [ "$n2" = $((n1 - 1)) ]

# ControlPersist: a helper with nothing to do exits after that long (3 s:
# the status query below must find it alive on a loaded machine too).
tw_new_runtime
tw -f "$TB_RULES" -o ControlPersist=3 true
tw -f "$TB_RULES" -O status
lp=$(sed -n 's/^helper *pid \([0-9]*\).*/\1/p' "$OUT")
# Both seen alive first: the helper process and its socket.
lcomm=$(cat "/proc/${lp:-none}/comm" 2>/dev/null)
lsock=$(find "$TW_RUNTIME/tunnelwrap" -type s 2>/dev/null)
for i in $(seq 50); do kill -0 "${lp:-none}" 2>/dev/null || break; sleep 0.2; done
check "ControlPersist=3: the idle helper ($lcomm, pid $lp) exits" \
    sh -c "[ -n '$lp' ] && [ '$lcomm' = tunnelwrap-help ] && [ ! -d /proc/$lp ]"
check "ControlPersist=3: and removes its socket (${lsock##*/})" \
    sh -c "[ -n '$lsock' ] && [ ! -e '$lsock' ] &&
    [ -z \"\$(find '$TW_RUNTIME/tunnelwrap' -type s 2>/dev/null)\" ]"
tw -f "$TB_RULES" -o ControlPersist=3 curl -sS --max-time 10 http://wiki.corp.test/
check "ControlPersist=3: the next launcher starts a fresh helper" grep -q 'intranet wiki OK' "$OUT"
