import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSmbUrl } from './url.js';
import { toSmbPath, runPipelined } from './file.js';
import { SmbError, parse } from './errors.js';
import { WireError } from '../wire/buf.js';

test('parseSmbUrl: user, domain, port, share, path', () => {
  assert.deepEqual(parseSmbUrl('smb://CORP;alice@fs.example:4445/Data/a/b%20c/'), {
    host: 'fs.example', port: 4445, user: 'alice', domain: 'CORP', password: undefined, share: 'Data', path: 'a/b c',
  });
  const u = parseSmbUrl('smb://bob@10.0.0.1/share');
  assert.equal(u.port, 445);
  assert.equal(u.path, '');
  assert.equal(u.domain, '');
  assert.equal(parseSmbUrl('smb://[::1]:1445/s').host, '::1');
  assert.equal(parseSmbUrl('smb://h/s').user, '');
  assert.equal(parseSmbUrl('smb://u:pw@h/s').password, 'pw');
});

test('parseSmbUrl: bad input is an SmbError', () => {
  for (const bad of ['http://h/s', 'smb://', 'smb://h:99999/s', 'smb://u@h/s/%E0%A4%A']) {
    assert.throws(() => parseSmbUrl(bad), (e: unknown) => e instanceof SmbError && e.statusName === 'OBJECT_PATH_SYNTAX_BAD', bad);
  }
});

test('toSmbPath', () => {
  assert.equal(toSmbPath('/a/b/'), 'a\\b');
  assert.equal(toSmbPath('a\\b//c'), 'a\\b\\c');
  assert.equal(toSmbPath('/'), '');
  assert.equal(toSmbPath('./a/./b'), 'a\\b');
  assert.throws(() => toSmbPath('a/../b'), SmbError);
});

test('runPipelined: bounded concurrency, first error wins', async () => {
  let active = 0;
  let peak = 0;
  const seen: number[] = [];
  await runPipelined(20, 4, async (i) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 1));
    seen.push(i);
    active--;
  });
  assert.equal(peak, 4);
  assert.equal(seen.length, 20);
  await assert.rejects(runPipelined(10, 3, async (i) => { if (i === 2) throw new Error('boom'); }), /boom/);
});

test('parse turns WireError into SmbError', () => {
  assert.throws(() => parse(() => { throw new WireError('truncated thing'); }),
    (e: unknown) => e instanceof SmbError && e.statusName === 'INVALID_NETWORK_RESPONSE' && /malformed response from server: truncated thing/.test(e.message));
});
