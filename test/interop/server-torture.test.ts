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

  /** Runs `names` of `suite` on a fresh server; the ones that did not succeed, and whether it still answers. */
  async function runListed(suite: (typeof SUITES)[number], names: string[], tag: string): Promise<{ regressions: Array<{ name: string; text: string }>; alive: boolean }> {
    const list = join(dir, `${suite.name}.${tag}.list`);
    await writeFile(list, names.join('\n') + '\n');
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
    const regressions = names
      .filter((name) => got.get(name)?.result !== 'success')
      .map((name) => {
        const c = got.get(name);
        return { name, text: `${name}: ${c ? `${c.result}${c.message ? ' - ' + c.message.split('\n')[0] : ''}` : 'not run'}` };
      });
    return { regressions, alive };
  }

  for (const suite of SUITES) {
    const passing = baseline.get(suite.name) ?? [];
    if (passing.length === 0) continue;
    it(`${suite.name}: ${passing.length} subtests still pass`, { timeout: 2 * suite.timeoutMs + 60_000 }, async (t) => {
      let { regressions, alive } = await runListed(suite, passing, 'all');
      assert.ok(alive, `server no longer answers after ${suite.name}`);
      if (regressions.length > 0) {
        // Another suite runs beside this one on the same 2 cores (CI had smb2.replay fail once in
        // 930 s of load and pass in every run since): a subtest with a timing window (smbtorture
        // waits 0.5 s for a break, 5 s for a replayed CREATE) that failed is run once more on a
        // fresh server. A regression fails both times; a pass on the retry is reported, not hidden.
        const first = regressions;
        const retried = await runListed(suite, first.map((r) => r.name), 'retry');
        regressions = retried.regressions;
        const flaky = first.filter((r) => !regressions.some((x) => x.name === r.name));
        for (const f of flaky) t.diagnostic(`flaky (passed when run again): ${f.text}`);
        assert.ok(retried.alive, `server no longer answers after ${suite.name} (retry)`);
      }
      assert.deepEqual(regressions.map((r) => r.text), [], `regressions in ${suite.name}:\n${regressions.map((r) => r.text).join('\n')}`);
    });
  }
});
