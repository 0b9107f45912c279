// SESSION_SETUP (MS-SMB2 3.3.5.5): SPNEGO/NTLMSSP over several legs, new sessions,
// re-authentication of an existing session, and channel binding (multichannel, 3.3.5.5.2).
// Keys: session key -> deriveSessionKeys (3.3.5.5.3); the 3.1.1 preauth hash covers every
// SESSION_SETUP request and response of the exchange except the final successful response.
import type { Handler, Reply } from '../types.js';
import { internal, type InternalContext, type Authenticator } from '../internal.js';
import { Session } from '../session.js';
import { decodeSessionSetupRequest, encodeSessionSetupResponse } from '../../wire/session-setup.js';
import { Dialect, HeaderFlags, SecurityMode, SessionFlags, SessionSetupFlags } from '../../wire/constants.js';
import { Status } from '../../wire/status.js';
import { deriveSessionKeys, deriveSigningKey } from '../../crypto/kdf.js';
import { verifySignature } from '../../crypto/signing.js';
import type { PreauthHash } from '../../crypto/preauth.js';
import type { AuthStep } from '../../auth/types.js';

interface Exchange {
  auth: Authenticator;
  preauth: PreauthHash | undefined;
  kind: 'new' | 'reauth' | 'bind';
}

function more(ctx: InternalContext, session: Session, ex: Exchange, token: Buffer): Reply {
  ctx.responseSessionId = session.id;
  const pa = ex.preauth;
  if (pa) ctx.onResponse = (msg) => pa.update(msg);
  return { status: Status.MORE_PROCESSING_REQUIRED, body: encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: token }) };
}

function failed(step: Extract<AuthStep, { state: 'failed' }>): number {
  return step.reason === 'invalid-token' ? Status.INVALID_PARAMETER : step.reason === 'unsupported' ? Status.NOT_SUPPORTED : Status.LOGON_FAILURE;
}

export const handler: Handler = async (c) => {
  const ctx = internal(c);
  const conn = ctx.connection;
  const server = ctx.server;
  const h = ctx.header;
  const req = decodeSessionSetupRequest(ctx.msg);
  const bindFlag = (req.flags & SessionSetupFlags.BINDING) !== 0;
  const binding = bindFlag && conn.dialect >= Dialect.SMB3_00;

  let session: Session | undefined;
  let ex: Exchange | undefined;
  if (h.sessionId === 0n) {
    // 3.3.5.5.1: a new session, in progress until authentication completes.
    session = new Session(server.allocSessionId(), conn.dialect, conn.clientGuid);
    ex = { auth: server.newAuthenticator(), preauth: conn.preauth?.clone(), kind: 'new' };
    session.pendingBinds.set(conn.id, ex);
    server.sessions.set(session.id, session);
  } else {
    session = server.sessions.get(h.sessionId);
    if (!session) return { status: Status.USER_SESSION_DELETED };
    if (session.state === 'deleted') {
      if (session.channelFor(conn.id)) ctx.signWith = session;
      return { status: Status.USER_SESSION_DELETED };
    }
    // A request signed with the session's key gets signed answers, errors included: Samba's
    // client refuses unsigned replies on a signing session (smb2.session.bind_negative_*).
    if (session.state === 'valid' && (h.flags & HeaderFlags.SIGNED)) {
      const key = session.channelFor(conn.id)?.signingKey ?? session.signingKey;
      if (key.length > 0 && verifySignature(session.channelFor(conn.id) ? conn.signingAlgorithm : session.signingAlgorithm, key, ctx.msg)) {
        ctx.signWith = session;
        ctx.forceSign = true;
      }
    }
    // Signing-algorithm mismatches come first (Samba smbd_smb2_session_setup_send; smbtorture
    // smb2.session.bind_negative_smb3sign*/sne*): a GMAC session refuses other algorithms' channels
    // with REQUEST_OUT_OF_SEQUENCE, a GMAC channel refuses other algorithms' sessions with NOT_SUPPORTED.
    if (bindFlag && !session.pendingBinds.has(conn.id)) {
      if (session.signingAlgorithm === 'aes-gmac' && conn.signingAlgorithm !== 'aes-gmac') return { status: Status.REQUEST_OUT_OF_SEQUENCE };
      if (conn.signingAlgorithm === 'aes-gmac' && session.signingAlgorithm !== 'aes-gmac') return { status: Status.NOT_SUPPORTED };
    }
    if (bindFlag && !binding) return { status: Status.REQUEST_NOT_ACCEPTED }; // 2.x cannot bind (3.3.5.5.2)
    ex = session.pendingBinds.get(conn.id) as Exchange | undefined;
    if (!ex) {
      if (binding) {
        // 3.3.5.5.2: same dialect and ClientGUID, signed with the session's key, channels allowed.
        if (server.config.maxChannels <= 1) return { status: Status.REQUEST_NOT_ACCEPTED };
        if (session.state !== 'valid' || session.guest || session.anonymous) return { status: Status.REQUEST_NOT_ACCEPTED };
        if (session.dialect !== conn.dialect || !session.clientGuid.equals(conn.clientGuid)) return { status: Status.INVALID_PARAMETER };
        if (session.channels.has(conn.id)) return { status: Status.REQUEST_NOT_ACCEPTED };
        // 3.1.1: the channel must use the session's cipher (3.3.5.5.2).
        if (conn.dialect >= Dialect.SMB3_11 && session.cipherId !== 0 && conn.cipherId !== session.cipherId) {
          return { status: Status.INVALID_PARAMETER };
        }
        if (!(h.flags & HeaderFlags.SIGNED) || !verifySignature(session.signingAlgorithm, session.signingKey, ctx.msg)) {
          return { status: Status.ACCESS_DENIED };
        }
        if (session.channels.size >= server.config.maxChannels) return { status: Status.INSUFFICIENT_RESOURCES };
        ex = { auth: server.newAuthenticator(), preauth: conn.preauth?.clone(), kind: 'bind' };
      } else {
        // Re-authentication (smbtorture smb2.session.reauth*): only on a channel of the session.
        const ch = session.channelFor(conn.id);
        if (!ch) return { status: Status.USER_SESSION_DELETED };
        // 3.3.5.2.4: a bad signature, or none where signing is required (and the request was not
        // encrypted), fails with ACCESS_DENIED. The reply is signed anyway, with this channel's key
        // (3.3.4.1.1, like Samba): a signing client drops the connection on an unsigned reply (it
        // checks only the flag on a SESSION_SETUP ACCESS_DENIED). smbtorture
        // smb2.session.bind_negative_smb3signCtoH*/HtoC*: re-auth on a channel signed with the
        // session's key instead of the channel's, then one unsigned with no keys at all.
        const signed = (h.flags & HeaderFlags.SIGNED) !== 0;
        if (ch.signingKey.length > 0 && !ctx.encrypted &&
            (signed ? !verifySignature(conn.signingAlgorithm, ch.signingKey, ctx.msg) : session.signingRequired)) {
          ctx.signWith = session;
          ctx.forceSign = true;
          return { status: Status.ACCESS_DENIED };
        }
        ex = { auth: server.newAuthenticator(), preauth: conn.preauth?.clone(), kind: 'reauth' };
      }
      session.pendingBinds.set(conn.id, ex);
    }
  }
  ex.preauth?.update(ctx.msg);
  ctx.responseSessionId = session.id;

  let step: AuthStep;
  try {
    step = await ex.auth.step(req.securityBuffer);
  } catch {
    step = { state: 'failed', reason: 'invalid-token' };
  }
  if (server.sessions.get(session.id) !== session) return { status: Status.USER_SESSION_DELETED };

  if (step.state === 'continue') {
    if (ex.kind === 'bind') ctx.signWith = session; // signed with Session.SigningKey (3.3.5.5.2)
    return more(ctx, session, ex, step.token);
  }
  session.pendingBinds.delete(conn.id);
  if (step.state === 'failed') {
    server.log(`session setup from ${conn.remoteAddress} failed: ${step.reason}`);
    if (ex.kind === 'new') server.sessions.delete(session.id);
    // A failed re-authentication ends the session on every channel (3.3.5.5.3; Samba; smbtorture
    // smb2.session.reauth6, bind_invalid_auth). A failed bind leaves the session alone. Like Samba,
    // the record stays (state 'deleted', channel keys kept) so later requests on it get a signed
    // USER_SESSION_DELETED; it goes when its connections close.
    if (ex.kind === 'reauth') {
      const channels = [...session.channels];
      await server.destroySession(session, 'logoff');
      for (const [id, ch] of channels) session.channels.set(id, ch);
      session.state = 'deleted';
      server.sessions.set(session.id, session);
    }
    return { status: failed(step) };
  }

  const token = step.token ?? Buffer.alloc(0);
  const hasKey = !step.guest && !step.anonymous;
  const preauthValue = ex.preauth?.value;

  if (ex.kind === 'bind') {
    if (!hasKey || step.user.toLowerCase() !== session.user.toLowerCase()) return { status: Status.ACCESS_DENIED };
    const signingKey = deriveSigningKey(conn.dialect, step.sessionKey, preauthValue);
    session.channels.set(conn.id, { connection: conn, signingKey });
    ctx.signWith = session;
    ctx.forceSign = true;
    server.log(`session ${session.id.toString(16)}: channel bound on conn ${conn.id} (${session.channels.size} channels)`);
    return { status: Status.SUCCESS, body: encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: token }) };
  }

  const encryptGlobal = server.config.smbEncrypt;
  if (ex.kind === 'new') {
    if (hasKey) {
      const keys = deriveSessionKeys(conn.dialect, step.sessionKey, preauthValue, conn.cipherId || 1);
      session.sessionKey = step.sessionKey.subarray(0, 16);
      session.signingAlgorithm = conn.signingAlgorithm;
      session.signingKey = keys.signingKey;
      session.applicationKey = keys.applicationKey;
      if (conn.cipherId !== 0 && conn.dialect >= Dialect.SMB3_00) {
        const enc = deriveSessionKeys(conn.dialect, step.sessionKey, preauthValue, conn.cipherId);
        session.cipherId = conn.cipherId;
        session.encryptionKey = enc.serverOutKey;
        session.decryptionKey = enc.serverInKey;
      }
      // 3.3.5.5.3: signing is required when either side requires it.
      session.signingRequired = server.config.serverSigning === 'mandatory' ||
        (req.securityMode & SecurityMode.SIGNING_REQUIRED) !== 0;
      if (session.encryptionKey.length > 0 && (encryptGlobal === 'required' || encryptGlobal === 'desired')) {
        session.encryptData = true;
      }
    } else if (encryptGlobal === 'required') {
      server.sessions.delete(session.id);
      return { status: Status.ACCESS_DENIED }; // a guest cannot encrypt
    }
    if (encryptGlobal === 'required' && !session.encryptData) {
      server.sessions.delete(session.id);
      return { status: Status.ACCESS_DENIED };
    }
    session.channels.set(conn.id, { connection: conn, signingKey: session.signingKey });
    // PreviousSessionId (3.3.5.5.3): the client reconnected; drop its old session of the same user
    // as if its connection had gone (its durable opens stay, disconnected, for the reconnect).
    if (req.previousSessionId !== 0n && req.previousSessionId !== session.id) {
      const old = server.sessions.get(req.previousSessionId);
      if (old && old.user.toLowerCase() === step.user.toLowerCase() && hasKey) {
        server.destroySession(old, 'disconnect').catch(() => undefined);
      }
    }
  }
  // New session or re-authentication: the identity is the latest one (keys stay, 3.3.5.5.3).
  session.user = step.user;
  session.domain = step.domain;
  session.guest = step.guest;
  session.anonymous = step.anonymous;
  session.state = 'valid';
  session.expiresAt = undefined;

  let sessionFlags = 0;
  if (step.guest) sessionFlags |= SessionFlags.IS_GUEST;
  if (step.anonymous) sessionFlags |= SessionFlags.IS_NULL;
  if (session.encryptData && conn.dialect >= Dialect.SMB3_00) sessionFlags |= SessionFlags.ENCRYPT_DATA;
  ctx.signWith = session;
  // The final response is signed whenever the session has a key (required for 3.1.1, 3.3.5.5.3).
  ctx.forceSign = session.signingKey.length > 0;
  server.log(`session ${session.id.toString(16)} ${ex.kind === 'new' ? 'established' : 're-authenticated'} for ${step.anonymous ? '(anonymous)' : step.user}${step.guest ? ' (guest)' : ''} on conn ${conn.id}`);
  return { status: Status.SUCCESS, body: encodeSessionSetupResponse({ sessionFlags, securityBuffer: token }) };
};
