// impacket (python3-impacket) against smbts: login, listShares, put/get, mkdir, rename, delete,
// and a wrong password -> STATUS_LOGON_FAILURE. One impacket run per dialect; each STEP line of
// test/interop/impacket/smoke.py becomes a subtest.
//
// impacket 0.10 (Debian 12) breaks on SMB 3.1.1 by itself: its NTLM login() never seeds the
// session's preauth hash with the connection's (MS-SMB2 3.2.4.2.3; its kerberosLogin() does), so
// its signing key is wrong and Samba 4.17 and smbts both answer its first signed request with
// ACCESS_DENIED. '3.1.1-fixed' (smoke.py) adds that one assignment and then passes every step
// against both servers. The matrix: auto (wildcard SMB1->SMB2 negotiate), 2.1, 3.0, 3.1.1-fixed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget, impacket, missingTools, HOST, DEFAULT_USER, DEFAULT_PASS, type SmbtsHandle } from './peers.js';

const STEPS = [
  'login', 'dialect', 'listShares', 'createDirectory', 'putFile', 'getFile', 'listPath',
  'rename', 'deleteFile', 'deleteDirectory', 'logoff', 'wrongPassword',
];

const skip = missingTools(['impacket']);

describe('impacket -> smbts', { skip, timeout: 240_000 }, () => {
  let srv: SmbtsHandle;
  before(async () => {
    srv = await startTarget();
  });
  after(async () => {
    await srv?.stop();
  });

  for (const dialect of ['auto', '2.1', '3.0', '3.1.1-fixed']) {
    describe(`dialect ${dialect}`, { timeout: 90_000 }, () => {
      let steps: Map<string, string> | undefined;
      let raw = '';
      const results = async () => {
        if (!steps) {
          const r = await impacket('smoke.py', [HOST, String(srv.port), DEFAULT_USER, DEFAULT_PASS, 'share', dialect], { timeoutMs: 60_000 });
          raw = `exit ${r.code}${r.timedOut ? ' (timeout)' : ''}\n${r.stdout}\n${r.stderr.slice(-2000)}`;
          steps = new Map();
          for (const line of r.stdout.split('\n')) {
            const m = /^STEP (\S+) (ok|fail)(?: (.*))?$/.exec(line);
            if (m) steps.set(m[1]!, m[2] === 'ok' ? 'ok' : m[3] ?? 'fail');
          }
        }
        return steps;
      };
      for (const step of STEPS) {
        it(step, { timeout: 70_000 }, async () => {
          const s = await results();
          const v = s.get(step);
          assert.ok(v !== undefined, `step ${step} did not run (an earlier step failed):\n${raw}`);
          assert.equal(v, 'ok', `${step}: ${v}`);
        });
      }
    });
  }
});
