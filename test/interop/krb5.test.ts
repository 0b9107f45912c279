// Kerberos against a real MIT KDC (made by the test, test/interop/krb5-realm.ts) and smbts with
// `kerberos method = dedicated keytab` and `ntlm auth = no`:
//   - Samba's smbclient --use-kerberos=required: ls, put, get, signed and encrypted;
//   - the smbts client with a ticket from kinit's ccache and with a password (AS + TGS itself);
//   - username map, and NTLM refused;
//   - hostile AP-REQs over SMB (wrong key, expired, clock skew, replay, another service,
//     truncated, garbage): LOGON_FAILURE / INVALID_PARAMETER, and the server keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, impacket, missingTools, protectionArgs, run, startSmbts, type RunResult, type SmbtsHandle } from './peers.js';
import { KRB5_TOOLS, REALM, SERVER_HOST, startRealm, type Realm } from './krb5-realm.js';
import { connect } from '../../src/client/client.js';
import { Connection } from '../../src/client/connection.js';
import { negotiate } from '../../src/client/negotiate.js';
import { setupSession, type GssClient } from '../../src/client/session.js';
import { SmbError } from '../../src/client/errors.js';
import { Status } from '../../src/wire/status.js';
import { Krb5Initiator, Krb5InitiatorContext, toCcacheCredential, type TicketCred } from '../../src/auth/krb5/initiator.js';
import { writeCcache } from '../../src/auth/krb5/ccache.js';
import { readKeytab } from '../../src/auth/krb5/keytab.js';
import { KeyUsage, NameType, encEncTicketPart, encTicket } from '../../src/auth/krb5/messages.js';
import { enctype } from '../../src/crypto/krb5-enctypes.js';
import { OID_KRB5, OID_MS_KRB5, decodeNegTokenResp, encodeNegTokenInit } from '../../src/auth/spnego.js';

const skip = missingTools(['smbclient', 'impacket', 'kvno', 'klist', ...KRB5_TOOLS]);
const SERVICE = `cifs/${SERVER_HOST}`;

/** Sends one fixed SPNEGO token; verifies the AP-REP with `ctx` when the server accepts. */
class FixedGss implements GssClient {
  private sent = false;
  constructor(private readonly token: Buffer, private readonly ctx?: Krb5InitiatorContext) {}
  step(serverToken: Buffer): Buffer {
    if (!this.sent) {
      this.sent = true;
      return this.token;
    }
    const r = decodeNegTokenResp(serverToken);
    if (r.responseToken) this.ctx?.apRep(r.responseToken);
    return Buffer.alloc(0);
  }
  sessionKey(): Buffer | undefined {
    return this.ctx?.sessionKey;
  }
}

const spnego = (apReq: Buffer): Buffer => encodeNegTokenInit({ mechTypes: [OID_MS_KRB5, OID_KRB5], mechToken: apReq });

describe('Kerberos: smbclient and the smbts client against smbts with a keytab', { skip }, () => {
  let realm: Realm;
  let srv: SmbtsHandle;
  let shareDir: string;
  let work: string;
  let ccache: string;
  let tgsTicket: TicketCred;
  const serverLog: string[] = [];
  const savedConf = process.env.KRB5_CONFIG;

  before(async () => {
    realm = await startRealm();
    await realm.addUser('test', 'test');
    await realm.addUser('alice', 'alice-pw');
    await realm.addUser('bob', 'bob-pw');
    await realm.addService(`cifs/other.test.local`, join(realm.dir, 'other.keytab'));
    ccache = await realm.kinit('test', 'test');
    // The smbts client finds the realm's KDC through krb5.conf, as it would on a real machine.
    process.env.KRB5_CONFIG = realm.krb5Conf;
    shareDir = await mkdtemp(join(tmpdir(), 'smbts-krb5-share-'));
    work = await mkdtemp(join(tmpdir(), 'smbts-krb5-work-'));
    await writeFile(join(work, 'users.map'), `test = alice@${REALM}\n`);
    await writeFile(join(work, 'smb.conf'), '[global]\n client min protocol = SMB2_02\n disable netbios = yes\n');
    srv = await startSmbts({
      users: [['test', 'test']],
      configText: [
        '[global]', 'kerberos method = dedicated keytab', `dedicated keytab file = FILE:${realm.keytab}`, `realm = ${REALM}`,
        'ntlm auth = no', `username map = ${join(work, 'users.map')}`, '[share]', `path = ${shareDir}`, 'read only = no', '',
      ].join('\n'),
      log: (l) => serverLog.push(l),
    });
    tgsTicket = await new Krb5Initiator({ principal: 'test', realm: REALM, password: 'test', kdcs: [`127.0.0.1:${realm.kdcPort}`] }).serviceTicket(SERVICE);
  });

  after(async () => {
    if (savedConf === undefined) delete process.env.KRB5_CONFIG;
    else process.env.KRB5_CONFIG = savedConf;
    await srv?.stop();
    await realm?.stop();
    if (shareDir) await rm(shareDir, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  const smbclient = (args: string[], cc: string | undefined = ccache): Promise<RunResult> =>
    run('smbclient', [`//${SERVER_HOST}/share`, '-s', join(work, 'smb.conf'), '-I', HOST, '-p', String(srv.port), ...args], {
      env: { ...realm.env, ...(cc ? { KRB5CCNAME: `FILE:${cc}` } : {}) }, cwd: work, timeoutMs: 30_000,
    });

  for (const [kind, proto] of [['sign', 'SMB3_11'], ['encrypt', 'SMB3_11'], ['sign', 'SMB2_10']] as const) {
    test(`smbclient --use-kerberos=required (${proto}, ${kind}): ls, put, get`, async () => {
      const data = randomBytes(300_000);
      await writeFile(join(work, `up-${kind}.bin`), data);
      const before = serverLog.length;
      const r = await smbclient(['--use-kerberos=required', '-N', ...protectionArgs(kind), '-m', proto,
        '-c', `put up-${kind}.bin krb-${proto}-${kind}.bin; get krb-${proto}-${kind}.bin down-${proto}-${kind}.bin; ls`]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`krb-${proto}-${kind}\\.bin`));
      assert.deepEqual(await readFile(join(shareDir, `krb-${proto}-${kind}.bin`)), data);
      assert.deepEqual(await readFile(join(work, `down-${proto}-${kind}.bin`)), data);
      assert.ok(serverLog.slice(before).some((l) => l.includes('kerberos: test@TEST.LOCAL authenticated as test')), serverLog.slice(before).join('\n'));
    });
  }

  test('a ccache written by smbts (its own AS + TGS) is read by klist and used by smbclient', async () => {
    const ini = new Krb5Initiator({ principal: 'test', realm: REALM, password: 'test', kdcs: [`127.0.0.1:${realm.kdcPort}`] });
    const tgt = await ini.getTgt();
    const st = await ini.serviceTicket(SERVICE);
    const path = join(work, 'written.ccache');
    writeCcache(path, { primary: { realm: REALM, name: tgt.client }, credentials: [toCcacheCredential(tgt), toCcacheCredential(st)] });
    const k = await run('klist', ['-c', `FILE:${path}`], { env: realm.env, timeoutMs: 20_000 });
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /krbtgt\/TEST\.LOCAL@TEST\.LOCAL/);
    assert.match(k.stdout, /cifs\/fileserver\.test\.local@TEST\.LOCAL/);
    const r = await smbclient(['--use-kerberos=required', '-N', '-c', 'ls'], path);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('ntlm auth = no: NTLM is refused, Kerberos is not', async () => {
    const r = await smbclient(['--use-kerberos=disabled', '-U', 'test%test', '-c', 'ls'], undefined);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /NT_STATUS_(LOGON_FAILURE|NOT_SUPPORTED|INVALID_PARAMETER)/);
  });

  test('smbts client: Kerberos from the ccache and from a password, encrypted', async () => {
    // A fresh kinit cache holds only the TGT: the client asks the KDC (from krb5.conf) for cifs/HOST.
    const fresh = await realm.kinit('test', 'test');
    for (const kerberos of [{ ccache: fresh }, { ccache: false as const, realm: REALM, kdc: [`127.0.0.1:${realm.kdcPort}`] }]) {
      const c = await connect(`smb://test@${HOST}:${srv.port}/share`, {
        password: kerberos.ccache ? undefined : 'test', krb5: 'required', encrypt: true,
        kerberos: { ...kerberos, servicePrincipal: SERVICE },
      });
      try {
        assert.equal(c.session.encryptData, true);
        const name = `client-${kerberos.ccache ? 'cc' : 'pw'}.txt`;
        await c.writeFile(name, 'kerberos data');
        assert.equal((await c.readFile(name)).toString(), 'kerberos data');
      } finally {
        await c.close();
      }
    }
    // required without any way to get a ticket fails before NTLM is tried
    await assert.rejects(connect(`smb://nobody@${HOST}:${srv.port}/share`, {
      krb5: 'required', kerberos: { ccache: false, realm: REALM, kdc: [`127.0.0.1:${realm.kdcPort}`], servicePrincipal: SERVICE },
    }), /LOGON_FAILURE|authentication failed/i);
  });

  test('username map: alice maps to local user test; bob maps to nobody', async () => {
    const alice = await realm.kinit('alice', 'alice-pw');
    const r = await smbclient(['--use-kerberos=required', '-N', '-c', 'ls'], alice);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(serverLog.some((l) => l.includes('kerberos: alice@TEST.LOCAL authenticated as test')));
    const bob = await realm.kinit('bob', 'bob-pw');
    const b = await smbclient(['--use-kerberos=required', '-N', '-c', 'ls'], bob);
    assert.notEqual(b.code, 0);
    assert.match(b.stdout + b.stderr, /NT_STATUS_LOGON_FAILURE/);
  });

  test('impacket kerberosLogin (ticket from the ccache, no GSS checksum): list, put, get', async () => {
    // impacket talks to KDCs on port 88 only: put the cifs ticket in the cache first.
    const cc = await realm.kinit('test', 'test');
    const k = await run('kvno', ['-c', `FILE:${cc}`, SERVICE], { env: realm.env, timeoutMs: 20_000 });
    assert.equal(k.code, 0, k.stderr);
    const before = serverLog.length;
    const r = await impacket('krb5-login.py', [SERVER_HOST, String(srv.port), 'test', REALM], { env: { ...realm.env, KRB5CCNAME: cc } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^OK/m);
    assert.ok(serverLog.slice(before).some((l) => l.includes('kerberos: test@TEST.LOCAL authenticated as test')));
  });

  test('CLI: smbts ls --kerberos with the ccache, no password anywhere', async () => {
    await writeFile(join(shareDir, 'cli-visible.txt'), 'x');
    const entry = new URL('../../src/cli/client-commands.js', import.meta.url).href;
    const script = `const m = await import(${JSON.stringify(entry)}); process.exitCode = await m.runClientCommand('ls', JSON.parse(process.env.ARGS));`;
    const args = ['--kerberos', '--service-principal', SERVICE, `smb://${HOST}:${srv.port}/share`];
    const r = await run(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), '--input-type=module', '-e', script], {
      env: { ...realm.env, KRB5CCNAME: `FILE:${ccache}`, SMBTS_PASSWORD: undefined, ARGS: JSON.stringify(args) }, timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /cli-visible\.txt/);
  });

  /** SESSION_SETUP with a given GSS client; the NTSTATUS it ends with. */
  async function sessionStatus(gss: GssClient): Promise<number> {
    const conn = new Connection({ host: HOST, port: srv.port, timeoutMs: 10_000 });
    await conn.connect();
    try {
      const neg = await negotiate(conn, { clientGuid: randomBytes(16), host: HOST });
      await setupSession(conn, neg, { gss, requireSigning: false, timeoutMs: 10_000 });
      return Status.SUCCESS;
    } catch (e) {
      if (e instanceof SmbError) return e.status;
      throw e;
    } finally {
      await conn.close();
    }
  }

  test('hostile AP-REQs: the right NTSTATUS each, and the server keeps serving', async () => {
    const key = readKeytab(realm.keytab).find((e) => e.names.join('/') === SERVICE && e.etype === 18)!;
    /** A ticket for the real service, sealed with `sealKey`, ending at `end`. */
    const forged = (sealKey: Buffer, end: number): TicketCred => {
      const session = { type: 18, value: randomBytes(32) };
      const client = { type: NameType.PRINCIPAL, names: ['test'] };
      const part = encEncTicketPart({ flags: 0, key: session, crealm: REALM, cname: client, authtime: end - 3600_000, endtime: end });
      const sname = { type: NameType.SRV_INST, names: SERVICE.split('/') };
      const ticket = encTicket({ realm: REALM, sname, encPart: { etype: 18, kvno: key.kvno, cipher: enctype(18).encrypt(sealKey, KeyUsage.TICKET, part) } });
      return { ...tgsTicket, client, key: session, ticket, server: sname };
    };
    const ok = (cred: TicketCred): Promise<number> => {
      const ctx = new Krb5InitiatorContext(cred);
      return sessionStatus(new FixedGss(spnego(ctx.apReq()), ctx));
    };
    // the forge itself is sound: the real key and a valid end time pass
    assert.equal(await ok(forged(key.key, Date.now() + 3600_000)), Status.SUCCESS);
    // wrong keytab key (the ticket was sealed with a key the server does not hold)
    assert.equal(await ok(forged(randomBytes(32), Date.now() + 3600_000)), Status.LOGON_FAILURE);
    // expired ticket (beyond the 5 minute skew)
    assert.equal(await ok(forged(key.key, Date.now() - 600_000)), Status.LOGON_FAILURE);
    // client clock 10 minutes ahead
    const skewed = new Krb5InitiatorContext(tgsTicket, () => Date.now() + 600_000);
    assert.equal(await sessionStatus(new FixedGss(spnego(skewed.apReq()), skewed)), Status.LOGON_FAILURE);
    // replayed authenticator: the first use passes, the copy on another connection does not
    const once = new Krb5InitiatorContext(tgsTicket);
    const token = spnego(once.apReq());
    assert.equal(await sessionStatus(new FixedGss(token, once)), Status.SUCCESS);
    assert.equal(await sessionStatus(new FixedGss(token, new Krb5InitiatorContext(tgsTicket))), Status.LOGON_FAILURE);
    // a ticket for another service (valid, from the KDC, but not in our keytab)
    const other = await new Krb5Initiator({ principal: 'test', realm: REALM, password: 'test', kdcs: [`127.0.0.1:${realm.kdcPort}`] })
      .serviceTicket('cifs/other.test.local');
    assert.equal(await ok(other), Status.LOGON_FAILURE);
    // truncated and garbage AP-REQs inside good SPNEGO; truncated and garbage SPNEGO
    const good = new Krb5InitiatorContext(tgsTicket).apReq();
    assert.equal(await sessionStatus(new FixedGss(spnego(good.subarray(0, good.length >> 1)))), Status.LOGON_FAILURE);
    assert.equal(await sessionStatus(new FixedGss(spnego(randomBytes(300)))), Status.LOGON_FAILURE);
    const whole = spnego(good);
    assert.equal(await sessionStatus(new FixedGss(whole.subarray(0, 40))), Status.INVALID_PARAMETER);
    assert.equal(await sessionStatus(new FixedGss(Buffer.concat([Buffer.from([0x60, 0x82, 0xff, 0xff]), randomBytes(60)]))), Status.INVALID_PARAMETER);
    // the server still serves Kerberos clients
    const c = await connect(`smb://test@${HOST}:${srv.port}/share`, { krb5: 'required', kerberos: { ccache, servicePrincipal: SERVICE } });
    assert.ok(Array.isArray(await c.readdir('/')));
    await c.close();
  });
});
