import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { Dialect, CipherId, HashAlgorithm, SigningAlgorithmId } from './constants.js';
import {
  encodeNegotiateRequest, decodeNegotiateRequest, encodeNegotiateResponse, decodeNegotiateResponse,
  findContext, POSIX_EXTENSIONS_GUID, type NegotiateContext,
} from './negotiate.js';
import { isSmb1Negotiate, decodeSmb1Negotiate, encodeSmb1Negotiate, chooseSmb2DialectFromSmb1 } from './smb1.js';
import { msgOf, hex } from './testutil.js';

const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const ctxs: NegotiateContext[] = [
  { kind: 'preauth', hashAlgorithms: [HashAlgorithm.SHA512], salt: Buffer.alloc(32, 7) },
  { kind: 'encryption', ciphers: [CipherId.AES128_GCM, CipherId.AES128_CCM] },
  { kind: 'compression', algorithms: [1, 2], flags: 0 },
  { kind: 'netname', netName: 'server1' },
  { kind: 'transport', flags: 1 },
  { kind: 'signing', signingAlgorithms: [SigningAlgorithmId.AES_GMAC, SigningAlgorithmId.AES_CMAC] },
  { kind: 'posix', data: POSIX_EXTENSIONS_GUID },
  { kind: 'raw', type: 0x7, data: Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 1, 0]) },
];

test('NEGOTIATE request round-trips with contexts on 8-byte boundaries', () => {
  const body = encodeNegotiateRequest({ securityMode: 1, capabilities: 0x7f, clientGuid: guid, dialects: [0x202, 0x210, 0x300, 0x302, 0x311], contexts: ctxs });
  const msg = msgOf(body);
  const ctxOff = msg.readUInt32LE(64 + 28);
  assert.equal(ctxOff % 8, 0);
  const d = decodeNegotiateRequest(msg);
  assert.deepEqual(d.dialects, [0x202, 0x210, 0x300, 0x302, 0x311]);
  assert.deepEqual(d.clientGuid, guid);
  assert.deepEqual(d.contexts, ctxs);
  assert.equal(findContext(d.contexts, 'encryption')?.ciphers[0], CipherId.AES128_GCM);
});

test('NEGOTIATE request without 3.1.1 keeps ClientStartTime', () => {
  const d = decodeNegotiateRequest(msgOf(encodeNegotiateRequest({ securityMode: 1, capabilities: 0, clientGuid: guid, dialects: [0x202, 0x210], contexts: [], clientStartTime: 5n })));
  assert.equal(d.clientStartTime, 5n);
  assert.deepEqual(d.contexts, []);
});

test('hand-built NEGOTIATE request vector decodes', () => {
  const body = hex(
    '2400 0200 0100 0000 7f000000', guid.toString('hex'),
    '68000000 0200 0000', // NegotiateContextOffset 0x68 (64+36+4=104, already 8-aligned), count 2
    '0202 1103', // dialects
    '0100 2600 00000000 0100 2000 0100', '11'.repeat(32), // preauth: 1 hash (SHA512), 32-byte salt
    '0000', // pad (context 1 ended at 104+8+38=150 -> 152)
    '0200 0400 00000000 0100 0200', // encryption: 1 cipher GCM
  );
  const d = decodeNegotiateRequest(msgOf(body));
  assert.deepEqual(d.dialects, [Dialect.SMB2_02, Dialect.SMB3_11]);
  assert.equal(d.securityMode, 1);
  assert.deepEqual(d.contexts[0], { kind: 'preauth', hashAlgorithms: [1], salt: Buffer.alloc(32, 0x11) });
  assert.deepEqual(d.contexts[1], { kind: 'encryption', ciphers: [2] });
});

test('NEGOTIATE response round-trips, 3.1.1 and 2.1', () => {
  const res = {
    securityMode: 1, dialectRevision: Dialect.SMB3_11, serverGuid: guid, capabilities: 0x2f,
    maxTransactSize: 8 << 20, maxReadSize: 8 << 20, maxWriteSize: 8 << 20, systemTime: 1234n, serverStartTime: 0n,
    securityBuffer: Buffer.from('604806062b0601050502a03e', 'hex'), contexts: ctxs.slice(0, 2),
  };
  const msg = msgOf(encodeNegotiateResponse(res));
  assert.equal(msg.readUInt16LE(64 + 56), 128); // SecurityBufferOffset
  assert.equal(msg.readUInt32LE(64 + 60) % 8, 0);
  assert.deepEqual(decodeNegotiateResponse(msg), res);
  const old = { ...res, dialectRevision: Dialect.SMB2_10, contexts: [], securityBuffer: Buffer.alloc(0) };
  const body = encodeNegotiateResponse(old);
  assert.equal(body.length, 65);
  assert.deepEqual(decodeNegotiateResponse(msgOf(body)), old);
});

test('malformed NEGOTIATE throws WireError', () => {
  const body = encodeNegotiateRequest({ securityMode: 1, capabilities: 0, clientGuid: guid, dialects: [0x311], contexts: ctxs.slice(0, 1) });
  const msg = msgOf(body);
  assert.throws(() => decodeNegotiateRequest(msg.subarray(0, 80)), WireError);
  assert.throws(() => decodeNegotiateRequest(msg.subarray(0, msg.length - 4)), WireError);
  const bad = Buffer.from(msg); bad.writeUInt16LE(35, 64);
  assert.throws(() => decodeNegotiateRequest(bad), WireError);
  const off = Buffer.from(msg); off.writeUInt32LE(5000, 64 + 28);
  assert.throws(() => decodeNegotiateRequest(off), WireError);
  const zero = Buffer.from(msg); zero.writeUInt16LE(0, 66);
  assert.throws(() => decodeNegotiateRequest(zero), WireError);
  const r = msgOf(encodeNegotiateResponse({ securityMode: 1, dialectRevision: 0x311, serverGuid: guid, capabilities: 0, maxTransactSize: 1, maxReadSize: 1, maxWriteSize: 1, systemTime: 0n, serverStartTime: 0n, securityBuffer: Buffer.alloc(10), contexts: [] }));
  r.writeUInt16LE(200, 64 + 58);
  assert.throws(() => decodeNegotiateResponse(r), WireError);
});

test('SMB1 multi-protocol NEGOTIATE is detected and parsed', () => {
  // 32-byte SMB1 header, WordCount 0, ByteCount, dialects (as smbclient sends them).
  const v = hex('ff534d4272 00000000 18 53c8 0000 0000000000000000 0000 0000 0000 0000 0100',
    '00', '2200', '024e54204c4d20302e313200', '02534d4220322e30303200', '02534d4220322e3f3f3f00');
  assert.ok(isSmb1Negotiate(v));
  const d = decodeSmb1Negotiate(v);
  assert.deepEqual(d.dialects, ['NT LM 0.12', 'SMB 2.002', 'SMB 2.???']);
  assert.equal(d.mid, 1);
  assert.equal(chooseSmb2DialectFromSmb1(d.dialects), Dialect.SMB2_WILDCARD);
  assert.equal(chooseSmb2DialectFromSmb1(['NT LM 0.12', 'SMB 2.002']), Dialect.SMB2_02);
  assert.equal(chooseSmb2DialectFromSmb1(['NT LM 0.12']), undefined);
  assert.deepEqual(decodeSmb1Negotiate(encodeSmb1Negotiate(['SMB 2.002'])).dialects, ['SMB 2.002']);
  assert.throws(() => decodeSmb1Negotiate(v.subarray(0, v.length - 3)), WireError);
  assert.equal(isSmb1Negotiate(Buffer.from('fe534d42', 'hex')), false);
});
