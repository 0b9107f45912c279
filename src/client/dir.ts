// opendir()'s Dir, as node:fs Dir: read() one entry at a time (null at the end), close(), and
// for-await iteration. The listing is taken when the Dir is opened (one QUERY_DIRECTORY pass).
import { Status } from '../wire/status.js';
import { SmbError } from './errors.js';
import type { Dirent } from './stats.js';

export class Dir implements AsyncIterable<Dirent> {
  private next = 0;
  private closed = false;

  constructor(readonly path: string, private readonly entries: Dirent[]) {}

  async read(): Promise<Dirent | null> {
    if (this.closed) throw new SmbError(Status.FILE_CLOSED, 'directory handle is closed', this.path);
    return this.entries[this.next++] ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) throw new SmbError(Status.FILE_CLOSED, 'directory handle is closed', this.path);
    this.closed = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Dirent> {
    try {
      for (let e = await this.read(); e; e = await this.read()) yield e;
    } finally {
      if (!this.closed) this.closed = true;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closed = true;
  }
}
