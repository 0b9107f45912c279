// SPNEGO (RFC 4178, MS-SPNG) with a minimal DER codec, carrying NTLMSSP.
//   InitialContextToken ::= [APPLICATION 0] { thisMech OID(1.3.6.1.5.5.2), NegotiationToken }
//   NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp }
//   NegTokenInit ::= SEQUENCE { mechTypes [0] MechTypeList, reqFlags [1] OPTIONAL,
//                               mechToken [2] OCTET STRING OPTIONAL,
//                               mechListMIC [3] OCTET STRING OPTIONAL }  -- MS-SPNG NegTokenInit2: [3] negHints, [4] mechListMIC
//   NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] OID OPTIONAL,
//                               responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL }
import { timingSafeEqual } from 'node:crypto';
import { WireError } from '../wire/buf.js';
import { children, der, octets, oid, readOne, readTlv, type Tlv } from './der.js';
import type { AuthStep } from './types.js';
import { NTLM_CHALLENGE, Rc4, isNtlmssp, ntlmGetMic, ntlmMessageType, ntlmSessionKeys } from './ntlm.js';
import type { NtlmServer } from './ntlm-server.js';
import type { NtlmClient } from './ntlm-client.js';

// OIDs as DER content bytes (hex).
export const OID_SPNEGO = '2b0601050502'; // 1.3.6.1.5.5.2
export const OID_NTLMSSP = '2b06010401823702020a'; // 1.3.6.1.4.1.311.2.2.10
export const OID_KRB5 = '2a864886f712010202'; // 1.2.840.113554.1.2.2
export const OID_MS_KRB5 = '2a864882f712010202'; // 1.2.840.48018.1.2.2

export const NEG_STATE = { ACCEPT_COMPLETED: 0, ACCEPT_INCOMPLETE: 1, REJECT: 2, REQUEST_MIC: 3 } as const;

// ---------------------------------------------------------------------------------------------
// Tokens

export interface NegTokenInit {
  mechTypes: string[]; // OID content hex
  /** DER of the MechTypeList SEQUENCE exactly as received (input of mechListMIC). */
  mechTypesDer: Buffer;
  mechToken?: Buffer;
  mechListMIC?: Buffer;
  hintName?: string;
}

export interface NegTokenResp {
  negState?: number;
  supportedMech?: string;
  responseToken?: Buffer;
  mechListMIC?: Buffer;
}

export function encodeMechTypes(mechs: string[]): Buffer {
  return der(0x30, ...mechs.map(oid));
}

/** InitialContextToken wrapping a NegTokenInit (GSS-API framing, RFC 2743 3.1). */
export function encodeNegTokenInit(init: { mechTypes: string[]; mechToken?: Buffer; hintName?: string; mechListMIC?: Buffer }): Buffer {
  const fields: Buffer[] = [der(0xa0, encodeMechTypes(init.mechTypes))];
  if (init.mechToken) fields.push(der(0xa2, octets(init.mechToken)));
  if (init.hintName !== undefined) fields.push(der(0xa3, der(0x30, der(0xa0, der(0x1b, Buffer.from(init.hintName, 'latin1'))))));
  if (init.mechListMIC) fields.push(der(init.hintName !== undefined ? 0xa4 : 0xa3, octets(init.mechListMIC)));
  return der(0x60, oid(OID_SPNEGO), der(0xa0, der(0x30, ...fields)));
}

export function encodeNegTokenResp(resp: NegTokenResp): Buffer {
  const fields: Buffer[] = [];
  if (resp.negState !== undefined) fields.push(der(0xa0, der(0x0a, Buffer.from([resp.negState]))));
  if (resp.supportedMech) fields.push(der(0xa1, oid(resp.supportedMech)));
  if (resp.responseToken) fields.push(der(0xa2, octets(resp.responseToken)));
  if (resp.mechListMIC) fields.push(der(0xa3, octets(resp.mechListMIC)));
  return der(0xa1, der(0x30, ...fields));
}

function parseNegTokenInitBody(seqContent: Buffer): NegTokenInit {
  const init: NegTokenInit = { mechTypes: [], mechTypesDer: Buffer.alloc(0) };
  let sawMechTypes = false;
  for (const f of children(seqContent)) {
    switch (f.tag) {
      case 0xa0: {
        const list = readOne(f.content, 0x30, 'mechTypes');
        init.mechTypesDer = list.raw;
        init.mechTypes = children(list.content).map((o) => {
          if (o.tag !== 0x06) throw new WireError('DER: mechType is not an OID');
          return o.content.toString('hex');
        });
        sawMechTypes = true;
        break;
      }
      case 0xa2:
        init.mechToken = readOne(f.content, 0x04, 'mechToken').content;
        break;
      case 0xa3: {
        // RFC 4178 mechListMIC (OCTET STRING) or MS-SPNG negHints (SEQUENCE).
        const inner = readTlv(f.content, 0);
        if (inner.tag === 0x04) init.mechListMIC = inner.content;
        else if (inner.tag === 0x30) {
          for (const h of children(inner.content)) {
            if (h.tag === 0xa0) init.hintName = readTlv(h.content, 0).content.toString('latin1');
          }
        }
        break;
      }
      case 0xa4:
        init.mechListMIC = readOne(f.content, 0x04, 'mechListMIC').content;
        break;
      default:
        break; // reqFlags and unknown fields ignored
    }
  }
  if (!sawMechTypes) throw new WireError('NegTokenInit without mechTypes');
  return init;
}

/** Parses a GSS InitialContextToken (0x60 ...) or a bare [0] NegTokenInit. */
export function decodeNegTokenInit(token: Buffer): NegTokenInit {
  let t: Tlv = readTlv(token, 0);
  if (t.tag === 0x60) {
    const parts = children(t.content);
    if (parts.length < 2 || parts[0]!.tag !== 0x06 || parts[0]!.content.toString('hex') !== OID_SPNEGO) {
      throw new WireError('GSS token is not SPNEGO');
    }
    t = parts[1]!;
  }
  if (t.tag !== 0xa0) throw new WireError('not a NegTokenInit');
  return parseNegTokenInitBody(readOne(t.content, 0x30, 'NegTokenInit').content);
}

export function decodeNegTokenResp(token: Buffer): NegTokenResp {
  const t = readOne(token, 0xa1, 'NegTokenResp');
  const seq = readOne(t.content, 0x30, 'NegTokenResp');
  const resp: NegTokenResp = {};
  for (const f of children(seq.content)) {
    switch (f.tag) {
      case 0xa0: {
        const e = readOne(f.content, 0x0a, 'negState');
        if (e.content.length !== 1) throw new WireError('bad negState');
        resp.negState = e.content[0]!;
        break;
      }
      case 0xa1:
        resp.supportedMech = readOne(f.content, 0x06, 'supportedMech').content.toString('hex');
        break;
      case 0xa2:
        resp.responseToken = readOne(f.content, 0x04, 'responseToken').content;
        break;
      case 0xa3:
        resp.mechListMIC = readOne(f.content, 0x04, 'mechListMIC').content;
        break;
      default:
        break;
    }
  }
  return resp;
}

const HINT_NAME = 'not_defined_in_RFC4178@please_ignore';

/** Security buffer for the SMB2 NEGOTIATE response: NegTokenInit2 advertising our mechanisms
 *  (MS-SPNG 2.2.1): NTLMSSP, or with Kerberos MS-KRB5, KRB5 and (unless disabled) NTLMSSP. */
export function serverNegotiateHint(mechs: string[] = [OID_NTLMSSP]): Buffer {
  return encodeNegTokenInit({ mechTypes: mechs, hintName: HINT_NAME });
}

// ---------------------------------------------------------------------------------------------
// mechListMIC via NTLM GSS_GetMIC (sequence number 0, fresh RC4 handle)

function micFor(exportedKey: Buffer, fromClient: boolean, mechTypesDer: Buffer): Buffer {
  const k = ntlmSessionKeys(exportedKey);
  return fromClient
    ? ntlmGetMic(k.clientSign, new Rc4(k.clientSeal), 0, mechTypesDer)
    : ntlmGetMic(k.serverSign, new Rc4(k.serverSeal), 0, mechTypesDer);
}

// ---------------------------------------------------------------------------------------------
// Acceptor

/** A single-leg mechanism acceptor (Kerberos: AP-REQ in, AP-REP out). */
export interface MechAcceptor {
  accept(token: Buffer): AuthStep;
}

const isKrb5 = (m: string | undefined): boolean => m === OID_KRB5 || m === OID_MS_KRB5;

export class SpnegoServer {
  private mode: 'unknown' | 'raw' | 'spnego' = 'unknown';
  private mechTypesDer?: Buffer;
  private sentSupportedMech = false;
  private finished = false;
  /** Kerberos selected without an optimistic token: the next leg carries the AP-REQ. */
  private krb5Mech: string | undefined;

  /** `ntlm` undefined: NTLM is not offered (`ntlm auth = no`); `krb5` undefined: no keytab. */
  constructor(private readonly ntlm: NtlmServer | undefined, private readonly krb5?: MechAcceptor) {}

  accept(token: Buffer): AuthStep {
    if (this.finished) return { state: 'failed', reason: 'invalid-token' };
    try {
      const r = this.step(token);
      if (r.state !== 'continue') this.finished = true;
      return r;
    } catch {
      this.finished = true;
      return { state: 'failed', reason: 'invalid-token' };
    }
  }

  private step(token: Buffer): AuthStep {
    if (this.mode !== 'spnego' && isNtlmssp(token)) {
      if (!this.ntlm) return { state: 'failed', reason: 'unsupported' };
      this.mode = 'raw';
      return this.ntlm.accept(token);
    }
    if (this.mode === 'raw' || token.length === 0) return { state: 'failed', reason: 'invalid-token' };
    this.mode = 'spnego';
    const first = token[0];
    if (first === 0x60 || first === 0xa0) {
      if (this.mechTypesDer) return { state: 'failed', reason: 'invalid-token' };
      const init = decodeNegTokenInit(token);
      this.mechTypesDer = Buffer.from(init.mechTypesDer);
      const preferred = init.mechTypes[0];
      // Kerberos with its optimistic AP-REQ: one leg (RFC 4178 3.2; the client's first choice,
      // so no mechListMIC is needed).
      if (this.krb5 && isKrb5(preferred) && init.mechToken) return this.krb5Done(this.krb5.accept(init.mechToken), preferred!);
      if (this.ntlm && init.mechTypes.includes(OID_NTLMSSP)) {
        if (init.mechToken && preferred === OID_NTLMSSP) return this.wrap(this.ntlm.accept(init.mechToken), undefined);
        // Optimistic token for another mech (or none): select NTLM and ask for its first token.
        this.sentSupportedMech = true;
        return { state: 'continue', token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: OID_NTLMSSP }) };
      }
      const k = init.mechTypes.find(isKrb5);
      if (this.krb5 && k) {
        this.krb5Mech = k;
        return { state: 'continue', token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: k }) };
      }
      return { state: 'failed', reason: 'unsupported' };
    }
    if (first === 0xa1) {
      if (!this.mechTypesDer) return { state: 'failed', reason: 'invalid-token' };
      const resp = decodeNegTokenResp(token);
      if (resp.negState === NEG_STATE.REJECT) return { state: 'failed', reason: 'logon-failure' };
      if (!resp.responseToken) return { state: 'failed', reason: 'invalid-token' };
      if (this.krb5Mech && this.krb5) return this.krb5Done(this.krb5.accept(resp.responseToken), undefined);
      if (!this.ntlm) return { state: 'failed', reason: 'invalid-token' };
      return this.wrap(this.ntlm.accept(resp.responseToken), resp.mechListMIC);
    }
    return { state: 'failed', reason: 'invalid-token' };
  }

  private krb5Done(r: AuthStep, supportedMech: string | undefined): AuthStep {
    if (r.state !== 'done') return r.state === 'failed' ? r : { state: 'failed', reason: 'invalid-token' };
    return { ...r, token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, supportedMech, responseToken: r.token }) };
  }

  private wrap(r: AuthStep, clientMic: Buffer | undefined): AuthStep {
    if (r.state === 'failed') return r;
    if (r.state === 'continue') {
      const supportedMech = this.sentSupportedMech ? undefined : OID_NTLMSSP;
      this.sentSupportedMech = true;
      return {
        state: 'continue',
        token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech, responseToken: r.token }),
      };
    }
    // done: check the client's mechListMIC (if any) and answer with ours.
    let serverMic: Buffer | undefined;
    const key = this.ntlm?.exportedKey;
    if (clientMic && key && !r.guest && !r.anonymous) {
      const want = micFor(key, true, this.mechTypesDer!);
      if (clientMic.length !== 16 || !timingSafeEqual(want, clientMic)) return { state: 'failed', reason: 'logon-failure' };
      serverMic = micFor(key, false, this.mechTypesDer!);
    }
    return {
      ...r,
      token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, responseToken: r.token, mechListMIC: serverMic }),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Initiator

export class SpnegoClient {
  private mechTypesDer = encodeMechTypes([OID_NTLMSSP]);
  private raw = false;
  private sentAuth = false;

  constructor(private readonly ntlm: NtlmClient) {}

  /** First SESSION_SETUP token. `serverHint` (NEGOTIATE response buffer) is checked for NTLMSSP if given. */
  initial(serverHint?: Buffer): Buffer {
    if (serverHint && serverHint.length > 0) {
      const hint = decodeNegTokenInit(serverHint);
      if (!hint.mechTypes.includes(OID_NTLMSSP)) throw new Error('SPNEGO: server does not offer NTLMSSP');
    }
    return encodeNegTokenInit({ mechTypes: [OID_NTLMSSP], mechToken: this.ntlm.negotiate() });
  }

  /** Next token for a server token; undefined when the exchange is complete. Throws on rejection. */
  step(token: Buffer): Buffer | undefined {
    if (isNtlmssp(token)) {
      if (ntlmMessageType(token) !== NTLM_CHALLENGE) throw new Error('NTLM: unexpected message');
      this.raw = true;
      this.sentAuth = true;
      return this.ntlm.authenticate(token);
    }
    if (token.length === 0) {
      if (this.sentAuth) return undefined;
      throw new Error('SPNEGO: empty token');
    }
    const resp = decodeNegTokenResp(token);
    if (resp.negState === NEG_STATE.REJECT) throw new Error('SPNEGO: authentication rejected');
    if (resp.supportedMech && resp.supportedMech !== OID_NTLMSSP) throw new Error('SPNEGO: server chose an unsupported mechanism');
    if (resp.responseToken && resp.responseToken.length > 0) {
      if (ntlmMessageType(resp.responseToken) !== NTLM_CHALLENGE) throw new Error('NTLM: expected CHALLENGE');
      const auth = this.ntlm.authenticate(resp.responseToken);
      this.sentAuth = true;
      const mechListMIC = this.ntlm.anonymous ? undefined : micFor(this.ntlm.sessionKey, true, this.mechTypesDer);
      return encodeNegTokenResp({ responseToken: auth, mechListMIC });
    }
    if (resp.negState === NEG_STATE.ACCEPT_COMPLETED) {
      if (resp.mechListMIC && !this.ntlm.anonymous) {
        const want = micFor(this.ntlm.sessionKey, false, this.mechTypesDer);
        if (resp.mechListMIC.length !== 16 || !timingSafeEqual(want, resp.mechListMIC)) throw new Error('SPNEGO: bad mechListMIC from server');
      }
      return undefined;
    }
    if (!this.sentAuth && resp.negState === NEG_STATE.ACCEPT_INCOMPLETE) {
      // Server selected NTLM without a token (our optimistic token was for it anyway): resend NEGOTIATE.
      return encodeNegTokenResp({ responseToken: this.ntlm.negotiate() });
    }
    throw new Error('SPNEGO: unexpected token');
  }

  /** True when the server answered with raw NTLMSSP. */
  get usedRawNtlm(): boolean {
    return this.raw;
  }
}
