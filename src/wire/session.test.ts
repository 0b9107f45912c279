import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { encodeSessionSetupRequest, decodeSessionSetupRequest, encodeSessionSetupResponse, decodeSessionSetupResponse } from './session-setup.js';
import { encodeLogoffRequest, decodeLogoffRequest, encodeLogoffResponse, decodeLogoffResponse } from './logoff.js';
import { encodeTreeConnectRequest, decodeTreeConnectRequest, encodeTreeConnectResponse, decodeTreeConnectResponse } from './tree-connect.js';
import { encodeTreeDisconnectRequest, decodeTreeDisconnectRequest, encodeTreeDisconnectResponse, decodeTreeDisconnectResponse } from './tree-disconnect.js';
import { encodeErrorResponse, decodeErrorResponse, encodeErrorContexts, decodeErrorContexts, encodeSymlinkErrorData, decodeSymlinkErrorData } from './error.js';
import { msgOf, hex } from './testutil.js';

test('SESSION_SETUP round-trips and decodes a spec-layout vector', () => {
  const req = { flags: 1, securityMode: 2, capabilities: 1, channel: 0, previousSessionId: 9n, securityBuffer: Buffer.from('4e544c4d53535000', 'hex') };
  const m = msgOf(encodeSessionSetupRequest(req));
  assert.equal(m.readUInt16LE(64 + 12), 88);
  assert.deepEqual(decodeSessionSetupRequest(m), req);
  const res = { sessionFlags: 1, securityBuffer: Buffer.from('a1073005a0030a0100', 'hex') };
  assert.deepEqual(decodeSessionSetupResponse(msgOf(encodeSessionSetupResponse(res))), res);
  const empty = encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: Buffer.alloc(0) });
  assert.equal(empty.length, 9);
  const v = hex('1900 00 01 01000000 00000000 5800 0400 0000000000000000 aabbccdd');
  const d = decodeSessionSetupRequest(msgOf(v));
  assert.equal(d.securityMode, 1);
  assert.deepEqual(d.securityBuffer, Buffer.from('aabbccdd', 'hex'));
  assert.throws(() => decodeSessionSetupRequest(msgOf(v.subarray(0, 26))), WireError);
  const far = Buffer.from(v); far.writeUInt16LE(0x200, 12);
  assert.throws(() => decodeSessionSetupRequest(msgOf(far)), WireError);
  assert.throws(() => decodeSessionSetupResponse(msgOf(hex('0800 0000 4800 0000'))), WireError);
});

test('LOGOFF / TREE_DISCONNECT', () => {
  assert.deepEqual(decodeLogoffRequest(msgOf(encodeLogoffRequest())), {});
  assert.deepEqual(decodeLogoffResponse(msgOf(encodeLogoffResponse())), {});
  assert.deepEqual(decodeTreeDisconnectRequest(msgOf(encodeTreeDisconnectRequest())), {});
  assert.deepEqual(decodeTreeDisconnectResponse(msgOf(encodeTreeDisconnectResponse())), {});
  assert.equal(encodeLogoffRequest().toString('hex'), '04000000');
  assert.throws(() => decodeLogoffRequest(msgOf(hex('0500 0000'))), WireError);
  assert.throws(() => decodeTreeDisconnectRequest(msgOf(hex('04'))), WireError);
});

test('TREE_CONNECT round-trips; extension flag does not break decode', () => {
  const req = { flags: 0, path: '\\\\srv\\share' };
  assert.deepEqual(decodeTreeConnectRequest(msgOf(encodeTreeConnectRequest(req))), req);
  const res = { shareType: 1, shareFlags: 0x800, capabilities: 0, maximalAccess: 0x1f01ff };
  assert.deepEqual(decodeTreeConnectResponse(msgOf(encodeTreeConnectResponse(res))), res);
  // 3.1.1 request with EXTENSION_PRESENT: extension header (16 bytes) then path at 0x58.
  const path = Buffer.from('\\\\a\\b', 'utf16le');
  const v = Buffer.concat([hex('0900 0400 5800', path.length.toString(16).padStart(2, '0') + '00',
    '00000000 0000 00000000000000000000'), path]);
  const d = decodeTreeConnectRequest(msgOf(v));
  assert.equal(d.path, '\\\\a\\b');
  assert.equal(d.flags, 4);
  assert.deepEqual(decodeTreeConnectResponse(msgOf(hex('1000 01 00 00080000 00000000 ff011f00'))), res);
  assert.throws(() => decodeTreeConnectResponse(msgOf(hex('1000 01 00 0008'))), WireError);
});

test('ERROR response: empty data is one zero byte; contexts and symlink data', () => {
  const e = encodeErrorResponse();
  assert.equal(e.toString('hex'), '090000000000000000');
  assert.deepEqual(decodeErrorResponse(msgOf(e)), { errorContextCount: 0, errorData: Buffer.alloc(0) });
  const ctx = encodeErrorContexts([{ errorId: 0, data: Buffer.from([1, 2, 3]) }, { errorId: 0x72645253, data: Buffer.from([4]) }]);
  const r = decodeErrorResponse(msgOf(encodeErrorResponse({ errorContextCount: 2, errorData: ctx })));
  assert.deepEqual(decodeErrorContexts(r.errorData, r.errorContextCount).map((c) => c.errorId), [0, 0x72645253]);
  const s = { unparsedPathLength: 6, substituteName: '\\??\\C:\\x', printName: 'C:\\x', flags: 0 };
  assert.deepEqual(decodeSymlinkErrorData(encodeSymlinkErrorData(s)), s);
  assert.throws(() => decodeErrorResponse(msgOf(hex('0900 00 00 10000000 00'))), WireError);
});
