import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { computeSignature, signMessage, verifySignature } from './signing.js';
import { ENC_CCM, ENC_GCM, MC311, MC311_BIND } from './vectors.fixture.js';

const sigOf = (m: Buffer): Buffer => Buffer.from(m.subarray(48, 64));

test('signing: AES-CMAC matches signed SESSION_SETUP responses from the Microsoft blogs', () => {
  const cases: Array<[Buffer, Buffer]> = [
    [ENC_GCM.signingKey, ENC_GCM.signedResponse],
    [ENC_CCM.signingKey, ENC_CCM.signedResponse],
    [MC311.signingKey, MC311.sessionSetupResponse2],
    // session binding request is signed with the master session's key
    [MC311.signingKey, MC311_BIND.bindRequest],
    // final binding response is signed with the new channel's signing key
    [MC311_BIND.channelSigningKey, MC311_BIND.finalResponse],
  ];
  for (const [key, msg] of cases) {
    const before = Buffer.from(msg);
    assert.deepEqual(computeSignature('aes-cmac', key, msg), sigOf(msg));
    assert.deepEqual(msg, before, 'input not mutated');
    assert.equal(verifySignature('aes-cmac', key, msg), true);
    // split buffers, including a split inside the signature field
    for (const cut of [1, 48, 50, 64, 70]) {
      assert.deepEqual(computeSignature('aes-cmac', key, [msg.subarray(0, cut), msg.subarray(cut)]), sigOf(msg), `cut ${cut}`);
    }
    const copy = Buffer.from(msg);
    copy.fill(0, 48, 64);
    signMessage('aes-cmac', key, copy);
    assert.deepEqual(copy, msg);
    copy[70]! ^= 1;
    assert.equal(verifySignature('aes-cmac', key, copy), false);
  }
});

test('signing: HMAC-SHA256 is the first 16 bytes of HMAC over the zero-signature message', () => {
  // No published SMB 2.x signing vector found; check against the MS-SMB2 3.1.4.1 definition.
  const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const msg = Buffer.from(ENC_GCM.signedResponse);
  const zeroed = Buffer.from(msg);
  zeroed.fill(0, 48, 64);
  const want = createHmac('sha256', key).update(zeroed).digest().subarray(0, 16);
  assert.deepEqual(computeSignature('hmac-sha256', key, msg), want);
  signMessage('hmac-sha256', key, msg);
  assert.deepEqual(sigOf(msg), want);
  assert.ok(verifySignature('hmac-sha256', key, msg));
  msg[0]! ^= 1;
  assert.ok(!verifySignature('hmac-sha256', key, msg));
});

test('signing: AES-GMAC nonce = MessageId || role/cancel bits, AAD = message', () => {
  // No published GMAC vector in reach; check against the MS-SMB2 3.1.4.1 construction.
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const msg = Buffer.from(ENC_GCM.signedResponse); // server->client (flags bit 0 set), MessageId 2
  const zeroed = Buffer.from(msg);
  zeroed.fill(0, 48, 64);
  const gmac = (nonce: Buffer, data: Buffer): Buffer => {
    const c = createCipheriv('aes-128-gcm', key, nonce);
    c.setAAD(data);
    c.final();
    return c.getAuthTag();
  };
  const nonce = Buffer.from('0200000000000000' + '01000000', 'hex');
  assert.deepEqual(computeSignature('aes-gmac', key, msg), gmac(nonce, zeroed));
  assert.deepEqual(computeSignature('aes-gmac', key, [msg.subarray(0, 30), msg.subarray(30)]), gmac(nonce, zeroed));
  // client request CANCEL: role bit 0, cancel bit set
  const cancel = Buffer.from(zeroed);
  cancel.writeUInt32LE(0, 16);
  cancel.writeUInt16LE(0x000c, 12);
  cancel.writeBigUInt64LE(0x1234n, 24);
  assert.deepEqual(computeSignature('aes-gmac', key, cancel), gmac(Buffer.from('3412000000000000' + '02000000', 'hex'), cancel));
  signMessage('aes-gmac', key, cancel);
  assert.ok(verifySignature('aes-gmac', key, cancel));
  cancel.writeUInt32LE(1, 16); // flipping the role changes the nonce
  assert.ok(!verifySignature('aes-gmac', key, cancel));
});

test('signing: short messages are rejected', () => {
  assert.throws(() => computeSignature('aes-cmac', Buffer.alloc(16), Buffer.alloc(10)));
  assert.equal(verifySignature('aes-cmac', Buffer.alloc(16), Buffer.alloc(10)), false);
});
