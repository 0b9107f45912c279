import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enterChannelSequence, channelSequenceOf } from './replay.js';
import { handleUsed, HANDLE_USED } from './channel-sequence.js';
import type { Open, RequestContext } from './types.js';
import { HeaderFlags } from '../wire/constants.js';
import { Status } from '../wire/status.js';

function ctx(seq: number, replay = false, dialect = 0x0311): RequestContext {
  return { conn: { dialect }, header: { status: seq, flags: replay ? HeaderFlags.REPLAY_OPERATION : 0 } } as unknown as RequestContext;
}
const open = (): Open => ({ extra: new Map() }) as unknown as Open;

test('channel sequence: same epoch counts, newer epoch moves outstanding to pre, older fails', () => {
  const o = open();
  const a = enterChannelSequence(ctx(0), o);
  const b = enterChannelSequence(ctx(0), o);
  assert.ok('release' in a && 'release' in b);
  assert.deepEqual(channelSequenceOf(o), { seq: 0, outstanding: 2, pre: 0 });
  // Failover: the client replays on another channel with ChannelSequence 1 while both still run.
  const r = enterChannelSequence(ctx(1, true), o);
  assert.deepEqual(r, { status: Status.FILE_NOT_AVAILABLE });
  assert.deepEqual(channelSequenceOf(o), { seq: 1, outstanding: 0, pre: 2 });
  a.release();
  b.release();
  assert.deepEqual(channelSequenceOf(o), { seq: 1, outstanding: 0, pre: 0 });
  const r2 = enterChannelSequence(ctx(1, true), o);
  assert.ok('release' in r2);
  r2.release();
  // An older epoch is refused (3.3.5.2.10).
  assert.deepEqual(enterChannelSequence(ctx(0), o), { status: Status.FILE_NOT_AVAILABLE });
  // Wrap-around: 0xffff -> 0 is newer.
  const o2 = open();
  for (const seq of [0x4000, 0x8000, 0xc000, 0xffff, 0]) assert.ok('release' in enterChannelSequence(ctx(seq), o2));
  assert.equal(channelSequenceOf(o2).seq, 0);
});

test('channel sequence: 2.x dialects are not checked', () => {
  const o = open();
  assert.ok('release' in enterChannelSequence(ctx(5, true, 0x0210), o));
  assert.ok('release' in enterChannelSequence(ctx(0, true, 0x0210), o));
});

test('channel sequence: any request on the open starts a newer epoch; a stale modifying one is then refused (smb2.replay.replay4)', () => {
  const o = open();
  const w = enterChannelSequence(ctx(0), o);
  assert.ok('release' in w);
  // A READ (non-modifying) with ChannelSequence 1: the epoch moves on, the running WRITE becomes "pre".
  handleUsed(ctx(1), o);
  assert.deepEqual(channelSequenceOf(o), { seq: 1, outstanding: 0, pre: 1 });
  assert.equal(o.extra.get(HANDLE_USED), true);
  // A stale non-modifying request changes nothing; a stale WRITE is refused.
  handleUsed(ctx(0), o);
  assert.equal(channelSequenceOf(o).seq, 1);
  assert.deepEqual(enterChannelSequence(ctx(0), o), { status: Status.FILE_NOT_AVAILABLE });
  // A replay does not open an epoch while an older request still runs.
  handleUsed(ctx(2, true), o);
  assert.equal(channelSequenceOf(o).seq, 1);
  w.release();
  handleUsed(ctx(2, true), o);
  assert.deepEqual(channelSequenceOf(o), { seq: 2, outstanding: 0, pre: 0 });
});
