// SMB over the NetBIOS session service (RFC 1002): Samba's smbclient speaks it when the port is
// 139 (it sends a SESSION REQUEST first; there is no option to do so on another port), so the
// server listens on 127.0.0.1:139 here (CI runs as root). Our own client uses it on any port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type SmbServer } from '../../src/server/index.js';
import { defaultConfig } from '../../src/config/config.js';
import { UserDb } from '../../src/auth/userdb.js';
import { connect } from '../../src/client/client.js';
import { encodeSessionRequest } from '../../src/transport/netbios.js';
import { DEFAULT_PASS, DEFAULT_USER, HOST, missingTools, smbclient } from './peers.js';

async function server(netbiosPort: number, log?: string[]): Promise<{ srv: SmbServer; dir: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'smbts-nbt-'));
  const users = UserDb.empty();
  users.add(DEFAULT_USER, DEFAULT_PASS);
  // 139 may be held a moment by a test before us: retry briefly
  for (let i = 0; ; i++) {
    try {
      const srv = await startServer({ config: defaultConfig(dir), users, host: HOST, port: 0, netbiosPort, ...(log ? { log: (l: string) => log.push(l) } : {}) });
      return { srv, dir, stop: async () => { await srv.close(); await rm(dir, { recursive: true, force: true }); } };
    } catch (e) {
      if (i >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const missing = missingTools(['smbclient']);

test('smbclient -p 139 (NetBIOS session request) against smbts: put, get, ls', { skip: missing && !process.env.CI ? missing : false, timeout: 60_000 }, async () => {
  const log: string[] = [];
  const s = await server(139, log);
  const work = await mkdtemp(join(tmpdir(), 'smbts-nbt-c-'));
  try {
    assert.equal(s.srv.netbiosPort, 139);
    const data = randomBytes(300_000);
    await writeFile(join(work, 'up.bin'), data);
    const r = await smbclient(139, ['--option=disable netbios=no', '-c', 'put up.bin nbt.bin; get nbt.bin down.bin; ls'], { cwd: work });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /nbt\.bin/);
    assert.ok((await readFile(join(work, 'down.bin'))).equals(data), 'byte-identical through NBT');
    assert.ok(log.some((l) => /netbios: session .* -> /.test(l)), `the session request was seen: ${log.join('\n')}`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await s.stop();
  }
});

test('smbts client over NetBIOS (transport: netbios) on an ephemeral port; a bad session request is refused, the server keeps serving', { timeout: 60_000 }, async () => {
  const s = await server(0);
  try {
    const port = s.srv.netbiosPort!;
    // not a session request first: negative session response (0x83), connection closed
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const sock = net.connect(port, HOST, () => sock.write(Buffer.from([0, 0, 0, 4, 0xfe, 0x53, 0x4d, 0x42])));
      const got: Buffer[] = [];
      sock.on('data', (d) => got.push(d));
      sock.on('close', () => resolve(Buffer.concat(got)));
      sock.on('error', reject);
    });
    assert.equal(reply[0], 0x83, 'NEGATIVE SESSION RESPONSE');
    // a well-formed one is answered with POSITIVE SESSION RESPONSE (0x82)
    const ok = await new Promise<Buffer>((resolve, reject) => {
      const sock = net.connect(port, HOST, () => sock.write(encodeSessionRequest('SMBTS', 'TESTER')));
      sock.once('data', (d) => { sock.destroy(); resolve(d); });
      sock.on('error', reject);
    });
    assert.deepEqual([...ok.subarray(0, 4)], [0x82, 0, 0, 0]);
    const c = await connect(`smb://${DEFAULT_USER}:${DEFAULT_PASS}@${HOST}:${port}/share`, { transport: 'netbios' });
    const data = randomBytes(2 * 1024 * 1024);
    await c.writeFile('n.bin', data);
    assert.ok((await c.readFile('n.bin')).equals(data));
    await c.close();
    // the direct-TCP port is unchanged: a session request there is not SMB
    await assert.rejects(connect(`smb://${DEFAULT_USER}:${DEFAULT_PASS}@${HOST}:${s.srv.port}/share`, { transport: 'netbios', timeoutMs: 3000 }));
  } finally {
    await s.stop();
  }
});
