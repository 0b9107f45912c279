// Reads the per-subtest table of docs/conformance.md (written by generate.ts): the regression
// gate (test/interop/server-torture.test.ts) requires every subtest listed as `pass` to pass.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../interop/peers.js';

export interface BaselineRow {
  suite: string;
  subtest: string;
  smbts: string;
  samba: string;
  reason: string;
}

export const CONFORMANCE_MD = (): string => join(repoRoot(), 'docs', 'conformance.md');

/** Table rows look like: | smb2.read | smb2.read.eof | pass | pass | |  */
export function readBaseline(path = CONFORMANCE_MD()): BaselineRow[] {
  if (!existsSync(path)) return [];
  const rows: BaselineRow[] = [];
  let inTable = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('<!-- subtests:begin -->')) inTable = true;
    else if (line.startsWith('<!-- subtests:end -->')) inTable = false;
    else if (inTable && line.startsWith('| ') && !line.startsWith('| suite') && !line.startsWith('| ---')) {
      const cols = line.split('|').slice(1, -1).map((c) => c.trim().replace(/^`|`$/g, ''));
      if (cols.length >= 4) rows.push({ suite: cols[0]!, subtest: cols[1]!, smbts: cols[2]!, samba: cols[3]!, reason: cols[4] ?? '' });
    }
  }
  return rows;
}

export function passingBySuite(rows: BaselineRow[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) {
    if (r.smbts !== 'pass') continue;
    const l = m.get(r.suite) ?? [];
    l.push(r.subtest);
    m.set(r.suite, l);
  }
  return m;
}
