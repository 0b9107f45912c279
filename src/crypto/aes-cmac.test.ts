import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aesCmac } from './aes-cmac.js';

// RFC 4493 section 4 examples.
const K = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const M = Buffer.from(
  '6bc1bee22e409f96e93d7e117393172a' +
    'ae2d8a571e03ac9c9eb76fac45af8e51' +
    '30c81c46a35ce411e5fbc1191a0a52ef' +
    'f69f2445df4f9b17ad2b417be66c3710',
  'hex',
);
const cases: Array<[number, string]> = [
  [0, 'bb1d6929e95937287fa37d129b756746'],
  [16, '070a16b46b4d4144f79bdd9dd04a287c'],
  [40, 'dfa66747de9ae63030ca32611497c827'],
  [64, '51f0bebf7e3b9d92fc49741779363cfe'],
];

test('aes-cmac: RFC 4493 examples 1-4', () => {
  for (const [len, mac] of cases) {
    assert.equal(aesCmac(K, M.subarray(0, len)).toString('hex'), mac, `len ${len}`);
  }
});

test('aes-cmac: subkeys per RFC 4493 4 (via single-block behaviour)', () => {
  // Example 2 exercises K1, example 3 exercises K2; covered above. Check splitting invariance.
  for (const [len, mac] of cases) {
    const m = M.subarray(0, len);
    for (const cut of [0, 1, 7, 15, 16, 17, 33]) {
      if (cut > len) continue;
      const parts = [m.subarray(0, cut), Buffer.alloc(0), m.subarray(cut)];
      assert.equal(aesCmac(K, parts).toString('hex'), mac, `len ${len} cut ${cut}`);
    }
  }
});

test('aes-cmac: large input is fast', () => {
  const big = Buffer.alloc(8 << 20, 0x5a);
  const t0 = Date.now();
  const a = aesCmac(K, big);
  const b = aesCmac(K, [big.subarray(0, 12345), big.subarray(12345)]);
  assert.deepEqual(a, b);
  assert.ok(Date.now() - t0 < 10000);
});
