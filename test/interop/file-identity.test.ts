// One identity per file (issue 9 item 4): every table that guards a file (share modes, byte-range
// locks, oplocks/leases, delete-pending) keys it by the file's identity (dev:ino), never by a
// spelling of its name, and names are looked up with one NTFS-style case folding (1:1 per UTF-16
// unit: 'ß' is not 'SS', 'ſ' is not 'S', 'ı' is not 'I'). Invalid UTF-16 names are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmbts, type SmbtsHandle } from './peers.js';
import { connect, type SmbClient } from '../../src/client/client.js';
import { openFile, type FileHandle } from '../../src/client/file.js';
import { SmbError } from '../../src/client/errors.js';
import { setDeleteOnClose } from '../../src/client/info.js';
import { Access, Command, CreateDisposition, ShareAccess } from '../../src/wire/constants.js';
import { Status, statusName } from '../../src/wire/status.js';
import { encodeLockRequest } from '../../src/wire/lock.js';
import { RawConn, createFrame } from './raw.js';

const SECRET = Buffer.from('the secret password file, locked by A\n');
const RW = Access.FILE_READ_DATA | Access.FILE_WRITE_DATA | Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES;
let srv: SmbtsHandle;
let dir: string;
const url = (share = 'share'): string => `smb://test:test@127.0.0.1:${srv.port}/${share}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smbts-ident-'));
  await writeFile(join(dir, 'password.txt'), SECRET);
  await writeFile(join(dir, 'ini.txt'), 'dotted i\n');
  await link(join(dir, 'password.txt'), join(dir, 'hardlink.txt'));
  // Two shares on one directory: the same file is reachable through both.
  srv = await startSmbts({ shareDir: dir, configText: `[share]\npath = ${dir}\nread only = no\n[other]\npath = ${dir}\nread only = no\n` });
});
after(async () => {
  await srv?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function statusOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'SUCCESS';
  } catch (e) {
    if (e instanceof SmbError) return statusName(e.status);
    throw e;
  }
}

function open(c: SmbClient, name: string, share: number, disposition: number = CreateDisposition.OPEN): Promise<FileHandle> {
  return openFile(c.tree, name, { access: RW, disposition, options: 0x40 /* NON_DIRECTORY_FILE */, share });
}

async function lock(h: FileHandle, offset: bigint, length: bigint): Promise<void> {
  await h.tree.request({
    command: Command.LOCK,
    body: encodeLockRequest({ lockSequenceNumber: 0, lockSequenceIndex: 0, fileId: h.fileId, locks: [{ offset, length, flags: 0x2 | 0x10 /* EXCLUSIVE | FAIL_IMMEDIATELY */ }] }),
  });
}

test('case-folding aliases never reach a file held exclusively and locked by another client', { timeout: 60_000 }, async () => {
  const a = await connect(url());
  const b = await connect(url());
  try {
    const ha = await open(a, 'password.txt', 0);
    await lock(ha, 0n, 1024n);
    const ia = await open(a, 'ini.txt', 0);
    // Same name, another case: the same file, so a sharing violation.
    assert.equal(await statusOf(open(b, 'PASSWORD.TXT', ShareAccess.READ | ShareAccess.WRITE)), 'SHARING_VIOLATION');
    assert.equal(await statusOf(open(b, 'INI.TXT', ShareAccess.READ | ShareAccess.WRITE)), 'SHARING_VIOLATION');
    // Spellings that only a multi-character or non-ASCII->ASCII folding would merge are other names.
    for (const alias of ['paßword.txt', 'PAßWORD.TXT', 'paſſword.txt', 'paſsword.txt', 'PASſWORD.TXT']) {
      assert.equal(await statusOf(open(b, alias, ShareAccess.READ | ShareAccess.WRITE)), 'OBJECT_NAME_NOT_FOUND', alias);
    }
    assert.equal(await statusOf(open(b, 'ını.txt', ShareAccess.READ | ShareAccess.WRITE)), 'OBJECT_NAME_NOT_FOUND');
    // Creating one makes a new file next to it; writing it leaves A's locked data alone.
    const hb = await open(b, 'paßword.txt', ShareAccess.READ | ShareAccess.WRITE, CreateDisposition.OPEN_IF);
    await hb.write(Buffer.from('EVIL'), 0);
    await hb.close();
    assert.deepEqual(await readFile(join(dir, 'password.txt')), SECRET);
    assert.equal((await readFile(join(dir, 'paßword.txt'))).toString(), 'EVIL');
    await ha.close();
    await ia.close();
  } finally {
    await a.close();
    await b.close();
  }
});

test('a hard link and a second share reach the same file: same share modes, locks and delete-pending', { timeout: 60_000 }, async () => {
  const a = await connect(url());
  const b = await connect(url());
  const o = await connect(url('other'));
  try {
    const ha = await open(a, 'password.txt', 0);
    assert.equal(await statusOf(open(b, 'hardlink.txt', ShareAccess.READ | ShareAccess.WRITE)), 'SHARING_VIOLATION');
    assert.equal(await statusOf(open(o, 'password.txt', ShareAccess.READ | ShareAccess.WRITE)), 'SHARING_VIOLATION');
    await ha.close();

    // Byte-range locks: A locks through one name, B writes through the other.
    const all = ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE;
    const la = await open(a, 'password.txt', all);
    await lock(la, 0n, 16n);
    const lb = await open(b, 'hardlink.txt', all);
    assert.equal(await statusOf(lb.write(Buffer.from('EVIL'), 0)), 'FILE_LOCK_CONFLICT');
    const lo = await open(o, 'PASSWORD.txt', all);
    assert.equal(await statusOf(lo.write(Buffer.from('EVIL'), 4)), 'FILE_LOCK_CONFLICT');
    assert.equal(await statusOf(lock(lo, 8n, 1n)), 'LOCK_NOT_GRANTED');
    await lb.close();
    await lo.close();
    await la.close();
    assert.deepEqual(await readFile(join(dir, 'password.txt')), SECRET);

    // Delete-pending belongs to the file (as Samba's record keyed by dev/inode): no new open through another name.
    await writeFile(join(dir, 'victim.txt'), 'x');
    await link(join(dir, 'victim.txt'), join(dir, 'victim-link.txt'));
    const d = await openFile(a.tree, 'victim.txt', { access: RW | Access.DELETE, disposition: CreateDisposition.OPEN, options: 0x40, share: all });
    await setDeleteOnClose(d);
    assert.equal(await statusOf(open(b, 'victim-link.txt', all)), 'DELETE_PENDING');
    assert.equal(await statusOf(open(o, 'victim.txt', all)), 'DELETE_PENDING');
    await d.close();
  } finally {
    await a.close();
    await b.close();
    await o.close();
  }
});

test('an open through a hard link on another share breaks the batch oplock of the file', { timeout: 60_000 }, async () => {
  const a = await RawConn.open(srv.port);
  const b = await connect(url('other'));
  try {
    await a.negotiate([0x210]);
    assert.equal(await a.login('test', 'test'), 0);
    assert.equal(await a.treeConnect(`\\\\127.0.0.1\\share`), 0);
    const f = createFrame(a.mid++, a.sessionId, a.treeId, 'password.txt');
    f[64 + 3] = 0x09; // RequestedOplockLevel: BATCH
    const r = await a.request(f);
    assert.ok(r.kind === 'reply' && r.msg.status === 0 && r.msg.body[2] === 0x09, 'batch oplock granted');
    const pb = open(b, 'hardlink.txt', ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE);
    const brk = await a.next(5_000);
    assert.ok(brk.kind === 'reply' && brk.msg.command === Command.OPLOCK_BREAK, `an oplock break reaches A: ${brk.kind}`);
    a.close(); // A goes away without acknowledging: B's open proceeds
    const hb = await pb;
    await hb.close();
  } finally {
    a.close();
    await b.close();
  }
});

test('names with lone UTF-16 surrogates are refused with OBJECT_NAME_INVALID', { timeout: 30_000 }, async () => {
  const c = await connect(url());
  try {
    for (const name of ['\ud800.txt', 'a\udc00b.txt', 'x\ud83d', 'f.txt:s\udfff']) {
      const s = await statusOf(open(c, name, ShareAccess.READ, CreateDisposition.OPEN_IF));
      assert.equal(s, statusName(Status.OBJECT_NAME_INVALID), JSON.stringify(name));
    }
    // A well-formed pair (U+1F600) is an ordinary name.
    const h = await open(c, 'smile-\ud83d\ude00.txt', ShareAccess.READ, CreateDisposition.OPEN_IF);
    await h.close();
    assert.equal((await readFile(join(dir, 'smile-\u{1F600}.txt'))).length, 0);
  } finally {
    await c.close();
  }
});
