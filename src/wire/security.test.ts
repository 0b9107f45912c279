import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import {
  sidToBuffer, sidFromBuffer, unixUserSid, encodeSecurityDescriptor, decodeSecurityDescriptor, encodeAcl, decodeAcl,
  AceType, AceFlags, SdControl, WellKnownSid, type SecurityDescriptor,
} from './security.js';
import { hex } from './testutil.js';

test('SIDs convert between string and binary', () => {
  assert.equal(sidToBuffer('S-1-1-0').toString('hex'), '010100000000000100000000');
  assert.equal(sidFromBuffer(hex('010100000000000100000000')), 'S-1-1-0');
  for (const s of ['S-1-5-21-1004336348-1177238915-682003330-512', 'S-1-5-32-544', unixUserSid(1000), 'S-1-0x123456789ABC-1', 'S-1-5']) {
    assert.equal(sidFromBuffer(sidToBuffer(s)), s);
  }
  assert.equal(sidFromBuffer(hex('0102000000000005 20000000 20020000')), 'S-1-5-32-544');
  assert.throws(() => sidToBuffer('S-2-1-0'), WireError);
  assert.throws(() => sidToBuffer('S-1-5-99999999999'), WireError);
  assert.throws(() => sidFromBuffer(hex('0105000000000005 20000000')), WireError);
});

test('security descriptor round-trips and a hand-built vector decodes', () => {
  const sd: SecurityDescriptor = {
    control: SdControl.DACL_PROTECTED,
    owner: 'S-1-5-21-1-2-3-1000', group: 'S-1-22-2-100',
    dacl: { revision: 2, aces: [
      { type: AceType.ACCESS_ALLOWED, flags: AceFlags.OBJECT_INHERIT | AceFlags.CONTAINER_INHERIT, mask: 0x1f01ff, sid: WellKnownSid.EVERYONE },
      { type: AceType.ACCESS_DENIED, flags: 0, mask: 0x2, sid: 'S-1-5-7' },
      { type: 0x05, flags: 0, raw: Buffer.alloc(8, 1) },
    ] },
  };
  const b = encodeSecurityDescriptor(sd);
  const d = decodeSecurityDescriptor(b);
  assert.equal(d.owner, sd.owner);
  assert.equal(d.group, sd.group);
  assert.deepEqual(d.dacl, sd.dacl);
  assert.equal(d.sacl, undefined);
  assert.equal(d.control, SdControl.DACL_PROTECTED | SdControl.SELF_RELATIVE | SdControl.DACL_PRESENT);
  // Self-relative SD: owner S-1-1-0 at 0x14, NULL DACL (present, offset 0).
  const v = hex('01 00 0480 14000000 00000000 00000000 00000000', '010100000000000100000000');
  const n = decodeSecurityDescriptor(v);
  assert.equal(n.owner, 'S-1-1-0');
  assert.equal(n.dacl, null);
  assert.equal(n.group, undefined);
  // ACL with one ACCESS_ALLOWED ACE: Everyone full control.
  const acl = hex('02 00 1c00 0100 0000', '00 03 1400 ff011f00 010100000000000100000000');
  assert.deepEqual(decodeAcl(acl), { revision: 2, aces: [{ type: 0, flags: 3, mask: 0x1f01ff, sid: 'S-1-1-0' }] });
  assert.deepEqual(encodeAcl(decodeAcl(acl)), acl);
  const badOff = Buffer.from(v); badOff.writeUInt32LE(0x100, 4);
  assert.throws(() => decodeSecurityDescriptor(badOff), WireError);
  const badAce = Buffer.from(acl); badAce.writeUInt16LE(0x40, 10);
  assert.throws(() => decodeAcl(badAce), WireError);
  assert.throws(() => decodeSecurityDescriptor(v.subarray(0, 10)), WireError);
});
