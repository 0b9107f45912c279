// Server CPU per request (issue 17): the smbts server in a child process, this process drives it
// with the smbts client and reads the server's utime+stime from /proc per pass. Less noisy than
// wall time on a shared box. Passes: QUERY_INFO on an open handle (handle.stat), stat by path
// (CREATE+QUERY_INFO+CLOSE compound), writeFile of an empty file (create+close).
//   node dist/bench/reqcost.js [ops per pass, 3000]    REQCOST_SAMBA=1: the same against Samba
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSmbts } from './lib/smbts.js';
import { startSamba } from './lib/samba.js';
import { treeCpu } from './lib/proc.js';
import { median } from './lib/util.js';

interface Stat { size: bigint | number }
interface Handle { stat(): Promise<Stat>; close(): Promise<void> }
interface Client {
  open(p: string, f?: string): Promise<Handle>;
  stat(p: string): Promise<Stat>;
  writeFile(p: string, d: Buffer): Promise<void>;
  unlink(p: string): Promise<void>;
  close(): Promise<void>;
}

const OPS = Number(process.argv[2] ?? 3000);
const base = mkdtempSync('/dev/shm/smbts-reqcost-');
chmodSync(base, 0o755);
const dir = join(base, 'share');
mkdirSync(dir);
chmodSync(dir, 0o777);
writeFileSync(join(dir, 'f'), '', { mode: 0o666 });
const srv = process.env.REQCOST_SAMBA === '1' ? await startSamba(dir) : await startSmbts(dir, (process.env.REQCOST_NODEARGS ?? '').split(' ').filter(Boolean));
console.log(`server pid ${srv.pid}`);
if (process.env.REQCOST_WAIT) await new Promise((r) => setTimeout(r, Number(process.env.REQCOST_WAIT)));
try {
  const mod = (await import('../src/client/index.js' as string)) as { connect: (u: string, o: unknown) => Promise<Client> };
  const client = await mod.connect(`smb://test@127.0.0.1:${srv.port}/share`, { password: 'test', dialects: [0x0311], sign: false, encrypt: false });
  const h = await client.open('f', 'r');
  const passes: Record<string, Array<() => Promise<unknown>>> = {
    'QUERY_INFO (handle.stat)': [() => h.stat()],
    'stat (CREATE+QI+CLOSE)': [() => client.stat('f')],
    'create+close, unlink': [(i?: number) => client.writeFile(`n${i}`, Buffer.alloc(0)), (i?: number) => client.unlink(`n${i}`)],
  };
  const res = new Map<string, number[]>();
  for (let round = 0; round < 4; round++) {
    for (const [name, fns] of Object.entries(passes)) {
      for (const fn of fns) {
        const c0 = treeCpu(srv.pid);
        const t0 = performance.now();
        for (let i = 0; i < OPS; i++) await (fn as (i: number) => Promise<unknown>)(i);
        const us = ((treeCpu(srv.pid) - c0) / OPS) * 1e6;
        const key = fns.length > 1 ? `${name} #${fns.indexOf(fn)}` : name;
        if (round > 0) (res.get(key) ?? res.set(key, []).get(key)!).push(us); // round 0 warms up
        console.log(`${key.padEnd(28)} ${us.toFixed(1)} us CPU/op  ${((performance.now() - t0) / OPS * 1000).toFixed(0)} us wall/op`);
      }
    }
  }
  for (const [k, v] of res) console.log(`median ${k.padEnd(28)} ${median(v).toFixed(1)} us server CPU/op`);
  await h.close();
  await client.close();
} finally {
  await srv.stop();
  rmSync(base, { recursive: true, force: true });
}
