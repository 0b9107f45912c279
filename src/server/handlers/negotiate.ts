// NEGOTIATE (MS-SMB2 3.3.5.3 / 3.3.5.4) and the SMB1 multi-protocol upgrade (3.3.5.3.1).
import { randomBytes } from 'node:crypto';
import type { Handler } from '../types.js';
import { internal, type ServerCore } from '../internal.js';
import type { Connection } from '../connection.js';
import {
  decodeNegotiateRequest, encodeNegotiateResponse, findContext, POSIX_EXTENSIONS_GUID, type NegotiateContext,
} from '../../wire/negotiate.js';
import { decodeSmb1Negotiate } from '../../wire/smb1.js';
import { encodeHeaderInto, HEADER_SIZE } from '../../wire/header.js';
import {
  Capabilities, CipherId, Command, Dialect, HashAlgorithm, HeaderFlags, SecurityMode, SigningAlgorithmId,
} from '../../wire/constants.js';
import { Status } from '../../wire/status.js';
import { msToFiletime } from '../../wire/buf.js';
import { PreauthHash } from '../../crypto/preauth.js';

const MiB8 = 8 * 1024 * 1024;
const KiB64 = 65536;
/** STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP (MS-SMB2 3.3.5.4). */
const NO_PREAUTH_OVERLAP = 0xc05d0000;

const SUPPORTED = [Dialect.SMB2_02, Dialect.SMB2_10, Dialect.SMB3_00, Dialect.SMB3_02, Dialect.SMB3_11];
/** Server preference (brief; MS-SMB2 3.3.5.2.5.2 lets the server choose by its own order). */
const CIPHER_PREFERENCE = [CipherId.AES128_GCM, CipherId.AES128_CCM, CipherId.AES256_GCM, CipherId.AES256_CCM];
const SIGNING_PREFERENCE = [SigningAlgorithmId.AES_GMAC, SigningAlgorithmId.AES_CMAC, SigningAlgorithmId.HMAC_SHA256];

function securityMode(server: ServerCore): number {
  const mandatory = server.config.serverSigning === 'mandatory';
  return SecurityMode.SIGNING_ENABLED | (mandatory ? SecurityMode.SIGNING_REQUIRED : 0);
}

function dialectRange(server: ServerCore): { min: number; max: number } {
  return { min: server.config.minProtocol || Dialect.SMB2_02, max: server.config.maxProtocol || Dialect.SMB3_11 };
}

function encryptionAllowed(server: ServerCore): boolean {
  if (server.config.smbEncrypt !== 'off') return true;
  return server.config.shares.some((s) => s.encrypt === 'required' || s.encrypt === 'desired');
}

/** 3.3.5.3.1: answer an SMB1 NEGOTIATE that offers SMB2 with an SMB2 NEGOTIATE response. */
export function handleSmb1Negotiate(conn: Connection, frame: Buffer): Buffer | undefined {
  const server = conn.server;
  let dialects: string[];
  try {
    dialects = decodeSmb1Negotiate(frame).dialects;
  } catch {
    return undefined;
  }
  const { min, max } = dialectRange(server);
  let revision: number | undefined;
  if (dialects.includes('SMB 2.???') && max > Dialect.SMB2_02) revision = Dialect.SMB2_WILDCARD;
  else if (dialects.includes('SMB 2.002') && min <= Dialect.SMB2_02) revision = Dialect.SMB2_02;
  if (revision === undefined) return undefined;
  // The SMB1 request counts as MessageId 0 (3.3.5.3.1); the next SMB2 NEGOTIATE uses 1.
  conn.credits.consume(0n, 1);
  const credits = conn.credits.grant(1);
  if (revision === Dialect.SMB2_02) {
    conn.dialect = Dialect.SMB2_02;
    conn.negotiated = true;
    conn.negotiate = { clientCapabilities: 0, clientSecurityMode: 0, clientDialects: [Dialect.SMB2_02], serverCapabilities: 0, serverSecurityMode: securityMode(server) };
  } else {
    conn.dialect = Dialect.SMB2_WILDCARD;
  }
  const body = encodeNegotiateResponse({
    securityMode: securityMode(server),
    dialectRevision: revision,
    serverGuid: server.serverGuid,
    capabilities: 0,
    maxTransactSize: KiB64,
    maxReadSize: KiB64,
    maxWriteSize: KiB64,
    systemTime: msToFiletime(Date.now()),
    serverStartTime: 0n,
    securityBuffer: server.negotiateHint,
    contexts: [],
  });
  const header = Buffer.alloc(HEADER_SIZE);
  encodeHeaderInto({ command: Command.NEGOTIATE, flags: HeaderFlags.SERVER_TO_REDIR, credits, messageId: 0n, status: Status.SUCCESS }, header);
  return Buffer.concat([header, body]);
}

export const handler: Handler = async (c) => {
  const ctx = internal(c);
  const conn = ctx.connection;
  const server = ctx.server;
  // A second NEGOTIATE on a connection is a protocol violation (3.3.5.3.1).
  if (conn.negotiated) {
    ctx.noResponse = true;
    ctx.disconnectAfter = true;
    return { status: Status.INVALID_PARAMETER };
  }
  const req = decodeNegotiateRequest(ctx.msg);
  const { min, max } = dialectRange(server);
  let dialect = 0;
  for (const d of SUPPORTED) {
    if (d >= min && d <= max && req.dialects.includes(d)) dialect = d;
  }
  // After an SMB1 "SMB 2.???" upgrade the client must pick a dialect above 2.0.2 or 2.0.2 itself.
  if (dialect === 0) return { status: Status.NOT_SUPPORTED };

  const contexts: NegotiateContext[] = [];
  let cipherId = 0;
  let signing: 'hmac-sha256' | 'aes-cmac' | 'aes-gmac' = dialect >= Dialect.SMB3_00 ? 'aes-cmac' : 'hmac-sha256';
  let posix = false;
  let preauth: PreauthHash | undefined;
  if (dialect === Dialect.SMB3_11) {
    // 3.3.5.4: the preauth context is mandatory and must offer SHA-512.
    const pa = findContext(req.contexts, 'preauth');
    if (!pa) return { status: Status.INVALID_PARAMETER };
    if (!pa.hashAlgorithms.includes(HashAlgorithm.SHA512)) return { status: NO_PREAUTH_OVERLAP };
    if (req.contexts.filter((x) => x.kind === 'preauth').length > 1) return { status: Status.INVALID_PARAMETER };
    contexts.push({ kind: 'preauth', hashAlgorithms: [HashAlgorithm.SHA512], salt: randomSalt() });

    const enc = findContext(req.contexts, 'encryption');
    if (enc) {
      if (enc.ciphers.length === 0) return { status: Status.INVALID_PARAMETER };
      if (encryptionAllowed(server)) cipherId = CIPHER_PREFERENCE.find((x) => enc.ciphers.includes(x)) ?? 0;
      // No overlap: CipherCount 1 with cipher 0 (3.3.5.4).
      contexts.push({ kind: 'encryption', ciphers: [cipherId] });
    }
    const sig = findContext(req.contexts, 'signing');
    if (sig) {
      if (sig.signingAlgorithms.length === 0) return { status: Status.INVALID_PARAMETER };
      const chosen = SIGNING_PREFERENCE.find((x) => sig.signingAlgorithms.includes(x)) ?? SigningAlgorithmId.AES_CMAC;
      signing = chosen === SigningAlgorithmId.AES_GMAC ? 'aes-gmac' : chosen === SigningAlgorithmId.HMAC_SHA256 ? 'hmac-sha256' : 'aes-cmac';
      contexts.push({ kind: 'signing', signingAlgorithms: [chosen] });
    }
    const px = findContext(req.contexts, 'posix');
    if (px) {
      posix = true;
      contexts.push({ kind: 'posix', data: POSIX_EXTENSIONS_GUID });
    }
    preauth = new PreauthHash().update(ctx.msg);
  }

  let caps = 0;
  if (dialect >= Dialect.SMB2_10) {
    caps |= Capabilities.LARGE_MTU;
    if (server.leasing) caps |= Capabilities.LEASING;
  }
  if (dialect >= Dialect.SMB3_00) {
    if (server.config.maxChannels > 1) caps |= Capabilities.MULTI_CHANNEL;
    // 3.0/3.0.2 advertise encryption by capability; 3.1.1 uses the negotiate context.
    if (dialect < Dialect.SMB3_11 && (req.capabilities & Capabilities.ENCRYPTION) && encryptionAllowed(server)) {
      caps |= Capabilities.ENCRYPTION;
      cipherId = CipherId.AES128_CCM;
    }
  }
  const large = dialect >= Dialect.SMB2_10;
  const maxSize = large ? MiB8 : KiB64;

  conn.dialect = dialect;
  conn.negotiated = true;
  conn.clientGuid = Buffer.from(req.clientGuid);
  conn.maxReadSize = conn.maxWriteSize = conn.maxTransactSize = maxSize;
  conn.supportsMultiCredit = large;
  conn.cipherId = cipherId;
  conn.signingAlgorithm = signing;
  conn.posix = posix;
  conn.preauth = preauth;
  conn.negotiate = {
    clientCapabilities: req.capabilities,
    clientSecurityMode: req.securityMode,
    clientDialects: [...req.dialects],
    serverCapabilities: caps,
    serverSecurityMode: securityMode(server),
  };
  if (preauth) ctx.onResponse = (msg) => preauth.update(msg);

  const body = encodeNegotiateResponse({
    securityMode: securityMode(server),
    dialectRevision: dialect,
    serverGuid: server.serverGuid,
    capabilities: caps,
    maxTransactSize: maxSize,
    maxReadSize: maxSize,
    maxWriteSize: maxSize,
    systemTime: msToFiletime(Date.now()),
    serverStartTime: 0n,
    securityBuffer: server.negotiateHint,
    contexts,
  });
  return { status: Status.SUCCESS, body };
};

function randomSalt(): Buffer {
  return randomBytes(32);
}
