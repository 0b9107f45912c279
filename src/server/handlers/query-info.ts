// SMB2 QUERY_INFO (MS-SMB2 3.3.5.20): file, file-system and security information.
// OutputBufferLength rules (3.3.5.20.1): smaller than the fixed part -> INFO_LENGTH_MISMATCH;
// only the variable part cut -> BUFFER_OVERFLOW with truncated data; security descriptors that do
// not fit -> BUFFER_TOO_SMALL with the needed size as error data (3.3.5.20.3).
import type { Open, RequestContext } from '../types.js';
import { Status } from '../../wire/status.js';
import { decodeQueryInfoRequest, encodeQueryInfoResponse } from '../../wire/query-info.js';
import * as I from '../../wire/fscc-info.js';
import { Access, InfoType, FileInfoClass as C, FsInfoClass as F } from '../../wire/constants.js';
import type { FileStat } from '../../vfs/types.js';
import { handlerOf, requireOpen, fail, statOpen, sizes } from '../files/util.js';
import { stateOf } from '../open-file.js';
import { buildSecurityDescriptor, queryAccessNeeded } from '../security.js';
import { tokenOf, parseStored, selectSd } from '../acl.js';
import { shortName, rememberShortName } from '../files/short-names.js';
import { splitStream } from '../../vfs/path.js';
import { encodeFullEaList } from '../../wire/ea.js';
import { reportedStat } from '../write-time.js';

function smbName(path: string): string {
  return '\\' + path.split('/').join('\\');
}

function basic(st: FileStat): I.FileBasicInformation {
  return {
    creationTime: st.creationTime, lastAccessTime: st.lastAccessTime, lastWriteTime: st.lastWriteTime,
    changeTime: st.changeTime, fileAttributes: st.attributes,
  };
}

function standard(open: Open, st: FileStat): I.FileStandardInformation {
  const sz = sizes(st);
  const dp = stateOf(open).node.deletePending || open.deleteOnClose;
  return {
    allocationSize: sz.allocationSize, endOfFile: sz.endOfFile, numberOfLinks: Math.max(0, (st.isDirectory ? 1 : Math.max(1, st.nlink)) - (dp ? 1 : 0)),
    deletePending: dp, directory: st.isDirectory,
  };
}

/**
 * Minimum OutputBufferLength per class as Windows enforces it (smb2.getinfo.q*_buffercheck): the
 * fixed part plus room for one name character, 8-aligned, for the variable-size classes.
 */
const FILE_MIN: Record<number, number> = {
  [C.FileBasicInformation]: 40, [C.FileStandardInformation]: 24, [C.FileInternalInformation]: 8, [C.FileEaInformation]: 4,
  [C.FileAccessInformation]: 4, [C.FileModeInformation]: 4, [C.FileAlignmentInformation]: 4, [C.FileAllInformation]: 104,
  [C.FileAlternateNameInformation]: 8, [C.FileStreamInformation]: 32, [C.FileCompressionInformation]: 16,
  [C.FileNetworkOpenInformation]: 56, [C.FileAttributeTagInformation]: 8, [C.FilePositionInformation]: 8,
  [C.FileNameInformation]: 8, [C.FileFullEaInformation]: 0, [C.FileNormalizedNameInformation]: 8, [C.FileIdInformation]: 24,
};
const FS_MIN: Record<number, number> = {
  [F.FileFsVolumeInformation]: 24, [F.FileFsSizeInformation]: 24, [F.FileFsDeviceInformation]: 8,
  [F.FileFsAttributeInformation]: 16, [F.FileFsControlInformation]: 48, [F.FileFsFullSizeInformation]: 32,
  [F.FileFsSectorSizeInformation]: 28, [F.FileFsObjectIdInformation]: 64,
};

function fitOut(data: Buffer, min: number, outLen: number): { status: number; buf: Buffer } {
  if (outLen < min) return { status: Status.INFO_LENGTH_MISMATCH, buf: data.subarray(0, 0) };
  if (outLen < data.length) return { status: Status.BUFFER_OVERFLOW, buf: data.subarray(0, outLen) };
  return { status: Status.SUCCESS, buf: data };
}

const READ_ATTR_CLASSES = new Set<number>([
  C.FileBasicInformation, C.FileAllInformation, C.FileNetworkOpenInformation, C.FileAttributeTagInformation,
]);

function volumeId(open: Open): bigint {
  let h = 0x811c9dc5;
  for (const ch of open.tree.share.name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return BigInt(h);
}

async function fileInfo(ctx: RequestContext, open: Open, cls: number): Promise<Buffer> {
  if (READ_ATTR_CLASSES.has(cls) && !(open.grantedAccess & Access.FILE_READ_ATTRIBUTES)) fail(Status.ACCESS_DENIED);
  if (cls === C.FileFullEaInformation && !(open.grantedAccess & Access.FILE_READ_EA)) fail(Status.ACCESS_DENIED);
  if (open.pipe) {
    switch (cls) {
      case C.FileStandardInformation:
        return I.encodeFileStandardInformation({ allocationSize: 4096n, endOfFile: 0n, numberOfLinks: 1, deletePending: true, directory: false });
      case C.FilePipeInformation:
        return I.encodeFilePipeInformation({ readMode: 1, completionMode: 0 });
      case C.FilePipeLocalInformation:
        return I.encodeFilePipeLocalInformation({
          namedPipeType: 1, namedPipeConfiguration: 2, maximumInstances: 255, currentInstances: 1, inboundQuota: 4096,
          readDataAvailable: 0, outboundQuota: 4096, writeQuotaAvailable: 4096, namedPipeState: 3, namedPipeEnd: 1,
        });
      default:
        fail(Status.INVALID_PARAMETER);
    }
  }
  const st = reportedStat(open, await statOpen(open));
  const s = stateOf(open);
  // EAs (MS-FSCC 2.4.12 / 2.4.15): EaSize is the size of the FILE_FULL_EA_INFORMATION list.
  const eas = cls === C.FileFullEaInformation || cls === C.FileEaInformation || cls === C.FileAllInformation
    ? (await open.handle?.getEas?.()) ?? [] : [];
  const eaList = eas.length ? encodeFullEaList(eas) : Buffer.alloc(0);
  switch (cls) {
    case C.FileBasicInformation: return I.encodeFileBasicInformation(basic(st));
    case C.FileStandardInformation: return I.encodeFileStandardInformation(standard(open, st));
    case C.FileInternalInformation: return I.encodeFileInternalInformation({ indexNumber: st.fileId });
    case C.FileEaInformation: return I.encodeFileEaInformation({ eaSize: eaList.length });
    // (EaSize here and in directory listings: FileStat.eaSize, the same chain length.)
    case C.FileAccessInformation: return I.encodeFileAccessInformation({ accessFlags: open.grantedAccess });
    case C.FilePositionInformation: return I.encodeFilePositionInformation({ currentByteOffset: s.position });
    case C.FileModeInformation: return I.encodeFileModeInformation({ mode: s.mode });
    case C.FileAlignmentInformation: return I.encodeFileAlignmentInformation({ alignmentRequirement: 0 });
    case C.FileAllInformation:
      return I.encodeFileAllInformation({
        basic: basic(st), standard: standard(open, st), internal: { indexNumber: st.fileId }, ea: { eaSize: eaList.length },
        access: { accessFlags: open.grantedAccess }, position: { currentByteOffset: s.position }, mode: { mode: s.mode },
        alignment: { alignmentRequirement: 0 }, name: smbName(open.path),
      });
    case C.FileAlternateNameInformation: {
      // No 8.3 names are generated: report the last component, as Samba does for 8.3-valid names.
      const base = open.path.slice(open.path.lastIndexOf('/') + 1);
      const dir = open.path.slice(0, Math.max(0, open.path.lastIndexOf('/')));
      return I.encodeFileNameInformation(open.tree.vfs ? rememberShortName(open.tree.vfs, dir, base) : shortName(base));
    }
    case C.FileStreamInformation: {
      // MS-FSCC 2.4.44: '::$DATA' (files only) then each named stream as ':name:$DATA'.
      const vfs = open.tree.vfs!;
      const base = splitStream(open.path).base;
      const list: I.FileStreamEntry[] = [];
      let main = st;
      if (base !== open.path) main = await vfs.stat(base);
      if (!main.isDirectory) list.push(...I.defaultStream(main.size, main.allocationSize));
      // The open file's own streams through its handle (no second path lookup) when it is the file.
      const named = base === open.path && open.handle?.listStreams ? await open.handle.listStreams() : await vfs.listStreams?.(base);
      for (const s of named ?? []) {
        list.push({ name: `:${s.name}:$DATA`, size: s.size, allocationSize: s.allocationSize });
      }
      return I.encodeFileStreamInformation(list);
    }
    case C.FileCompressionInformation:
      return I.encodeFileCompressionInformation({
        compressedFileSize: sizes(st).endOfFile, compressionFormat: 0, compressionUnitShift: 0, chunkShift: 0, clusterShift: 0,
      });
    case C.FileNetworkOpenInformation: {
      const sz = sizes(st);
      return I.encodeFileNetworkOpenInformation({
        creationTime: st.creationTime, lastAccessTime: st.lastAccessTime, lastWriteTime: st.lastWriteTime,
        changeTime: st.changeTime, fileAttributes: st.attributes, allocationSize: sz.allocationSize, endOfFile: sz.endOfFile,
      });
    }
    case C.FileAttributeTagInformation: return I.encodeFileAttributeTagInformation({ fileAttributes: st.attributes, reparseTag: 0 });
    case C.FileIdInformation: {
      const id = Buffer.alloc(16);
      id.writeBigUInt64LE(BigInt.asUintN(64, st.fileId), 0);
      return I.encodeFileIdInformation({ volumeSerialNumber: volumeId(open), fileId: id });
    }
    case C.FileFullEaInformation:
      // The whole list (the query's EA name list and index are ignored, as Samba); none: empty, OK.
      return eaList;
    case C.FileNormalizedNameInformation:
      if (ctx.conn.dialect < 0x0311) fail(Status.NOT_SUPPORTED);
      return I.encodeFileNameInformation(open.path.split('/').join('\\'));
    default:
      fail(Status.INVALID_INFO_CLASS);
  }
}

async function fsInfo(open: Open, cls: number): Promise<Buffer> {
  const vfs = open.tree.vfs;
  if (!vfs) {
    if (cls === F.FileFsDeviceInformation) return I.encodeFileFsDeviceInformation({ deviceType: 0x11, characteristics: 0 });
    fail(Status.INVALID_PARAMETER);
  }
  const fs = await vfs.statfs();
  const unit = BigInt(fs.bytesPerSector * fs.sectorsPerUnit);
  switch (cls) {
    case F.FileFsVolumeInformation:
      return I.encodeFileFsVolumeInformation({ volumeCreationTime: 0n, volumeSerialNumber: fs.serial, supportsObjects: false, volumeLabel: fs.label });
    case F.FileFsSizeInformation:
      return I.encodeFileFsSizeInformation({
        totalAllocationUnits: fs.totalBytes / unit, availableAllocationUnits: fs.availBytes / unit,
        sectorsPerAllocationUnit: fs.sectorsPerUnit, bytesPerSector: fs.bytesPerSector,
      });
    case F.FileFsFullSizeInformation:
      return I.encodeFileFsFullSizeInformation({
        totalAllocationUnits: fs.totalBytes / unit, callerAvailableAllocationUnits: fs.availBytes / unit,
        actualAvailableAllocationUnits: fs.freeBytes / unit, sectorsPerAllocationUnit: fs.sectorsPerUnit, bytesPerSector: fs.bytesPerSector,
      });
    case F.FileFsDeviceInformation:
      return I.encodeFileFsDeviceInformation({ deviceType: 0x7, characteristics: 0x20 });
    case F.FileFsAttributeInformation: {
      const A = I.FsAttributes;
      let attrs = A.CASE_PRESERVED_NAMES | A.UNICODE_ON_DISK | A.PERSISTENT_ACLS | A.SUPPORTS_SPARSE_FILES;
      if (vfs.caseSensitive) attrs |= A.CASE_SENSITIVE_SEARCH;
      if (open.tree.readOnly) attrs |= A.READ_ONLY_VOLUME;
      return I.encodeFileFsAttributeInformation({ fileSystemAttributes: attrs, maximumComponentNameLength: fs.maxNameLength, fileSystemName: fs.fsName });
    }
    case F.FileFsControlInformation:
      return I.encodeFileFsControlInformation({
        freeSpaceStartFiltering: 0n, freeSpaceThreshold: 0n, freeSpaceStopFiltering: 0n,
        defaultQuotaThreshold: 0xffffffffffffffffn, defaultQuotaLimit: 0xffffffffffffffffn, fileSystemControlFlags: 0,
      });
    case F.FileFsObjectIdInformation: {
      const id = Buffer.alloc(16);
      id.writeUInt32LE(fs.serial >>> 0, 0);
      return I.encodeFileFsObjectIdInformation({ objectId: id, extendedInfo: Buffer.alloc(48) });
    }
    case F.FileFsSectorSizeInformation:
      return I.encodeFileFsSectorSizeInformation({
        logicalBytesPerSector: fs.bytesPerSector, physicalBytesPerSectorForAtomicity: fs.bytesPerSector,
        physicalBytesPerSectorForPerformance: fs.bytesPerSector, fileSystemEffectivePhysicalBytesPerSectorForAtomicity: fs.bytesPerSector,
        flags: 0x3, byteOffsetForSectorAlignment: 0, byteOffsetForPartitionAlignment: 0,
      });
    default:
      fail(Status.INVALID_INFO_CLASS);
  }
}

export const handler = handlerOf(async (ctx) => {
  const req = decodeQueryInfoRequest(ctx.msg);
  const open = requireOpen(ctx, req.fileId);
  if (req.outputBufferLength > ctx.conn.maxTransactSize) fail(Status.INVALID_PARAMETER);
  const outLen = Math.min(req.outputBufferLength, Math.max(0, ctx.maxResponseSize - 8));
  switch (req.infoType) {
    case InfoType.FILE: {
      const data = await fileInfo(ctx, open, req.fileInfoClass);
      const fit = fitOut(data, FILE_MIN[req.fileInfoClass] ?? I.FILE_INFO_MIN_SIZE[req.fileInfoClass] ?? data.length, outLen);
      if (fit.status === Status.INFO_LENGTH_MISMATCH) return { status: fit.status };
      return { status: fit.status, body: encodeQueryInfoResponse({ buffer: fit.buf }) };
    }
    case InfoType.FILESYSTEM: {
      const data = await fsInfo(open, req.fileInfoClass);
      const fit = fitOut(data, FS_MIN[req.fileInfoClass] ?? I.FS_INFO_MIN_SIZE[req.fileInfoClass] ?? data.length, outLen);
      if (fit.status === Status.INFO_LENGTH_MISMATCH) return { status: fit.status };
      return { status: fit.status, body: encodeQueryInfoResponse({ buffer: fit.buf }) };
    }
    case InfoType.SECURITY: {
      const need = queryAccessNeeded(req.additionalInformation);
      if ((open.grantedAccess & need) !== need) fail(Status.ACCESS_DENIED);
      const st = open.pipe ? undefined : reportedStat(open, await statOpen(open));
      // A stored descriptor (acl.ts), else the synthesized one owned by the session's user.
      const stored = parseStored(await open.handle?.getSecurity?.());
      const token = tokenOf(open.session);
      const sd = stored ? selectSd(stored, req.additionalInformation) : buildSecurityDescriptor({
        uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
        isDirectory: st?.isDirectory ?? false, attributes: st?.attributes ?? 0,
        owner: token.user, group: token.group,
      }, req.additionalInformation);
      if (sd.length > outLen) {
        const ed = Buffer.alloc(4);
        ed.writeUInt32LE(sd.length, 0);
        return { status: Status.BUFFER_TOO_SMALL, errorData: ed };
      }
      return { status: Status.SUCCESS, body: encodeQueryInfoResponse({ buffer: sd }) };
    }
    case InfoType.QUOTA:
      fail(Status.NOT_SUPPORTED);
    // falls through (never reached)
    default:
      fail(Status.INVALID_PARAMETER);
  }
});
