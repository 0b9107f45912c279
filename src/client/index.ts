// Public entry of the smbts client library (`import { connect } from 'smbts'`; docs/client.md).
export {
  connect, SmbClient, type ConnectOptions, type ConnectTarget, type ReaddirOptions, type ReadFileOptions, type WriteFileOptions,
  type RmOptions, type ServerInfo,
} from './client.js';
export { SmbError, AbortError, errnoCode } from './errors.js';
export { FileHandle, type TransferOptions, type OpenFlag } from './file.js';
export { Stats, Dirent } from './stats.js';
export { Dir } from './dir.js';
export { type WatchEvent, type WatchOptions } from './watch.js';
export { parseSmbUrl, type SmbUrl } from './url.js';
export { type ChannelInfo, type ChannelState, type MultichannelOptions } from './multichannel.js';
export { type DfsCacheInfo } from './dfs-cache.js';
export { type DfsOptions } from './dfs.js';
export { HandleLostError } from './durable-open.js';
export { type ReconnectOptions } from './reconnect.js';
