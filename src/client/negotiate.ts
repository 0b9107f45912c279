// Client side of NEGOTIATE (MS-SMB2 3.2.4.2.1 / 3.2.5.2): dialects 2.1 .. 3.1.1, and for 3.1.1 the
// preauth-integrity (SHA-512), encryption (AES-128/256 GCM/CCM) and signing (AES-GMAC/CMAC) contexts.
import { randomBytes } from 'node:crypto';
import { Capabilities, CipherId, Command, Dialect, HashAlgorithm, SecurityMode, SigningAlgorithmId } from '../wire/constants.js';
import { decodeNegotiateResponse, encodeNegotiateRequest, findContext, type NegotiateContext } from '../wire/negotiate.js';
import { Status } from '../wire/status.js';
import { PreauthHash } from '../crypto/preauth.js';
import type { SigningAlgorithm } from '../crypto/signing.js';
import type { Connection } from './connection.js';
import { SmbError, parse } from './errors.js';

export const DEFAULT_DIALECTS = [Dialect.SMB2_10, Dialect.SMB3_00, Dialect.SMB3_02, Dialect.SMB3_11];
/** Preference order we offer; the 3.1.1 server picks the first of ours it supports. */
export const DEFAULT_CIPHERS = [CipherId.AES128_GCM, CipherId.AES128_CCM, CipherId.AES256_GCM, CipherId.AES256_CCM];

export interface NegotiateOptions {
  dialects?: number[];
  /** Client requires signing (SecurityMode SIGNING_REQUIRED). */
  requireSigning?: boolean;
  ciphers?: number[];
  /** SMB 3.1.1 signing algorithms to offer, in preference order (default AES-GMAC, AES-CMAC). */
  signingAlgorithms?: number[];
  clientGuid: Buffer;
  host: string;
  /** Advertise SMB2_GLOBAL_CAP_MULTI_CHANNEL (servers only report theirs to clients that do). */
  multichannel?: boolean;
}

export interface NegotiateResult {
  dialect: number;
  serverGuid: Buffer;
  serverSecurityMode: number;
  serverCapabilities: number;
  clientSecurityMode: number;
  clientCapabilities: number;
  clientGuid: Buffer;
  /** Dialects we offered (for FSCTL_VALIDATE_NEGOTIATE_INFO). */
  dialects: number[];
  maxReadSize: number;
  maxWriteSize: number;
  maxTransactSize: number;
  /** SPNEGO init token from the server (may be empty). */
  securityBuffer: Buffer;
  /** 0 when the connection cannot encrypt. */
  cipherId: number;
  signingAlg: SigningAlgorithm;
  /** Connection.PreauthIntegrityHashValue after NEGOTIATE (3.1.1 only). */
  preauth: PreauthHash | undefined;
}

export async function negotiate(conn: Connection, opts: NegotiateOptions): Promise<NegotiateResult> {
  const dialects = opts.dialects?.length ? opts.dialects : DEFAULT_DIALECTS;
  for (const d of dialects) {
    if (![Dialect.SMB2_02, Dialect.SMB2_10, Dialect.SMB3_00, Dialect.SMB3_02, Dialect.SMB3_11].includes(d as 0x0202)) {
      throw new SmbError(Status.INVALID_PARAMETER, `unknown dialect 0x${d.toString(16)}`);
    }
  }
  const ciphers = opts.ciphers?.length ? opts.ciphers : DEFAULT_CIPHERS;
  const securityMode = SecurityMode.SIGNING_ENABLED | (opts.requireSigning ? SecurityMode.SIGNING_REQUIRED : 0);
  const has3 = dialects.some((d) => d >= Dialect.SMB3_00);
  const capabilities = Capabilities.LARGE_MTU | (has3 ? Capabilities.ENCRYPTION : 0) |
    (has3 && opts.multichannel ? Capabilities.MULTI_CHANNEL : 0);
  const contexts: NegotiateContext[] = [];
  if (dialects.includes(Dialect.SMB3_11)) {
    contexts.push({ kind: 'preauth', hashAlgorithms: [HashAlgorithm.SHA512], salt: randomBytes(32) });
    contexts.push({ kind: 'encryption', ciphers });
    contexts.push({ kind: 'signing', signingAlgorithms: opts.signingAlgorithms ?? [SigningAlgorithmId.AES_GMAC, SigningAlgorithmId.AES_CMAC] });
    contexts.push({ kind: 'netname', netName: opts.host });
  }
  const body = encodeNegotiateRequest({ securityMode, capabilities, clientGuid: opts.clientGuid, dialects, contexts });
  let sent: Buffer | undefined;
  const res = await conn.send({ command: Command.NEGOTIATE, body }, { onSent: (m) => { sent = m[0]; } });
  if (res.header.status !== Status.SUCCESS) {
    throw new SmbError(res.header.status, `negotiate failed: ${new SmbError(res.header.status).message}`);
  }
  const r = parse(() => decodeNegotiateResponse(res.msg));
  const dialect = r.dialectRevision;
  if (!dialects.includes(dialect)) {
    throw new SmbError(Status.NOT_SUPPORTED, `server chose dialect 0x${dialect.toString(16)}, which we did not offer (offered ${dialects.map((d) => '0x' + d.toString(16)).join(', ')})`);
  }

  let preauth: PreauthHash | undefined;
  let cipherId = 0;
  let signingAlg: SigningAlgorithm = dialect >= Dialect.SMB3_00 ? 'aes-cmac' : 'hmac-sha256';
  if (dialect === Dialect.SMB3_11) {
    const pa = findContext(r.contexts, 'preauth');
    if (!pa || pa.hashAlgorithms.length !== 1 || pa.hashAlgorithms[0] !== HashAlgorithm.SHA512) {
      throw new SmbError(Status.INVALID_NETWORK_RESPONSE, 'SMB 3.1.1 server did not select SHA-512 preauth integrity');
    }
    preauth = new PreauthHash().update(sent!).update(res.msg);
    const enc = findContext(r.contexts, 'encryption');
    if (enc && enc.ciphers.length === 1 && enc.ciphers[0] !== 0) {
      if (!ciphers.includes(enc.ciphers[0]!)) throw new SmbError(Status.INVALID_NETWORK_RESPONSE, `server chose cipher ${enc.ciphers[0]} we did not offer`);
      cipherId = enc.ciphers[0]!;
    }
    const sig = findContext(r.contexts, 'signing');
    if (sig && sig.signingAlgorithms.length === 1) {
      const a = sig.signingAlgorithms[0];
      if (a === SigningAlgorithmId.AES_GMAC) signingAlg = 'aes-gmac';
      else if (a === SigningAlgorithmId.AES_CMAC) signingAlg = 'aes-cmac';
      else if (a === SigningAlgorithmId.HMAC_SHA256) signingAlg = 'hmac-sha256';
    }
  } else if (dialect >= Dialect.SMB3_00 && (r.capabilities & Capabilities.ENCRYPTION)) {
    cipherId = CipherId.AES128_CCM; // 3.0 / 3.0.2 know only AES-128-CCM (3.2.5.2)
  }

  const multi = dialect >= Dialect.SMB2_10 && (r.capabilities & Capabilities.LARGE_MTU) !== 0;
  const clamp = (n: number): number => Math.max(65536, Math.min(n, multi ? 8 * 1024 * 1024 : 65536));
  conn.params = {
    dialect,
    supportsMultiCredit: multi,
    maxReadSize: clamp(r.maxReadSize),
    maxWriteSize: clamp(r.maxWriteSize),
    maxTransactSize: clamp(r.maxTransactSize),
  };
  return {
    dialect, serverGuid: Buffer.from(r.serverGuid), serverSecurityMode: r.securityMode, serverCapabilities: r.capabilities,
    clientSecurityMode: securityMode, clientCapabilities: capabilities, clientGuid: opts.clientGuid, dialects: [...dialects],
    maxReadSize: conn.params.maxReadSize, maxWriteSize: conn.params.maxWriteSize, maxTransactSize: conn.params.maxTransactSize,
    securityBuffer: Buffer.from(r.securityBuffer), cipherId, signingAlg, preauth,
  };
}
