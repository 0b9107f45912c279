import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rc4 } from '../crypto/rc4.js';
import { MC311, hex } from '../crypto/vectors.fixture.js';
import {
  AV,
  NTLMSSP,
  Rc4,
  computeNtlmv2Response,
  decodeAuthenticate,
  decodeChallenge,
  decodeNegotiate,
  encodeAuthenticate,
  encodeAvPairs,
  encodeChallenge,
  exportedSessionKey,
  findAv,
  ntHash,
  ntlmGetMic,
  ntlmSessionKeys,
  ntowfv2,
  parseAvPairs,
  verifyNtlmv2Response,
} from './ntlm.js';

/** The SPNEGO security buffer of a SESSION_SETUP request/response packet. */
function secBuf(pkt: Buffer, request: boolean): Buffer {
  const off = pkt.readUInt16LE(64 + (request ? 12 : 4));
  const len = pkt.readUInt16LE(64 + (request ? 14 : 6));
  return pkt.subarray(off, off + len);
}
const ntlmIn = (b: Buffer): Buffer => b.subarray(b.indexOf('NTLMSSP\0', 0, 'latin1'));

// MS-NLMP 4.2.4 (NTLMv2): User "User", UserDom "Domain", Passwd "Password",
// ServerChallenge 0123456789abcdef, ClientChallenge aa*8, Time 0, RandomSessionKey 55*16.
test('ntlm: MS-NLMP 4.2.4 NTLMv2 vectors', () => {
  const nt = ntHash('Password');
  assert.equal(nt.toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
  const key = ntowfv2(nt, 'User', 'Domain');
  assert.equal(key.toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f');
  const u = (s: string): Buffer => Buffer.from(s, 'utf16le');
  const av = encodeAvPairs([
    { id: AV.NbDomainName, value: u('Domain') },
    { id: AV.NbComputerName, value: u('Server') },
  ]);
  const sc = hex('0123456789abcdef');
  const cc = Buffer.alloc(8, 0xaa);
  const r = computeNtlmv2Response(key, sc, cc, Buffer.alloc(8), av);
  assert.equal(r.lmResponse.toString('hex'), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa'); // 4.2.4.2.1
  assert.equal(r.ntProofStr.toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c'); // 4.2.4.2.2
  assert.equal(r.sessionBaseKey.toString('hex'), '8de40ccadbc14a82f15cb0ad0de95ca3'); // 4.2.4.1.2
  // 4.2.4.2.3 encrypted session key: RC4(KeyExchangeKey = SessionBaseKey, RandomSessionKey)
  assert.equal(rc4(r.sessionBaseKey, Buffer.alloc(16, 0x55)).toString('hex'), 'c5dad2544fc9799094ce1ce90bc9d03e');
  // server-side verification
  assert.deepEqual(verifyNtlmv2Response(key, sc, r.ntResponse), r.sessionBaseKey);
  assert.equal(verifyNtlmv2Response(ntowfv2(ntHash('wrong'), 'User', 'Domain'), sc, r.ntResponse), undefined);
  assert.equal(verifyNtlmv2Response(key, sc, Buffer.alloc(24)), undefined); // NTLMv1-sized
});

test('ntlm: RC4 (RFC 6229 key 0x0102030405, first 16 key stream bytes)', () => {
  assert.equal(rc4(hex('0102030405'), Buffer.alloc(16)).toString('hex'), 'b2396305f03dc027ccc3524a0a1118a8');
});

test('ntlm: Windows sign-in from the "anatomy of signing" blog (SUT311\\administrator)', () => {
  const neg = ntlmIn(secBuf(MC311.sessionSetupRequest1, true));
  const chal = ntlmIn(secBuf(MC311.sessionSetupResponse1, false));
  const authTok = secBuf(MC311.sessionSetupRequest2, true);
  const authMsg = authTok.subarray(authTok.indexOf('NTLMSSP\0', 0, 'latin1'), authTok.indexOf('NTLMSSP\0', 0, 'latin1') + 0x1a6);

  const n = decodeNegotiate(neg);
  assert.equal(n.flags >>> 0, 0xe2088297);
  const c = decodeChallenge(chal);
  assert.equal(c.flags >>> 0, 0xe28a8215);
  assert.equal(c.targetName, 'SUT311');
  assert.equal(c.serverChallenge.toString('hex'), '0d1d8ba31179d008');
  const pairs = parseAvPairs(c.targetInfo);
  assert.equal(findAv(pairs, AV.NbComputerName)!.toString('utf16le'), 'SUT311');
  assert.equal(findAv(pairs, AV.Timestamp)!.toString('hex'), 'a1a1f5adcbaed001');
  assert.deepEqual(encodeChallenge(c), chal, 're-encoding the CHALLENGE is byte-identical');

  const a = decodeAuthenticate(authMsg);
  assert.equal(a.user, 'administrator');
  assert.equal(a.domain, 'SUT311');
  assert.equal(a.workstation, 'DRIVER311');
  assert.equal(a.flags >>> 0, 0xe2888215);
  assert.equal(a.mic!.toString('hex'), 'ecac77a5f385a8bf9c38c706eeeddcd3');
  assert.equal(a.ntResponse.length, 238);
  assert.deepEqual(a.lmResponse, Buffer.alloc(24));
  assert.deepEqual(encodeAuthenticate(a), authMsg, 're-encoding the AUTHENTICATE is byte-identical');

  const nt = ntHash(MC311.password);
  assert.deepEqual(nt, MC311.ntHash);
  const key = ntowfv2(nt, a.user, a.domain);
  assert.deepEqual(key, MC311.ntowfv2);
  const base = verifyNtlmv2Response(key, c.serverChallenge, a.ntResponse)!;
  assert.deepEqual(base, MC311.keyExchangeKey);
  const exported = exportedSessionKey(base, a.flags, a.encryptedRandomSessionKey);
  assert.deepEqual(exported, MC311.sessionKey);

  const k = ntlmSessionKeys(exported);
  assert.deepEqual(k.clientSign, MC311.clientSigningKey);
  assert.deepEqual(k.serverSign, MC311.serverSigningKey);
  assert.deepEqual(k.clientSeal, MC311.clientSealingKey);
  assert.deepEqual(k.serverSeal, MC311.serverSealingKey);

  // SPNEGO mechListMICs in that exchange: GSS_GetMIC over the DER MechTypeList, seq 0.
  const mechTypes = hex('300C060A2B06010401823702020A');
  assert.equal(ntlmGetMic(k.clientSign, new Rc4(k.clientSeal), 0, mechTypes).toString('hex'), '0100000063775a9a5fd97f0600000000');
  assert.equal(ntlmGetMic(k.serverSign, new Rc4(k.serverSeal), 0, mechTypes).toString('hex'), '010000003b453cdc3524164200000000');
});

test('ntlm: decoders reject malformed messages with WireError', () => {
  assert.throws(() => decodeNegotiate(Buffer.from('NTLMSSP\0')));
  assert.throws(() => decodeChallenge(Buffer.alloc(64)));
  const bad = Buffer.alloc(88);
  Buffer.from('NTLMSSP\0', 'latin1').copy(bad);
  bad.writeUInt32LE(3, 8);
  bad.writeUInt16LE(100, 20); // NT response length beyond the message
  bad.writeUInt32LE(80, 24);
  assert.throws(() => decodeAuthenticate(bad));
  assert.throws(() => parseAvPairs(hex('0100ff00')));
  assert.equal(NTLMSSP.NEGOTIATE_KEY_EXCH, 0x40000000);
});
