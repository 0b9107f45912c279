// Public entry of the smbts client library.
export { connect, SmbClient, type ConnectOptions, type ReaddirOptions, type RmOptions, type ServerInfo } from './client.js';
export { SmbError } from './errors.js';
export { FileHandle, type Stats, type TransferOptions, type OpenFlag } from './file.js';
export { parseSmbUrl, type SmbUrl } from './url.js';
export { type ChannelInfo, type ChannelState, type MultichannelOptions } from './multichannel.js';
export { type DfsCacheInfo } from './dfs-cache.js';
export { type DfsOptions } from './dfs.js';
