// Lease table rules (leases.ts) without a network: grants, upgrades, breaks and acknowledgements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Open, ServerState, ShareTree, SessionView } from './types.js';
import { grantLease, breakLeasesForCreate, acknowledgeLease, breakReadLeases, leaseKeyClash, leaseStateOf, oplockBesideLeases, setLeaseBreakTimeout } from './leases.js';
import { newNode, stateOf, type FileNode } from './open-file.js';
import { decodeLease, type Lease as LeaseCtx } from '../wire/create-contexts.js';
import { decodeLeaseBreakNotification } from '../wire/oplock-break.js';
import { OplockLevel } from '../wire/constants.js';
import { Status } from '../wire/status.js';

const R = 1, H = 2, W = 4;

function fakeServer(): { server: ServerState; sent: Buffer[] } {
  const sent: Buffer[] = [];
  const server = {
    notifier: { sendUnsolicited: (_s: bigint, _c: number, body: Buffer) => { sent.push(body); } },
  } as unknown as ServerState;
  return { server, sent };
}
const tree = { share: { name: 'share' } } as unknown as ShareTree;
const session = { id: 1n } as unknown as SessionView;
let nextId = 1n;
function fakeOpen(node: FileNode, path = 'a.txt', access = 0x12019f): Open {
  const open = {
    fileId: { persistent: nextId, volatile: nextId++ }, tree, session, path, isDirectory: false, handle: undefined,
    pipe: undefined, grantedAccess: access, shareAccess: 7, createOptions: 0, oplockLevel: 0, deleteOnClose: false,
    dirCursor: undefined, extra: new Map(),
  } as Open;
  stateOf(open).node = node;
  return open;
}
const guid = Buffer.alloc(16, 0xaa);
function key(n: number): Buffer {
  return Buffer.alloc(16, n);
}
function req(k: number, state: number, v2 = false): LeaseCtx {
  return v2
    ? { version: 2, leaseKey: key(k), leaseState: state, leaseFlags: 0, leaseDuration: 0n, parentLeaseKey: Buffer.alloc(16), epoch: 5 }
    : { version: 1, leaseKey: key(k), leaseState: state, leaseFlags: 0, leaseDuration: 0n };
}
function notification(b: Buffer) {
  return decodeLeaseBreakNotification(Buffer.concat([Buffer.alloc(64), b]));
}

test('leases: invalid requests grant nothing, valid ones are granted alone', () => {
  const { server } = fakeServer();
  for (const [ask, got] of [[H, 0], [W, 0], [H | W, 0], [R, R], [R | H, R | H], [R | W, R | W], [R | H | W, R | H | W]] as const) {
    const node = newNode();
    const o = fakeOpen(node, `f${ask}`);
    const ctx = grantLease(server, o, guid, req(1 + ask, ask), [], node);
    assert.equal(decodeLease(ctx.data).leaseState, got);
    assert.equal(o.oplockLevel, OplockLevel.LEASE);
  }
});

test('leases: a second key strips W from the holder (break, ack) and is granted without W', () => {
  const { server, sent } = fakeServer();
  const node = newNode();
  const a = fakeOpen(node);
  grantLease(server, a, guid, req(1, R | H | W), [], node);
  const wait = breakLeasesForCreate(server, [a], guid, req(2, R | H | W), { statOnly: false, sharingConflict: false, truncating: false });
  assert.equal(wait.length, 1);
  const n = notification(sent[0]!);
  assert.equal(n.currentLeaseState, R | H | W);
  assert.equal(n.newLeaseState, R | H);
  assert.equal(n.flags & 1, 1);
  assert.equal(acknowledgeLease(server, guid, key(1), R | H | W).status, Status.REQUEST_NOT_ACCEPTED);
  assert.deepEqual(acknowledgeLease(server, guid, key(1), R | H), { status: 0, state: R | H });
  assert.equal(acknowledgeLease(server, guid, key(1), R | H).status, Status.UNSUCCESSFUL);
  const b = fakeOpen(node);
  const ctx = grantLease(server, b, guid, req(2, R | H | W), [a], node);
  assert.equal(decodeLease(ctx.data).leaseState, R | H);
  // No oplock beside a HANDLE lease.
  assert.equal(oplockBesideLeases(OplockLevel.BATCH, [a, b]), OplockLevel.NONE);
});

test('leases: upgrades only to a holdable strict superset; the same key on another file is refused', () => {
  const { server } = fakeServer();
  const node = newNode();
  const a = fakeOpen(node);
  grantLease(server, a, guid, req(1, R), [], node);
  const b = fakeOpen(node);
  grantLease(server, b, guid, req(2, R), [a], node);
  const a2 = fakeOpen(node);
  assert.equal(decodeLease(grantLease(server, a2, guid, req(1, R | H | W), [a, b], node).data).leaseState, R);
  const a3 = fakeOpen(node);
  assert.equal(decodeLease(grantLease(server, a3, guid, req(1, R | H), [a, b, a2], node).data).leaseState, R | H);
  assert.equal(leaseKeyClash(server, guid, req(1, R), 'share', 'other.txt'), true);
  assert.equal(leaseKeyClash(server, guid, req(1, R), 'SHARE', 'A.TXT'), false);
});

test('leases: v2 epoch moves on grant and break; writes break other READ leases to none without an ack', () => {
  const { server, sent } = fakeServer();
  const node = newNode();
  const a = fakeOpen(node);
  const ctx = decodeLease(grantLease(server, a, guid, req(1, R, true), [], node).data);
  assert.equal(ctx.epoch, 6);
  const b = fakeOpen(node);
  grantLease(server, b, guid, req(2, R), [a], node);
  breakReadLeases(server, [a, b], b);
  assert.equal(sent.length, 1);
  const n = notification(sent[0]!);
  assert.equal(n.newEpoch, 7);
  assert.equal(n.flags, 0);
  assert.equal(leaseStateOf(a), 0);
  assert.equal(leaseStateOf(b), R);
});

test('leases: an unacknowledged break drops the lease to none after the timeout', async () => {
  setLeaseBreakTimeout(20);
  try {
    const { server } = fakeServer();
    const node = newNode();
    const a = fakeOpen(node);
    grantLease(server, a, guid, req(9, R | W), [], node);
    breakLeasesForCreate(server, [a], guid, undefined, { statOnly: false, sharingConflict: false, truncating: false });
    assert.equal(leaseStateOf(a), R | W);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(leaseStateOf(a), 0);
  } finally {
    setLeaseBreakTimeout(35_000);
  }
});
