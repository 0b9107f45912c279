import { test } from 'node:test';
import assert from 'node:assert/strict';
import { md4 } from './md4.js';

// RFC 1320 appendix A.5 test suite.
const vectors: Array<[string, string]> = [
  ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
];

test('md4: RFC 1320 A.5 vectors', () => {
  for (const [input, hex] of vectors) {
    assert.equal(md4(Buffer.from(input, 'latin1')).toString('hex'), hex, JSON.stringify(input));
  }
});

test('md4: NTOWFv1("Password") per MS-NLMP 4.2.2.1.2', () => {
  assert.equal(md4(Buffer.from('Password', 'utf16le')).toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
});

test('md4: lengths around the padding boundary do not throw and differ', () => {
  const seen = new Set<string>();
  for (let n = 50; n < 70; n++) seen.add(md4(Buffer.alloc(n, 0x61)).toString('hex'));
  assert.equal(seen.size, 20);
});
