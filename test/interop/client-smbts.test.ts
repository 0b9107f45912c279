// The smbts client against the smbts server (in process, loopback), same matrix as against Samba.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmbts } from './peers.js';
import { defineClientSuite } from './client-suite.js';

defineClientSuite('client against smbts', async (extraGlobal) => {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-client-'));
  const configText = ['[global]', ...extraGlobal, '[share]', `path = ${dir}`, 'read only = no', ''].join('\n');
  const s = await startSmbts({ shareDir: dir, configText });
  return {
    port: s.port,
    shareDir: dir,
    async stop() {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
