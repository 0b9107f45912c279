// fs.promises.watch over SMB2 CHANGE_NOTIFY (MS-SMB2 3.2.4.13): one request outstanding on an
// open directory at a time; the server answers when something changed (FILE_NOTIFY_INFORMATION
// entries, MS-FSCC 2.7.1), with STATUS_NOTIFY_ENUM_DIR when too much changed to list, and with
// STATUS_NOTIFY_CLEANUP once the handle is closed - which is how abort and return() end it.
import { ChangeNotifyFlags, Command } from '../wire/constants.js';
import { CompletionFilter, NotifyAction, decodeChangeNotifyResponse, decodeNotifyEntries, encodeChangeNotifyRequest } from '../wire/change-notify.js';
import { Status } from '../wire/status.js';
import { AbortError, parse } from './errors.js';
import { displayPath, type FileHandle } from './file.js';

export interface WatchOptions {
  /** Report changes in subdirectories too (SMB2_WATCH_TREE). */
  recursive?: boolean;
  signal?: AbortSignal;
}

/** As fs.promises.watch: 'rename' for names that came or went, 'change' for content/attributes; filename null after an overflow. */
export interface WatchEvent {
  eventType: 'rename' | 'change';
  filename: string | null;
}

const FILTER = CompletionFilter.FILE_NAME | CompletionFilter.DIR_NAME | CompletionFilter.ATTRIBUTES | CompletionFilter.SIZE
  | CompletionFilter.LAST_WRITE | CompletionFilter.CREATION;

export async function* watchDirectory(h: FileHandle, o: WatchOptions): AsyncGenerator<WatchEvent, void, undefined> {
  const onAbort = (): void => { void h.close().catch(() => undefined); };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (o.signal?.aborted) throw new AbortError(o.signal.reason);
      let res;
      try {
        res = await h.tree.request({
          command: Command.CHANGE_NOTIFY,
          body: encodeChangeNotifyRequest({ flags: o.recursive ? ChangeNotifyFlags.WATCH_TREE : 0, outputBufferLength: 64 * 1024, fileId: h.fileId, completionFilter: FILTER }),
        }, { path: displayPath(h.path), timeoutMs: 0 }); // waits as long as nothing changes
      } catch (e) {
        if (o.signal?.aborted) throw new AbortError(o.signal.reason);
        throw e;
      }
      const st = res.header.status;
      if (st === Status.NOTIFY_CLEANUP) {
        if (o.signal?.aborted) throw new AbortError(o.signal.reason);
        return;
      }
      if (st === Status.NOTIFY_ENUM_DIR) {
        yield { eventType: 'rename', filename: null };
        continue;
      }
      const entries = parse(() => decodeNotifyEntries(decodeChangeNotifyResponse(res.msg).buffer), 'CHANGE_NOTIFY');
      for (const e of entries) {
        yield { eventType: e.action === NotifyAction.MODIFIED || e.action === NotifyAction.MODIFIED_STREAM ? 'change' : 'rename', filename: e.fileName.replace(/\\/g, '/') };
      }
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await h.close().catch(() => undefined);
  }
}
