// Issue 9 item 1: nothing on a `read only = yes` share and no data of a READONLY file changes,
// whatever CREATE disposition x access x DELETE_ON_CLOSE a client uses and whatever it then does
// with the handle (WRITE, SET_INFO end of file / allocation / basic / rename / disposition /
// security / EAs, FSCTL zero data / set sparse / copychunk). Driven by impacket
// (test/interop/impacket/readonly.py) as a null session, a `map to guest = bad user` guest and an
// authenticated user; the bytes on disk are compared afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, readdir, chmod, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmbts, impacket, missingTools, HOST, DEFAULT_USER, DEFAULT_PASS, type SmbtsHandle } from './peers.js';

const skip = missingTools(['impacket']);
const CONTENT = 'precious data, do not truncate\n';
const CREDS = [':', 'nosuchuser:bad', `${DEFAULT_USER}:${DEFAULT_PASS}`];

interface Outcome { opens: Map<string, string>; mods: string[]; raw: string }

function parse(stdout: string, stderr: string, code: number | null): Outcome {
  const opens = new Map<string, string>();
  const mods: string[] = [];
  for (const line of stdout.split('\n')) {
    const o = /^OPEN (.+) (\S+)$/.exec(line);
    if (o) opens.set(o[1]!, o[2]!);
    if (line.startsWith('MOD ')) mods.push(line.slice(4));
  }
  assert.ok(stdout.includes('\nDONE'), `readonly.py did not finish (exit ${code}):\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`);
  return { opens, mods, raw: stdout };
}

async function tree(dir: string, pre = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(pre + e.name);
    if (e.isDirectory()) out.push(...await tree(join(dir, e.name), pre + e.name + '/'));
  }
  return out.sort();
}

describe('read-only share and READONLY file survive every modifying request', { skip, timeout: 240_000 }, () => {
  let root: string;
  let srv: SmbtsHandle;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'smbts-ro-'));
    await mkdir(join(root, 'ro', 'sub'), { recursive: true });
    await writeFile(join(root, 'ro', 'victim.txt'), CONTENT);
    await writeFile(join(root, 'ro', 'sub', 'inner.txt'), CONTENT);
    await mkdir(join(root, 'rw'));
    await writeFile(join(root, 'rw', 'rofile.txt'), CONTENT);
    await chmod(join(root, 'rw', 'rofile.txt'), 0o444); // FILE_ATTRIBUTE_READONLY (local.ts)
    srv = await startSmbts({
      configText: [
        '[global]', '  map to guest = bad user',
        '[ro]', `  path = ${join(root, 'ro')}`, '  read only = yes', '  guest ok = yes',
        '[rw]', `  path = ${join(root, 'rw')}`, '  read only = no', '  guest ok = yes', '',
      ].join('\n'),
    });
  });
  after(async () => {
    await srv?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('read only = yes: every disposition x access refused or harmless, no request modifies', { timeout: 180_000 }, async () => {
    const r = await impacket('readonly.py', [HOST, String(srv.port), 'ro', 'share', ...CREDS], { timeoutMs: 170_000 });
    const out = parse(r.stdout, r.stderr, r.code);
    assert.equal(await readFile(join(root, 'ro', 'victim.txt'), 'utf8'), CONTENT, 'victim.txt changed');
    assert.equal(await readFile(join(root, 'ro', 'sub', 'inner.txt'), 'utf8'), CONTENT);
    assert.deepEqual(await tree(join(root, 'ro')), ['sub', 'sub/inner.txt', 'victim.txt']);
    assert.deepEqual(out.mods, [], 'modifying requests succeeded');
    // Three sessions x the whole matrix ran (the guest and null sessions were let in: guest ok).
    assert.equal(out.opens.size, 3 * 4 * 6 * 12 * 2, 'matrix incomplete');
    for (const [tag, status] of out.opens) {
      const [, target, disp, acc, opt] = tag.split(' ');
      const truncating = disp === 'supersede' || disp === 'overwrite' || disp === 'overwrite-if';
      const exists = target === 'victim.txt' || target === 'sub';
      // Creating or overwriting: ACCESS_DENIED (Samba open_file: !CAN_WRITE and O_CREAT/O_TRUNC).
      if (target === 'sub' && truncating) assert.equal(status, '0xc000000d', tag); // a directory: INVALID_PARAMETER first
      else if (exists ? truncating : disp !== 'open' && disp !== 'overwrite') {
        // DELETE_ON_CLOSE without DELETE access is INVALID_PARAMETER there (as Samba).
        const readOnlyAccess = ['read-data', 'read-attr', 'generic-read', 'max-allowed', 'none'].includes(acc!);
        assert.equal(status, exists && opt === 'doc' && readOnlyAccess ? '0xc000000d' : '0xc0000022', tag);
      }
      if (opt === 'doc' || ['write-data', 'append', 'write-attr', 'delete', 'write-dac', 'generic-write', 'generic-all'].includes(acc!)) {
        assert.notEqual(status, 'ok', tag);
      }
    }
    // Reading still works on the read-only share.
    assert.equal(out.opens.get(`null victim.txt open read-data 0`), 'ok');
    assert.equal(out.opens.get(`${DEFAULT_USER} victim.txt open generic-read 0`), 'ok');
  });

  it('READONLY file on a writable share: its data survives every disposition x access', { timeout: 180_000 }, async () => {
    const before = await stat(join(root, 'rw', 'rofile.txt'));
    const r = await impacket('readonly.py', [HOST, String(srv.port), 'rw', 'file', `${DEFAULT_USER}:${DEFAULT_PASS}`], { timeoutMs: 170_000 });
    const out = parse(r.stdout, r.stderr, r.code);
    assert.equal(await readFile(join(root, 'rw', 'rofile.txt'), 'utf8'), CONTENT, 'rofile.txt changed');
    assert.equal((await stat(join(root, 'rw', 'rofile.txt'))).ino, before.ino, 'rofile.txt replaced');
    assert.deepEqual(out.mods, [], 'modifying requests succeeded');
    for (const [tag, status] of out.opens) {
      const [, target, disp] = tag.split(' ');
      if (target !== 'rofile.txt') continue;
      // MS-FSA 2.1.5.1.2.1: overwriting a READONLY file is ACCESS_DENIED.
      if (disp === 'supersede' || disp === 'overwrite' || disp === 'overwrite-if') assert.equal(status, '0xc0000022', tag);
    }
  });
});
