import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserDb } from './userdb.js';

test('userdb: add/lookup is case-insensitive and stores only NT hashes', () => {
  const db = UserDb.empty();
  db.add('Alice', 'Password');
  assert.equal(db.lookup('ALICE', 'any')?.ntHash.toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
  assert.deepEqual(db.list(), ['Alice']);
  const text = db.serialize();
  assert.match(text, /^Alice:1000:X{32}:A4F49C406510BDCAB6824EE7C30FD852:\[U {10}\]:LCT-[0-9A-F]{8}:\n$/);
  assert.ok(!text.includes('Password'));
  assert.equal(db.del('alice'), true);
  assert.equal(db.del('alice'), false);
  assert.equal(db.lookup('alice', ''), undefined);
  assert.throws(() => db.add('a:b', 'x'));
});

test('userdb: save/load round trip, smbpasswd compatibility', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smbts-userdb-'));
  try {
    const p = join(dir, 'smbpasswd');
    const db = UserDb.empty();
    db.add('alice', 'one');
    db.addHash('bob', Buffer.alloc(16, 0xab));
    db.save(p);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    const back = UserDb.load(p);
    assert.deepEqual(back.list(), ['alice', 'bob']);
    assert.deepEqual(back.lookup('BOB', '')?.ntHash, Buffer.alloc(16, 0xab));
    assert.equal(readFileSync(p, 'utf8'), back.serialize());
    // Samba-written lines, a disabled account and a password-less one
    const samba = UserDb.parse(
      '# comment\n' +
        'root:0:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:8846F7EAEE8FB117AD06BDD830B7586C:[U          ]:LCT-5E5E5E5E:\n' +
        'off:1001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:8846F7EAEE8FB117AD06BDD830B7586C:[DU         ]:LCT-5E5E5E5E:\n' +
        'nopw:1002:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-00000000:\n',
    );
    assert.equal(samba.lookup('Root', '')?.ntHash.toString('hex'), '8846f7eaee8fb117ad06bdd830b7586c');
    assert.equal(samba.lookup('off', ''), undefined);
    assert.equal(samba.lookup('nopw', ''), undefined);
    assert.throws(() => UserDb.parse('garbage line\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
