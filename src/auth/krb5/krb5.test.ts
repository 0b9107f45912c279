// Kerberos pieces without a KDC: codecs round trip, and the acceptor/initiator pair on tickets
// forged with a known service key (every refusal path of the acceptor: wrong key, expiry, skew,
// replay, other service, garbage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { enctype } from '../../crypto/krb5-enctypes.js';
import { encodeKeytab, parseKeytab, type KeytabEntry } from './keytab.js';
import { encodeCcache, parseCcache } from './ccache.js';
import { KeyUsage, KrbErrorCode, NameType, decApReq, decAuthenticator, decKrbError, encEncTicketPart, encKrbError, encTicket } from './messages.js';
import { Krb5Acceptor } from './acceptor.js';
import { Krb5InitiatorContext, type TicketCred } from './initiator.js';
import { TokId, unwrapGssToken, wrapGssToken } from './gss.js';
import { mapPrincipal, parseUsernameMap } from './user-map.js';
import { parseKrb5Conf } from './krb5conf.js';
import { NEG_STATE, OID_KRB5, OID_MS_KRB5, OID_NTLMSSP, SpnegoServer, decodeNegTokenResp, encodeNegTokenInit } from '../spnego.js';
import { encodeNegotiate } from '../ntlm.js';

const REALM = 'TEST.LOCAL';
const SVC = ['cifs', 'fileserver.test.local'];
const svcKey = randomBytes(32);
const keytab: KeytabEntry[] = [{ names: SVC, realm: REALM, nameType: NameType.SRV_INST, timestamp: 0, kvno: 3, etype: 18, key: svcKey }];

/** A ticket for `service`, sealed with `key`, valid from `start` for `lifeMs`, as a KDC would issue it. */
function forge(opts: { key?: Buffer; service?: string[]; start?: number; lifeMs?: number; etype?: number } = {}): TicketCred {
  const start = opts.start ?? Date.now();
  const etype = opts.etype ?? 18;
  const session = { type: etype, value: randomBytes(enctype(etype).keyBytes) };
  const client = { type: NameType.PRINCIPAL, names: ['alice'] };
  const part = encEncTicketPart({ flags: 0, key: session, crealm: REALM, cname: client, authtime: start, endtime: start + (opts.lifeMs ?? 3600_000) });
  const sname = { type: NameType.SRV_INST, names: opts.service ?? SVC };
  const ticket = encTicket({ realm: REALM, sname, encPart: { etype: 18, kvno: 3, cipher: enctype(18).encrypt(opts.key ?? svcKey, KeyUsage.TICKET, part) } });
  return { client, crealm: REALM, server: sname, srealm: REALM, key: session, ticket, authtime: start, starttime: start, endtime: start + 3600_000, renewTill: 0, flags: 0 };
}

const acceptor = (now?: () => number): Krb5Acceptor => new Krb5Acceptor({ keytab: () => keytab, realm: REALM, now });

test('keytab and ccache: encode -> parse round trip', () => {
  assert.deepEqual(parseKeytab(encodeKeytab(keytab)), keytab);
  const cred = forge();
  const cc = {
    primary: { realm: REALM, name: cred.client },
    credentials: [{
      client: { realm: REALM, name: cred.client }, server: { realm: REALM, name: cred.server }, keyType: 18, key: cred.key.value,
      authtime: 1_700_000_000_000, starttime: 1_700_000_000_000, endtime: 1_700_003_600_000, renewTill: 0, isSkey: false, flags: 0x50e10000, ticket: cred.ticket,
    }],
  };
  assert.deepEqual(parseCcache(encodeCcache(cc)), cc);
  assert.throws(() => parseKeytab(Buffer.from([5, 2, 0, 0, 0, 50, 0])), /past end/);
  assert.throws(() => parseCcache(Buffer.from([5, 4, 0, 0, 0])), /truncated/);
});

test('krb5.conf: default realm and KDCs', () => {
  const c = parseKrb5Conf('[libdefaults]\n default_realm = TEST.LOCAL\n[realms]\n TEST.LOCAL = {\n  kdc = 127.0.0.1:8888\n  kdc = kdc2\n }\n');
  assert.equal(c.defaultRealm, REALM);
  assert.deepEqual(c.kdcs.get(REALM), ['127.0.0.1:8888', 'kdc2']);
});

test('GSS framing and KRB-ERROR codec', () => {
  const t = wrapGssToken(TokId.AP_REP, Buffer.from('xyz'));
  assert.equal(t.toString('hex').slice(0, 30), '601006092a864886f7120102020200');
  assert.deepEqual(unwrapGssToken(t), { tokId: TokId.AP_REP, inner: Buffer.from('xyz') });
  const e = encKrbError({ errorCode: 37, stime: 1_700_000_000_000, susec: 5, realm: REALM, sname: { type: 2, names: SVC }, eText: 'skew' });
  assert.deepEqual(decKrbError(e), { errorCode: 37, stime: 1_700_000_000_000, susec: 5, realm: REALM, sname: { type: 2, names: SVC }, eText: 'skew', crealm: undefined, cname: undefined, eData: undefined });
});

test('acceptor: AP-REQ accepted, AP-REP verified, both sides hold the acceptor subkey', () => {
  for (const etype of [17, 18]) {
    const cred = forge({ etype });
    const ctx = new Krb5InitiatorContext(cred);
    const token = ctx.apReq();
    const r = acceptor().accept(token);
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.equal(r.client, 'alice');
    assert.equal(r.realm, REALM);
    assert.ok(r.token);
    ctx.apRep(r.token);
    assert.deepEqual(ctx.sessionKey, r.sessionKey);
    assert.equal(r.sessionKey.length, enctype(etype).keyBytes);
    assert.notDeepEqual(r.sessionKey, cred.key.value); // a fresh acceptor subkey, not the ticket key
  }
});

test('acceptor: every refusal has its Kerberos error code', () => {
  const acc = acceptor();
  const code = (token: Buffer, a: Krb5Acceptor = acc): number => {
    const r = a.accept(token);
    assert.equal(r.ok, false);
    return r.ok ? 0 : r.code;
  };
  // wrong keytab key: the ticket was sealed with another key
  assert.equal(code(new Krb5InitiatorContext(forge({ key: randomBytes(32) })).apReq()), KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY);
  // expired ticket (ended 10 minutes ago, beyond the 5 minute skew)
  assert.equal(code(new Krb5InitiatorContext(forge({ start: Date.now() - 3600_000 - 600_000 })).apReq()), KrbErrorCode.KRB_AP_ERR_TKT_EXPIRED);
  // ticket not yet valid
  assert.equal(code(new Krb5InitiatorContext(forge({ start: Date.now() + 600_000 })).apReq()), KrbErrorCode.KRB_AP_ERR_TKT_NYV);
  // client clock 6 minutes ahead
  assert.equal(code(new Krb5InitiatorContext(forge(), () => Date.now() + 360_000).apReq()), KrbErrorCode.KRB_AP_ERR_SKEW);
  // within the skew is fine
  assert.ok(acc.accept(new Krb5InitiatorContext(forge(), () => Date.now() - 240_000).apReq()).ok);
  // replayed authenticator
  const once = new Krb5InitiatorContext(forge()).apReq();
  assert.ok(acc.accept(once).ok);
  assert.equal(code(once), KrbErrorCode.KRB_AP_ERR_REPEAT);
  // ticket for another service
  assert.equal(code(new Krb5InitiatorContext(forge({ service: ['cifs', 'other.test.local'] })).apReq()), KrbErrorCode.KRB_AP_ERR_NOT_US);
  // truncated and garbage tokens
  const good = new Krb5InitiatorContext(forge()).apReq();
  for (const n of [0, 5, 20, good.length - 1]) assert.equal(code(good.subarray(0, n)), KrbErrorCode.KRB_ERR_GENERIC);
  assert.equal(code(randomBytes(200)), KrbErrorCode.KRB_ERR_GENERIC);
  assert.equal(code(wrapGssToken(TokId.AP_REQ, randomBytes(100))), KrbErrorCode.KRB_ERR_GENERIC);
  // a flipped bit in the authenticator
  const flipped = Buffer.from(good);
  flipped[flipped.length - 3]! ^= 1;
  assert.equal(code(flipped), KrbErrorCode.KRB_AP_ERR_BAD_INTEGRITY);
  // and the good one still passes after all that
  assert.ok(acc.accept(good).ok);
});

test('initiator: a forged or foreign AP-REP is refused', () => {
  const ctx = new Krb5InitiatorContext(forge());
  ctx.apReq();
  const other = new Krb5InitiatorContext(forge());
  const r = acceptor().accept(other.apReq());
  assert.ok(r.ok && r.token);
  assert.throws(() => ctx.apRep(r.token!), /does not decrypt/);
  assert.equal(ctx.sessionKey, undefined);
});

test('username map: explicit lines, "!" stops, other realms need a line', () => {
  const rules = parseUsernameMap('# comment\nsmbadmin = alice@TEST.LOCAL "bob"\n!guestish = carol@OTHER.REALM\nlast = carol@OTHER.REALM\n');
  assert.equal(mapPrincipal('alice', REALM, REALM, rules), 'smbadmin');
  assert.equal(mapPrincipal('bob', REALM, REALM, rules), 'smbadmin');
  assert.equal(mapPrincipal('dave', REALM, REALM, rules), 'dave');
  assert.equal(mapPrincipal('dave', 'OTHER.REALM', REALM, rules), undefined);
  assert.equal(mapPrincipal('carol', 'OTHER.REALM', REALM, rules), 'guestish');
  assert.equal(mapPrincipal('host/x', REALM, REALM, rules), undefined);
});

test('SPNEGO acceptor: Kerberos in one leg, NTLM refused when disabled', () => {
  const svc = { accept: (t: Buffer) => {
    const r = acceptor().accept(t);
    return r.ok ? { state: 'done' as const, token: r.token, sessionKey: r.sessionKey, user: r.client, domain: r.realm, guest: false, anonymous: false }
      : { state: 'failed' as const, reason: 'logon-failure' as const };
  } };
  const ctx = new Krb5InitiatorContext(forge());
  const s = new SpnegoServer(undefined, svc);
  const r = s.accept(encodeNegTokenInit({ mechTypes: [OID_MS_KRB5, OID_KRB5], mechToken: ctx.apReq() }));
  assert.equal(r.state, 'done');
  if (r.state !== 'done') return;
  const resp = decodeNegTokenResp(r.token!);
  assert.equal(resp.negState, NEG_STATE.ACCEPT_COMPLETED);
  assert.equal(resp.supportedMech, OID_MS_KRB5);
  ctx.apRep(resp.responseToken!);
  assert.deepEqual(ctx.sessionKey, r.sessionKey);
  // ntlm auth = no: raw NTLMSSP and SPNEGO offering only NTLMSSP are refused
  const neg = encodeNegotiate({ flags: 0xe2088297, domain: '', workstation: '' });
  assert.equal(new SpnegoServer(undefined, svc).accept(neg).state, 'failed');
  assert.deepEqual(new SpnegoServer(undefined, svc).accept(encodeNegTokenInit({ mechTypes: [OID_NTLMSSP], mechToken: neg })), { state: 'failed', reason: 'unsupported' });
  // Kerberos listed second, NTLM off: the server selects Kerberos and waits for the AP-REQ
  const s2 = new SpnegoServer(undefined, svc);
  const sel = s2.accept(encodeNegTokenInit({ mechTypes: [OID_NTLMSSP, OID_KRB5], mechToken: neg }));
  assert.equal(sel.state, 'continue');
  if (sel.state === 'continue') assert.equal(decodeNegTokenResp(sel.token).supportedMech, OID_KRB5);
  // a garbage AP-REQ inside well-formed SPNEGO is a logon failure, not a crash
  assert.deepEqual(new SpnegoServer(undefined, svc).accept(encodeNegTokenInit({ mechTypes: [OID_KRB5], mechToken: randomBytes(64) })), { state: 'failed', reason: 'logon-failure' });
});
