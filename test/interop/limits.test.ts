// Resource limits against hostile clients on raw sockets (issue 9, items 5-8; docs/security.md).
// Each case configures a small limit so it runs in about a second, and checks both sides: the
// abuse is refused, and a well-behaved client on another connection is still served.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type SmbServer } from '../../src/server/index.js';
import { parseConfig } from '../../src/config/config.js';
import { UserDb } from '../../src/auth/userdb.js';
import { NtlmClient } from '../../src/auth/ntlm-client.js';
import {
  RawConn, echoFrame, lockFrame, nbss, negotiateFrame, sessionSetupFrame, statusName, ST, describe as outcome,
} from './raw.js';
import { HOST, DEFAULT_USER, DEFAULT_PASS } from './peers.js';

interface Srv {
  server: SmbServer;
  port: number;
  dir: string;
  logs: string[];
  stop(): Promise<void>;
}

async function start(globals: string[], files = 0): Promise<Srv> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-limits-'));
  for (let i = 0; i < files; i++) await writeFile(join(dir, `f${i}.txt`), `file ${i}`);
  const config = parseConfig(['[global]', ...globals, '[share]', `path = ${dir}`, 'read only = no', ''].join('\n'));
  assert.deepEqual(config.warnings, []);
  const users = UserDb.empty();
  users.add(DEFAULT_USER, DEFAULT_PASS);
  const logs: string[] = [];
  const server = await startServer({ config, users, host: HOST, port: 0, log: (l) => logs.push(l) });
  return {
    server, port: server.port, dir, logs,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function loggedIn(port: number): Promise<RawConn> {
  const c = await RawConn.open(port);
  await c.negotiate();
  const st = await c.login(DEFAULT_USER, DEFAULT_PASS);
  assert.equal(st, 0, `login: ${statusName(st)}`);
  const tc = await c.treeConnect(`\\\\${HOST}\\share`);
  assert.equal(tc, 0, `tree connect: ${statusName(tc)}`);
  return c;
}

/** Milliseconds until `c` is closed by the server, or undefined if it is still open after `ms`. */
async function closedWithin(c: RawConn, ms: number): Promise<number | undefined> {
  const t0 = Date.now();
  const o = await c.next(ms);
  if (o.kind === 'closed') return Date.now() - t0;
  assert.equal(o.kind, 'timeout', `unexpected ${outcome(o)}`);
  return undefined;
}

/** An ECHO on a fresh connection is answered within `ms` (the server is alive and not stalled). */
async function echoRtt(port: number, ms = 2_000): Promise<number> {
  const c = await RawConn.open(port);
  try {
    await c.negotiate();
    const t0 = Date.now();
    const o = await c.request(echoFrame(c.mid++), ms);
    assert.equal(o.kind, 'reply', `echo: ${outcome(o)}`);
    return Date.now() - t0;
  } finally {
    c.close();
  }
}

describe('resource limits (issue 9)', { timeout: 120_000 }, () => {
  describe('frames and deadlines before authentication', () => {
    let s: Srv;
    before(async () => {
      s = await start(['max unauthenticated frame = 65536', 'frame timeout = 0.5', 'auth timeout = 2']);
    });
    after(() => s?.stop());

    it('a frame header claiming 8 MiB before NEGOTIATE drops the connection at once', async () => {
      const conns = await Promise.all(Array.from({ length: 50 }, () => RawConn.open(s.port)));
      for (const c of conns) c.send(nbss(Buffer.alloc(16), 8 * 1024 * 1024));
      for (const c of conns) assert.notEqual(await closedWithin(c, 2_000), undefined, 'connection kept');
      assert.ok(s.logs.some((l) => /exceeds the limit of 65536/.test(l)), 'log names the limit');
      assert.ok((await echoRtt(s.port)) < 3_000);
    });

    it('after NEGOTIATE, a 100 KiB frame is still refused until a session is authenticated', async () => {
      const c = await RawConn.open(s.port);
      await c.negotiate();
      c.send(nbss(Buffer.alloc(1000), 100 * 1024));
      assert.notEqual(await closedWithin(c, 2_000), undefined);
      // Authenticated: the same claim is accepted (the frame is simply incomplete).
      const d = await loggedIn(s.port);
      d.send(nbss(Buffer.alloc(1000), 100 * 1024));
      assert.equal(await closedWithin(d, 300), undefined, 'authenticated connection dropped');
      d.close();
    });

    it('a partial frame (slowloris) is dropped after the frame timeout', async () => {
      const c = await RawConn.open(s.port);
      await c.negotiate();
      const frame = nbss(echoFrame(c.mid++));
      c.send(frame.subarray(0, 10));
      // One byte every 100 ms: the frame would be complete only after 6 s.
      let at = 10;
      const drip = setInterval(() => c.send(frame.subarray(at, ++at)), 100);
      try {
        const ms = await closedWithin(c, 3_000);
        assert.notEqual(ms, undefined, 'slow frame kept open');
        assert.ok(ms! >= 300, `closed after ${ms} ms, before the timeout`);
      } finally {
        clearInterval(drip);
      }
      assert.ok(s.logs.some((l) => /frame timeout/.test(l)));
    });

    it('a connection that does not authenticate is dropped after the auth timeout', async () => {
      const c = await RawConn.open(s.port);
      await c.negotiate();
      // Keep talking (ECHOs) so only the authentication deadline applies.
      const t0 = Date.now();
      let closed = false;
      while (Date.now() - t0 < 5_000) {
        const o = await c.request(echoFrame(c.mid++), 500);
        if (o.kind === 'closed') { closed = true; break; }
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(closed, 'unauthenticated connection kept past the auth timeout');
      assert.ok(Date.now() - t0 >= 1_500);
      assert.ok(s.logs.some((l) => /auth timeout/.test(l)));
    });
  });

  describe('idle connections (deadtime)', () => {
    let s: Srv;
    before(async () => {
      s = await start(['deadtime = 0.02', 'auth timeout = 0'], 1); // 1.2 s
    });
    after(() => s?.stop());

    it('an idle connection without opens is closed; one with an open file is kept', async () => {
      const idle = await loggedIn(s.port);
      const busy = await loggedIn(s.port);
      assert.equal((await busy.create('f0.txt')).status, 0);
      const ms = await closedWithin(idle, 4_000);
      assert.notEqual(ms, undefined, 'idle connection not closed');
      assert.ok(s.logs.some((l) => /deadtime/.test(l)));
      assert.equal(busy.closed, false, 'connection with an open file closed');
      const o = await busy.request(echoFrame(busy.mid++, busy.sessionId));
      assert.equal(o.kind, 'reply');
      busy.close();
    });
  });

  describe('connections in total and per client address', () => {
    let s: Srv;
    before(async () => {
      s = await start(['max connections per client = 3', 'max smbd processes = 4']);
    });
    after(() => s?.stop());

    it('the connection past the per-address cap is closed with a log line; others go on', async () => {
      const keep = [];
      for (let i = 0; i < 3; i++) {
        const c = await RawConn.open(s.port);
        await c.negotiate();
        keep.push(c);
      }
      const extra = await RawConn.open(s.port);
      assert.notEqual(await closedWithin(extra, 2_000), undefined, '4th connection from one address kept');
      assert.ok(s.logs.some((l) => /max connections per client = 3/.test(l)), s.logs.join('\n'));
      const o = await keep[0]!.request(echoFrame(keep[0]!.mid++));
      assert.equal(o.kind, 'reply');
      keep.pop()!.close();
      await new Promise((r) => setTimeout(r, 100));
      assert.ok((await echoRtt(s.port)) < 3_000, 'a slot freed by a close is usable again');
      for (const c of keep) c.close();
    });

    it('the total cap applies across addresses (max smbd processes)', async () => {
      // From 127.0.0.1 and 127.0.0.2 (both loopback): two "clients".
      await new Promise((r) => setTimeout(r, 200)); // the previous test's connections are gone
      const conns: RawConn[] = [];
      for (const from of ['127.0.0.1', '127.0.0.1', '127.0.0.2', '127.0.0.2']) conns.push(await RawConn.open(s.port, HOST, from));
      for (const c of conns) assert.equal((await c.request(negotiateFrame(c.mid++))).kind, 'reply');
      const extra = await RawConn.open(s.port, HOST, '127.0.0.2');
      assert.notEqual(await closedWithin(extra, 2_000), undefined, '5th connection kept: ' + s.logs.join('\n'));
      assert.ok(s.logs.some((l) => /max smbd processes = 4/.test(l)));
      for (const c of conns) c.close();
    });
  });

  describe('sessions per connection', () => {
    let s: Srv;
    before(async () => {
      s = await start(['max pending sessions = 4', 'max sessions per connection = 6']);
    });
    after(() => s?.stop());

    it('first legs past the pending cap are refused and hold nothing (20,000 sent)', async () => {
      const c = await RawConn.open(s.port);
      await c.negotiate();
      const token = new NtlmClient({ user: DEFAULT_USER, password: DEFAULT_PASS }).negotiate();
      const N = 20_000;
      const rss0 = process.memoryUsage().rss;
      const counts = new Map<number, number>();
      // Pipelined in batches within the credits granted.
      for (let sent = 0; sent < N;) {
        const batch = Math.min(30, N - sent);
        const frames: Buffer[] = [];
        for (let i = 0; i < batch; i++) frames.push(nbss(sessionSetupFrame(c.mid++, token)));
        c.send(Buffer.concat(frames));
        for (let i = 0; i < batch; i++) {
          const o = await c.next(5_000);
          assert.equal(o.kind, 'reply', `leg ${sent + i}: ${outcome(o)}`);
          if (o.kind === 'reply') counts.set(o.msg.status, (counts.get(o.msg.status) ?? 0) + 1);
        }
        sent += batch;
      }
      assert.equal(counts.get(ST.MORE_PROCESSING_REQUIRED), 4, JSON.stringify([...counts]));
      assert.equal(counts.get(ST.INSUFFICIENT_RESOURCES), N - 4);
      assert.equal(s.server.status().sessions.length, 4);
      const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
      assert.ok(grew < 200, `RSS grew ${grew.toFixed(0)} MiB`);
      c.close();
    });

    it('sessions past the per-connection cap are refused', async () => {
      const c = await RawConn.open(s.port);
      await c.negotiate();
      for (let i = 0; i < 6; i++) assert.equal(await c.login(DEFAULT_USER, DEFAULT_PASS), 0, `login ${i}`);
      assert.equal(await c.login(DEFAULT_USER, DEFAULT_PASS), ST.INSUFFICIENT_RESOURCES);
      c.close();
    });
  });

  describe('opens per session and the descriptor reserve', () => {
    let s: Srv;
    before(async () => {
      s = await start(['max open files = 5'], 8);
    });
    after(() => s?.stop());

    it('the open past "max open files" gets TOO_MANY_OPENED_FILES; another session still opens', async () => {
      const c = await loggedIn(s.port);
      for (let i = 0; i < 5; i++) assert.equal((await c.create(`f${i}.txt`)).status, 0);
      assert.equal((await c.create('f5.txt')).status, ST.TOO_MANY_OPENED_FILES);
      const d = await loggedIn(s.port);
      assert.equal((await d.create('f5.txt')).status, 0);
      c.close();
      d.close();
    });
  });

  it('opens stop at the descriptor reserve and new connections are still served', async () => {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    assert.ok(m, 'soft RLIMIT_NOFILE is finite here');
    const fdMax = Number(m[1]);
    // Leave about 3 descriptors for opens beyond what is in use now.
    const reserve = fdMax - readdirSync('/proc/self/fd').length - 4;
    const s = await start([`fd reserve = ${reserve}`], 8);
    try {
      const c = await loggedIn(s.port);
      const got: number[] = [];
      for (let i = 0; i < 8; i++) got.push((await c.create(`f${i}.txt`)).status);
      assert.ok(got.includes(ST.INSUFFICIENT_RESOURCES), got.map(statusName).join(' '));
      assert.equal(got[0], 0);
      // The reserve is for connections: a new client still negotiates and logs on.
      const d = await loggedIn(s.port);
      d.close();
      c.close();
    } finally {
      await s.stop();
    }
  });

  describe('limits that were already there: compound members and credits', () => {
    let s: Srv;
    before(async () => {
      s = await start([]);
    });
    after(() => s?.stop());

    it('a compound of 513 members drops the connection; 512 are answered', async () => {
      const chain = (n: number, c: RawConn): Buffer => {
        const parts: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const e = Buffer.concat([echoFrame(c.mid++), Buffer.alloc(4)]); // 72 bytes, 8-aligned
          if (i < n - 1) e.writeUInt32LE(e.length, 20);
          parts.push(e);
        }
        return Buffer.concat(parts);
      };
      const ok = await RawConn.open(s.port);
      await ok.negotiate();
      ok.send(nbss(chain(512, ok)));
      assert.equal((await ok.next(3_000)).kind, 'reply');
      ok.close();
      const bad = await RawConn.open(s.port);
      await bad.negotiate();
      bad.send(nbss(chain(513, bad)));
      assert.notEqual(await closedWithin(bad, 3_000), undefined);
    });

    it('credits granted stay within 8192 outstanding whatever the client asks', async () => {
      const c = await RawConn.open(s.port);
      await c.negotiate();
      let outstanding = 1;
      for (let i = 0; i < 40; i++) {
        const e = echoFrame(c.mid++);
        e.writeUInt16LE(0xffff, 14); // CreditRequest
        const o = await c.request(e);
        assert.equal(o.kind, 'reply');
        if (o.kind === 'reply') outstanding += o.msg.raw.readUInt16LE(14) - 1;
      }
      assert.ok(outstanding <= 8192, `${outstanding} credits outstanding`);
      c.close();
    });
  });

  describe('byte-range locks', () => {
    let s: Srv;
    before(async () => {
      s = await start(['max lock elements = 65535'], 2);
    });
    after(() => s?.stop());

    const FAIL_IMM_EXCL = 0x12;

    it('one LOCK of 65,535 elements does not stall another connection', async () => {
      const c = await loggedIn(s.port);
      const { fileId } = await c.create('f0.txt');
      const locks = Array.from({ length: 65_535 }, (_, i) => ({ offset: BigInt(i * 2), length: 1n, flags: FAIL_IMM_EXCL }));
      const e = await RawConn.open(s.port);
      await e.negotiate();
      const t0 = Date.now();
      c.send(nbss(lockFrame(c.mid++, c.sessionId, c.treeId, fileId!, locks)));
      // ECHOs on another connection while the LOCK is processed: each answered quickly.
      let worst = 0;
      let lockDone: number | undefined;
      const lockReply = c.next(60_000).then((o) => { lockDone = Date.now() - t0; return o; });
      for (let i = 0; i < 20 && lockDone === undefined; i++) {
        const e0 = Date.now();
        const o = await e.request(echoFrame(e.mid++), 5_000);
        assert.equal(o.kind, 'reply');
        worst = Math.max(worst, Date.now() - e0);
        await new Promise((r) => setTimeout(r, 20));
      }
      const o = await lockReply;
      assert.equal(o.kind === 'reply' && o.msg.status, 0, outcome(o));
      // Blocking the loop would make an ECHO wait about as long as the LOCK itself; under load
      // everything is slower, so the bound scales with the LOCK's own time.
      assert.ok(worst < Math.max(500, lockDone! / 3), `ECHO waited ${worst} ms behind a LOCK of ${lockDone} ms`);
      assert.ok(lockDone! < 20_000, `LOCK took ${lockDone} ms`);
      // 65,535 held locks: a new one by another open is answered at once.
      const d = await loggedIn(s.port);
      const other = await d.create('f0.txt');
      const t1 = Date.now();
      const r = await d.request(lockFrame(d.mid++, d.sessionId, d.treeId, other.fileId!, [{ offset: 1n, length: 1n, flags: FAIL_IMM_EXCL }]));
      assert.equal(r.kind === 'reply' && r.msg.status, 0, outcome(r));
      const r2 = await d.request(lockFrame(d.mid++, d.sessionId, d.treeId, other.fileId!, [{ offset: 2n, length: 1n, flags: FAIL_IMM_EXCL }]));
      assert.equal(r2.kind === 'reply' && r2.msg.status, ST.LOCK_NOT_GRANTED, outcome(r2));
      assert.ok(Date.now() - t1 < 2_000, `two LOCKs against 65,535 held took ${Date.now() - t1} ms`);
      c.close();
      d.close();
      e.close();
    });
  });

  it('locks past "max locks per file" get INSUFFICIENT_RESOURCES and the request is rolled back', async () => {
    const s = await start(['max locks per file = 3'], 1);
    try {
      const c = await loggedIn(s.port);
      const { fileId } = await c.create('f0.txt');
      const mk = (n: number) => Array.from({ length: n }, (_, i) => ({ offset: BigInt(i * 10), length: 5n, flags: 0x12 }));
      const four = await c.request(lockFrame(c.mid++, c.sessionId, c.treeId, fileId!, mk(4)));
      assert.equal(four.kind === 'reply' && four.msg.status, ST.INSUFFICIENT_RESOURCES, outcome(four));
      const three = await c.request(lockFrame(c.mid++, c.sessionId, c.treeId, fileId!, mk(3)));
      assert.equal(three.kind === 'reply' && three.msg.status, 0, outcome(three));
      c.close();
    } finally {
      await s.stop();
    }
  });

  describe('LOCK element cap (default 64)', () => {
    let s: Srv;
    before(async () => {
      s = await start([], 1);
    });
    after(() => s?.stop());

    it('more than 64 elements is INVALID_PARAMETER; 64 are fine', async () => {
      const c = await loggedIn(s.port);
      const { fileId } = await c.create('f0.txt');
      const mk = (n: number, base: number) =>
        Array.from({ length: n }, (_, i) => ({ offset: BigInt(base + i * 2), length: 1n, flags: 0x12 }));
      const big = await c.request(lockFrame(c.mid++, c.sessionId, c.treeId, fileId!, mk(65_535, 0)));
      assert.equal(big.kind === 'reply' && big.msg.status, ST.INVALID_PARAMETER, outcome(big));
      const ok = await c.request(lockFrame(c.mid++, c.sessionId, c.treeId, fileId!, mk(64, 1_000_000)));
      assert.equal(ok.kind === 'reply' && ok.msg.status, 0, outcome(ok));
      c.close();
    });
  });
});
