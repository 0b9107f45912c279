// The DFS client facing hostile referrals: a man in the middle in front of a real smbts DFS root
// rewrites the FSCTL_DFS_GET_REFERRALS answer (truncated, offsets out of range, 10,000 targets, a
// referral back to itself, PathConsumed beyond the path). Every case ends in a clear SmbError
// quickly: no hang, no crash, nothing cached.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FrameReader, frameHeader } from '../../src/transport/framing.js';
import { decodeHeader } from '../../src/wire/header.js';
import { decodeIoctlResponse, encodeIoctlResponse } from '../../src/wire/ioctl.js';
import { encodeDfsReferralResponse, type DfsReferralResponse } from '../../src/wire/dfs.js';
import { Command, Fsctl } from '../../src/wire/constants.js';
import { connect, SmbError, type SmbClient } from '../../src/client/index.js';
import { startSmbtsDfs, type DfsPeer } from './dfs-peers.js';

const HOST = '127.0.0.1';

/** Forwards to `upstream`; the output of each DFS referral answer goes through `edit`. */
async function referralMitm(upstream: number, edit: (out: Buffer) => Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((client) => {
    socks.add(client);
    const up = net.connect({ host: HOST, port: upstream });
    socks.add(up);
    for (const s of [client, up]) s.on('error', () => { client.destroy(); up.destroy(); });
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.on('data', (b: Buffer) => up.write(b));
    const fr = new FrameReader();
    up.on('data', (b: Buffer) => {
      for (let f of fr.push(b)) {
        const h = decodeHeader(f);
        if (h.command === Command.IOCTL && h.status === 0) {
          const r = decodeIoctlResponse(f);
          if (r.ctlCode === Fsctl.DFS_GET_REFERRALS) f = Buffer.concat([f.subarray(0, 64), encodeIoctlResponse({ ...r, output: edit(r.output) })]);
        }
        client.write(Buffer.concat([frameHeader(f.length), f]));
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, HOST, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
}

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`no result within ${ms} ms (hang)`)), ms); });
  try { return await Promise.race([p, guard]); } finally { clearTimeout(t); }
}

const referral = (targets: string[], pathConsumed: number, version: 1 | 4 = 4): Buffer => encodeDfsReferralResponse({
  pathConsumed, referralHeaderFlags: 2,
  referrals: targets.map((t) => ({ version, serverType: 0, referralEntryFlags: 0, timeToLive: 600, dfsPath: '\\x', networkAddress: t })),
} satisfies DfsReferralResponse, version);

describe('DFS client against hostile referrals', { timeout: 60_000 }, () => {
  let root: DfsPeer & { port: number };
  before(async () => {
    root = await startSmbtsDfs(HOST, [{ name: 'dfs', options: ['msdfs root = yes'], links: { link: 'msdfs:127.0.11.250\\share' } }], [], 0);
  });
  after(async () => { await root.stop(); });

  const linkPath = `\\${HOST}\\dfs\\link`;
  const cases: Array<[string, (out: Buffer) => Buffer, RegExp]> = [
    ['truncated', (o) => o.subarray(0, 20), /malformed response.*truncated|Size/],
    ['string offsets out of range', (o) => { const b = Buffer.from(o); b.writeUInt16LE(0xfff0, 8 + 16); return b; }, /offset out of range/],
    ['10,000 targets', () => referral(Array.from({ length: 10_000 }, (_, i) => `\\h${i}\\s`), linkPath.length * 2, 1), /10000 targets/],
    ['PathConsumed beyond the request path', () => referral(['\\127.0.11.250\\share'], 5000), /PathConsumed/],
    ['no usable target', () => referral(['', 'x'], linkPath.length * 2), /no usable target/],
    ['a referral back to the link itself (loop)', () => referral([linkPath], linkPath.length * 2), /path is on another DFS target|loop/],
  ];
  for (const [name, edit, re] of cases) {
    it(name, async () => {
      const m = await referralMitm(root.port, edit);
      let c: SmbClient | undefined;
      try {
        c = await connect(`smb://test:test@${HOST}:${m.port}/dfs`, { timeoutMs: 2000, dfs: { refreshTickMs: 0 } });
        const t0 = Date.now();
        await within(10_000, assert.rejects(c.stat('link/file'), (e: unknown) => {
          assert.ok(e instanceof SmbError, String(e));
          assert.match(e.message, re);
          return true;
        }));
        assert.ok(Date.now() - t0 < 8000);
        if (!/loop/.test(name)) assert.deepEqual(c.dfsCache(), [], 'nothing cached from a bad referral');
        // The connection is still good for everything else.
        assert.equal((await c.readdir('/')).includes('link'), true);
      } finally {
        await c?.close();
        await m.close();
      }
    });
  }
});
