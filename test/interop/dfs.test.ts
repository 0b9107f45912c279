// DFS end to end (docs/dfs.md): smbts and Samba as DFS roots and as link targets, each on its own
// 127.0.11.x:445 (referral targets are always port 445), followed by smbclient and by the smbts
// client: referrals v1-v4, the cache (TTL, hint, refresh), failover at connect and mid-transfer,
// loops and link targets that look like local paths.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingTools, repoRoot, run } from './peers.js';
import { startSambaDfs, startSmbtsDfs, smbclientAt, type DfsPeer } from './dfs-peers.js';
import { connect, SmbError, type SmbClient } from '../../src/client/index.js';
import { Status } from '../../src/wire/status.js';
import { DfsEntryFlags, DfsHeaderFlags, DfsServerType, decodeDfsReferralResponse, encodeDfsReferralRequestEx } from '../../src/wire/dfs.js';
import { decodeIoctlResponse, encodeIoctlRequest } from '../../src/wire/ioctl.js';
import { Command, Fsctl, IoctlFlags } from '../../src/wire/constants.js';
import { RELATED_FILE_ID } from '../../src/wire/common.js';

const ROOT = '127.0.11.2';      // smbts DFS root
const SAMBA_T = '127.0.11.3';   // Samba target
const SMBTS_T = '127.0.11.4';   // smbts target (also the replica of REPLICA)
const SAMBA_ROOT = '127.0.11.5';
const REPLICA = '127.0.11.6';   // Samba replica, killed mid-transfer
const DOWN = '127.0.11.9';      // nothing listens here
const HOLE = '127.0.11.7';      // a TCP relay to REPLICA that can swallow everything (blackhole)
const HOLE2 = '127.0.11.8';     // the same in front of SMBTS_T

const skip = missingTools(['smbd', 'smbclient']);
const hello = 'hello from samba\n';
const xdata = 'hello from smbts\n';
const big = randomBytes(48 * 1024 * 1024 + 12345);
/** host:445 relaying to `to`:445; after blackhole() nothing passes either way and nothing is closed. */
async function relay(host: string, to: string): Promise<{ blackhole(): void; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  let dropping = false;
  const srv = net.createServer((c) => {
    const up = net.connect({ host: to, port: 445 });
    socks.add(c).add(up);
    for (const s of [c, up]) s.on('error', () => { c.destroy(); up.destroy(); });
    c.on('data', (b: Buffer) => { if (!dropping) up.write(b); });
    up.on('data', (b: Buffer) => { if (!dropping) c.write(b); });
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
  });
  await new Promise<void>((r) => srv.listen(445, host, r));
  return {
    blackhole: () => { dropping = true; },
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('DFS', { skip, timeout: 120_000 }, () => {
  const peers: DfsPeer[] = [];
  let replica: DfsPeer;
  let smbtsTarget: DfsPeer;
  let tmp: string;
  const clients: SmbClient[] = [];
  const open = async (url: string): Promise<SmbClient> => {
    const c = await connect(url, { timeoutMs: 5000, dfs: { refreshTickMs: 200 } });
    clients.push(c);
    return c;
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'smbts-dfs-test-'));
    const links = {
      tosamba: `msdfs:${SAMBA_T}\\share`,
      tots: `msdfs:${SMBTS_T}\\data`,
      both: `msdfs:${DOWN}\\share,${SMBTS_T}\\data`,
      repl: `msdfs:${REPLICA}\\share,${SMBTS_T}\\data`,
      loop: `msdfs:${ROOT}\\dfs\\loop`,
      esc: 'msdfs:..\\..\\etc',
      nest: `msdfs:${SAMBA_ROOT}\\dfs`, // a link to another DFS root
      held: `msdfs:${HOLE}\\share,${SMBTS_T}\\data`,
      held2: `msdfs:${HOLE2}\\data,${SAMBA_T}\\share`,
    };
    const [a, b, r] = await Promise.all([
      startSambaDfs(SAMBA_T, [{ name: 'share', files: { 'hello.txt': hello, 'big.bin': big } }]),
      startSmbtsDfs(SMBTS_T, [{ name: 'data', files: { 'x.txt': xdata, 'big.bin': big } }]),
      startSambaDfs(REPLICA, [{ name: 'share', files: { 'big.bin': big } }]),
    ]);
    replica = r;
    smbtsTarget = b;
    peers.push(a, b, r);
    peers.push(await startSmbtsDfs(ROOT, [
      { name: 'dfs', options: ['msdfs root = yes'], links, files: { 'local.txt': 'root\n' } },
      { name: 'short', options: ['msdfs root = yes', 'msdfs ttl = 2'], links: { tots: `msdfs:${SMBTS_T}\\data` } },
      { name: 'shuffled', options: ['msdfs root = yes', 'msdfs shuffle referrals = yes'], links: { many: `msdfs:${'abcdefgh'.split('').map((h) => `${h}\\s`).join(',')}` } },
      { name: 'proxy', options: [`msdfs proxy = \\${SMBTS_T}\\data`], noPath: true },
      { name: 'plain' },
    ]));
    peers.push(await startSambaDfs(SAMBA_ROOT, [{ name: 'dfs', options: ['msdfs root = yes'], links: { tosamba: links.tosamba, tots: links.tots } }]));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await rm(tmp, { recursive: true, force: true });
  });

  it('smbclient follows links of an smbts DFS root to a Samba and an smbts target, and an msdfs proxy share', async () => {
    const out = join(tmp, 'sc');
    const r = await smbclientAt(ROOT, 'dfs', ['-c', `get tosamba\\hello.txt ${out}1; get tots\\x.txt ${out}2; ls`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await readFile(out + '1', 'utf8'), hello);
    assert.equal(await readFile(out + '2', 'utf8'), xdata);
    assert.match(r.stdout, /local\.txt/);
    assert.match(r.stdout, /tosamba\s+Dr?\s+0 /, 'links are listed as directories (reparse points), as Samba lists them');
    const p = await smbclientAt(ROOT, 'proxy', ['-c', `get x.txt ${out}3`]);
    assert.equal(p.code, 0, p.stdout + p.stderr);
    assert.equal(await readFile(out + '3', 'utf8'), xdata);
  });

  it('smbts root: tree flags, PATH_NOT_COVERED, referrals v1-v4 and _EX with TTL, root referral, NOT_FOUND off DFS', async () => {
    const raw = await connect(`smb://test:test@${ROOT}/dfs`, { timeoutMs: 5000, dfs: false });
    clients.push(raw);
    assert.ok(raw.tree.shareFlags & 0x3, 'SMB2_SHAREFLAG_DFS | DFS_ROOT');
    await assert.rejects(raw.stat('tots/x.txt'), (e: SmbError) => e.status === Status.PATH_NOT_COVERED);
    await assert.rejects(raw.stat('tots'), (e: SmbError) => e.status === Status.PATH_NOT_COVERED);
    assert.equal((await raw.readFile('local.txt')).toString(), 'root\n');
    const c = await open(`smb://test:test@${ROOT}/dfs`);
    const dfs = c.dfs!;
    for (const level of [1, 2, 3, 4]) {
      const { response: r } = await dfs.fetch(ROOT, `\\${ROOT}\\dfs\\both\\sub\\f.txt`, level);
      assert.equal(r.pathConsumed, `\\${ROOT}\\dfs\\both`.length * 2);
      assert.equal(r.referralHeaderFlags, DfsHeaderFlags.STORAGE_SERVERS);
      assert.deepEqual(r.referrals.map((e) => e.networkAddress), [`\\${DOWN}\\share`, `\\${SMBTS_T}\\data`]);
      assert.ok(r.referrals.every((e) => e.version === level));
      if (level >= 2) assert.ok(r.referrals.every((e) => e.timeToLive === 600));
      if (level === 4) assert.equal(r.referrals[0]!.referralEntryFlags, DfsEntryFlags.TARGET_SET_BOUNDARY);
    }
    // FSCTL_DFS_GET_REFERRALS_EX (REQ_GET_DFS_REFERRAL_EX with a site name) on IPC$.
    const ipc = await dfs.pool.tree(ROOT, 445, 'IPC$');
    const exRes = await ipc.request({
      command: Command.IOCTL,
      body: encodeIoctlRequest({
        ctlCode: Fsctl.DFS_GET_REFERRALS_EX, fileId: RELATED_FILE_ID, maxInputResponse: 0, maxOutputResponse: 8192, flags: IoctlFlags.IS_FSCTL,
        input: encodeDfsReferralRequestEx({ maxReferralLevel: 3, requestFileName: `\\${ROOT}\\dfs\\tots\\x.txt`, siteName: 'Default-First-Site-Name' }),
      }),
      payloadSize: 8192,
    });
    const ex = decodeDfsReferralResponse(decodeIoctlResponse(exRes.msg).output);
    assert.deepEqual(ex.referrals.map((e) => [e.version, e.networkAddress]), [[3, `\\${SMBTS_T}\\data`]]);
    const root = (await dfs.fetch(ROOT, `\\${ROOT}\\dfs`)).response;
    assert.equal(root.referrals[0]!.serverType, DfsServerType.ROOT);
    assert.equal(root.referrals[0]!.networkAddress, `\\${ROOT}\\dfs`);
    assert.equal((await dfs.fetch(ROOT, `\\${ROOT}\\short\\tots`)).response.referrals[0]!.timeToLive, 2);
    await assert.rejects(dfs.fetch(ROOT, `\\${ROOT}\\plain\\x`), (e: SmbError) => e.status === Status.NOT_FOUND);
    await assert.rejects(dfs.fetch(ROOT, `\\${ROOT}\\dfs\\local.txt`), (e: SmbError) => e.status === Status.NOT_FOUND);
    // msdfs shuffle referrals: eight targets come back in more than one order.
    const orders = new Set<string>();
    for (let i = 0; i < 6; i++) orders.add((await dfs.fetch(ROOT, `\\${ROOT}\\shuffled\\many`)).response.referrals.map((e) => e.networkAddress).join());
    assert.ok(orders.size > 1, 'shuffled');
  });

  it('a link target is a referral, never a local path: msdfs:..\\..\\etc does not escape the share', async () => {
    const raw = clients.find((c) => !c.dfs)!;
    await assert.rejects(raw.readFile('esc/passwd'), (e: SmbError) => e.status === Status.PATH_NOT_COVERED);
    const c = await open(`smb://test:test@${ROOT}/dfs`);
    await assert.rejects(c.readFile('esc/passwd'), SmbError);
  });

  it('smbts client follows a Samba DFS root to a Samba and an smbts target; the cache shows TTL and hint', async () => {
    const c = await open(`smb://test:test@${SAMBA_ROOT}/dfs`);
    assert.equal((await c.readFile('tosamba/hello.txt')).toString(), hello);
    assert.equal((await c.readFile('/tots/x.txt')).toString(), xdata);
    assert.deepEqual((await c.readdir('tots')).sort(), ['big.bin', 'x.txt']);
    const list = c.dfsCache();
    const e = list.find((x) => x.path.toLowerCase() === `\\${SAMBA_ROOT}\\dfs\\tots`);
    assert.ok(e, JSON.stringify(list));
    assert.equal(e.serverType, 'link');
    assert.equal(e.ttl, 600); // Samba's REFERRAL_TTL
    assert.ok(e.ttlLeft > 590 && e.ttlLeft <= 600);
    assert.equal(e.hint, `\\${SMBTS_T}\\data`);
    // A second access is answered from the cache: no new referral.
    const n = c.dfs!.referrals;
    assert.equal((await c.readFile('tots/x.txt')).toString(), xdata);
    assert.equal(c.dfs!.referrals, n);
  });

  it('nested links: an smbts link to a Samba DFS root whose link goes to an smbts target', async () => {
    const c = await open(`smb://test:test@${ROOT}/dfs`);
    assert.equal((await c.readFile('nest/tots/x.txt')).toString(), xdata);
    const paths = c.dfsCache().map((e) => e.path.toLowerCase()).sort();
    assert.deepEqual(paths, [`\\${ROOT}\\dfs\\nest`, `\\${SAMBA_ROOT}\\dfs\\tots`]);
    assert.equal((await c.stat('nest/tots/x.txt')).size, xdata.length);
  });

  it('failover at connect: the first target is down, the second serves, the hint moves to it', async () => {
    const c = await open(`smb://test:test@${ROOT}/dfs`);
    assert.equal((await c.readFile('both/x.txt')).toString(), xdata);
    const e = c.dfsCache().find((x) => x.path.endsWith('\\both'))!;
    assert.deepEqual(e.targets, [`\\${DOWN}\\share`, `\\${SMBTS_T}\\data`]);
    assert.equal(e.hint, `\\${SMBTS_T}\\data`);
    // The next open goes straight to the hint (no connect attempt to the dead one: fast).
    const t0 = Date.now();
    assert.equal((await c.stat('both/x.txt')).size, xdata.length);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('expired entries are refreshed before they expire (msdfs ttl = 2)', async () => {
    const c = await open(`smb://test:test@${ROOT}/short`);
    assert.equal((await c.readFile('tots/x.txt')).toString(), xdata);
    const n = c.dfs!.referrals;
    await new Promise((r) => setTimeout(r, 3000));
    const e = c.dfsCache().find((x) => x.path.endsWith('\\tots'))!;
    assert.ok(c.dfs!.referrals > n, 'refresher asked again');
    assert.ok(e.ttlLeft > 0, `entry live after 1.5 TTLs (ttlLeft ${e.ttlLeft})`);
  });

  it('`smbts dfs URL` resolves the path and prints entries, TTL left, targets and the hint', async () => {
    const r = await run(process.execPath, [join(repoRoot(), 'bin', 'smbts.js'), 'dfs', `smb://test@${ROOT}/dfs/both/x.txt`], {
      env: { ...process.env, SMBTS_PASSWORD: 'test' }, timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /resolved: ok/);
    const lines = r.stdout.split('\n');
    const entry = lines.find((l) => l.startsWith(`\\${ROOT}\\dfs\\both  type=link ttl=600s left=`));
    assert.ok(entry && entry.endsWith(`server=${ROOT}`), r.stdout);
    assert.ok(lines.includes(`  * \\${SMBTS_T}\\data  (hint)`), r.stdout);
    assert.ok(lines.includes(`    \\${DOWN}\\share`), r.stdout);
  });

  it('a link loop ends in a clear error', async () => {
    const c = await open(`smb://test:test@${ROOT}/dfs`);
    const t0 = Date.now();
    await assert.rejects(c.stat('loop/x'), (e: SmbError) => e.status === Status.PATH_NOT_COVERED && /loop/.test(e.message));
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('the connected target is blackholed mid-transfer: the request times out, the download completes on the other target', async () => {
    const hole = await relay(HOLE, REPLICA);
    try {
      const c = await connect(`smb://test:test@${ROOT}/dfs`, { timeoutMs: 1500, dfs: { refreshTickMs: 0 } });
      clients.push(c);
      assert.equal((await c.stat('held/big.bin')).size, big.length);
      assert.equal(c.dfsCache().find((x) => x.path.endsWith('\\held'))!.hint, `\\${HOLE}\\share`);
      const out = join(tmp, 'held.out');
      let got = 0;
      let dropped = false;
      const n = await c.download('held/big.bin', out, {
        chunkSize: 1024 * 1024, depth: 2,
        onProgress: (k) => {
          got += k;
          if (!dropped && got >= 4 * 1024 * 1024) { dropped = true; hole.blackhole(); }
        },
      });
      assert.ok(dropped);
      assert.equal(n, big.length);
      assert.equal(sha(await readFile(out)), sha(big));
      assert.equal(c.dfsCache().find((x) => x.path.endsWith('\\held'))!.hint, `\\${SMBTS_T}\\data`);
    } finally {
      await hole.close();
    }
  });

  it('the connected target dies mid-transfer: the download completes on the replica, byte identical', async () => {
    const c = await open(`smb://test:test@${ROOT}/dfs`);
    assert.equal((await c.stat('repl/big.bin')).size, big.length);
    assert.equal(c.dfsCache().find((x) => x.path.endsWith('\\repl'))!.hint, `\\${REPLICA}\\share`);
    const out = join(tmp, 'big.out');
    let got = 0;
    let killed = false;
    const n = await c.download('repl/big.bin', out, {
      chunkSize: 1024 * 1024, depth: 2,
      onProgress: (k) => {
        got += k;
        if (!killed && got >= 4 * 1024 * 1024) { killed = true; void replica.kill(); }
      },
    });
    assert.ok(killed);
    assert.equal(n, big.length);
    assert.equal(sha(await readFile(out)), sha(big));
    assert.equal(c.dfsCache().find((x) => x.path.endsWith('\\repl'))!.hint, `\\${SMBTS_T}\\data`);
  });

  it('a read stream fails over too: its target is blackholed mid-stream, the stream ends byte identical', async () => {
    const hole = await relay(HOLE2, SMBTS_T);
    try {
      const c = await connect(`smb://test:test@${ROOT}/dfs`, { timeoutMs: 1500, dfs: { refreshTickMs: 0 } });
      clients.push(c);
      const parts: Buffer[] = [];
      let got = 0;
      let dropped = false;
      const s = c.createReadStream('held2/big.bin', { chunkSize: 1024 * 1024, depth: 2 });
      for await (const chunk of s) {
        parts.push(chunk as Buffer);
        got += (chunk as Buffer).length;
        if (!dropped && got >= 4 * 1024 * 1024) { dropped = true; hole.blackhole(); }
      }
      assert.ok(dropped);
      assert.equal(sha(Buffer.concat(parts)), sha(big));
      assert.equal(c.dfsCache().find((x) => x.path.endsWith('\\held2'))!.hint, `\\${SAMBA_T}\\share`);
    } finally {
      await hole.close();
    }
  });

  it('readFile fails over too: the smbts target dies mid-read, the (restarted) Samba replica finishes it', async () => {
    const c = await open(`smb://test:test@${ROOT}/dfs`);
    const again = await startSambaDfs(REPLICA, [{ name: 'share', files: { 'big.bin': big } }]);
    peers.push(again);
    const e0 = c.dfsCache().find((x) => x.path.endsWith('\\repl'));
    // A fresh client: the entry comes from a referral, hint = the first target (the replica). Move it.
    if (!e0) await c.stat('repl/big.bin');
    c.dfs!.cache.updateHint(c.dfs!.cache.findNoReq(`\\${ROOT}\\dfs\\repl`)!.entry, `\\${SMBTS_T}\\data`);
    let got = 0;
    let killed = false;
    const data = await c.readFile('repl/big.bin', {
      chunkSize: 1024 * 1024, depth: 2,
      onProgress: (k) => {
        got += k;
        if (!killed && got >= 4 * 1024 * 1024) { killed = true; void smbtsTarget.kill(); }
      },
    });
    assert.ok(killed);
    assert.equal(sha(data), sha(big));
    assert.equal(c.dfsCache().find((x) => x.path.endsWith('\\repl'))!.hint, `\\${REPLICA}\\share`);
  });
});
