import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { FileInfoClass as C, FsInfoClass as F, InfoType } from './constants.js';
import { encodeQueryInfoRequest, decodeQueryInfoRequest, encodeQueryInfoResponse, decodeQueryInfoResponse } from './query-info.js';
import { encodeSetInfoRequest, decodeSetInfoRequest, encodeSetInfoResponse, decodeSetInfoResponse } from './set-info.js';
import * as fi from './fscc-info.js';
import { msgOf, hex } from './testutil.js';

const fid = { persistent: 3n, volatile: 4n };

test('QUERY_INFO / SET_INFO round-trip and vectors', () => {
  const q = { infoType: InfoType.FILE, fileInfoClass: C.FileFullEaInformation, outputBufferLength: 1024, inputBuffer: fi.encodeGetEaList(['a', 'bb']), additionalInformation: 0, flags: 1, fileId: fid };
  const dq = decodeQueryInfoRequest(msgOf(encodeQueryInfoRequest(q)));
  assert.deepEqual(dq, q);
  assert.deepEqual(fi.decodeGetEaList(dq.inputBuffer), ['a', 'bb']);
  const v = hex('2900 01 12 00100000 0000 0000 00000000 00000000 00000000 0300000000000000 0400000000000000 00');
  const d = decodeQueryInfoRequest(msgOf(v));
  assert.equal(d.fileInfoClass, C.FileAllInformation);
  assert.equal(d.outputBufferLength, 4096);
  assert.deepEqual(d.fileId, fid);
  const res = { buffer: fi.encodeFileEaInformation({ eaSize: 0 }) };
  assert.deepEqual(decodeQueryInfoResponse(msgOf(encodeQueryInfoResponse(res))), res);
  const s = { infoType: InfoType.FILE, fileInfoClass: C.FileEndOfFileInformation, buffer: fi.encodeFileEndOfFileInformation({ endOfFile: 77n }), additionalInformation: 0, fileId: fid };
  const ds = decodeSetInfoRequest(msgOf(encodeSetInfoRequest(s)));
  assert.deepEqual(ds, s);
  assert.equal(fi.decodeFileEndOfFileInformation(ds.buffer).endOfFile, 77n);
  const sv = hex('2100 01 0d 01000000 6000 0000 00000000 0300000000000000 0400000000000000 01');
  assert.equal(fi.decodeFileDispositionInformation(decodeSetInfoRequest(msgOf(sv)).buffer).deletePending, true);
  assert.deepEqual(decodeSetInfoResponse(msgOf(encodeSetInfoResponse())), {});
  assert.equal(encodeSetInfoResponse().length, 2);
  const far = Buffer.from(sv); far.writeUInt32LE(2, 4);
  assert.throws(() => decodeSetInfoRequest(msgOf(far)), WireError);
  assert.throws(() => decodeQueryInfoRequest(msgOf(v.subarray(0, 30))), WireError);
  assert.throws(() => decodeQueryInfoResponse(msgOf(hex('0a00 4800 00000000'))), WireError);
});

test('file information classes round-trip with exact sizes', () => {
  const basic = { creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n, fileAttributes: 0x20 };
  assert.equal(fi.encodeFileBasicInformation(basic).length, 40);
  assert.deepEqual(fi.decodeFileBasicInformation(fi.encodeFileBasicInformation(basic)), basic);
  assert.deepEqual(fi.decodeFileBasicInformation(fi.encodeFileBasicInformation(basic).subarray(0, 36)), basic);
  const standard = { allocationSize: 4096n, endOfFile: 10n, numberOfLinks: 1, deletePending: false, directory: true };
  assert.equal(fi.encodeFileStandardInformation(standard).length, 24);
  assert.deepEqual(fi.decodeFileStandardInformation(fi.encodeFileStandardInformation(standard)), standard);
  const all: fi.FileAllInformation = {
    basic, standard, internal: { indexNumber: 99n }, ea: { eaSize: 0 }, access: { accessFlags: 0x1f01ff },
    position: { currentByteOffset: 0n }, mode: { mode: 0 }, alignment: { alignmentRequirement: 0 }, name: '\\dir\\f.txt',
  };
  const allBuf = fi.encodeFileAllInformation(all);
  assert.equal(allBuf.length, 100 + 20);
  assert.deepEqual(fi.decodeFileAllInformation(allBuf), all);
  const no = { creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n, allocationSize: 5n, endOfFile: 6n, fileAttributes: 7 };
  assert.equal(fi.encodeFileNetworkOpenInformation(no).length, 56);
  assert.deepEqual(fi.decodeFileNetworkOpenInformation(fi.encodeFileNetworkOpenInformation(no)), no);
  assert.equal(fi.encodeFileCompressionInformation({ compressedFileSize: 1n, compressionFormat: 0, compressionUnitShift: 0, chunkShift: 0, clusterShift: 0 }).length, 16);
  const id = { volumeSerialNumber: 5n, fileId: Buffer.alloc(16, 1) };
  assert.deepEqual(fi.decodeFileIdInformation(fi.encodeFileIdInformation(id)), id);
  assert.equal(fi.encodeFilePipeLocalInformation({ namedPipeType: 0, namedPipeConfiguration: 0, maximumInstances: 0, currentInstances: 0, inboundQuota: 0, readDataAvailable: 0, outboundQuota: 0, writeQuotaAvailable: 0, namedPipeState: 3, namedPipeEnd: 1 }).length, 40);
  assert.deepEqual(fi.decodeFileStreamInformation(fi.encodeFileStreamInformation([...fi.defaultStream(10n, 4096n), { name: ':x:$DATA', size: 1n, allocationSize: 8n }])).map((s) => s.name), ['::$DATA', ':x:$DATA']);
  assert.equal(fi.decodeFileNameInformation(fi.encodeFileNameInformation('\\a')), '\\a');
  assert.deepEqual(fi.decodeFileAttributeTagInformation(fi.encodeFileAttributeTagInformation({ fileAttributes: 1, reparseTag: 2 })), { fileAttributes: 1, reparseTag: 2 });
  assert.deepEqual(fi.decodeFileDispositionInformationEx(fi.encodeFileDispositionInformationEx({ flags: 3 })), { flags: 3 });
  const eas = [{ flags: 0, name: 'A', value: Buffer.from('1') }];
  assert.deepEqual(fi.decodeFileFullEaInformation(fi.encodeFileFullEaInformation(eas)), eas);
  assert.throws(() => fi.decodeFileStandardInformation(Buffer.alloc(10)), WireError);
});

test('hand-built FileRenameInformation (SMB2 variant) decodes', () => {
  const name = Buffer.from('new.txt', 'utf16le');
  const v = Buffer.concat([hex('01 00000000000000 0000000000000000 0e000000'), name]);
  const r = fi.decodeFileRenameInformation(v);
  assert.deepEqual({ ...r, flags: undefined }, { replaceIfExists: true, flags: undefined, rootDirectory: 0n, fileName: 'new.txt' });
  assert.deepEqual(fi.decodeFileRenameInformation(fi.encodeFileRenameInformation({ replaceIfExists: false, rootDirectory: 0n, fileName: 'x' })).fileName, 'x');
  const bad = Buffer.from(v); bad.writeUInt32LE(100, 16);
  assert.throws(() => fi.decodeFileRenameInformation(bad), WireError);
  assert.throws(() => fi.decodeFileRenameInformation(v.subarray(0, 12)), WireError);
});

test('fs information classes and fitOutput', () => {
  const vol = { volumeCreationTime: 1n, volumeSerialNumber: 0x1234, supportsObjects: false, volumeLabel: 'share' };
  const vb = fi.encodeFileFsVolumeInformation(vol);
  assert.equal(vb.length, 18 + 10);
  assert.deepEqual(fi.decodeFileFsVolumeInformation(vb), vol);
  const attr = { fileSystemAttributes: 0x8f, maximumComponentNameLength: 255, fileSystemName: 'NTFS' };
  assert.deepEqual(fi.decodeFileFsAttributeInformation(fi.encodeFileFsAttributeInformation(attr)), attr);
  assert.equal(fi.encodeFileFsSizeInformation({ totalAllocationUnits: 1n, availableAllocationUnits: 1n, sectorsPerAllocationUnit: 8, bytesPerSector: 512 }).length, 24);
  const full = { totalAllocationUnits: 10n, callerAvailableAllocationUnits: 5n, actualAvailableAllocationUnits: 5n, sectorsPerAllocationUnit: 8, bytesPerSector: 512 };
  assert.deepEqual(fi.decodeFileFsFullSizeInformation(fi.encodeFileFsFullSizeInformation(full)), full);
  assert.equal(fi.encodeFileFsSectorSizeInformation({ logicalBytesPerSector: 512, physicalBytesPerSectorForAtomicity: 512, physicalBytesPerSectorForPerformance: 512, fileSystemEffectivePhysicalBytesPerSectorForAtomicity: 512, flags: 3, byteOffsetForSectorAlignment: 0, byteOffsetForPartitionAlignment: 0 }).length, 28);
  assert.equal(fi.encodeFileFsObjectIdInformation({ objectId: Buffer.alloc(16), extendedInfo: Buffer.alloc(48) }).length, 64);
  assert.equal(fi.encodeFileFsControlInformation({ freeSpaceStartFiltering: 0n, freeSpaceThreshold: 0n, freeSpaceStopFiltering: 0n, defaultQuotaThreshold: 0n, defaultQuotaLimit: 0n, fileSystemControlFlags: 0 }).length, 48);
  assert.deepEqual(fi.decodeFileFsDeviceInformation(hex('07000000 20000000')), { deviceType: 7, characteristics: 0x20 });
  // OutputBufferLength: full fit, truncated variable part, too small for the fixed part.
  const min = fi.FS_INFO_MIN_SIZE[F.FileFsVolumeInformation]!;
  assert.equal(fi.fitOutput(vb, min, 100).status, 0);
  const over = fi.fitOutput(vb, min, 20);
  assert.equal(over.status, 0x80000005);
  assert.equal(over.buf.length, 20);
  assert.equal(over.needed, 28);
  assert.equal(fi.fitOutput(vb, min, 10).status, 0xc0000004);
  assert.equal(fi.FILE_INFO_MIN_SIZE[C.FileAllInformation], 100);
});

test('direct encoders of the hot classes: exact bytes, -1 times wrap, reserved zero', () => {
  const basic = { creationTime: -1n, lastAccessTime: 0x0102030405060708n, lastWriteTime: 0n, changeTime: 1n, fileAttributes: 0x80000020 };
  assert.equal(fi.encodeFileBasicInformation(basic).toString('hex'),
    'ffffffffffffffff' + '0807060504030201' + '0000000000000000' + '0100000000000000' + '20000080' + '00000000');
  const standard = { allocationSize: 8n, endOfFile: 7n, numberOfLinks: 2, deletePending: true, directory: false };
  assert.equal(fi.encodeFileStandardInformation(standard).toString('hex'), '0800000000000000' + '0700000000000000' + '02000000' + '01' + '00' + '0000');
  const all = fi.encodeFileAllInformation({
    basic, standard, internal: { indexNumber: 9n }, ea: { eaSize: 3 }, access: { accessFlags: 0x1f01ff },
    position: { currentByteOffset: 5n }, mode: { mode: 2 }, alignment: { alignmentRequirement: 1 }, name: '\\€',
  });
  assert.equal(all.subarray(64).toString('hex'),
    '0900000000000000' + '03000000' + 'ff011f00' + '0500000000000000' + '02000000' + '01000000' + '04000000' + '5c00ac20');
  assert.equal(fi.encodeFileNetworkOpenInformation({ ...basic, allocationSize: 2n, endOfFile: 3n }).subarray(32).toString('hex'),
    '0200000000000000' + '0300000000000000' + '20000080' + '00000000');
  assert.equal(fi.encodeFileAttributeTagInformation({ fileAttributes: 0x10, reparseTag: 0xa000000c }).toString('hex'), '100000000c0000a0');
});
