// Unit tests for the file-handler state modules (share modes, byte-range locks, 8.3 names, SDs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shareConflict, resolveAccess, mapGeneric, FILE_ALL_ACCESS } from './share-modes.js';
import { overlaps, tryLock, unlock, ioAllowed, validRange } from './locks.js';
import { newNode, attachState } from './open-file.js';
import { shortName } from './files/short-names.js';
import { buildSecurityDescriptor, encodeSid } from './security.js';
import type { Open } from './types.js';

function fakeOpen(): Open {
  return { extra: new Map() } as unknown as Open;
}

test('share modes: read/read shared, write vs no-share conflicts, stat opens never conflict', () => {
  assert.equal(shareConflict({ grantedAccess: 0x1, shareAccess: 0x1 }, 0x1, 0x1), false);
  assert.equal(shareConflict({ grantedAccess: 0x1, shareAccess: 0x1 }, 0x2, 0x7), true);
  assert.equal(shareConflict({ grantedAccess: 0x2, shareAccess: 0x0 }, 0x80, 0x0), false);
  assert.equal(shareConflict({ grantedAccess: 0x10000, shareAccess: 0x3 }, 0x1, 0x3), true);
});

test('access: generic mapping, MAXIMUM_ALLOWED, reserved bits', () => {
  assert.equal(mapGeneric(0x10000000), FILE_ALL_ACCESS);
  assert.equal(resolveAccess({ desired: 0x02000000, maximal: FILE_ALL_ACCESS }).granted, FILE_ALL_ACCESS);
  assert.equal(resolveAccess({ desired: 0x00000200, maximal: FILE_ALL_ACCESS }).status, 0xc0000022);
  assert.equal(resolveAccess({ desired: 0x01000000, maximal: FILE_ALL_ACCESS }).status, 0xc0000061);
  assert.equal(resolveAccess({ desired: 0x2, maximal: 0x001200a9 }).status, 0xc0000022);
});

test('byte-range locks: conflicts, stacking, unlock, I/O checks', () => {
  const node = newNode();
  const a = fakeOpen();
  const b = fakeOpen();
  attachState(a, node);
  attachState(b, node);
  assert.equal(overlaps(10n, 0n, 0n, 20n), true);
  assert.equal(overlaps(10n, 0n, 10n, 0n), false);
  assert.equal(tryLock(node, a, 0n, 10n, true), 0);
  assert.equal(tryLock(node, b, 5n, 1n, false), 0xc0000055);
  assert.equal(tryLock(node, a, 0n, 10n, false), 0); // shared on own exclusive stacks
  assert.equal(ioAllowed(b, 0n, 1n, false), false);
  assert.equal(ioAllowed(a, 0n, 1n, false), true);
  assert.equal(ioAllowed(a, 0n, 1n, true), false); // own shared lock blocks own write
  assert.equal(unlock(node, a, 0n, 10n), 0);
  assert.equal(unlock(node, a, 0n, 10n), 0);
  assert.equal(unlock(node, a, 0n, 10n), 0xc000007e);
  assert.equal(validRange(0xffffffffffffffffn, 2n), false);
});

test('8.3 names: valid names kept, long names mangled stably', () => {
  assert.equal(shortName('abc.txt'), 'ABC.TXT');
  const m = shortName('torture_search.txt');
  assert.match(m, /^[A-Z0-9]{1,6}~1\.TXT$/);
  assert.equal(m, shortName('torture_search.txt'));
});

test('security descriptor: self-relative with owner, group and DACL', () => {
  assert.deepEqual(encodeSid('S-1-5-18'), Buffer.from('010100000000000512000000', 'hex'));
  const sd = buildSecurityDescriptor({ uid: 1000, gid: 1000, isDirectory: false, attributes: 0 }, 0x7);
  assert.equal(sd[0], 1);
  assert.equal(sd.readUInt16LE(2) & 0x8004, 0x8004);
  assert.ok(sd.readUInt32LE(4) >= 20 && sd.readUInt32LE(16) >= 20);
});
