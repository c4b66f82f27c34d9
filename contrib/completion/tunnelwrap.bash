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
# bash completion for tunnelwrap(1)                          -*- shell-script -*-
#
# Installed as .../bash-completion/completions/tunnelwrap (loaded on demand
# by bash-completion); without bash-completion, source it from ~/.bashrc.
#
#   options        -H -i -F -o -f -v -O -n -V -h (and any other one-letter
#                  option that `tunnelwrap -h` lists)
#   -H             Host aliases of ~/.ssh/config (or of -F FILE), and the
#                  bastions of the session lines of the rules in effect
#   -i -f -F       files
#   -o             ssh_config options as Key=
#   -O             status, stop (or the commands `tunnelwrap -h` lists), then
#                  the session names of the rules in effect
#   COMMAND        commands on PATH (the first word that is not an option,
#                  or the word after --), then that command's own completion
#
# The rules in effect: -f FILE on the line, else $TUNNELWRAP_RULES, else
# $XDG_CONFIG_HOME/tunnelwrap/apps/COMMAND.rules (once COMMAND is typed),
# $XDG_CONFIG_HOME/tunnelwrap/rules, /etc/tunnelwrap/rules.

# Completion idioms: COMPREPLY=($(compgen ...)), a literal "~/" prefix.
# shellcheck disable=SC2207,SC2088,SC2034

# Print the rules file tunnelwrap would read ($1: rules given with -f,
# $2: the command, if any).
_tunnelwrap_rules_file()
{
    local f=$1 cmd=${2:-} cfg
    if [[ -n $f ]]; then
        # ~ is not expanded by the completion's word list.
        [[ $f == "~/"* ]] && f=$HOME/${f#"~/"}
        printf '%s\n' "$f"
        return
    fi
    if [[ -n ${TUNNELWRAP_RULES:-} ]]; then
        printf '%s\n' "$TUNNELWRAP_RULES"
        return
    fi
    if [[ ${XDG_CONFIG_HOME:-} == /* ]]; then
        cfg=$XDG_CONFIG_HOME
    else
        cfg=$HOME/.config
    fi
    if [[ -n $cmd && -e $cfg/tunnelwrap/apps/${cmd##*/}.rules ]]; then
        printf '%s\n' "$cfg/tunnelwrap/apps/${cmd##*/}.rules"
    elif [[ -e $cfg/tunnelwrap/rules ]]; then
        printf '%s\n' "$cfg/tunnelwrap/rules"
    else
        printf '%s\n' /etc/tunnelwrap/rules
    fi
}

# Print "NAME DEST" for each session line of a rules file ($1), following
# include lines (relative to the including file, ~/ for HOME) 8 deep.
_tunnelwrap_sessions()
{
    local file=$1 depth=${2:-0} kw name dest rest inc
    [[ -r $file && ! -d $file && $depth -le 8 ]] || return 0
    while read -r kw name dest rest; do
        case ${kw,,} in
        session)
            [[ -n $name && $name != \#* ]] && printf '%s %s\n' "$name" "$dest"
            ;;
        include)
            inc=${name//\"/}
            [[ -n $inc && $inc != \#* ]] || continue
            case $inc in
            "~/"*) inc=$HOME/${inc#"~/"} ;;
            /*) ;;
            *) inc=${file%/*}/$inc ;;
            esac
            _tunnelwrap_sessions "$inc" $((depth + 1))
            ;;
        esac
    done <"$file" 2>/dev/null
}

# Host aliases (without wildcards) from an ssh_config ($1, default
# ~/.ssh/config), following Include lines one level.
_tunnelwrap_ssh_hosts()
{
    local cfg=${1:-$HOME/.ssh/config} kw args a inc
    local -a files=("$cfg")
    if [[ -r $cfg ]]; then
        while read -r kw args; do
            [[ ${kw,,} == include ]] || continue
            for a in $args; do
                [[ $a == "~/"* ]] && a=$HOME/${a#"~/"}
                [[ $a == /* ]] || a=$HOME/.ssh/$a
                # Globs in Include are intended here.
                for inc in $a; do
                    [[ -r $inc ]] && files+=("$inc")
                done
            done
        done <"$cfg" 2>/dev/null
    fi
    for cfg in "${files[@]}"; do
        [[ -r $cfg ]] || continue
        while read -r kw args; do
            [[ ${kw,,} == host ]] || continue
            for a in $args; do
                case $a in
                *[*?!]*) ;;
                *) printf '%s\n' "$a" ;;
                esac
            done
        done <"$cfg" 2>/dev/null
    done
}

# What `tunnelwrap -h` lists, with the documented set as a fallback:
#   ctl      the -O commands
#   opts     the one-letter options, as -X
#   argopts  the letters of the options that take an argument ([-X word])
_tunnelwrap_usage()
{
    local usage
    usage=$(command tunnelwrap -h 2>/dev/null)
    case $1 in
    ctl)
        local c
        c=$(printf '%s\n' "$usage" | sed -n 's/.*-O \([a-z|]*\).*/\1/p' |
            head -n 1 | tr '|' ' ')
        printf '%s\n' "${c:-status stop}"
        ;;
    opts)
        printf '%s\n' -H -i -F -o -f -v -O -n -V -h
        # -X, and bundles of flags: [-Cv]
        printf '%s\n' "$usage" |
            grep -oE -- '(^|[[ |])-[A-Za-z]+([] |]|$)' |
            grep -oE -- '[A-Za-z]+' | fold -w 1 | sed 's/^/-/'
        ;;
    argopts)
        printf '%s' FfHiOo
        printf '%s\n' "$usage" | grep -oE -- '-[A-Za-z] [a-z][^] |]*' |
            cut -c 2 | tr -d '\n'
        ;;
    esac
}

_tunnelwrap()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n =@: || return
    else
        # Without bash-completion: words split at blanks only, not at
        # COMP_WORDBREAKS (= and : would split -o Key=Value, host:port).
        local line=${COMP_LINE:0:COMP_POINT}
        read -ra words <<<"$line"
        [[ -z $line || $line == *[[:space:]] ]] && words+=("")
        cword=$((${#words[@]} - 1))
        cur=${words[cword]}
        prev=${words[cword - 1]}
    fi
    COMPREPLY=()

    # Walk the words before the cursor as getopt("+...") would: options end
    # at the first word that is not one, or after --.
    local i w j c rules="" sshcfg="" ctl="" dry=0 want="" cmd_at=0 argopts
    argopts=$(_tunnelwrap_usage argopts)
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $want ]]; then
            case $want in
            f) rules=$w ;;
            F) sshcfg=$w ;;
            O) ctl=$w ;;
            esac
            want=""
            continue
        fi
        if [[ $w == -- ]]; then
            cmd_at=$((i + 1))
            break
        fi
        if [[ $w != -?* ]]; then
            cmd_at=$i
            break
        fi
        for ((j = 1; j < ${#w}; j++)); do
            c=${w:j:1}
            if [[ $argopts == *"$c"* ]]; then
                if ((j + 1 < ${#w})); then
                    case $c in
                    f) rules=${w:j+1} ;;
                    F) sshcfg=${w:j+1} ;;
                    O) ctl=${w:j+1} ;;
                    esac
                else
                    want=$c
                fi
                break
            fi
            [[ $c == n ]] && dry=1
        done
    done

    # After the command: its own completion.
    if ((cmd_at > 0 && cword > cmd_at)); then
        if ((dry == 0 && ${#ctl} == 0)) && declare -F _command_offset >/dev/null; then
            # _command_offset counts in COMP_WORDS, which bash split at
            # COMP_WORDBREAKS too: find the command word there.
            local k
            for ((k = cmd_at; k < COMP_CWORD; k++)); do
                [[ ${COMP_WORDS[k]} == "${words[cmd_at]}" ]] && break
            done
            _command_offset "$k"
        else
            # -n DEST... or no bash-completion: file names.
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return 0
    fi

    # The argument of an option (separate word).
    if [[ -n $want ]]; then
        _tunnelwrap_optarg "$want" "$cur" "$rules" "$sshcfg"
        return 0
    fi
    # The argument of an option glued to it: -fFILE, -Ostatus, -vH...
    if ((cmd_at == 0)) && [[ $cur == -[!-]* ]]; then
        for ((j = 1; j < ${#cur}; j++)); do
            c=${cur:j:1}
            if [[ $argopts == *"$c"* ]]; then
                if ((j + 1 < ${#cur})); then
                    local pre=${cur:0:j+1}
                    _tunnelwrap_optarg "$c" "${cur:j+1}" "$rules" "$sshcfg"
                    COMPREPLY=("${COMPREPLY[@]/#/$pre}")
                    return 0
                fi
                break
            fi
        done
    fi

    # A word after -O CMD: a session name of the rules in effect.
    if [[ -n $ctl ]]; then
        if [[ $cur != -* ]]; then
            local f
            f=$(_tunnelwrap_rules_file "$rules")
            COMPREPLY=($(compgen -W "$(_tunnelwrap_sessions "$f" | cut -d' ' -f1)" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "-H -i -F -o -f -v" -- "$cur"))
        fi
        return 0
    fi

    if [[ $cur == -* && $cmd_at == 0 ]]; then
        COMPREPLY=($(compgen -W "$(_tunnelwrap_usage opts | tr ' ' '\n' | sort -u) --" -- "$cur"))
        return 0
    fi

    # -n: destinations, which nothing here can know.
    ((dry)) && return 0

    # The command.
    COMPREPLY=($(compgen -c -- "$cur" | sort -u))
    return 0
}

# _tunnelwrap_optarg OPT CUR RULES SSHCFG: fill COMPREPLY for OPT's argument.
_tunnelwrap_optarg()
{
    local opt=$1 cur=$2 rules=$3 sshcfg=$4 f user=""
    case $opt in
    f | F | i)
        if declare -F _filedir >/dev/null; then
            _filedir
        else
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        ;;
    O)
        COMPREPLY=($(compgen -W "$(_tunnelwrap_usage ctl)" -- "$cur"))
        ;;
    H)
        if [[ $cur == *@* ]]; then
            user=${cur%%@*}@
            cur=${cur#*@}
        fi
        f=$(_tunnelwrap_rules_file "$rules")
        COMPREPLY=($(compgen -P "$user" -W "$(
            {
                _tunnelwrap_ssh_hosts "$sshcfg"
                _tunnelwrap_sessions "$f" | cut -d' ' -f2 | sed 's/^.*@//'
            } | sort -u
        )" -- "$cur"))
        # bash replaces only the text after the last ':' (host:port).
        if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
            local strip=${user}${cur%:*}:
            COMPREPLY=("${COMPREPLY[@]#"$strip"}")
        fi
        ;;
    o)
        COMPREPLY=($(compgen -W "HostName= User= Port= IdentityFile=
            UserKnownHostsFile= GlobalKnownHostsFile= StrictHostKeyChecking=
            BatchMode= PasswordAuthentication= KbdInteractiveAuthentication=
            Compression= ConnectTimeout= ControlPersist= Ciphers=
            KexAlgorithms= ProxyCommand= ProxyJump= ServerAliveInterval=
            ServerAliveCountMax= HelperTimeout= Strict=" -- "$cur"))
        [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] &&
            compopt -o nospace 2>/dev/null
        ;;
    esac
}

complete -F _tunnelwrap tunnelwrap
