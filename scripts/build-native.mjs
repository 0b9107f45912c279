#!/usr/bin/env node
// Build the optional native xattr addon (native/xattr) with node-gyp. Called from "prepare".
//
// This must never fail an install: whatever happens, it prints ONE line and exits 0. Without the
// addon, LocalVfs keeps DOS attributes and creation times in memory (see src/vfs/xattr.ts).
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
const dir = join(root, 'native', 'xattr');
const out = join(dir, 'build', 'Release', 'xattr.node');
const tag = 'smbts: native xattr addon';

function done(msg) {
  process.stdout.write(`${tag} ${msg}\n`);
  process.exit(0);
}

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

try {
  if (process.env.SMBTS_SKIP_NATIVE === '1') done('skipped (SMBTS_SKIP_NATIVE=1); DOS attributes stay in memory');
  if (process.platform !== 'linux') done(`not built (platform ${process.platform} is not supported); DOS attributes stay in memory`);
  const gyp = findNodeGyp();
  if (!gyp) done('not built (node-gyp not found beside npm); DOS attributes stay in memory');
  const nodedir = headersDir();
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
    done(`not built (${why.slice(0, 200)}); DOS attributes stay in memory`);
  }
  // Check that it loads in this node.
  const check = spawnSync(process.execPath, ['-e', `const m=require(${JSON.stringify(out)});if(typeof m.fgetxattr!=='function')process.exit(3)`], { encoding: 'utf8', timeout: 20_000 });
  if (check.status !== 0) {
    try { rmSync(out, { force: true }); } catch { /* ignore */ }
    done(`built but does not load (${(check.stderr || `exit ${check.status}`).trim().split('\n')[0]}); DOS attributes stay in memory`);
  }
  done(`built in ${secs} s (${out.slice(root.length + 1)})`);
} catch (e) {
  done(`not built (${e instanceof Error ? e.message : String(e)}); DOS attributes stay in memory`);
}
