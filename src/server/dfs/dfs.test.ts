import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLink, parseMsdfsTarget } from './links.js';
import { answerReferral, splitDfsPath } from './referral.js';
import { dfsRequestName } from './paths.js';
import { parseConfig } from '../../config/config.js';
import { decodeDfsReferralResponse, DfsServerType } from '../../wire/dfs.js';
import { Status } from '../../wire/status.js';

test('msdfs: link text as Samba writes it', () => {
  assert.deepEqual(parseMsdfsTarget('msdfs:srv\\share'), ['\\srv\\share']);
  assert.deepEqual(parseMsdfsTarget('MSDFS:a\\s1, b/s2/sub ,\\\\c\\s3\\'), ['\\a\\s1', '\\b\\s2\\sub', '\\c\\s3']);
  assert.equal(parseMsdfsTarget('../etc'), undefined);
  assert.equal(parseMsdfsTarget('msdfs:onlyhost'), undefined);
  assert.equal(parseMsdfsTarget(`msdfs:${Array.from({ length: 1000 }, (_, i) => `h${i}\\s`).join(',')}`)!.length, 256);
});

test('findLink: walks plain directories only, case-insensitively, never follows anything', async () => {
  const root = await mkdtemp(join(tmpdir(), 'smbts-dfslinks-'));
  try {
    await mkdir(join(root, 'Dir'));
    await symlink('msdfs:a\\b,c\\d', join(root, 'Dir', 'Link'));
    await symlink('/etc', join(root, 'plain'));
    await writeFile(join(root, 'file'), 'x');
    assert.deepEqual(await findLink(root, ['dir', 'link', 'x', 'y']), { components: 2, targets: ['\\a\\b', '\\c\\d'] });
    assert.deepEqual(await findLink(root, ['Dir', 'Link:stream']), { components: 2, targets: ['\\a\\b', '\\c\\d'] });
    assert.equal(await findLink(root, ['Dir']), undefined);
    assert.equal(await findLink(root, ['plain', 'passwd']), undefined, 'an ordinary symlink ends the walk');
    assert.equal(await findLink(root, ['file', 'x']), undefined);
    assert.equal(await findLink(root, ['..', 'x']), undefined);
    assert.equal(await findLink(root, ['nothing', 'x']), undefined);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('referral answers and DFS path names from the config', async () => {
  const root = await mkdtemp(join(tmpdir(), 'smbts-dfsref-'));
  try {
    await symlink('msdfs:t1\\s,t2\\s', join(root, 'ln'));
    const cfg = parseConfig(`[dfs]\n path = ${root}\n msdfs root = yes\n msdfs ttl = 42\n[px]\n msdfs proxy = /far/away\n[plain]\n path = ${root}\n`);
    assert.deepEqual(cfg.warnings, []);
    assert.equal(cfg.shares.find((s) => s.name === 'px')!.msdfs!.proxy, '\\far\\away');
    const link = await answerReferral(cfg, { maxReferralLevel: 3, requestFileName: '\\Srv\\DFS\\ln\\deeper\\f' }, 4096);
    const r = decodeDfsReferralResponse(link.output!);
    assert.equal(r.pathConsumed, '\\Srv\\DFS\\ln'.length * 2);
    assert.deepEqual(r.referrals.map((e) => [e.version, e.timeToLive, e.networkAddress]), [[3, 42, '\\t1\\s'], [3, 42, '\\t2\\s']]);
    const rootRef = decodeDfsReferralResponse((await answerReferral(cfg, { maxReferralLevel: 9, requestFileName: '\\srv\\dfs' }, 4096)).output!);
    assert.equal(rootRef.referrals[0]!.version, 4);
    assert.equal(rootRef.referrals[0]!.serverType, DfsServerType.ROOT);
    const px = decodeDfsReferralResponse((await answerReferral(cfg, { maxReferralLevel: 4, requestFileName: '\\srv\\px\\a' }, 4096)).output!);
    assert.equal(px.referrals[0]!.networkAddress, '\\far\\away');
    assert.equal((await answerReferral(cfg, { maxReferralLevel: 4, requestFileName: '\\srv\\plain\\ln' }, 4096)).status, Status.NOT_FOUND);
    assert.equal((await answerReferral(cfg, { maxReferralLevel: 4, requestFileName: '\\srv' }, 4096)).status, Status.NOT_FOUND);
    assert.equal((await answerReferral(cfg, { maxReferralLevel: 0, requestFileName: '\\srv\\dfs' }, 4096)).status, Status.INVALID_PARAMETER);
    assert.equal((await answerReferral(cfg, { maxReferralLevel: 4, requestFileName: '\\srv\\dfs\\ln' }, 20)).status, Status.BUFFER_OVERFLOW);
    const dfs = cfg.shares.find((s) => s.name === 'dfs')!;
    assert.equal(dfsRequestName(dfs, 0, 'srv\\dfs\\a\\b'), 'a\\b');
    assert.equal(dfsRequestName(dfs, 0x10000000, '\\srv\\dfs'), '');
    assert.equal(dfsRequestName(dfs, 0, 'a\\b'), 'a\\b');
    assert.equal(dfsRequestName(cfg.shares.find((s) => s.name === 'plain')!, 0x10000000, 'srv\\plain\\a'), 'srv\\plain\\a');
    assert.deepEqual(splitDfsPath('\\\\h\\s\\a\0'), ['h', 's', 'a']);
    assert.match(parseConfig('[x]\n path = /tmp\n msdfs ttl = 0\n').warnings.join(), /msdfs ttl/);
    assert.equal(parseConfig('[global]\n host msdfs = no\n[x]\n path = /tmp\n msdfs root = yes\n').shares[0]!.msdfs!.host, false);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
