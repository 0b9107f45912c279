// Server-side durable and persistent handles (server/durable.ts, handlers/create-durable.ts):
// a disconnected open keeps its share mode until its timeout, then the scavenger frees it; a
// conflicting open closes a disconnected caching holder on a plain share; reconnects with a wrong
// CreateGuid, a forged FileId, another user or after expiry get the spec's status and leave the
// open reclaimable by its owner; FSCTL_LMR_REQUEST_RESILIENCY keeps an open without a lease; `smbts status` lists disconnected opens; a persistent handle on a
// continuously available share survives kill -9 of the server process and a restart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSmbts, freePort, waitForPort, DEFAULT_USER, DEFAULT_PASS, type SmbtsHandle } from './peers.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import { readOpenStatus } from './durable-peers.js';
import { connect, type SmbClient } from '../../src/client/index.js';
import { openFile, FILE_OPTIONS, type FileHandle } from '../../src/client/file.js';
import { reopenRequest, HandleLostError } from '../../src/client/durable-open.js';
import { Access, Command, CreateDisposition, Fsctl, IoctlFlags, LockFlags } from '../../src/wire/constants.js';
import { encodeIoctlRequest } from '../../src/wire/ioctl.js';
import { encodeLockRequest } from '../../src/wire/lock.js';

const NOT_FOUND = 0xc0000034;
const ACCESS_DENIED = 0xc0000022;
const SHARING_VIOLATION = 0xc0000043;
const INVALID_PARAMETER = 0xc000000d;
const LOCK_NOT_GRANTED = 0xc0000055;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function conf(dir: string, extraGlobal: string[] = []): string {
  return [
    '[global]', '  durable v2 max timeout = 2', ...extraGlobal.map((l) => '  ' + l), '',
    '[share]', `  path = ${dir}`, '  read only = no', '',
    '[ca]', `  path = ${dir}`, '  read only = no', '  continuous availability = yes', '',
  ].join('\n');
}


describe('durable handles on the server (smbts)', { timeout: 120_000 }, () => {
  let srv: SmbtsHandle;
  let dir: string;
  let proxy: TcpProxy;
  let prevHome: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smbts-dh-'));
    // Persistent state of the [ca] share goes under this test's own SMBTS_HOME.
    prevHome = process.env.SMBTS_HOME;
    process.env.SMBTS_HOME = join(dir, '.home');
    srv = await startSmbts({ shareDir: dir, configText: conf(dir), users: [[DEFAULT_USER, DEFAULT_PASS], ['other', 'otherpw']] });
    proxy = await startProxy(srv.port);
  });
  after(async () => {
    await proxy?.close();
    await srv?.stop();
    if (prevHome === undefined) delete process.env.SMBTS_HOME;
    else process.env.SMBTS_HOME = prevHome;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const url = (share: string, user = DEFAULT_USER, port = srv.port): string => `smb://${user}@127.0.0.1:${port}/${share}`;
  /**
   * A client through the proxy and one of its durable handles (share mode none), cut off: the
   * client reconnects only when the handle is used again.
   */
  async function disconnectedHandle(share: 'share' | 'ca', name: string): Promise<{ h: FileHandle; c: SmbClient }> {
    const c = await connect(url(share, DEFAULT_USER, proxy.port), { password: DEFAULT_PASS, reconnect: { attempts: 3, initialDelayMs: 50 } });
    const h = await openFile(c.tree, name, { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.OVERWRITE_IF, options: FILE_OPTIONS, share: 0 }, true);
    assert.ok(h.durable, 'the server granted a durable handle');
    assert.equal(h.durable.persistent, share === 'ca');
    await h.write(Buffer.from('kept'), 0);
    proxy.cut();
    await sleep(100);
    return { h, c };
  }

  it('a persistent open keeps its share mode while disconnected, and the scavenger frees it at the timeout', async () => {
    const { c } = await disconnectedHandle('ca', 'held.bin');
    const b = await connect(url('ca'), { password: DEFAULT_PASS });
    try {
      assert.equal(await readOpenStatus(b, 'held.bin'), SHARING_VIOLATION);
      await sleep(2500); // durable v2 max timeout = 2 (s)
      assert.equal(await readOpenStatus(b, 'held.bin'), 0);
    } finally {
      await b.close();
      await c.close();
    }
  });

  it('on a plain share a conflicting open closes a disconnected holder whose lease it would break', async () => {
    const { h, c } = await disconnectedHandle('share', 'broken.bin');
    const b = await connect(url('share'), { password: DEFAULT_PASS });
    try {
      assert.equal(await readOpenStatus(b, 'broken.bin'), 0);
      // The owner comes back: the handle is gone, and it says so with a typed error.
      await assert.rejects(h.write(Buffer.from('x'), 0), (e: unknown) => e instanceof HandleLostError && e.status === NOT_FOUND);
    } finally {
      await b.close();
      await c.close();
    }
  });

  it('bad reconnects get the spec status and leave the open to its owner', async () => {
    const { h, c } = await disconnectedHandle('ca', 'bad.bin');
    const owner = await connect(url('ca'), { password: DEFAULT_PASS });
    const other = await connect(url('ca', 'other'), { password: 'otherpw' });
    try {
      const d = h.durable!;
      const st = async (cl: SmbClient, req: ReturnType<typeof reopenRequest>): Promise<number> =>
        (await cl.tree.request(req, { allow: [NOT_FOUND, ACCESS_DENIED] })).header.status;
      assert.equal(await st(owner, reopenRequest(h.path, h.fileId, { ...d, createGuid: randomBytes(16) })), NOT_FOUND, 'wrong CreateGuid');
      assert.equal(await st(owner, reopenRequest(h.path, { persistent: h.fileId.persistent + 1000n, volatile: 7n }, d)), NOT_FOUND, 'forged FileId');
      assert.equal(await st(other, reopenRequest(h.path, h.fileId, d)), ACCESS_DENIED, "another user's handle");
      // Nothing else changed: the owner takes it back (reconnect, DH2C) and goes on.
      await h.write(Buffer.from('more'), 4);
      assert.equal((await h.read(0, 8)).toString(), 'keptmore');
      assert.equal(c.reconnects, 1);
      await sleep(2500);
      assert.equal(await readOpenStatus(other, 'bad.bin'), SHARING_VIOLATION, 'a reclaimed open does not expire');
    } finally {
      await other.close();
      await owner.close();
      await c.close();
    }
  });

  it('FSCTL_LMR_REQUEST_RESILIENCY: a resilient open keeps its share mode for its timeout; too long a timeout is refused', async () => {
    const c = await connect(url('share', DEFAULT_USER, proxy.port), { password: DEFAULT_PASS, reconnect: { attempts: 0 } });
    const b = await connect(url('share'), { password: DEFAULT_PASS });
    try {
      const h = await openFile(c.tree, 'resilient.bin', { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.OVERWRITE_IF, options: FILE_OPTIONS, share: 0 });
      assert.equal(h.durable, undefined);
      const fsctl = (timeoutMs: number) => ({
        command: Command.IOCTL,
        body: encodeIoctlRequest({ ctlCode: Fsctl.LMR_REQUEST_RESILIENCY, fileId: h.fileId, input: Buffer.from(new Uint32Array([timeoutMs, 0]).buffer), maxInputResponse: 0, maxOutputResponse: 0, flags: IoctlFlags.IS_FSCTL }),
      });
      const tooLong = await c.tree.request(fsctl(3_600_000), { allow: [INVALID_PARAMETER] });
      assert.equal(tooLong.header.status, INVALID_PARAMETER);
      assert.equal((await c.tree.request(fsctl(1500))).header.status, 0);
      proxy.cut();
      await sleep(100);
      assert.equal(await readOpenStatus(b, 'resilient.bin'), SHARING_VIOLATION, 'kept while disconnected');
      await sleep(2000);
      assert.equal(await readOpenStatus(b, 'resilient.bin'), 0, 'scavenged after its timeout');
    } finally {
      await b.close();
      await c.close();
    }
  });

  it('an expired handle cannot be reclaimed', async () => {
    const { h, c } = await disconnectedHandle('ca', 'expired.bin');
    const owner = await connect(url('ca'), { password: DEFAULT_PASS });
    try {
      await sleep(2500);
      const r = await owner.tree.request(reopenRequest(h.path, h.fileId, h.durable!), { allow: [NOT_FOUND] });
      assert.equal(r.header.status, NOT_FOUND);
      await assert.rejects(h.read(0, 4), (e: unknown) => e instanceof HandleLostError && e.status === NOT_FOUND);
      assert.equal((await readFile(join(dir, 'expired.bin'))).toString(), 'kept');
    } finally {
      await owner.close();
      await c.close();
    }
  });
});

// ------------------------------------------------------------------------------------------------
// kill -9 of a real server process and a restart (bin/smbts.js serve), CA share.

const BIN = resolve(new URL('.', import.meta.url).pathname, '../../../bin/smbts.js');

describe('persistent handles across kill -9 and restart', { timeout: 120_000 }, () => {
  let base: string;
  let share: string;
  let home: string;
  let port: number;
  let child: ChildProcess | undefined;
  const PASS = 'k9-secret-pw';

  async function serve(): Promise<void> {
    child = spawn(process.execPath, [BIN, 'serve', '--config', join(base, 'smb.conf'), '--port', String(port), '--host', '127.0.0.1', '--quiet'], {
      env: { ...process.env, SMBTS_HOME: home, SMBTS_PASSWORD: PASS }, stdio: 'ignore',
    });
    await waitForPort(port, 15_000);
  }

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'smbts-k9-'));
    share = join(base, 'share');
    home = join(base, 'home');
    await mkdir(share);
    port = await freePort();
    await writeFile(join(base, 'smb.conf'), conf(share, ['durable v2 max timeout = 60']));
    await serve();
  });
  after(async () => {
    child?.kill('SIGKILL');
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('an upload continues across kill -9 + restart, byte-identical; a restored open keeps its lock; smbts status lists it', async () => {
    const data = randomBytes(32 * 1024 * 1024);
    await writeFile(join(base, 'src.bin'), data);
    const c = await connect(`smb://smbts@127.0.0.1:${port}/ca`, { password: PASS, reconnect: { attempts: 10, initialDelayMs: 100, maxDelayMs: 1000 } });
    // A second client that never comes back: its persistent open is restored and waits.
    const idle = await connect(`smb://smbts@127.0.0.1:${port}/ca`, { password: PASS, reconnect: { attempts: 0 } });
    const ih = await idle.open('idle.bin', 'w');
    assert.ok(ih.durable?.persistent);
    // Its byte-range lock is on disk before the LOCK answer, and comes back with the open.
    const lock = (fileId: FileHandle['fileId']) => ({
      command: Command.LOCK,
      body: encodeLockRequest({ lockSequenceNumber: 0, lockSequenceIndex: 0, fileId, locks: [{ offset: 0n, length: 10n, flags: LockFlags.EXCLUSIVE | LockFlags.FAIL_IMMEDIATELY }] }),
    });
    assert.equal((await idle.tree.request(lock(ih.fileId))).header.status, 0);
    let statusText = '';
    try {
      let seen = 0;
      let restarting: Promise<void> | undefined;
      const n = await c.upload(join(base, 'src.bin'), 'big.bin', {
        onProgress: (k) => {
          seen += k;
          if (!restarting && seen >= 8 * 1024 * 1024) {
            restarting = (async () => {
              child!.kill('SIGKILL');
              await new Promise((r) => child!.once('exit', r));
              await serve();
              // Before the client is back: the restored open is listed, with its remaining time.
              statusText = await new Promise<string>((res) => execFile(process.execPath, [BIN, 'status', '--json'], { env: { ...process.env, SMBTS_HOME: home } }, (_e, out) => res(out)));
            })();
          }
        },
      });
      await restarting;
      assert.equal(n, data.length);
      // The restored open still holds its lock against everyone else.
      const other = await c.open('idle.bin', 'r');
      const r = await c.tree.request(lock(other.fileId), { allow: [LOCK_NOT_GRANTED] });
      assert.equal(r.header.status, LOCK_NOT_GRANTED, 'the restored lock conflicts');
      await other.close();
      assert.ok(c.reconnects >= 1, 'the client reconnected');
      assert.equal(sha(await readFile(join(share, 'big.bin'))), sha(data));
    } finally {
      await c.close();
      await idle.close();
    }
    type Status = { disconnectedOpens?: Array<{ path: string; kind: string; remainingSeconds: number; locks: number }> };
    const parsed = JSON.parse(statusText) as Status | Status[];
    const st = Array.isArray(parsed) ? parsed[0]! : parsed; // one entry per running server
    const d = st.disconnectedOpens?.find((o) => o.path === 'idle.bin');
    assert.ok(d, `status lists the open: ${statusText.slice(0, 500)}`);
    assert.equal(d.kind, 'persistent');
    assert.ok(d.remainingSeconds > 0 && d.remainingSeconds <= 60, String(d.remainingSeconds));
    assert.equal(d.locks, 1);
  });
});
