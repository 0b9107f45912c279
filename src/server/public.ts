// Public entry of the embeddable server (`import { startServer } from 'smbts/server'`), documented
// in docs/server-api.md. Everything a host program needs to run a server in-process and nothing
// of the request path.
export {
  startServer, type StartServerOptions, type SmbServer, type ServerStatus, type SessionStatus,
  type ConnectionStatus, type ChannelStatus,
} from './index.js';
export {
  defaultConfig, loadConfig, parseConfig, ConfigError, DEFAULT_PORT,
  type ServerConfig, type ShareConfig, type EncryptSetting, type SigningSetting,
} from '../config/config.js';
export { UserDb } from '../auth/userdb.js';
export { LocalVfs, type LocalVfsOptions } from '../vfs/local.js';
export { MemoryVfs, type MemoryVfsOptions } from '../vfs/memory.js';
export {
  VfsError, NtStatus, FileAttribute, type Vfs, type VfsHandle, type FileStat, type DirEntry, type FsInfo, type OpenOptions,
  type OpenAction, type CreateDisposition, type StreamInfo, type ExtendedAttribute, type TimesUpdate,
} from '../vfs/types.js';
