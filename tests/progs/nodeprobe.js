/*
 * Copyright (c) 2026 tunnelwrap developers <dev@tunnelwrap.test>
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

// nodeprobe.js - a plain Node.js client for tests/t-prog-runtimes.sh: the
// usual ways a Node program reaches a server (libuv resolves in its thread
// pool), each printed as "ok NAME (note)" or "fail NAME -- detail".
//
//   node nodeprobe.js ECHOHOST WEBHOST
'use strict';
const dns = require('dns').promises;
const http = require('http');
const net = require('net');

const [echoHost, webHost] = process.argv.slice(2);
let failures = 0;

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(what + ': timed out')), ms); }),
  ]).finally(() => clearTimeout(t));
}

async function step(name, f) {
  try {
    const note = await withTimeout(f(), 20000, name);
    console.log('ok ' + name + (note ? ' (' + note + ')' : ''));
  } catch (e) {
    failures++;
    console.log('fail ' + name + ' -- ' + (e && e.stack ? e.stack.split('\n')[0] : e) +
      (e && e.code ? ' [' + e.code + ']' : ''));
  }
}

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body, peer: res.socket.remoteAddress }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function echo(host, port, payload, family) {
  return new Promise((resolve, reject) => {
    const opts = { host, port };
    if (family) opts.family = family;
    const s = net.connect(opts);
    const chunks = [];
    s.on('connect', () => s.end(payload));
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => {
      const got = Buffer.concat(chunks);
      if (got.equals(payload)) resolve(s.remoteAddress);
      else reject(new Error('echo differs: ' + got.length + ' of ' + payload.length + ' bytes'));
    });
    s.on('error', reject);
  });
}

(async () => {
  await step('dns.lookup all', async () => {
    const a = await dns.lookup(webHost, { all: true });
    return a.map((x) => x.address).join(' ');
  });
  await step('http.get', async () => {
    const r = await get('http://' + webHost + '/');
    if (r.status !== 200 || !r.body.includes('intranet wiki OK')) throw new Error('HTTP ' + r.status + ': ' + r.body);
    return 'peer ' + r.peer;
  });
  await step('net.connect, 1 MB echo', async () => {
    return 'peer ' + await echo(echoHost, 7, Buffer.alloc(1 << 20, 'n'));
  });
  await step('net.connect family 6, echo', async () => {
    return 'peer ' + await echo(echoHost, 7, Buffer.from('six\n'), 6);
  });
  await step('20 http.get at once (thread-pool resolver)', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, () => get('http://' + webHost + '/')));
    const bad = rs.filter((r) => r.status !== 200 || !r.body.includes('intranet wiki OK'));
    if (bad.length) throw new Error(bad.length + ' of 20 failed');
    return null;
  });
  await step('20 echoes at once, each its own payload', async () => {
    const ps = Array.from({ length: 20 }, (_, i) =>
      echo(echoHost, 7, Buffer.from(('conn ' + i + ' ').repeat(1000 + i))));
    await Promise.all(ps);
    return null;
  });
  if (typeof fetch === 'function') {
    await step('fetch (undici)', async () => {
      const r = await fetch('http://' + webHost + '/');
      const t = await r.text();
      if (r.status !== 200 || !t.includes('intranet wiki OK')) throw new Error('HTTP ' + r.status);
      return null;
    });
  }
  await step('refused port: ECONNREFUSED', async () => {
    try {
      await get('http://' + webHost + ':81/');
    } catch (e) {
      if (e.code === 'ECONNREFUSED') return null;
      throw e;
    }
    throw new Error('connected');
  });
  process.exit(failures ? 1 : 0);
})();
