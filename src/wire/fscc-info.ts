// File and file-system information classes for QUERY_INFO / SET_INFO (MS-FSCC 2.4 and 2.5).
// Every class has encodeX(v): Buffer and decodeX(buf): X. Encoders always produce the whole
// structure; the server applies OutputBufferLength with fitOutput() (MS-SMB2 3.3.5.20.1:
// smaller than the fixed part -> STATUS_INFO_LENGTH_MISMATCH, smaller than the whole ->
// truncated data with STATUS_BUFFER_OVERFLOW). buf.length is the size the caller needed.
import { Reader, Writer, WireError, utf16, fromUtf16 } from './buf.js';
import { FileInfoClass as C, FsInfoClass as F } from './constants.js';
import { encodeFullEaList, decodeFullEaList, type FullEa } from './ea.js';

const INFO_LENGTH_MISMATCH = 0xc0000004;
const BUFFER_OVERFLOW = 0x80000005;

// ---- tiny schema codec for the fixed-size classes ------------------------------------------
type FieldType = 'u8' | 'bool' | 'u16' | 'u32' | 'u64' | 'g16' | number; // number = reserved bytes
type Schema = ReadonlyArray<readonly [string, FieldType]>;

function schemaSize(s: Schema): number {
  let n = 0;
  for (const [, t] of s) n += typeof t === 'number' ? t : t === 'u8' || t === 'bool' ? 1 : t === 'u16' ? 2 : t === 'u32' ? 4 : t === 'u64' ? 8 : 16;
  return n;
}

function writeSchema(w: Writer, s: Schema, v: object): void {
  const o = v as Record<string, unknown>;
  for (const [k, t] of s) {
    if (typeof t === 'number') { w.zeros(t); continue; }
    const x = o[k];
    switch (t) {
      case 'u8': w.u8(Number(x ?? 0)); break;
      case 'bool': w.u8(x ? 1 : 0); break;
      case 'u16': w.u16(Number(x ?? 0)); break;
      case 'u32': w.u32(Number(x ?? 0)); break;
      case 'u64': w.u64((x as bigint | undefined) ?? 0n); break;
      case 'g16': {
        const b = (x as Buffer | undefined) ?? Buffer.alloc(16);
        w.bytes(b.subarray(0, 16));
        if (b.length < 16) w.zeros(16 - b.length);
        break;
      }
    }
  }
}

function readSchema<T>(r: Reader, s: Schema, what: string): T {
  r.need(schemaSize(s), what);
  const o: Record<string, unknown> = {};
  for (const [k, t] of s) {
    if (typeof t === 'number') { r.skip(t); continue; }
    switch (t) {
      case 'u8': o[k] = r.u8(); break;
      case 'bool': o[k] = r.u8() !== 0; break;
      case 'u16': o[k] = r.u16(); break;
      case 'u32': o[k] = r.u32(); break;
      case 'u64': o[k] = r.u64(); break;
      case 'g16': o[k] = r.bytes(16); break;
    }
  }
  return o as T;
}

function fixedCodec<T extends object>(s: Schema, what: string): [(v: T) => Buffer, (b: Buffer) => T, number] {
  const size = schemaSize(s);
  return [
    (v: T) => { const w = new Writer(size); writeSchema(w, s, v); return w.finish(); },
    (b: Buffer) => readSchema<T>(new Reader(b), s, what),
    size,
  ];
}

// ---- direct writers for the classes every stat asks for (no schema walk, no Writer) --------
function putU64(b: Buffer, at: number, v: bigint): void {
  if (typeof v !== 'bigint') v = BigInt((v as number | undefined) ?? 0); // as Writer.u64 took them
  b.writeBigUInt64LE(v >= 0n && v <= 0xffffffffffffffffn ? v : BigInt.asUintN(64, v), at);
}
function putBasic(b: Buffer, at: number, v: FileBasicInformation): void {
  putU64(b, at, v.creationTime);
  putU64(b, at + 8, v.lastAccessTime);
  putU64(b, at + 16, v.lastWriteTime);
  putU64(b, at + 24, v.changeTime);
  b.writeUInt32LE((v.fileAttributes ?? 0) >>> 0, at + 32); // +36: Reserved (Buffer.alloc zeroes)
}
function putStandard(b: Buffer, at: number, v: FileStandardInformation): void {
  putU64(b, at, v.allocationSize);
  putU64(b, at + 8, v.endOfFile);
  b.writeUInt32LE((v.numberOfLinks ?? 0) >>> 0, at + 16);
  b[at + 20] = v.deletePending ? 1 : 0;
  b[at + 21] = v.directory ? 1 : 0;
}

// ---- fixed-size file classes --------------------------------------------------------------
export interface FileBasicInformation {
  creationTime: bigint; lastAccessTime: bigint; lastWriteTime: bigint; changeTime: bigint; fileAttributes: number;
}
const BASIC: Schema = [['creationTime', 'u64'], ['lastAccessTime', 'u64'], ['lastWriteTime', 'u64'], ['changeTime', 'u64'], ['fileAttributes', 'u32'], ['', 4]];
const BASIC_SIZE = schemaSize(BASIC);
export function encodeFileBasicInformation(v: FileBasicInformation): Buffer {
  const b = Buffer.alloc(40);
  putBasic(b, 0, v);
  return b;
}
/** Accepts 36 bytes too (some clients omit the trailing Reserved in SET_INFO). */
export function decodeFileBasicInformation(b: Buffer): FileBasicInformation {
  if (b.length < 36) throw new WireError('truncated FileBasicInformation', INFO_LENGTH_MISMATCH);
  return readSchema<FileBasicInformation>(new Reader(b.length >= 40 ? b : Buffer.concat([b, Buffer.alloc(4)])), BASIC, 'FileBasicInformation');
}

export interface FileStandardInformation {
  allocationSize: bigint; endOfFile: bigint; numberOfLinks: number; deletePending: boolean; directory: boolean;
}
const STANDARD: Schema = [['allocationSize', 'u64'], ['endOfFile', 'u64'], ['numberOfLinks', 'u32'], ['deletePending', 'bool'], ['directory', 'bool'], ['', 2]];
export const [, decodeFileStandardInformation] = fixedCodec<FileStandardInformation>(STANDARD, 'FileStandardInformation');
export function encodeFileStandardInformation(v: FileStandardInformation): Buffer {
  const b = Buffer.alloc(24);
  putStandard(b, 0, v);
  return b;
}

export interface FileInternalInformation { indexNumber: bigint }
const INTERNAL: Schema = [['indexNumber', 'u64']];
export const [encodeFileInternalInformation, decodeFileInternalInformation] = fixedCodec<FileInternalInformation>(INTERNAL, 'FileInternalInformation');

export interface FileEaInformation { eaSize: number }
const EA: Schema = [['eaSize', 'u32']];
export const [encodeFileEaInformation, decodeFileEaInformation] = fixedCodec<FileEaInformation>(EA, 'FileEaInformation');

export interface FileAccessInformation { accessFlags: number }
const ACCESS: Schema = [['accessFlags', 'u32']];
export const [encodeFileAccessInformation, decodeFileAccessInformation] = fixedCodec<FileAccessInformation>(ACCESS, 'FileAccessInformation');

export interface FilePositionInformation { currentByteOffset: bigint }
const POSITION: Schema = [['currentByteOffset', 'u64']];
export const [encodeFilePositionInformation, decodeFilePositionInformation] = fixedCodec<FilePositionInformation>(POSITION, 'FilePositionInformation');

export interface FileModeInformation { mode: number }
const MODE: Schema = [['mode', 'u32']];
export const [encodeFileModeInformation, decodeFileModeInformation] = fixedCodec<FileModeInformation>(MODE, 'FileModeInformation');

export interface FileAlignmentInformation { alignmentRequirement: number }
const ALIGNMENT: Schema = [['alignmentRequirement', 'u32']];
export const [encodeFileAlignmentInformation, decodeFileAlignmentInformation] = fixedCodec<FileAlignmentInformation>(ALIGNMENT, 'FileAlignmentInformation');

export interface FileNetworkOpenInformation {
  creationTime: bigint; lastAccessTime: bigint; lastWriteTime: bigint; changeTime: bigint;
  allocationSize: bigint; endOfFile: bigint; fileAttributes: number;
}
export function encodeFileNetworkOpenInformation(v: FileNetworkOpenInformation): Buffer {
  const b = Buffer.alloc(56);
  putU64(b, 0, v.creationTime);
  putU64(b, 8, v.lastAccessTime);
  putU64(b, 16, v.lastWriteTime);
  putU64(b, 24, v.changeTime);
  putU64(b, 32, v.allocationSize);
  putU64(b, 40, v.endOfFile);
  b.writeUInt32LE((v.fileAttributes ?? 0) >>> 0, 48);
  return b;
}
export const [, decodeFileNetworkOpenInformation] = fixedCodec<FileNetworkOpenInformation>(
  [['creationTime', 'u64'], ['lastAccessTime', 'u64'], ['lastWriteTime', 'u64'], ['changeTime', 'u64'],
    ['allocationSize', 'u64'], ['endOfFile', 'u64'], ['fileAttributes', 'u32'], ['', 4]], 'FileNetworkOpenInformation');

export interface FileAttributeTagInformation { fileAttributes: number; reparseTag: number }
export function encodeFileAttributeTagInformation(v: FileAttributeTagInformation): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32LE((v.fileAttributes ?? 0) >>> 0, 0);
  b.writeUInt32LE((v.reparseTag ?? 0) >>> 0, 4);
  return b;
}
export const [, decodeFileAttributeTagInformation] = fixedCodec<FileAttributeTagInformation>(
  [['fileAttributes', 'u32'], ['reparseTag', 'u32']], 'FileAttributeTagInformation');

export interface FileCompressionInformation {
  compressedFileSize: bigint; compressionFormat: number; compressionUnitShift: number; chunkShift: number; clusterShift: number;
}
export const [encodeFileCompressionInformation, decodeFileCompressionInformation] = fixedCodec<FileCompressionInformation>(
  [['compressedFileSize', 'u64'], ['compressionFormat', 'u16'], ['compressionUnitShift', 'u8'], ['chunkShift', 'u8'], ['clusterShift', 'u8'], ['', 3]],
  'FileCompressionInformation');

/** FileIdInformation (MS-FSCC 2.4.23): VolumeSerialNumber(8) | FileId(16, 128-bit). */
export interface FileIdInformation { volumeSerialNumber: bigint; fileId: Buffer }
export const [encodeFileIdInformation, decodeFileIdInformation] = fixedCodec<FileIdInformation>(
  [['volumeSerialNumber', 'u64'], ['fileId', 'g16']], 'FileIdInformation');

export interface FilePipeInformation { readMode: number; completionMode: number }
export const [encodeFilePipeInformation, decodeFilePipeInformation] = fixedCodec<FilePipeInformation>(
  [['readMode', 'u32'], ['completionMode', 'u32']], 'FilePipeInformation');

export interface FilePipeLocalInformation {
  namedPipeType: number; namedPipeConfiguration: number; maximumInstances: number; currentInstances: number;
  inboundQuota: number; readDataAvailable: number; outboundQuota: number; writeQuotaAvailable: number;
  namedPipeState: number; namedPipeEnd: number;
}
export const [encodeFilePipeLocalInformation, decodeFilePipeLocalInformation] = fixedCodec<FilePipeLocalInformation>(
  [['namedPipeType', 'u32'], ['namedPipeConfiguration', 'u32'], ['maximumInstances', 'u32'], ['currentInstances', 'u32'],
    ['inboundQuota', 'u32'], ['readDataAvailable', 'u32'], ['outboundQuota', 'u32'], ['writeQuotaAvailable', 'u32'],
    ['namedPipeState', 'u32'], ['namedPipeEnd', 'u32']], 'FilePipeLocalInformation');

export interface FileDispositionInformation { deletePending: boolean }
export const [encodeFileDispositionInformation, decodeFileDispositionInformation] = fixedCodec<FileDispositionInformation>(
  [['deletePending', 'bool']], 'FileDispositionInformation');

/** FILE_DISPOSITION_* flags of FileDispositionInformationEx (MS-FSCC 2.4.12). */
export const DispositionExFlags = {
  DO_NOT_DELETE: 0x0, DELETE: 0x1, POSIX_SEMANTICS: 0x2, FORCE_IMAGE_SECTION_CHECK: 0x4, ON_CLOSE: 0x8,
  IGNORE_READONLY_ATTRIBUTE: 0x10,
} as const;
export interface FileDispositionInformationEx { flags: number }
export const [encodeFileDispositionInformationEx, decodeFileDispositionInformationEx] = fixedCodec<FileDispositionInformationEx>(
  [['flags', 'u32']], 'FileDispositionInformationEx');

export interface FileEndOfFileInformation { endOfFile: bigint }
export const [encodeFileEndOfFileInformation, decodeFileEndOfFileInformation] = fixedCodec<FileEndOfFileInformation>(
  [['endOfFile', 'u64']], 'FileEndOfFileInformation');
export interface FileAllocationInformation { allocationSize: bigint }
export const [encodeFileAllocationInformation, decodeFileAllocationInformation] = fixedCodec<FileAllocationInformation>(
  [['allocationSize', 'u64']], 'FileAllocationInformation');
export interface FileValidDataLengthInformation { validDataLength: bigint }
export const [encodeFileValidDataLengthInformation, decodeFileValidDataLengthInformation] = fixedCodec<FileValidDataLengthInformation>(
  [['validDataLength', 'u64']], 'FileValidDataLengthInformation');

// ---- variable-size file classes -----------------------------------------------------------
/** FileNameInformation / FileAlternateNameInformation / FileNormalizedNameInformation:
 *  FileNameLength(4) | FileName. */
export function encodeFileNameInformation(name: string): Buffer {
  const n = utf16(name);
  return new Writer(4 + n.length).u32(n.length).bytes(n).finish();
}
export function decodeFileNameInformation(b: Buffer): string {
  const r = new Reader(b);
  return fromUtf16(r.bytes(r.u32()));
}
export const encodeFileAlternateNameInformation = encodeFileNameInformation;
export const decodeFileAlternateNameInformation = decodeFileNameInformation;

/** FileAllInformation (MS-FSCC 2.4.2): Basic | Standard | Internal | Ea | Access | Position | Mode | Alignment | Name. */
export interface FileAllInformation {
  basic: FileBasicInformation;
  standard: FileStandardInformation;
  internal: FileInternalInformation;
  ea: FileEaInformation;
  access: FileAccessInformation;
  position: FilePositionInformation;
  mode: FileModeInformation;
  alignment: FileAlignmentInformation;
  name: string;
}
const ALL_PARTS: Array<[keyof FileAllInformation, Schema]> = [
  ['basic', BASIC], ['standard', STANDARD], ['internal', INTERNAL], ['ea', EA], ['access', ACCESS],
  ['position', POSITION], ['mode', MODE], ['alignment', ALIGNMENT],
];
export function encodeFileAllInformation(v: FileAllInformation): Buffer {
  // Fixed part 96 bytes (the eight parts in order), then FileNameInformation.
  const nameLen = Buffer.byteLength(v.name, 'utf16le');
  const b = Buffer.alloc(100 + nameLen);
  putBasic(b, 0, v.basic);
  putStandard(b, 40, v.standard);
  putU64(b, 64, v.internal.indexNumber);
  b.writeUInt32LE((v.ea.eaSize ?? 0) >>> 0, 72);
  b.writeUInt32LE((v.access.accessFlags ?? 0) >>> 0, 76);
  putU64(b, 80, v.position.currentByteOffset);
  b.writeUInt32LE((v.mode.mode ?? 0) >>> 0, 88);
  b.writeUInt32LE((v.alignment.alignmentRequirement ?? 0) >>> 0, 92);
  b.writeUInt32LE(nameLen, 96);
  b.write(v.name, 100, 'utf16le');
  return b;
}
export function decodeFileAllInformation(b: Buffer): FileAllInformation {
  const r = new Reader(b);
  const o: Record<string, unknown> = {};
  for (const [k, s] of ALL_PARTS) o[k] = readSchema(r, s, 'FileAllInformation');
  o.name = fromUtf16(r.bytes(r.u32()));
  return o as unknown as FileAllInformation;
}

/** FileStreamInformation entries (MS-FSCC 2.4.48): NextEntryOffset(4) | StreamNameLength(4)
 *  | StreamSize(8) | StreamAllocationSize(8) | StreamName; entries 8-byte aligned. */
export interface FileStreamEntry { name: string; size: bigint; allocationSize: bigint }
export function encodeFileStreamInformation(list: FileStreamEntry[]): Buffer {
  const w = new Writer(64);
  list.forEach((s, i) => {
    const start = w.pos;
    const n = utf16(s.name);
    w.u32(0).u32(n.length).u64(s.size).u64(s.allocationSize).bytes(n);
    if (i < list.length - 1) { w.align(8); w.setU32(start, w.pos - start); }
  });
  return w.finish();
}
export function decodeFileStreamInformation(b: Buffer): FileStreamEntry[] {
  const out: FileStreamEntry[] = [];
  const r = new Reader(b);
  let off = 0;
  while (b.length > 0 && out.length < 4096) {
    r.at(off);
    const next = r.u32();
    const len = r.u32();
    const size = r.u64();
    const allocationSize = r.u64();
    out.push({ size, allocationSize, name: fromUtf16(r.bytes(len)) });
    if (!next) break;
    off += next;
  }
  return out;
}
/** The single default-stream entry of a regular file. */
export function defaultStream(size: bigint, allocationSize: bigint): FileStreamEntry[] {
  return [{ name: '::$DATA', size, allocationSize }];
}

/** FileRenameInformation / FileLinkInformation, SMB2 form (MS-FSCC 2.4.37.2 / 2.4.25.2):
 *  ReplaceIfExists(1) | Reserved(7) | RootDirectory(8) | FileNameLength(4) | FileName.
 *  For FileRenameInformationEx the first 4 bytes are Flags; use `flags`. */
export interface FileRenameInformation {
  replaceIfExists: boolean;
  /** The whole first u32 (FILE_RENAME_* flags of the Ex class; bit 0 = REPLACE_IF_EXISTS). */
  flags?: number;
  rootDirectory: bigint;
  fileName: string;
}
export function encodeFileRenameInformation(v: FileRenameInformation): Buffer {
  const n = utf16(v.fileName);
  const w = new Writer(20 + n.length);
  w.u32(v.flags ?? (v.replaceIfExists ? 1 : 0)).u32(0).u64(v.rootDirectory).u32(n.length).bytes(n);
  return w.finish();
}
export function decodeFileRenameInformation(b: Buffer): FileRenameInformation {
  const r = new Reader(b);
  r.need(20, 'FileRenameInformation');
  const flags = r.u32();
  r.skip(4);
  const rootDirectory = r.u64();
  const len = r.u32();
  if (len > r.remaining) throw new WireError('FileRenameInformation name beyond end', INFO_LENGTH_MISMATCH);
  return { replaceIfExists: (flags & 0xff) !== 0, flags, rootDirectory, fileName: fromUtf16(r.bytes(len)) };
}
export type FileLinkInformation = FileRenameInformation;
export const encodeFileLinkInformation = encodeFileRenameInformation;
export const decodeFileLinkInformation = decodeFileRenameInformation;

export function encodeFileFullEaInformation(list: FullEa[]): Buffer { return encodeFullEaList(list); }
export function decodeFileFullEaInformation(b: Buffer): FullEa[] { return decodeFullEaList(b); }

/** FILE_GET_EA_INFORMATION list (MS-FSCC 2.4.15.1), the QUERY_INFO input buffer for FileFullEaInformation:
 *  NextEntryOffset(4) | EaNameLength(1) | EaName (+NUL). */
export function encodeGetEaList(names: string[]): Buffer {
  const w = new Writer(64);
  names.forEach((name, i) => {
    const start = w.pos;
    const n = Buffer.from(name, 'latin1');
    w.u32(0).u8(n.length).bytes(n).u8(0);
    if (i < names.length - 1) { w.align(4); w.setU32(start, w.pos - start); }
  });
  return w.finish();
}
export function decodeGetEaList(b: Buffer): string[] {
  const out: string[] = [];
  const r = new Reader(b);
  let off = 0;
  while (b.length > 0 && out.length < 4096) {
    r.at(off);
    const next = r.u32();
    const len = r.u8();
    out.push(r.bytes(len).toString('latin1'));
    if (!next) break;
    off += next;
  }
  return out;
}

// ---- file-system classes (MS-FSCC 2.5) ----------------------------------------------------
/** FileFsVolumeInformation (2.5.9): VolumeCreationTime(8) | VolumeSerialNumber(4)
 *  | VolumeLabelLength(4) | SupportsObjects(1) | Reserved(1) | VolumeLabel. */
export interface FileFsVolumeInformation {
  volumeCreationTime: bigint; volumeSerialNumber: number; supportsObjects: boolean; volumeLabel: string;
}
export function encodeFileFsVolumeInformation(v: FileFsVolumeInformation): Buffer {
  const l = utf16(v.volumeLabel);
  return new Writer(18 + l.length).u64(v.volumeCreationTime).u32(v.volumeSerialNumber).u32(l.length)
    .u8(v.supportsObjects ? 1 : 0).u8(0).bytes(l).finish();
}
export function decodeFileFsVolumeInformation(b: Buffer): FileFsVolumeInformation {
  const r = new Reader(b);
  const volumeCreationTime = r.u64();
  const volumeSerialNumber = r.u32();
  const len = r.u32();
  const supportsObjects = r.u8() !== 0;
  r.skip(1);
  return { volumeCreationTime, volumeSerialNumber, supportsObjects, volumeLabel: fromUtf16(r.bytes(len)) };
}

export interface FileFsSizeInformation {
  totalAllocationUnits: bigint; availableAllocationUnits: bigint; sectorsPerAllocationUnit: number; bytesPerSector: number;
}
export const [encodeFileFsSizeInformation, decodeFileFsSizeInformation] = fixedCodec<FileFsSizeInformation>(
  [['totalAllocationUnits', 'u64'], ['availableAllocationUnits', 'u64'], ['sectorsPerAllocationUnit', 'u32'], ['bytesPerSector', 'u32']],
  'FileFsSizeInformation');

export interface FileFsFullSizeInformation {
  totalAllocationUnits: bigint; callerAvailableAllocationUnits: bigint; actualAvailableAllocationUnits: bigint;
  sectorsPerAllocationUnit: number; bytesPerSector: number;
}
export const [encodeFileFsFullSizeInformation, decodeFileFsFullSizeInformation] = fixedCodec<FileFsFullSizeInformation>(
  [['totalAllocationUnits', 'u64'], ['callerAvailableAllocationUnits', 'u64'], ['actualAvailableAllocationUnits', 'u64'],
    ['sectorsPerAllocationUnit', 'u32'], ['bytesPerSector', 'u32']], 'FileFsFullSizeInformation');

/** FILE_DEVICE_DISK = 0x7, FILE_DEVICE_NAMED_PIPE = 0x11; characteristics e.g. FILE_DEVICE_IS_MOUNTED 0x20. */
export interface FileFsDeviceInformation { deviceType: number; characteristics: number }
export const [encodeFileFsDeviceInformation, decodeFileFsDeviceInformation] = fixedCodec<FileFsDeviceInformation>(
  [['deviceType', 'u32'], ['characteristics', 'u32']], 'FileFsDeviceInformation');

/** FileFsAttributeInformation (2.5.1): FileSystemAttributes(4) | MaximumComponentNameLength(4)
 *  | FileSystemNameLength(4) | FileSystemName. */
export interface FileFsAttributeInformation {
  fileSystemAttributes: number; maximumComponentNameLength: number; fileSystemName: string;
}
export const FsAttributes = {
  CASE_SENSITIVE_SEARCH: 0x1, CASE_PRESERVED_NAMES: 0x2, UNICODE_ON_DISK: 0x4, PERSISTENT_ACLS: 0x8,
  FILE_COMPRESSION: 0x10, VOLUME_QUOTAS: 0x20, SUPPORTS_SPARSE_FILES: 0x40, SUPPORTS_REPARSE_POINTS: 0x80,
  SUPPORTS_REMOTE_STORAGE: 0x100, VOLUME_IS_COMPRESSED: 0x8000, SUPPORTS_OBJECT_IDS: 0x10000,
  SUPPORTS_ENCRYPTION: 0x20000, NAMED_STREAMS: 0x40000, READ_ONLY_VOLUME: 0x80000,
  SUPPORTS_HARD_LINKS: 0x400000, SUPPORTS_EXTENDED_ATTRIBUTES: 0x800000, SUPPORTS_POSIX_UNLINK_RENAME: 0x400,
} as const;
export function encodeFileFsAttributeInformation(v: FileFsAttributeInformation): Buffer {
  const n = utf16(v.fileSystemName);
  return new Writer(12 + n.length).u32(v.fileSystemAttributes).u32(v.maximumComponentNameLength).u32(n.length).bytes(n).finish();
}
export function decodeFileFsAttributeInformation(b: Buffer): FileFsAttributeInformation {
  const r = new Reader(b);
  const fileSystemAttributes = r.u32();
  const maximumComponentNameLength = r.u32();
  return { fileSystemAttributes, maximumComponentNameLength, fileSystemName: fromUtf16(r.bytes(r.u32())) };
}

export interface FileFsSectorSizeInformation {
  logicalBytesPerSector: number; physicalBytesPerSectorForAtomicity: number; physicalBytesPerSectorForPerformance: number;
  fileSystemEffectivePhysicalBytesPerSectorForAtomicity: number; flags: number; byteOffsetForSectorAlignment: number;
  byteOffsetForPartitionAlignment: number;
}
export const [encodeFileFsSectorSizeInformation, decodeFileFsSectorSizeInformation] = fixedCodec<FileFsSectorSizeInformation>(
  [['logicalBytesPerSector', 'u32'], ['physicalBytesPerSectorForAtomicity', 'u32'], ['physicalBytesPerSectorForPerformance', 'u32'],
    ['fileSystemEffectivePhysicalBytesPerSectorForAtomicity', 'u32'], ['flags', 'u32'], ['byteOffsetForSectorAlignment', 'u32'],
    ['byteOffsetForPartitionAlignment', 'u32']], 'FileFsSectorSizeInformation');

/** FileFsObjectIdInformation (2.5.6): ObjectId(16) | ExtendedInfo(48). */
export interface FileFsObjectIdInformation { objectId: Buffer; extendedInfo: Buffer }
export function encodeFileFsObjectIdInformation(v: FileFsObjectIdInformation): Buffer {
  const out = Buffer.alloc(64);
  v.objectId.copy(out, 0, 0, 16);
  v.extendedInfo.copy(out, 16, 0, 48);
  return out;
}
export function decodeFileFsObjectIdInformation(b: Buffer): FileFsObjectIdInformation {
  const r = new Reader(b);
  return { objectId: r.bytes(16), extendedInfo: r.bytes(48) };
}

/** FileFsControlInformation (2.5.2). */
export interface FileFsControlInformation {
  freeSpaceStartFiltering: bigint; freeSpaceThreshold: bigint; freeSpaceStopFiltering: bigint;
  defaultQuotaThreshold: bigint; defaultQuotaLimit: bigint; fileSystemControlFlags: number;
}
export const [encodeFileFsControlInformation, decodeFileFsControlInformation] = fixedCodec<FileFsControlInformation>(
  [['freeSpaceStartFiltering', 'u64'], ['freeSpaceThreshold', 'u64'], ['freeSpaceStopFiltering', 'u64'],
    ['defaultQuotaThreshold', 'u64'], ['defaultQuotaLimit', 'u64'], ['fileSystemControlFlags', 'u32'], ['', 4]],
  'FileFsControlInformation');

// ---- sizes and OutputBufferLength handling ------------------------------------------------
/** Fixed (minimum) size of each file information class; the full size may be larger. */
export const FILE_INFO_MIN_SIZE: Readonly<Record<number, number>> = {
  [C.FileBasicInformation]: BASIC_SIZE, [C.FileStandardInformation]: 24, [C.FileInternalInformation]: 8,
  [C.FileEaInformation]: 4, [C.FileAccessInformation]: 4, [C.FileNameInformation]: 4, [C.FilePositionInformation]: 8,
  [C.FileModeInformation]: 4, [C.FileAlignmentInformation]: 4, [C.FileAllInformation]: 100,
  [C.FileAlternateNameInformation]: 4, [C.FileStreamInformation]: 24, [C.FileNetworkOpenInformation]: 56,
  [C.FileAttributeTagInformation]: 8, [C.FileCompressionInformation]: 16, [C.FileIdInformation]: 24,
  [C.FilePipeInformation]: 8, [C.FilePipeLocalInformation]: 40, [C.FileDispositionInformation]: 1,
  [C.FileDispositionInformationEx]: 4, [C.FileRenameInformation]: 20, [C.FileRenameInformationEx]: 20,
  [C.FileLinkInformation]: 20, [C.FileEndOfFileInformation]: 8, [C.FileAllocationInformation]: 8,
  [C.FileValidDataLengthInformation]: 8, [C.FileFullEaInformation]: 8, [C.FileNormalizedNameInformation]: 4,
};
export const FS_INFO_MIN_SIZE: Readonly<Record<number, number>> = {
  [F.FileFsVolumeInformation]: 18, [F.FileFsSizeInformation]: 24, [F.FileFsFullSizeInformation]: 32,
  [F.FileFsDeviceInformation]: 8, [F.FileFsAttributeInformation]: 12, [F.FileFsSectorSizeInformation]: 28,
  [F.FileFsObjectIdInformation]: 64, [F.FileFsControlInformation]: 48,
};

/**
 * Applies OutputBufferLength to an encoded structure: returns INFO_LENGTH_MISMATCH (and no data)
 * when even the fixed part does not fit, BUFFER_OVERFLOW with truncated data when only the
 * variable part is cut, SUCCESS otherwise. `needed` is the full size.
 */
export function fitOutput(encoded: Buffer, minSize: number, outputBufferLength: number): { status: number; buf: Buffer; needed: number } {
  const needed = encoded.length;
  if (outputBufferLength < Math.min(minSize, needed)) return { status: INFO_LENGTH_MISMATCH, buf: encoded.subarray(0, 0), needed };
  if (outputBufferLength < needed) return { status: BUFFER_OVERFLOW, buf: encoded.subarray(0, outputBufferLength), needed };
  return { status: 0, buf: encoded, needed };
}
