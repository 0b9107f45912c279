// Protocol constants of MS-SMB2 section 2.2, grouped by where they appear.

export const Command = {
  NEGOTIATE: 0x0000, SESSION_SETUP: 0x0001, LOGOFF: 0x0002, TREE_CONNECT: 0x0003,
  TREE_DISCONNECT: 0x0004, CREATE: 0x0005, CLOSE: 0x0006, FLUSH: 0x0007, READ: 0x0008,
  WRITE: 0x0009, LOCK: 0x000a, IOCTL: 0x000b, CANCEL: 0x000c, ECHO: 0x000d,
  QUERY_DIRECTORY: 0x000e, CHANGE_NOTIFY: 0x000f, QUERY_INFO: 0x0010, SET_INFO: 0x0011,
  OPLOCK_BREAK: 0x0012,
} as const;
export type CommandCode = (typeof Command)[keyof typeof Command];

export const Dialect = {
  SMB2_02: 0x0202, SMB2_10: 0x0210, SMB3_00: 0x0300, SMB3_02: 0x0302, SMB3_11: 0x0311,
  /** "SMB 2.???" wildcard answered to an SMB1 multi-protocol negotiate (MS-SMB2 3.3.5.3.1). */
  SMB2_WILDCARD: 0x02ff,
} as const;

/** SMB2 header Flags (2.2.1.1). */
export const HeaderFlags = {
  SERVER_TO_REDIR: 0x00000001, ASYNC_COMMAND: 0x00000002, RELATED_OPERATIONS: 0x00000004,
  SIGNED: 0x00000008, PRIORITY_MASK: 0x00000070, DFS_OPERATIONS: 0x10000000,
  REPLAY_OPERATION: 0x20000000,
} as const;

/** NEGOTIATE SecurityMode (2.2.3). */
export const SecurityMode = { SIGNING_ENABLED: 0x0001, SIGNING_REQUIRED: 0x0002 } as const;

/** Global capabilities (2.2.3 / 2.2.4). */
export const Capabilities = {
  DFS: 0x00000001, LEASING: 0x00000002, LARGE_MTU: 0x00000004, MULTI_CHANNEL: 0x00000008,
  PERSISTENT_HANDLES: 0x00000010, DIRECTORY_LEASING: 0x00000020, ENCRYPTION: 0x00000040,
  NOTIFICATIONS: 0x00000080,
} as const;

/** Negotiate context types (2.2.3.1). */
export const NegotiateContextType = {
  PREAUTH_INTEGRITY_CAPABILITIES: 0x0001, ENCRYPTION_CAPABILITIES: 0x0002,
  COMPRESSION_CAPABILITIES: 0x0003, NETNAME_NEGOTIATE_CONTEXT_ID: 0x0005,
  TRANSPORT_CAPABILITIES: 0x0006, RDMA_TRANSFORM_CAPABILITIES: 0x0007,
  SIGNING_CAPABILITIES: 0x0008, POSIX_EXTENSIONS: 0x0100,
} as const;

export const HashAlgorithm = { SHA512: 0x0001 } as const;
export const CipherId = { AES128_CCM: 0x0001, AES128_GCM: 0x0002, AES256_CCM: 0x0003, AES256_GCM: 0x0004 } as const;
export const SigningAlgorithmId = { HMAC_SHA256: 0x0000, AES_CMAC: 0x0001, AES_GMAC: 0x0002 } as const;

/** SESSION_SETUP request Flags and response SessionFlags (2.2.5 / 2.2.6). */
export const SessionSetupFlags = { BINDING: 0x01 } as const;
export const SessionFlags = { IS_GUEST: 0x0001, IS_NULL: 0x0002, ENCRYPT_DATA: 0x0004 } as const;

/** TREE_CONNECT response (2.2.10). */
export const ShareType = { DISK: 0x01, PIPE: 0x02, PRINT: 0x03 } as const;
export const ShareFlags = {
  MANUAL_CACHING: 0x0000, AUTO_CACHING: 0x0010, VDO_CACHING: 0x0020, NO_CACHING: 0x0030,
  DFS: 0x0001, DFS_ROOT: 0x0002, RESTRICT_EXCLUSIVE_OPENS: 0x0100, FORCE_SHARED_DELETE: 0x0200,
  ALLOW_NAMESPACE_CACHING: 0x0400, ACCESS_BASED_DIRECTORY_ENUM: 0x0800,
  FORCE_LEVELII_OPLOCK: 0x1000, ENABLE_HASH_V1: 0x2000, ENABLE_HASH_V2: 0x4000,
  ENCRYPT_DATA: 0x8000, IDENTITY_REMOTING: 0x00040000, COMPRESS_DATA: 0x00100000,
} as const;
export const ShareCapabilities = {
  DFS: 0x08, CONTINUOUS_AVAILABILITY: 0x10, SCALEOUT: 0x20, CLUSTER: 0x40, ASYMMETRIC: 0x80,
  REDIRECT_TO_OWNER: 0x100,
} as const;

/** CREATE (2.2.13). */
export const OplockLevel = { NONE: 0x00, II: 0x01, EXCLUSIVE: 0x08, BATCH: 0x09, LEASE: 0xff } as const;
export const ImpersonationLevel = { ANONYMOUS: 0, IDENTIFICATION: 1, IMPERSONATION: 2, DELEGATE: 3 } as const;
export const ShareAccess = { READ: 0x1, WRITE: 0x2, DELETE: 0x4 } as const;
export const CreateDisposition = {
  SUPERSEDE: 0, OPEN: 1, CREATE: 2, OPEN_IF: 3, OVERWRITE: 4, OVERWRITE_IF: 5,
} as const;
export const CreateOptions = {
  DIRECTORY_FILE: 0x00000001, WRITE_THROUGH: 0x00000002, SEQUENTIAL_ONLY: 0x00000004,
  NO_INTERMEDIATE_BUFFERING: 0x00000008, SYNCHRONOUS_IO_ALERT: 0x00000010,
  SYNCHRONOUS_IO_NONALERT: 0x00000020, NON_DIRECTORY_FILE: 0x00000040,
  COMPLETE_IF_OPLOCKED: 0x00000100, NO_EA_KNOWLEDGE: 0x00000200, RANDOM_ACCESS: 0x00000800,
  DELETE_ON_CLOSE: 0x00001000, OPEN_BY_FILE_ID: 0x00002000, OPEN_FOR_BACKUP_INTENT: 0x00004000,
  NO_COMPRESSION: 0x00008000, OPEN_REMOTE_INSTANCE: 0x00000400, OPEN_REQUIRING_OPLOCK: 0x00010000,
  DISALLOW_EXCLUSIVE: 0x00020000, RESERVE_OPFILTER: 0x00100000, OPEN_REPARSE_POINT: 0x00200000,
  OPEN_NO_RECALL: 0x00400000, OPEN_FOR_FREE_SPACE_QUERY: 0x00800000,
} as const;
export const CreateAction = { SUPERSEDED: 0, OPENED: 1, CREATED: 2, OVERWRITTEN: 3 } as const;

/** Access mask bits (MS-SMB2 2.2.13.1, MS-DTYP 2.4.3). */
export const Access = {
  FILE_READ_DATA: 0x00000001, FILE_LIST_DIRECTORY: 0x00000001, FILE_WRITE_DATA: 0x00000002,
  FILE_ADD_FILE: 0x00000002, FILE_APPEND_DATA: 0x00000004, FILE_ADD_SUBDIRECTORY: 0x00000004,
  FILE_READ_EA: 0x00000008, FILE_WRITE_EA: 0x00000010, FILE_EXECUTE: 0x00000020,
  FILE_TRAVERSE: 0x00000020, FILE_DELETE_CHILD: 0x00000040, FILE_READ_ATTRIBUTES: 0x00000080,
  FILE_WRITE_ATTRIBUTES: 0x00000100, DELETE: 0x00010000, READ_CONTROL: 0x00020000,
  WRITE_DAC: 0x00040000, WRITE_OWNER: 0x00080000, SYNCHRONIZE: 0x00100000,
  ACCESS_SYSTEM_SECURITY: 0x01000000, MAXIMUM_ALLOWED: 0x02000000, GENERIC_ALL: 0x10000000,
  GENERIC_EXECUTE: 0x20000000, GENERIC_WRITE: 0x40000000, GENERIC_READ: 0x80000000,
} as const;

/** FILE_ATTRIBUTE_* (MS-FSCC 2.6). */
export const FileAttributes = {
  READONLY: 0x1, HIDDEN: 0x2, SYSTEM: 0x4, DIRECTORY: 0x10, ARCHIVE: 0x20, NORMAL: 0x80,
  TEMPORARY: 0x100, SPARSE_FILE: 0x200, REPARSE_POINT: 0x400, COMPRESSED: 0x800, OFFLINE: 0x1000,
  NOT_CONTENT_INDEXED: 0x2000, ENCRYPTED: 0x4000, INTEGRITY_STREAM: 0x8000, NO_SCRUB_DATA: 0x20000,
} as const;

/** CLOSE Flags (2.2.15). */
export const CloseFlags = { POSTQUERY_ATTRIB: 0x0001 } as const;

/** READ/WRITE (2.2.19 / 2.2.21). */
export const ReadFlags = { UNBUFFERED: 0x01, REQUEST_COMPRESSED: 0x02 } as const;
export const WriteFlags = { WRITE_THROUGH: 0x01, WRITE_UNBUFFERED: 0x02 } as const;
export const Channel = { NONE: 0, RDMA_V1: 1, RDMA_V1_INVALIDATE: 2, RDMA_TRANSFORM: 3 } as const;

/** LOCK flags (2.2.26.1). */
export const LockFlags = { SHARED: 0x1, EXCLUSIVE: 0x2, UNLOCK: 0x4, FAIL_IMMEDIATELY: 0x10 } as const;

/** IOCTL (2.2.31). */
export const IoctlFlags = { IS_FSCTL: 0x00000001 } as const;
export const Fsctl = {
  DFS_GET_REFERRALS: 0x00060194, DFS_GET_REFERRALS_EX: 0x000601b0,
  PIPE_PEEK: 0x0011400c, PIPE_WAIT: 0x00110018, PIPE_TRANSCEIVE: 0x0011c017,
  SRV_COPYCHUNK: 0x001440f2, SRV_COPYCHUNK_WRITE: 0x001480f2, SRV_ENUMERATE_SNAPSHOTS: 0x00144064,
  SRV_REQUEST_RESUME_KEY: 0x00140078, SRV_READ_HASH: 0x001441bb, LMR_REQUEST_RESILIENCY: 0x001401d4,
  QUERY_NETWORK_INTERFACE_INFO: 0x001401fc, SET_REPARSE_POINT: 0x000900a4,
  GET_REPARSE_POINT: 0x000900a8, VALIDATE_NEGOTIATE_INFO: 0x00140204,
  SET_SPARSE: 0x000900c4, SET_ZERO_DATA: 0x000980c8, QUERY_ALLOCATED_RANGES: 0x000940cf,
  GET_COMPRESSION: 0x0009003c, SET_COMPRESSION: 0x0009c040, CREATE_OR_GET_OBJECT_ID: 0x000900c0,
  GET_OBJECT_ID: 0x0009009c, FILE_LEVEL_TRIM: 0x00098208, GET_INTEGRITY_INFORMATION: 0x0009027c,
  SET_INTEGRITY_INFORMATION: 0x0009c280, DUPLICATE_EXTENTS_TO_FILE: 0x00098344,
  OFFLOAD_READ: 0x00094264, OFFLOAD_WRITE: 0x00098268, QUERY_FILE_REGIONS: 0x00090284,
  IS_VOLUME_DIRTY: 0x00090078, FIND_FILES_BY_SID: 0x0009008f,
} as const;

/** QUERY_DIRECTORY Flags (2.2.33). */
export const QueryDirectoryFlags = { RESTART_SCANS: 0x01, RETURN_SINGLE_ENTRY: 0x02, INDEX_SPECIFIED: 0x04, REOPEN: 0x10 } as const;

/** CHANGE_NOTIFY (2.2.35). */
export const ChangeNotifyFlags = { WATCH_TREE: 0x0001 } as const;

/** QUERY_INFO / SET_INFO InfoType (2.2.37). */
export const InfoType = { FILE: 0x01, FILESYSTEM: 0x02, SECURITY: 0x03, QUOTA: 0x04 } as const;

/** MS-FSCC 2.4 file information classes. */
export const FileInfoClass = {
  FileDirectoryInformation: 1, FileFullDirectoryInformation: 2, FileBothDirectoryInformation: 3,
  FileBasicInformation: 4, FileStandardInformation: 5, FileInternalInformation: 6,
  FileEaInformation: 7, FileAccessInformation: 8, FileNameInformation: 9,
  FileRenameInformation: 10, FileLinkInformation: 11, FileNamesInformation: 12,
  FileDispositionInformation: 13, FilePositionInformation: 14, FileFullEaInformation: 15,
  FileModeInformation: 16, FileAlignmentInformation: 17, FileAllInformation: 18,
  FileAllocationInformation: 19, FileEndOfFileInformation: 20, FileAlternateNameInformation: 21,
  FileStreamInformation: 22, FilePipeInformation: 23, FilePipeLocalInformation: 24,
  FilePipeRemoteInformation: 25, FileCompressionInformation: 28, FileNetworkOpenInformation: 34,
  FileAttributeTagInformation: 35, FileIdBothDirectoryInformation: 37,
  FileIdFullDirectoryInformation: 38, FileValidDataLengthInformation: 39,
  FileShortNameInformation: 40, FileNormalizedNameInformation: 48,
  FileIdInformation: 59, FileIdExtdDirectoryInformation: 60,
  FileDispositionInformationEx: 64, FileRenameInformationEx: 65,
  FilePosixInformation: 100,
} as const;

/** MS-FSCC 2.5 file system information classes. */
export const FsInfoClass = {
  FileFsVolumeInformation: 1, FileFsLabelInformation: 2, FileFsSizeInformation: 3,
  FileFsDeviceInformation: 4, FileFsAttributeInformation: 5, FileFsControlInformation: 6,
  FileFsFullSizeInformation: 7, FileFsObjectIdInformation: 8, FileFsDriverPathInformation: 9,
  FileFsVolumeFlagsInformation: 10, FileFsSectorSizeInformation: 11,
  FileFsPosixInformation: 100,
} as const;

/** Security information flags for QUERY_INFO(SECURITY) (MS-DTYP 2.4.7). */
export const SecurityInformation = {
  OWNER: 0x1, GROUP: 0x2, DACL: 0x4, SACL: 0x8, LABEL: 0x10, ATTRIBUTE: 0x20, SCOPE: 0x40,
  BACKUP: 0x10000,
} as const;

/** Oplock break / lease (2.2.23 / 2.2.24). */
export const LeaseState = { NONE: 0, READ: 0x1, HANDLE: 0x2, WRITE: 0x4 } as const;
