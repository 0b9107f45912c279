import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreauthHash } from './preauth.js';
import { MC311 } from './vectors.fixture.js';

test('preauth: SHA-512 chain over the anatomy blog 3.1.1 exchange', () => {
  const h = new PreauthHash();
  assert.deepEqual(h.value, Buffer.alloc(64));
  h.update(MC311.negotiateRequest);
  assert.deepEqual(h.value, MC311.hashAfterNegotiateRequest);
  h.update(MC311.negotiateResponse);
  assert.deepEqual(h.value, MC311.hashAfterNegotiateResponse);
  const session = h.clone(); // per-session copy of the connection hash
  session.update(MC311.sessionSetupRequest1);
  assert.deepEqual(session.value, MC311.hashAfterSessionSetupRequest1);
  session.update([MC311.sessionSetupResponse1.subarray(0, 10), MC311.sessionSetupResponse1.subarray(10)]);
  assert.deepEqual(session.value, MC311.hashAfterSessionSetupResponse1);
  session.update(MC311.sessionSetupRequest2);
  assert.deepEqual(session.value, MC311.hashAfterSessionSetupRequest2);
  // the connection hash was not affected by the clone's updates
  assert.deepEqual(h.value, MC311.hashAfterNegotiateResponse);
  // constructing from a value continues the chain
  assert.deepEqual(new PreauthHash(MC311.hashAfterNegotiateResponse).update(MC311.sessionSetupRequest1).value, MC311.hashAfterSessionSetupRequest1);
});

test('preauth: value is a copy', () => {
  const h = new PreauthHash();
  h.value.fill(1);
  assert.deepEqual(h.value, Buffer.alloc(64));
  assert.throws(() => new PreauthHash(Buffer.alloc(10)));
});
