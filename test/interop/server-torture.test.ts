// Regression gate: every smbtorture subtest listed as `pass` for smbts in docs/conformance.md
// (written by `npm run conformance`) must still pass, and no suite may leave the server dead.
// Only the passing subtests run (smbtorture --load-list), so this stays a few minutes long; the
// full suites with their failures run in `npm run conformance`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTarget, smbtorture, missingTools, type SmbtsHandle } from './peers.js';
import { answersNegotiate } from './raw.js';
import { SUITES, suiteArgs } from '../conformance/suites.js';
import { readBaseline, passingBySuite } from '../conformance/baseline.js';

const skip = missingTools(['smbtorture']);
const baseline = passingBySuite(readBaseline());

// Like the generator, every suite gets a fresh server, so results do not depend on suite order.
// Two suites run at a time (SMBTS_GATE_JOBS) to keep CI's wall time bounded on a 2-core machine.
const jobs = Number(process.env.SMBTS_GATE_JOBS ?? 2) || 1;
describe('smbtorture regression gate (docs/conformance.md)', { skip, timeout: 2_400_000, concurrency: jobs }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smbts-gate-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('smb2.connect passes (smoke, independent of the baseline)', { timeout: 60_000 }, async () => {
    const srv = await startTarget();
    try {
      const r = await smbtorture(srv.port, ['smb2.connect'], { timeoutMs: 50_000 });
      assert.deepEqual(r.map((c) => [c.name, c.result]), [['smb2.connect', 'success']], JSON.stringify(r));
    } finally {
      await srv.stop();
    }
  });

  for (const suite of SUITES) {
    const passing = baseline.get(suite.name) ?? [];
    if (passing.length === 0) continue;
    it(`${suite.name}: ${passing.length} subtests still pass`, { timeout: suite.timeoutMs + 30_000 }, async () => {
      const list = join(dir, suite.name + '.list');
      await writeFile(list, passing.join('\n') + '\n');
      const srv: SmbtsHandle = await startTarget();
      let results;
      let alive: boolean;
      try {
        results = await smbtorture(srv.port, [suite.name], { timeoutMs: suite.timeoutMs, extraArgs: [...suiteArgs(suite, srv.shareDir), `--load-list=${list}`] });
        alive = await answersNegotiate(srv.port);
      } finally {
        await srv.stop();
      }
      const got = new Map(results.map((c) => [c.name, c]));
      const regressions = passing
        .filter((name) => got.get(name)?.result !== 'success')
        .map((name) => {
          const c = got.get(name);
          return `${name}: ${c ? `${c.result}${c.message ? ' - ' + c.message.split('\n')[0] : ''}` : 'not run'}`;
        });
      assert.ok(alive, `server no longer answers after ${suite.name}`);
      assert.deepEqual(regressions, [], `regressions in ${suite.name}:\n${regressions.join('\n')}`);
    });
  }
});
