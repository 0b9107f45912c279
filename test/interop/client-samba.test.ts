// The smbts client against a real Samba smbd on loopback (see client-suite.ts for the matrix).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSamba, missingTools, type SambaHandle } from './peers.js';
import { defineClientSuite } from './client-suite.js';
import { connect, SmbError } from '../../src/client/index.js';

defineClientSuite('client against Samba', (extraGlobal) => startSamba({ extraGlobal }), missingTools(['smbd', 'smbpasswd']));

// Encryption demanded by one share only (TREE_CONNECT ShareFlags ENCRYPT_DATA), not the session.
describe('client against Samba: share-level encryption', { skip: missingTools(['smbd', 'smbpasswd']) }, () => {
  let samba: SambaHandle;
  before(async () => { samba = await startSamba({ shareOptions: ['smb encrypt = required'] }); });
  after(async () => { await samba?.stop(); });

  it('3.x encrypts the tree; 2.1 is refused at tree connect', async () => {
    const url = `smb://test@127.0.0.1:${samba.port}/share`;
    for (const dialect of [0x0300, 0x0311]) {
      const c = await connect(url, { password: 'test', dialects: [dialect] });
      try {
        assert.equal(c.session.encryptData, false);
        assert.equal(c.tree.encrypt, true);
        await c.writeFile('x.bin', Buffer.alloc(100_000, 7));
        assert.equal((await c.readFile('x.bin')).length, 100_000);
        await c.rm('x.bin');
      } finally {
        await c.close();
      }
    }
    await assert.rejects(connect(url, { password: 'test', dialects: [0x0210] }), (e: unknown) => e instanceof SmbError && e.statusName === 'ACCESS_DENIED');
  });
});
