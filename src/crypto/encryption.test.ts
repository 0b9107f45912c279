import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CIPHER, decryptMessage, encryptMessage, isTransformHeader, transformSessionId } from './encryption.js';
import { ENC_CCM, ENC_GCM } from './vectors.fixture.js';

test('encryption: "SMB 3.1.1 Encryption in Windows 10" A.1 (GCM) and A.2 (CCM) vectors', () => {
  for (const [v, cipher] of [[ENC_GCM, CIPHER.AES128_GCM], [ENC_CCM, CIPHER.AES128_CCM]] as const) {
    const [hdr, ct] = encryptMessage(cipher, v.encryptionKey, v.sessionId, v.writeRequest, v.writeNonce);
    assert.equal(hdr!.length, 52);
    assert.deepEqual(Buffer.concat([hdr!, ct!]), v.writeTransformed);
    // split plaintext gives the same result
    const split = encryptMessage(cipher, v.encryptionKey, v.sessionId, [v.writeRequest.subarray(0, 7), v.writeRequest.subarray(7)], v.writeNonce);
    assert.deepEqual(Buffer.concat(split), v.writeTransformed);
    // server side decrypts the client's request with the same (ServerIn) key
    const d = decryptMessage(cipher, v.encryptionKey, v.writeTransformed);
    assert.equal(d.sessionId, v.sessionId);
    assert.deepEqual(d.plaintext, v.writeRequest);
    // the client decrypts the server's response with its DecryptionKey (ServerOut)
    assert.ok(isTransformHeader(v.writeResponseTransformed));
    assert.equal(transformSessionId(v.writeResponseTransformed), v.sessionId);
    assert.deepEqual(decryptMessage(cipher, v.decryptionKey, v.writeResponseTransformed).plaintext, v.writeResponse);
  }
});

test('encryption: round trip for every cipher, random nonce layout', () => {
  const msg = Buffer.alloc(1000, 7);
  for (const [id, keyLen, nonceLen] of [[1, 16, 11], [2, 16, 12], [3, 32, 11], [4, 32, 12]] as const) {
    const key = Buffer.alloc(keyLen, id);
    const [hdr, ct] = encryptMessage(id, key, 0x1122334455667788n, [msg.subarray(0, 100), msg.subarray(100)]);
    assert.equal(hdr!.readUInt16LE(42), 1);
    assert.equal(hdr!.readUInt32LE(36), 1000);
    assert.ok(hdr!.subarray(20 + nonceLen, 36).every((b) => b === 0), 'unused nonce bytes zero');
    const frame = Buffer.concat([hdr!, ct!]);
    assert.deepEqual(decryptMessage(id, key, frame).plaintext, msg);
    const bad = Buffer.from(frame);
    bad[100]! ^= 1;
    assert.throws(() => decryptMessage(id, key, bad));
    const badAad = Buffer.from(frame);
    badAad[44]! ^= 1; // session id is authenticated
    assert.throws(() => decryptMessage(id, key, badAad));
    assert.throws(() => decryptMessage(id, Buffer.alloc(keyLen, 0xee), frame));
  }
});

test('encryption: malformed frames throw, never crash', () => {
  const key = Buffer.alloc(16);
  assert.throws(() => decryptMessage(2, key, Buffer.alloc(10)));
  assert.throws(() => decryptMessage(2, key, Buffer.alloc(60)));
  const [hdr, ct] = encryptMessage(2, key, 1n, Buffer.alloc(64));
  const frame = Buffer.concat([hdr!, ct!]);
  assert.throws(() => decryptMessage(2, key, frame.subarray(0, frame.length - 1))); // size mismatch
  assert.throws(() => decryptMessage(9, key, frame));
  assert.throws(() => encryptMessage(2, Buffer.alloc(32), 1n, Buffer.alloc(64))); // wrong key size
  assert.equal(isTransformHeader(Buffer.from('fe534d42', 'hex')), false);
});

test('large GCM messages: split plaintext seals like the whole', () => {
  const key = Buffer.alloc(16, 7);
  const msg = Buffer.alloc(1024 * 1024 + 123);
  for (let i = 0; i < msg.length; i++) msg[i] = (i * 31) & 0xff;
  const parts = encryptMessage(2, key, 5n, [msg.subarray(0, 64), msg.subarray(64)]);
  assert.ok(parts.length >= 2); // header + ciphertext
  const frame = Buffer.concat(parts);
  const whole = encryptMessage(2, key, 5n, msg, parts[0]!.subarray(20, 32));
  assert.deepEqual(Buffer.concat(whole), frame);
  assert.deepEqual(decryptMessage(2, key, frame).plaintext, msg);
  const bad = Buffer.from(frame);
  bad[bad.length - 1]! ^= 1;
  assert.throws(() => decryptMessage(2, key, bad));
});
