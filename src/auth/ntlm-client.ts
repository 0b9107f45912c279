// NTLM initiator (MS-NLMP 3.1): NTLMv2 with extended session security, 128-bit, KEY_EXCH,
// signing/sealing flags and a MIC. Anonymous when user is ''.
import { randomBytes } from 'node:crypto';
import {
  AV,
  AV_FLAG_MIC_PRESENT,
  NTLMSSP,
  computeMic,
  computeNtlmv2Response,
  decodeChallenge,
  encodeAuthenticate,
  encodeAvPairs,
  encodeNegotiate,
  filetimeNow,
  findAv,
  ntHash as ntHashOf,
  ntowfv2,
  parseAvPairs,
  type AvPair,
} from './ntlm.js';
import { rc4 } from '../crypto/rc4.js';

export interface NtlmClientOptions {
  user: string;
  password?: string;
  ntHash?: Buffer;
  domain?: string;
  workstation?: string;
  /** SPN put in MsvAvTargetName (default "cifs/<server>"). */
  targetSpn?: string;
}

const CLIENT_FLAGS =
  NTLMSSP.NEGOTIATE_UNICODE |
  NTLMSSP.REQUEST_TARGET |
  NTLMSSP.NEGOTIATE_SIGN |
  NTLMSSP.NEGOTIATE_SEAL |
  NTLMSSP.NEGOTIATE_NTLM |
  NTLMSSP.NEGOTIATE_ALWAYS_SIGN |
  NTLMSSP.NEGOTIATE_EXTENDED_SESSIONSECURITY |
  NTLMSSP.NEGOTIATE_TARGET_INFO |
  NTLMSSP.NEGOTIATE_VERSION |
  NTLMSSP.NEGOTIATE_128 |
  NTLMSSP.NEGOTIATE_KEY_EXCH |
  NTLMSSP.NEGOTIATE_56;

export class NtlmClient {
  private negotiateMsg?: Buffer;
  private key?: Buffer;
  /** Flags of the AUTHENTICATE message we sent. */
  flags = 0;

  constructor(private readonly opts: NtlmClientOptions) {}

  get anonymous(): boolean {
    return this.opts.user === '';
  }

  negotiate(): Buffer {
    this.negotiateMsg = encodeNegotiate({ flags: CLIENT_FLAGS, domain: '', workstation: '' });
    return this.negotiateMsg;
  }

  /** Builds the AUTHENTICATE message for `challenge` (raw NTLMSSP CHALLENGE). */
  authenticate(challenge: Buffer): Buffer {
    if (!this.negotiateMsg) this.negotiate();
    const ch = decodeChallenge(challenge);
    const serverFlags = ch.flags;
    if (!(serverFlags & NTLMSSP.NEGOTIATE_UNICODE)) throw new Error('NTLM: server does not support Unicode');
    let flags = CLIENT_FLAGS & (serverFlags | NTLMSSP.NEGOTIATE_VERSION);
    flags |= NTLMSSP.NEGOTIATE_UNICODE;
    const workstation = this.opts.workstation ?? '';

    if (this.anonymous) {
      // MS-NLMP 3.1.5.1.2: anonymous -> empty NT response, LM = Z(1), no session key exchange.
      flags = (flags | NTLMSSP.ANONYMOUS) & ~NTLMSSP.NEGOTIATE_KEY_EXCH;
      this.key = Buffer.alloc(16);
      this.flags = flags;
      return encodeAuthenticate({
        flags,
        lmResponse: Buffer.alloc(1),
        ntResponse: Buffer.alloc(0),
        domain: '',
        user: '',
        workstation,
        encryptedRandomSessionKey: Buffer.alloc(0),
      });
    }

    const hash = this.opts.ntHash ?? (this.opts.password !== undefined ? ntHashOf(this.opts.password) : undefined);
    if (!hash || hash.length !== 16) throw new Error('NTLM: password or 16-byte NT hash required');
    const domain = this.opts.domain ?? '';
    const responseKey = ntowfv2(hash, this.opts.user, domain);

    const serverPairs = parseAvPairs(ch.targetInfo);
    const serverTime = findAv(serverPairs, AV.Timestamp);
    const time = serverTime && serverTime.length === 8 ? serverTime : filetimeNow();
    const pairs: AvPair[] = serverPairs.filter((p) => p.id !== AV.Flags && p.id !== AV.TargetName && p.id !== AV.ChannelBindings);
    const oldFlags = findAv(serverPairs, AV.Flags);
    const avFlags = Buffer.alloc(4);
    avFlags.writeUInt32LE(((oldFlags && oldFlags.length >= 4 ? oldFlags.readUInt32LE(0) : 0) | AV_FLAG_MIC_PRESENT) >>> 0);
    pairs.push({ id: AV.Flags, value: avFlags });
    pairs.push({ id: AV.ChannelBindings, value: Buffer.alloc(16) });
    const server = findAv(serverPairs, AV.DnsComputerName) ?? findAv(serverPairs, AV.NbComputerName);
    const spn = this.opts.targetSpn ?? (server ? 'cifs/' + server.toString('utf16le') : undefined);
    if (spn) pairs.push({ id: AV.TargetName, value: Buffer.from(spn, 'utf16le') });

    const clientChallenge = randomBytes(8);
    const r = computeNtlmv2Response(responseKey, ch.serverChallenge, clientChallenge, time, encodeAvPairs(pairs));
    // With MsvAvTimestamp present the LM response is Z(24) (MS-NLMP 3.1.5.1.2).
    const lmResponse = serverTime ? Buffer.alloc(24) : r.lmResponse;

    let exported: Buffer = r.sessionBaseKey;
    let encryptedRandomSessionKey: Buffer = Buffer.alloc(0);
    if (flags & NTLMSSP.NEGOTIATE_KEY_EXCH) {
      exported = randomBytes(16);
      encryptedRandomSessionKey = rc4(r.sessionBaseKey, exported);
    }
    this.key = exported;
    this.flags = flags;
    const msg = encodeAuthenticate({
      flags,
      lmResponse,
      ntResponse: r.ntResponse,
      domain,
      user: this.opts.user,
      workstation,
      encryptedRandomSessionKey,
    });
    computeMic(exported, this.negotiateMsg!, challenge, msg).copy(msg, 72);
    return msg;
  }

  /** ExportedSessionKey (16 bytes); zeros for anonymous. */
  get sessionKey(): Buffer {
    if (!this.key) throw new Error('NTLM: authentication not complete');
    return this.key;
  }
}
