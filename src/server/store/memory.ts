// In-memory StateStore: the default for durable (non-persistent) opens, and the reference the
// disk and future etcd backends are tested against (store.test.ts).
import type { OpenRecord, StateStore } from './types.js';

export class MemoryStore implements StateStore {
  private readonly opens = new Map<string, OpenRecord>();

  async putOpen(rec: OpenRecord): Promise<void> {
    this.opens.set(rec.fileId, structuredClone(rec));
  }

  async getOpen(fileId: string): Promise<OpenRecord | undefined> {
    const r = this.opens.get(fileId);
    return r && structuredClone(r);
  }

  async deleteOpen(fileId: string): Promise<void> {
    this.opens.delete(fileId);
  }

  async listOpens(): Promise<OpenRecord[]> {
    return [...this.opens.values()].map((r) => structuredClone(r));
  }

  async findByCreateGuid(clientGuid: string, createGuid: string): Promise<OpenRecord | undefined> {
    for (const r of this.opens.values()) {
      if (r.clientGuid === clientGuid && r.createGuid === createGuid) return structuredClone(r);
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.opens.clear();
  }
}
