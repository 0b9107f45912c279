// `smbts ls|get|put|cat|mkdir|rm|mv|stat <smb-url> ...` — the client commands of the CLI.
// The password never has to be on the command line: SMBTS_PASSWORD, an authentication file
// (-A FILE, smbclient's format) or an interactive prompt.
// Exit codes: 0 ok, 1 error, 2 usage, 3 authentication failure, 4 not found.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { readHiddenLine } from './prompt.js';
import { providerByName } from './rdma-test.js';
import { connect, parseSmbUrl, SmbError, type SmbClient, type ConnectOptions, type SmbUrl } from '../client/index.js';
import type { DfsCacheInfo } from '../client/index.js';

export const EXIT = { OK: 0, ERROR: 1, USAGE: 2, AUTH: 3, NOT_FOUND: 4 } as const;

const USAGE = `usage: smbts <command> [options] smb://[domain;]user@host[:port]/share[/path] ...

commands:
  ls    URL                 list a directory (-l: long format)
  get   URL [LOCAL]         download a file (-r: a directory tree); LOCAL '-' = stdout
  put   LOCAL URL           upload a file (-r: a directory tree)
  cat   URL                 print a file
  mkdir URL                 create a directory (-p: with parents)
  rm    URL                 remove a file or empty directory (-r: recursively)
  rmdir URL                 remove an empty directory
  mv    URL NEWPATH         rename within the share (NEWPATH: path from the share root, or an
                            smb:// URL of the same server and share)
  stat  URL                 show attributes
  dfs   URL                 resolve URL through DFS and print the referral cache (TTL left, targets, hint)

options:
  -A FILE       authentication file (lines username=, password=, domain=)
  -r            recursive (get, put, rm)      -p  parents (mkdir)      -l  long listing (ls)
  -q            no progress bar
  --dialect D   2.1 | 3.0 | 3.0.2 | 3.1.1 (repeatable; default: all)
  --encrypt     require encryption             --sign   require signing
  --timeout MS  per-request timeout (default 30000)
  --transport T tcp (default) | netbios (RFC 1002 session first, port 139) | smbdirect (MS-SMBD, RDMA)
  --rdma-provider P   smbdirect: libfabric provider (tcp, verbs; default $FI_PROVIDER or tcp)
  --kerberos    Kerberos only (ticket from the ccache after kinit, or the password)
  --krb5 MODE   required | auto (Kerberos if possible, else NTLM) | off (default)
  --service-principal P   Kerberos service to ask for (default cifs/HOST)
password: $SMBTS_PASSWORD, the -A file, or a prompt on the terminal (not with --kerberos).`;

class UsageError extends Error {}

/** `smbts CMD --help`: what CMD does and takes (exit 0). */
const HELP: Record<string, string> = {
  ls: `usage: smbts ls [-l] URL
  lists a directory (or shows one file); -l: type, size, modification time`,
  get: `usage: smbts get [-r] [-q] URL [LOCAL]
  downloads a file to LOCAL (default: its name here; '-' = stdout); -r: a directory tree`,
  put: `usage: smbts put [-r] [-q] LOCAL URL
  uploads LOCAL to URL (a URL ending in '/' is a directory: the file keeps its name); -r: a directory tree`,
  cat: `usage: smbts cat URL
  prints a file to stdout`,
  mkdir: `usage: smbts mkdir [-p] URL
  creates a directory; -p: with its parents, no error if it exists`,
  rm: `usage: smbts rm [-r] URL
  removes a file or an empty directory; -r: a directory with everything in it`,
  rmdir: `usage: smbts rmdir URL
  removes an empty directory`,
  mv: `usage: smbts mv URL NEWPATH
  renames or moves within one share. NEWPATH is a path in the share (relative paths start at the
  share root, like a path after the share in URL) or an smb:// URL of the same server and share;
  an existing directory as NEWPATH receives the file under its own name. Moving between servers
  or shares is refused: copy with get/put, then rm.`,
  stat: `usage: smbts stat URL
  shows the attributes of a file or directory`,
};

function helpFor(cmd: string): string {
  return `${HELP[cmd] ?? ''}

${USAGE.slice(USAGE.indexOf('options:'))}`;
}

/** A refusal that is neither a usage mistake nor a server error (exit 1, message only). */
class Refused extends Error {}

interface Parsed {
  positional: string[];
  authFile?: string;
  recursive: boolean;
  parents: boolean;
  long: boolean;
  quiet: boolean;
  dialects: number[];
  encrypt: boolean;
  sign: boolean;
  timeoutMs?: number;
  help?: boolean;
  krb5?: 'required' | 'auto' | 'off';
  servicePrincipal?: string;
  transport?: 'tcp' | 'netbios' | 'smbdirect';
  rdmaProvider?: string;
}

const DIALECT_NAMES: Record<string, number> = {
  '2.1': 0x0210, '2.10': 0x0210, smb2_10: 0x0210, '3.0': 0x0300, '3': 0x0300, smb3_00: 0x0300,
  '3.0.2': 0x0302, '3.02': 0x0302, smb3_02: 0x0302, '3.1.1': 0x0311, '3.11': 0x0311, smb3_11: 0x0311,
};

function parseArgs(args: string[]): Parsed {
  const p: Parsed = { positional: [], recursive: false, parents: false, long: false, quiet: false, dialects: [], encrypt: false, sign: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-A': case '--authentication-file': p.authFile = val(); break;
      case '-r': case '-R': case '--recursive': p.recursive = true; break;
      case '-p': case '--parents': p.parents = true; break;
      case '-l': p.long = true; break;
      case '-q': case '--quiet': p.quiet = true; break;
      case '--encrypt': p.encrypt = true; break;
      case '--sign': p.sign = true; break;
      case '--kerberos': case '-k': p.krb5 = 'required'; break;
      case '--krb5': {
        const v = val();
        if (v !== 'required' && v !== 'auto' && v !== 'off') throw new UsageError('--krb5 takes required, auto or off');
        p.krb5 = v;
        break;
      }
      case '--service-principal': p.servicePrincipal = val(); break;
      case '--dialect': {
        const v = val().toLowerCase();
        const d = DIALECT_NAMES[v];
        if (d === undefined) throw new UsageError(`unknown dialect "${v}"`);
        p.dialects.push(d);
        break;
      }
      case '--transport': {
        const v = val();
        if (v !== 'tcp' && v !== 'netbios' && v !== 'smbdirect') throw new UsageError(`unknown transport "${v}" (tcp, netbios, smbdirect)`);
        p.transport = v;
        break;
      }
      case '--rdma-provider': p.rdmaProvider = val(); break;
      case '--timeout': {
        const n = Number(val());
        if (!(n > 0)) throw new UsageError('--timeout needs a positive number of milliseconds');
        p.timeoutMs = n;
        break;
      }
      case '-h': case '--help': p.help = true; break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
        p.positional.push(a);
    }
  }
  return p;
}

/** smbclient's authentication file: username = , password = , domain = (spaces optional). */
export function parseAuthFile(text: string): { username?: string; password?: string; domain?: string } {
  const out: { username?: string; password?: string; domain?: string } = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(username|password|domain)\s*=\s?(.*?)\s*$/i.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase() as 'username' | 'password' | 'domain';
    out[key] = m[2]!;
  }
  return out;
}

async function promptPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('no password: set SMBTS_PASSWORD, use -A FILE, or run on a terminal');
  const pw = await readHiddenLine(prompt);
  if (pw === undefined) throw new UsageError('cancelled');
  return pw;
}

async function credentials(u: SmbUrl, p: Parsed): Promise<{ user: string; password: string; domain: string }> {
  let user = u.user;
  let domain = u.domain;
  let password: string | undefined;
  if (p.authFile) {
    let text: string;
    try { text = await readFile(p.authFile, 'utf8'); } catch (e) { throw new UsageError(`cannot read ${p.authFile}: ${(e as Error).message}`); }
    const a = parseAuthFile(text);
    if (!user && a.username) user = a.username;
    if (!domain && a.domain) domain = a.domain;
    password = a.password;
  }
  password ??= process.env.SMBTS_PASSWORD;
  password ??= u.password;
  // Kerberos: the ccache's principal and tickets stand in for user and password.
  if (p.krb5 === 'required') return { user, password: password ?? '', domain };
  if (!user) user = process.env.SMBTS_USER ?? process.env.USER ?? 'guest';
  password ??= await promptPassword(`password for ${domain ? domain + '\\' : ''}${user}@${u.host}: `);
  return { user, password, domain };
}

async function open(url: string, p: Parsed): Promise<{ client: SmbClient; path: string; u: SmbUrl }> {
  const u = parseSmbUrl(url);
  if (!u.share) throw new UsageError(`no share in ${url}`);
  const c = await credentials(u, p);
  const opts: ConnectOptions = { password: c.password, domain: c.domain, encrypt: p.encrypt, sign: p.sign };
  if (p.dialects.length) opts.dialects = p.dialects;
  if (p.timeoutMs) opts.timeoutMs = p.timeoutMs;
  if (p.krb5) opts.krb5 = p.krb5;
  if (p.servicePrincipal) opts.kerberos = { servicePrincipal: p.servicePrincipal };
  if (p.transport) opts.transport = p.transport;
  if (p.transport === 'smbdirect') opts.rdmaProvider = providerByName(p.rdmaProvider);
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  const shareUrl = `smb://${c.user ? encodeURIComponent(c.user) + '@' : ''}${host}:${u.port}/${encodeURIComponent(u.share)}`;
  const client = await connect(shareUrl, opts);
  return { client, path: '/' + u.path, u };
}

// ---------------------------------------------------------------------------------------------
// Progress bar (stderr, TTY only)

class Progress {
  private done = 0;
  private readonly start = Date.now();
  private last = 0;
  private readonly on: boolean;

  constructor(private readonly label: string, private total: number, quiet: boolean) {
    this.on = !quiet && !!process.stderr.isTTY;
  }

  addTotal(n: number): void { this.total += n; }

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (this.on && now - this.last > 100) { this.last = now; this.draw(); }
  }

  private draw(): void {
    const secs = Math.max(0.001, (Date.now() - this.start) / 1000);
    const rate = this.done / secs;
    const pct = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = 24;
    const bar = '#'.repeat(Math.round(pct * width)).padEnd(width, '.');
    const eta = rate > 0 && this.total > this.done ? (this.total - this.done) / rate : 0;
    const line = `${this.label.slice(-30).padEnd(30)} [${bar}] ${(pct * 100).toFixed(0).padStart(3)}% ${fmtSize(this.done)} ${fmtSize(rate)}/s ETA ${fmtTime(eta)}`;
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 100) - 1)}\x1b[K`);
  }

  finish(): void {
    if (!this.on) return;
    this.draw();
    process.stderr.write('\n');
  }
}

function fmtSize(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

function fmtTime(s: number): string {
  if (!isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

function counter(p: Progress): Transform {
  return new Transform({ transform(chunk: Buffer, _e, cb) { p.add(chunk.length); cb(null, chunk); } });
}

// ---------------------------------------------------------------------------------------------
// Commands

function joinRemote(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

async function getFile(c: SmbClient, remote: string, local: string, prog: Progress): Promise<void> {
  if (local === '-') {
    await pipeline(c.createReadStream(remote), counter(prog), process.stdout, { end: false });
    return;
  }
  // file to file: 8 MiB READs into pooled buffers, written from there (client.download)
  await c.download(remote, local, { onProgress: (n) => prog.add(n) });
}

async function getTree(c: SmbClient, remote: string, local: string, prog: Progress): Promise<void> {
  await mkdir(local, { recursive: true });
  for (const e of await c.readdir(remote, { withStats: true })) {
    const r = joinRemote(remote, e.name);
    const l = join(local, e.name);
    if (e.isDirectory()) await getTree(c, r, l, prog);
    else { prog.addTotal(e.size); await getFile(c, r, l, prog); }
  }
}

async function putFile(c: SmbClient, local: string, remote: string, prog: Progress): Promise<void> {
  // the local file read straight into pooled WRITE frames (client.upload)
  await c.upload(local, remote, { onProgress: (n) => prog.add(n) });
}

async function putTree(c: SmbClient, local: string, remote: string, prog: Progress): Promise<void> {
  if (!(await c.exists(remote))) await c.mkdir(remote, { recursive: true });
  for (const e of await readdir(local, { withFileTypes: true })) {
    const l = join(local, e.name);
    const r = joinRemote(remote, e.name);
    if (e.isDirectory()) await putTree(c, l, r, prog);
    else if (e.isFile()) { prog.addTotal((await stat(l)).size); await putFile(c, l, r, prog); }
  }
}

function need(p: Parsed, min: number, max: number, what: string): void {
  if (p.positional.length < min || p.positional.length > max) throw new UsageError(what);
}

async function run(cmd: string, p: Parsed): Promise<number> {
  const out = (s: string): void => { process.stdout.write(s + '\n'); };
  switch (cmd) {
    case 'ls': {
      need(p, 1, 1, 'ls needs one smb:// URL');
      const { client, path } = await open(p.positional[0]!, p);
      try {
        const st = await client.stat(path);
        const entries = st.isDirectory() ? await client.readdir(path, { withStats: true }) : [st];
        entries.sort((a, b) => a.name.localeCompare(b.name));
        for (const e of entries) {
          if (p.long) out(`${e.isDirectory() ? 'd' : '-'} ${String(e.size).padStart(12)} ${e.mtime.toISOString().slice(0, 19).replace('T', ' ')} ${e.name}${e.isDirectory() ? '/' : ''}`);
          else out(e.name + (e.isDirectory() ? '/' : ''));
        }
      } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'cat': {
      need(p, 1, 1, 'cat needs one smb:// URL');
      const { client, path } = await open(p.positional[0]!, p);
      try {
        await pipeline(client.createReadStream(path), process.stdout, { end: false });
      } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'get': {
      need(p, 1, 2, 'get needs an smb:// URL and optionally a local path');
      const { client, path } = await open(p.positional[0]!, p);
      try {
        const st = await client.stat(path);
        const local = p.positional[1] ?? (basename(path) || client.tree.share);
        const prog = new Progress(basename(path), 0, p.quiet || local === '-');
        if (st.isDirectory()) {
          if (!p.recursive) throw new SmbError(0xc00000ba, `${path} is a directory (use -r)`);
          await getTree(client, path, local, prog);
        } else {
          prog.addTotal(st.size);
          let dest = local;
          if (local !== '-') {
            const ls = await stat(local).catch(() => undefined);
            if (ls?.isDirectory()) dest = join(local, basename(path));
          }
          await getFile(client, path, dest, prog);
        }
        prog.finish();
      } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'put': {
      need(p, 2, 2, 'put needs a local path and an smb:// URL');
      const local = p.positional[0]!;
      let ls;
      try { ls = await stat(local); } catch { throw new NotFound(`${local}: no such local file`); }
      const { client, path } = await open(p.positional[1]!, p);
      try {
        const prog = new Progress(basename(local), 0, p.quiet);
        let dest = path;
        const remoteDir = path === '/' || p.positional[1]!.endsWith('/') || (await client.stat(path).then((s) => s.isDirectory(), () => false));
        if (remoteDir) dest = joinRemote(path, basename(local));
        if (ls.isDirectory()) {
          if (!p.recursive) throw new UsageError(`${local} is a directory (use -r)`);
          await putTree(client, local, dest, prog);
        } else {
          prog.addTotal(ls.size);
          await putFile(client, local, dest, prog);
        }
        prog.finish();
      } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'mkdir': {
      need(p, 1, 1, 'mkdir needs one smb:// URL');
      const { client, path } = await open(p.positional[0]!, p);
      try { await client.mkdir(path, { recursive: p.parents }); } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'rm':
    case 'rmdir': {
      need(p, 1, 1, `${cmd} needs one smb:// URL`);
      const { client, path } = await open(p.positional[0]!, p);
      try {
        if (cmd === 'rmdir' && !(await client.stat(path)).isDirectory()) throw new SmbError(0xc0000103, undefined, path);
        await client.rm(path, { recursive: p.recursive });
      } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'mv': {
      need(p, 2, 2, 'mv needs an smb:// URL and a new path');
      // Decided before connecting: a rename is one SET_INFO on one server's share, so another
      // server (host or port) or share cannot be a target.
      const u = parseSmbUrl(p.positional[0]!);
      let to = p.positional[1]!;
      if (/^smb:\/\//i.test(to)) {
        const v = parseSmbUrl(to);
        if (v.host.toLowerCase() !== u.host.toLowerCase() || v.port !== u.port || v.share.toLowerCase() !== u.share.toLowerCase()) {
          throw new Refused(`cannot move between servers or shares (${u.host}:${u.port}/${u.share} -> ${v.host}:${v.port}/${v.share}); copy with get/put, then rm`);
        }
        to = '/' + v.path;
      } else {
        to = '/' + to.replace(/^\/+/, ''); // from the share root, as a path after the share in a URL
      }
      const { client, path } = await open(p.positional[0]!, p);
      try {
        if (await client.stat(to).then((s) => s.isDirectory(), () => false)) to = joinRemote(to, basename(path));
        await client.rename(path, to);
      } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'stat': {
      need(p, 1, 1, 'stat needs one smb:// URL');
      const { client, path } = await open(p.positional[0]!, p);
      try {
        const s = await client.stat(path);
        out(`name:       ${s.path}`);
        out(`type:       ${s.isDirectory() ? 'directory' : 'file'}`);
        out(`size:       ${s.size}`);
        out(`allocated:  ${s.allocationSize}`);
        out(`attributes: 0x${s.attributes.toString(16)}`);
        out(`created:    ${s.birthtime.toISOString()}`);
        out(`modified:   ${s.mtime.toISOString()}`);
        out(`accessed:   ${s.atime.toISOString()}`);
        out(`changed:    ${s.ctime.toISOString()}`);
      } finally { await client.close(); }
      return EXIT.OK;
    }
    case 'dfs': {
      need(p, 1, 1, 'dfs needs one smb:// URL');
      const { client, path } = await open(p.positional[0]!, p);
      try {
        // Resolving the path fills the cache; a missing file at the end still shows the links crossed.
        let status = 'ok';
        try { await client.stat(path); } catch (e) { if (!(e instanceof SmbError)) throw e; status = e.statusName; }
        out(`resolved: ${status}`);
        for (const line of formatDfsCache(client.dfsCache())) out(line);
      } finally { await client.close(); }
      return EXIT.OK;
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

/** The referral cache as text, in the spirit of /proc/fs/cifs/dfscache. */
export function formatDfsCache(entries: DfsCacheInfo[]): string[] {
  const lines = [`DFS cache: ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`];
  for (const e of entries) {
    lines.push(`${e.path}  type=${e.serverType} ttl=${e.ttl}s left=${e.ttlLeft}s${e.ttlLeft <= 0 ? ' (expired)' : ''} server=${e.server}`);
    for (const t of e.targets) lines.push(`  ${t === e.hint ? '*' : ' '} ${t}${t === e.hint ? '  (hint)' : ''}`);
  }
  return lines;
}

class NotFound extends Error {}

const NOT_FOUND = new Set(['OBJECT_NAME_NOT_FOUND', 'OBJECT_PATH_NOT_FOUND', 'NO_SUCH_FILE', 'BAD_NETWORK_NAME']);
const AUTH = new Set(['LOGON_FAILURE', 'WRONG_PASSWORD', 'ACCOUNT_DISABLED', 'PASSWORD_EXPIRED', 'ACCOUNT_RESTRICTION', 'NO_SUCH_USER']);

/** Runs one client command; returns the process exit code (never throws). */
export async function runClientCommand(cmd: string, args: string[]): Promise<number> {
  try {
    const p = parseArgs(args);
    if (p.help) {
      process.stdout.write(helpFor(cmd) + '\n');
      return EXIT.OK;
    }
    return await run(cmd, p);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) process.stderr.write(`smbts ${cmd}: ${e.message}\n`);
      process.stderr.write(USAGE + '\n');
      return EXIT.USAGE;
    }
    if (e instanceof Refused) {
      process.stderr.write(`smbts ${cmd}: ${e.message}\n`);
      return EXIT.ERROR;
    }
    if (e instanceof NotFound) {
      process.stderr.write(`smbts ${cmd}: ${e.message}\n`);
      return EXIT.NOT_FOUND;
    }
    if (e instanceof SmbError) {
      process.stderr.write(`smbts ${cmd}: ${e.message}\n`);
      if (AUTH.has(e.statusName)) return EXIT.AUTH;
      if (NOT_FOUND.has(e.statusName)) return EXIT.NOT_FOUND;
      return EXIT.ERROR;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`smbts ${cmd}: ${err?.message ?? String(e)}\n`);
    if (err?.code === 'ENOENT') return EXIT.NOT_FOUND;
    return EXIT.ERROR;
  }
}
