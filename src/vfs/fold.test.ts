// vfs/path.ts foldCase: NTFS upcase-table semantics (1:1 per UTF-16 unit) and hasLoneSurrogate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldCase, hasLoneSurrogate, validateName } from './path.js';
import { MemoryVfs } from './memory.js';

test('foldCase: simple 1:1 uppercase per UTF-16 unit, nothing else', () => {
  assert.equal(foldCase('password.txt'), 'PASSWORD.TXT');
  assert.equal(foldCase('ÿäöüéñ'), 'ŸÄÖÜÉÑ');
  assert.equal(foldCase('αβγ ж'), 'ΑΒΓ Ж');
  // no expansions, no non-ASCII -> ASCII mappings (NTFS $UpCase leaves these alone)
  assert.equal(foldCase('paßword'), 'PAßWORD');
  assert.equal(foldCase('ſ'), 'ſ');
  assert.equal(foldCase('ı'), 'ı');
  assert.equal(foldCase('ŉ'), 'ŉ');
  assert.notEqual(foldCase('paßword.txt'), foldCase('password.txt'));
  assert.notEqual(foldCase('paſſword.txt'), foldCase('password.txt'));
  // length is kept, surrogates untouched
  for (const s of ['ßſı', '\ud83d\ude00x', 'ǆ', 'ﬀ']) assert.equal(foldCase(s).length, s.length);
  assert.equal(foldCase('abc'), 'ABC');
  const same = 'ABC';
  assert.equal(foldCase(same), same);
});

test('lone surrogates are invalid names', () => {
  assert.equal(hasLoneSurrogate('a\ud800'), true);
  assert.equal(hasLoneSurrogate('\udc00a'), true);
  assert.equal(hasLoneSurrogate('\ud800\ud800\udc00'), true);
  assert.equal(hasLoneSurrogate('\ud83d\ude00'), false);
  assert.throws(() => validateName('x\ud800'), /invalid UTF-16/);
});

test('MemoryVfs identities differ between instances and survive rename', async () => {
  const a = new MemoryVfs();
  const b = new MemoryVfs();
  for (const v of [a, b]) (await v.open('f', { create: 'create', read: true, write: true })).handle.close();
  const ia = (await a.stat('f')).identity;
  assert.notEqual(ia, (await b.stat('f')).identity);
  await a.rename('f', 'g', false);
  assert.equal((await a.stat('g')).identity, ia);
});
