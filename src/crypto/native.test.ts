// The native AEAD addon against the node:crypto paths and the published vectors: every cipher,
// sizes around the piece boundaries, split inputs, in-place opening, tampering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { aeadBinding, aeadUnavailableReason, resetAeadForTests, setAeadForTests, type AeadBinding } from './native.js';
import { CIPHER, StreamingOpener, decryptMessage, encryptMessage, openMessageInPlace, sealMessage } from './encryption.js';
import { computeSignature } from './signing.js';
import { ENC_CCM, ENC_GCM } from './vectors.fixture.js';

function nativeOrFail(): AeadBinding {
  resetAeadForTests();
  const b = aeadBinding();
  // CI builds the addon (npm ci runs prepare); only an explicit opt-out may run without it.
  if (!b && process.env.SMBTS_SKIP_NATIVE !== '1' && process.env.SMBTS_NO_NATIVE_CRYPTO !== '1') {
    assert.fail(`native aead addon unavailable: ${aeadUnavailableReason()}`);
  }
  return b!;
}

/** Runs `fn` once with the addon and once with node:crypto only. */
function bothBackends(fn: (backend: string) => void): void {
  const b = nativeOrFail();
  try {
    if (b) {
      setAeadForTests(b);
      fn('native');
    }
    setAeadForTests(undefined);
    fn('node:crypto');
  } finally {
    resetAeadForTests();
  }
}

test('sealMessage/openMessageInPlace: published GCM and CCM vectors, both backends', () => {
  bothBackends((backend) => {
    for (const [v, cipher] of [[ENC_GCM, CIPHER.AES128_GCM], [ENC_CCM, CIPHER.AES128_CCM]] as const) {
      const sealed = sealMessage(cipher, v.encryptionKey, v.sessionId, [v.writeRequest.subarray(0, 5), v.writeRequest.subarray(5)], Buffer.allocUnsafe, v.writeNonce);
      assert.deepEqual(sealed, v.writeTransformed, `${backend} cipher ${cipher}`);
      const copy = Buffer.from(v.writeTransformed);
      const open = openMessageInPlace(cipher, v.encryptionKey, copy);
      assert.deepEqual(open.plaintext, v.writeRequest);
      assert.equal(open.plaintext.buffer, copy.buffer, 'plaintext is a view of the frame');
      assert.deepEqual(decryptMessage(cipher, v.decryptionKey, v.writeResponseTransformed).plaintext, v.writeResponse);
      assert.deepEqual(Buffer.concat(encryptMessage(cipher, v.encryptionKey, v.sessionId, v.writeRequest, v.writeNonce)), v.writeTransformed);
    }
  });
});

test('native and node:crypto agree on every cipher and size; tampering is refused', () => {
  const b = nativeOrFail();
  if (!b) return;
  const sizes = [0, 1, 15, 16, 17, 4095, 65535, 65536, 65537, 300_001, 1 << 20];
  try {
    for (const [id, keyLen, nonceLen] of [[1, 16, 11], [2, 16, 12], [3, 32, 11], [4, 32, 12]] as const) {
      const key = randomBytes(keyLen);
      const nonce = randomBytes(nonceLen);
      for (const size of sizes) {
        const msg = randomBytes(size);
        const cut = Math.floor(size / 3);
        const parts = [msg.subarray(0, cut), Buffer.alloc(0), msg.subarray(cut)];
        setAeadForTests(b);
        const n = sealMessage(id, key, 42n, parts, Buffer.allocUnsafe, nonce);
        setAeadForTests(undefined);
        const j = sealMessage(id, key, 42n, parts, Buffer.allocUnsafe, nonce);
        assert.deepEqual(n, j, `cipher ${id} size ${size}`);
        for (const backend of [b, undefined]) {
          setAeadForTests(backend);
          assert.deepEqual(openMessageInPlace(id, key, Buffer.from(n)).plaintext, msg);
          const bad = Buffer.from(n);
          bad[bad.length - 1]! ^= size ? 1 : 0;
          bad[45]! ^= 1; // session id: authenticated data
          assert.throws(() => openMessageInPlace(id, key, bad), /decryption failed/);
        }
      }
    }
  } finally {
    resetAeadForTests();
  }
});

test('native GMAC and CMAC signatures equal the node:crypto ones', () => {
  const b = nativeOrFail();
  if (!b) return;
  try {
    for (const size of [64, 65, 100, 4096, 65536 + 7, 1 << 20]) {
      const msg = randomBytes(size);
      msg.writeUInt32LE(0x424d53fe, 0);
      const parts = [msg.subarray(0, 30), msg.subarray(30, 70), msg.subarray(70)];
      for (const [alg, keyLen] of [['aes-gmac', 16], ['aes-gmac', 32], ['aes-cmac', 16]] as const) {
        const key = randomBytes(keyLen);
        setAeadForTests(b);
        const n = computeSignature(alg, key, parts);
        setAeadForTests(undefined);
        const j = computeSignature(alg, key, msg);
        assert.deepEqual(n, j, `${alg} ${keyLen} size ${size}`);
      }
    }
  } finally {
    resetAeadForTests();
  }
});

test('native addon refuses bad arguments with exceptions, never crashes', () => {
  const b = nativeOrFail();
  if (!b) return;
  const key = Buffer.alloc(16);
  const tag = Buffer.alloc(16);
  assert.throws(() => b.gcmSeal(Buffer.alloc(15), Buffer.alloc(12), Buffer.alloc(0), [], Buffer.alloc(0), 0, tag), RangeError);
  assert.throws(() => b.gcmSeal(key, Buffer.alloc(11), Buffer.alloc(0), [], Buffer.alloc(0), 0, tag), RangeError);
  assert.throws(() => b.gcmSeal(key, Buffer.alloc(12), Buffer.alloc(0), [Buffer.alloc(10)], Buffer.alloc(9), 0, tag), RangeError);
  assert.throws(() => b.gcmSeal(key, Buffer.alloc(12), Buffer.alloc(0), [Buffer.alloc(10)], Buffer.alloc(10), 1, tag), RangeError);
  assert.throws(() => b.gcmSeal(key, Buffer.alloc(12), Buffer.alloc(0), ['x' as unknown as Buffer], Buffer.alloc(10), 0, tag), TypeError);
  assert.throws(() => b.gcmSeal(key, Buffer.alloc(12), Buffer.alloc(0), new Array(65).fill(Buffer.alloc(1)), Buffer.alloc(100), 0, tag), TypeError);
  assert.throws(() => b.ccmOpen(key, Buffer.alloc(12), Buffer.alloc(0), Buffer.alloc(1), tag), RangeError);
  assert.throws(() => b.cmac(Buffer.alloc(32), [], tag), RangeError);
  assert.equal(b.gcmOpen(key, Buffer.alloc(12), Buffer.alloc(0), Buffer.alloc(5, 1), tag), false);
  // a streaming context of the other kind (or anything else) is refused, not misread
  const mac = b.macStart('gmac', key, Buffer.alloc(12));
  const gcm = b.gcmOpenStart(key, Buffer.alloc(12), Buffer.alloc(0));
  assert.throws(() => b.gcmOpenUpdate(mac as never, Buffer.alloc(16)), TypeError);
  assert.throws(() => b.macUpdate(gcm as never, Buffer.alloc(16)), TypeError);
  assert.throws(() => b.macFinal({} as never, tag), TypeError);
});

test('StreamingOpener: decrypting while the frame arrives equals the one-shot result, both backends', () => {
  bothBackends((backend) => {
    for (const [id, keyLen] of [[CIPHER.AES128_GCM, 16], [CIPHER.AES256_GCM, 32]] as const) {
      const key = randomBytes(keyLen);
      for (const size of [64, 300_000, 3 * 1024 * 1024 + 5]) {
        const msg = randomBytes(size);
        const sealed = sealMessage(id, key, 7n, msg);
        const frame = Buffer.from(sealed);
        const o = StreamingOpener.start(id, key, frame, 60);
        assert.ok(o, `${backend}: started`);
        // arrival in uneven steps, including repeats and steps below the update threshold
        for (let filled = 60; filled < frame.length; filled += 100_003) o.update(filled);
        o.update(frame.length - 1);
        const r = o.finish();
        assert.equal(r.sessionId, 7n);
        assert.deepEqual(r.plaintext, msg, `${backend} cipher ${id} size ${size}`);
        // a flipped ciphertext bit (already decrypted in a step) still fails at finish()
        const bad = Buffer.from(sealed);
        bad[bad.length >> 1]! ^= 1;
        const ob = StreamingOpener.start(id, key, bad, bad.length)!;
        ob.update(bad.length);
        assert.throws(() => ob.finish(), /decryption failed/);
        // wrong key
        const ok2 = StreamingOpener.start(id, randomBytes(keyLen), Buffer.from(sealed), 52)!;
        assert.throws(() => ok2.finish(), /decryption failed/);
      }
    }
    // CCM cannot stream; a short or inconsistent header is not started
    assert.equal(StreamingOpener.start(CIPHER.AES128_CCM, Buffer.alloc(16), sealMessage(CIPHER.AES128_CCM, Buffer.alloc(16), 1n, Buffer.alloc(10)), 62), undefined);
    const f = sealMessage(CIPHER.AES128_GCM, Buffer.alloc(16), 1n, Buffer.alloc(100));
    assert.equal(StreamingOpener.start(CIPHER.AES128_GCM, Buffer.alloc(16), f, 51), undefined);
    assert.equal(StreamingOpener.start(CIPHER.AES128_GCM, Buffer.alloc(16), f.subarray(0, 120), 120), undefined);
  });
});

test('StreamingVerifier: same verdict as verifySignature for every algorithm, both backends', async () => {
  const { StreamingVerifier, signMessage, verifySignature } = await import('./signing.js');
  bothBackends((backend) => {
    for (const [alg, keyLen] of [['hmac-sha256', 16], ['aes-cmac', 16], ['aes-gmac', 16], ['aes-gmac', 32]] as const) {
      for (const size of [64, 1000, 700_000, 2 * 1024 * 1024 + 3]) {
        const key = randomBytes(keyLen);
        const msg = randomBytes(size);
        msg.writeUInt32LE(0x424d53fe, 0);
        msg.writeUInt32LE(0x8, 16); // SMB2_FLAGS_SIGNED
        msg.writeUInt32LE(0, 20);
        signMessage(alg, key, msg);
        const v = StreamingVerifier.start(alg, key, msg, 64);
        if (!v) {
          assert.ok(backend === 'node:crypto' && alg === 'aes-cmac', `${backend} ${alg}: only CMAC without the addon may not stream`);
          continue;
        }
        for (let filled = 64; filled < size; filled += 300_007) v.update(filled);
        assert.equal(v.finish(), true, `${backend} ${alg} ${size}`);
        const bad = Buffer.from(msg);
        bad[size - 1]! ^= 1;
        const vb = StreamingVerifier.start(alg, key, bad, size)!;
        vb.update(size);
        assert.equal(vb.finish(), false);
        assert.equal(verifySignature(alg, key, bad), false);
        const wrong = StreamingVerifier.start(alg, randomBytes(keyLen), msg, 64)!;
        assert.equal(wrong.finish(), false);
      }
    }
  });
});

test('sealMessageAsync: sealed on the pool, opens to the same plaintext, many at once', async () => {
  const { sealMessageAsync, ASYNC_SEAL_MIN } = await import('./encryption.js');
  nativeOrFail();
  try {
    for (const [id, keyLen] of [[CIPHER.AES128_GCM, 16], [CIPHER.AES256_GCM, 32], [CIPHER.AES128_CCM, 16]] as const) {
      const key = randomBytes(keyLen);
      const msgs = [100, ASYNC_SEAL_MIN - 1, ASYNC_SEAL_MIN, 3 * ASYNC_SEAL_MIN + 17].flatMap((n) => [randomBytes(n), randomBytes(n)]);
      const sealed = await Promise.all(msgs.map((m) => sealMessageAsync(id, key, 9n, [m.subarray(0, 64), m.subarray(64)])));
      sealed.forEach((f, i) => assert.deepEqual(openMessageInPlace(id, key, f).plaintext, msgs[i], `cipher ${id} #${i}`));
    }
    setAeadForTests(undefined); // without the addon it seals at once
    const m = randomBytes(ASYNC_SEAL_MIN * 2);
    const key = randomBytes(16);
    assert.deepEqual(openMessageInPlace(CIPHER.AES128_GCM, key, await sealMessageAsync(CIPHER.AES128_GCM, key, 1n, [m])).plaintext, m);
  } finally {
    resetAeadForTests();
  }
  const b = aeadBinding();
  if (b) assert.throws(() => b.gcmSealAsync(Buffer.alloc(16), Buffer.alloc(12), Buffer.alloc(0), [Buffer.alloc(10)], Buffer.alloc(5), 0, Buffer.alloc(16), () => undefined), RangeError);
});
