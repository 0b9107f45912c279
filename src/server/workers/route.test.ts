import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guidHash, negotiateClientGuid, workerForGuid } from './route.js';

/** An SMB2 NEGOTIATE request (MS-SMB2 2.2.3) with one dialect and this ClientGuid. */
function negotiate(guid: Buffer): Buffer {
  const m = Buffer.alloc(64 + 36 + 2);
  m.writeUInt32BE(0xfe534d42, 0);
  m.writeUInt16LE(64, 4);
  m.writeUInt16LE(0, 12); // NEGOTIATE
  m.writeUInt16LE(36, 64); // StructureSize
  m.writeUInt16LE(1, 66); // DialectCount
  guid.copy(m, 64 + 12);
  m.writeUInt16LE(0x0311, 100);
  return m;
}

test('negotiateClientGuid reads the ClientGuid of an SMB2 NEGOTIATE, nothing else', () => {
  const g = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  assert.deepEqual(negotiateClientGuid(negotiate(g)), g);
  const setup = negotiate(g);
  setup.writeUInt16LE(1, 12); // SESSION_SETUP
  assert.equal(negotiateClientGuid(setup), undefined);
  assert.equal(negotiateClientGuid(negotiate(g).subarray(0, 80)), undefined, 'truncated');
  const smb1 = Buffer.alloc(120);
  smb1.write('\xffSMB', 0, 'latin1');
  smb1[4] = 0x72;
  assert.equal(negotiateClientGuid(smb1), undefined, 'SMB1 has no ClientGuid: round-robin');
});

test('workerForGuid is stable and spreads GUIDs over workers', () => {
  const g = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
  assert.equal(guidHash(g), guidHash(Buffer.from(g)));
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const x = Buffer.alloc(16);
    x.writeUInt32LE(i * 2654435761 >>> 0, 0);
    x.writeUInt32LE(i, 8);
    counts[workerForGuid(x, 4)]!++;
  }
  for (const c of counts) assert.ok(c > 800 && c < 1200, `balanced: ${counts.join(',')}`);
});
