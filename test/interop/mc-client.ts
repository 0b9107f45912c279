// Multichannel client driver: runs inside the client network namespace (mc-peers.ts startDriver),
// connects with the smbts client and `multichannel: { maxChannels }`, writes a deterministic
// pseudo-random file, reads it back, and prints
//   progress <phase> <bytes>      (at most every 4 MiB)
//   result <json DriverResult>    (last line)
// Usage: node mc-client.js '<json DriverJob>'
import { createCipheriv, createHash } from 'node:crypto';
import { connect } from '../../src/client/index.js';
import type { ChannelReport, DriverJob, DriverResult } from './mc-peers.js';

/** Deterministic bytes (AES-256-CTR keystream over zeros): fast, and reproducible by the test. */
export function patternData(size: number, seed = 'smbts-multichannel'): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const c = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const out = Buffer.allocUnsafe(size);
  const zero = Buffer.alloc(Math.min(size, 4 * 1024 * 1024));
  let off = 0;
  while (off < size) {
    const n = Math.min(zero.length, size - off);
    c.update(zero.subarray(0, n)).copy(out, off);
    off += n;
  }
  return out;
}

interface McClient {
  channels?: () => ChannelReport[];
  open(path: string, flags: 'r' | 'w'): Promise<{
    write(d: Buffer, pos: number, o: object): Promise<number>;
    read(pos: number, len: number, o: object): Promise<Buffer>;
    close(): Promise<void>;
  }>;
  close(): Promise<void>;
}

function progressPrinter(phase: string): (n: number) => void {
  let total = 0;
  let lastPrinted = -1;
  return (n) => {
    total += n;
    if (lastPrinted < 0 || total - lastPrinted >= 4 * 1024 * 1024) {
      lastPrinted = total;
      process.stdout.write(`progress ${phase} ${total}\n`);
    }
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as DriverJob;
  const res: DriverResult = { ok: false, sha256: '', channels: [] };
  const data = patternData(job.size);
  res.sha256 = createHash('sha256').update(data).digest('hex');
  let client: McClient | undefined;
  const snapshot = (): ChannelReport[] => {
    try {
      return client?.channels?.() ?? [];
    } catch {
      return [];
    }
  };
  try {
    const opts = {
      password: job.password,
      timeoutMs: 60_000,
      chunkSize: job.chunkSize ?? 1024 * 1024,
      depth: job.depth ?? 16,
      encrypt: !!job.encrypt,
      sign: !!job.sign,
      ...(job.dialects ? { dialects: job.dialects } : {}),
      multichannel: { maxChannels: job.maxChannels, ...(job.channelTimeoutMs ? { channelTimeoutMs: job.channelTimeoutMs } : {}) },
    };
    client = (await connect(job.url, opts as Parameters<typeof connect>[1])) as unknown as McClient;
    process.stdout.write(`progress connected 0\n`);
    process.stdout.write(`channels ${JSON.stringify(snapshot())}\n`);
    const mode = job.mode ?? 'both';
    if (mode === 'write' || mode === 'both') {
      const t0 = Date.now();
      const h = await client.open(job.file, 'w');
      await h.write(data, 0, { onProgress: progressPrinter('write') });
      await h.close();
      res.writeMs = Date.now() - t0;
      process.stdout.write(`progress written ${job.size}\n`);
      res.channelsAfterWrite = snapshot();
    }
    if (mode === 'read' || mode === 'both') {
      const t0 = Date.now();
      const h = await client.open(job.file, 'r');
      const back = await h.read(0, job.size, { onProgress: progressPrinter('read') });
      await h.close();
      res.readMs = Date.now() - t0;
      res.readSha256 = createHash('sha256').update(back).digest('hex');
    }
    res.channels = snapshot();
    res.channelsAfterTransfer = res.channels;
    if (job.waitAllActiveMs) {
      // Failed channels are re-bound in the background; wait (bounded) until all are active again.
      const t0 = Date.now();
      while (Date.now() - t0 < job.waitAllActiveMs) {
        if (snapshot().every((c) => c.state === 'active')) {
          res.allActiveAfterMs = Date.now() - t0;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      res.channels = snapshot();
    }
    res.ok = mode === 'write' || res.readSha256 === res.sha256;
    if (!res.ok) res.error = 'read-back differs from what was written';
  } catch (e) {
    res.error = (e as Error)?.stack ?? String(e);
    res.channels = snapshot();
  }
  try {
    await client?.close();
  } catch {
    /* closing anyway */
  }
  process.stdout.write(`result ${JSON.stringify(res)}\n`);
  process.exit(res.ok ? 0 : 1);
}

// Only when run as a script (the test imports patternData).
if (process.argv[1] && /mc-client\.(js|ts)$/.test(process.argv[1])) {
  const hard = setTimeout(() => {
    process.stdout.write(`result ${JSON.stringify({ ok: false, error: 'driver hard timeout (10 min)', sha256: '', channels: [] })}\n`);
    process.exit(2);
  }, 10 * 60_000);
  hard.unref();
  void main();
}
