import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantedBy, tokenOf, inheritAcl, mergeSd, selectSd, newObjectSd, accessLimit, checkAddChild, defaultSd } from './acl.js';
import { AceFlags, AceType, SdControl, WellKnownSid, decodeSecurityDescriptor, encodeSecurityDescriptor, type SecurityDescriptor } from '../wire/security.js';
import { SecurityInformation as SI } from '../wire/constants.js';
import { MemoryVfs } from '../vfs/memory.js';

const alice = tokenOf({ user: 'alice', guest: false, anonymous: false });
const bob = tokenOf({ user: 'bob', guest: false, anonymous: false });
const allow = (sid: string, mask: number, flags = 0) => ({ type: AceType.ACCESS_ALLOWED, flags, mask, sid });
const deny = (sid: string, mask: number, flags = 0) => ({ type: AceType.ACCESS_DENIED, flags, mask, sid });

test('token: stable per-user domain SIDs with the well-known groups', () => {
  assert.match(alice.user, /^S-1-5-21-\d+-\d+-\d+-\d+$/);
  assert.equal(alice.user, tokenOf({ user: 'ALICE', guest: false, anonymous: false }).user);
  assert.notEqual(alice.user, bob.user);
  for (const g of [WellKnownSid.EVERYONE, WellKnownSid.AUTHENTICATED_USERS, WellKnownSid.BUILTIN_USERS]) assert.ok(alice.sids.includes(g));
  assert.equal(tokenOf({ user: 'x', guest: true, anonymous: false }).user, WellKnownSid.BUILTIN_GUESTS);
});

test('access check: NULL DACL, empty DACL, owner rights, deny order, generic mapping', () => {
  assert.equal(grantedBy({ control: 0, owner: bob.user, dacl: null }, alice), 0x001f01ff);
  assert.equal(grantedBy({ control: 0, owner: bob.user, dacl: { revision: 2, aces: [] } }, alice), 0);
  assert.equal(grantedBy({ control: 0, owner: alice.user, dacl: { revision: 2, aces: [] } }, alice), 0x00060000); // READ_CONTROL|WRITE_DAC
  // OWNER RIGHTS replaces the implicit owner rights.
  assert.equal(grantedBy({ control: 0, owner: alice.user, dacl: { revision: 2, aces: [allow('S-1-3-4', 0x1)] } }, alice), 0x1);
  // A deny before an allow wins; after it, the allow already granted the bit.
  assert.equal(grantedBy({ control: 0, dacl: { revision: 2, aces: [deny(WellKnownSid.EVERYONE, 0x2), allow(alice.user, 0x3)] } }, alice), 0x1);
  assert.equal(grantedBy({ control: 0, dacl: { revision: 2, aces: [allow(alice.user, 0x3), deny(WellKnownSid.EVERYONE, 0x2)] } }, alice), 0x3);
  // Inherit-only ACEs do not apply; GENERIC_READ maps to FILE_GENERIC_READ; CREATOR OWNER matches nobody.
  assert.equal(grantedBy({ control: 0, dacl: { revision: 2, aces: [allow(alice.user, 0x1f01ff, AceFlags.INHERIT_ONLY | AceFlags.OBJECT_INHERIT), allow(WellKnownSid.CREATOR_OWNER, 0x2), allow(alice.user, 0x80000000)] } }, alice), 0x00120089);
});

test('inheritance: OI to files, CI to directories, NO_PROPAGATE, CREATOR OWNER replaced', () => {
  const parent = { revision: 2, aces: [
    allow(WellKnownSid.CREATOR_OWNER, 0x10000000, AceFlags.OBJECT_INHERIT | AceFlags.CONTAINER_INHERIT),
    allow(WellKnownSid.EVERYONE, 0x1, AceFlags.OBJECT_INHERIT),
    allow(WellKnownSid.BUILTIN_USERS, 0x20, AceFlags.CONTAINER_INHERIT | AceFlags.NO_PROPAGATE_INHERIT),
    allow(WellKnownSid.LOCAL_SYSTEM, 0x1f01ff),
  ] };
  const file = inheritAcl(parent, false, alice.user, alice.group)!;
  assert.deepEqual(file.aces, [
    allow(alice.user, 0x001f01ff, AceFlags.INHERITED),
    allow(WellKnownSid.EVERYONE, 0x1, AceFlags.INHERITED),
  ]);
  const dir = inheritAcl(parent, true, alice.user, alice.group)!;
  assert.deepEqual(dir.aces, [
    allow(alice.user, 0x001f01ff, AceFlags.INHERITED),
    allow(WellKnownSid.CREATOR_OWNER, 0x10000000, AceFlags.OBJECT_INHERIT | AceFlags.CONTAINER_INHERIT | AceFlags.INHERIT_ONLY | AceFlags.INHERITED),
    allow(WellKnownSid.EVERYONE, 0x1, AceFlags.OBJECT_INHERIT | AceFlags.INHERIT_ONLY | AceFlags.INHERITED),
    allow(WellKnownSid.BUILTIN_USERS, 0x20, AceFlags.INHERITED),
  ]);
  assert.equal(inheritAcl({ revision: 2, aces: [allow(WellKnownSid.EVERYONE, 1)] }, false, alice.user, alice.group), undefined);
});

test('SET_INFO merge and QUERY_INFO selection', () => {
  const base = defaultSd(alice, false);
  const nullDacl = mergeSd(base, { control: SdControl.SELF_RELATIVE }, SI.DACL); // DACL flag without DACL_PRESENT: NULL DACL
  assert.equal(nullDacl.dacl, null);
  assert.equal(nullDacl.owner, alice.user);
  const owned = mergeSd(base, { control: 0, owner: WellKnownSid.EVERYONE, group: WellKnownSid.BUILTIN_USERS }, SI.OWNER);
  assert.equal(owned.owner, WellKnownSid.EVERYONE);
  assert.equal(owned.group, alice.group);
  const q = decodeSecurityDescriptor(selectSd(nullDacl, SI.OWNER | SI.DACL));
  assert.equal(q.owner, alice.user);
  assert.equal(q.group, undefined);
  assert.equal(q.dacl, null);
  assert.ok(q.control & SdControl.DACL_PRESENT);
  assert.equal(decodeSecurityDescriptor(selectSd(base, SI.OWNER)).dacl, undefined);
});

test('SecD on a new object: merged over the inherited / default descriptor', () => {
  const empty = encodeSecurityDescriptor({ control: 0 });
  const sd = newObjectSd(empty, undefined, alice, false)!;
  assert.equal(sd.owner, alice.user);
  assert.ok(sd.dacl && sd.dacl.aces.length > 0);
  const parent: SecurityDescriptor = { control: 0, owner: bob.user, dacl: { revision: 2, aces: [allow(bob.user, 0x1f01ff, AceFlags.OBJECT_INHERIT)] } };
  const explicit = encodeSecurityDescriptor({ control: 0, dacl: { revision: 2, aces: [allow(alice.user, 0x1)] } });
  assert.deepEqual(newObjectSd(explicit, parent, alice, false)!.dacl!.aces, [allow(alice.user, 0x1), allow(bob.user, 0x1f01ff)]);
  const prot = encodeSecurityDescriptor({ control: SdControl.DACL_PROTECTED, dacl: { revision: 2, aces: [allow(alice.user, 0x1)] } });
  assert.deepEqual(newObjectSd(prot, parent, alice, false)!.dacl!.aces, [allow(alice.user, 0x1)]);
  assert.equal(newObjectSd(undefined, undefined, alice, false), undefined);
});

test('CREATE helpers on MemoryVfs: stored descriptors limit access; DELETE via the parent', async () => {
  const vfs = new MemoryVfs();
  const d = (await vfs.open('d', { create: 'create', directory: true, read: true, write: false })).handle;
  const f = (await vfs.open('d/f', { create: 'create', read: true, write: true })).handle;
  assert.equal(await accessLimit(vfs, 'd/f', alice), undefined);
  await f.setSecurity!(encodeSecurityDescriptor({ control: 0, owner: bob.user, dacl: { revision: 2, aces: [allow(alice.user, 0x1)] } }));
  assert.ok(await vfs.getSecurity!('d/f:stream')); // a stream path reports its file's
  assert.equal(await accessLimit(vfs, 'd/f', alice), 0x1 | 0x80 | 0x10000); // READ_ATTRIBUTES always; parent without ACL: DELETE
  await d.setSecurity!(encodeSecurityDescriptor({ control: 0, owner: bob.user, dacl: { revision: 2, aces: [allow(alice.user, 0x20)] } }));
  assert.equal(await accessLimit(vfs, 'd/f', alice), 0x1 | 0x80);
  assert.equal((await checkAddChild(vfs, 'd/g', false, alice)).ok, false);
  assert.equal((await checkAddChild(vfs, 'g', false, alice)).ok, true);
  await f.close();
  await d.close();
});

test('LocalVfs: the descriptor lives in the depot, survives an overwrite, goes with the file', async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { LocalVfs } = await import('../vfs/local.js');
  const root = await mkdtemp(join(tmpdir(), 'smbts-acl-'));
  try {
    const vfs = new LocalVfs(join(root, 'share'), { streamsDir: join(root, 'depot') });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(root, 'share'));
    const sd = encodeSecurityDescriptor({ control: 0, owner: alice.user, dacl: null });
    // A second instance on the same root (another share) that looked before the first descriptor.
    const other = new LocalVfs(join(root, 'share'), { streamsDir: join(root, 'depot') });
    let h = (await vfs.open('f', { create: 'create', read: true, write: true })).handle;
    assert.equal(await h.getSecurity!(), undefined);
    assert.equal(await other.getSecurity('f'), undefined);
    await h.setSecurity!(sd);
    assert.deepEqual(await other.getSecurity('f'), sd);
    await h.close();
    assert.deepEqual(await vfs.getSecurity('f'), sd);
    h = (await vfs.open('f', { create: 'overwrite', read: true, write: true })).handle;
    assert.deepEqual(await h.getSecurity!(), sd);
    await h.close();
    // A fresh instance finds it again (persisted).
    assert.deepEqual(await new LocalVfs(join(root, 'share'), { streamsDir: join(root, 'depot') }).getSecurity('f'), sd);
    await vfs.unlink('f');
    h = (await vfs.open('f', { create: 'create', read: true, write: true })).handle;
    assert.equal(await h.getSecurity!(), undefined);
    await h.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('auto-inheritance: INHERITED_ACE / DACL_AUTO_INHERITED only under an auto-inherited parent; default when nothing inherits', () => {
  const aces = [allow(alice.user, 0x2, AceFlags.OBJECT_INHERIT | AceFlags.INHERITED)];
  const plain = newObjectSd(undefined, { control: 0, dacl: { revision: 2, aces } }, alice, false)!;
  assert.equal(plain.control & SdControl.DACL_AUTO_INHERITED, 0);
  assert.deepEqual(plain.dacl!.aces, [allow(alice.user, 0x2)]);
  const auto = newObjectSd(undefined, { control: SdControl.DACL_AUTO_INHERITED, dacl: { revision: 2, aces } }, alice, false)!;
  assert.ok(auto.control & SdControl.DACL_AUTO_INHERITED);
  assert.deepEqual(auto.dacl!.aces, [allow(alice.user, 0x2, AceFlags.INHERITED)]);
  const none = newObjectSd(undefined, { control: 0, dacl: { revision: 2, aces: [allow(bob.user, 0x1)] } }, alice, false)!;
  assert.deepEqual(none.dacl!.aces, [allow(alice.user, 0x1f01ff), allow(WellKnownSid.LOCAL_SYSTEM, 0x1f01ff)]);
  // SET_INFO: AUTO_INHERITED sticks only with AUTO_INHERIT_REQ; PROTECTED sticks.
  const base = defaultSd(alice, false);
  assert.equal(mergeSd(base, { control: SdControl.DACL_AUTO_INHERITED, dacl: null }, SI.DACL).control & SdControl.DACL_AUTO_INHERITED, 0);
  assert.equal(mergeSd(base, { control: SdControl.DACL_AUTO_INHERITED | SdControl.DACL_COMPUTED_INHERITANCE_REQUIRED, dacl: null }, SI.DACL).control,
    SdControl.DACL_AUTO_INHERITED);
  assert.equal(mergeSd(base, { control: SdControl.DACL_PROTECTED, dacl: null }, SI.DACL).control, SdControl.DACL_PROTECTED);
});
