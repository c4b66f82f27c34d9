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
"""A bastion that breaks the SSH connection protocol on request.

OpenSSH's sshd cannot be made to misbehave, so the tests of a hostile or
buggy bastion (tests/t-rogue.sh) use this real SSH server instead: paramiko
does the transport (key exchange, encryption, public key authentication),
and this file takes over the channel layer to break it in chosen ways.
The direct-tcpip destination port picks the behaviour:

  7     echo, well behaved: the control channel that must stay intact
  1001  channel-open failure with an unknown reason code and a description
        full of terminal escape sequences, 4 KiB long
  1002  opens with a window of 0, floods window adjustments of 0, then after
        ZERO_WINDOW_SECONDS grants a real window; replies "BYTES SHA256" for
        what it received once the client shuts down its side
  1003  sends PATTERN_SIZE bytes of pattern() in data packets of 200 KiB,
        far over the 32 KiB maximum packet size the client asked for (but
        inside its window), then EOF and close
  1004  ignores the client's window: sends 64 MiB of data at once
  1005  sends one packet of 1 MiB, over any SSH implementation's limit: the
        client must drop the whole connection
  1006  sends half of pattern() and then drops the TCP connection without a
        word, as a crashing bastion would
  1007  sends "hello\\n", then data and window adjustments for channels that
        do not exist, EOF, and CHANNEL_CLOSE twice

Everything else is refused as "connect failed".  The accepted key is the
one in --authorized-key.  Session channels (the client's keepalive uses
one) are accepted, their requests refused, and each is closed after
SESSION_SECONDS, as an sshd with a short ChannelTimeout would.
"""
import argparse
import base64
import hashlib
import os
import socket
import sys
import threading
import time

import paramiko
from paramiko.common import (
    cMSG_CHANNEL_CLOSE,
    cMSG_CHANNEL_DATA,
    cMSG_CHANNEL_EOF,
    cMSG_CHANNEL_OPEN_FAILURE,
    cMSG_CHANNEL_OPEN_SUCCESS,
    cMSG_CHANNEL_WINDOW_ADJUST,
    OPEN_SUCCEEDED,
    AUTH_SUCCESSFUL,
    AUTH_FAILED,
)
from paramiko.message import Message

ZERO_WINDOW_SECONDS = 4
SESSION_SECONDS = 3
PATTERN_SIZE = 1000 * 1024
CLIENT_MAX_PACKET = 32768       # what libssh asks for; 1003 sends more


def pattern(n):
    """Bytes a client can check without being told them: i*7 mod 251."""
    return bytes((i * 7) % 251 for i in range(n))


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


class Server(paramiko.ServerInterface):
    def __init__(self, key):
        self.key = key

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        if key.get_name() == self.key.get_name() and \
                key.asbytes() == self.key.asbytes():
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return OPEN_SUCCEEDED if kind == "session" else 1


class RogueTransport(paramiko.Transport):
    """Takes direct-tcpip channel opens over from paramiko's own code."""

    def __init__(self, sock):
        super().__init__(sock)
        # paramiko dispatches through a class-level table of functions.
        self._handler_table = dict(self._handler_table)
        self._handler_table[paramiko.common.MSG_CHANNEL_OPEN] = \
            RogueTransport._parse_channel_open

    def _parse_channel_open(self, m):
        kind = m.get_text()
        peer = m.get_int()
        peer_window = m.get_int()
        peer_max_packet = m.get_int()
        if kind != "direct-tcpip":
            m.rewind()
            return super()._parse_channel_open(m)
        host = m.get_text()
        port = m.get_int()
        log("open %s:%d (peer channel %d, window %d, max packet %d)"
            % (host, port, peer, peer_window, peer_max_packet))
        behaviour = BEHAVIOURS.get(port)
        if behaviour is None or behaviour is refuse_hostile:
            self.open_failure(peer, behaviour is not None)
            return
        window = 0 if behaviour is zero_window else 2 << 20
        with self.lock:
            mine = self._next_channel()
            chan = paramiko.Channel(mine)
            self._channels.put(mine, chan)
            self.channels_seen[mine] = True
            chan._set_transport(self)
            chan._set_window(window, 32768)
            chan._set_remote_channel(peer, peer_window, peer_max_packet)
        r = Message()
        r.add_byte(cMSG_CHANNEL_OPEN_SUCCESS)
        r.add_int(peer)
        r.add_int(mine)
        r.add_int(window)
        r.add_int(32768)
        self._send_message(r)
        threading.Thread(target=run_behaviour, args=(behaviour, self, chan),
                         daemon=True).start()

    def open_failure(self, peer, hostile):
        r = Message()
        r.add_byte(cMSG_CHANNEL_OPEN_FAILURE)
        r.add_int(peer)
        if hostile:
            r.add_int(0x7ffffff0)               # no such reason code
            r.add_string(b"\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\x9b2J"
                         + b"A" * 4096 + b"\xff\xfe")
        else:
            r.add_int(2)                        # connect failed
            r.add_string("no such service")
        r.add_string("en")
        self._send_message(r)

    def raw(self, code, chan_id, *fields):
        r = Message()
        r.add_byte(code)
        r.add_int(chan_id)
        for f in fields:
            if isinstance(f, int):
                r.add_int(f)
            else:
                r.add_string(f)
        self._send_user_message(r)


def run_behaviour(behaviour, t, chan):
    try:
        behaviour(t, chan)
    except Exception as e:              # the client may well hang up on us
        log("%s: %r" % (behaviour.__name__, e))


def echo(t, chan):
    while True:
        d = chan.recv(65536)
        if not d:
            break
        chan.sendall(d)
    chan.shutdown_write()
    chan.close()


def refuse_hostile(t, chan):
    pass                                # handled at open time


def zero_window(t, chan):
    for _ in range(2000):
        t.raw(cMSG_CHANNEL_WINDOW_ADJUST, chan.remote_chanid, 0)
    log("zero window: 2000 adjustments of 0 sent, holding")
    time.sleep(ZERO_WINDOW_SECONDS)
    t.raw(cMSG_CHANNEL_WINDOW_ADJUST, chan.remote_chanid, 1 << 20)
    chan.in_window_size = 1 << 20       # paramiko tops it up from here
    chan.in_window_threshold = 1 << 18
    log("zero window: granted")
    h, n = hashlib.sha256(), 0
    while True:
        d = chan.recv(65536)
        if not d:
            break
        h.update(d)
        n += len(d)
    log("zero window: received %d bytes" % n)
    chan.sendall(("%d %s\n" % (n, h.hexdigest())).encode())
    chan.shutdown_write()
    chan.close()


def oversized_packets(t, chan):
    data, step = pattern(PATTERN_SIZE), 200 * 1024
    for off in range(0, len(data), step):
        t.raw(cMSG_CHANNEL_DATA, chan.remote_chanid, data[off:off + step])
    t.raw(cMSG_CHANNEL_EOF, chan.remote_chanid)
    chan.close()


def ignore_window(t, chan):
    block = b"w" * CLIENT_MAX_PACKET
    for _ in range((64 << 20) // len(block)):
        if not t.is_active() or chan.closed:
            break
        t.raw(cMSG_CHANNEL_DATA, chan.remote_chanid, block)
    log("ignore window: done sending")


def huge_packet(t, chan):
    t.raw(cMSG_CHANNEL_DATA, chan.remote_chanid, b"h" * (1 << 20))


def abrupt_close(t, chan):
    data = pattern(PATTERN_SIZE)
    chan.sendall(data[:len(data) // 2])
    time.sleep(0.5)
    t.sock.shutdown(socket.SHUT_RDWR)
    t.sock.close()


def bogus_ids(t, chan):
    chan.sendall(b"hello\n")
    t.raw(cMSG_CHANNEL_DATA, 0xdeadbeef, b"for nobody")
    t.raw(cMSG_CHANNEL_WINDOW_ADJUST, 0xdeadbeef, 12345)
    t.raw(cMSG_CHANNEL_EOF, chan.remote_chanid)
    t.raw(cMSG_CHANNEL_CLOSE, chan.remote_chanid)
    t.raw(cMSG_CHANNEL_CLOSE, chan.remote_chanid)
    t.raw(cMSG_CHANNEL_DATA, chan.remote_chanid, b"after close")


BEHAVIOURS = {
    7: echo,
    1001: refuse_hostile,
    1002: zero_window,
    1003: oversized_packets,
    1004: ignore_window,
    1005: huge_packet,
    1006: abrupt_close,
    1007: bogus_ids,
}


def serve(conn, host_key, user_key):
    t = RogueTransport(conn)
    t.add_server_key(host_key)
    try:
        t.start_server(server=Server(user_key))
    except Exception as e:
        log("handshake: %r" % e)
        return
    sessions = []                       # (deadline, channel)
    while t.is_active():
        chan = t.accept(0.5)            # keepalive session channels
        if chan is not None:
            log("session channel accepted")
            sessions.append((time.time() + SESSION_SECONDS, chan))
        for entry in [e for e in sessions if e[0] < time.time()]:
            log("session channel closed (timeout)")
            entry[1].close()
            sessions.remove(entry)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="ADDR:PORT")
    ap.add_argument("--host-key", required=True)
    ap.add_argument("--authorized-key", required=True)
    ap.add_argument("--ready", required=True)
    a = ap.parse_args()
    host_key = paramiko.Ed25519Key(filename=a.host_key)
    blob = open(a.authorized_key).read().split()[1]   # the bed's: ed25519
    user_key = paramiko.Ed25519Key(data=base64.b64decode(blob))
    addr, port = a.listen.rsplit(":", 1)
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr.strip("[]"), int(port)))
    s.listen(16)
    with open(a.ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(a.ready + ".tmp", a.ready)
    log("listening on %s" % a.listen)
    while True:
        conn, peer = s.accept()
        log("connection from %s" % (peer,))
        threading.Thread(target=serve, args=(conn, host_key, user_key),
                         daemon=True).start()


if __name__ == "__main__":
    main()
