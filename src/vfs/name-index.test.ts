import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { NameIndex } from './name-index.js';
import { LocalVfs } from './local.js';

async function tmp(): Promise<string> {
  return fsp.mkdtemp(nodePath.join(os.tmpdir(), 'smbts-nameidx-'));
}
/** Let the directory's last change age past the index's "racy" window so it is cached. */
async function age(_dir: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 120));
}

test('NameIndex: case-insensitive lookup, own updates, external changes seen, LRU bound', async () => {
  const d = await tmp();
  try {
    await fsp.writeFile(nodePath.join(d, 'Alpha.txt'), '');
    await age(d);
    const ix = new NameIndex(1);
    assert.deepEqual(await ix.lookup(d, 'ALPHA.TXT'), ['Alpha.txt']);
    assert.equal(ix.cachedDirs, 1);
    assert.deepEqual(await ix.lookup(d, 'beta'), []);
    await fsp.writeFile(nodePath.join(d, 'Beta'), '');
    await ix.added(d, 'Beta');
    assert.deepEqual(await ix.lookup(d, 'BETA'), ['Beta']);
    await fsp.unlink(nodePath.join(d, 'Beta'));
    await ix.removed(d, 'Beta');
    assert.deepEqual(await ix.lookup(d, 'beta'), []);
    // External change (not through the index): seen through mtime/ctime.
    await fsp.writeFile(nodePath.join(d, 'Gamma'), '');
    assert.deepEqual(await ix.lookup(d, 'gamma'), ['Gamma']);
    // LRU: a second directory evicts the first.
    const d2 = await tmp();
    await age(d2);
    await ix.lookup(d2, 'x');
    assert.equal(ix.cachedDirs, 1);
    await fsp.rm(d2, { recursive: true, force: true });
  } finally {
    await fsp.rm(d, { recursive: true, force: true });
  }
});

test('LocalVfs: create/rename/delete keep case-insensitive resolution right; readdirMatch', async () => {
  const d = await tmp();
  try {
    for (let i = 0; i < 20; i++) await fsp.writeFile(nodePath.join(d, `File${i}`), '');
    await age(d);
    const vfs = new LocalVfs(d, { streamsDir: nodePath.join(d + '-streams'), dosAttributes: 'memory' });
    assert.deepEqual((await vfs.readdirMatch('', 'FILE3')).map((e) => e.name), ['File3']);
    assert.deepEqual(await vfs.readdirMatch('', 'nope'), []);
    const { handle } = await vfs.open('NewOne', { create: 'create', read: true, write: true });
    await handle.close();
    assert.equal((await vfs.stat('newone')).isDirectory, false);
    await assert.rejects(vfs.open('NEWONE', { create: 'create', read: true, write: true }));
    await vfs.rename('newone', 'Renamed', false);
    await assert.rejects(vfs.stat('NewOne'));
    assert.deepEqual((await vfs.readdirMatch('', 'renamed')).map((e) => e.name), ['Renamed']);
    await vfs.unlink('RENAMED');
    assert.deepEqual(await vfs.readdirMatch('', 'renamed'), []);
    // Created behind smbts' back: still found case-insensitively.
    await fsp.writeFile(nodePath.join(d, 'Outside'), '');
    assert.deepEqual((await vfs.readdirMatch('', 'OUTSIDE')).map((e) => e.name), ['Outside']);
    await assert.rejects(vfs.open('outside', { create: 'create', read: true, write: true }));
  } finally {
    await fsp.rm(d, { recursive: true, force: true });
    await fsp.rm(d + '-streams', { recursive: true, force: true });
  }
});
