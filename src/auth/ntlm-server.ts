// NTLM acceptor (MS-NLMP 3.2): NEGOTIATE -> CHALLENGE -> AUTHENTICATE. NTLMv2 only;
// LM / NTLMv1 / NTLM2-session responses are refused with a logon failure.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthStep } from './types.js';
import {
  AV,
  AV_FLAG_MIC_PRESENT,
  NTLMSSP,
  NTLM_AUTHENTICATE,
  NTLM_NEGOTIATE,
  computeMic,
  decodeAuthenticate,
  decodeNegotiate,
  encodeAvPairs,
  encodeChallenge,
  exportedSessionKey,
  filetimeNow,
  findAv,
  ntlmMessageType,
  ntowfv2,
  parseAvPairs,
  verifyNtlmv2Response,
  type AuthenticateMessage,
} from './ntlm.js';

export interface UserLookup {
  (user: string, domain: string): { ntHash: Buffer } | undefined;
}

export interface NtlmServerOptions {
  lookup: UserLookup;
  serverName: string;
  domainName: string;
  /** Unknown users become guest ("map to guest = bad user"). */
  allowGuest?: boolean;
  /** Empty user with empty NT response is accepted as anonymous. */
  allowAnonymous?: boolean;
  /** DNS names for the target info (default: lower-cased NetBIOS names). */
  dnsComputerName?: string;
  dnsDomainName?: string;
  /** Tests only: use exactly this CHALLENGE message instead of building one. */
  fixedChallengeMessage?: Buffer;
}

type Phase = 'negotiate' | 'authenticate' | 'finished';

const SERVER_FLAGS =
  NTLMSSP.NEGOTIATE_NTLM |
  NTLMSSP.NEGOTIATE_ALWAYS_SIGN |
  NTLMSSP.NEGOTIATE_EXTENDED_SESSIONSECURITY |
  NTLMSSP.NEGOTIATE_TARGET_INFO |
  NTLMSSP.NEGOTIATE_VERSION |
  NTLMSSP.TARGET_TYPE_SERVER |
  NTLMSSP.REQUEST_TARGET;

/** Flags we echo only when the client asked for them. */
const ECHO_FLAGS =
  NTLMSSP.NEGOTIATE_SIGN | NTLMSSP.NEGOTIATE_SEAL | NTLMSSP.NEGOTIATE_KEY_EXCH | NTLMSSP.NEGOTIATE_128 | NTLMSSP.NEGOTIATE_56;

export class NtlmServer {
  private phase: Phase = 'negotiate';
  private negotiateMsg?: Buffer;
  private challengeMsg?: Buffer;
  private serverChallenge?: Buffer;
  private negotiatedFlags = 0;
  /** ExportedSessionKey of a completed, authenticated (non-guest) exchange; used for SPNEGO mechListMIC. */
  exportedKey?: Buffer;
  /** Whether the completed AUTHENTICATE carried a verified MIC. */
  micVerified = false;

  constructor(private readonly opts: NtlmServerOptions) {}

  get flags(): number {
    return this.negotiatedFlags;
  }

  accept(token: Buffer): AuthStep {
    try {
      return this.step(token);
    } catch {
      this.phase = 'finished';
      return { state: 'failed', reason: 'invalid-token' };
    }
  }

  private step(token: Buffer): AuthStep {
    const type = ntlmMessageType(token);
    if (this.phase === 'negotiate' && type === NTLM_NEGOTIATE) return this.onNegotiate(token);
    if (this.phase === 'authenticate' && type === NTLM_AUTHENTICATE) {
      this.phase = 'finished';
      return this.onAuthenticate(token);
    }
    this.phase = 'finished';
    return { state: 'failed', reason: 'invalid-token' };
  }

  private onNegotiate(token: Buffer): AuthStep {
    const neg = decodeNegotiate(token);
    let flags = SERVER_FLAGS | (neg.flags & ECHO_FLAGS);
    flags |= neg.flags & NTLMSSP.NEGOTIATE_UNICODE ? NTLMSSP.NEGOTIATE_UNICODE : NTLMSSP.NEGOTIATE_OEM;
    let challengeMsg: Buffer;
    if (this.opts.fixedChallengeMessage) {
      challengeMsg = this.opts.fixedChallengeMessage;
      this.serverChallenge = challengeMsg.subarray(24, 32);
      flags = challengeMsg.readUInt32LE(20);
    } else {
      this.serverChallenge = randomBytes(8);
      const nbComputer = this.opts.serverName.toUpperCase();
      const nbDomain = this.opts.domainName.toUpperCase();
      const u = (s: string): Buffer => Buffer.from(s, 'utf16le');
      const targetInfo = encodeAvPairs([
        { id: AV.NbDomainName, value: u(nbDomain) },
        { id: AV.NbComputerName, value: u(nbComputer) },
        { id: AV.DnsDomainName, value: u(this.opts.dnsDomainName ?? this.opts.domainName.toLowerCase()) },
        { id: AV.DnsComputerName, value: u(this.opts.dnsComputerName ?? this.opts.serverName.toLowerCase()) },
        { id: AV.Timestamp, value: filetimeNow() },
      ]);
      challengeMsg = encodeChallenge({ flags, targetName: nbComputer, serverChallenge: this.serverChallenge, targetInfo });
    }
    this.negotiateMsg = Buffer.from(token);
    this.challengeMsg = challengeMsg;
    this.negotiatedFlags = flags;
    this.phase = 'authenticate';
    return { state: 'continue', token: challengeMsg };
  }

  private onAuthenticate(token: Buffer): AuthStep {
    const auth = decodeAuthenticate(token);
    const { user, domain } = auth;
    const ntLen = auth.ntResponse.length;

    // Anonymous (MS-NLMP 3.2.5.1.2): empty user, empty NT response, LM empty or Z(1).
    if (user === '' && ntLen === 0) {
      const lmOk = auth.lmResponse.length === 0 || (auth.lmResponse.length === 1 && auth.lmResponse[0] === 0);
      if (!this.opts.allowAnonymous || !lmOk) return { state: 'failed', reason: 'logon-failure' };
      return { state: 'done', sessionKey: Buffer.alloc(16), user: '', domain, guest: false, anonymous: true };
    }
    if (ntLen === 0 || ntLen <= 24) {
      // LM-only, NTLMv1 or NTLM2 session response: refused.
      return { state: 'failed', reason: 'logon-failure' };
    }
    if (ntLen < 16 + 28) return { state: 'failed', reason: 'invalid-token' };
    // The NTLMv2_CLIENT_CHALLENGE's AV pairs must parse before any password check: a malformed blob
    // is INVALID_PARAMETER, not LOGON_FAILURE (Samba ntlmssp_server_preauth; smb2.session.ntlmssp_bug14932).
    try {
      parseAvPairs(auth.ntResponse.subarray(16 + 28));
    } catch {
      return { state: 'failed', reason: 'invalid-token' };
    }

    const entry = this.opts.lookup(user, domain);
    if (!entry) {
      if (this.opts.allowGuest && user !== '') {
        return { state: 'done', sessionKey: Buffer.alloc(16), user, domain, guest: true, anonymous: false };
      }
      return { state: 'failed', reason: 'logon-failure' };
    }

    const baseKey = this.verifyResponse(entry.ntHash, auth);
    if (!baseKey) return { state: 'failed', reason: 'logon-failure' };
    const exported = exportedSessionKey(baseKey, auth.flags, auth.encryptedRandomSessionKey);

    // MIC check when the client says one is present (MsvAvFlags bit 0x2 in its AV pairs).
    const clientPairs = parseAvPairs(auth.ntResponse.subarray(16 + 28));
    const avFlags = findAv(clientPairs, AV.Flags);
    const micPresent = avFlags !== undefined && avFlags.length >= 4 && (avFlags.readUInt32LE(0) & AV_FLAG_MIC_PRESENT) !== 0;
    if (micPresent) {
      if (!auth.mic) return { state: 'failed', reason: 'invalid-token' };
      const mic = computeMic(exported, this.negotiateMsg!, this.challengeMsg!, token);
      if (!timingSafeEqual(mic, auth.mic)) return { state: 'failed', reason: 'logon-failure' };
      this.micVerified = true;
    }
    this.exportedKey = exported;
    this.negotiatedFlags = auth.flags;
    return { state: 'done', sessionKey: exported, user, domain, guest: false, anonymous: false };
  }

  /** Tries the domain as sent, then the usual fallbacks clients use for local accounts. */
  private verifyResponse(hash: Buffer, auth: AuthenticateMessage): Buffer | undefined {
    const tried = new Set<string>();
    for (const d of [auth.domain, '', this.opts.domainName, this.opts.serverName, auth.domain.toUpperCase()]) {
      if (tried.has(d)) continue;
      tried.add(d);
      const key = verifyNtlmv2Response(ntowfv2(hash, auth.user, d), this.serverChallenge!, auth.ntResponse);
      if (key) return key;
    }
    return undefined;
  }
}
