import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthFile } from './client-commands.js';

test('parseAuthFile reads smbclient authentication files', () => {
  assert.deepEqual(parseAuthFile('username = alice\npassword = s3cr=t \ndomain=CORP\n# comment\nother = x\n'), {
    username: 'alice', password: 's3cr=t', domain: 'CORP',
  });
  assert.deepEqual(parseAuthFile(''), {});
});
