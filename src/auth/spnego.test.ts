import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { MC311 } from '../crypto/vectors.fixture.js';
import {
  AV,
  NTLMSSP,
  computeNtlmv2Response,
  decodeChallenge,
  encodeAuthenticate,
  encodeAvPairs,
  encodeNegotiate,
  ntHash,
  ntowfv2,
  parseAvPairs,
} from './ntlm.js';
import { NtlmClient } from './ntlm-client.js';
import { NtlmServer } from './ntlm-server.js';
import {
  NEG_STATE,
  OID_KRB5,
  OID_NTLMSSP,
  SpnegoClient,
  SpnegoServer,
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeNegTokenInit,
  encodeNegTokenResp,
  serverNegotiateHint,
} from './spnego.js';
import { UserDb } from './userdb.js';

function secBuf(pkt: Buffer, request: boolean): Buffer {
  const off = pkt.readUInt16LE(64 + (request ? 12 : 4));
  const len = pkt.readUInt16LE(64 + (request ? 14 : 6));
  return pkt.subarray(off, off + len);
}

function makeServer(extra: Partial<ConstructorParameters<typeof NtlmServer>[0]> = {}): { spnego: SpnegoServer; ntlm: NtlmServer } {
  const db = UserDb.empty();
  db.add('alice', 'S3cret!');
  const ntlm = new NtlmServer({ lookup: db.lookup, serverName: 'SMBTS', domainName: 'WORKGROUP', ...extra });
  return { spnego: new SpnegoServer(ntlm), ntlm };
}

function run(client: SpnegoClient, server: SpnegoServer, hint?: Buffer) {
  let tok: Buffer | undefined = client.initial(hint);
  for (let i = 0; i < 4 && tok; i++) {
    const r = server.accept(tok);
    if (r.state !== 'continue') return { result: r, clientAfter: r.state === 'done' && r.token ? client.step(r.token) : undefined };
    tok = client.step(r.token);
  }
  throw new Error('exchange did not finish');
}

test('spnego: replays the Windows 10 -> Server 2016 exchange from the "anatomy of signing" blog', () => {
  const db = UserDb.empty();
  db.add('Administrator', MC311.password);
  const chalToken = secBuf(MC311.sessionSetupResponse1, false);
  const chalMsg = chalToken.subarray(chalToken.indexOf('NTLMSSP\0', 0, 'latin1'));
  const ntlm = new NtlmServer({ lookup: db.lookup, serverName: 'SUT311', domainName: 'SUT311', fixedChallengeMessage: chalMsg });
  const server = new SpnegoServer(ntlm);

  const r1 = server.accept(secBuf(MC311.sessionSetupRequest1, true));
  assert.equal(r1.state, 'continue');
  assert.deepEqual(r1.state === 'continue' && r1.token, chalToken, 'our NegTokenResp is byte-identical to Windows');

  const r2 = server.accept(secBuf(MC311.sessionSetupRequest2, true));
  assert.equal(r2.state, 'done');
  if (r2.state !== 'done') return;
  assert.deepEqual(r2.sessionKey, MC311.sessionKey);
  assert.equal(r2.user, 'administrator');
  assert.equal(r2.domain, 'SUT311');
  assert.equal(r2.guest, false);
  assert.ok(ntlm.micVerified);
  // accept-completed + mechListMIC, identical to what Windows sent
  assert.deepEqual(r2.token, secBuf(MC311.sessionSetupResponse2, false));
});

test('spnego: same exchange with a wrong password is a logon failure', () => {
  const db = UserDb.empty();
  db.add('administrator', 'Password02!');
  const chalToken = secBuf(MC311.sessionSetupResponse1, false);
  const ntlm = new NtlmServer({
    lookup: db.lookup,
    serverName: 'SUT311',
    domainName: 'SUT311',
    fixedChallengeMessage: chalToken.subarray(chalToken.indexOf('NTLMSSP\0', 0, 'latin1')),
  });
  const server = new SpnegoServer(ntlm);
  assert.equal(server.accept(secBuf(MC311.sessionSetupRequest1, true)).state, 'continue');
  assert.deepEqual(server.accept(secBuf(MC311.sessionSetupRequest2, true)), { state: 'failed', reason: 'logon-failure' });
});

test('spnego: NtlmClient <-> NtlmServer round trip, right password', () => {
  const { spnego } = makeServer();
  const ntlmClient = new NtlmClient({ user: 'ALICE', password: 'S3cret!', domain: 'WORKGROUP', workstation: 'CLIENT1' });
  const client = new SpnegoClient(ntlmClient);
  const { result, clientAfter } = run(client, spnego, serverNegotiateHint());
  assert.equal(result.state, 'done');
  if (result.state !== 'done') return;
  assert.equal(clientAfter, undefined);
  assert.deepEqual(result.sessionKey, ntlmClient.sessionKey);
  assert.equal(result.sessionKey.length, 16);
  assert.equal(result.user, 'ALICE');
  assert.equal(result.guest, false);
  assert.equal(result.anonymous, false);
  const resp = decodeNegTokenResp(result.token!);
  assert.equal(resp.negState, NEG_STATE.ACCEPT_COMPLETED);
  assert.equal(resp.mechListMIC?.length, 16);
});

test('spnego: wrong password and unknown user are logon failures', () => {
  for (const [user, pw] of [['alice', 'nope'], ['bob', 'S3cret!']] as const) {
    const { spnego } = makeServer();
    const { result } = run(new SpnegoClient(new NtlmClient({ user, password: pw })), spnego);
    assert.deepEqual(result, { state: 'failed', reason: 'logon-failure' });
  }
});

test('spnego: guest for unknown users only when allowed; anonymous only when allowed', () => {
  {
    const { spnego } = makeServer({ allowGuest: true });
    const { result } = run(new SpnegoClient(new NtlmClient({ user: 'bob', password: 'x' })), spnego);
    assert.equal(result.state, 'done');
    assert.ok(result.state === 'done' && result.guest && !result.anonymous);
  }
  {
    // bad password for an existing user is still a failure with guest mapping on
    const { spnego } = makeServer({ allowGuest: true });
    const { result } = run(new SpnegoClient(new NtlmClient({ user: 'alice', password: 'x' })), spnego);
    assert.deepEqual(result, { state: 'failed', reason: 'logon-failure' });
  }
  {
    const { spnego } = makeServer({ allowAnonymous: true });
    const c = new NtlmClient({ user: '' });
    const { result } = run(new SpnegoClient(c), spnego);
    assert.equal(result.state, 'done');
    assert.ok(result.state === 'done' && result.anonymous && !result.guest);
    assert.deepEqual(c.sessionKey, Buffer.alloc(16));
  }
  {
    const { spnego } = makeServer();
    const { result } = run(new SpnegoClient(new NtlmClient({ user: '' })), spnego);
    assert.deepEqual(result, { state: 'failed', reason: 'logon-failure' });
  }
});

test('spnego: NTLMv1 and LM-only responses are refused', () => {
  for (const ntLen of [24, 0]) {
    const { spnego } = makeServer();
    const c = new SpnegoClient(new NtlmClient({ user: 'alice', password: 'S3cret!' }));
    const r1 = spnego.accept(c.initial());
    assert.equal(r1.state, 'continue');
    if (r1.state !== 'continue') return;
    const chal = decodeNegTokenResp(r1.token).responseToken!;
    const auth = encodeAuthenticate({
      flags: NTLMSSP.NEGOTIATE_UNICODE | NTLMSSP.NEGOTIATE_NTLM,
      lmResponse: Buffer.alloc(24, 1),
      ntResponse: Buffer.alloc(ntLen, 2),
      domain: '',
      user: 'alice',
      workstation: '',
      encryptedRandomSessionKey: Buffer.alloc(0),
    });
    assert.ok(chal.length > 0);
    assert.deepEqual(spnego.accept(encodeNegTokenResp({ responseToken: auth })), { state: 'failed', reason: 'logon-failure' });
  }
});

test('spnego: raw NTLMSSP tokens (no SPNEGO) are accepted', () => {
  const db = UserDb.empty();
  db.add('alice', 'pw');
  const spnego = new SpnegoServer(new NtlmServer({ lookup: db.lookup, serverName: 'S', domainName: 'D' }));
  const c = new NtlmClient({ user: 'alice', password: 'pw' });
  const r1 = spnego.accept(c.negotiate());
  assert.equal(r1.state, 'continue');
  if (r1.state !== 'continue') return;
  assert.equal(r1.token.subarray(0, 8).toString('latin1'), 'NTLMSSP\0');
  const r2 = spnego.accept(c.authenticate(r1.token));
  assert.equal(r2.state, 'done');
  assert.deepEqual(r2.state === 'done' && r2.sessionKey, c.sessionKey);
});

test('spnego: optimistic krb5 first -> server selects NTLM, client follows', () => {
  const { spnego } = makeServer();
  const c = new NtlmClient({ user: 'alice', password: 'S3cret!' });
  const init = encodeNegTokenInit({ mechTypes: [OID_KRB5, OID_NTLMSSP], mechToken: Buffer.from('krb5 blob') });
  const r1 = spnego.accept(init);
  assert.equal(r1.state, 'continue');
  if (r1.state !== 'continue') return;
  const resp = decodeNegTokenResp(r1.token);
  assert.equal(resp.supportedMech, OID_NTLMSSP);
  assert.equal(resp.responseToken, undefined);
  const r2 = spnego.accept(encodeNegTokenResp({ responseToken: c.negotiate() }));
  assert.equal(r2.state, 'continue');
  if (r2.state !== 'continue') return;
  const r3 = spnego.accept(encodeNegTokenResp({ responseToken: c.authenticate(decodeNegTokenResp(r2.token).responseToken!) }));
  assert.equal(r3.state, 'done'); // no mechListMIC sent: tolerated
});

test('spnego: a tampered mechListMIC fails; a missing one is tolerated', () => {
  const { spnego } = makeServer();
  const client = new SpnegoClient(new NtlmClient({ user: 'alice', password: 'S3cret!' }));
  const r1 = spnego.accept(client.initial());
  if (r1.state !== 'continue') throw new Error('expected continue');
  const t2 = decodeNegTokenResp(client.step(r1.token)!);
  t2.mechListMIC![5]! ^= 1;
  assert.deepEqual(spnego.accept(encodeNegTokenResp(t2)), { state: 'failed', reason: 'logon-failure' });
});

test('spnego: garbage tokens give invalid-token and never throw', () => {
  const samples: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0x60]),
    Buffer.from([0x60, 0x84, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from('a1 03 30 01 00'.replace(/ /g, ''), 'hex'),
    Buffer.from('NTLMSSP\0\x03\0\0\0', 'latin1'),
    Buffer.from('NTLMSSP\0\x01\0\0\0', 'latin1'),
    Buffer.from('hello world'),
    serverNegotiateHint().subarray(0, 20),
  ];
  for (let i = 0; i < 200; i++) {
    const base = i % 2 ? serverNegotiateHint() : new SpnegoClient(new NtlmClient({ user: 'a', password: 'b' })).initial();
    const m = Buffer.from(base);
    m[(i * 7) % m.length] = (i * 31) & 0xff;
    samples.push(m.subarray(0, (i * 13) % (m.length + 1)));
  }
  for (const s of samples) {
    const { spnego } = makeServer();
    const r = spnego.accept(s);
    assert.ok(r.state === 'failed' || r.state === 'continue', `state ${r.state}`);
    if (r.state === 'failed') assert.ok(['invalid-token', 'unsupported'].includes(r.reason));
  }
  // AUTHENTICATE without a preceding NEGOTIATE
  const { spnego } = makeServer();
  const auth = encodeNegTokenInit({ mechTypes: [OID_NTLMSSP], mechToken: Buffer.from('NTLMSSP\0\x03\0\0\0' + '\0'.repeat(80), 'latin1') });
  assert.deepEqual(spnego.accept(auth), { state: 'failed', reason: 'invalid-token' });
  // a finished context refuses more tokens
  assert.deepEqual(spnego.accept(auth), { state: 'failed', reason: 'invalid-token' });
});

test('spnego: server hint parses and advertises NTLMSSP; Windows hint is understood', () => {
  const h = decodeNegTokenInit(serverNegotiateHint());
  assert.deepEqual(h.mechTypes, [OID_NTLMSSP]);
  assert.equal(h.hintName, 'not_defined_in_RFC4178@please_ignore');
  // Windows Server 2016 NEGOTIATE response security buffer (NEGOEX + NTLMSSP)
  const neg = MC311.negotiateResponse;
  const win = neg.subarray(neg.readUInt16LE(64 + 56), neg.readUInt16LE(64 + 56) + neg.readUInt16LE(64 + 58));
  const w = decodeNegTokenInit(win);
  assert.deepEqual(w.mechTypes, ['2b06010401823702021e', OID_NTLMSSP]);
  // the client accepts it
  assert.ok(new SpnegoClient(new NtlmClient({ user: 'a', password: 'b' })).initial(win).length > 0);
});

test('ntlm client: produces NTLMv2 with MIC flag, Z(24) LM response and KEY_EXCH', () => {
  const { ntlm } = makeServer();
  const c = new NtlmClient({ user: 'alice', password: 'S3cret!' });
  const r1 = ntlm.accept(c.negotiate());
  if (r1.state !== 'continue') throw new Error('continue expected');
  const ch = decodeChallenge(r1.token);
  assert.ok(ch.flags & NTLMSSP.NEGOTIATE_KEY_EXCH);
  const authMsg = c.authenticate(r1.token);
  assert.ok(c.flags & NTLMSSP.NEGOTIATE_KEY_EXCH && c.flags & NTLMSSP.NEGOTIATE_128);
  // same user with the NT hash instead of the password gives an equivalent client
  const c2 = new NtlmClient({ user: 'alice', ntHash: ntHash('S3cret!') });
  assert.ok(c2.authenticate(r1.token).length > 0);
  const r2 = ntlm.accept(authMsg);
  assert.equal(r2.state, 'done');
  // replaying a self-made NTLMv2 response computed by hand also works (no MIC flag)
  const { ntlm: s2 } = makeServer();
  const r = s2.accept(encodeNegotiate({ flags: NTLMSSP.NEGOTIATE_UNICODE | NTLMSSP.NEGOTIATE_NTLM, domain: '', workstation: '' }));
  if (r.state !== 'continue') throw new Error('continue expected');
  const chal = decodeChallenge(r.token);
  const resp = computeNtlmv2Response(ntowfv2(ntHash('S3cret!'), 'alice', ''), chal.serverChallenge, Buffer.alloc(8, 1), Buffer.alloc(8), chal.targetInfo);
  const done = s2.accept(
    encodeAuthenticate({
      flags: NTLMSSP.NEGOTIATE_UNICODE | NTLMSSP.NEGOTIATE_NTLM,
      lmResponse: resp.lmResponse,
      ntResponse: resp.ntResponse,
      domain: '',
      user: 'alice',
      workstation: '',
      encryptedRandomSessionKey: Buffer.alloc(0),
    }),
  );
  assert.equal(done.state, 'done');
  assert.deepEqual(done.state === 'done' && done.sessionKey, resp.sessionBaseKey);
  assert.ok(parseAvPairs(chal.targetInfo).some((p) => p.id === AV.Timestamp));
  assert.ok(encodeAvPairs([]).length === 4 && createHmac('md5', Buffer.alloc(1)).digest().length === 16);
});
