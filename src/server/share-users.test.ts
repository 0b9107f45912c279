import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inList, parseGroups, shareAccess, type ShareUser } from './share-users.js';
import { parseConfig } from '../config/config.js';

const groups = parseGroups(
  'root:x:0:\nstaff:x:50:alice,Bob\nempty:x:60:\n# comment\n',
  'carol:x:1003:60:Carol:/home/carol:/bin/sh\n',
);
const lookup = (g: string) => groups.get(g.toLowerCase());
const user = (name: string, domain = 'WORKGROUP'): ShareUser => ({ user: name, domain, guest: false, anonymous: false });
const guest: ShareUser = { user: 'whoever', domain: '', guest: true, anonymous: false };
const anon: ShareUser = { user: '', domain: '', guest: false, anonymous: true };

test('names, DOMAIN\\names, Unix groups (@ and +, with primary groups), never NIS-only &', () => {
  assert.ok(inList(['Alice'], user('alice'), lookup));
  assert.ok(inList(['workgroup\\alice'], user('ALICE'), lookup));
  assert.ok(!inList(['OTHER\\alice'], user('alice'), lookup));
  assert.ok(inList(['@staff'], user('bob'), lookup));
  assert.ok(inList(['+staff'], user('alice'), lookup));
  assert.ok(!inList(['&staff'], user('alice'), lookup));
  assert.ok(inList(['@empty'], user('carol'), lookup)); // primary group from passwd
  assert.ok(!inList(['@staff', '@nosuch'], user('carol'), lookup));
  assert.ok(!inList([], user('alice'), lookup));
  assert.ok(!inList(undefined, user('alice'), lookup));
});

test('guests and null sessions are the guest account "nobody"', () => {
  assert.ok(inList(['nobody'], guest, lookup));
  assert.ok(inList(['nobody'], anon, lookup));
  assert.ok(!inList(['whoever', ''], guest, lookup));
  const share = { readOnly: false, validUsers: ['u1'] };
  assert.equal(shareAccess(share, guest, lookup).allowed, false);
  assert.equal(shareAccess(share, anon, lookup).allowed, false);
  assert.equal(shareAccess(share, user('u1'), lookup).allowed, true);
  assert.equal(shareAccess({ ...share, adminUsers: ['nobody'] }, guest, lookup).admin, false);
});

test('Samba order: invalid users beats valid users; write list beats read list', () => {
  const s = { readOnly: true, validUsers: ['a', 'b'], invalidUsers: ['b'], readList: ['c', 'a'], writeList: ['a'], adminUsers: ['a'] };
  assert.deepEqual(shareAccess(s, user('a'), lookup), { allowed: true, readOnly: false, admin: true });
  assert.deepEqual(shareAccess(s, user('b'), lookup), { allowed: false, readOnly: true, admin: false });
  assert.deepEqual(shareAccess({ ...s, readOnly: false }, user('c'), lookup), { allowed: false, readOnly: true, admin: false });
});

test('config: the list keys per share and as [global] defaults; [global] admin users are the server admins', () => {
  const cfg = parseConfig('[global]\nadmin users = boss, @wheel\nread list = r1\n[s]\npath = /tmp\ninvalid users = "x y" z\nwrite list = +staff\n');
  const s = cfg.shares.find((x) => x.name === 's')!;
  assert.deepEqual(s.invalidUsers, ['x y', 'z']);
  assert.deepEqual(s.writeList, ['+staff']);
  assert.deepEqual(s.readList, ['r1']);
  assert.deepEqual(s.adminUsers, ['boss', '@wheel']);
  assert.deepEqual(cfg.adminUsers, ['boss', '@wheel']);
  assert.deepEqual(cfg.warnings, []);
});
