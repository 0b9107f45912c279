// Stored open records as text (both the disk and the etcd store keep JSON).
import type { OpenRecord } from './types.js';

/** A stored record, or undefined when missing or not a record (a damaged value costs only itself). */
export function parseRecord(text: string | null): OpenRecord | undefined {
  if (text === null) return undefined;
  try {
    const r = JSON.parse(text) as OpenRecord;
    if (typeof r !== 'object' || r === null || typeof r.fileId !== 'string' || typeof r.share !== 'string' ||
        typeof r.path !== 'string' || !Array.isArray(r.locks)) return undefined;
    return r;
  } catch {
    return undefined;
  }
}
