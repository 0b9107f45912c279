// Cluster mode vs one node (issue 16 "done means"): metadata ops/s and the data path through
// smbts clients, on two smbts nodes coordinated over a 1-member etcd vs one single-node server.
//   npm run bench:cluster          (BENCH_QUICK=1: 200 ops per client and op, 64 MiB transfers)
// Knobs: BENCH_CLUSTER_OPS ops per client per op kind [1000] (200); BENCH_CLUSTER_MIB [256] (64).
// Two clients run at once: both on the single node, or one on each cluster node, each on files
// of its own (the cluster cost measured is coordination, not contention).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, etcdMissing, type EtcdCluster } from '../test/interop/etcd.js';
import { startSmbts, type SmbtsHandle } from '../test/interop/peers.js';
import { connect, type SmbClient } from '../src/client/client.js';
import { openFile, type FileHandle } from '../src/client/file.js';
import { Access, Command, CreateDisposition, ShareAccess } from '../src/wire/constants.js';
import { encodeLockRequest } from '../src/wire/lock.js';

const QUICK = process.env.BENCH_QUICK === '1';
const OPS = Math.min(Number(process.env.BENCH_CLUSTER_OPS ?? (QUICK ? 200 : 1000)) || 200, 100_000);
const MIB = Math.min(Number(process.env.BENCH_CLUSTER_MIB ?? (QUICK ? 64 : 256)) || 64, 4096);
const RW = Access.FILE_READ_DATA | Access.FILE_WRITE_DATA | Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES;
const ALL = ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE;

type Op = (cl: SmbClient, tag: string, i: number, h: FileHandle) => Promise<void>;
const OPS_BY_NAME: [string, Op][] = [
  ['create', async (cl, tag, i) => { await (await openFile(cl.tree, `${tag}-${i}`, { access: RW, disposition: CreateDisposition.CREATE, options: 0x40, share: ALL })).close(); }],
  ['open-close', async (cl, tag, i) => { await (await openFile(cl.tree, `${tag}-${i}`, { access: RW, disposition: CreateDisposition.OPEN, options: 0x40, share: ALL })).close(); }],
  ['lock-unlock', async (_cl, _tag, i, h) => {
    const offset = BigInt(i * 16);
    for (const flags of [0x2 | 0x10, 0x4]) {
      await h.tree.request({ command: Command.LOCK, body: encodeLockRequest({ lockSequenceNumber: 0, lockSequenceIndex: 0, fileId: h.fileId, locks: [{ offset, length: 8n, flags }] }) });
    }
  }],
  ['delete', async (cl, tag, i) => { await (await openFile(cl.tree, `${tag}-${i}`, { access: Access.DELETE | Access.SYNCHRONIZE, disposition: CreateDisposition.OPEN, options: 0x40 | 0x1000, share: ALL })).close(); }],
];

async function measure(clients: SmbClient[], label: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const holders = await Promise.all(clients.map((cl, k) => openFile(cl.tree, `${label}-locks-${k}`, { access: RW, disposition: CreateDisposition.OPEN_IF, options: 0x40, share: ALL })));
  for (const [name, op] of OPS_BY_NAME) {
    const t0 = process.hrtime.bigint();
    await Promise.all(clients.map(async (cl, k) => { for (let i = 0; i < OPS; i++) await op(cl, `${label}-${k}`, i, holders[k]!); }));
    out[name] = Math.round((OPS * clients.length) / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  for (const h of holders) await h.close();
  // Data path: one client writes then reads MIB MiB through its node.
  const data = Buffer.alloc(MIB * 1024 * 1024, 0x5a);
  const h = await openFile(clients[0]!.tree, `${label}-data`, { access: RW, disposition: CreateDisposition.OVERWRITE_IF, options: 0x40, share: ALL });
  let t0 = process.hrtime.bigint();
  await h.write(data, 0);
  out['write MB/s'] = Math.round(data.length / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9));
  t0 = process.hrtime.bigint();
  const back = await h.read(0, data.length);
  out['read MB/s'] = Math.round(back.length / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9));
  await h.close();
  return out;
}

async function main(): Promise<void> {
  const missing = etcdMissing();
  if (missing) { console.log(`cluster bench skipped: ${missing}`); return; }
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = await mkdtemp(join(base, 'smbts-bench-cluster-'));
  let etcd: EtcdCluster | undefined;
  const servers: SmbtsHandle[] = [];
  const clients: SmbClient[] = [];
  try {
    await writeFile(join(dir, '.keep'), '');
    const url = (port: number): string => `smb://test:test@127.0.0.1:${port}/share`;
    const single = await startSmbts({ shareDir: dir });
    servers.push(single);
    const sc = [await connect(url(single.port)), await connect(url(single.port))];
    clients.push(...sc);
    const one = await measure(sc, 'single');
    etcd = await startEtcd({ members: 1 });
    const conf = (node: string): string => `[global]\nclustering = yes\ncluster backend = etcd\netcd endpoints = ${etcd!.endpoints.join(',')}\n` +
      `cluster node name = ${node}\n[share]\npath = ${dir}\nread only = no\n`;
    const a = await startSmbts({ shareDir: dir, configText: conf('a') });
    const b = await startSmbts({ shareDir: dir, configText: conf('b') });
    servers.push(a, b);
    const cc = [await connect(url(a.port)), await connect(url(b.port))];
    clients.push(...cc);
    const two = await measure(cc, 'cluster');
    console.log(`\n2 smbts clients at once, ${OPS} ops each per kind; data path ${MIB} MiB by one client (etcd: 1 member, ${dir.startsWith('/dev/shm') ? '/dev/shm' : 'tmp'} data)\n`);
    console.log('| op | single node | cluster of 2 nodes (etcd) | cluster / single |');
    console.log('| --- | --- | --- | --- |');
    for (const k of Object.keys(one)) {
      const unit = k.includes('MB/s') ? '' : ' ops/s';
      console.log(`| ${k} | ${one[k]}${unit} | ${two[k]}${unit} | ${(two[k]! / one[k]!).toFixed(2)}x |`);
    }
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const s of servers) await s.stop().catch(() => undefined);
    await etcd?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
