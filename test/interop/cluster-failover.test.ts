// Node failover on a continuously available share in cluster mode (docs/cluster.md): a 3-member
// etcd cluster holds the persistent open records, two smbts node processes (bin/smbts.js serve)
// export the same directory, and a client given both addresses moves a large transfer from a node
// killed with -9 to the other one, byte-identical: an upload through node 1 (node 1 dies), then a
// download through node 2 (node 2 dies, node 1 is back). The DH2C on the surviving node finds the
// open in etcd (durable.ts durableFromStore). Size: CLUSTER_FAILOVER_MIB (default 1024 MiB: 1 GiB, ~9 s up and ~13 s down on loopback).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir, open as fsOpen } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitForPort } from './peers.js';
import { startEtcd, etcdMissing, type EtcdCluster } from './etcd.js';
import { connect, SmbError } from '../../src/client/index.js';
import { openFile, FILE_OPTIONS } from '../../src/client/file.js';
import { durableRequest } from '../../src/client/durable-open.js';
import { decodeCreateResponse } from '../../src/wire/create.js';
import { Access, CreateDisposition, HeaderFlags } from '../../src/wire/constants.js';

const BIN = resolve(new URL('.', import.meta.url).pathname, '../../../bin/smbts.js');
const MIB = Number(process.env.CLUSTER_FAILOVER_MIB ?? 1024);
const PASS = 'cluster-secret-pw';
const skip = etcdMissing();

async function shaOfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A file of `mib` MiB of random data, written in 4 MiB pieces; returns its sha256. */
async function makeSource(path: string, mib: number): Promise<string> {
  const h = createHash('sha256');
  const fh = await fsOpen(path, 'w');
  try {
    const block = randomBytes(4 << 20);
    for (let i = 0; i < mib / 4; i++) {
      block.writeUInt32LE(i, 0); // every block differs: a misplaced block changes the hash
      h.update(block);
      await fh.write(block);
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

describe('cluster node failover (etcd state store, kill -9 mid-transfer)', { skip, timeout: 240_000 }, () => {
  let etcd: EtcdCluster;
  let base: string;
  let share: string;
  const ports: number[] = [];
  const nodes: Array<ChildProcess | undefined> = [undefined, undefined];
  const logs: string[][] = [[], []];

  function conf(i: number): string {
    return [
      '[global]',
      '  clustering = yes', '  cluster backend = etcd', `  etcd endpoints = ${etcd.endpoints.join(',')}`, `  cluster node name = n${i + 1}`,
      '  durable v2 max timeout = 60', '',
      '[ca]', `  path = ${share}`, '  read only = no', '  continuous availability = yes', '',
    ].join('\n');
  }

  async function serve(i: number): Promise<void> {
    const child = spawn(process.execPath, [BIN, 'serve', '--config', join(base, `n${i + 1}.conf`), '--port', String(ports[i]), '--host', '127.0.0.1'], {
      env: { ...process.env, SMBTS_HOME: join(base, `home${i + 1}`), SMBTS_PASSWORD: PASS }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer): void => {
      logs[i]!.push(...b.toString().split('\n').filter(Boolean));
      if (logs[i]!.length > 300) logs[i]!.splice(0, logs[i]!.length - 300);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    nodes[i] = child;
    await waitForPort(ports[i]!, 20_000);
  }

  async function kill9(i: number): Promise<void> {
    const child = nodes[i];
    if (!child) return;
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    nodes[i] = undefined;
  }

  before(async () => {
    etcd = await startEtcd({ members: 3 });
    base = await mkdtemp(join(tmpdir(), 'smbts-cluster-'));
    share = join(base, 'share');
    await mkdir(share);
    ports.push(await freePort(), await freePort());
    for (const i of [0, 1]) await writeFile(join(base, `n${i + 1}.conf`), conf(i));
    await Promise.all([serve(0), serve(1)]);
  });
  after(async () => {
    await kill9(0);
    await kill9(1);
    await etcd?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it(`${MIB} MiB upload through node 1 finishes on node 2 after kill -9; download through node 2 finishes on node 1`, { timeout: 200_000 }, async () => {
    const src = join(base, 'src.bin');
    const want = await makeSource(src, MIB);
    const total = MIB << 20;
    const c = await connect(`smb://smbts@127.0.0.1:${ports[0]}/ca`, {
      password: PASS, servers: [`127.0.0.1:${ports[1]}`], reconnect: { attempts: 8, initialDelayMs: 100, maxDelayMs: 1000 },
    });
    const diag = (): string => `\nnode1:\n${logs[0]!.slice(-15).join('\n')}\nnode2:\n${logs[1]!.slice(-15).join('\n')}`;
    try {
      // Upload through node 1; node 1 dies a quarter of the way.
      let seen = 0;
      let killing: Promise<void> | undefined;
      const t0 = Date.now();
      const n = await c.upload(src, 'big.bin', {
        onProgress: (k) => {
          seen += k;
          if (!killing && seen >= total / 4) killing = kill9(0);
        },
      });
      const upMs = Date.now() - t0;
      await killing;
      assert.ok(killing, 'node 1 was killed mid-upload');
      assert.equal(n, total);
      assert.equal(c.reconnects, 1, `the client failed over once${diag()}`);
      assert.equal(await shaOfFile(join(share, 'big.bin')), want, 'the uploaded file is byte-identical');
      assert.ok(logs[1]!.some((l) => /taken over from node n1/.test(l)), `node 2 took the open over from n1's record${diag()}`);

      // Node 1 comes back; download through node 2, which dies a quarter of the way.
      await serve(0);
      seen = 0;
      killing = undefined;
      const dst = join(base, 'down.bin');
      const t1 = Date.now();
      const m = await c.download('big.bin', dst, {
        onProgress: (k) => {
          seen += k;
          if (!killing && seen >= total / 4) killing = kill9(1);
        },
      });
      const downMs = Date.now() - t1;
      await killing;
      assert.ok(killing, 'node 2 was killed mid-download');
      assert.equal(m, total);
      assert.equal(c.reconnects, 2, `the client failed over again${diag()}`);
      assert.equal(await shaOfFile(dst), want, 'the downloaded file is byte-identical');
      process.stderr.write(`# cluster failover: ${MIB} MiB upload ${upMs} ms, download ${downMs} ms (each with one node kill -9)\n`);
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  it('a node stopped gracefully (SIGTERM) keeps its records: the upload finishes on the other node', { timeout: 60_000 }, async () => {
    // Node 1 is up (restarted above), node 2 was killed: bring it back.
    if (!nodes[1]) await serve(1);
    const src = join(base, 'src64.bin');
    const want = await makeSource(src, 64);
    const c = await connect(`smb://smbts@127.0.0.1:${ports[0]}/ca`, {
      password: PASS, servers: [`127.0.0.1:${ports[1]}`], reconnect: { attempts: 8, initialDelayMs: 100, maxDelayMs: 1000 },
    });
    const before = logs[1]!.length;
    try {
      let seen = 0;
      let stopping: Promise<void> | undefined;
      const n = await c.upload(src, 'drain.bin', {
        onProgress: (k) => {
          seen += k;
          if (!stopping && seen >= 16 << 20) {
            const child = nodes[0]!;
            nodes[0] = undefined;
            child.kill('SIGTERM');
            stopping = new Promise((r) => child.once('exit', () => r()));
          }
        },
      });
      await stopping;
      assert.ok(stopping, 'node 1 was stopped mid-upload');
      assert.equal(n, 64 << 20);
      assert.equal(c.reconnects, 1);
      assert.equal(await shaOfFile(join(share, 'drain.bin')), want);
      assert.ok(logs[1]!.slice(before).some((l) => /taken over from node n1/.test(l)), logs[1]!.slice(before).join('\n'));
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  it('etcd without quorum: new opens are refused with INSUFFICIENT_RESOURCES in bounded time (no split brain); quorum back: persistent opens again', { timeout: 90_000 }, async () => {
    if (!nodes[1]) await serve(1);
    const c = await connect(`smb://smbts@127.0.0.1:${ports[1]}/ca`, { password: PASS, reconnect: { attempts: 0 } });
    try {
      const ok = await c.open('q0.bin', 'w');
      assert.ok(ok.durable?.persistent, 'persistent while etcd has quorum');
      await ok.close();
      await etcd.kill(0);
      await etcd.kill(1);
      try {
        // The cluster coordination cannot record the open: the node refuses it (docs/cluster.md).
        const t0 = Date.now();
        const status = await c.open('q1.bin', 'w').then(async (h) => { await h.close(); return 0; }, (e: unknown) => (e instanceof SmbError ? e.status : -1));
        const took = Date.now() - t0;
        assert.equal(status, 0xc000009a, 'STATUS_INSUFFICIENT_RESOURCES without a quorum');
        assert.ok(took < 15_000, `the CREATE took ${took} ms: it must be bounded`);
      } finally {
        await etcd.restart(0);
        await etcd.restart(1);
      }
      // The node's etcd client may still be backing off: bounded retries until a persistent grant.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const again = await c.open('q2.bin', 'w').catch((e: unknown) => {
          if (e instanceof SmbError && e.status === 0xc000009a && Date.now() < deadline) return undefined;
          throw e;
        });
        const persistent = !!again?.durable?.persistent;
        await again?.close();
        if (persistent) break;
        assert.ok(Date.now() < deadline, 'persistent handles again once quorum is back');
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  it('a replayed DH2Q reaches another node after its node died: the open comes back from the CreateGuid index', { timeout: 60_000 }, async () => {
    if (!nodes[0]) await serve(0);
    if (!nodes[1]) await serve(1);
    const c = await connect(`smb://smbts@127.0.0.1:${ports[0]}/ca`, {
      password: PASS, servers: [`127.0.0.1:${ports[1]}`], reconnect: { attempts: 8, initialDelayMs: 100, maxDelayMs: 1000 },
    });
    try {
      const d = durableRequest(c.tree, 'replay.bin', { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.OVERWRITE_IF, options: FILE_OPTIONS })!;
      assert.ok(d.state.persistent, 'the share is CA');
      const first = decodeCreateResponse((await c.tree.request(d.req)).msg).fileId;
      await kill9(0);
      await c.session.recover!(); // to node 2 (node 1 refuses)
      // The client never saw the answer (as far as node 2 knows): the same CREATE, flagged as a replay.
      const again = decodeCreateResponse((await c.tree.request({ ...d.req, flags: HeaderFlags.REPLAY_OPERATION })).msg).fileId;
      assert.equal(again.persistent, first.persistent, 'the replay got the original open (same persistent FileId), not a new one');
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  it('a node restarted after kill -9 restores its own records; connect() skips a dead first address', { timeout: 60_000 }, async () => {
    // Node 1 is down (killed above): the client starts on node 2 through the servers list.
    const c = await connect(`smb://smbts@127.0.0.1:${ports[0]}/ca`, { password: PASS, servers: [`127.0.0.1:${ports[1]}`], reconnect: { attempts: 0 } });
    const other = await connect(`smb://smbts@127.0.0.1:${ports[1]}/ca`, { password: PASS, servers: [`127.0.0.1:${ports[0]}`], reconnect: { attempts: 2, initialDelayMs: 200 } });
    try {
      const h = await c.open('own.bin', 'w');
      assert.ok(h.durable?.persistent);
      const before = logs[1]!.length;
      await kill9(1);
      await serve(1);
      assert.ok(logs[1]!.slice(before).some((l) => /restored [1-9]\d* persistent open/.test(l)), logs[1]!.slice(before).join('\n'));
      // The restored open keeps its share mode against everyone else.
      const status = await openFile(other.tree, 'own.bin', { access: Access.GENERIC_READ, disposition: CreateDisposition.OPEN, options: FILE_OPTIONS, share: 0 })
        .then(async (x) => { await x.close(); return 0; }, (e: unknown) => (e instanceof SmbError ? e.status : -1));
      assert.equal(status, 0xc0000043, 'SHARING_VIOLATION from the restored persistent open');
      // ...and on the other node too: the restored open is published to the cluster once its node joins.
      if (!nodes[0]) await serve(0);
      // Count not fixed: an earlier subtest's persistent open on this node may still be there (restored too).
      assert.ok(logs[1]!.slice(before).some((l) => /cluster: published ([1-9]\d*) of \1 restored/.test(l)), logs[1]!.slice(before).join('\n'));
      const third = await connect(`smb://smbts@127.0.0.1:${ports[0]}/ca`, { password: PASS, reconnect: { attempts: 0 } });
      try {
        const remote = await openFile(third.tree, 'own.bin', { access: Access.GENERIC_READ, disposition: CreateDisposition.OPEN, options: FILE_OPTIONS, share: 0 })
          .then(async (x) => { await x.close(); return 0; }, (e: unknown) => (e instanceof SmbError ? e.status : -1));
        assert.equal(remote, 0xc0000043, 'SHARING_VIOLATION on the other node from the restored persistent open');
      } finally {
        await third.close().catch(() => undefined);
      }
    } finally {
      await c.close().catch(() => undefined);
      await other.close().catch(() => undefined);
    }
  });
});
