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
# t-prog-legacy: "secure your access to insecure protocols": telnet
# (inetutils-telnet) to the real telnetd under inetd, and passive-mode FTP
# with inetutils-ftp and lftp against vsftpd, all in the intranet and
# reached by name through tunnelwrap.  Downloads are compared with the
# server's files.
#
# FTP's data connection is a second TCP connection to an address the
# server names in its PASV reply (vsftpd: pasv_address, the intranet
# address), or, with EPSV, to the control connection's own peer: through
# tunnelwrap that peer is the synthetic address of the name, which maps
# back to the name, so EPSV goes to the same host by name.
. "$(dirname "$0")/lib/tap.sh"
. "$TB_TOP/tests/progs/prog-lib.sh"
tb_need_product
tb_need_netns "legacy clients through the tunnel" || exit 0

TELNET="telnet (inetutils)"
FTP="ftp (inetutils)"
pplan 0 "$TELNET 4" "$FTP 5" "lftp 4"

# --- telnet ----------------------------------------------------------------
if pneed "$TELNET" "inetutils-telnet inetutils-telnetd inetutils-inetd" \
    telnet /usr/sbin/telnetd inetutils-inetd; then
	# The login program telnetd runs instead of /bin/login: a banner,
	# then one line read from the terminal and said back.
	cat >"$T/login.sh" <<-'EOF'
	#!/bin/sh
	echo "intranet telnet OK"
	read -r line
	echo "got: $line"
	EOF
	chmod 755 "$T/login.sh"
	echo "$TB_INT4:telnet stream tcp nowait root /usr/sbin/telnetd telnetd -h -E $T/login.sh" \
	    >"$T/inetd.conf"
	pspawn_int "$T/inetd.log" inetutils-inetd -d --pidfile="$T/inetd.pid" "$T/inetd.conf"
	if pwait_port 23; then
		n0=$(tb_ssh_target_count telnet.corp.test 23)
		TB_TIMEOUT=40 tw -f "$TB_RULES" sh -c \
		    '{ echo hello-telnet; sleep 3; } | timeout 30 telnet telnet.corp.test 23'
		pcheck "$TELNET" "connected by name" \
		    grep -q '^Connected to telnet.corp.test' "$OUT"
		pcheck "$TELNET" "telnetd's login program answered" \
		    grep -q 'intranet telnet OK' "$OUT"
		pcheck "$TELNET" "a line typed went there and back" \
		    grep -q 'got: hello-telnet' "$OUT"
		pcheck "$TELNET" "the bastion opened telnet.corp.test:23 by name" \
		    [ "$(tb_ssh_target_count telnet.corp.test 23)" -gt "$n0" ]
	else
		pfail "$TELNET" "inetd with telnetd listening on $TB_INT4:23" \
		    "$(tail -n 5 "$T/inetd.log")"
	fi
fi

# --- vsftpd ------------------------------------------------------------------
# Both files of the FTP server's, downloaded into DIR, intact?
ftp_intact() {
	cmp -s "$T/$1/hello.txt" "$T/ftproot/hello.txt" &&
	    cmp -s "$T/$1/blob.bin" "$T/ftproot/blob.bin"
}

# Data connections sshd opened to HOST on vsftpd's passive ports.
pasv_count() {
	local p n=0
	for p in $(seq 30000 30019); do
		n=$((n + $(tb_ssh_target_count "$1" "$p")))
	done
	echo "$n"
}

# ftpget LABEL DIR HOST COMMANDS...: inetutils ftp, anonymous, two files.
ftpget() {
	local label=$1 dir=$2 host=$3
	shift 3
	mkdir -p "$T/$dir"
	{ echo "user anonymous test@"; printf '%s\n' "$@" binary \
	    "get hello.txt" "get blob.bin" quit; } >"$T/$dir.in"
	TB_STDIN=$T/$dir.in TB_TIMEOUT=40 tw -f "$TB_RULES" sh -c \
	    "cd '$T/$dir' && timeout 30 ftp -n -v $host"
	if ftp_intact "$dir"; then
		pok "$FTP" "$label: both files downloaded intact"
	else
		pfail "$FTP" "$label: both files downloaded intact" \
		    "$(grep -v '^[0-9]* bytes' "$OUT" | tail -n 6)"
	fi
}

ftp_tests() {
	local n0
	[ "$(pstate "$FTP")" = skipped ] && return 0
	# PASV by name is a documented limit (README): inetutils ftp checks
	# the PASV address against its peer, which is the name's synthetic
	# address.  What must hold is that it fails that way, visibly, and
	# never by going direct.
	mkdir -p "$T/ftp-pasv"
	{ echo "user anonymous test@"; printf '%s\n' passive binary \
	    "get hello.txt" quit; } >"$T/ftp-pasv.in"
	TB_STDIN=$T/ftp-pasv.in TB_TIMEOUT=40 tw -f "$TB_RULES" sh -c \
	    "cd '$T/ftp-pasv' && timeout 30 ftp -n -v ftp.corp.test"
	pcheck "$FTP" "PASV by name: refused by ftp's own peer-address check (documented limit; EPSV works)" \
	    grep -q 'Passive mode address mismatch' "$OUT"
	pnote "$FTP" "PASV by name: ftp compares the server's address with the synthetic peer: use EPSV (epsv4) or the server's address"
	n0=$(pasv_count ftp.corp.test)
	ftpget "passive, EPSV (epsv4) by name" ftp-epsv ftp.corp.test passive epsv4
	pcheck "$FTP" "EPSV: the bastion opened the data connections to ftp.corp.test by name" \
	    [ "$(pasv_count ftp.corp.test)" -ge $((n0 + 2)) ]
	n0=$(pasv_count "$TB_INT4")
	ftpget "passive (PASV) by address" ftp-addr "$TB_INT4" passive
	pcheck "$FTP" "PASV: the bastion opened the data connections to $TB_INT4" \
	    [ "$(pasv_count "$TB_INT4")" -ge $((n0 + 2)) ]
}

# lftpget LABEL DIR SETTINGS: lftp, anonymous, two files.
lftpget() {
	local label=$1 dir=$2
	shift 2
	mkdir -p "$T/$dir"
	TB_TIMEOUT=60 tw -f "$TB_RULES" sh -c "cd '$T/$dir' && timeout 50 lftp -d -c \"set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes; $*; open ftp://ftp.corp.test/; get hello.txt; get blob.bin\""
	if ftp_intact "$dir"; then
		pok lftp "$label: both files downloaded intact"
	else
		pfail lftp "$label: both files downloaded intact" \
		    "$(grep -E '^(<---|---->|\*\*\*\*|----)' "$ERR" | tail -n 8)"
	fi
}

# lftp: by default EPSV (its control connection is to the first synthetic
# address, IPv6 here); then PASV forced, over IPv4.
lftp_tests() {
	[ "$(pstate lftp)" = skipped ] && return 0
	lftpget "by name, defaults (passive)" lftp-default "set ftp:passive-mode on"
	pcheck lftp "defaults: a passive mode used ($(grep -Eo -m1 -- '^---> (EPSV|PASV)' "$ERR" | cut -c6-))" \
	    grep -Eq -- '^---> (EPSV|PASV)' "$ERR"
	lftpget "by name, PASV over IPv4" lftp-pasv \
	    "set ftp:passive-mode on; set ftp:prefer-epsv no; set dns:order inet"
	pcheck lftp "PASV over IPv4: a PASV reply was used" \
	    grep -q -- '^---> PASV' "$ERR"
}

pneed "$FTP" inetutils-ftp ftp
pneed lftp lftp lftp
if ! pneed vsftpd vsftpd /usr/sbin/vsftpd; then
	pskip "$FTP" "no FTP server (vsftpd)"
	pskip lftp "no FTP server (vsftpd)"
elif [ "$(pstate "$FTP")" != skipped ] || [ "$(pstate lftp)" != skipped ]; then
	mkdir -p "$T/ftproot" "$T/empty"
	chmod 755 "$T/ftproot" "$T/empty"
	echo "intranet ftp file OK $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" \
	    >"$T/ftproot/hello.txt"
	head -c 3000000 /dev/urandom >"$T/ftproot/blob.bin"
	chmod 644 "$T/ftproot/"*
	cat >"$T/vsftpd.conf" <<-EOF
	listen=YES
	listen_ipv6=NO
	listen_address=$TB_INT4
	listen_port=21
	background=NO
	anonymous_enable=YES
	no_anon_password=YES
	local_enable=NO
	write_enable=NO
	anon_root=$T/ftproot
	pasv_enable=YES
	pasv_address=$TB_INT4
	pasv_min_port=30000
	pasv_max_port=30019
	secure_chroot_dir=$T/empty
	seccomp_sandbox=NO
	isolate=NO
	isolate_network=NO
	ftp_username=ftp
	nopriv_user=nobody
	log_ftp_protocol=YES
	vsftpd_log_file=$T/vsftpd.xfer.log
	EOF
	pspawn_int "$T/vsftpd.log" /usr/sbin/vsftpd "$T/vsftpd.conf"
	if ! pwait_port 21; then
		for p in "$FTP" lftp; do
			pfail "$p" "vsftpd listening on $TB_INT4:21" "$(tail -n 5 "$T/vsftpd.log")"
		done
	else
		ftp_tests
		lftp_tests
	fi
fi

pmatrix
