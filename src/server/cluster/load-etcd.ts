// The `etcd3` client is an optional peer dependency of the package: only cluster mode needs it (and
// gRPC under it), so a plain install stays small. Loaded on first use with a clear error if missing.
import type * as Etcd from 'etcd3';

export type EtcdModule = typeof Etcd;

let loading: Promise<EtcdModule> | undefined;

export function loadEtcd3(): Promise<EtcdModule> {
  loading ??= import('etcd3').catch((e: unknown) => {
    loading = undefined;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error('clustering = yes needs the etcd3 package next to smbts: npm install etcd3');
    }
    throw e;
  });
  return loading;
}
