// `npm run conformance`: run every smbtorture suite of suites.ts against smbts (and, for
// reference, against a private Samba), then write docs/conformance.md.
//
// Env: CONFORMANCE_SUITES=a,b (subset; the other suites' rows are kept from the previous file),
//      CONFORMANCE_SAMBA=0 (skip the Samba reference run; previous Samba column is kept),
//      CONFORMANCE_JOBS=N (suites run N at a time, default 2; each against its own fresh server),
//      SMBTS_LOG=1 (server log to stderr).
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startSmbts, startSamba, smbtorture, waitForPort, type TortureCase } from '../interop/peers.js';
import { answersNegotiate } from '../interop/raw.js';
import { selectedSuites, SUITES, NOT_RUN, suiteArgs, inParallel, SAMBA_SELFTEST_GLOBAL, SAMBA_SELFTEST_SHARE, type Suite } from './suites.js';
import { reasonFor } from './reasons.js';
import { readBaseline, CONFORMANCE_MD, type BaselineRow } from './baseline.js';

type Short = 'pass' | 'fail' | 'error' | 'skip' | '-';
const short = (r: TortureCase['result'] | undefined): Short =>
  r === 'success' ? 'pass' : r === 'failure' ? 'fail' : r === 'error' ? 'error' : r === 'skip' ? 'skip' : '-';

interface SuiteRun {
  suite: Suite;
  cases: TortureCase[];
  seconds: number;
  serverAlive: boolean;
}

async function alive(port: number): Promise<boolean> {
  try {
    await waitForPort(port, 3_000);
  } catch {
    return false;
  }
  return answersNegotiate(port);
}

async function runSuite(target: 'smbts' | 'samba', suite: Suite): Promise<SuiteRun> {
  // A fresh server per suite: one suite's leftovers (open handles, locks, files) must not decide
  // another's results, and a wedged server costs only its own suite.
  const srv =
    target === 'smbts'
      ? await startSmbts()
      : await startSamba({ extraGlobal: SAMBA_SELFTEST_GLOBAL, shareOptions: SAMBA_SELFTEST_SHARE });
  const t0 = Date.now();
  let cases: TortureCase[] = [];
  try {
    cases = await smbtorture(srv.port, [suite.name], { timeoutMs: suite.timeoutMs, extraArgs: suiteArgs(suite, srv.shareDir) });
  } catch (e) {
    cases = [{ name: suite.name, result: 'error', message: String(e) }];
  }
  const seconds = (Date.now() - t0) / 1000;
  const ok = await alive(srv.port);
  await srv.stop().catch(() => {});
  const c = (k: string) => cases.filter((x) => x.result === k).length;
  process.stderr.write(
    `${target} ${suite.name}: ${c('success')} pass, ${c('failure') + c('error')} fail, ${c('skip')} skip in ${seconds.toFixed(1)} s${ok ? '' : ' (SERVER DEAD)'}\n`,
  );
  return { suite, cases, seconds, serverAlive: ok };
}

function runAll(target: 'smbts' | 'samba', suites: Suite[]): Promise<SuiteRun[]> {
  const jobs = Number(process.env.CONFORMANCE_JOBS ?? 2) || 1;
  return inParallel(suites, jobs, (s) => runSuite(target, s));
}

/** Samba pass/total of a suite from rows whose Samba column was carried over (CONFORMANCE_SAMBA=0). */
function carriedSamba(rows: Array<{ samba: string }>): string {
  const known = rows.filter((r) => r.samba !== '-');
  return known.length ? `${known.filter((r) => r.samba === 'pass').length}/${known.length}` : '-';
}

function argsOf(suite: string): string {
  const a = SUITES.find((s) => s.name === suite)?.args;
  return a?.length ? ` (\`${a.join(' ')}\`)` : '';
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

function firstLine(msg: string | undefined): string {
  if (!msg) return '';
  const l = msg.split('\n').map((x) => x.trim()).find((x) => x.length > 0) ?? '';
  return l.length > 120 ? l.slice(0, 117) + '...' : l;
}

async function main(): Promise<void> {
  const suites = selectedSuites();
  const withSamba = process.env.CONFORMANCE_SAMBA !== '0';
  const previous = readBaseline();
  const started = new Date();
  const ours = await runAll('smbts', suites);
  const samba = withSamba ? await runAll('samba', suites) : [];

  const sambaResult = new Map<string, Short>();
  for (const r of samba) for (const c of r.cases) sambaResult.set(c.name, short(c.result));
  const prevByName = new Map<string, BaselineRow>(previous.map((r) => [r.subtest, r]));

  interface Row { suite: string; subtest: string; smbts: Short; samba: Short | string; reason: string }
  const rows: Row[] = [];
  const suiteTotals: Array<{ suite: string; pass: number; fail: number; skip: number; samba: string; seconds: string; alive: string }> = [];
  for (const s of SUITES) {
    const run = ours.find((r) => r.suite.name === s.name);
    if (!run) {
      // not re-run: keep the previous rows for this suite
      const prev = previous.filter((r) => r.suite === s.name);
      for (const p of prev) rows.push({ suite: p.suite, subtest: p.subtest, smbts: p.smbts as Short, samba: p.samba, reason: p.reason });
      suiteTotals.push({
        suite: s.name,
        pass: prev.filter((p) => p.smbts === 'pass').length,
        fail: prev.filter((p) => p.smbts === 'fail' || p.smbts === 'error').length,
        skip: prev.filter((p) => p.smbts === 'skip').length,
        samba: prev.length ? `${prev.filter((p) => p.samba === 'pass').length}/${prev.length}` : '-',
        seconds: '(previous run)',
        alive: '',
      });
      continue;
    }
    for (const c of run.cases) {
      const res = short(c.result);
      const sam = withSamba ? (sambaResult.get(c.name) ?? '-') : (prevByName.get(c.name)?.samba ?? '-');
      let reason = '';
      if (res !== 'pass') {
        const known = reasonFor(c.name, c.message ?? "");
        const detail = firstLine(c.message);
        reason = known ? (detail ? `${known}: ${detail}` : known) : detail;
      }
      rows.push({ suite: s.name, subtest: c.name, smbts: res, samba: sam, reason });
    }
    const sambaRun = samba.find((r) => r.suite.name === s.name);
    suiteTotals.push({
      suite: s.name,
      pass: run.cases.filter((c) => c.result === 'success').length,
      fail: run.cases.filter((c) => c.result === 'failure' || c.result === 'error').length,
      skip: run.cases.filter((c) => c.result === 'skip').length,
      samba: sambaRun
        ? `${sambaRun.cases.filter((c) => c.result === 'success').length}/${sambaRun.cases.length}`
        : carriedSamba(rows.filter((r) => r.suite === s.name)),
      seconds: run.seconds.toFixed(1),
      alive: run.serverAlive ? 'yes' : '**NO**',
    });
  }
  // Samba-only subtests (we did not even get to report them) are listed too.
  for (const r of samba) {
    for (const c of r.cases) {
      if (!rows.some((x) => x.subtest === c.name)) {
        rows.push({ suite: r.suite.name, subtest: c.name, smbts: '-', samba: short(c.result), reason: 'not reported by smbtorture against smbts' });
      }
    }
  }

  const total = (k: Short) => rows.filter((r) => r.smbts === k).length;
  const sambaPass = rows.filter((r) => r.samba === 'pass').length;
  const version = (spawnSync('smbtorture', ['--version'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0]?.trim() || 'smbtorture';
  const cmdSuites = process.env.CONFORMANCE_SUITES ? `CONFORMANCE_SUITES=${process.env.CONFORMANCE_SUITES} ` : '';
  const md: string[] = [
    '# smbtorture conformance',
    '',
    `Generated ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`${cmdSuites}npm run conformance\` ` +
      `(test/conformance/generate.ts) with ${version}. Each suite runs against a fresh in-process smbts ` +
      `(user test/test, share \`share\`, loopback) and, for reference, against a fresh private Samba smbd ` +
      `configured as Samba's own selftest configures its file-server shares ` +
      `(\`${[...SAMBA_SELFTEST_GLOBAL, ...SAMBA_SELFTEST_SHARE].join('`, `')}\`). ` +
      `The suites are every smb2.* suite registered in the installed smbtorture (\`smbtorture --list\`), ` +
      `with the per-suite arguments of Samba's source3/selftest/tests.py, ${process.env.CONFORMANCE_JOBS ?? 2} suites at a time. ` +
      `Each smbtorture invocation is:`,
    '',
    '```',
    'smbtorture //127.0.0.1/share -p PORT -A AUTHFILE -s CLIENTCONF --format=subunit --fullname [SUITE ARGS] SUITE',
    '```',
    '',
    ...(process.env.CONFORMANCE_SUITES
      ? [`Partial run: only ${suites.map((x) => x.name).join(', ')} ran at this date; the other suites' rows are from the previous full run.`, '']
      : []),
    ...(withSamba ? [] : [
      'The Samba column was not re-run with this table (`CONFORMANCE_SAMBA=0`): it is carried over from the previous reference run ' +
        '(same generator and Samba configuration).',
      '',
    ]),
    `**smbts: ${total('pass')} pass, ${total('fail') + total('error')} fail, ${total('skip')} skip** ` +
      `of ${rows.length} subtests (Samba, same suites: ${sambaPass} pass).`,
    '',
    'The regression gate `test/interop/server-torture.test.ts` (part of `npm test`) re-runs every subtest ' +
      'marked `pass` in the smbts column below and fails if any of them no longer passes. Regenerate this ' +
      'file after a change that makes more subtests pass. Reasons for known failures come from ' +
      '`test/conformance/reasons.ts` (features of later issues), followed by smbtorture\'s own first message line.',
    '',
    'Registered but not run here: ' + Object.entries(NOT_RUN).map(([k, v]) => `\`${k}\` (${v})`).join('; ') + '.',
    '',
    'DFS is not in these tables: smbtorture\'s `dfs.domain.*` tests need a domain controller and `rpc.dfs.*` the netdfs RPC interface, neither of which smbts serves. DFS is tested by `test/interop/dfs.test.ts` (smbclient and the smbts client across smbts and Samba DFS roots and targets on 127.0.11.x:445: referral levels 1-4, TTL, shuffle, proxy shares, no link escape, cache hint and refresh, failover at connect and mid-transfer) and `test/interop/dfs-faults.test.ts` (hostile referral answers); see docs/dfs.md.',
    '',
    '## Per suite',
    '',
    '| suite | smbts pass | smbts fail | smbts skip | Samba pass/total | seconds | server alive after |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...suiteTotals.map((t) => `| ${t.suite}${argsOf(t.suite)} | ${t.pass} | ${t.fail} | ${t.skip} | ${t.samba} | ${t.seconds} | ${t.alive} |`),
    '',
    '## Per subtest',
    '',
    '<!-- subtests:begin -->',
    '| suite | subtest | smbts | Samba | reason (smbts failures) |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.suite} | ${r.subtest} | ${r.smbts} | ${r.samba} | ${esc(r.reason)} |`),
    '<!-- subtests:end -->',
    '',
  ];
  writeFileSync(CONFORMANCE_MD(), md.join('\n'));
  process.stderr.write(`wrote ${CONFORMANCE_MD()}: smbts ${total('pass')} pass / ${rows.length}\n`);
  const dead = ours.filter((r) => !r.serverAlive).map((r) => r.suite.name);
  if (dead.length) {
    process.stderr.write(`server did not answer after: ${dead.join(', ')}\n`);
    process.exitCode = 1;
  }
}

main()
  .catch((e: unknown) => {
    process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
    process.exitCode = 1;
  })
  .finally(() => {
    // an in-process server may leave timers behind; do not wait for them
    setTimeout(() => process.exit(), 100).unref();
  });
