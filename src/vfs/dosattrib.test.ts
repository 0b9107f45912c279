import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DOSATTRIB_VERSION_HEX, DosInfoValid, decodeDosAttrib, encodeDosAttrib } from './dosattrib.js';
import { WireError } from '../wire/buf.js';
import { FILETIME_EPOCH_OFFSET } from './types.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// Written by a real Samba 4.17.12 smbd (store dos attributes = yes, the default) on ext4, read
// back with os.getxattr(path, 'user.DOSATTRIB'):
//   smbclient -c 'put f f; setmode f +rh; mkdir d; setmode d +h; put f g'
const SMBD_FILE_RHA = '00000500050000001100000023000000e0f6dfbf537bdd01'; // f: RHA, birth 2026-11-23 14:05:52.261091249
const SMBD_DIR_H = '000005000500000011000000120000008686e0bf537bdd01'; // d: DH
const SMBD_FILE_A = '000005000500000011000000200000009e08e1bf537bdd01'; // g: A

// Packed by Samba's own NDR code (python3-samba: samba.ndr.ndr_pack(xattr.DOSATTRIB(...))) for
// the versions smbd 4.17 no longer writes. create_time 0x01dd7b53bfdff6e0 throughout.
const NDR_V1_23 = '307832330000010001000000230000000000000003000000000000000010000000000000e0f6dfbf537bdd01e1f6dfbf537bdd01';
const NDR_V1_2027 = '307832303237000001000100272000000000000003000000000000000010000000000000e0f6dfbf537bdd01e1f6dfbf537bdd01';
const NDR_V3_23 = '30783233000003000300000011000000230000000000000003000000000000000010000000000000e0f6dfbf537bdd01e5f6dfbf537bdd01';
const NDR_V3_2027 = '30783230323700000300030011000000272000000000000003000000000000000010000000000000e0f6dfbf537bdd01e5f6dfbf537bdd01';
const NDR_V4_23 = '00000400040000005100000023000000d9f6dfbf537bdd01e0f6dfbf537bdd01'; // valid ATTRIB|CREATE_TIME|ITIME, itime = ct - 7
const CT = 0x01dd7b53bfdff6e0n;

describe('user.DOSATTRIB (Samba xattr_DOSATTRIB NDR)', () => {
  test('decodes what smbd 4.17 wrote: version 5, attributes and creation time', () => {
    const f = decodeDosAttrib(hex(SMBD_FILE_RHA));
    assert.equal(f.version, 5);
    assert.equal(f.attributes, 0x23);
    assert.equal(f.validFlags, DosInfoValid.ATTRIB | DosInfoValid.CREATE_TIME);
    assert.equal(f.creationTime, CT);
    // == the ext4 birth time Samba read with statx, truncated to 100 ns
    assert.equal(f.creationTime, 1795442752261091249n / 100n + FILETIME_EPOCH_OFFSET);
    const d = decodeDosAttrib(hex(SMBD_DIR_H));
    assert.deepEqual([d.version, d.attributes], [5, 0x12]);
    const g = decodeDosAttrib(hex(SMBD_FILE_A));
    assert.deepEqual([g.version, g.attributes, g.creationTime], [5, 0x20, 0x01dd7b53bfe1089en]);
  });

  test('encodes byte-identically to smbd', () => {
    assert.equal(encodeDosAttrib({ attributes: 0x23, creationTime: CT }).toString('hex'), SMBD_FILE_RHA);
    assert.equal(encodeDosAttrib({ attributes: 0x12, creationTime: 0x01dd7b53bfe08686n }).toString('hex'), SMBD_DIR_H);
  });

  test('version 4 as Samba 4.11..4.16 wrote it', () => {
    const v = decodeDosAttrib(hex(NDR_V4_23));
    assert.deepEqual([v.version, v.attributes, v.creationTime, v.itime], [4, 0x23, CT, CT - 7n]);
    // ours carries no ITIME (as Samba for files it did not create)
    const enc = encodeDosAttrib({ attributes: 0x23, creationTime: CT, version: 4 });
    assert.equal(enc.toString('hex'), NDR_V4_23.replace('51000000', '11000000').replace('d9f6dfbf537bdd01', '0000000000000000'));
    assert.deepEqual(decodeDosAttrib(enc), { version: 4, validFlags: 0x11, attributes: 0x23, itime: undefined, creationTime: CT });
  });

  test('versions 1 and 3 (hex string before the NDR body shifts the alignment)', () => {
    for (const [blob, attrs] of [[NDR_V1_23, 0x23], [NDR_V1_2027, 0x2027]] as const) {
      const v = decodeDosAttrib(hex(blob));
      assert.deepEqual([v.version, v.attributes, v.creationTime, v.changeTime, v.size, v.allocationSize], [1, attrs, CT, CT + 1n, 3n, 4096n]);
    }
    for (const [blob, attrs] of [[NDR_V3_23, 0x23], [NDR_V3_2027, 0x2027]] as const) {
      const v = decodeDosAttrib(hex(blob));
      assert.deepEqual([v.version, v.attributes, v.creationTime, v.changeTime, v.validFlags], [3, attrs, CT, CT + 5n, 0x11]);
    }
  });

  test('hex-only legacy value (Samba < 3.5)', () => {
    assert.deepEqual(decodeDosAttrib(Buffer.from('0x22\0', 'latin1')), { version: DOSATTRIB_VERSION_HEX, attributes: 0x22 });
    assert.deepEqual(decodeDosAttrib(Buffer.from('0X2027\0', 'latin1')), { version: DOSATTRIB_VERSION_HEX, attributes: 0x2027 });
  });

  test('no creation time: zero or flag missing', () => {
    const enc = encodeDosAttrib({ attributes: 0x20 });
    assert.equal(enc.readUInt32LE(8), DosInfoValid.ATTRIB);
    assert.equal(decodeDosAttrib(enc).creationTime, undefined);
    const z = hex(SMBD_FILE_RHA);
    z.fill(0, 16, 24);
    assert.equal(decodeDosAttrib(z).creationTime, undefined);
  });

  test('malformed values throw WireError, never crash', () => {
    const bad = [
      '', // nothing
      '3078', // no NUL
      '00', // empty hex-only: not a number
      '000005', // truncated version
      '0000050005000000110000002300', // truncated body
      '00000500040000001100000023000000e0f6dfbf537bdd01', // level != version
      '00000900090000001100000023000000e0f6dfbf537bdd01', // unknown version
      '00000400040000005100000023000000d9f6dfbf537bdd01', // v4 without create_time
    ];
    for (const b of bad) assert.throws(() => decodeDosAttrib(hex(b)), WireError, b);
    // every truncation of a valid blob either decodes or throws WireError
    const full = hex(NDR_V3_2027);
    for (let n = 0; n < full.length; n++) {
      try {
        decodeDosAttrib(full.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof WireError, `length ${n}: ${String(e)}`);
      }
    }
  });
});
