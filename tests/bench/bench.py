#!/usr/bin/env python3
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
"""tests/bench/bench.py - tunnelwrap against OpenSSH's own forwarding (issue 4).

    make bench          full run (< 5 min), writes tests/bench/results.md and
                        tests/bench/results.svg
    make bench-quick    short run (< 60 s), prints the table only (--out DIR
                        to keep its results.md and plot)

One run starts everything it needs on loopback (127.0.0.0/8 only): a
throwaway sshd with its own host key, authorized key and known_hosts; the
echo/sink/source server (server.c); per cipher an `ssh -L`, an `ssh -D`
(used through proxychains4) and a tunnelwrap helper.  The same client
(client.c, plain libc) is then run through every transport, direct
included, with the repetitions interleaved (the transport order rotates
every round) so that machine noise hits all columns alike.  Each figure
is the median over rounds.

CPU is counted for every process involved, from the kernel's own
per-thread run time (/proc/PID/task/*/schedstat, nanoseconds) taken before
and after each run: the client (with the shim or proxychains in it, plus
the tunnelwrap launcher, from wait4's rusage), the helper or the ssh
client, and every sshd process below the listener (the per-connection
monitor and its unprivileged child).  The echo/sink/source server is the
same for all transports and is left out of the totals.

The WAN section (issue 12) puts a delay line (delay.c: every byte held
RTT/2 each way, unbounded buffering; this kernel has no sch_netem) in
front of the same sshd, per round trip (0, 10, 50, 100 ms; quick: 50 ms,
one stream each way) with its own ssh -L, ssh -D and helper, aes128-gcm:
one stream down and up, 8 streams, connect + first byte, and 1-byte
echoes while a download runs on the same session.  `--only wan` runs
just that and writes results-wan.md; --rtt, --wan-tests and --tw-opt
(a helper -o option) narrow it for development.

Everything started is killed by PID when the run ends, however it ends.
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

AES = "aes128-gcm@openssh.com"
CHACHA = "chacha20-poly1305@openssh.com"
CIPHER_SHORT = {AES: "aes128-gcm", CHACHA: "chacha20-poly1305"}
SERVICE_ADDR = "127.0.0.2"     # the "intranet" server: tunneled
DIRECT_ADDR = "127.0.0.3"      # same server, never tunneled (shim overhead)
SYNTH_POOL = "127.77.0.0/16"   # synthetic addresses stay on loopback too
MiB = 1024 * 1024
GiB = 1024 * MiB

TRANSPORTS = ["direct", "sshL", "sshD", "tw"]
FOOTNOTE = """
* mean of the middle 80% of the samples (the loopback handshake has stalls
  of tens of microseconds that would swamp a mean or flip a median), median
  over repetitions; the shim's overhead is connect() minus the raw system
  call in the same process, with and without the shim.
"""
TNAME = {"direct": "direct", "sshL": "ssh -L", "sshD": "ssh -D+pc4",
         "tw": "tunnelwrap", "twsec": "tw seccomp"}

PROFILES = {
    "full": dict(rounds=3, bulk=1 * GiB, lat=500, par=200, par_bytes=MiB,
                 par_ciphers=[AES], lat_ciphers=[AES, CHACHA], cold=5,
                 exec_n=50, exec_reps=3, connloop=100000, connloop_reps=5,
                 gai=2000, scale=10000, scale_cmp=2000, scale_secs=30,
                 stall=256 * MiB, stall_secs=2.0),
    "quick": dict(rounds=1, bulk=256 * MiB, lat=500, par=200, par_bytes=MiB,
                  par_ciphers=[AES], lat_ciphers=[AES], cold=2, exec_n=30,
                  exec_reps=1, connloop=20000, connloop_reps=2, gai=500,
                  scale=1000, scale_cmp=1000, scale_secs=20,
                  stall=64 * MiB, stall_secs=1.0),
}

# The WAN section: the same sshd behind a delay line (delay.c), per round
# trip.  Bytes per one-stream transfer are sized for ~1-3 s at ssh's rate;
# 8 streams move a quarter of that each.  keys: 1-byte echoes GAP ms
# apart while a download runs on the same session.
WAN_PROFILES = {
    "full": dict(rtts=[0, 10, 50, 100], tests=["down", "up", "par", "lat",
                                               "keys"],
                 bytes={0: 256 * MiB, 10: 128 * MiB, 50: 64 * MiB,
                        100: 32 * MiB}, par=8, lat=10, keys=20, gap=20),
    "quick": dict(rtts=[50], tests=["down", "up"], bytes={50: 32 * MiB},
                  par=8, lat=5, keys=10, gap=20),
}
WAN_TRANSPORTS = ["sshL", "sshD", "tw"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- processes --------------------------------------------------------------

class Procs:
    """Everything we start, by PID, so that cleanup can end it."""

    def __init__(self):
        self.pids = []          # (pid, name), in start order
        self.popens = []

    def add(self, pid, name):
        self.pids.append((pid, name))

    def forget(self, pid):
        self.pids = [(p, n) for p, n in self.pids if p != pid]


PROCS = Procs()


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_pid(pid, grace=2.0):
    """SIGTERM, then SIGKILL after grace seconds; reap if it is our child."""
    if not alive(pid):
        reap(pid)
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + grace
    while time.monotonic() < end:
        reap(pid)
        if not alive(pid):
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(0.05)
    reap(pid)


def reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def proc_table():
    """{pid: (ppid, comm, cmdline)} for every process."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        t[int(d)] = (ppid, comm, [c.decode(errors="replace") for c in cmd if c])
    return t


def descendants(root, table=None):
    table = table or proc_table()
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append(k)
            todo.append(k)
    return out


def runtime_ns(pid):
    """CPU time of all threads of pid, in ns (0 if it is gone)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
    except OSError:
        return 0
    return total


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_hwm(pid):
    """Reset the peak RSS (VmHWM) of pid: writing 5 to clear_refs."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Run:
    """One finished command: exit status, output, rusage CPU seconds."""

    def __init__(self, rc, out, err, cpu, wall, timed_out):
        self.rc, self.out, self.err = rc, out, err
        self.cpu, self.wall, self.timed_out = cpu, wall, timed_out

    def kv(self):
        d = {}
        for line in self.out.splitlines():
            for tok in line.split():
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    try:
                        d[k] = float(v)
                    except ValueError:
                        d[k] = v
        return d


def run(argv, env, tmp, timeout, stdin=None):
    """Run argv to completion (killed after timeout); rusage of its tree."""
    out_path = os.path.join(tmp, "run.out")
    err_path = os.path.join(tmp, "run.err")
    fa = [(os.POSIX_SPAWN_OPEN, 0, stdin or "/dev/null", os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, out_path,
           os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
          (os.POSIX_SPAWN_OPEN, 2, err_path,
           os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    t0 = time.monotonic()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=fa)
    PROCS.add(pid, argv[0])
    fired = []

    def expire():
        fired.append(1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    timer = threading.Timer(timeout, expire)
    timer.start()
    try:
        while True:
            try:
                _, status, ru = os.wait4(pid, 0)
                break
            except InterruptedError:
                continue
    finally:
        timer.cancel()
        PROCS.forget(pid)
    wall = time.monotonic() - t0
    with open(out_path) as f:
        out = f.read()
    with open(err_path) as f:
        err = f.read()
    rc = os.waitstatus_to_exitcode(status)
    return Run(rc, out, err, ru.ru_utime + ru.ru_stime, wall, bool(fired))


def spawn(argv, env, log_path, stdin_pipe=False):
    """Start a long-lived process; returns (pid, stdin write end or None)."""
    fa = [(os.POSIX_SPAWN_OPEN, 1, log_path,
           os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
          (os.POSIX_SPAWN_DUP2, 1, 2)]
    w = None
    if stdin_pipe:
        r, w = os.pipe()
        os.set_inheritable(r, True)
        fa.insert(0, (os.POSIX_SPAWN_DUP2, r, 0))
        fa.append((os.POSIX_SPAWN_CLOSE, w))
    else:
        fa.insert(0, (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0))
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=fa)
    if stdin_pipe:
        os.close(r)
    PROCS.add(pid, os.path.basename(argv[0]))
    return pid, w


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_listening(port, pid, secs=10.0, addr="127.0.0.1"):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if not alive(pid):
            return False
        s = socket.socket()
        try:
            s.connect((addr, port))
            return True
        except OSError:
            time.sleep(0.01)
        finally:
            s.close()
    return False


# --- the bed ------------------------------------------------------------------

class Bed:
    def __init__(self, args, prof):
        self.args, self.prof = args, prof
        self.build = os.path.abspath(args.build)
        self.tw = os.path.join(self.build, "tunnelwrap")
        self.tmp = tempfile.mkdtemp(prefix="twbench.")
        os.chmod(self.tmp, 0o700)
        self.bin = os.path.join(self.tmp, "bin")
        self.client = os.path.join(self.bin, "bench-client")
        self.server_bin = os.path.join(self.bin, "bench-server")
        self.delay_bin = os.path.join(self.bin, "bench-delay")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("LD_PRELOAD", "TUNNELWRAP",
                                         "SSH_AUTH_SOCK", "SSH_AGENT"))}
        self.env["LC_ALL"] = "C"
        self.ssh_procs = {}     # (kind, cipher) -> pid
        self.lports = {}        # cipher -> {kind: local port} for ssh -L
        self.dports = {}        # cipher -> socks port
        self.pcconf = {}        # cipher -> proxychains config
        self.xdg = {}           # cipher -> XDG_RUNTIME_DIR of its helper
        self.helper = {}        # cipher -> helper pid
        self.carried = [0, 0, 0]  # tunnelwrap runs checked, bytes up, down
        self.stdin_w = None

    # files and processes
    def setup(self):
        for t in (self.tw, os.path.join(self.build, "tunnelwrap-helper"),
                  os.path.join(self.build, "libtunnelwrap.so")):
            if not os.path.exists(t):
                sys.exit(f"bench: {t} missing: run make first")
        for tool in ("ssh", "ssh-keygen", "proxychains4", "cc"):
            if shutil.which(tool) is None:
                sys.exit(f"bench: {tool} not found (apt-get install "
                         "openssh-client proxychains4 build-essential)")
        if not os.path.exists("/usr/sbin/sshd"):
            sys.exit("bench: /usr/sbin/sshd not found (openssh-server)")
        os.makedirs(self.bin)
        cflags = ["-O2", "-g", "-std=c11", "-D_GNU_SOURCE", "-Wall",
                  "-Wextra", "-Werror"]
        for src, out, extra in (("server.c", self.server_bin, []),
                                ("delay.c", self.delay_bin, []),
                                ("client.c", self.client, ["-pthread"])):
            subprocess.run(["cc"] + cflags + ["-o", out,
                                              os.path.join(HERE, src)] + extra,
                           check=True)
        d = self.tmp
        self.user = os.environ.get("USER") or "root"
        try:
            import pwd
            self.user = pwd.getpwuid(os.getuid()).pw_name
        except Exception:
            pass
        self.hostkey = f"{d}/host_ed25519"
        self.key = f"{d}/id_ed25519"
        for path, comment in ((self.hostkey, "bench-host"),
                              (self.key, "bench-user")):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-C", comment, "-f", path], check=True)
        shutil.copy(self.key + ".pub", f"{d}/authorized_keys")
        os.chmod(f"{d}/authorized_keys", 0o600)
        self.sshd_port = free_port()
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"""ListenAddress 127.0.0.1:{self.sshd_port}
HostKey {self.hostkey}
PidFile none
AuthorizedKeysFile {d}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
X11Forwarding no
UsePAM no
StrictModes no
UseDNS no
LogLevel INFO
MaxStartups 100:30:200
PrintMotd no
""")
        if os.getuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755)
        subprocess.run(["/usr/sbin/sshd", "-t", "-f", f"{d}/sshd_config"],
                       check=True)
        self.sshd, _ = spawn(["/usr/sbin/sshd", "-D", "-e", "-f",
                              f"{d}/sshd_config"], self.env, f"{d}/sshd.log")
        hk = open(self.hostkey + ".pub").read().split()
        with open(f"{d}/known_hosts", "w") as f:
            f.write(f"[127.0.0.1]:{self.sshd_port} {hk[0]} {hk[1]}\n")
        self.ssh_config = f"{d}/ssh_config"
        with open(self.ssh_config, "w") as f:
            f.write(f"""Host bench
    HostName 127.0.0.1
    Port {self.sshd_port}
    User {self.user}
Host *
    IdentityFile {self.key}
    IdentitiesOnly yes
    UserKnownHostsFile {d}/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ControlMaster no
    ControlPath none
    ConnectTimeout 10
    ServerAliveInterval 0
""")
        # The session names the Host alias of ssh_config: the helper
        # resolves it with `ssh -F ssh_config -G bench`, as for a user.
        self.rules = f"{d}/rules"
        with open(self.rules, "w") as f:
            f.write(f"""# tunnelwrap benchmark: everything on loopback
session b bench IdentityFile={self.key} UserKnownHostsFile={d}/known_hosts GlobalKnownHostsFile=/dev/null StrictHostKeyChecking=yes BatchMode=yes ControlPersist=600
synthetic {SYNTH_POOL}
tunnel *.bench.test {SERVICE_ADDR}
direct 127.0.0.1 {DIRECT_ADDR}
default direct
""")
        if not wait_listening(self.sshd_port, self.sshd):
            sys.exit("bench: sshd did not come up:\n" +
                     open(f"{d}/sshd.log").read()[-2000:])
        pid, self.stdin_w = spawn([self.server_bin, "-a", SERVICE_ADDR, "-a",
                                   DIRECT_ADDR], self.env, f"{d}/server.out",
                                  stdin_pipe=True)
        self.server = pid
        end = time.monotonic() + 5
        line = ""
        while time.monotonic() < end:
            line = open(f"{d}/server.out").read()
            if "\n" in line:
                break
            time.sleep(0.01)
        m = dict(kv.split("=") for kv in line.split())
        self.port = {k: int(v) for k, v in m.items()}
        for c in (AES, CHACHA):
            self.start_ssh(c)
            self.start_helper(c)

    def start_ssh(self, cipher, key=None):
        """ssh -L and ssh -D for cipher, to the Host alias key (default:
        bench, loopback); recorded under key or cipher."""
        d = self.tmp
        host = key or "bench"
        short = key or CIPHER_SHORT[cipher]
        cipher, key = cipher, key or cipher
        lp = {k: free_port() for k in ("echo", "sink", "source")}
        argv = ["ssh", "-F", self.ssh_config, "-N", "-c", cipher,
                "-o", "ExitOnForwardFailure=yes"]
        for k, p in lp.items():
            argv += ["-L", f"127.0.0.1:{p}:{SERVICE_ADDR}:{self.port[k]}"]
        pid, _ = spawn(argv + [host], self.env, f"{d}/sshL-{short}.log")
        self.ssh_procs[("sshL", key)] = pid
        self.lports[key] = lp
        if not wait_listening(lp["source"], pid):
            sys.exit(f"bench: ssh -L did not come up:\n" +
                     open(f"{d}/sshL-{short}.log").read()[-2000:])
        dp = free_port()
        pid, _ = spawn(["ssh", "-F", self.ssh_config, "-N", "-c", cipher,
                        "-o", "ExitOnForwardFailure=yes", "-D",
                        f"127.0.0.1:{dp}", host], self.env,
                       f"{d}/sshD-{short}.log")
        self.ssh_procs[("sshD", key)] = pid
        self.dports[key] = dp
        if not wait_listening(dp, pid):
            sys.exit(f"bench: ssh -D did not come up:\n" +
                     open(f"{d}/sshD-{short}.log").read()[-2000:])
        self.pcconf[key] = f"{d}/proxychains-{short}.conf"
        with open(self.pcconf[key], "w") as f:
            f.write(f"""strict_chain
quiet_mode
tcp_read_time_out 15000
tcp_connect_time_out 8000
[ProxyList]
socks5 127.0.0.1 {dp}
""")

    # the WAN section: one delay line, ssh -L/-D and helper per round trip
    def wan_up(self, rtt, tw_opts=()):
        """Start a delay line of rtt ms in front of sshd and every
        transport through it; returns the key their tables use."""
        d = self.tmp
        key = f"wan{rtt}"
        log_path = f"{d}/delay-{rtt}.out"
        pid, w = spawn([self.delay_bin, str(self.sshd_port),
                        str(rtt * 1000 // 2)], self.env, log_path,
                       stdin_pipe=True)
        self.wan_procs = [(pid, w)]
        end = time.monotonic() + 5
        txt = ""
        while time.monotonic() < end and "\n" not in txt:
            time.sleep(0.01)
            txt = open(log_path).read()
        m = re.search(r"port=(\d+)", txt)
        if not m:
            sys.exit("bench: the delay line did not start:\n" + txt[-500:])
        port = int(m.group(1))
        hk = open(self.hostkey + ".pub").read().split()
        with open(f"{d}/known_hosts", "a") as f:
            f.write(f"[127.0.0.1]:{port} {hk[0]} {hk[1]}\n")
        with open(self.ssh_config, "a") as f:
            f.write(f"Host {key}\n    HostName 127.0.0.1\n    Port {port}\n"
                    f"    User {self.user}\n")
        self.rules_for = getattr(self, "rules_for", {})
        self.rules_for[key] = f"{d}/rules-{key}"
        with open(self.rules_for[key], "w") as f:
            f.write(open(self.rules).read().replace(
                "session b bench ", f"session b {key} "))
        self.tw_extra = getattr(self, "tw_extra", {})
        self.tw_extra[key] = list(tw_opts)
        self.start_ssh(AES, key)
        self.start_helper(AES, key)
        return key

    def wan_down(self, key):
        xdg = self.xdg.pop(key)
        run([self.tw, "-f", self.rules_for[key], "-O", "stop"],
            self.tw_env(xdg), self.tmp, 5)
        hp = self.helper.pop(key)
        end = time.monotonic() + 3
        while alive(hp) and time.monotonic() < end:
            time.sleep(0.01)
        kill_pid(hp)
        PROCS.forget(hp)
        for kind in ("sshL", "sshD"):
            pid = self.ssh_procs.pop((kind, key))
            kill_pid(pid)
            PROCS.forget(pid)
        for pid, w in self.wan_procs:
            os.close(w)
            kill_pid(pid)
            PROCS.forget(pid)
        self.wan_procs = []

    def tw_env(self, xdg):
        e = dict(self.env)
        e["XDG_RUNTIME_DIR"] = xdg
        return e

    def tw_argv(self, cipher, seccomp=False):
        """cipher: a cipher (loopback) or a WAN key (aes128-gcm)."""
        if cipher in getattr(self, "rules_for", {}):
            return [self.tw, "-F", self.ssh_config, "-f",
                    self.rules_for[cipher], "-o", f"Ciphers={AES}"] + \
                self.tw_extra[cipher] + ["--"]
        return [self.tw, "-F", self.ssh_config, "-f", self.rules,
                "-o", f"Ciphers={cipher}"] + \
            (["-o", "Intercept=seccomp"] if seccomp else []) + ["--"]

    def find_helper(self, xdg):
        for pid, (_, _, cmd) in proc_table().items():
            if cmd and cmd[0].endswith("tunnelwrap-helper") and \
                    any(a.startswith(xdg + "/") for a in cmd):
                return pid
        return None

    def start_helper(self, cipher, key=None):
        name = key or CIPHER_SHORT[cipher]
        cipher = key or cipher
        xdg = os.path.join(self.tmp, "xdg-" + name)
        os.makedirs(xdg, mode=0o700, exist_ok=True)
        self.xdg[cipher] = xdg
        r = run(self.tw_argv(cipher) + [self.client, "nop"],
                self.tw_env(xdg), self.tmp, 60)
        pid = self.find_helper(xdg)
        if r.rc != 0 or pid is None:
            sys.exit(f"bench: tunnelwrap helper did not start (rc {r.rc}):\n"
                     + r.err[-2000:])
        PROCS.add(pid, "tunnelwrap-helper")
        self.helper[cipher] = pid

    def helper_pid(self, cipher):
        pid = self.helper[cipher]
        if not alive(pid):
            log(f"bench: helper {pid} ({CIPHER_SHORT.get(cipher, cipher)}) "
                "went away; "
                "its log:\n" + self.helper_log(cipher)[-1500:])
            new = self.find_helper(self.xdg[cipher])
            if new:
                PROCS.add(new, "tunnelwrap-helper")
                self.helper[cipher] = pid = new
        return pid

    def helper_bytes(self, cipher):
        """The helper's own count of the bytes it carried since it started
        (-O status --json): (up, down)."""
        r = run(self.tw_argv(cipher)[:-1] + ["-O", "status", "--json"],
                self.tw_env(self.xdg[cipher]), self.tmp, 10)
        try:
            st = json.loads(r.out)["session"]
            return st["bytes_up"], st["bytes_down"]
        except (ValueError, KeyError, TypeError):
            sys.exit(f"bench: no byte counters in -O status --json (rc {r.rc}):"
                     f"\n{r.out[-500:]}{r.err[-500:]}")

    def helper_log(self, cipher):
        out = ""
        for root, _, files in os.walk(self.xdg[cipher]):
            for f in files:
                if f.endswith(".log"):
                    out += open(os.path.join(root, f)).read()
        return out

    # running the client through a transport
    def argv(self, transport, cipher, mode, kind, *rest):
        """The client command for mode against service kind."""
        if kind is None:
            tail = [self.client, mode] + [str(x) for x in rest]
            host = port = None
        elif transport == "sshL":
            host, port = "127.0.0.1", self.lports[cipher][kind]
        else:
            host, port = SERVICE_ADDR, self.port[kind]
        if kind is not None:
            tail = [self.client, mode, host, str(port)] + \
                [str(x) for x in rest]
        if mode == "keys":      # the echo port, then the source's
            src = self.lports[cipher]["source"] if transport == "sshL" \
                else self.port["source"]
            tail = tail[:4] + [str(src)] + tail[4:]
        if transport == "sshD":
            return ["proxychains4", "-q", "-f", self.pcconf[cipher]] + tail, \
                self.env
        if transport == "twsec":    # the filter alone decides: no shim
            return self.tw_argv(cipher, True) + ["env", "-u", "LD_PRELOAD"] \
                + tail, self.tw_env(self.xdg[cipher])
        if transport == "tw":
            return self.tw_argv(cipher) + tail, self.tw_env(self.xdg[cipher])
        return tail, self.env

    def watched(self, transport, cipher):
        """PIDs whose CPU counts for transport: {role: [pid]}."""
        w = {"sshd": descendants(self.sshd)}
        if transport in ("sshL", "sshD"):
            w["ssh"] = [self.ssh_procs[(transport, cipher)]]
        elif transport in ("tw", "twsec"):
            w["helper"] = [self.helper_pid(cipher)]
        return w

    def measure(self, transport, cipher, mode, kind, *rest, timeout=180):
        argv, env = self.argv(transport, cipher, mode, kind, *rest)
        w = self.watched(transport, cipher)
        if transport == "tw":
            hb0 = self.helper_bytes(cipher)
        before = {r: {p: runtime_ns(p) for p in ps} for r, ps in w.items()}
        srv0 = runtime_ns(self.server)
        r = run(argv, env, self.tmp, timeout)
        res = r.kv()
        res["ok"] = r.rc == 0 and not r.timed_out
        if not res["ok"]:
            res["error"] = (r.err.strip().splitlines() or [f"exit {r.rc}"])[-1]
            if r.timed_out:
                res["error"] = f"timed out after {timeout} s"
        if transport == "tw" and res["ok"]:
            self.through_helper(cipher, mode, rest, hb0, res)
        if r.err.strip():
            res["stderr"] = r.err.strip().splitlines()[-1][:200]
        res["cpu_client"] = r.cpu
        # sshd children may have appeared meanwhile (cold helpers)
        w2 = self.watched(transport, cipher)
        for role, ps in w2.items():
            tot = 0
            for p in ps:
                tot += runtime_ns(p) - before.get(role, {}).get(p, 0)
            res["cpu_" + role] = max(tot, 0) / 1e9
        res["cpu_server"] = (runtime_ns(self.server) - srv0) / 1e9
        res["cpu_total"] = sum(res.get("cpu_" + k, 0.0) for k in
                               ("client", "ssh", "helper", "sshd"))
        return res

    def through_helper(self, cipher, mode, rest, hb0, res):
        """The service is reachable directly too: the tunnelwrap figures
        count only if the helper carried the bytes (its own counters): a
        bulk transfer's whole size in its direction, something otherwise.
        Marks res failed when it did not."""
        hb1 = self.helper_bytes(cipher)
        up, down = hb1[0] - hb0[0], hb1[1] - hb0[1]
        res["helper_up"], res["helper_down"] = up, down
        want_up = rest[0] if mode == "up" else 1
        want_down = rest[0] if mode == "down" else 1
        if up < want_up or down < want_down:
            res["ok"] = False
            res["error"] = (f"{mode}: the helper carried {up} bytes up, "
                            f"{down} down, want >= {want_up} / {want_down}: "
                            "not through the tunnel")
        else:
            self.carried[0] += 1
            self.carried[1] += up
            self.carried[2] += down

    def cleanup(self):
        # tunnelwrap's own way first, then by PID, everything we started
        for c, xdg in self.xdg.items():
            try:
                run([self.tw, "-f", self.rules, "-O", "stop"],
                    self.tw_env(xdg), self.tmp, 5)
            except Exception:
                pass
        if self.stdin_w is not None:
            try:
                os.close(self.stdin_w)
            except OSError:
                pass
        table = proc_table()
        sshd_kids = descendants(self.sshd, table) if hasattr(self, "sshd") \
            else []
        for pid, name in reversed(list(PROCS.pids)):
            if name != "sshd":
                kill_pid(pid)
        for pid in sshd_kids:
            kill_pid(pid, grace=1.0)
        for pid, name in list(PROCS.pids):
            kill_pid(pid)
        PROCS.pids = []
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            log(f"bench: kept {self.tmp}")


# --- the benchmark ----------------------------------------------------------------

def rotate(seq, n):
    n %= len(seq)
    return seq[n:] + seq[:n]


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


class Bench:
    def __init__(self, bed, prof):
        self.bed, self.p = bed, prof
        self.r = {}             # (test, transport, cipher) -> [result dict]
        self.only = set()
        self.wan_prof = WAN_PROFILES["full"]
        self.tw_opts = []       # -o options for the WAN helpers
        self.notes = []
        self.errors = []

    def add(self, key, res):
        self.r.setdefault(key, []).append(res)
        if not res.get("ok", True):
            self.errors.append(f"{key[0]} {TNAME.get(key[1], key[1])} "
                               f"{CIPHER_SHORT.get(key[2], key[2])}: "
                               f"{res.get('error')}")
            log(f"  ! {self.errors[-1]}")

    def get(self, test, transport, cipher, field, agg=med):
        rs = [x.get(field) for x in self.r.get((test, transport, cipher), [])
              if x.get("ok", True)]
        rs = [x for x in rs if isinstance(x, (int, float))]
        return agg(rs) if rs else None

    def run_all(self):
        p, b = self.p, self.bed
        only = self.only
        if not only or {"bulk", "lat", "par"} & only:
            self.rounds(only)
        for name in ("cold", "exec", "connloop", "seccomp", "gai", "scale",
                     "stall"):
            if not only or name in only:
                getattr(self, name if name != "exec" else "per_exec")()
        if not only or "wan" in only:
            self.wan()

    # across a delay line: one stream, 8 streams, connect, keystrokes
    def wan(self):
        b, w = self.bed, self.wan_prof
        for rtt in w["rtts"]:
            log(f"WAN: round trip {rtt} ms")
            key = b.wan_up(rtt, self.tw_opts)
            size = w["bytes"][rtt]
            for i, test in enumerate(w["tests"]):
                for t in rotate(WAN_TRANSPORTS, i):
                    if test in ("down", "up"):
                        res = b.measure(t, key, test, "source" if test ==
                                        "down" else "sink", size)
                        val = f"{res.get('mbps', 0):8.1f} MB/s"
                    elif test == "par":
                        res = b.measure(t, key, "par", "source", w["par"],
                                        size // 4)
                        if res.get("total"):
                            res["mbps"] = w["par"] * (size // 4) / 1e6 / \
                                res["total"]
                        val = f"{res.get('mbps', 0):8.1f} MB/s"
                    elif test == "lat":
                        res = b.measure(t, key, "lat", "echo", w["lat"])
                        val = f"p50 {res.get('p50_us', 0) / 1e3:7.1f} ms"
                    else:
                        res = b.measure(t, key, "keys", "echo", w["keys"],
                                        w["gap"])
                        val = (f"p50 {res.get('p50_us', 0) / 1e3:7.1f} ms "
                               f"p99 {res.get('p99_us', 0) / 1e3:7.1f} ms "
                               f"(bulk {res.get('bulk_mbps', 0):.0f} MB/s)")
                    self.add((f"wan-{test}", t, rtt), res)
                    log(f"  {rtt:3} ms {test:4} {TNAME[t]:11} {val}")
            b.wan_down(key)

    def rounds(self, only):
        p, b = self.p, self.bed
        for rnd in range(p["rounds"]):
            log(f"round {rnd + 1}/{p['rounds']}")
            order = rotate(TRANSPORTS, rnd)
            for ci, c in enumerate((AES, CHACHA)):
                if only and "bulk" not in only:
                    break
                for d, kind in (("up", "sink"), ("down", "source")):
                    for t in order:
                        if t == "direct" and ci > 0:
                            continue
                        res = b.measure(t, c, d, kind, p["bulk"])
                        self.add((d, t, None if t == "direct" else c), res)
                        log(f"  {d:4} {TNAME[t]:11} {CIPHER_SHORT[c]:18} "
                            f"{res.get('mbps', 0):8.1f} MB/s  "
                            f"cpu {res['cpu_total']:.2f} s")
            for ci, c in enumerate(p["lat_ciphers"]):
                if only and "lat" not in only:
                    break
                for t in order:
                    if t == "direct" and ci > 0:
                        continue
                    res = b.measure(t, c, "lat", "echo", p["lat"])
                    self.add(("lat", t, None if t == "direct" else c), res)
                    log(f"  lat  {TNAME[t]:11} {CIPHER_SHORT[c]:18} "
                        f"p50 {res.get('p50_us', 0):7.1f} us  "
                        f"p99 {res.get('p99_us', 0):7.1f} us  "
                        f"max {res.get('max_us', 0):8.1f} us")
            for c in p["par_ciphers"]:
                if only and "par" not in only:
                    break
                for t in order:
                    hp = b.helper_pid(c) if t == "tw" else None
                    if hp:
                        reset_hwm(hp)
                    res = b.measure(t, c, "par", "source", p["par"],
                                    p["par_bytes"])
                    if hp:
                        res["helper_hwm_kib"] = status_kib(hp, "VmHWM")
                    self.add(("par", t, None if t == "direct" else c), res)
                    if res.get("failures"):
                        self.notes.append(f"par {TNAME[t]}: "
                                          f"{res.get('stderr', '')}")
                    log(f"  par  {TNAME[t]:11} {CIPHER_SHORT[c]:18} "
                        f"{res.get('total', 0):6.3f} s  "
                        f"failures {res.get('failures', '?')}")

    # cold start: launch to first echoed byte, no helper / no ssh running
    def cold(self):
        b, p = self.bed, self.p
        log("cold start")
        for i in range(p["cold"]):
            for what in rotate(["tw", "sshL", "sshL-x25519"], i):
                if what == "tw":
                    xdg = os.path.join(b.tmp, f"cold-{i}")
                    os.makedirs(xdg, mode=0o700)
                    argv = b.tw_argv(AES) + [b.client, "cold", SERVICE_ADDR,
                                             str(b.port["echo"]), "10000"]
                    t0 = time.monotonic_ns()
                    r = run(argv, b.tw_env(xdg), b.tmp, 30)
                    hp = b.find_helper(xdg)
                    run([b.tw, "-f", b.rules, "-O", "stop"], b.tw_env(xdg),
                        b.tmp, 5)
                    if hp:
                        end = time.monotonic() + 3
                        while alive(hp) and time.monotonic() < end:
                            time.sleep(0.01)
                        if alive(hp):
                            kill_pid(hp)
                else:
                    lp = free_port()
                    argv = ["ssh", "-F", b.ssh_config, "-N", "-c", AES, "-o",
                            "ExitOnForwardFailure=yes", "-L",
                            f"127.0.0.1:{lp}:{SERVICE_ADDR}:{b.port['echo']}"]
                    if what == "sshL-x25519":
                        argv += ["-o", "KexAlgorithms=curve25519-sha256"]
                    t0 = time.monotonic_ns()
                    pid, _ = spawn(argv + ["bench"], b.env,
                                   os.path.join(b.tmp, "cold-ssh.log"))
                    r = run([b.client, "cold", "127.0.0.1", str(lp), "10000"],
                            b.env, b.tmp, 30)
                    kill_pid(pid)
                    PROCS.forget(pid)
                res = r.kv()
                res["ok"] = r.rc == 0
                if not res["ok"]:
                    res["error"] = r.err.strip()[-300:]
                if "echoed_ns" in res:
                    res["ms"] = (res["echoed_ns"] - t0) / 1e6
                self.add(("cold", what, AES), res)
                log(f"  cold {what:11} {res.get('ms', 0):7.1f} ms")

    # per-exec cost with a warm helper
    def per_exec(self):
        b, p = self.bed, self.p
        log("per exec")
        for i in range(p["exec_reps"]):
            for t in rotate(["direct", "sshD", "tw"], i):
                inner, env = b.argv(t, AES, "nop", None)
                r = run([b.client, "exec", str(p["exec_n"])] + inner, env,
                        b.tmp, 120)
                res = r.kv()
                res["ok"] = r.rc == 0
                if not res["ok"]:
                    res["error"] = r.err.strip()[-300:]
                self.add(("exec", t, AES), res)
                log(f"  exec {TNAME[t]:11} p50 {res.get('p50_ms', 0):.3f} ms")

    def connloop_once(self, t, n):
        """n direct connects by the client through transport t."""
        b = self.bed
        argv, env = b.argv(t, AES, "connloop", None)
        argv = argv[:-1] + ["connloop", DIRECT_ADDR, str(b.port["echo"]),
                            str(n)]
        r = run(argv, env, b.tmp, 120)
        res = r.kv()
        res["ok"] = r.rc == 0
        if not res["ok"]:
            res["error"] = r.err.strip()[-300:]
        return res

    # direct connects through the shim: the rules send DIRECT_ADDR direct
    def connloop(self):
        b, p = self.bed, self.p
        log("direct connects with and without the shim")
        n = p["connloop"] // p["connloop_reps"]
        for i in range(p["connloop_reps"]):
            for t in rotate(["direct", "tw"], i):
                res = self.connloop_once(t, n)
                self.add(("connloop", t, AES), res)
                log(f"  connloop {TNAME[t]:11} connect "
                    f"{res.get('connect_tmean_ns', 0):6.0f} ns, raw "
                    f"{res.get('raw_tmean_ns', 0):6.0f} ns, paired extra "
                    f"{res.get('extra_tmean_ns', 0):5.0f} ns; EISCONN extra "
                    f"{res.get('eisconn_extra_tmean_ns', 0):4.0f} ns")
        # helper must not have seen any of them
        st = run([b.tw, "-f", b.rules, "-O", "status"], b.tw_env(b.xdg[AES]),
                 b.tmp, 10)
        self.status_text = st.out

    # -o Intercept=seccomp with the shim removed (env -u LD_PRELOAD): the
    # same client, each connect(2) notified to the launcher's supervisor
    # (helper/launcher/supervise.c), against the shim
    def seccomp(self):
        b, p = self.bed, self.p
        log("seccomp supervisor: notified connects against the shim's")
        n = p["connloop"] // p["connloop_reps"]
        for i in range(p["connloop_reps"]):
            for t in rotate(["tw", "twsec"], i):
                res = b.measure(t, AES, "lat", "echo", p["lat"])
                self.add(("sec-lat", t, AES), res)
                cl = self.connloop_once(t, n)
                self.add(("sec-connloop", t, AES), cl)
                log(f"  {TNAME[t]:11} tunneled p50 "
                    f"{res.get('p50_us', 0):7.1f} us; direct connect "
                    f"{cl.get('connect_tmean_ns', 0):6.0f} ns, raw "
                    f"{cl.get('raw_tmean_ns', 0):6.0f} ns")

    def gai(self):
        b, p = self.bed, self.p
        log("tunneled getaddrinfo")
        for what, suffix, how in (("tw-distinct", "bench.test", "distinct"),
                                  ("tw-cached", "h.bench.test", "same"),
                                  ("local-hosts", "localhost", "same")):
            t = "direct" if what == "local-hosts" else "tw"
            argv, env = b.argv(t, AES, "gai", None, suffix, p["gai"], how)
            r = run(argv, env, b.tmp, 120)
            res = r.kv()
            res["ok"] = r.rc == 0
            if not res["ok"]:
                res["error"] = r.err.strip()[-300:]
            self.add(("gai", what, AES), res)
            log(f"  gai  {what:11} p50 {res.get('p50_us', 0):7.2f} us  "
                f"mean {res.get('mean_us', 0):7.2f} us")

    # many idle connections: memory per connection, all still working
    def scale(self):
        b, p = self.bed, self.p
        small = min(p["scale_cmp"], p["scale"])
        runs = [("tw", small, "cmp"), ("sshL", small, "cmp")]
        if p["scale"] > small:
            runs.append(("tw", p["scale"], "big"))
        for t, n, tag in runs:
            log(f"scale: {n} simultaneous connections, {TNAME[t]}")
            res = self.hold(t, n, p["scale_secs"])
            self.add(("scale-" + tag, t, AES), res)
            log(f"  scale {TNAME[t]:11} ok={res['ok']} opened "
                f"{res.get('opened', 0):.0f} in {res.get('open_secs', 0):.1f}"
                f" s, exchange {res.get('exchange_secs', 0):.1f} s, "
                f"{res.get('rss_per_conn_kib', 0):.1f} KiB/conn")

    def hold(self, t, n, budget):
        """n idle connections through t: memory per connection, all work."""
        b = self.bed
        argv, env = b.argv(t, AES, "hold", "echo", n, 32, budget)
        pid = b.helper_pid(AES) if t == "tw" else b.ssh_procs[("sshL", AES)]
        sshd0 = sum(status_kib(x, "VmRSS") or 0 for x in descendants(b.sshd))
        rss0 = status_kib(pid, "VmRSS")
        fifo = os.path.join(b.tmp, f"hold-{t}-{n}.fifo")
        os.mkfifo(fifo)
        outp = os.path.join(b.tmp, f"hold-{t}-{n}.out")
        # stdin is the fifo, opened read-write so that open never blocks
        fa = [(os.POSIX_SPAWN_OPEN, 0, fifo, os.O_RDWR, 0),
              (os.POSIX_SPAWN_OPEN, 1, outp,
               os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              (os.POSIX_SPAWN_DUP2, 1, 2)]
        cpid = os.posix_spawnp(argv[0], argv, env, file_actions=fa)
        PROCS.add(cpid, "bench-client")
        res = {"ok": False, "n": n}
        end = time.monotonic() + budget + 30
        while time.monotonic() < end:
            if "ready" in open(outp).read() or not alive(cpid):
                break
            time.sleep(0.05)
        rss1 = status_kib(pid, "VmRSS")
        sshd1 = sum(status_kib(x, "VmRSS") or 0 for x in descendants(b.sshd))
        try:    # never blocks: the client holds the fifo open
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, b"go\n")
            os.close(fd)
        except OSError:
            pass
        end = time.monotonic() + 40    # the client gives up after 30 s
        while time.monotonic() < end and alive(cpid):
            reap(cpid)
            time.sleep(0.05)
        kill_pid(cpid)
        PROCS.forget(cpid)
        txt = open(outp).read()
        for line in txt.splitlines():
            for tok in line.split():
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    try:
                        res[k] = float(v)
                    except ValueError:
                        pass
        res["ok"] = "done" in txt and res.get("failures", 1) == 0 and \
            res.get("opened", 0) == n
        if not res["ok"]:
            last = [ln for ln in txt.strip().splitlines()
                    if not ln.startswith(("ready", "done"))]
            if "ready" in txt and "done" not in txt:
                what = "the 1-byte echo on all of them did not finish " \
                    "within the client's 30 s read timeout"
            else:
                what = f"{res.get('failures', '?'):.0f} failed" \
                    if "failures" in res else "no answer"
            res["error"] = (f"opened {res.get('opened', 0):.0f} of {n}"
                            f" in {res.get('open_secs', 0):.0f} s; {what}"
                            + (f" ({last[-1][:120]})" if last else ""))
        opened = res.get("opened") or 0
        if rss0 and rss1 and opened:
            res["rss_per_conn_kib"] = (rss1 - rss0) / opened
            res["rss_kib"] = rss1
        if opened:
            res["sshd_per_conn_kib"] = (sshd1 - sshd0) / opened
        return res

    # a reader that stops reading: the helper must hold at most a window
    def stall(self):
        b, p = self.bed, self.p
        log("stalled reader")
        pid = b.helper_pid(AES)
        reset_hwm(pid)
        rss0 = status_kib(pid, "VmRSS")
        argv, env = b.argv("tw", AES, "stall", "source", p["stall"],
                           p["stall_secs"])
        r = run(argv, env, b.tmp, 120)
        res = r.kv()
        res["ok"] = r.rc == 0
        if not res["ok"]:
            res["error"] = r.err.strip()[-300:]
        hwm = status_kib(pid, "VmHWM")
        if rss0 and hwm:
            res["growth_kib"] = hwm - rss0
        res["payload_kib"] = p["stall"] / 1024
        self.add(("stall", "tw", AES), res)
        log(f"  stall tunnelwrap helper grew {res.get('growth_kib', 0):.0f} "
            f"KiB while {p['stall'] // MiB} MiB waited")


# --- report -------------------------------------------------------------------------

def fmt(v, spec):
    if v is None:
        return "-"
    return format(v, spec)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def machine():
    model = "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    ncpu = os.cpu_count()
    ssh_v = subprocess.run(["ssh", "-V"], capture_output=True,
                           text=True).stderr.strip()
    libssh = "?"
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                              "libssh-4"], capture_output=True,
                             text=True).stdout.strip()
        libssh = out or libssh
    except OSError:
        pass
    if libssh == "?":
        out = subprocess.run(["pkg-config", "--modversion", "libssh"],
                             capture_output=True, text=True).stdout.strip()
        libssh = out or libssh
    pc = "?"
    try:
        pc = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                             "proxychains4"], capture_output=True,
                            text=True).stdout.strip() or "?"
    except OSError:
        pass
    # The commit measured, and whether the tree differed from it (tracked
    # files changed: the build may hold code no commit has).
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"],
                                capture_output=True,
                                text=True).stdout.strip() or "?"
        changed = subprocess.run(["git", "-C", REPO, "status", "--porcelain",
                                  "--untracked-files=no"],
                                 capture_output=True, text=True).stdout
        n = len(changed.splitlines())
        commit += (f", tree dirty ({n} tracked file{'s' if n != 1 else ''} "
                   "changed)" if n else ", tree clean")
    except OSError:
        commit = "?"
    return dict(model=model, ncpu=ncpu, kernel=platform.release(),
                openssh=ssh_v, libssh=libssh, proxychains=pc, commit=commit)


def carried_text(bed):
    """What the helper's counters said of the tunnelwrap column."""
    n, up, down = bed.carried
    return (f"tunnelwrap column checked through the helper's own byte "
            f"counters (-O status --json): {n} runs, {up / GiB:.2f} GiB up "
            f"and {down / GiB:.2f} GiB down carried by the helper (a run "
            f"it did not carry is an error)")


def report(bench, prof, profile_name, build):
    B = bench
    rows = []       # (section, label, direct, sshL, sshD, tw, r_L, r_pc)
    targets = []    # (text, value, met)

    def row(section, label, vals, spec, lower_better=True, pc=False):
        d, L, D, T = vals
        rows.append((section, label, fmt(d, spec), fmt(L, spec),
                     fmt(D, spec), fmt(T, spec), fmt(ratio(T, L), ".2f"),
                     fmt(ratio(T, D), ".2f") if pc else ""))

    def per_gib(test, t, c, role="cpu_total"):
        v = B.get(test, t, None if t == "direct" else c, role)
        return v / (prof["bulk"] / GiB) if v is not None else None

    fig = {}
    for c in (AES, CHACHA):
        s = f"bulk, one stream, {prof['bulk'] // MiB} MiB ({CIPHER_SHORT[c]})"
        for d, lbl in (("up", "upload MB/s"), ("down", "download MB/s")):
            v = [B.get(d, t, None if t == "direct" else c, "mbps")
                 for t in TRANSPORTS]
            fig[(d, c)] = v
            row(s, lbl, v, ".0f")
        for d, lbl in (("up", "upload CPU s/GiB (all)"),
                       ("down", "download CPU s/GiB (all)")):
            v = [per_gib(d, t, c) for t in TRANSPORTS]
            fig[(d + "cpu", c)] = v
            row(s, lbl, v, ".2f")
    lat_ciphers = prof["lat_ciphers"]
    for c in lat_ciphers:
        s = f"connect + 1-byte echo + close, {prof['lat']} sequential " \
            f"({CIPHER_SHORT[c]})"
        for f, lbl, spec, agg in (("p50_us", "p50 us", ".0f", med),
                                  ("p99_us", "p99 us", ".0f", med),
                                  ("max_us", "max us (worst round)", ".0f",
                                   max),
                                  ("over10ms", "over 10 ms (worst round)",
                                   ".0f", max),
                                  ("cps", "connections/s", ".0f", med)):
            v = [B.get("lat", t, None if t == "direct" else c, f, agg)
                 for t in TRANSPORTS]
            fig[("lat", f, c)] = v
            row(s, lbl, v, spec, pc=True)
        v = []
        for t in TRANSPORTS:
            tot = B.get("lat", t, None if t == "direct" else c, "cpu_total")
            v.append(tot / prof["lat"] * 1e6 if tot is not None else None)
        fig[("lat", "cpu", c)] = v
        row(s, "CPU us per connection (all)", v, ".0f", pc=True)
    s = f"{prof['par']} simultaneous {prof['par_bytes'] // MiB} MiB " \
        f"downloads ({CIPHER_SHORT[AES]})"
    for f, lbl, spec, agg in (("total", "total s", ".3f", med),
                              ("failures", "failures (all rounds)", ".0f",
                               sum),
                              ("p99", "p99 s", ".3f", med)):
        v = [B.get("par", t, None if t == "direct" else AES, f, agg)
             for t in TRANSPORTS]
        fig[("par", f)] = v
        row(s, lbl, v, spec, pc=True)
    hwm = B.get("par", "tw", AES, "helper_hwm_kib", max)
    fig[("par", "hwm")] = hwm
    rows.append((s, "helper peak RSS MiB", "", "", "", fmt(
        hwm / 1024 if hwm else None, ".1f"), "", ""))
    s = "start-up"
    cold_tw = B.get("cold", "tw", AES, "ms")
    cold_L = B.get("cold", "sshL", AES, "ms")
    cold_x = B.get("cold", "sshL-x25519", AES, "ms")
    rows.append((s, "cold start ms (launch to first echoed byte)", "",
                 fmt(cold_L, ".1f"), "", fmt(cold_tw, ".1f"),
                 fmt(ratio(cold_tw, cold_L), ".2f"), ""))
    rows.append((s, "  ssh -L with KexAlgorithms=curve25519-sha256", "",
                 fmt(cold_x, ".1f"), "", "", "", ""))
    ex = {t: B.get("exec", t, AES, "p50_ms") for t in ("direct", "sshD",
                                                        "tw")}
    rows.append((s, "exec of a trivial program, p50 ms", fmt(ex["direct"],
                 ".3f"), "", fmt(ex["sshD"], ".3f"), fmt(ex["tw"], ".3f"),
                 "", fmt(ratio(ex["tw"], ex["sshD"]), ".2f")))
    ov_pc = ex["sshD"] - ex["direct"] if ex["sshD"] and ex["direct"] else None
    ov_tw = ex["tw"] - ex["direct"] if ex["tw"] and ex["direct"] else None
    rows.append((s, "  per-exec overhead ms (over plain exec)", "", "",
                 fmt(ov_pc, ".3f"), fmt(ov_tw, ".3f"), "",
                 fmt(ratio(ov_tw, ov_pc), ".2f")))
    s = "in-process costs"
    cl = {(t, f): B.get("connloop", t, AES, f) for t in ("direct", "tw")
          for f in ("connect_tmean_ns", "raw_tmean_ns", "extra_tmean_ns",
                    "eisconn_extra_tmean_ns")}

    def dif(a, b):
        return a - b if a is not None and b is not None else None
    rows.append((s, f"loopback connect() to a direct destination, ns "
                 f"({prof['connloop']} each)*", fmt(cl[("direct",
                 "connect_tmean_ns")], ".0f"), "", "",
                 fmt(cl[("tw", "connect_tmean_ns")], ".0f"), "", ""))
    rows.append((s, "  raw connect system call, same runs, ns*",
                 fmt(cl[("direct", "raw_tmean_ns")], ".0f"), "", "",
                 fmt(cl[("tw", "raw_tmean_ns")], ".0f"), "", ""))
    rows.append((s, "  connect() minus raw syscall, paired, ns*",
                 fmt(cl[("direct", "extra_tmean_ns")], ".0f"), "", "",
                 fmt(cl[("tw", "extra_tmean_ns")], ".0f"), "", ""))
    extra = dif(cl[("tw", "extra_tmean_ns")],
                cl[("direct", "extra_tmean_ns")])
    eis = dif(cl[("tw", "eisconn_extra_tmean_ns")],
              cl[("direct", "eisconn_extra_tmean_ns")])
    rows.append((s, "  shim overhead per direct connect, ns*", "", "", "",
                 fmt(extra, ".0f"), "", ""))
    rows.append((s, "  same without handshake noise (connect() -> EISCONN), "
                 "ns*", "", "", "", fmt(eis, ".0f"), "", ""))
    g_d = B.get("gai", "tw-distinct", AES, "p50_us")
    g_dm = B.get("gai", "tw-distinct", AES, "mean_us")
    g_c = B.get("gai", "tw-cached", AES, "p50_us")
    g_l = B.get("gai", "local-hosts", AES, "p50_us")
    rows.append((s, "getaddrinfo us p50, new tunneled name (mean)",
                 "", "", "", f"{fmt(g_d, '.1f')} ({fmt(g_dm, '.1f')})", "",
                 ""))
    rows.append((s, "  same name again (shim cache) / /etc/hosts name",
                 fmt(g_l, ".1f"), "", "", fmt(g_c, ".1f"), "", ""))
    sec = {(t, k, f): B.get(k, t, AES, f) for t in ("tw", "twsec")
           for k, f in (("sec-lat", "p50_us"), ("sec-lat", "cpu_total"),
                        ("sec-connloop", "connect_tmean_ns"),
                        ("sec-connloop", "raw_tmean_ns"))}
    if sec[("tw", "sec-lat", "p50_us")] is not None:
        s2 = "seccomp supervisor (-o Intercept=seccomp): shim | notified"
        for k, f, lbl, spec in (
                ("sec-lat", "p50_us", "tunneled connect + echo + close, "
                 "p50 us", ".0f"),
                ("sec-connloop", "connect_tmean_ns", "direct loopback "
                 "connect() (CONTINUE), ns*", ".0f"),
                ("sec-connloop", "raw_tmean_ns", "  raw connect system "
                 "call, ns*", ".0f")):
            rows.append((s2, lbl, "", "", "", f"{fmt(sec[('tw', k, f)], spec)}"
                         f" | {fmt(sec[('twsec', k, f)], spec)}", "",
                         fmt(ratio(sec[("twsec", k, f)],
                                   sec[("tw", k, f)]), ".2f")))
    s = "scale"
    sc_t = B.r.get(("scale-cmp", "tw", AES), [{}])[0]
    sc_L = B.r.get(("scale-cmp", "sshL", AES), [{}])[0]
    sc_big = B.r.get(("scale-big", "tw", AES), [sc_t])[0]
    ncmp = int(sc_t.get("n", sc_L.get("n", 0)) or 0)
    rows.append((s, f"{ncmp} idle connections: opened / all exchanged data",
                 "", f"{fmt(sc_L.get('opened'), '.0f')} / "
                 f"{sc_L.get('ok', '-')}", "",
                 f"{fmt(sc_t.get('opened'), '.0f')} / {sc_t.get('ok', '-')}",
                 "", ""))
    rows.append((s, "  seconds to open them (32 at a time)", "",
                 fmt(sc_L.get("open_secs"), ".1f"), "",
                 fmt(sc_t.get("open_secs"), ".1f"),
                 fmt(ratio(sc_t.get("open_secs"), sc_L.get("open_secs")),
                     ".2f"), ""))
    rows.append((s, "  KiB per idle connection (helper / ssh)", "",
                 fmt(sc_L.get("rss_per_conn_kib"), ".1f"), "",
                 fmt(sc_t.get("rss_per_conn_kib"), ".1f"),
                 fmt(ratio(sc_t.get("rss_per_conn_kib"),
                           sc_L.get("rss_per_conn_kib")), ".2f"), ""))
    rows.append((s, "  KiB per idle connection in sshd", "",
                 fmt(sc_L.get("sshd_per_conn_kib"), ".1f"), "",
                 fmt(sc_t.get("sshd_per_conn_kib"), ".1f"), "", ""))
    if sc_big is not sc_t:
        nb = int(sc_big.get("n", 0))
        rows.append((s, f"{nb} idle connections: opened / all exchanged "
                     "data", "", "", "", f"{fmt(sc_big.get('opened'), '.0f')}"
                     f" / {sc_big.get('ok', '-')}", "", ""))
        rows.append((s, "  seconds to open / to echo on all", "", "", "",
                     f"{fmt(sc_big.get('open_secs'), '.1f')} / "
                     f"{fmt(sc_big.get('exchange_secs'), '.1f')}", "", ""))
        rows.append((s, "  KiB per idle connection (helper)", "", "", "",
                     fmt(sc_big.get("rss_per_conn_kib"), ".1f"), "", ""))
    st = B.r.get(("stall", "tw", AES), [{}])[0]
    rows.append((s, f"stalled reader: helper growth MiB "
                 f"({prof['stall'] // MiB} MiB waiting)", "", "", "",
                 fmt(st.get("growth_kib", 0) / 1024
                     if st.get("growth_kib") is not None else None, ".1f"),
                 "", ""))

    # targets (issue 4), aes128-gcm
    def tgt(text, val, ok):
        targets.append((text, val, ok))

    def r_of(v):
        return ratio(v[3], v[1])
    up, down = fig[("up", AES)], fig[("down", AES)]
    tgt("bulk upload >= 1.0x ssh -L", fmt(r_of(up), ".2f") + "x",
        r_of(up) is not None and r_of(up) >= 1.0)
    tgt("bulk download >= 1.0x ssh -L", fmt(r_of(down), ".2f") + "x",
        r_of(down) is not None and r_of(down) >= 1.0)
    cu, cd = fig[("upcpu", AES)], fig[("downcpu", AES)]
    tgt("total CPU per GiB <= 1.0x (upload / download)",
        f"{fmt(r_of(cu), '.2f')}x / {fmt(r_of(cd), '.2f')}x",
        r_of(cu) is not None and r_of(cd) is not None and
        r_of(cu) <= 1.0 and r_of(cd) <= 1.0)
    tgt("stretch: upload >= 1.25x", fmt(r_of(up), ".2f") + "x",
        r_of(up) is not None and r_of(up) >= 1.25)
    p50 = fig[("lat", "p50_us", AES)]
    p99 = fig[("lat", "p99_us", AES)]
    o10 = fig[("lat", "over10ms", AES)]
    cpc = fig[("lat", "cpu", AES)]
    tgt("connection p50 <= 0.8x", fmt(r_of(p50), ".2f") + "x",
        r_of(p50) is not None and r_of(p50) <= 0.8)
    tgt("connection p99 <= 1.0x", fmt(r_of(p99), ".2f") + "x",
        r_of(p99) is not None and r_of(p99) <= 1.0)
    tgt(f"none of {prof['lat']} connections over 10 ms",
        f"{fmt(o10[3], '.0f')} over (max {fmt(fig[('lat', 'max_us', AES)][3], '.0f')} us)",
        o10[3] == 0)
    tgt("CPU per connection <= 1.0x", fmt(r_of(cpc), ".2f") + "x",
        r_of(cpc) is not None and r_of(cpc) <= 1.0)
    pt, pf = fig[("par", "total")], fig[("par", "failures")]
    tgt(f"{prof['par']} x {prof['par_bytes'] // MiB} MiB total time <= 0.5x",
        fmt(r_of(pt), ".2f") + "x", r_of(pt) is not None and r_of(pt) <= 0.5)
    tgt(f"{prof['par']} x {prof['par_bytes'] // MiB} MiB zero failures",
        fmt(pf[3], ".0f"), pf[3] == 0)
    tgt("helper peak RSS <= 32 MiB (200 x 1 MiB)",
        fmt(hwm / 1024 if hwm else None, ".1f") + " MiB",
        hwm is not None and hwm <= 32 * 1024)
    tgt("cold start <= 0.3x ssh -L", fmt(ratio(cold_tw, cold_L), ".2f") +
        "x", ratio(cold_tw, cold_L) is not None and
        ratio(cold_tw, cold_L) <= 0.3)
    tgt("warm per-exec overhead <= proxychains4's",
        f"{fmt(ov_tw, '.3f')} ms vs {fmt(ov_pc, '.3f')} ms",
        ov_tw is not None and ov_pc is not None and ov_tw <= ov_pc)
    # The loopback handshake varies by microseconds from run to run on a
    # shared machine; the EISCONN pairing measures the same code path to a
    # few ns, so it decides, and the loopback figure is shown beside it.
    tgt("direct connect through the shim <= 1 us extra",
        f"{fmt(eis, '.0f')} ns (shim's direct path, EISCONN-paired); "
        f"{fmt(extra, '.0f')} ns over full loopback connects",
        eis is not None and eis <= 1000)
    tgt("tunneled getaddrinfo <= 50 us", f"{fmt(g_d, '.1f')} us p50 (new "
        f"name), {fmt(g_dm, '.1f')} us mean",
        g_d is not None and g_d <= 50)
    nbig = int(sc_big.get("n", prof["scale"]) or prof["scale"])
    tgt(f"{nbig} simultaneous tunneled connections exchange data"
        + (" (issue asks 10,000)" if nbig < 10000 else ""),
        "ok" if sc_big.get("ok") else sc_big.get("error", "failed"),
        bool(sc_big.get("ok")))
    pc = sc_big.get("rss_per_conn_kib")
    tgt("helper memory per idle connection <= 16 KiB",
        fmt(pc, ".1f") + " KiB", pc is not None and pc <= 16)
    g = st.get("growth_kib")
    tgt("stalled reader: memory bounded by the window, not the payload",
        f"{fmt(g / 1024 if g is not None else None, '.1f')} MiB for "
        f"{prof['stall'] // MiB} MiB", g is not None and g <= 16 * 1024 and
        st.get("ok", False))
    return rows, targets, fig


def wan_report(bench):
    """Rows (table_text's shape, no direct column) and targets."""
    B, w = bench, bench.wan_prof
    rows, targets = [], []
    what = {"down": ("download MB/s", "mbps", 1, ".1f", False),
            "up": ("upload MB/s", "mbps", 1, ".1f", False),
            "par": (f"{w['par']} streams MB/s (total)", "mbps", 1, ".1f",
                    False),
            "lat": ("connect + first byte p50 ms", "p50_us", 1e3, ".1f",
                    True),
            "keys": ("echo under a download p50 ms", "p50_us", 1e3, ".1f",
                     True)}
    for rtt in w["rtts"]:
        sec = f"WAN: round trip {rtt} ms (delay line; aes128-gcm)"
        for test in w["tests"]:
            lbls = [what[test]]
            if test == "keys":
                lbls.append(("echo under a download p99 ms", "p99_us", 1e3,
                             ".1f", True))
                lbls.append(("  the download meanwhile MB/s", "bulk_mbps", 1,
                             ".1f", False))
            for lbl, field, div, spec, lower in lbls:
                v = [B.get(f"wan-{test}", t, rtt, field) for t in
                     WAN_TRANSPORTS]
                v = [x / div if x is not None else None for x in v]
                L, D, T = v
                rows.append((sec, lbl, "-", fmt(L, spec), fmt(D, spec),
                             fmt(T, spec), fmt(ratio(T, L), ".2f"),
                             fmt(ratio(T, D), ".2f")))
                r = ratio(T, L)
                if r is None or rtt == 0:
                    continue
                if test in ("down", "up") or (test == "par" and rtt == 50):
                    targets.append((f"WAN {rtt} ms {lbl}: tw/ssh-L >= 1.0",
                                    f"{r:.2f}x", r >= 1.0))
                elif rtt == 50 and field == "p99_us":
                    targets.append((f"WAN 50 ms {lbl}: tw/ssh-L <= 1.0",
                                    f"{r:.2f}x", r <= 1.0))
                elif rtt == 50 and test == "lat":
                    targets.append((f"WAN 50 ms {lbl}: tw/ssh-L <= 1.05",
                                    f"{r:.2f}x", r <= 1.05))
    return rows, targets


def table_text(rows, md=False):
    hdr = ("figure", "direct", "ssh -L", "ssh -D+pc4", "tunnelwrap",
           "tw/ssh-L", "tw/pc4")
    out = []
    section = None
    if md:
        for r in rows:
            if r[0] != section:
                section = r[0]
                out.append(f"\n**{section}**\n")
                out.append("| " + " | ".join(hdr) + " |")
                out.append("|" + "---|" * len(hdr))
            out.append("| " + " | ".join(r[1:]) + " |")
        return "\n".join(out)
    w = [max(len(hdr[0]), max(len(r[1]) for r in rows))] + \
        [max(len(hdr[i]), max(len(r[i + 1]) for r in rows)) for i in
         range(1, len(hdr))]
    for r in rows:
        if r[0] != section:
            section = r[0]
            out.append("")
            out.append(section)
            out.append("  " + "  ".join(h.rjust(w[i]) if i else
                                        h.ljust(w[i])
                                        for i, h in enumerate(hdr)))
        out.append("  " + "  ".join(c.rjust(w[i]) if i else c.ljust(w[i])
                                    for i, c in enumerate(r[1:])))
    return "\n".join(out)


def targets_text(targets, md=False):
    out = []
    for text, val, ok in targets:
        mark = "met" if ok else "NOT MET"
        if md:
            out.append(f"| {text} | {val} | {mark} |")
        else:
            out.append(f"  [{mark:7}] {text}: {val}")
    if md:
        out.insert(0, "| target (issues 4, 12) | measured | |\n|---|---|---|")
    return "\n".join(out)


def cpu_breakdown(bench, prof, md=False):
    """Who burns the CPU in the bulk runs, s/GiB, median over rounds."""
    lines = []
    roles = ("client", "ssh", "helper", "sshd")
    hdr = ["transfer", "transport"] + list(roles) + ["total", "(server)"]
    if md:
        lines.append("| " + " | ".join(hdr) + " |")
        lines.append("|" + "---|" * len(hdr))
    else:
        lines.append("  " + "".join(h.ljust(22 if i == 0 else 12)
                                    for i, h in enumerate(hdr)))
    g = prof["bulk"] / GiB
    for c in (AES, CHACHA):
        for d in ("up", "down"):
            for t in TRANSPORTS:
                if t == "direct" and c != AES:
                    continue
                key = (d, t, None if t == "direct" else c)
                vals = []
                for role in roles + ("total", "server"):
                    v = bench.get(*key, "cpu_" + role)
                    vals.append(fmt(v / g if v is not None else None, ".2f")
                                if (role != "ssh" or t in ("sshL", "sshD"))
                                and (role != "helper" or t == "tw")
                                else "")
                name = f"{d} {CIPHER_SHORT[c] if t != 'direct' else ''}"
                if md:
                    lines.append("| " + " | ".join([name, TNAME[t]] + vals)
                                 + " |")
                else:
                    lines.append("  " + name.ljust(22) + TNAME[t].ljust(12) +
                                 "".join(v.ljust(12) for v in vals))
    return "\n".join(lines)


def plot(fig, prof, mach, date, out_svg, tmp):
    if shutil.which("gnuplot") is None:
        log("bench: gnuplot not found (apt-get install gnuplot-nox): no plot")
        return False
    # direct is 4-5x faster than any SSH transport: it would flatten the
    # throughput bars, so it is named in the panel title instead
    dat = os.path.join(tmp, "tput.dat")
    with open(dat, "w") as f:
        for i, t in enumerate(TRANSPORTS):
            if t == "direct":
                continue
            vals = [fig[("up", AES)][i], fig[("down", AES)][i],
                    fig[("up", CHACHA)][i], fig[("down", CHACHA)][i]]
            f.write(f'"{TNAME[t]}" ' + " ".join(
                f"{v:.1f}" if v is not None else "0" for v in vals) + "\n")
    lat = os.path.join(tmp, "lat.dat")
    with open(lat, "w") as f:
        for i, t in enumerate(TRANSPORTS):
            a = fig[("lat", "p50_us", AES)][i]
            b = fig[("lat", "p99_us", AES)][i]
            f.write(f'"{TNAME[t]}" {a or 0:.1f} {b or 0:.1f}\n')
    d_up, d_down = fig[("up", AES)][0], fig[("down", AES)][0]
    gp = os.path.join(tmp, "plot.gp")
    title = f"tunnelwrap benchmark {date}: {mach['model']}, " \
            f"{mach['ncpu']} CPUs; {mach['openssh'].split(',')[0]}; " \
            f"libssh {mach['libssh']}"
    with open(gp, "w") as f:
        f.write(f"""set terminal svg size 1100,500 dynamic noenhanced font "sans,11" background rgb "white"
set output "{out_svg}"
set multiplot layout 1,2 title "{title}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set title "Bulk, one stream, {prof['bulk'] // MiB} MiB (direct: up {fmt(d_up, '.0f')}, down {fmt(d_down, '.0f')} MB/s)"
set ylabel "MB/s"
plot "{dat}" using 2:xtic(1) title "upload aes128-gcm" lc rgb "#1f77b4", \\
     "" using 3 title "download aes128-gcm" lc rgb "#aec7e8", \\
     "" using 4 title "upload chacha20-poly1305" lc rgb "#d62728", \\
     "" using 5 title "download chacha20-poly1305" lc rgb "#ff9896"
set title "Connect + 1-byte echo + close, {prof['lat']} sequential (aes128-gcm)"
set ylabel "microseconds"
plot "{lat}" using 2:xtic(1) title "p50" lc rgb "#2ca02c", \\
     "" using 3 title "p99" lc rgb "#98df8a"
unset multiplot
""")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        log("bench: gnuplot failed: " + r.stderr[-500:])
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--build", default=os.environ.get("B") or
                    os.path.join(REPO, "build"))
    ap.add_argument("--out", help="directory for results.md and the plot "
                    "(default: tests/bench for the full run, none for quick)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (logs)")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--only", help="comma-separated subset of: bulk, lat, "
                    "par, cold, exec, connloop, seccomp, gai, scale, stall, "
                    "wan")
    ap.add_argument("--rtt", help="WAN round trips in ms, comma-separated "
                    "(default 0,10,50,100; quick: 50)")
    ap.add_argument("--wan-tests", help="WAN subset of: down, up, par, lat, "
                    "keys")
    ap.add_argument("--tw-opt", action="append", default=[],
                    help="-o option for the WAN section's helpers (repeat)")
    ap.add_argument("--hold", type=float, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--label", help="what was measured, for results.md")
    args = ap.parse_args()
    if args.build and not os.path.isabs(args.build):
        args.build = os.path.join(REPO, args.build)
    name = "quick" if args.quick else "full"
    prof = dict(PROFILES[name])
    if args.rounds:
        prof["rounds"] = args.rounds
    out_dir = args.out or (None if args.quick else HERE)

    # everything started ends with us, whatever ends us
    def on_signal(sig, _):
        raise KeyboardInterrupt(f"signal {sig}")
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)
    try:   # orphaned helpers are reparented to us, not to init
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except Exception:
        pass
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < prof["scale"] + 1000:     # each process holds one fd a conn
        prof["scale"] = max(100, hard - 1000)

    t_start = time.monotonic()
    bed = Bed(args, prof)
    bench = None
    try:
        log(f"bench ({name}): build {bed.build}, work dir {bed.tmp}")
        bed.setup()
        bench = Bench(bed, prof)
        bench.only = set(args.only.split(",")) if args.only else set()
        bench.wan_prof = dict(WAN_PROFILES[name])
        if args.rtt:
            bench.wan_prof["rtts"] = [int(x) for x in args.rtt.split(",")]
            for r in bench.wan_prof["rtts"]:
                bench.wan_prof["bytes"].setdefault(
                    r, WAN_PROFILES["full"]["bytes"].get(r, 64 * MiB))
        if args.wan_tests:
            bench.wan_prof["tests"] = args.wan_tests.split(",")
        for o in args.tw_opt:
            bench.tw_opts += ["-o", o]
        bench.run_all()
        if args.hold:   # for profiling by hand: the bed stays up a while
            log(f"bench: holding the bed for {args.hold:.0f} s; helper "
                f"{bed.helper.get(AES)}, work dir {bed.tmp}")
            time.sleep(args.hold)
    except KeyboardInterrupt as e:
        log(f"bench: interrupted ({e})")
        bed.cleanup()
        return 130
    except BaseException:
        bed.cleanup()
        raise
    mach = machine()
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    try:
        rows, targets, fig = report(bench, prof, name, bed.build)
        elapsed = time.monotonic() - t_start
        head = (f"tunnelwrap benchmark ({name}), {date}\n"
                f"machine: {mach['model']}, {mach['ncpu']} CPUs, kernel "
                f"{mach['kernel']}; {mach['openssh']}; libssh "
                f"{mach['libssh']}; proxychains4 {mach['proxychains']}\n"
                f"tunnelwrap: {args.label or bed.build + ' (commit ' + mach['commit'] + ')'}\n"
                f"{carried_text(bed)}\n"
                f"medians over {prof['rounds']} interleaved rounds; sshd, "
                f"server and clients on loopback; run took {elapsed:.0f} s")
        print(head)
        wan_only = bench.only == {"wan"}
        wrows, wtargets = wan_report(bench) if \
            (not bench.only or "wan" in bench.only) else ([], [])
        if wan_only:
            targets = []
        else:
            print(table_text(rows))
            print(FOOTNOTE)
            print("\nCPU s/GiB by process (bulk)")
            print(cpu_breakdown(bench, prof))
        if wrows:
            print("\nWAN (sshd behind a userspace delay line; "
                  "tests/bench/delay.c)")
            print(table_text(wrows))
        targets = targets + wtargets
        print("\ntargets (issues 4 and 12; ratios against ssh -L, "
              "aes128-gcm)")
        print(targets_text(targets))
        missed = sum(1 for t in targets if not t[2])
        print(f"\n{len(targets) - missed} of {len(targets)} targets met")
        if bench.notes:
            print("\nnotes:")
            for e in bench.notes:
                print("  " + e)
        if bench.errors:
            print("\nerrors during the run:")
            for e in bench.errors:
                print("  " + e)
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            # --only wan keeps the loopback results and writes its own
            svg = os.path.join(out_dir, "results.svg")
            have_plot = not wan_only and plot(fig, prof, mach, date, svg,
                                              bed.tmp)
            md = os.path.join(out_dir, "results-wan.md" if wan_only else
                              "results.md")
            with open(md, "w") as f:
                f.write(f"# tunnelwrap benchmark\n\n"
                        f"Generated by `make bench{'-quick' if args.quick else ''}` "
                        f"(tests/bench/bench.py) on {date}.\n\n"
                        f"- machine: {mach['model']}, {mach['ncpu']} CPUs, "
                        f"kernel {mach['kernel']}\n"
                        f"- {mach['openssh']}; libssh {mach['libssh']}; "
                        f"proxychains4 {mach['proxychains']}\n"
                        f"- tunnelwrap measured: "
                        f"{args.label + ', ' if args.label else ''}build of "
                        f"commit {mach['commit']}, {bed.build}\n"
                        f"- {carried_text(bed)}\n"
                        f"- sshd, server, clients all on loopback; figures "
                        + ("are one run each, the transports' order "
                           "rotating from test to test" if wan_only else
                           f"are medians over {prof['rounds']} interleaved "
                           "rounds (WAN: one run each)") +
                        f"; ratios are tunnelwrap / `ssh -L` "
                        f"(tw/ssh-L) and tunnelwrap / `ssh -D` + "
                        f"proxychains4 (tw/pc4)\n"
                        f"- CPU: every process involved (client incl. shim "
                        f"or proxychains and the launcher, helper or ssh, "
                        f"all sshd processes), from the kernel's per-thread "
                        f"run time; the server is left out\n"
                        f"- on a 2-CPU machine MB/s and latencies move by "
                        f"tens of percent between runs (other work, CPU "
                        f"placement); CPU per GiB is steadier: compare "
                        f"ratios within one run\n")
                if wan_only:
                    f.write(f"- load average at the end: "
                            f"{os.getloadavg()[0]:.1f} (2 CPUs shared with "
                            "other work: WAN figures are CPU-bound where "
                            "the window is not the limit)\n")
                if have_plot:
                    f.write("\n![throughput and connection latency]"
                            "(results.svg)\n")
                if not wan_only:
                    f.write(table_text(rows, md=True) + "\n\n" +
                            FOOTNOTE.strip() + "\n")
                    f.write("\n**CPU s/GiB by process (bulk)**\n\n")
                    f.write(cpu_breakdown(bench, prof, md=True) + "\n")
                if wrows:
                    f.write("\n### WAN: sshd behind a userspace delay line "
                            "(tests/bench/delay.c)\n\nEvery byte held RTT/2 "
                            "each way, unbounded buffering; direct has no "
                            "column (it does not cross the bastion).\n")
                    f.write(table_text(wrows, md=True) + "\n")
                f.write("\n**Targets**\n\n" + targets_text(targets, md=True)
                        + "\n")
                f.write(f"\n{len(targets) - missed} of {len(targets)} "
                        "targets met.\n")
                if bench.notes:
                    f.write("\nNotes:\n\n" + "".join(
                        f"- {e}\n" for e in bench.notes))
                if bench.errors:
                    f.write("\nErrors during the run:\n\n" + "".join(
                        f"- {e}\n" for e in bench.errors))
            print(f"\nwrote {md}" + (f" and {svg}" if have_plot else ""))
    finally:
        bed.cleanup()
    return 1 if bench.errors else 0


if __name__ == "__main__":
    sys.exit(main())
