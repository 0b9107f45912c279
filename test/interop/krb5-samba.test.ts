// The smbts client with Kerberos against Samba's smbd: a standalone server (not joined to any
// domain) with `kerberos method = dedicated keytab`, its keytab from the test's own MIT KDC.
// Standalone smbd refuses tickets that carry a PAC ("Unexpected PAC ... in standalone mode",
// NT_STATUS_BAD_TOKEN_TYPE), so the realm creates service principals with +no_auth_data_required.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST, missingTools, startSamba, type SambaHandle } from './peers.js';
import { KRB5_TOOLS, REALM, SERVER_HOST, startRealm, type Realm } from './krb5-realm.js';
import { connect } from '../../src/client/client.js';

const skip = missingTools(['smbd', 'smbpasswd', ...KRB5_TOOLS]);
const SERVICE = `cifs/${SERVER_HOST}`;

describe('Kerberos: the smbts client against Samba smbd with a dedicated keytab', { skip }, () => {
  let realm: Realm;
  let smbd: SambaHandle;
  let ccache: string;
  const saved = process.env.KRB5_CONFIG;

  before(async () => {
    realm = await startRealm();
    await realm.addUser('test', 'test');
    ccache = await realm.kinit('test', 'test');
    // smbd inherits the environment: its krb5 library reads the test realm's krb5.conf.
    process.env.KRB5_CONFIG = realm.krb5Conf;
    smbd = await startSamba({
      extraGlobal: ['kerberos method = dedicated keytab', `dedicated keytab file = FILE:${realm.keytab}`, `realm = ${REALM}`],
    });
  });

  after(async () => {
    await smbd?.stop();
    await realm?.stop();
    if (saved === undefined) delete process.env.KRB5_CONFIG;
    else process.env.KRB5_CONFIG = saved;
  });

  const cases = [
    { name: 'ticket from the ccache, signed', fromCcache: true, encrypt: false },
    { name: 'AS + TGS with a password, encrypted', fromCcache: false, encrypt: true, password: 'test' },
    // AES-256 ciphers key from the full 32-byte GSS session key (MS-SMB2 3.2.5.3.1), not its first 16 bytes
    { name: 'ticket from the ccache, AES-256-GCM', fromCcache: true, encrypt: true, ciphers: [0x0004] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const client = await connect(`smb://test@${HOST}:${smbd.port}/share`, {
        krb5: 'required', password: c.password, encrypt: c.encrypt, sign: !c.encrypt, ciphers: c.ciphers,
        kerberos: { ccache: c.fromCcache ? ccache : false, realm: REALM, kdc: [`127.0.0.1:${realm.kdcPort}`], servicePrincipal: SERVICE },
      });
      try {
        const data = randomBytes(200_000);
        if (c.ciphers) assert.equal(client.info.cipherId, c.ciphers[0]);
        const name = `krb5-${c.name.replace(/\W+/g, '-')}.bin`;
        await client.writeFile(name, data);
        assert.deepEqual(await client.readFile(name), data);
        assert.deepEqual(await readFile(join(smbd.shareDir, name)), data);
        assert.ok((await client.readdir('/')).includes(name));
      } finally {
        await client.close();
      }
    });
  }

  test('krb5 auto falls back to NTLM when no ticket can be had', async () => {
    const client = await connect(`smb://test@${HOST}:${smbd.port}/share`, {
      krb5: 'auto', password: 'test', kerberos: { ccache: false, realm: REALM, kdc: ['127.0.0.1:1'], servicePrincipal: SERVICE },
    });
    assert.ok(Array.isArray(await client.readdir('/')));
    await client.close();
  });
});
