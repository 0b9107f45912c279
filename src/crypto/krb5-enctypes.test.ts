// Published vectors: RFC 3961 A.1 (n-fold), RFC 3962 appendix B (string-to-key, CBC-CTS),
// RFC 8009 appendix A (string-to-key, key derivation, encryption, checksums).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctsDecrypt, ctsEncrypt, enctype, nfold } from './krb5-enctypes.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('n-fold: RFC 3961 A.1', () => {
  const cases: [number, string, string][] = [
    [64, '012345', 'be072631276b1955'],
    [56, 'password', '78a07b6caf85fa'],
    [64, 'Rough Consensus, and Running Code', 'bb6ed30870b7f0e0'],
    [168, 'password', '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
    [192, 'MASSACHVSETTS INSTITVTE OF TECHNOLOGY', 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b'],
    [168, 'Q', '518a54a215a8452a518a54a215a8452a518a54a215'],
    [168, 'ba', 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e'],
    [64, 'kerberos', '6b65726265726f73'],
    [128, 'kerberos', '6b65726265726f737b9b5b2b93132b93'],
    [168, 'kerberos', '8372c236344e5f1550cd0747e15d62ca7a5a3bcea4'],
    [256, 'kerberos', '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4'],
  ];
  for (const [bits, text, want] of cases) assert.equal(nfold(Buffer.from(text), bits / 8).toString('hex'), want, `${bits}-fold(${text})`);
});

test('string-to-key: RFC 3962 appendix B', () => {
  const cases: [number, string, string, string, string][] = [
    [1, '70617373776f7264', '415448454e412e4d49542e4544557261656275726e', '42263c6e89f4fc28b8df68ee09799f15', 'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161'],
    [2, '70617373776f7264', '415448454e412e4d49542e4544557261656275726e', 'c651bf29e2300ac27fa469d693bdda13', 'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff'],
    [1200, '70617373776f7264', '415448454e412e4d49542e4544557261656275726e', '4c01cd46d632d01e6dbe230a01ed642a', '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a'],
    [5, '70617373776f7264', '1234567878563412', 'e9b23d52273747dd5c35cb55be619d8e', '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31'],
    [1200, '58'.repeat(64), '706173732070687261736520657175616c7320626c6f636b2073697a65', '59d1bb789a828b1aa54ef9c2883f69ed', '89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34'],
    [1200, '58'.repeat(65), '7061737320706872617365206578636565647320626c6f636b2073697a65', 'cb8005dc5f90179a7f02104c0018751d', 'd78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b'],
    [50, 'f09d849e', '4558414d504c452e434f4d7069616e697374', 'f149c1f2e154a73452d43e7fe62a56e5', '4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e'],
  ];
  for (const [iter, pass, salt, k128, k256] of cases) {
    assert.equal(enctype(17).stringToKey(h(pass), h(salt), iter).toString('hex'), k128);
    assert.equal(enctype(18).stringToKey(h(pass), h(salt), iter).toString('hex'), k256);
  }
});

test('CBC-CTS: RFC 3962 appendix B', () => {
  const key = h('636869636b656e207465726979616b69');
  const cases: [string, string][] = [
    ['4920776f756c64206c696b652074686520', 'c6353568f2bf8cb4d8a580362da7ff7f97'],
    ['4920776f756c64206c696b65207468652047656e6572616c20476175277320', 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
    ['4920776f756c64206c696b65207468652047656e6572616c2047617527732043', '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
    ['4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c', '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
    ['4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20', '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8'],
    ['4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e', '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8'],
  ];
  for (const [plain, cipher] of cases) {
    assert.equal(ctsEncrypt(key, h(plain)).toString('hex'), cipher);
    assert.equal(ctsDecrypt(key, h(cipher)).toString('hex'), plain);
  }
});

const SHA256_BASE = h('3705D96080C17728A0E800EAB6E0D23C');
const SHA384_BASE = h('6D404D37FAF79F9DF0D33568D320669800EB4836472EA8A026D16B7182460C52');

test('RFC 8009 appendix A: string-to-key and key derivation', () => {
  const salt = Buffer.concat([h('10DF9DD783E5BC8ACEA1730E74355F61'), Buffer.from('ATHENA.MIT.EDUraeburn')]);
  assert.equal(enctype(19).stringToKey('password', salt).toString('hex'), '089bca48b105ea6ea77ca5d2f39dc5e7');
  assert.equal(enctype(20).stringToKey('password', salt).toString('hex'), '45bd806dbf6a833a9cffc1c94589a222367a79bc21c413718906e9f578a78467');
  const d19 = enctype(19);
  assert.equal(d19.derive(SHA256_BASE, 2, 0x99).toString('hex'), 'b31a018a48f54776f403e9a396325dc3');
  assert.equal(d19.derive(SHA256_BASE, 2, 0xaa).toString('hex'), '9b197dd1e8c5609d6e67c3e37c62c72e');
  assert.equal(d19.derive(SHA256_BASE, 2, 0x55).toString('hex'), '9fda0e56ab2d85e1569a688696c26a6c');
  const d20 = enctype(20);
  assert.equal(d20.derive(SHA384_BASE, 2, 0x99).toString('hex'), 'ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d');
  assert.equal(d20.derive(SHA384_BASE, 2, 0xaa).toString('hex'), '56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49');
  assert.equal(d20.derive(SHA384_BASE, 2, 0x55).toString('hex'), '69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f');
});

test('RFC 8009 appendix A: encryption and checksums', () => {
  const plains = ['', '000102030405', '000102030405060708090A0B0C0D0E0F', '000102030405060708090A0B0C0D0E0F1011121314'];
  const cases: [number, Buffer, number, string, string][] = [
    [19, SHA256_BASE, 0, '7E5895EAF2672435BAD817F545A37148', 'EF85FB890BB8472F4DAB20394DCA781DAD877EDA39D50C870C0D5A0A8E48C718'],
    [19, SHA256_BASE, 1, '7BCA285E2FD4130FB55B1A5C83BC5B24', '84D7F30754ED987BAB0BF3506BEB09CFB55402CEF7E6877CE99E247E52D16ED4421DFDF8976C'],
    [19, SHA256_BASE, 2, '56AB21713FF62C0A1457200F6FA9948F', '3517D640F50DDC8AD3628722B3569D2AE07493FA8263254080EA65C1008E8FC295FB4852E7D83E1E7C48C37EEBE6B0D3'],
    [19, SHA256_BASE, 3, 'A7A4E29A4728CE10664FB64E49AD3FAC', '720F73B18D9859CD6CCB4346115CD336C70F58EDC0C4437C5573544C31C813BCE1E6D072C186B39A413C2F92CA9B8334A287FFCBFC'],
    [20, SHA384_BASE, 0, 'F764E9FA15C276478B2C7D0C4E5F58E4', '41F53FA5BFE7026D91FAF9BE959195A058707273A96A40F0A01960621AC612748B9BBFBE7EB4CE3C'],
    [20, SHA384_BASE, 1, 'B80D3251C1F6471494256FFE712D0B9A', '4ED7B37C2BCAC8F74F23C1CF07E62BC7B75FB3F637B9F559C7F664F69EAB7B6092237526EA0D1F61CB20D69D10F2'],
    [20, SHA384_BASE, 2, '53BF8A0D105265D4E276428624CE5E63', 'BC47FFEC7998EB91E8115CF8D19DAC4BBBE2E163E87DD37F49BECA92027764F68CF51F14D798C2273F35DF574D1F932E40C4FF255B36A266'],
    [20, SHA384_BASE, 3, '763E65367E864F02F55153C7E3B58AF1', '40013E2DF58E8751957D2878BCD2D6FE101CCFD556CB1EAE79DB3C3EE86429F2B2A602AC86FEF6ECB647D6295FAE077A1FEB517508D2C16B4192E01F62'],
  ];
  for (const [et, key, pi, conf, cipher] of cases) {
    const p = enctype(et);
    assert.equal(p.encrypt(key, 2, h(plains[pi]!), h(conf)).toString('hex'), cipher.toLowerCase(), `${et} plain ${pi}`);
    assert.equal(p.decrypt(key, 2, h(cipher)).toString('hex'), plains[pi]!.toLowerCase());
  }
  assert.equal(enctype(19).checksum(SHA256_BASE, 2, h(plains[3]!)).toString('hex'), 'd78367186643d67b411cba9139fc1dee');
  assert.equal(enctype(20).checksum(SHA384_BASE, 2, h(plains[3]!)).toString('hex'), '45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a');
});

test('aes-sha1: round trip for every length, wrong usage and flipped bits fail', () => {
  for (const et of [17, 18, 19, 20]) {
    const p = enctype(et);
    const key = Buffer.alloc(p.keyBytes, 7);
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 100]) {
      const plain = Buffer.alloc(n, n);
      assert.deepEqual(p.decrypt(key, 11, p.encrypt(key, 11, plain)), plain);
    }
    const sealed = p.encrypt(key, 7, Buffer.from('authenticator'));
    assert.throws(() => p.decrypt(key, 11, sealed), /integrity/);
    const flipped = Buffer.from(sealed);
    flipped[0]! ^= 1;
    assert.throws(() => p.decrypt(key, 7, flipped), /integrity/);
    assert.throws(() => p.decrypt(key, 7, sealed.subarray(0, 20)), /short/);
  }
});
