import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSessionKeys, deriveSigningKey, kdf } from './kdf.js';
import { ENC_CCM, ENC_GCM, MC300, MC311, MC311_BIND } from './vectors.fixture.js';

test('kdf: SMB 3.0 key derivation (anatomy blog, SMB 3.0 multichannel)', () => {
  const k = deriveSessionKeys(0x0300, MC300.sessionKey, undefined, 1);
  assert.deepEqual(k.signingKey, MC300.signingKey);
  assert.deepEqual(k.serverInKey, MC300.encryptionKey);
  assert.deepEqual(k.serverOutKey, MC300.decryptionKey);
  assert.deepEqual(k.applicationKey, MC300.applicationKey);
  assert.deepEqual(deriveSessionKeys(0x0302, MC300.sessionKey, undefined, 1), k);
  assert.deepEqual(deriveSigningKey(0x0300, MC300.bindSessionKey), MC300.bindSigningKey);
});

test('kdf: SMB 3.1.1 key derivation (encryption blog A.1 GCM, A.2 CCM; anatomy blog)', () => {
  for (const [v, cipher] of [[ENC_GCM, 2], [ENC_CCM, 1]] as const) {
    const k = deriveSessionKeys(0x0311, v.sessionKey, v.preauthHash, cipher);
    assert.deepEqual(k.signingKey, v.signingKey);
    assert.deepEqual(k.serverInKey, v.encryptionKey);
    assert.deepEqual(k.serverOutKey, v.decryptionKey);
    assert.deepEqual(k.applicationKey, v.applicationKey);
  }
  const k = deriveSessionKeys(0x0311, MC311.sessionKey, MC311.hashAfterSessionSetupRequest2, 2);
  assert.deepEqual(k.signingKey, MC311.signingKey);
  assert.deepEqual(k.serverInKey, MC311.encryptionKey);
  assert.deepEqual(k.serverOutKey, MC311.decryptionKey);
  assert.deepEqual(k.applicationKey, MC311.applicationKey);
  assert.deepEqual(deriveSigningKey(0x0311, MC311_BIND.sessionKey, MC311_BIND.preauthHash), MC311_BIND.channelSigningKey);
});

test('kdf: 2.x keys are the session key; no encryption keys', () => {
  const sk = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  for (const d of [0x0202, 0x0210]) {
    const k = deriveSessionKeys(d, sk, undefined, 0);
    assert.deepEqual(k.signingKey, sk);
    assert.equal(k.serverInKey.length, 0);
    assert.equal(k.serverOutKey.length, 0);
    assert.deepEqual(deriveSigningKey(d, sk), sk);
  }
  // short keys are right-padded, long keys truncated to 16 (MS-SMB2 3.2.1.3)
  assert.deepEqual(deriveSigningKey(0x0210, Buffer.from([1, 2])), Buffer.from([1, 2, ...new Array(14).fill(0)]));
});

test('kdf: AES-256 ciphers get 256-bit keys from the full session key; signing stays 128', () => {
  // No published vector for 256-bit SMB keys: check the SP800-108 structure instead
  // (L=256 -> two HMAC blocks, counter 1 and 2, L encoded as 0x00000100).
  const full = Buffer.alloc(32, 0x42);
  const k = deriveSessionKeys(0x0311, full, ENC_GCM.preauthHash, 4);
  assert.equal(k.serverInKey.length, 32);
  assert.equal(k.serverOutKey.length, 32);
  assert.equal(k.signingKey.length, 16);
  const label = Buffer.from('SMBC2SCipherKey\0', 'latin1');
  assert.deepEqual(k.serverInKey, kdf(full, label, ENC_GCM.preauthHash, 256));
  // the 128-bit signing key uses only the first 16 bytes
  assert.deepEqual(k.signingKey, deriveSigningKey(0x0311, full.subarray(0, 16), ENC_GCM.preauthHash));
  // 256-bit output's first half differs from the 128-bit output (L is part of the input)
  assert.notDeepEqual(kdf(full, label, ENC_GCM.preauthHash, 256).subarray(0, 16), kdf(full, label, ENC_GCM.preauthHash, 128));
  const k3 = deriveSessionKeys(0x0311, full, ENC_GCM.preauthHash, 3);
  assert.deepEqual(k3.serverInKey, k.serverInKey);
});

test('kdf: 3.1.1 requires the preauth hash', () => {
  assert.throws(() => deriveSessionKeys(0x0311, ENC_GCM.sessionKey, undefined, 2));
  assert.throws(() => deriveSigningKey(0x0311, ENC_GCM.sessionKey));
});
