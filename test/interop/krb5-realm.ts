// A throwaway MIT Kerberos realm for tests: kdb5_util makes the database in a temp dir,
// kadmin.local adds principals and writes keytabs, krb5kdc serves it on a free loopback port.
// Children (kinit, smbclient, smbd) find it through KRB5_CONFIG = realm.env.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killGroup, run, waitForPort } from './peers.js';

export const REALM = 'TEST.LOCAL';
/** The host name clients use for the server; its service principal is cifs/SERVER_HOST. */
export const SERVER_HOST = 'fileserver.test.local';

export interface Realm {
  dir: string;
  kdcPort: number;
  /** Env for child processes: KRB5_CONFIG and KRB5_KDC_PROFILE set, KRB5CCNAME unset. */
  env: NodeJS.ProcessEnv;
  krb5Conf: string;
  /** keytab with cifs/SERVER_HOST and host/SERVER_HOST */
  keytab: string;
  kadmin(query: string): Promise<void>;
  /** Adds a user principal with a password. */
  addUser(name: string, password: string): Promise<void>;
  /** Adds a service principal with a random key and writes its keys to `keytab`. */
  addService(name: string, keytab: string): Promise<void>;
  /** kinit into a fresh FILE: ccache; returns its path. */
  kinit(principal: string, password: string, extra?: string[]): Promise<string>;
  stop(): Promise<void>;
}

export const KRB5_TOOLS = ['kdb5_util', 'kadmin.local', 'krb5kdc', 'kinit'];

/** Binaries live in /usr/sbin, which a non-login PATH may lack. */
function tool(name: string): string {
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin']) if (existsSync(join(d, name))) return join(d, name);
  return name;
}

export async function startRealm(): Promise<Realm> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-krb5-'));
  const kdcPort = await freePort();
  const krb5Conf = join(dir, 'krb5.conf');
  const kdcConf = join(dir, 'kdc.conf');
  await writeFile(krb5Conf, [
    '[libdefaults]',
    ` default_realm = ${REALM}`,
    ' dns_lookup_kdc = false',
    ' dns_lookup_realm = false',
    ' dns_canonicalize_hostname = false',
    ' rdns = false',
    ' udp_preference_limit = 1',
    ' forwardable = true',
    '[realms]',
    ` ${REALM} = {`,
    `  kdc = 127.0.0.1:${kdcPort}`,
    ' }',
    '[domain_realm]',
    ` .test.local = ${REALM}`,
    ` test.local = ${REALM}`,
    '',
  ].join('\n'));
  await writeFile(kdcConf, [
    '[kdcdefaults]',
    ` kdc_ports = ${kdcPort}`,
    ` kdc_tcp_ports = ${kdcPort}`,
    '[realms]',
    ` ${REALM} = {`,
    `  database_name = ${dir}/principal`,
    `  key_stash_file = ${dir}/stash`,
    `  acl_file = ${dir}/kadm5.acl`,
    '  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
    '  max_life = 10h',
    ' }',
    '[logging]',
    ` kdc = FILE:${dir}/kdc.log`,
    '',
  ].join('\n'));
  const env: NodeJS.ProcessEnv = { ...process.env, KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf };
  delete env.KRB5CCNAME;
  const must = async (cmd: string, args: string[], input?: string): Promise<void> => {
    const r = await run(tool(cmd), args, { env, timeoutMs: 30_000, input });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  };
  let kdcPid: number | undefined;
  const stop = async (): Promise<void> => {
    killGroup(kdcPid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  try {
    await must('kdb5_util', ['create', '-s', '-r', REALM, '-P', 'masterpw-' + Math.random().toString(36).slice(2)]);
    const kdc = spawn(tool('krb5kdc'), ['-n', '-r', REALM, '-P', join(dir, 'kdc.pid')], { env, detached: true, stdio: 'ignore' });
    kdcPid = kdc.pid;
    await waitForPort(kdcPort, 15_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const kadmin = (q: string): Promise<void> => must('kadmin.local', ['-r', REALM, '-q', q]);
  const keytab = join(dir, 'smb.keytab');
  const realm: Realm = {
    dir, kdcPort, env, krb5Conf, keytab,
    kadmin,
    addUser: (name, password) => kadmin(`addprinc -pw ${password} ${name}`),
    async addService(name, kt) {
      // No PAC in its tickets: a standalone Samba refuses tickets with one (auth3_generate_session_info_pac).
      await kadmin(`addprinc -randkey +no_auth_data_required ${name}`);
      await kadmin(`ktadd -k ${kt} ${name}`);
    },
    async kinit(principal, password, extra = []) {
      const cc = join(dir, `cc-${principal.replace(/\W/g, '_')}-${Math.random().toString(36).slice(2, 8)}`);
      await must('kinit', ['-c', `FILE:${cc}`, ...extra, principal], password + '\n');
      return cc;
    },
    stop,
  };
  try {
    await realm.addService(`cifs/${SERVER_HOST}`, keytab);
    await realm.addService(`host/${SERVER_HOST}`, keytab);
  } catch (e) {
    await stop();
    throw e;
  }
  return realm;
}
