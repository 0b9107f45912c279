// A file opened through a DFS link whose target connection drops (client/dfs.ts SessionPool +
// client/reconnect.ts): the pool reconnects to the same target, connects its share again and
// reopens the durable handle (DH2C), so writes and an upload carry on byte-identical. When the
// target is gone for good, or comes back without the handle (a fresh server), the caller gets
// HandleLostError: status CONNECTION_DISCONNECTED (reconnecting failed), the DH2C refusal
// (OBJECT_NAME_NOT_FOUND) or the tree connect's (BAD_NETWORK_NAME: the share is gone). Addresses
// as the DFS suites: 127.0.11.x, referral targets on port 445: the link names 127.0.11.40 (a
// cuttable TCP proxy on :445) in front of an smbts target on 127.0.11.41; the smbts DFS root
// listens on 127.0.11.42.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_USER, DEFAULT_PASS } from './peers.js';
import { startSmbtsDfs, DFS_PORT, type DfsPeer } from './dfs-peers.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import { connect, HandleLostError, type SmbClient } from '../../src/client/index.js';

const PROXY = '127.0.11.40';
const TARGET = '127.0.11.41';
const ROOT = '127.0.11.42';
const SIZE = 32 * 1024 * 1024;
const CONNECTION_DISCONNECTED = 0xc000020c;
const OBJECT_NAME_NOT_FOUND = 0xc0000034;
const BAD_NETWORK_NAME = 0xc00000cc;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('DFS target reconnect', { timeout: 120_000 }, () => {
  let target: DfsPeer & { port: number };
  let root: DfsPeer & { port: number };
  let proxy: TcpProxy;
  let work: string;
  let data: Buffer;
  const extra: Array<DfsPeer> = [];

  before(async () => {
    target = await startSmbtsDfs(TARGET, [{ name: 'share' }], [], 0);
    proxy = await startProxy(target.port, PROXY, { listenPort: DFS_PORT, targetHost: TARGET });
    root = await startSmbtsDfs(ROOT, [{ name: 'dfs', options: ['msdfs root = yes'], links: { link: `msdfs:${PROXY}\\share` } }], [], 0);
    work = await mkdtemp(join(tmpdir(), 'smbts-dfs-reconnect-'));
    data = randomBytes(SIZE);
    await writeFile(join(work, 'src.bin'), data);
  });
  after(async () => {
    await proxy?.close();
    for (const p of [root, target, ...extra]) await p?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const open = (attempts = 6): Promise<SmbClient> => connect(`smb://${DEFAULT_USER}@${ROOT}:${root.port}/dfs`, {
    password: DEFAULT_PASS, timeoutMs: 10_000, reconnect: { attempts, initialDelayMs: 50, maxDelayMs: 200 }, dfs: { refreshTickMs: 0 },
  });

  it('a FileHandle through a link keeps working after the target connection is cut', async () => {
    const c = await open();
    try {
      const h = await c.open('link/fh.bin', 'w+');
      await h.write(data.subarray(0, 4 << 20), 0);
      const before = proxy.accepted;
      proxy.cut();
      await h.write(data.subarray(4 << 20, 8 << 20), 4 << 20);
      assert.ok(proxy.accepted > before, 'the client connected to the target again');
      assert.equal(sha(await h.read(0, 8 << 20)), sha(data.subarray(0, 8 << 20)));
      await h.close();
      assert.equal(sha(await readFile(join(target.dirs.share!, 'fh.bin'))), sha(data.subarray(0, 8 << 20)));
      assert.equal(c.reconnects, 0, 'the URL session (the DFS root) never dropped');
    } finally {
      await c.close();
    }
  });

  it('an upload through a link continues across a cut target connection, byte-identical', async () => {
    const c = await open();
    try {
      let seen = 0;
      let cut = false;
      const n = await c.upload(join(work, 'src.bin'), 'link/up.bin', {
        onProgress: (k) => {
          seen += k;
          if (!cut && seen >= 8 << 20) {
            cut = true;
            proxy.cut();
          }
        },
      });
      assert.equal(n, SIZE);
      assert.ok(cut);
      assert.equal(sha(await readFile(join(target.dirs.share!, 'up.bin'))), sha(data));
    } finally {
      await c.close();
    }
  });

  it('a target that comes back without the handle (fresh server): HandleLostError with the DH2C refusal', async () => {
    const c = await open();
    let fresh: (DfsPeer & { port: number }) | undefined;
    try {
      const h = await c.open('link/gone.bin', 'w+');
      await h.write(Buffer.from('before'), 0);
      fresh = await startSmbtsDfs(TARGET, [{ name: 'share' }], [], 0);
      extra.push(fresh);
      proxy.retarget(fresh.port);
      proxy.cut();
      await assert.rejects(h.write(Buffer.from('after'), 6), (e: unknown) => e instanceof HandleLostError && e.status === OBJECT_NAME_NOT_FOUND);
      // Sticky: the next call says the same, and the client still works through the link.
      await assert.rejects(h.read(0, 6), (e: unknown) => e instanceof HandleLostError && e.status === OBJECT_NAME_NOT_FOUND);
      await h.close();
      await c.writeFile('link/new.txt', 'x');
      assert.equal(await readFile(join(fresh.dirs.share!, 'new.txt'), 'utf8'), 'x');
    } finally {
      await c.close();
      proxy.retarget(target.port);
    }
  });

  it('a target that comes back without the share: HandleLostError BAD_NETWORK_NAME', async () => {
    const c = await open();
    try {
      const h = await c.open('link/noshare.bin', 'w+');
      await h.write(Buffer.from('before'), 0);
      const other = await startSmbtsDfs(TARGET, [{ name: 'other' }], [], 0);
      extra.push(other);
      proxy.retarget(other.port);
      proxy.cut();
      await assert.rejects(h.write(Buffer.from('after'), 6), (e: unknown) => e instanceof HandleLostError && e.status === BAD_NETWORK_NAME);
      await h.close();
    } finally {
      await c.close();
      proxy.retarget(target.port);
    }
  });

  it('a target that stays unreachable: HandleLostError CONNECTION_DISCONNECTED after the bounded attempts', async () => {
    const c = await open(3);
    try {
      const h = await c.open('link/dead.bin', 'w+');
      await h.write(Buffer.from('before'), 0);
      proxy.retarget(1); // nothing listens on port 1: the proxy drops every new connection at once
      proxy.cut();
      const t0 = Date.now();
      await assert.rejects(h.write(Buffer.from('after'), 6), (e: unknown) => e instanceof HandleLostError && e.status === CONNECTION_DISCONNECTED);
      assert.ok(Date.now() - t0 < 10_000, `gave up in ${Date.now() - t0} ms`);
      await h.close();
    } finally {
      await c.close();
      proxy.retarget(target.port);
    }
  });
});
