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
# t-completion: the bash and zsh completions of contrib/completion parse,
# and offer what they promise: options, -O commands, session names from the
# rules in effect (-f FILE, $TUNNELWRAP_RULES, ~/.config/tunnelwrap/rules,
# includes followed), Host aliases of ~/.ssh/config for -H, ssh options for
# -o, files for -f, commands after the options, and, after the command, that
# command's own completion (bash-completion's _command_offset).  bash is
# exercised with and without bash-completion loaded; zsh through a real
# interactive zsh on a pseudo-terminal (zsh/zpty), when zsh is installed.
. "$(dirname "$0")/lib/tap.sh"
# bash -n, zsh -n; 16 lines plain, 17 with bash-completion; $TUNNELWRAP_RULES
# and XDG_CONFIG_HOME; 8 lines in zsh.
tb_plan 45

top=$TB_TOP
BASHC=$top/contrib/completion/tunnelwrap.bash
ZSHC=$top/contrib/completion/_tunnelwrap
BC=/usr/share/bash-completion/bash_completion
# The launcher under test is on PATH: the completions read its -h.
TWDIR=$(dirname "$TB_TUNNELWRAP")
# Every option its usage shows (-X and bundles [-XY]), and its -O commands.
"$TB_TUNNELWRAP" -h >"$T/usage" 2>&1
USAGE_OPTS=$(grep -oE -- '(^|[[ |])-[A-Za-z]+([] |]|$)' "$T/usage" |
    grep -oE -- '[A-Za-z]+' | fold -w 1 | sort -u | sed 's/^/-/' | tr '\n' ' ')
USAGE_CTL=$(sed -n 's/.*-O \([a-z|]*\).*/\1/p' "$T/usage" | head -n 1 | tr '|' ' ')

tb_capture bash -n "$BASHC"
check "bash -n tunnelwrap.bash" sh -c "[ '$RC' = 0 ] && ! grep -q . '$ERR'"
if command -v zsh >/dev/null; then
	tb_capture zsh -n "$ZSHC"
	check "zsh -n _tunnelwrap" sh -c "[ '$RC' = 0 ] && ! grep -q . '$ERR'"
else
	skip "zsh -n _tunnelwrap" "zsh not installed"
fi

# A HOME with an ssh config and rules, and an XDG_CONFIG_HOME-less layout.
H=$T/home
mkdir -p "$H/.ssh" "$H/.config/tunnelwrap/apps" "$T/bin"
cat >"$H/.ssh/config" <<'EOF'
Host bastion jump-a
    HostName 192.0.2.1
Host *.wild !neg
    User nobody
Include config.d/*
EOF
mkdir -p "$H/.ssh/config.d"
printf 'Host included-host\n' >"$H/.ssh/config.d/extra"
cat >"$H/.config/tunnelwrap/rules" <<'EOF'
# the user's rules
session corp alice@bastion.example.com:2222 ServerAliveInterval=30
SESSION lab lab-gw
include more.rules
tunnel *.corp.test
EOF
printf 'session third bob@gw3\n' >"$H/.config/tunnelwrap/more.rules"
printf 'session other-file x\nsession second y\n' >"$T/alt.rules"
printf 'session from-env z\n' >"$T/env.rules"
# A command with a completion of its own, for delegation.
printf '#!/bin/sh\n' >"$T/bin/twfakecmd"
chmod +x "$T/bin/twfakecmd"

# Bash driver: each argument is a command line; prints "LINE => REPLY..."
# with COMP_LINE, COMP_POINT, COMP_WORDS and COMP_CWORD set as bash would
# (COMP_WORDS split at blanks and COMP_WORDBREAKS).
cat >"$T/comp.bash" <<'EOF'
[ "$1" = bc ] && . "$BC"
. "$BASHC"
complete -W "alpha beta" twfakecmd
shift
for line in "$@"; do
	COMP_LINE=$line
	COMP_POINT=${#line}
	w=() tok=""
	for ((i = 0; i < ${#line}; i++)); do
		ch=${line:i:1}
		if [[ $ch == [[:space:]] ]]; then
			[[ -n $tok ]] && w+=("$tok")
			tok=""
		elif [[ $COMP_WORDBREAKS == *"$ch"* ]]; then
			[[ -n $tok ]] && w+=("$tok")
			w+=("$ch")
			tok=""
		else
			tok+=$ch
		fi
	done
	w+=("$tok")
	COMP_WORDS=("${w[@]}")
	COMP_CWORD=$((${#w[@]} - 1))
	COMPREPLY=()
	_tunnelwrap tunnelwrap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s => %s\n' "$line" "$(printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' ')"
done
EOF

# expect MODE LINE WANT... [-- UNWANTED...]: the completion of LINE offers
# every WANT and no UNWANTED.
expect() {
	local mode=$1 line=$2 got="" l w miss="" extra="" neg=0 want="" not=""
	shift 2
	while IFS= read -r l; do
		if [[ $l == "$line => "* ]]; then
			got=${l#"$line => "}
			break
		fi
	done <"$T/out.$mode"
	for w in "$@"; do
		if [ "$w" = -- ]; then
			neg=1
		elif [ $neg = 0 ]; then
			want="$want $w"
			case " $got " in *" $w "*) ;; *) miss="$miss $w" ;; esac
		else
			not="$not $w"
			case " $got " in *" $w "*) extra="$extra $w" ;; esac
		fi
	done
	if [ -z "$miss$extra" ]; then
		ok "$mode: '${line/"$T"/\$T}' offers${want:- no}${not:+, not$not}"
	else
		fail "$mode: '${line/"$T"/\$T}'" "missing:${miss:- none}; unwanted:${extra:- none}; got: $got"
	fi
}

LINES=(
	"tunnelwrap -"
	"tunnelwrap -O "
	"tunnelwrap -O st"
	"tunnelwrap -Os"
	"tunnelwrap -O status "
	"tunnelwrap -f $T/alt.rules -O stop "
	"tunnelwrap -vf$T/alt.rules -O status "
	"tunnelwrap -H "
	"tunnelwrap -H alice@ba"
	"tunnelwrap -o Control"
	"tunnelwrap -f $T/alt."
	"tunnelwrap -i $T/env"
	"tunnelwrap twfake"
	"tunnelwrap -v -- twfake"
	"tunnelwrap -o Port=22 twfakecmd al"
	"tunnelwrap -f $T/alt.rules twfakecmd "
	"tunnelwrap -n "
)
modes="plain"
[ -r "$BC" ] && modes="plain bc"
for mode in $modes; do
	tb_capture env -u XDG_CONFIG_HOME HOME="$H" PATH="$T/bin:$TWDIR:$PATH" BC="$BC" BASHC="$BASHC" \
	    bash "$T/comp.bash" "$mode" "${LINES[@]}"
	cp "$OUT" "$T/out.$mode"
	if [ "$RC" != 0 ] || [ -s "$ERR" ]; then
		fail "$mode: completion ran without errors" "$(tb_last)"
		continue
	fi
	# shellcheck disable=SC2086 # lists of words
	expect "$mode" "tunnelwrap -" -H -i -F -o -f -v -O -n -V -h $USAGE_OPTS
	# shellcheck disable=SC2086
	expect "$mode" "tunnelwrap -O " status stop $USAGE_CTL -- corp -H
	expect "$mode" "tunnelwrap -O st" status stop
	expect "$mode" "tunnelwrap -Os" -Ostatus -Ostop
	expect "$mode" "tunnelwrap -O status " corp lab third -- other-file
	expect "$mode" "tunnelwrap -f $T/alt.rules -O stop " other-file second -- corp
	expect "$mode" "tunnelwrap -vf$T/alt.rules -O status " other-file second -- corp
	expect "$mode" "tunnelwrap -H " bastion jump-a included-host \
	    bastion.example.com:2222 lab-gw gw3 -- "*.wild" "!neg" neg
	expect "$mode" "tunnelwrap -H alice@ba" alice@bastion \
	    alice@bastion.example.com:2222 -- alice@jump-a
	expect "$mode" "tunnelwrap -o Control" ControlPersist=
	expect "$mode" "tunnelwrap -f $T/alt." "$T/alt.rules"
	expect "$mode" "tunnelwrap -i $T/env" "$T/env.rules"
	expect "$mode" "tunnelwrap twfake" twfakecmd
	expect "$mode" "tunnelwrap -v -- twfake" twfakecmd
	expect "$mode" "tunnelwrap -n " -- twfakecmd bastion
	if [ "$mode" = bc ]; then
		expect "$mode" "tunnelwrap -o Port=22 twfakecmd al" alpha -- beta
		expect "$mode" "tunnelwrap -f $T/alt.rules twfakecmd " alpha beta
	else
		# No _command_offset: file names after the command.
		expect "$mode" "tunnelwrap -f $T/alt.rules twfakecmd " -- alpha twfakecmd
	fi
done
[ -r "$BC" ] || skip "bash completion with bash-completion loaded" "$BC not installed" 17

# $TUNNELWRAP_RULES is the rules in effect when no -f is given.
tb_capture env -u XDG_CONFIG_HOME HOME="$H" TUNNELWRAP_RULES="$T/env.rules" BC="$BC" \
    BASHC="$BASHC" bash "$T/comp.bash" plain "tunnelwrap -O stop "
cp "$OUT" "$T/out.env"
expect env "tunnelwrap -O stop " from-env -- corp
# XDG_CONFIG_HOME, when absolute, replaces ~/.config.
mkdir -p "$T/xdg/tunnelwrap"
printf 'session xdg-sess q\n' >"$T/xdg/tunnelwrap/rules"
tb_capture env HOME="$H" XDG_CONFIG_HOME="$T/xdg" BC="$BC" \
    BASHC="$BASHC" bash "$T/comp.bash" plain "tunnelwrap -O stop "
cp "$OUT" "$T/out.xdg"
expect xdg "tunnelwrap -O stop " xdg-sess -- corp

# -- zsh: a real interactive zsh on a pty, compadd recorded -----------------
if ! command -v zsh >/dev/null; then
	skip "zsh completion" "zsh not installed" rest
	exit 0
fi
if ! zsh -f -c 'zmodload zsh/zpty' 2>/dev/null; then
	skip "zsh completion" "zsh/zpty not available" rest
	exit 0
fi
cat >"$T/zcap.zsh" <<'EOF'
# zcap.zsh FPATHDIR LINE...: "LINE => MATCHES" for each LINE, as zsh's
# completion offers them at the end of LINE.
zmodload zsh/zpty || exit 2
dir=$1; shift
acc=""
readuntil() {
  local chunk i
  for (( i = 0; i < 200; i++ )); do
    while zpty -r -t z chunk; do acc+=$chunk; done
    [[ $acc == *$1* ]] && return 0
    sleep 0.05
  done
  return 1
}
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT=''; fpath=($dir \$fpath); autoload -U compinit; compinit -u -d $T/zcompdump"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false'
zpty -w z 'compadd() { local -a __h; builtin compadd -O __h "$@"; (( $#__h )) && print -rl -- "<M>"${^__h} >/dev/tty; builtin compadd "$@" }'
zpty -w z 'bindkey "^I" complete-word'
zpty -w z 'print -r -- "<R""EADY>"'
readuntil '<READY>' || { print -r -- "zsh did not start: $acc" >&2; exit 3; }
for line in "$@"; do
  acc=""
  zpty -w -n z "$line"$'\t'
  sleep 0.3
  zpty -w -n z $'\C-e\C-u'
  zpty -w z 'print -r -- "<D""ONE>"'
  readuntil '<DONE>' || { print -r -- "no answer for $line: $acc" >&2; exit 4; }
  print -r -- "$line => ${(j: :)${(ou)${(f)$(print -r -- $acc | tr -d '\r' | grep -o '<M>[^<]*' | sed 's/^<M>//')}}}"
done
zpty -d z
EOF
ZLINES=(
	"tunnelwrap -"
	"tunnelwrap -O "
	"tunnelwrap -O status "
	"tunnelwrap -f $T/alt.rules -O stop "
	"tunnelwrap -H "
	"tunnelwrap -o Control"
	"tunnelwrap twfake"
	"tunnelwrap -v -- twfakecmd "
)
# A zsh completion for the fake command, to see delegation.
mkdir -p "$T/zfunc"
printf '#compdef twfakecmd\ncompadd gamma delta\n' >"$T/zfunc/_twfakecmd"
tb_capture env -u XDG_CONFIG_HOME HOME="$H" PATH="$T/bin:$TWDIR:$PATH" T="$T" TERM=dumb \
    timeout 60 zsh -f "$T/zcap.zsh" "$top/contrib/completion $T/zfunc" "${ZLINES[@]}"
cp "$OUT" "$T/out.zsh"
if [ "$RC" != 0 ]; then
	fail "zsh: completion driver ran" "$(tb_last)"
	exit 0
fi
# shellcheck disable=SC2086 # lists of words
expect zsh "tunnelwrap -" -H -i -F -o -f -v -O -n -V -h $USAGE_OPTS
# shellcheck disable=SC2086
expect zsh "tunnelwrap -O " status stop $USAGE_CTL
expect zsh "tunnelwrap -O status " corp lab third -- other-file
expect zsh "tunnelwrap -f $T/alt.rules -O stop " other-file second -- corp
expect zsh "tunnelwrap -H " bastion jump-a included-host \
    bastion.example.com:2222 lab-gw gw3 -- "*.wild" neg
expect zsh "tunnelwrap -o Control" ControlPersist
expect zsh "tunnelwrap twfake" twfakecmd
expect zsh "tunnelwrap -v -- twfakecmd " gamma delta
