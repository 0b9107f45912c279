// Hostile input against smbts on raw sockets: truncated, oversized and randomly mutated
// NEGOTIATE / SESSION_SETUP / CREATE frames, then path escapes (.., absolute paths, a symlink
// pointing out of the share). After each frame the server must answer or close that connection
// (never hang it, never crash); at the end a fresh smbclient `ls` must still work.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTarget, smbclient, missingTools, HOST, DEFAULT_USER, DEFAULT_PASS, type SmbtsHandle } from './peers.js';
import {
  RawConn, negotiateFrame, sessionSetupFrame, createFrame, echoFrame, nbss, prng, describe as outcome,
  statusName, ST, type Outcome,
} from './raw.js';
import { NtlmClient } from '../../src/auth/ntlm-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const FUZZ_PER_KIND = 100; // 3 kinds -> 300 mutated frames
const REPLY_MS = 3_000;
const SECRET = 'SMBTS-OUTSIDE-SECRET-' + process.pid;
const skip = missingTools(['smbclient']);

type Kind = 'negotiate' | 'session_setup' | 'create';

describe('malformed input -> smbts', { skip, timeout: 420_000 }, () => {
  let srv: SmbtsHandle;
  let outside: string;
  before(async () => {
    srv = await startTarget();
    outside = await mkdtemp(join(tmpdir(), 'smbts-outside-'));
    await writeFile(join(outside, 'secret.txt'), SECRET);
    await writeFile(join(srv.shareDir, 'inside.txt'), 'inside');
    await symlink(join(outside, 'secret.txt'), join(srv.shareDir, 'escape-link'));
    await symlink(outside, join(srv.shareDir, 'escape-dir'));
  });
  after(async () => {
    await srv?.stop();
    if (outside) await rm(outside, { recursive: true, force: true });
  });

  /** A connection in the state where `kind` is the natural next request. */
  async function prepared(kind: Kind): Promise<RawConn> {
    const c = await RawConn.open(srv.port);
    if (kind === 'negotiate') return c;
    await c.negotiate();
    if (kind === 'session_setup') return c;
    const st = await c.login(DEFAULT_USER, DEFAULT_PASS);
    assert.equal(st, 0, `login: ${statusName(st)}`);
    const tc = await c.treeConnect(`\\\\${HOST}\\share`);
    assert.equal(tc, 0, `tree connect: ${statusName(tc)}`);
    return c;
  }

  function validFrame(kind: Kind, c: RawConn): Buffer {
    switch (kind) {
      case 'negotiate':
        return negotiateFrame(c.mid++);
      case 'session_setup':
        return sessionSetupFrame(c.mid++, new NtlmClient({ user: DEFAULT_USER, password: DEFAULT_PASS }).negotiate());
      case 'create':
        return createFrame(c.mid++, c.sessionId, c.treeId, 'inside.txt');
    }
  }

  /** Send one (possibly hostile) SMB2 message; the server must answer or close. If it stays
   *  silent (legitimate for e.g. a frame mutated into CANCEL), a valid ECHO must be answered
   *  or the connection closed. */
  async function mustAnswerOrClose(c: RawConn, wire: Buffer, label: string): Promise<Outcome> {
    c.send(wire);
    let o = await c.next(REPLY_MS);
    if (o.kind === 'timeout') {
      c.send(nbss(echoFrame(c.mid + 1000n, c.sessionId)));
      o = await c.next(REPLY_MS);
    }
    assert.notEqual(o.kind, 'timeout', `${label}: server neither answered nor closed the connection`);
    return o;
  }

  for (const kind of ['negotiate', 'session_setup', 'create'] as const) {
    it(`${kind}: a valid frame is answered (harness check)`, { timeout: 20_000 }, async () => {
      const c = await prepared(kind);
      try {
        const o = await c.request(validFrame(kind, c));
        assert.equal(o.kind, 'reply', outcome(o));
      } finally {
        c.close();
      }
    });

    it(`${kind}: truncated frames`, { timeout: 120_000 }, async () => {
      let c = await prepared(kind);
      try {
        const full = validFrame(kind, c);
        // every length in the header, then a stride through the body
        const cuts = new Set<number>([0, 1, 4, 32, 63, 64, 65, full.length - 1]);
        for (let n = 66; n < full.length - 1; n += 7) cuts.add(n);
        for (const n of [...cuts].sort((a, b) => a - b)) {
          if (c.closed) c = await prepared(kind);
          const f = Buffer.from(validFrame(kind, c).subarray(0, n));
          await mustAnswerOrClose(c, nbss(f), `${kind} truncated to ${n}`);
        }
      } finally {
        c.close();
      }
    });

    it(`${kind}: length fields past the message or the limit`, { timeout: 120_000 }, async () => {
      const cases: Array<[string, (f: Buffer) => Buffer]> =
        kind === 'negotiate'
          ? [
              ['DialectCount 0xffff', (f) => (f.writeUInt16LE(0xffff, 64 + 2), f)],
              ['NegotiateContextOffset past end', (f) => (f.writeUInt32LE(0xfffffff0, 64 + 28), f)],
              ['NegotiateContextCount 0xffff', (f) => (f.writeUInt16LE(0xffff, 64 + 32), f)],
              ['context DataLength 0xffff', (f) => (f.writeUInt16LE(0xffff, f.readUInt32LE(64 + 28) + 2), f)],
              ['StructureSize 0', (f) => (f.writeUInt16LE(0, 64), f)],
            ]
          : kind === 'session_setup'
            ? [
                ['SecurityBufferLength 0xffff', (f) => (f.writeUInt16LE(0xffff, 64 + 14), f)],
                ['SecurityBufferOffset 0xffff', (f) => (f.writeUInt16LE(0xffff, 64 + 12), f)],
                ['SecurityBufferOffset 0', (f) => (f.writeUInt16LE(0, 64 + 12), f)],
                ['NTLM field offsets past token', (f) => (f.fill(0xff, 64 + 24 + 16, 64 + 24 + 32), f)],
              ]
            : [
                ['NameLength 0xffff', (f) => (f.writeUInt16LE(0xffff, 64 + 46), f)],
                ['NameOffset 0xffff', (f) => (f.writeUInt16LE(0xffff, 64 + 44), f)],
                ['NameLength odd', (f) => (f.writeUInt16LE(3, 64 + 46), f)],
                ['CreateContextsOffset past end', (f) => (f.writeUInt32LE(0x1000, 64 + 48), f.writeUInt32LE(0x100, 64 + 52), f)],
                ['CreateContextsLength 0xffffffff', (f) => (f.writeUInt32LE(64 + 56, 64 + 48), f.writeUInt32LE(0xffffffff, 64 + 52), f)],
              ];
      let c = await prepared(kind);
      try {
        for (const [label, mutate] of cases) {
          if (c.closed) c = await prepared(kind);
          await mustAnswerOrClose(c, nbss(mutate(validFrame(kind, c))), `${kind}: ${label}`);
        }
      } finally {
        c.close();
      }
      // Transport-level: a direct-TCP length beyond any SMB2 message limit must not make the
      // server buffer it; it must close (or answer) right away.
      for (const len of [0x00ffffff, 0x01000000, 0xffffffff]) {
        const d = await prepared(kind);
        try {
          const head = Buffer.alloc(4);
          head.writeUInt32BE(len >>> 0, 0);
          d.send(Buffer.concat([head, validFrame(kind, d)]));
          const o = await d.next(REPLY_MS * 2);
          assert.notEqual(o.kind, 'timeout', `${kind}: NBSS length 0x${len.toString(16)} left the connection hanging`);
        } finally {
          d.close();
        }
      }
    });

    it(`${kind}: ${FUZZ_PER_KIND} randomly mutated frames (seed ${SEED})`, { timeout: 240_000 }, async () => {
      const rnd = prng(SEED + kind.length);
      let c = await prepared(kind);
      const tally: Record<string, number> = {};
      try {
        for (let i = 0; i < FUZZ_PER_KIND; i++) {
          if (c.closed || kind === 'negotiate') {
            c.close();
            c = await prepared(kind);
          }
          const f = Buffer.from(validFrame(kind, c));
          // keep ProtocolId intact most of the time so the mutation reaches the decoders
          const from = rnd() < 0.9 ? 4 : 0;
          const flips = 1 + Math.floor(rnd() * 8);
          for (let k = 0; k < flips; k++) {
            const at = from + Math.floor(rnd() * (f.length - from));
            f[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : f[at]! ^ (1 << Math.floor(rnd() * 8));
          }
          let wire = f;
          const shape = rnd();
          if (shape < 0.15) wire = f.subarray(0, Math.floor(rnd() * f.length));
          else if (shape < 0.25) wire = Buffer.concat([f, Buffer.alloc(Math.floor(rnd() * 64), 0x41)]);
          const o = await mustAnswerOrClose(c, nbss(wire), `${kind} mutation #${i}`);
          tally[o.kind] = (tally[o.kind] ?? 0) + 1;
        }
      } finally {
        c.close();
      }
      // eslint-disable-next-line no-console
      console.log(`# ${kind} fuzz outcomes: ${JSON.stringify(tally)}`);
    });
  }

  it('garbage and SMB1 on a fresh connection are answered or closed', { timeout: 60_000 }, async () => {
    const frames: Array<[string, Buffer]> = [
      ['zeros', nbss(Buffer.alloc(100))],
      ['text', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
      ['NBSS session request (type 0x81)', Buffer.from([0x81, 0, 0, 4, 1, 2, 3, 4])],
      ['SMB1 echo', nbss(Buffer.concat([Buffer.from([0xff, 0x53, 0x4d, 0x42, 0x2b]), Buffer.alloc(40)]))],
      ['transform header garbage', nbss(Buffer.concat([Buffer.from([0xfd, 0x53, 0x4d, 0x42]), Buffer.alloc(60, 7)]))],
      ['compression header garbage', nbss(Buffer.concat([Buffer.from([0xfc, 0x53, 0x4d, 0x42]), Buffer.alloc(30, 9)]))],
    ];
    for (const [label, wire] of frames) {
      const c = await RawConn.open(srv.port);
      try {
        await mustAnswerOrClose(c, wire, label);
      } finally {
        c.close();
      }
    }
  });

  describe('path escapes', { timeout: 120_000 }, () => {
    // MS-SMB2 3.3.5.9: a name starting with '\\' is STATUS_INVALID_PARAMETER; '..' above the share
    // root is OBJECT_PATH_SYNTAX_BAD; characters like ':' are OBJECT_NAME_INVALID; a link out of
    // the share is ACCESS_DENIED; '/etc/passwd' is 'etc/passwd' inside the share ('/' separates, as
    // in Samba), which does not exist there.
    const REFUSED = new Set<number>([ST.ACCESS_DENIED, ST.OBJECT_PATH_SYNTAX_BAD, ST.OBJECT_NAME_INVALID, ST.INVALID_PARAMETER, ST.OBJECT_PATH_NOT_FOUND]);
    const names = [
      '..\\..\\etc\\passwd',
      '..\\..\\..\\..\\..\\..\\..\\..\\etc\\passwd',
      '\\..\\x',
      'sub\\..\\..\\etc\\passwd',
      '/etc/passwd',
      'C:\\etc\\passwd',
      '\\\\?\\C:\\etc\\passwd',
      'escape-link',
      'escape-dir\\secret.txt',
    ];
    for (const name of names) {
      it(`CREATE ${JSON.stringify(name)} is refused`, { timeout: 20_000 }, async () => {
        const c = await prepared('create');
        try {
          const r = await c.open(name);
          assert.ok(
            r.status !== 0 && REFUSED.has(r.status),
            `${name}: got ${statusName(r.status)}${r.data ? ` and ${r.data.length} bytes` : ''}; want ACCESS_DENIED, OBJECT_PATH_SYNTAX_BAD, OBJECT_NAME_INVALID or INVALID_PARAMETER`,
          );
          assert.ok(!r.data?.toString('latin1').includes(SECRET), 'the outside file was read');
        } finally {
          c.close();
        }
      });
    }

    it('smbclient get of a symlink pointing out of the share fails', { timeout: 30_000 }, async () => {
      const local = await mkdtemp(join(tmpdir(), 'smbts-esc-'));
      try {
        for (const remote of ['escape-link', 'escape-dir\\secret.txt']) {
          const r = await smbclient(srv.port, ['-c', `get ${remote} got.txt`], { cwd: local });
          const all = r.stdout + r.stderr;
          assert.match(all, /NT_STATUS_(ACCESS_DENIED|OBJECT_PATH_SYNTAX_BAD|OBJECT_NAME_INVALID)/, all);
          let content = '';
          try {
            content = (await import('node:fs')).readFileSync(join(local, 'got.txt'), 'latin1');
          } catch {
            /* not created: fine */
          }
          assert.ok(!content.includes(SECRET), 'the outside file was downloaded');
        }
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    });
  });

  it('after all that, a fresh smbclient ls still works', { timeout: 60_000 }, async () => {
    const r = await smbclient(srv.port, ['-c', 'ls']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /inside\.txt/, r.stdout + r.stderr);
  });
});
