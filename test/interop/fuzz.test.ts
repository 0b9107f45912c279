// A bounded run (~20 s) of the long-running fuzzer test/fuzz/fuzz.ts: mutated frames before and
// after authentication, compounds, encrypted frames and DCE/RPC; after every batch the server must
// serve a well-behaved client on a new connection, hold no connection or session of clients that
// left, and its memory must stay bounded.
// FUZZ_SEED=n replays a failure; FUZZ_SECONDS=n runs longer.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, fuzzServer, KINDS } from '../fuzz/fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed9);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 20);

it(`fuzz the server for ${SECONDS} s (seed ${SEED})`, { timeout: (SECONDS + 60) * 1000 }, async () => {
  const srv = await fuzzServer();
  try {
    const report = await fuzz({ port: srv.port, held: () => srv.held(), seconds: SECONDS, seed: SEED, batch: 30, memoryMiB: 256 });
    assert.ok(report.batches >= KINDS.length, `only ${report.batches} batches: not every kind was tried`);
    assert.ok(report.replies > 0 && report.closes > 0, JSON.stringify(report));
  } finally {
    await srv.stop();
  }
});
