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
# t-prog-clients: everyday clients through tunnelwrap against real servers
# started in the intranet namespace, all reached by name (remote DNS):
# psql to PostgreSQL, redis-cli to redis-server, git clone over git://
# (git daemon) and dumb http:// (a static web server), wget, ssh itself to
# a second sshd behind the bastion (ssh's own connect() goes through the
# shim: no ProxyCommand, no -J), and rsync and scp over that ssh.
. "$(dirname "$0")/lib/tap.sh"
. "$TB_TOP/tests/progs/prog-lib.sh"
tb_need_product
tb_need_netns "clients through the tunnel" || exit 0
# ssh and scp: 5; git: git:// and http://.
pplan 5 "psql 3" "redis-cli 2" "git (git://) 2" "wget 3" "rsync 2"

# --- PostgreSQL --------------------------------------------------------------
pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && printf '%s\n' "$d"
	done | sort -V | tail -n 1
}
PGBIN=$(pg_bin)
if pneed psql postgresql-client psql && { [ -n "$PGBIN" ] ||
    { pneed psql postgresql /usr/lib/postgresql/15/bin/initdb && PGBIN=$(pg_bin); }; }; then
	# The server must not run as root: a private cluster owned by the
	# postgres user (or nobody), outside the test dir that only root can
	# enter.
	pguser=postgres
	id "$pguser" >/dev/null 2>&1 || pguser=nobody
	PGDIR=$(mktemp -d /tmp/twpg.XXXXXX)
	# shellcheck disable=SC2034 # run by tap.sh's exit trap
	TB_TEST_CLEANUP="rm -rf -- '$PGDIR'"
	chown "$pguser" "$PGDIR"
	AS_PG=(setpriv --reuid="$pguser" --regid="$(id -g "$pguser")" --init-groups)
	if timeout 60 "${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres \
	    --auth=trust -E UTF8 --no-sync >"$T/initdb.log" 2>&1; then
		echo "host all all 0.0.0.0/0 trust" >>"$PGDIR/data/pg_hba.conf"
		pspawn_int "$T/postgres.log" "${AS_PG[@]}" "$PGBIN/postgres" \
		    -D "$PGDIR/data" -c listen_addresses="$TB_INT4" -c port=5432 \
		    -c unix_socket_directories="$PGDIR" -c fsync=off \
		    -c shared_buffers=16MB -c max_connections=20
		PSQL=(psql "host=pg.corp.test port=5432 user=postgres dbname=postgres connect_timeout=10" -X -At)
		if pwait_port 5432 30; then
			# The first query may meet a server still starting.
			for _ in 1 2 3 4 5 6; do
				tw -f "$TB_RULES" "${PSQL[@]}" -c "select 'pg ok ' || current_setting('server_version_num')"
				grep -q '^pg ok' "$OUT" && break
				sleep 1
			done
			pcheck psql "first query by name" grep -q '^pg ok' "$OUT"
			tw -f "$TB_RULES" "${PSQL[@]}" -c "create table t (i int, s text);
insert into t select g, repeat('x', 100) from generate_series(1, 20000) g;
select count(*), sum(i), sum(length(s)) from t;
select length(repeat('y', 3000000));
select inet_client_addr();"
			pcheck psql "create, insert 20000 rows, read back; 3 MB value" \
			    sh -c "grep -qx '20000|200010000|2000000' '$OUT' && grep -qx 3000000 '$OUT'"
			# (198.51.100.1: the bastion's intranet-side address)
			pcheck psql "the server saw the bastion as the client" \
			    grep -qx '198.51.100.1' "$OUT"
		else
			pfail psql "postgres listening on $TB_INT4:5432" "$(tail -n 5 "$T/postgres.log")"
		fi
	else
		pfail psql "initdb" "$(tail -n 5 "$T/initdb.log")"
	fi
fi

# --- Redis -------------------------------------------------------------------
if pneed redis-cli "redis-server redis-tools" redis-server redis-cli; then
	mkdir -p "$T/redis"
	pspawn_int "$T/redis.log" redis-server --bind "$TB_INT4" --port 6379 \
	    --protected-mode no --save '' --appendonly no --daemonize no \
	    --dir "$T/redis"
	if pwait_port 6379; then
		RCLI=(timeout 20 redis-cli -h redis.corp.test -p 6379)
		tw -f "$TB_RULES" "${RCLI[@]}" ping
		pcheck redis-cli "PING by name" grep -qx PONG "$OUT"
		head -c 1000000 /dev/urandom | base64 -w0 >"$T/redis.val"
		# (redis-cli prints the value with a newline)
		{ cat "$T/redis.val"; echo; } >"$T/redis.want"
		TB_STDIN=$T/redis.val tw -f "$TB_RULES" "${RCLI[@]}" -x set big
		tw -f "$TB_RULES" sh -c "${RCLI[*]} get big >'$T/redis.got' &&
		    ${RCLI[*]} strlen big && ${RCLI[*]} incrby counter 41 && ${RCLI[*]} incr counter"
		pcheck redis-cli "SET/GET of a 1.3 MB value, INCR" \
		    sh -c "cmp -s '$T/redis.want' '$T/redis.got' && [ \"\$(tail -n 1 '$OUT')\" = 42 ]"
	else
		pfail redis-cli "redis-server listening on $TB_INT4:6379" "$(tail -n 5 "$T/redis.log")"
	fi
fi

# --- git ---------------------------------------------------------------------
if pneed "git (git://)" git git; then
	GIT=(git -c user.name=tw -c user.email=tw@corp.test -c init.defaultBranch=main)
	mkdir -p "$T/git" "$T/work"
	if ! { "${GIT[@]}" init -q "$T/work" &&
	    echo "intranet git OK $RANDOM" >"$T/work/README" &&
	    head -c 500000 /dev/urandom >"$T/work/blob" &&
	    "${GIT[@]}" -C "$T/work" add README blob &&
	    "${GIT[@]}" -C "$T/work" commit -qm first &&
	    "${GIT[@]}" clone -q --bare "$T/work" "$T/git/repo.git" &&
	    git -C "$T/git/repo.git" update-server-info; } >"$T/git-make.log" 2>&1; then
		pfail "git (git://)" "make a repository" "$(tail -n 5 "$T/git-make.log")"
	fi
	pspawn_int "$T/git-daemon.log" git daemon --reuseaddr --listen="$TB_INT4" \
	    --port=9418 --base-path="$T/git" --export-all --informative-errors \
	    --verbose "$T/git"
	if pwait_port 9418; then
		TB_TIMEOUT=60 tw -f "$TB_RULES" timeout 50 git clone -q \
		    git://git.corp.test/repo.git "$T/clone-git"
		pcheck "git (git://)" "clone git://git.corp.test/repo.git, files intact" \
		    sh -c "cmp -s '$T/work/README' '$T/clone-git/README' &&
		        cmp -s '$T/work/blob' '$T/clone-git/blob'"
	else
		pfail "git (git://)" "git daemon listening on $TB_INT4:9418" \
		    "$(tail -n 5 "$T/git-daemon.log")"
	fi
	# Dumb HTTP: the bare repository served as static files.
	pspawn_int "$T/git-http.log" "$TB_PYTHON" -u -m http.server \
	    --bind "$TB_INT4" --directory "$T/git" 8082
	if pwait_port 8082; then
		TB_TIMEOUT=60 tw -f "$TB_RULES" timeout 50 git clone -q \
		    http://git.corp.test:8082/repo.git "$T/clone-http"
		pcheck "git (http://)" "clone http://git.corp.test:8082/repo.git (dumb HTTP), files intact" \
		    sh -c "cmp -s '$T/work/README' '$T/clone-http/README' &&
		        cmp -s '$T/work/blob' '$T/clone-http/blob'"
	else
		pfail "git (http://)" "web server listening on $TB_INT4:8082" \
		    "$(tail -n 5 "$T/git-http.log")"
	fi
fi

# --- wget --------------------------------------------------------------------
if pneed wget wget wget; then
	tw -f "$TB_RULES" wget -q -T 20 -t 1 -O - http://wiki.corp.test/
	pcheck wget "http://wiki.corp.test/ by name" grep -q 'intranet wiki OK' "$OUT"
	TB_TIMEOUT=120 tw -f "$TB_RULES" sh -c \
	    'wget -q -T 20 -t 1 -O - http://wiki.corp.test/big.bin | sha256sum'
	pcheck wget "64 MiB download, sha256 matches" grep -q "^$TB_BIG_SHA256 " "$OUT"
	tw -f "$TB_RULES" wget -q -T 20 -t 1 -O - http://wiki.corp.test:81/
	pcheck wget "refusing port: exit 4 (network failure)" [ "$RC" = 4 ]
fi

# --- ssh to a host behind the bastion, rsync and scp over it -----------------
# A second sshd, in the intranet, that knows the test user's key.
mkdir -p "$T/sshd2"
ssh-keygen -q -t ed25519 -N '' -C intranet-host -f "$T/sshd2/host_ed25519"
cat >"$T/sshd2/sshd_config" <<EOF
ListenAddress $TB_INT4:22
HostKey $T/sshd2/host_ed25519
PidFile $T/sshd2/sshd.pid
AuthorizedKeysFile $TB_DIR/sshd/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
cat >"$T/ssh_config" <<EOF
Host intranet-host
    HostName shell.corp.test
    User root
    IdentityFile $TB_HOME/.ssh/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $T/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 10
EOF
echo "shell.corp.test $(cut -d' ' -f1,2 "$T/sshd2/host_ed25519.pub")" >"$T/known_hosts"
pspawn_int "$T/sshd2.out" /usr/sbin/sshd -D -f "$T/sshd2/sshd_config" -E "$T/sshd2/log"
if pwait_port 22; then
	n0=$(tb_ssh_target_count shell.corp.test 22)
	# shellcheck disable=SC2016 # expanded by the remote shell
	tw -f "$TB_RULES" timeout 30 ssh -F "$T/ssh_config" intranet-host \
	    'echo "intranet ssh OK"; echo "from ${SSH_CONNECTION%% *}"'
	pcheck ssh "ssh -F cfg intranet-host: a command ran there" \
	    grep -qx 'intranet ssh OK' "$OUT"
	pcheck ssh "the inner sshd saw the bastion as the client" \
	    grep -qx "from 198.51.100.1" "$OUT"
	pcheck ssh "the bastion opened shell.corp.test:22 by name" \
	    [ "$(tb_ssh_target_count shell.corp.test 22)" -gt "$n0" ]
	pcheck ssh "host key checked against known_hosts under the name" \
	    sh -c "grep -qx 'intranet ssh OK' '$OUT' && ! grep -qi 'warning' '$ERR'"

	if pneed rsync rsync rsync; then
		mkdir -p "$T/rsync-src/sub" "$T/rsync-dst" "$T/rsync-back"
		head -c 2000000 /dev/urandom >"$T/rsync-src/sub/blob"
		echo "rsync OK" >"$T/rsync-src/note"
		TB_TIMEOUT=60 tw -f "$TB_RULES" timeout 50 rsync -a \
		    -e "ssh -F $T/ssh_config" "intranet-host:$T/rsync-src/" "$T/rsync-dst/"
		pcheck rsync "pull a tree over ssh, identical" diff -r "$T/rsync-src" "$T/rsync-dst"
		TB_TIMEOUT=60 tw -f "$TB_RULES" timeout 50 rsync -a \
		    -e "ssh -F $T/ssh_config" "$T/rsync-src/" "intranet-host:$T/rsync-back/"
		pcheck rsync "push a tree over ssh, identical" diff -r "$T/rsync-src" "$T/rsync-back"
	fi
	head -c 1000000 /dev/urandom >"$T/scp.src"
	TB_TIMEOUT=60 tw -f "$TB_RULES" timeout 50 scp -q -F "$T/ssh_config" \
	    "intranet-host:$T/scp.src" "$T/scp.dst"
	pcheck scp "copy a file from intranet-host, identical" cmp "$T/scp.src" "$T/scp.dst"
else
	pfail ssh "second sshd listening on $TB_INT4:22" "$(tail -n 5 "$T/sshd2/log" "$T/sshd2.out")"
fi

pmatrix
