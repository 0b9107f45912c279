import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, realpath, rm, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HiddenPaths } from './hidden.js';

describe('HiddenPaths', () => {
  let root: string;
  before(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'smbts-hidden-')));
    await mkdir(join(root, '.smbts'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('ignores paths outside the share', async () => {
    assert.equal((await HiddenPaths.load(join(root, '.smbts'), ['/nonexistent/x', join(root, 'other')])).empty, true);
  });

  it('covers the state directory, what is below it and names not yet created', async () => {
    const h = await HiddenPaths.load(root, [join(root, '.smbts'), join(root, 'users.db')]);
    const none = async () => undefined;
    for (const p of ['.smbts', '.smbts/smbpasswd', '.smbts/new/deeper', 'users.db']) assert.ok(await h.covers(join(root, p), none), p);
    for (const p of ['', 'a.txt', '.smbtsx', 'users.db2']) assert.ok(!(await h.covers(join(root, p), none)), p);
  });

  it('covers another spelling of the same directory by dev+inode (a case-insensitive host fs)', async () => {
    const h = await HiddenPaths.load(root, [join(root, '.smbts')]);
    const real = await stat(join(root, '.smbts'), { bigint: true });
    const lstat = async (p: string): Promise<BigIntStats | undefined> => (p === join(root, '.SMBTS') ? real : undefined);
    assert.ok(await h.covers(join(root, '.SMBTS', 'smbpasswd'), lstat));
    assert.ok(await h.covers(join(root, '.SMBTS'), lstat));
    assert.ok(!(await h.covers(join(root, 'other', 'smbpasswd'), lstat)));
    assert.ok(h.listed(join(root, '.SMBTS'), real));
  });

  it('a share may live inside the state home (not be it, nor lie in the depots)', async () => {
    const home = join(root, '.smbts');
    await mkdir(join(home, 'share'), { recursive: true });
    const paths = [home, join(home, 'streams'), join(home, 'smbpasswd')];
    const inHome = await HiddenPaths.load(join(home, 'share'), paths, home);
    assert.equal(inHome.everything, false);
    assert.equal(inHome.empty, true);
    assert.equal((await HiddenPaths.load(home, paths, home)).everything, true);
    await mkdir(join(home, 'streams', 'abc'), { recursive: true });
    assert.equal((await HiddenPaths.load(join(home, 'streams', 'abc'), paths, home)).everything, true);
  });

  it('a share inside the state directory is all hidden', async () => {
    const h = await HiddenPaths.load(join(root, '.smbts'), [root]);
    assert.equal(h.everything, true);
    assert.ok(await h.covers(join(root, '.smbts', 'x'), async () => undefined));
  });
});
