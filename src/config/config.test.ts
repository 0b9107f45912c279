import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DEFAULT_PORT, Dialect, defaultConfig, findShare, loadConfig, parseConfig, parseDialect, parseInterfaces } from './config.js';

const SAMPLE = `
# comment
; another comment
[global]
   workgroup = mygroup
   netbios name = fileserver
   server string = Test \\
      Server
   smb ports = 4455 139
   interfaces = "10.0.0.1;speed=10000000000,capability=RSS,capability=RDMA" 192.168.1.5 eth0
   bind interfaces only = yes
   Server Signing = mandatory
   server min protocol = SMB2_10
   server max protocol = SMB3
   passdb backend = smbpasswd:/etc/smbts/smbpasswd
   map to guest = Bad User
   read only = no
   log level = 3

[Data]
   path = /srv/data
   comment = Data share
   valid users = alice, bob  "carol d"
   browseable = No
   smb encrypt = required
   vfs objects = acl_xattr

[pub]
   path = /srv/pub
   guest ok = yes
   writeable = false

[homes]
   browseable = no

[nopath]
   comment = x
`;

test('parses a full sample', () => {
  const c = parseConfig(SAMPLE);
  assert.equal(c.workgroup, 'MYGROUP');
  assert.equal(c.netbiosName, 'FILESERVER');
  assert.equal(c.serverString, 'Test Server');
  assert.equal(c.port, 4455);
  assert.deepEqual(c.interfaces, [
    { address: '10.0.0.1', speed: 10000000000, rss: true, rdma: true },
    { address: '192.168.1.5' },
    { address: 'eth0' },
  ]);
  assert.equal(c.bindInterfacesOnly, true);
  assert.equal(c.serverSigning, 'mandatory');
  assert.equal(c.minProtocol, Dialect.SMB2_10);
  assert.equal(c.maxProtocol, Dialect.SMB3_11);
  assert.equal(c.userDb, '/etc/smbts/smbpasswd');
  assert.equal(c.mapToGuest, 'bad user');
  assert.deepEqual(c.shares.map((s) => s.name), ['Data', 'pub', 'IPC$']);
  const data = findShare(c, 'data')!;
  assert.equal(data.path, '/srv/data');
  assert.equal(data.comment, 'Data share');
  assert.deepEqual(data.validUsers, ['alice', 'bob', 'carol d']);
  assert.equal(data.browseable, false);
  assert.equal(data.encrypt, 'required');
  assert.equal(data.readOnly, false, '[global] read only = no is a share default');
  assert.deepEqual(data.extra, { vfsobjects: 'acl_xattr' });
  const pub = findShare(c, 'PUB')!;
  assert.equal(pub.guestOk, true);
  assert.equal(pub.readOnly, true);
  const ipc = findShare(c, 'ipc$')!;
  assert.equal(ipc.ipc, true);
  assert.equal(ipc.browseable, false);
  assert.equal(c.extra['loglevel'], '3');
  assert.ok(c.warnings.some((w) => w.includes('log level')));
  assert.ok(c.warnings.some((w) => w.includes('vfs objects')));
  assert.ok(c.warnings.some((w) => w.includes('[homes]')));
  assert.ok(c.warnings.some((w) => w.includes('[nopath]')));
});

test('defaults', () => {
  const c = parseConfig('');
  assert.equal(c.port, DEFAULT_PORT);
  assert.equal(c.port, 4450);
  assert.equal(c.minProtocol, 0x0202);
  assert.equal(c.maxProtocol, 0x0311);
  assert.equal(c.serverSigning, 'default');
  assert.equal(c.smbEncrypt, 'default');
  assert.equal(c.mapToGuest, 'never');
  assert.deepEqual(c.shares.map((s) => s.name), ['IPC$']);
  assert.deepEqual(c.warnings, []);
  const d = defaultConfig('/tmp/x');
  assert.deepEqual(d.shares.map((s) => [s.name, s.path, s.readOnly]), [['share', '/tmp/x', false], ['IPC$', '', true]]);
});

test('booleans, key spelling, continuation, CRLF', () => {
  const c = parseConfig('[a]\r\npath=/a\r\nREAD_ONLY = 0\r\n[b]\npath = /b\nreadonly = TRUE\nbrowsable = off\n[c]\npath = /c\\\n/d\n');
  assert.equal(findShare(c, 'a')!.readOnly, false);
  assert.equal(findShare(c, 'b')!.readOnly, true);
  assert.equal(findShare(c, 'b')!.browseable, false);
  assert.equal(findShare(c, 'c')!.path, '/c/d');
  const bad = parseConfig('[a]\npath=/a\nread only = maybe\n');
  assert.ok(bad.warnings.some((w) => w.includes('bad boolean')));
  assert.equal(findShare(bad, 'a')!.readOnly, true);
});

test('protocol names', () => {
  for (const [n, v] of [['SMB2', 0x210], ['SMB2_02', 0x202], ['smb2_10', 0x210], ['SMB3', 0x311], ['SMB3_00', 0x300], ['SMB3_02', 0x302], ['SMB3_11', 0x311], ['0x0300', 0x300]] as const) {
    assert.equal(parseDialect(n)?.dialect, v, n);
  }
  assert.equal(parseDialect('SMB4'), undefined);
  const c = parseConfig('[global]\nserver min protocol = NT1\n');
  assert.equal(c.minProtocol, 0x202);
  assert.ok(c.warnings.length === 1);
  assert.throws(() => parseConfig('[global]\nmin protocol = SMB3\nmax protocol = SMB2\n'), ConfigError);
});

test('encrypt / signing synonyms', () => {
  const c = parseConfig('[global]\nsmb encrypt = desired\nserver signing = disabled\n[s]\npath=/s\nsmb encrypt = off\n');
  assert.equal(c.smbEncrypt, 'desired');
  assert.equal(c.serverSigning, 'disabled');
  assert.equal(findShare(c, 's')!.encrypt, 'off');
  assert.equal(parseConfig('[global]\nserver smb encrypt = mandatory\n').smbEncrypt, 'required');
  assert.equal(parseConfig('[global]\nserver signing = auto\n').serverSigning, 'auto');
});

test('interfaces parsing', () => {
  assert.deepEqual(parseInterfaces('127.0.0.1'), [{ address: '127.0.0.1' }]);
  assert.deepEqual(parseInterfaces('127.0.0.1, ::1,eth0'), [{ address: '127.0.0.1' }, { address: '::1' }, { address: 'eth0' }]);
  assert.deepEqual(parseInterfaces('"127.0.0.1;speed=1000000000,capability=RSS" "::1;capability=RDMA"'), [
    { address: '127.0.0.1', speed: 1000000000, rss: true },
    { address: '::1', rdma: true },
  ]);
  const w: string[] = [];
  parseInterfaces('"1.2.3.4;speed=fast,capability=FOO"', w);
  assert.equal(w.length, 2);
});

test('share names, duplicates, IPC$ and available', () => {
  const c = parseConfig('[a]\npath=/1\n[A]\npath=/2\n[IPC$]\npath=/x\n[bad:name]\npath=/x\n[off]\npath=/o\navailable = no\n');
  assert.deepEqual(c.shares.map((s) => [s.name, s.path]), [['A', '/2'], ['IPC$', '']]);
  assert.ok(c.warnings.some((w) => w.includes('defined twice')));
  assert.ok(c.warnings.some((w) => w.includes('invalid share name')));
});

test('loadConfig resolves relative paths against the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smbts-cfg-'));
  try {
    const f = path.join(dir, 'smb.conf');
    fs.writeFileSync(f, '[global]\nsmb passwd file = users.db\n[s]\npath = data\n');
    const c = loadConfig(f);
    assert.equal(findShare(c, 's')!.path, path.join(dir, 'data'));
    assert.equal(c.userDb, path.join(dir, 'users.db'));
    assert.throws(() => loadConfig(path.join(dir, 'missing.conf')), ConfigError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
