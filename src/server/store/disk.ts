// On-disk StateStore for persistent handles: one JSON file per open under a directory of the
// server's own state ($SMBTS_HOME/state/..., never inside a share, DESIGN rule 10). A put writes a
// temporary file, fsyncs it, renames it over the record and fsyncs the directory, so a record
// either is there whole or not at all after a crash; callers await it before they answer the
// CREATE or LOCK that made the state (persistence before acknowledgement).
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpenRecord, StateStore } from './types.js';
import { parseRecord } from './record.js';

const NAME = /^(\d{1,20})\.json$/;

export class DiskStore implements StateStore {
  private ready: Promise<void> | undefined;
  /** Writes of one record run one after another (the last put wins on disk as in memory). */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {}

  private init(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.ready;
  }

  private file(fileId: string): string {
    if (!/^\d{1,20}$/.test(fileId)) throw new Error(`bad record id ${JSON.stringify(fileId)}`);
    return join(this.dir, fileId + '.json');
  }

  private serial(fileId: string, work: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(fileId) ?? Promise.resolve();
    const next = prev.then(work, work);
    this.chains.set(fileId, next);
    const done = (): void => {
      if (this.chains.get(fileId) === next) this.chains.delete(fileId);
    };
    next.then(done, done);
    return next;
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  putOpen(rec: OpenRecord): Promise<void> {
    const target = this.file(rec.fileId);
    const text = JSON.stringify(rec);
    return this.serial(rec.fileId, async () => {
      await this.init();
      const tmp = target + '.tmp';
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
      await this.syncDir();
    });
  }

  async getOpen(fileId: string): Promise<OpenRecord | undefined> {
    await this.init();
    return readRecord(this.file(fileId));
  }

  deleteOpen(fileId: string): Promise<void> {
    const target = this.file(fileId);
    return this.serial(fileId, async () => {
      await this.init();
      await rm(target, { force: true });
      await this.syncDir();
    });
  }

  async listOpens(): Promise<OpenRecord[]> {
    await this.init();
    const out: OpenRecord[] = [];
    for (const name of await readdir(this.dir)) {
      if (!NAME.test(name)) continue; // leftovers of an interrupted put (*.tmp) are ignored
      const r = await readRecord(join(this.dir, name));
      if (r) out.push(r);
    }
    return out;
  }

  async findByCreateGuid(clientGuid: string, createGuid: string): Promise<OpenRecord | undefined> {
    return (await this.listOpens()).find((r) => r.clientGuid === clientGuid && r.createGuid === createGuid);
  }

  async close(): Promise<void> {
    await Promise.all([...this.chains.values()].map((p) => p.catch(() => undefined)));
  }
}

/** A record file, or undefined when it is missing or not a record (a damaged file costs only itself). */
async function readRecord(path: string): Promise<OpenRecord | undefined> {
  return parseRecord(await readFile(path, 'utf8').catch(() => null));
}
