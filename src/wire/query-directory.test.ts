import test from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from './buf.js';
import { FileInfoClass as C, FileAttributes } from './constants.js';
import {
  encodeQueryDirectoryRequest, decodeQueryDirectoryRequest, encodeQueryDirectoryResponse, decodeQueryDirectoryResponse,
} from './query-directory.js';
import { encodeDirEntries, decodeDirEntries, dirEntrySize, matchWildcard, type DirEntryInfo } from './fscc-dir.js';
import { msgOf, hex } from './testutil.js';

const fid = { persistent: 5n, volatile: 6n };

function entry(name: string, extra: Partial<DirEntryInfo> = {}): DirEntryInfo {
  return {
    name, fileIndex: 0, creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n,
    endOfFile: 100n, allocationSize: 4096n, attributes: FileAttributes.ARCHIVE, eaSize: 0, fileId: 42n, ...extra,
  };
}

test('QUERY_DIRECTORY request/response round-trip and vector', () => {
  const req = { fileInformationClass: C.FileIdBothDirectoryInformation, flags: 1, fileIndex: 0, fileId: fid, fileName: '*', outputBufferLength: 65536 };
  assert.deepEqual(decodeQueryDirectoryRequest(msgOf(encodeQueryDirectoryRequest(req))), req);
  const v = hex('2100 25 01 00000000 0500000000000000 0600000000000000 6000 0200 00000100 2a00');
  assert.deepEqual(decodeQueryDirectoryRequest(msgOf(v)), req);
  const res = { buffer: Buffer.from('0011223344', 'hex') };
  assert.deepEqual(decodeQueryDirectoryResponse(msgOf(encodeQueryDirectoryResponse(res))), res);
  assert.throws(() => decodeQueryDirectoryRequest(msgOf(v.subarray(0, 33).fill(0xff, 28, 30))), WireError);
  assert.throws(() => decodeQueryDirectoryResponse(msgOf(hex('0900 4800 ff000000 00'))), WireError);
});

test('directory entries round-trip in every class, 8-byte aligned, bounded by maxBytes', () => {
  const classes = [C.FileDirectoryInformation, C.FileFullDirectoryInformation, C.FileBothDirectoryInformation,
    C.FileIdBothDirectoryInformation, C.FileIdFullDirectoryInformation, C.FileNamesInformation, C.FileIdExtdDirectoryInformation];
  const list = [entry('.', { attributes: FileAttributes.DIRECTORY }), entry('..'), entry('readme.txt', { shortName: 'README.TXT', eaSize: 12 }), entry('odd', { fileIndex: 3 })];
  for (const ic of classes) {
    const { buf, count } = encodeDirEntries(ic, list, 65536);
    assert.equal(count, 4);
    const back = decodeDirEntries(ic, buf);
    assert.deepEqual(back.map((e) => e.name), list.map((e) => e.name));
    let off = 0;
    for (let i = 0; i < 3; i++) { const n = buf.readUInt32LE(off); assert.equal(n % 8, 0); off += n; }
    assert.equal(buf.readUInt32LE(off), 0);
    if (ic !== C.FileNamesInformation) assert.equal(back[2]!.endOfFile, 100n);
    if (ic === C.FileIdBothDirectoryInformation) { assert.equal(back[2]!.shortName, 'README.TXT'); assert.equal(back[2]!.fileId, 42n); assert.equal(back[2]!.eaSize, 12); }
    if (ic === C.FileIdExtdDirectoryInformation) assert.equal(back[3]!.fileId, 42n);
    if (ic === C.FileNamesInformation) assert.equal(back[3]!.fileIndex, 3);
  }
  // maxBytes cut-off: room for exactly the first two entries of IdBoth (104+2, aligned to 112, then 104+4).
  const two = encodeDirEntries(C.FileIdBothDirectoryInformation, list, 112 + 108);
  assert.equal(two.count, 2);
  assert.equal(two.buf.length, 112 + 108);
  assert.equal(encodeDirEntries(C.FileIdBothDirectoryInformation, list, 50).count, 0);
  assert.equal(dirEntrySize(C.FileDirectoryInformation, entry('ab')), 68);
  assert.throws(() => encodeDirEntries(99, list, 100), WireError);
});

test('hand-built FileNamesInformation and FileDirectoryInformation vectors decode', () => {
  const v = hex('10000000 00000000 02000000 6100 0000', '00000000 01000000 04000000 62006300');
  assert.deepEqual(decodeDirEntries(C.FileNamesInformation, v).map((e) => [e.name, e.fileIndex]), [['a', 0], ['bc', 1]]);
  const d = hex('00000000 00000000', '01000000000000000200000000000000 03000000000000000400000000000000',
    '0500000000000000 0600000000000000 10000000 02000000', '7800');
  const e = decodeDirEntries(C.FileDirectoryInformation, d)[0]!;
  assert.equal(e.name, 'x');
  assert.equal(e.changeTime, 4n);
  assert.equal(e.attributes, 0x10);
  assert.throws(() => decodeDirEntries(C.FileDirectoryInformation, d.subarray(0, 60)), WireError);
  const bad = Buffer.from(v); bad.writeUInt32LE(0x100, 0);
  assert.throws(() => decodeDirEntries(C.FileNamesInformation, bad), WireError);
  const longName = Buffer.from(v); longName.writeUInt32LE(0x40, 8);
  assert.throws(() => decodeDirEntries(C.FileNamesInformation, longName), WireError);
});

test('matchWildcard follows MS-FSA 2.1.4.4', () => {
  const t = (p: string, n: string, ci = true) => matchWildcard(p, n, ci);
  assert.ok(t('*', 'anything.txt'));
  assert.ok(t('*.txt', 'a.b.TXT'));
  assert.ok(!t('*.txt', 'a.b.TXT', false));
  assert.ok(t('a?c', 'abc'));
  assert.ok(!t('a?c', 'ac'));
  assert.ok(t('*a*b*', 'xxaxxbxx'));
  assert.ok(!t('*.txt', 'txt'));
  // DOS_STAR: up to the last dot
  assert.ok(t('<.txt', 'a.b.txt'));
  assert.ok(t('<', 'abc'));
  assert.ok(!t('<', 'a.b'));
  assert.ok(t('<"*', 'a.b'));
  // DOS_QM: one char, or nothing at a dot / end
  assert.ok(t('>>>.txt', 'ab.txt'));
  assert.ok(t('>>>>>>>>', 'abc'));
  assert.ok(!t('>.txt', 'ab.txt'));
  // DOS_DOT: a dot or zero chars at end of name
  assert.ok(t('abc"*', 'abc'));
  assert.ok(t('abc"*', 'abc.def'));
  assert.ok(t('abc"', 'abc'));
  assert.ok(!t('abc"', 'abcd'));
  assert.ok(t('Straße', 'STRASSE') === false);
  assert.ok(t('ÄB', 'äb'));
  assert.ok(!t('', 'a'));
  assert.ok(t('a'.repeat(200) + '*', 'a'.repeat(255)));
});

test('matchWildcard survives huge patterns', () => {
  assert.ok(matchWildcard('*'.repeat(40000) + 'z', 'a'.repeat(300) + 'z', true));
  assert.ok(!matchWildcard('?'.repeat(40000), 'abc', true));
});
