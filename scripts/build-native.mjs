#!/usr/bin/env node
// Build the optional native addons with node-gyp. Called from the "install" script (so it runs for
// a tarball or registry install too). Reports go to stderr: stdout stays clean for `npm pack --json`.
//   native/xattr: extended attributes (without it LocalVfs keeps DOS attributes in memory,
//                 see src/vfs/xattr.ts) and fallocate / SEEK_DATA (without it SET_ZERO_DATA
//                 writes zeros instead of punching a hole, see src/vfs/space.ts)
//   native/aead:  SMB3 AES-GCM/CCM/CMAC into caller-owned buffers on node's own OpenSSL (without it
//                 src/crypto/ uses node:crypto, see src/crypto/native.ts)
//   native/fabric: libfabric RDMA endpoints (needs libfabric-dev; without it SMB-Direct has only the
//                 in-process loopback provider, see src/transport/rdma/libfabric.ts)
//
// This must never fail an install: whatever happens, it prints one line per addon and exits 0.
//
// node-gyp is not a dependency of ours: we use the copy npm bundles (npm sets
// npm_config_node_gyp for lifecycle scripts; otherwise we look beside npm-cli.js / the npm on
// PATH). Headers come from npm's `nodedir` config (npm_config_nodedir) or, when unset, from the
// running node's own include/node directory, so no download is needed offline.
//
// Environment: SMBTS_SKIP_NATIVE=1 skips the build; SMBTS_NATIVE_TIMEOUT_MS (default 180000).
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The addons, each optional: without one, the code that uses it falls back as `without` says. */
const ADDONS = [
  { name: 'xattr', probe: 'fgetxattr', without: 'DOS attributes stay in memory, SET_ZERO_DATA writes zeros' },
  { name: 'aead', probe: 'gcmSeal', without: 'SMB3 crypto uses node:crypto' },
  { name: 'fabric', probe: 'connect', without: 'no libfabric RDMA provider (SMB-Direct on the loopback provider only)' },
];

function findNodeGyp() {
  const cands = [];
  if (process.env.npm_config_node_gyp) cands.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) cands.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  // npm on PATH (…/bin/npm -> …/lib/node_modules/npm/bin/npm-cli.js)
  for (const p of (process.env.PATH ?? '').split(':')) {
    if (!p) continue;
    const npm = join(p, 'npm');
    try {
      if (!existsSync(npm)) continue;
      const real = realpathSync(npm);
      cands.push(join(dirname(real), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch { /* ignore */ }
  }
  cands.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return cands.find((c) => { try { return statSync(c).isFile(); } catch { return false; } });
}

function headersDir() {
  const cfg = process.env.npm_config_nodedir;
  if (cfg && existsSync(join(cfg, 'include', 'node', 'node_api.h'))) return cfg;
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return cfg || undefined; // let node-gyp use its cache (or try a download)
}

/** Builds one addon; returns the line to print (never throws). */
function build(addon, gyp, nodedir) {
  const dir = join(root, 'native', addon.name);
  const out = join(dir, 'build', 'Release', `${addon.name}.node`);
  const tag = `smbts: native ${addon.name} addon`;
  try {
    const args = [gyp, 'rebuild', '--directory', dir, '--loglevel', 'error'];
    if (nodedir) args.push(`--nodedir=${nodedir}`);
    const timeout = Number(process.env.SMBTS_NATIVE_TIMEOUT_MS) || 180_000;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout, env: { ...process.env, npm_config_loglevel: 'error' } });
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.error || r.status !== 0 || !existsSync(out)) {
      const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : (`${r.stderr ?? ''}\n${r.stdout ?? ''}`)
        .split('\n').map((l) => l.trim()).filter((l) => l && !/^gyp (info|http)/.test(l)).find((l) => /error|not found|No such/i.test(l)) ?? `exit ${r.status}`;
      try { rmSync(out, { force: true }); } catch { /* ignore */ }
      return `${tag} not built (${why.slice(0, 200)}); ${addon.without}`;
    }
    // Check that it loads in this node.
    const check = spawnSync(process.execPath, ['-e', `const m=require(${JSON.stringify(out)});if(typeof m.${addon.probe}!=='function')process.exit(3)`], { encoding: 'utf8', timeout: 20_000 });
    if (check.status !== 0) {
      try { rmSync(out, { force: true }); } catch { /* ignore */ }
      return `${tag} built but does not load (${(check.stderr || `exit ${check.status}`).trim().split('\n')[0]}); ${addon.without}`;
    }
    return `${tag} built in ${secs} s (${out.slice(root.length + 1)})`;
  } catch (e) {
    return `${tag} not built (${e instanceof Error ? e.message : String(e)}); ${addon.without}`;
  }
}

function all(why) {
  for (const a of ADDONS) process.stderr.write(`smbts: native ${a.name} addon ${why}; ${a.without}\n`);
  process.exit(0);
}

try {
  if (process.env.SMBTS_SKIP_NATIVE === '1') all('skipped (SMBTS_SKIP_NATIVE=1)');
  if (process.platform !== 'linux') all(`not built (platform ${process.platform} is not supported)`);
  const gyp = findNodeGyp();
  if (!gyp) all('not built (node-gyp not found beside npm)');
  const nodedir = headersDir();
  for (const a of ADDONS) process.stderr.write(build(a, gyp, nodedir) + '\n');
} catch (e) {
  all(`not built (${e instanceof Error ? e.message : String(e)})`);
}
process.exit(0);
