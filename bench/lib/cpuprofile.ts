// Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function.
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface HotSpot {
  fn: string;
  where: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 6).replace(/\.js$/, '.ts');
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
}

/** Top functions by self time; idle time is excluded from the percentages. */
export function summarize(path: string, top = 20): { busyMs: number; idleMs: number; spots: HotSpot[] } {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) byId.set(n.id, n);
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode): string => {
    const cf = n.callFrame;
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    return `${cf.functionName || '(anonymous)'}\t${where}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i] as number);
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const k = keyOf(node);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    let cur: ProfileNode | undefined = node;
    for (let depth = 0; cur && depth < 500; depth++) {
      const ck = keyOf(cur);
      if (!seen.has(ck)) {
        seen.add(ck);
        total.set(ck, (total.get(ck) ?? 0) + dt);
      }
      const p = parent.get(cur.id);
      cur = p === undefined ? undefined : byId.get(p);
    }
  }
  const spots = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, ms]) => {
      const [fn = '', where = ''] = k.split('\t');
      const t = total.get(k) ?? ms;
      return { fn, where, selfMs: ms, selfPct: (100 * ms) / (busy || 1), totalMs: t, totalPct: (100 * t) / (busy || 1) };
    });
  return { busyMs: busy, idleMs: idle, spots };
}

/** Top functions by inclusive time among the project's own code (dist/src). */
export function topInclusive(path: string, top = 15): HotSpot[] {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) byId.set(n.id, n);
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i] as number);
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busy += dt;
    const seen = new Set<string>();
    let cur: ProfileNode | undefined = node;
    for (let depth = 0; cur && depth < 500; depth++) {
      const cf = cur.callFrame;
      if (cf.url.includes('/dist/src/')) {
        const k = `${cf.functionName || '(anonymous)'}\t${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
        if (!seen.has(k)) {
          seen.add(k);
          total.set(k, (total.get(k) ?? 0) + dt);
        }
      }
      const p = parent.get(cur.id);
      cur = p === undefined ? undefined : byId.get(p);
    }
  }
  return [...total.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => {
    const [fn = '', where = ''] = k.split('\t');
    return { fn, where, selfMs: 0, selfPct: 0, totalMs: ms, totalPct: (100 * ms) / (busy || 1) };
  });
}
