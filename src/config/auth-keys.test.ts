import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.js';

test('kerberos keys: dedicated keytab, realm, ntlm auth, username map', () => {
  const c = parseConfig([
    '[global]', 'kerberos method = dedicated keytab', 'dedicated keytab file = FILE:/etc/smbts/smb.keytab', 'realm = test.local',
    'ntlm auth = no', 'username map = /etc/smbts/users.map', '',
  ].join('\n'));
  assert.deepEqual(c.kerberos, { keytab: '/etc/smbts/smb.keytab', realm: 'TEST.LOCAL' });
  assert.equal(c.ntlmAuth, false);
  assert.equal(c.usernameMap, '/etc/smbts/users.map');
  assert.deepEqual(c.warnings, []);
});

test('kerberos keys: defaults, relative paths, implied method, bad values', () => {
  const d = parseConfig('');
  assert.equal(d.kerberos, undefined);
  assert.equal(d.ntlmAuth, true);
  const c = parseConfig('[global]\ndedicated keytab file = smb.keytab\nntlm auth = ntlmv2-only\n', { baseDir: '/srv/smbts' });
  assert.deepEqual(c.kerberos, { keytab: '/srv/smbts/smb.keytab', realm: undefined });
  assert.equal(c.ntlmAuth, true);
  const bad = parseConfig('[global]\nkerberos method = dedicated keytab\nntlm auth = maybe\n');
  assert.equal(bad.kerberos, undefined);
  assert.equal(bad.warnings.length, 2);
  const off = parseConfig('[global]\nntlm auth = no\n');
  assert.match(off.warnings.join('\n'), /nobody can log on/);
});
