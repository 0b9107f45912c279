// Child-process entry: one smbts-client job for the bench, described by a JSON argument.
// Prints one JSON line: {start, end, entries?, bytes?, cpu} (epoch ms; the span excludes connecting)
// or {error}. Jobs: get (remote -> local, usually /dev/null), put (local -> remote),
// create/stat/delete/list over dir/f00000...
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';

interface Job {
  server: string;
  port: number;
  share: string;
  mode: 'plain' | 'sign-cmac' | 'sign-gmac' | 'enc-gcm' | 'enc-ccm';
  op: 'get' | 'put' | 'create' | 'stat' | 'delete' | 'list';
  remote?: string;
  local?: string;
  dir?: string;
  count?: number;
  prefix?: string;
  width?: number;
  barrier?: boolean;
  reps?: number;
  capMs?: number;
}

interface Client {
  readFile?(p: string): Promise<Buffer>;
  writeFile(p: string, data: Buffer): Promise<unknown>;
  createReadStream(p: string, o?: unknown): Readable;
  createWriteStream(p: string, o?: unknown): Writable;
  download?(p: string, local: string): Promise<number>;
  upload?(local: string, p: string): Promise<number>;
  stat(p: string): Promise<unknown>;
  readdir(p: string): Promise<unknown[]>;
  rm(p: string, o?: unknown): Promise<unknown>;
  close?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
  end?(): Promise<unknown>;
}

// MS-SMB2 2.2.3.1.2 / 2.2.3.1.7 ids
const CIPHER = { 'enc-gcm': 0x0002, 'enc-ccm': 0x0001 } as const;
const SIGNING = { 'sign-cmac': 0x0001, 'sign-gmac': 0x0002 } as const;

function connectOptions(mode: Job['mode']): Record<string, unknown> {
  const o: Record<string, unknown> = { password: 'test', dialects: [0x0311] };
  if (mode === 'plain') {
    o.sign = false;
    o.encrypt = false;
  } else if (mode === 'sign-cmac' || mode === 'sign-gmac') {
    o.sign = true;
    o.encrypt = false;
    o.signingAlgorithms = [SIGNING[mode]];
  } else {
    o.encrypt = true;
    o.ciphers = [CIPHER[mode]];
  }
  return o;
}

const now = (): number => performance.timeOrigin + performance.now();
const join = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const mod = (await import('../src/client/index.js' as string)) as { connect: (u: string, o: unknown) => Promise<Client> };
  const client = await mod.connect(`smb://test@127.0.0.1:${job.port}/${job.share}`, connectOptions(job.mode));
  // refuse to run a test under the wrong label: the negotiated protection must match the mode
  const info = (client as unknown as { info?: { signing?: boolean; encryption?: boolean; cipherId?: number; signingAlgorithm?: string } }).info;
  if (info) {
    const want = job.mode;
    let bad = '';
    if (want === 'plain' && (info.encryption || info.signing)) bad = `negotiated signing=${info.signing} encryption=${info.encryption}`;
    if ((want === 'sign-cmac' || want === 'sign-gmac') && (!info.signing || info.signingAlgorithm !== (want === 'sign-cmac' ? 'aes-cmac' : 'aes-gmac'))) {
      bad = `the client cannot be told to use ${want === 'sign-cmac' ? 'AES-CMAC' : 'AES-GMAC'} (negotiated ${info.signing ? info.signingAlgorithm : 'no signing'})`;
    }
    if ((want === 'enc-gcm' || want === 'enc-ccm') && (!info.encryption || info.cipherId !== CIPHER[want])) bad = `negotiated cipher ${info.cipherId} encryption=${info.encryption}`;
    if (bad) {
      const closer = client.close ?? client.disconnect ?? client.end;
      if (closer) await closer.call(client).catch(() => undefined);
      throw new Error(`n/a: ${bad}`);
    }
  }
  if (job.barrier) {
    // connected: tell the driver, then wait for the common start signal (or EOF = abort)
    process.stdout.write('ready\n');
    const go = await new Promise<boolean>((resolve) => {
      let buf = '';
      process.stdin.on('data', (d: Buffer) => { buf += d.toString(); if (buf.includes('go\n')) resolve(true); });
      process.stdin.once('end', () => resolve(false));
    });
    process.stdin.pause();
    if (!go) throw new Error('aborted before start');
  }
  const out: Record<string, unknown> = {};
  const cpu0 = process.cpuUsage();
  let start = now();
  // File to file, like smbclient's get/put (download/upload); SMBTS_BENCH_STREAMS=1 measures the
  // stream API (createReadStream/createWriteStream piped from/to node:fs streams) instead.
  const streams = process.env.SMBTS_BENCH_STREAMS === '1';
  if (job.op === 'get') {
    if (client.download && !streams) await client.download(job.remote as string, job.local as string);
    else await pipeline(client.createReadStream(job.remote as string), createWriteStream(job.local as string));
  } else if (job.op === 'put') {
    if (client.upload && !streams) await client.upload(job.local as string, job.remote as string);
    else await pipeline(createReadStream(job.local as string, { highWaterMark: 1 << 20 }), client.createWriteStream(job.remote as string));
  } else {
    const dir = job.dir ?? '';
    const names = Array.from({ length: job.count ?? 0 }, (_, i) => `${job.prefix ?? 'f'}${String(i).padStart(job.width ?? 5, '0')}`);
    const empty = Buffer.alloc(0);
    if (job.op === 'list') {
      start = now();
      for (let i = 0; i < (job.reps ?? 1); i++) out.entries = (await client.readdir(dir)).length;
    } else {
      // stop once capMs has passed (checked every operation); report how many were done
      const cap = job.capMs ?? Infinity;
      let done = 0;
      for (const n of names) {
        const p = join(dir, n);
        if (job.op === 'create') await client.writeFile(p, empty);
        else if (job.op === 'stat') await client.stat(p);
        else await client.rm(p);
        done++;
        if (now() - start > cap) break;
      }
      out.done = done;
    }
  }
  const end = now();
  const cpu = process.cpuUsage(cpu0);
  out.start = start;
  out.end = end;
  out.cpu = (cpu.user + cpu.system) / 1e6;
  const closer = client.close ?? client.disconnect ?? client.end;
  if (closer) await closer.call(client).catch(() => undefined);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })}\n`);
    process.exit(1);
  },
);
