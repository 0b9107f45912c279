// SMB3 multichannel end to end, in network namespaces this test creates (netns.ts): a server
// namespace and a client namespace joined by 4 veth links (10.251.1-4.0/30). The server (Samba smbd
// with multichannel, or `smbts serve`) reports the 4 addresses as interfaces; the smbts client
// (mc-client.ts, run in the client namespace) binds 2 and 4 channels, writes and reads back a file
// (1 GiB in CI or with SMBTS_BIG=1, else 256 MiB) and reports per-channel byte counts. A fault test cuts one link
// mid-transfer. smbtorture smb2.session.bind1/bind2 and smb2.multichannel run against smbts;
// known failures are listed with reasons in test/conformance/multichannel-reasons.ts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { haveTool, missingTools } from './peers.js';
import { Topology, netnsSkipReason } from './netns.js';
import { startDriver, startSambaNs, startSmbtsNs, smbtortureNs, type DriverResult, type NsServer } from './mc-peers.js';
import {
  MULTICHANNEL_MUST_PASS, MULTICHANNEL_MUST_PASS_IPTABLES, MULTICHANNEL_REASONS, MULTICHANNEL_SUITES, MULTICHANNEL_SUITES_CI,
  MULTICHANNEL_TORTURE_ARGS,
} from '../conformance/multichannel-reasons.js';

const MiB = 1024 * 1024;
// CI moves the issue's 1 GiB (about a minute here); SMBTS_MC_SMALL=1 for a quick 256 MiB run.
const SIZE = (process.env.SMBTS_BIG || process.env.CI) && !process.env.SMBTS_MC_SMALL ? 1024 * MiB : 256 * MiB;
const LINKS = 4;

function skipReason(): string | undefined {
  return netnsSkipReason() ?? missingTools(['smbd', 'smbpasswd', 'smbtorture']);
}

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function summary(r: DriverResult): string {
  const ch = r.channels.map((c) => `#${c.id} ${c.interface} ${c.state} sent ${(c.bytesSent / MiB).toFixed(1)} MiB recv ${(c.bytesReceived / MiB).toFixed(1)} MiB`);
  return `write ${r.writeMs} ms, read ${r.readMs} ms; channels: ${ch.join('; ')}${r.error ? `; error: ${r.error}` : ''}`;
}

async function transfer(topo: Topology, server: NsServer, maxChannels: number, file: string, extra: { channelTimeoutMs?: number; waitAllActiveMs?: number } = {}) {
  return startDriver(topo, {
    url: `smb://${server.user}@${topo.link(1).srvAddr}/share`,
    password: server.pass,
    maxChannels,
    size: SIZE,
    file,
    chunkSize: MiB,
    depth: 16,
    ...extra,
  });
}

/** Every channel carried a fair part of the data, in both directions. */
function assertEveryChannelUsed(r: DriverResult, n: number, label: string): void {
  assert.equal(r.channels.length, n, `${label}: ${n} channels expected: ${summary(r)}`);
  for (const c of r.channels) {
    assert.equal(c.state, 'active', `${label}: channel ${c.id} not active: ${summary(r)}`);
    // Round-robin over equal links: each channel gets ~1/n; demand at least a quarter of that.
    assert.ok(c.bytesSent >= SIZE / (4 * n), `${label}: channel ${c.id} sent only ${c.bytesSent} B: ${summary(r)}`);
    assert.ok(c.bytesReceived >= SIZE / (4 * n), `${label}: channel ${c.id} received only ${c.bytesReceived} B: ${summary(r)}`);
  }
}

const skip = skipReason();

describe('multichannel over veth links in network namespaces', { skip, timeout: 600_000 }, () => {
  let topo: Topology;

  before(async () => {
    topo = await Topology.create({ links: LINKS });
  });
  after(async () => {
    await topo?.destroy();
  });

  for (const kind of ['samba', 'smbts'] as const) {
    test(`${kind}: 2 and 4 channels carry a ${SIZE / MiB} MiB transfer on every channel, byte-identical`, { timeout: 240_000 }, async () => {
      const server = kind === 'samba' ? await startSambaNs(topo) : await startSmbtsNs(topo);
      try {
        for (const n of [2, 4]) {
          const file = `mc-${n}.bin`;
          const d = await transfer(topo, server, n, file);
          if (server.status && n === 4 && (await d.waitFor('write', SIZE / 4, 120_000))) {
            // The admin view: one session, 4 channels, each with its own signing key id (never the key).
            const st = await server.status();
            const s = st.sessions.find((x) => x.channels.length === 4);
            assert.ok(s, `smbts status shows no session with 4 channels: ${JSON.stringify(st)}`);
            assert.equal(new Set(s.channels.map((c) => c.signingKeyId)).size, 4, JSON.stringify(s.channels));
            assert.equal(new Set(s.channels.map((c) => c.localAddress.replace(/:\d+$/, ''))).size, 4, JSON.stringify(s.channels));
            for (const c of s.channels) assert.match(c.signingKeyId, /^[0-9a-f]{8}$/);
          }
          const r = await d.result;
          assert.ok(r.ok, `${kind} ${n} channels: ${summary(r)}`);
          assert.equal(r.readSha256, r.sha256);
          assertEveryChannelUsed(r, n, `${kind} ${n} channels`);
          assert.equal(await fileSha(join(server.shareDir, file)), r.sha256, 'file on the server differs');
          console.log(`# ${kind} ${n} channels: ${summary(r)}`);
        }
      } finally {
        await server.stop();
      }
    });
  }

  test('encrypted 3.1.1 and signed 3.0 sessions bind channels too (Samba and smbts)', { timeout: 180_000 }, async () => {
    for (const kind of ['samba', 'smbts'] as const) {
      const server = kind === 'samba' ? await startSambaNs(topo) : await startSmbtsNs(topo);
      try {
        for (const mode of [{ encrypt: true }, { sign: true, dialects: [0x0300] }]) {
          const d = startDriver(topo, {
            url: `smb://${server.user}@${topo.link(1).srvAddr}/share`, password: server.pass,
            maxChannels: 2, size: 32 * MiB, file: 'mc-mode.bin', chunkSize: MiB, depth: 8, ...mode,
          });
          const r = await d.result;
          const label = `${kind} ${JSON.stringify(mode)}`;
          assert.ok(r.ok, `${label}: ${summary(r)}`);
          assert.equal(r.channels.length, 2, `${label}: ${summary(r)}`);
          assert.notEqual(r.channels[0]!.signingKeyId, r.channels[1]!.signingKeyId, 'each channel has its own signing key');
          for (const c of r.channels) assert.ok(c.bytesSent > 4 * MiB && c.bytesReceived > 4 * MiB, `${label}: ${summary(r)}`);
        }
      } finally {
        await server.stop();
      }
    }
  });

  test('an interface that cannot be reached leaves fewer channels, never an error', { timeout: 120_000 }, async () => {
    // 10.251.99.1 exists nowhere (no route in the client namespace): ranked first (fastest), it fails to bind.
    const l = topo.links;
    const server = await startSmbtsNs(topo, {
      interfaces: `"${l[0]!.srvAddr};speed=1000000000,capability=RSS" "10.251.99.1;speed=10000000000,capability=RSS" "${l[1]!.srvAddr};speed=1000000000,capability=RSS"`,
    });
    try {
      const d = startDriver(topo, {
        url: `smb://${server.user}@${l[0]!.srvAddr}/share`, password: server.pass, maxChannels: 3, size: 32 * MiB, file: 'mc-unreach.bin', chunkSize: MiB, depth: 8,
      });
      const r = await d.result;
      assert.ok(r.ok, summary(r));
      const active = r.channels.filter((c) => c.state === 'active').map((c) => c.interface).sort();
      assert.deepEqual(active, [l[0]!.srvAddr, l[1]!.srvAddr], summary(r));
      const bad = r.channels.find((c) => c.interface === '10.251.99.1');
      assert.ok(bad && bad.state !== 'active', summary(r));
    } finally {
      await server.stop();
    }
  });

  test('fault: a link cut in the middle of a transfer; it completes byte-identical on the remaining channels', { timeout: 240_000 }, async () => {
    const server = await startSmbtsNs(topo);
    try {
      const d = await transfer(topo, server, 2, 'mc-fault.bin', { channelTimeoutMs: 2000, waitAllActiveMs: 30_000 });
      // Cut the link of the second channel once a third of the data is written.
      const reached = await d.waitFor('write', Math.floor(SIZE / 3), 120_000);
      assert.ok(reached, `transfer did not reach a third: ${d.proc.log().slice(-2000)}`);
      const second = d.connectedChannels()[1];
      const link = topo.links.find((l) => l.srvAddr === second?.interface);
      assert.ok(link, `no second channel on a test link: ${JSON.stringify(d.connectedChannels())}`);
      await topo.cut(link.index, 'down');
      // Once the write has finished on the remaining channel, mend the link: the client re-binds
      // the lost channel in the background while it reads the file back.
      const written = await d.waitFor('written', SIZE, 120_000);
      await topo.heal(link.index, 'down');
      const r = await d.result;
      assert.ok(written, `write did not finish after the cut: ${summary(r)}`);
      assert.ok(r.ok, `transfer failed after the cut: ${summary(r)}`);
      assert.equal(r.readSha256, r.sha256);
      assert.equal(await fileSha(join(server.shareDir, 'mc-fault.bin')), r.sha256, 'file on the server differs');
      // Right after the write (before the link is mended) the cut channel is down; it was lost once.
      const after = { ...r, channels: r.channelsAfterWrite ?? [] };
      const cut = after.channels.find((c) => c.interface === link.srvAddr);
      assert.ok(cut, `no channel on the cut link: ${summary(after)}`);
      assert.notEqual(cut.state, 'active', `the cut channel still reports active right after the write: ${summary(after)}`);
      assert.equal(r.channels.find((c) => c.interface === link.srvAddr)?.failures, 1, summary(r));
      // Re-established in the background once the link was back.
      assert.ok(r.allActiveAfterMs !== undefined, `the lost channel was not re-bound within 30 s: ${summary(r)}`);
      assert.ok(r.channels.every((c) => c.state === 'active'), summary(r));
      console.log(`# fault: right after the write: ${summary(after)}; at the end: ${summary(r)}; all active ${r.allActiveAfterMs} ms after the read`);
    } finally {
      await server.stop();
    }
  });

  test('smbtorture smb2.session.bind1/bind2 and smb2.multichannel against smbts', { timeout: 300_000 }, async () => {
    const server = await startSmbtsNs(topo);
    try {
      // smbtorture blocks a channel with iptables inside the client namespace when it can.
      const iptables = haveTool('iptables');
      const mustPass: string[] = [...MULTICHANNEL_MUST_PASS, ...(iptables ? MULTICHANNEL_MUST_PASS_IPTABLES : [])];
      const suites = process.env.SMBTS_MC_TORTURE_ALL ? MULTICHANNEL_SUITES : mustPass;
      const cases = await smbtortureNs(topo, server, suites, { timeoutMs: 240_000, extraArgs: iptables ? MULTICHANNEL_TORTURE_ARGS : [] });
      const lines = cases.map((c) => `${c.result} ${c.name}${c.message ? ` (${c.message.split('\n')[0]})` : ''}`);
      console.log('# ' + lines.join('\n# '));
      for (const name of mustPass) {
        const c = cases.find((x) => x.name === name);
        assert.ok(c, `${name} did not run:\n${lines.join('\n')}`);
        assert.equal(c.result, 'success', `${name}: ${c.message ?? ''}`);
      }
      const needsIptables = new Set<string>(iptables ? [] : MULTICHANNEL_MUST_PASS_IPTABLES);
      const unexplained = cases.filter((c) => c.result !== 'success' && c.result !== 'skip' && !MULTICHANNEL_REASONS[c.name] && !needsIptables.has(c.name));
      assert.deepEqual(unexplained.map((c) => `${c.name}: ${c.message ?? ''}`), [], 'failures without a reason in multichannel-reasons.ts');
      const fixed = cases.filter((c) => c.result === 'success' && MULTICHANNEL_REASONS[c.name]).map((c) => c.name);
      if (fixed.length) console.log(`# now passing, remove from multichannel-reasons.ts: ${fixed.join(', ')}`);
    } finally {
      await server.stop();
    }
  });
});
