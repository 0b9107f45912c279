import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickTargets, rankInterfaces, keyId } from './multichannel.js';
import { Session, Channel } from './session.js';
import type { Connection } from './connection.js';
import type { NegotiateResult } from './negotiate.js';
import type { NetworkInterfaceInfo } from '../wire/fsctl.js';

const nic = (address: string, gbit: number, capability = 0): NetworkInterfaceInfo =>
  ({ ifIndex: 1, capability, linkSpeed: BigInt(gbit) * 1_000_000_000n, family: 'ipv4', address });

test('interfaces rank by speed, then RDMA, then RSS', () => {
  const r = rankInterfaces([nic('a', 1), nic('b', 10), nic('c', 10, 1), nic('d', 10, 2), nic('e', 1, 1)]);
  assert.deepEqual(r.map((i) => i.address), ['d', 'c', 'b', 'e', 'a']);
});

test('targets: every other interface once, then RSS interfaces again', () => {
  const ranked = rankInterfaces([nic('10.0.0.1', 1, 1), nic('10.0.0.2', 1, 1), nic('10.0.0.3', 1)]);
  assert.deepEqual(pickTargets(ranked, '10.0.0.1', 1).map((i) => i.address), ['10.0.0.2']);
  assert.deepEqual(pickTargets(ranked, '10.0.0.1', 2).map((i) => i.address), ['10.0.0.2', '10.0.0.3']);
  assert.deepEqual(pickTargets(ranked, '10.0.0.1', 4).map((i) => i.address), ['10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2']);
  assert.deepEqual(pickTargets([nic('x', 1)], 'x', 3), []);
  assert.deepEqual(pickTargets(ranked, '10.0.0.1', 0), []);
});

test('channel selection: round-robin, weighted by link speed, skipping dead channels', () => {
  const s = new Session(0x0311);
  const mk = (): Channel => new Channel(s, { closed: false, channels: new Map() } as unknown as Connection, {} as NegotiateResult);
  const [a, b, c] = [mk(), mk(), mk()];
  s.channels.push(a, b, c);
  const count = (n: number): Map<Channel, number> => {
    const m = new Map<Channel, number>();
    for (let i = 0; i < n; i++) {
      const ch = s.channel();
      m.set(ch, (m.get(ch) ?? 0) + 1);
    }
    return m;
  };
  let m = count(300);
  assert.deepEqual([m.get(a), m.get(b), m.get(c)], [100, 100, 100]);
  s.setWeights((ch) => (ch === a ? 10_000 : 1_000));
  m = count(120);
  assert.deepEqual([m.get(a), m.get(b), m.get(c)], [100, 10, 10]);
  (b.connection as unknown as { closed: boolean }).closed = true;
  m = count(110);
  assert.equal(m.get(b), undefined);
  assert.deepEqual([m.get(a), m.get(c)], [100, 10]);
});

test('key ids are short hashes, never the key', () => {
  const k = Buffer.alloc(16, 7);
  assert.equal(keyId(k).length, 8);
  assert.ok(!k.toString('hex').includes(keyId(k)));
  assert.equal(keyId(undefined), '-');
});
