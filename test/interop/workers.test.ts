// smbts:workers = 2 (server/workers/): smbclient through worker processes, routing by
// NEGOTIATE ClientGuid (two ClientGuids -> two workers; a second channel of one client binds to
// its session on the same worker), a killed worker restarted, clean shutdown, and the refusal
// to start without cross-worker coordination unless acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, type SmbServer, type ServerStatus } from '../../src/server/index.js';
import { defaultConfig } from '../../src/config/config.js';
import { workerForGuid } from '../../src/server/workers/route.js';
import { Connection } from '../../src/client/connection.js';
import { negotiate } from '../../src/client/negotiate.js';
import { setupSession } from '../../src/client/session.js';
import { bindChannel } from '../../src/client/multichannel.js';
import { createGss } from '../../src/client/auth.js';
import { connectTree } from '../../src/client/tree.js';
import { openFile } from '../../src/client/file.js';
import { watchDirectory } from '../../src/client/watch.js';
import type { SmbError } from '../../src/client/errors.js';
import { decodeOplockBreak, encodeLeaseBreakAck, LEASE_BREAK_FLAG_ACK_REQUIRED } from '../../src/wire/oplock-break.js';
import { Command } from '../../src/wire/constants.js';
import { spawn } from 'node:child_process';
import { HOST, killGroup, missingTools, repoRoot, run, smbclient } from './peers.js';

const missing = missingTools(['smbclient']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(dir: string, coordination: string | undefined): Promise<SmbServer> {
  const config = defaultConfig(dir);
  config.extra['smbts:workers'] = '2';
  if (coordination) config.extra['smbts:workerscoordination'] = coordination;
  return startServer({ config, users: { test: 'test' }, host: HOST, port: 0 });
}

/** A client connection with this ClientGuid, authenticated (the session object for binding). */
async function session(port: number, clientGuid: Buffer, user = 'test') {
  const conn = new Connection({ host: HOST, port, timeoutMs: 10_000 });
  await conn.connect();
  const neg = await negotiate(conn, { dialects: [0x0311], clientGuid, host: HOST, multichannel: true });
  const s = await setupSession(conn, neg, { gss: createGss({ user, password: 'test', domain: '' }), requireSigning: true, timeoutMs: 10_000 });
  return { conn, neg, s };
}

type Client = Awaited<ReturnType<typeof session>>;
type Tree = Awaited<ReturnType<typeof connectTree>>;

/**
 * Two clients whose ClientGuids route them to different workers, each with the share connected;
 * `body` runs with both, and both connections are closed after it.
 */
async function onTwoWorkers(port: number, body: (ta: Tree, tb: Tree, a: Client, b: Client) => Promise<void>): Promise<void> {
  const g1 = randomBytes(16);
  let g2 = randomBytes(16);
  for (let i = 0; i < 64 && workerForGuid(g2, 2) === workerForGuid(g1, 2); i++) g2 = randomBytes(16);
  const a = await session(port, g1);
  const b = await session(port, g2);
  try {
    const ta = await connectTree(a.s, HOST, 'share', false);
    const tb = await connectTree(b.s, HOST, 'share', false);
    await body(ta, tb, a, b);
  } finally {
    await a.conn.close();
    await b.conn.close();
  }
}

async function statusOf(srv: SmbServer): Promise<ServerStatus> {
  assert.ok(srv.statusAsync, 'a workers-mode server has statusAsync');
  return srv.statusAsync();
}

test('smbts:workers = 2', { skip: missing, timeout: 90_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-workers-'));
  let srv: SmbServer | undefined;
  try {
    await t.test('a bad coordination value is refused', async () => {
      await assert.rejects(start(dir, 'maybe'), /smbts:workers coordination = maybe: "local" or "none"/);
    });

    // coordination 'local' (the default): the workers are nodes of a cluster on the primary's KV
    srv = await start(dir, undefined);
    const port = srv.port;
    const st0 = await statusOf(srv);
    assert.equal(st0.workers?.length, 2);
    const pids = (st0.workers ?? []).map((w) => w.pid);
    assert.ok(pids.every((p) => p > 0 && p !== process.pid), 'two worker processes');

    await t.test('smbclient put, ls, get through the workers', async () => {
      await writeFile(join(dir, 'src.txt'), 'hello workers\n');
      const r = await smbclient(port, ['-m', 'SMB3_11', '-c', `lcd ${dir}; put src.txt up.txt; ls; get up.txt down.txt`]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /up\.txt/);
      assert.equal(await readFile(join(dir, 'down.txt'), 'utf8'), 'hello workers\n');
    });

    await t.test('32 smbclients listing the share root at once: none fails (no cluster contention)', async () => {
      // Every listing opens the root on one of the two workers; their publishes of that open
      // used to collide until some gave up with INSUFFICIENT_RESOURCES (issue 16).
      const rs = await Promise.all(Array.from({ length: 32 }, () => smbclient(port, ['-m', 'SMB3_11', '-c', 'ls'])));
      const bad = rs.filter((r) => r.code !== 0);
      assert.equal(bad.length, 0, bad.map((r) => r.stdout + r.stderr).join('\n---\n').slice(0, 2000));
    });

    await t.test('two ClientGuids on two workers; a second channel binds on its client\'s worker', async () => {
      const g1 = randomBytes(16);
      let g2 = randomBytes(16);
      for (let i = 0; i < 64 && workerForGuid(g2, 2) === workerForGuid(g1, 2); i++) g2 = randomBytes(16);
      assert.notEqual(workerForGuid(g1, 2), workerForGuid(g2, 2));
      const a = await session(port, g1);
      const b = await session(port, g2);
      try {
        let st = await statusOf(srv as SmbServer);
        const wa = st.sessions.find((x) => BigInt(x.sessionId) === a.s.id)?.worker;
        const wb = st.sessions.find((x) => BigInt(x.sessionId) === b.s.id)?.worker;
        assert.equal(wa, workerForGuid(g1, 2));
        assert.equal(wb, workerForGuid(g2, 2));
        assert.notEqual(wa, wb);
        // every connection sits on the worker its ClientGuid hashes to
        const conns = st.connections.filter((c) => c.clientGuid === g1.toString('hex') || c.clientGuid === g2.toString('hex'));
        assert.equal(conns.length, 2);
        for (const c of conns) assert.equal(c.worker, workerForGuid(Buffer.from(c.clientGuid as string, 'hex'), 2));
        // channel 2 of client 1: a new TCP connection with the same ClientGuid binds to the session
        // (MS-SMB2 3.3.5.5.2: the session must be found by that worker)
        const conn2 = new Connection({ host: HOST, port, timeoutMs: 10_000 });
        await conn2.connect();
        const neg2 = await negotiate(conn2, { dialects: [0x0311], clientGuid: g1, host: HOST, multichannel: true });
        const ch = await bindChannel(a.s, conn2, neg2, createGss({ user: 'test', password: 'test', domain: '' }), { requireSigning: true, timeoutMs: 10_000 });
        assert.ok(ch);
        st = await statusOf(srv as SmbServer);
        const row = st.sessions.find((x) => BigInt(x.sessionId) === a.s.id);
        assert.equal(row?.channels.length, 2, 'both channels on one session');
        assert.equal(row?.worker, wa);
        await conn2.close();
      } finally {
        await a.conn.close();
        await b.conn.close();
      }
    });

    await t.test('a connection that starts with an SMB1 NEGOTIATE is routed by the ClientGuid of the SMB2 one', async () => {
      // smbclient with client min protocol = NT1 offers SMB1 dialects and "SMB 2.???": the primary
      // answers the SMB1 step (workers/smb1.ts) and routes by the NEGOTIATE that follows
      const conf = join(dir, 'nt1.conf');
      await writeFile(conf, '[global]\n  client min protocol = NT1\n  disable netbios = yes\n');
      const guids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const child = spawn('smbclient', [`//${HOST}/share`, '-s', conf, '-p', String(port), '-U', 'test%test', '-m', 'SMB3'], { stdio: ['pipe', 'pipe', 'pipe'] });
        try {
          let row: ServerStatus['connections'][number] | undefined;
          for (let k = 0; k < 100 && !row; k++) {
            await sleep(100);
            const st = await statusOf(srv as SmbServer);
            row = st.connections.find((c) => c.dialect === '3.1.1' && c.clientGuid && !/^0+$/.test(c.clientGuid) && !guids.has(c.clientGuid));
          }
          assert.ok(row?.clientGuid, 'smbclient connected over the SMB1 start');
          guids.add(row.clientGuid);
          assert.equal(row.worker, workerForGuid(Buffer.from(row.clientGuid, 'hex'), 2));
          child.stdin.end('ls\nexit\n');
          const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
          assert.equal(code, 0);
        } finally {
          child.kill('SIGKILL');
        }
      }
    });

    await t.test('share modes hold across workers (coordination over the primary\'s KV)', async () => {
      await onTwoWorkers(port, async (ta, tb) => {
        // MS-SMB2 3.3.5.9 / MS-FSA 2.1.5.1.2: a second open whose access the first one's share
        // access does not allow fails with STATUS_SHARING_VIOLATION
        const excl = await openFile(ta, 'excl.txt', { access: 0x0012019f, disposition: 3 /* OPEN_IF */, options: 0, share: 0 });
        const other = { access: 0x00120089, disposition: 1 /* OPEN */, options: 0, share: 7 };
        await assert.rejects(openFile(tb, 'excl.txt', other), (e: SmbError) => e.status === 0xc0000043);
        await excl.close();
        // the close reaches the other worker through the KV (a watch): bounded wait
        let h: Awaited<ReturnType<typeof openFile>> | undefined;
        for (let i = 0; i < 40 && !h; i++) {
          h = await openFile(tb, 'excl.txt', other).catch(async () => { await sleep(50); return undefined; });
        }
        assert.ok(h, 'opened once the holder on the other worker closed');
        await h.close();
      });
    });

    await t.test('DELETE_ON_CLOSE closed while the file is open on the other worker: the last closer there deletes it', async () => {
      await onTwoWorkers(port, async (ta, tb) => {
        // DELETE | the usual read/write access, FILE_DELETE_ON_CLOSE, sharing everything
        const doc = await openFile(ta, 'doc.txt', { access: 0x0013019f, disposition: 3 /* OPEN_IF */, options: 0x1000, share: 7 });
        const other = await openFile(tb, 'doc.txt', { access: 0x00120089, disposition: 1, options: 0, share: 7 });
        await doc.close();
        // MS-FSA 2.1.5.4: delete-pending now; the file goes with its last open, on the other worker
        assert.equal(await readFile(join(dir, 'doc.txt'), 'utf8'), '', 'still there while open on the other worker');
        // the delete-pending state reaches the other worker through the KV (a watch): bounded wait
        let status = 0;
        for (let i = 0; i < 40 && status === 0; i++) {
          const h = await openFile(tb, 'doc.txt', { access: 0x00120089, disposition: 1, options: 0, share: 7 }).catch((e: SmbError) => e);
          if ('status' in h && typeof h.status === 'number') status = h.status;
          else { await (h as Awaited<ReturnType<typeof openFile>>).close(); await sleep(50); }
        }
        assert.equal(status, 0xc0000056, 'STATUS_DELETE_PENDING on the other worker');
        await other.close();
        let gone = false;
        for (let i = 0; i < 40 && !gone; i++) gone = await readFile(join(dir, 'doc.txt')).then(async () => { await sleep(50); return false; }, () => true);
        assert.ok(gone, 'deleted by the last closer');
      });
    });

    await t.test('a lease held on one worker is broken for an open on the other (file claims: the owner publishes it)', async () => {
      await onTwoWorkers(port, async (ta, tb, a) => {
        // a durable open holds a read+handle lease (client/durable-open.ts); its client acks breaks
        const breaks: number[] = [];
        a.conn.onOplockBreak = (msg) => {
          const br = decodeOplockBreak(msg);
          if (br.kind !== 'lease-notification') return;
          breaks.push(br.newLeaseState);
          if (br.flags & LEASE_BREAK_FLAG_ACK_REQUIRED) {
            void ta.request({ command: Command.OPLOCK_BREAK, body: encodeLeaseBreakAck({ flags: 0, leaseKey: br.leaseKey, leaseState: br.newLeaseState, leaseDuration: 0n }) }).catch(() => undefined);
          }
        };
        const held = await openFile(ta, 'leased.txt', { access: 0x00120089, disposition: 3 /* OPEN_IF */, options: 0, share: 7 }, true);
        assert.ok(held.durable, 'durable with a lease');
        // an open sharing nothing conflicts with it: its handle caching is broken first (the
        // holder's worker must learn of the open on the other one), then SHARING_VIOLATION
        const t0 = Date.now();
        await assert.rejects(openFile(tb, 'leased.txt', { access: 0x0012019f, disposition: 1, options: 0, share: 0 }), (e: SmbError) => e.status === 0xc0000043);
        assert.ok(breaks.length >= 1, 'the lease on the other worker was broken');
        assert.equal(breaks[0]! & 0x2 /* HANDLE */, 0, 'handle caching given up');
        assert.ok(Date.now() - t0 < 20_000, 'no break timeout');
        await held.close();
      });
    });

    for (const [wait, name] of [[200, 'CHANGE_NOTIFY sees a file created through the other worker'],
      [0, 'CHANGE_NOTIFY sees a change made on the other worker before the watch reached it (kept and posted when relaying turns on)']] as const) {
    await t.test(name, async () => {
      await onTwoWorkers(port, async (ta, tb) => {
        // FILE_LIST_DIRECTORY | SYNCHRONIZE on the share root, FILE_DIRECTORY_FILE
        const dir = await openFile(ta, '', { access: 0x00100001, disposition: 1, options: 0x1, share: 7 });
        const events = watchDirectory(dir, {});
        const first = events.next();
        await sleep(wait); // the CHANGE_NOTIFY is pending on worker A (0 ms: the primary may not have told worker B yet)
        const f = await openFile(tb, `notified-${wait}.txt`, { access: 0x0012019f, disposition: 2 /* CREATE */, options: 0, share: 7 });
        await f.close();
        const ev = await Promise.race([first, sleep(5000).then(() => undefined)]);
        assert.ok(ev && !ev.done, 'a change arrived');
        assert.deepEqual(ev.value, { eventType: 'rename', filename: `notified-${wait}.txt` });
        await events.return(undefined);
        await dir.close().catch(() => undefined);
      });
    });
    }

    await t.test('a killed worker is restarted and serves again; its opens stop blocking the others', async () => {
      // an exclusive open held by a client of worker 0, seen by a client of worker 1
      let g0 = randomBytes(16);
      for (let i = 0; i < 64 && workerForGuid(g0, 2) !== 0; i++) g0 = randomBytes(16);
      let g1 = randomBytes(16);
      for (let i = 0; i < 64 && workerForGuid(g1, 2) !== 1; i++) g1 = randomBytes(16);
      const holder = await session(port, g0);
      const other = await session(port, g1);
      const th = await connectTree(holder.s, HOST, 'share', false);
      const to = await connectTree(other.s, HOST, 'share', false);
      await openFile(th, 'held.txt', { access: 0x0012019f, disposition: 3, options: 0, share: 0 });
      const want = { access: 0x00120089, disposition: 1, options: 0, share: 7 };
      await assert.rejects(openFile(to, 'held.txt', want), (e: SmbError) => e.status === 0xc0000043);
      const victim = pids[0] as number;
      process.kill(victim, 'SIGKILL');
      // its liveness lease ends with the process: the open vanishes from the other worker's view
      let h: Awaited<ReturnType<typeof openFile>> | undefined;
      for (let i = 0; i < 40 && !h; i++) h = await openFile(to, 'held.txt', want).catch(async () => { await sleep(50); return undefined; });
      assert.ok(h, 'the dead worker\'s exclusive open no longer blocks');
      await h.close();
      await holder.conn.close().catch(() => undefined);
      await other.conn.close();
      let st: ServerStatus | undefined;
      for (let i = 0; i < 100; i++) {
        await sleep(100);
        st = await statusOf(srv as SmbServer);
        const w0 = st.workers?.[0];
        if (w0 && w0.pid > 0 && w0.pid !== victim && w0.restarts === 1) break;
      }
      assert.equal(st?.workers?.[0]?.restarts, 1, JSON.stringify(st?.workers));
      assert.notEqual(st?.workers?.[0]?.pid, victim);
      for (let i = 0; i < 4; i++) {
        // fresh smbclient processes: random ClientGuids, so both workers are likely used
        const r = await smbclient(port, ['-m', 'SMB3_11', '-c', 'ls']);
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
    });

    await t.test('close stops every worker process', async () => {
      const st = await statusOf(srv as SmbServer);
      const live = (st.workers ?? []).map((w) => w.pid);
      await (srv as SmbServer).close();
      srv = undefined;
      for (const pid of live) {
        let alive = true;
        for (let i = 0; i < 50 && alive; i++) {
          try { process.kill(pid, 0); await sleep(100); } catch { alive = false; }
        }
        assert.equal(alive, false, `worker ${pid} exited`);
      }
    });
  } finally {
    await srv?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('smbts serve with smbts:workers = 2: smbts status gathers every worker, SIGTERM stops them all', { skip: missing, timeout: 60_000 }, async () => {
  const home = await mkdtemp(join(tmpdir(), 'smbts-workers-cli-'));
  const share = await mkdtemp(join(tmpdir(), 'smbts-workers-share-'));
  const bin = join(repoRoot(), 'bin', 'smbts.js');
  const env = { ...process.env, SMBTS_HOME: home, SMBTS_PASSWORD: 'test' };
  const conf = join(home, 'smb.conf');
  await writeFile(conf, `[global]\nsmbts:workers = 2\nsmbts:workers coordination = none\n[share]\npath = ${share}\nread only = no\n`);
  const child = spawn(process.execPath, [bin, 'serve', '--config', conf, '--port', '0', '--host', HOST, '--quiet'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const t = setTimeout(() => reject(new Error(`serve did not start: ${text}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /listening on [^\s]+:(\d+)/.exec(text);
        if (m && /^status: /m.test(text)) { clearTimeout(t); resolve(Number(m[1])); }
      });
      child.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
      child.on('exit', (c) => { clearTimeout(t); reject(new Error(`serve exited ${c}: ${text}`)); });
    });
    // `smbts serve` made user smbts with SMBTS_PASSWORD
    const a = await session(port, randomBytes(16), 'smbts');
    try {
      const r = await run(process.execPath, [bin, 'status', '--json'], { env, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      const [st] = JSON.parse(r.stdout) as ServerStatus[];
      assert.equal(st?.workers?.length, 2, r.stdout);
      const mine = st?.sessions.find((x) => BigInt(x.sessionId) === a.s.id);
      assert.ok(mine, 'the session held by this test is listed');
      assert.equal(typeof mine.worker, 'number');
      const text = await run(process.execPath, [bin, 'status'], { env, timeoutMs: 20_000 });
      assert.match(text.stdout, /workers: 2/);
      const pids = (st?.workers ?? []).map((w) => w.pid);
      await a.conn.close();
      process.kill(child.pid as number, 'SIGTERM');
      await new Promise<void>((resolve) => { if (child.exitCode !== null) resolve(); else child.once('exit', () => resolve()); });
      for (const pid of pids) {
        let alive = true;
        for (let i = 0; i < 50 && alive; i++) {
          try { process.kill(pid, 0); await sleep(100); } catch { alive = false; }
        }
        assert.equal(alive, false, `worker ${pid} exited with the server`);
      }
    } finally {
      await a.conn.close().catch(() => undefined);
    }
  } finally {
    killGroup(child.pid, 'SIGKILL');
    await rm(home, { recursive: true, force: true });
    await rm(share, { recursive: true, force: true });
  }
});
