// Shared settings and fixtures of the durable-handle interop tests.
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import { SmbError, type SmbClient } from '../../src/client/index.js';
import { openFile, FILE_OPTIONS } from '../../src/client/file.js';
import { Access, CreateDisposition, ShareAccess } from '../../src/wire/constants.js';

/** Samba selftest's durable share settings (issue 10). */
export const SAMBA_DURABLE_SHARE = [
  'durable handles = yes', 'vfs objects = acl_xattr streams_xattr', 'kernel oplocks = no',
  'kernel share modes = no', 'posix locking = no',
];

/** A server a reconnect suite runs against. */
export interface Target { port: number; shareDir: string; stop(): Promise<void> }

/** The suite's server, the TCP proxy in front of it that the tests cut, and a scratch directory. */
export interface ProxiedTarget { srv: Target; proxy: TcpProxy; work: string }

/** Starts a ProxiedTarget before the enclosing suite and stops it after (call inside describe). */
export function proxiedTarget(start: () => Promise<Target>, prefix: string): ProxiedTarget {
  const t = {} as ProxiedTarget;
  before(async () => {
    t.srv = await start();
    t.proxy = await startProxy(t.srv.port);
    t.work = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await t.proxy?.close();
    await t.srv?.stop();
    if (t.work) await rm(t.work, { recursive: true, force: true });
  });
  return t;
}

/** An onProgress callback that runs `cut` once, after `at` bytes. */
export function cutOnceAfter(at: number, cut: () => void): (n: number) => void {
  let seen = 0;
  let done = false;
  return (n) => {
    seen += n;
    if (!done && seen >= at) {
      done = true;
      cut();
    }
  };
}

/** The status of a shared-read OPEN of `path` (0 = it opened and was closed again). */
export async function readOpenStatus(c: SmbClient, path: string): Promise<number> {
  try {
    const h = await openFile(c.tree, path, { access: Access.GENERIC_READ, disposition: CreateDisposition.OPEN, options: FILE_OPTIONS, share: ShareAccess.READ });
    await h.close();
    return 0;
  } catch (e) {
    if (e instanceof SmbError) return e.status;
    throw e;
  }
}
