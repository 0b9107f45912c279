/**
 * smb.conf subset (Samba syntax). See docs/config.md for the supported keys.
 *
 * Syntax: "[section]" headers, "key = value" lines, '#' / ';' comment lines, a trailing '\'
 * continues a line. Keys are case-insensitive and spaces/underscores in them are ignored
 * ("read only" == "readonly" == "Read_Only"), as in Samba. Share-level keys in [global] act as
 * defaults for every share. Unknown keys are kept in `extra` and reported in `warnings`.
 */
import { applyDfsKey, type MsdfsConfig } from './dfs.js';
import { WORKER_KEYS } from './workers.js';
import { GC_KEYS } from './gc.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { applyLimitKey, defaultLimits, type Limits } from './limits.js';
import { applyAuthKey, defaultAuthConfig, finishAuthConfig, type AuthConfig, type AuthKeyState } from './auth-keys.js';

export type EncryptSetting = 'off' | 'desired' | 'required' | 'default';
export type SigningSetting = 'auto' | 'mandatory' | 'disabled' | 'default' | 'desired';

export interface ShareConfig {
  name: string;
  path: string;
  readOnly: boolean;
  guestOk: boolean;
  validUsers: string[];
  /** Samba user lists (server/share-users.ts): names, DOMAIN\name, @group / +group (Unix groups). */
  invalidUsers?: string[];
  readList?: string[];
  writeList?: string[];
  adminUsers?: string[];
  browseable: boolean;
  comment: string;
  encrypt: EncryptSetting;
  /** The implicit IPC$ share (named pipes). */
  ipc?: boolean;
  /** Keys this implementation does not understand, lower-cased and space-free. */
  extra?: Record<string, string>;
  /** DFS role and options (config/dfs.ts, docs/dfs.md). */
  msdfs?: MsdfsConfig;
}

export interface InterfaceConfig {
  address: string;
  speed?: number;
  rss?: boolean;
  rdma?: boolean;
}

export interface ServerConfig extends AuthConfig {
  port: number;
  interfaces: InterfaceConfig[];
  bindInterfacesOnly: boolean;
  serverSigning: SigningSetting;
  smbEncrypt: EncryptSetting;
  /** Dialect numbers: SMB2_02=0x0202, SMB2_10=0x0210, SMB3_00=0x0300, SMB3_02=0x0302, SMB3_11=0x0311. */
  minProtocol: number;
  maxProtocol: number;
  netbiosName: string;
  workgroup: string;
  serverString: string;
  /** Path to a user database in smbpasswd format. */
  userDb?: string;
  /** Host paths of server state no share may expose (besides SMBTS_HOME and userDb; server/private-state.ts). */
  privatePaths?: string[];
  mapToGuest: 'never' | 'bad user';
  /** `admin users` of [global]: the server's administrators (srvsvc levels that show paths). */
  adminUsers?: string[];
  maxChannels: number;
  /** Resource limits (config/limits.ts, docs/security.md); parseConfig always sets them, defaults when absent. */
  limits?: Limits;
  /** Always ends with the implicit IPC$ share. */
  shares: ShareConfig[];
  /** Problems found while parsing (unknown keys, bad values); never fatal. */
  warnings: string[];
  /** Unknown [global] keys. */
  extra: Record<string, string>;
}

/**
 * Keys kept in `extra` for the module that reads them (not unknown): durable and persistent
 * handles (server/durable.ts, docs/config.md).
 */
const MODULE_KEYS = new Set([
  'durablehandles', 'continuousavailability', 'smb3persistenthandles', 'durablehandletimeout', 'durablev2maxtimeout',
  // cluster mode (server/cluster/config.ts)
  'clustering', 'clusterbackend', 'etcdendpoints', 'clusternodename', 'clusterleasettl',
]);

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const Dialect = {
  SMB2_02: 0x0202,
  SMB2_10: 0x0210,
  SMB3_00: 0x0300,
  SMB3_02: 0x0302,
  SMB3_11: 0x0311,
} as const;

/** Default TCP port: 4450, so the server runs without privileges. Set "smb ports = 445" for the real one. */
export const DEFAULT_PORT = 4450;

const DIALECT_NAMES: Record<string, number> = {
  SMB2_02: Dialect.SMB2_02,
  SMB2_10: Dialect.SMB2_10,
  SMB2_22: Dialect.SMB3_00, // old Samba alias
  SMB2_24: Dialect.SMB3_00,
  SMB3_00: Dialect.SMB3_00,
  SMB3_02: Dialect.SMB3_02,
  SMB3_10: Dialect.SMB3_11,
  SMB3_11: Dialect.SMB3_11,
  // Samba: "SMB2" selects the SMB2_10 variant, "SMB3" the SMB3_11 variant.
  SMB2: Dialect.SMB2_10,
  SMB3: Dialect.SMB3_11,
};

/** Parse a protocol name; returns undefined if unknown. Pre-SMB2 names map to SMB2_02 with clamped=true. */
export function parseDialect(v: string): { dialect: number; clamped: boolean } | undefined {
  const u = v.trim().toUpperCase();
  if (u in DIALECT_NAMES) return { dialect: DIALECT_NAMES[u]!, clamped: false };
  if (['CORE', 'COREPLUS', 'LANMAN1', 'LANMAN2', 'NT1'].includes(u)) return { dialect: Dialect.SMB2_02, clamped: true };
  if (/^0X0[23][0-9A-F]{2}$/.test(u)) {
    const n = parseInt(u, 16);
    if (Object.values(Dialect).includes(n as (typeof Dialect)[keyof typeof Dialect])) return { dialect: n, clamped: false };
  }
  return undefined;
}

export function parseBool(v: string): boolean | undefined {
  switch (v.trim().toLowerCase()) {
    case 'yes': case 'true': case '1': case 'on':
      return true;
    case 'no': case 'false': case '0': case 'off':
      return false;
    default:
      return undefined;
  }
}

function parseEncrypt(v: string): EncryptSetting | undefined {
  switch (v.trim().toLowerCase()) {
    case 'off': case 'no': case 'false': case 'disabled': case '0':
      return 'off';
    case 'desired': case 'if_required': case 'auto':
      return 'desired';
    case 'required': case 'mandatory': case 'forced': case 'yes': case 'true': case '1':
      return 'required';
    case 'default':
      return 'default';
    default:
      return undefined;
  }
}

function parseSigning(v: string): SigningSetting | undefined {
  switch (v.trim().toLowerCase()) {
    case 'auto': case 'if_required':
      return 'auto';
    case 'mandatory': case 'required': case 'forced': case 'yes': case 'true': case 'on':
      return 'mandatory';
    case 'disabled': case 'no': case 'false': case 'off':
      return 'disabled';
    case 'default':
      return 'default';
    case 'desired':
      return 'desired';
    default:
      return undefined;
  }
}

/** Split a Samba list value on whitespace/commas outside double quotes; quotes are removed. */
export function splitList(v: string, commas = true): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let have = false;
  for (const ch of v) {
    if (ch === '"') {
      quoted = !quoted;
      have = true;
    } else if (!quoted && (ch === ' ' || ch === '\t' || (commas && ch === ','))) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out.filter((s) => s !== '');
}

/**
 * Parse Samba's "interfaces" value: plain addresses/names/CIDRs, or
 * "addr;speed=N,capability=RSS,capability=RDMA" (quoted when it contains commas).
 */
export function parseInterfaces(v: string, warnings: string[] = []): InterfaceConfig[] {
  const out: InterfaceConfig[] = [];
  for (const tok of splitList(v)) {
    const [address, opts] = splitOnce(tok, ';');
    const ifc: InterfaceConfig = { address: address.trim() };
    if (opts !== undefined) {
      for (const o of opts.split(',')) {
        const [k, val = ''] = splitOnce(o.trim(), '=');
        const key = k.trim().toLowerCase();
        if (key === 'speed') {
          const n = Number(val);
          if (Number.isFinite(n) && n >= 0) ifc.speed = n;
          else warnings.push(`interfaces: bad speed ${JSON.stringify(val)}`);
        } else if (key === 'capability') {
          const cap = val.trim().toUpperCase();
          if (cap === 'RSS') ifc.rss = true;
          else if (cap === 'RDMA') ifc.rdma = true;
          else warnings.push(`interfaces: unknown capability ${JSON.stringify(val)}`);
        } else if (key === 'if_index') {
          /* accepted, not used */
        } else if (key !== '') {
          warnings.push(`interfaces: unknown option ${JSON.stringify(o)}`);
        }
      }
    }
    if (ifc.address) out.push(ifc);
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Canonical key: lower case without spaces/underscores. */
function canon(k: string): string {
  return k.toLowerCase().replace(/[\s_]+/g, '');
}

interface RawSection {
  name: string;
  line: number;
  entries: Array<{ key: string; rawKey: string; value: string; line: number }>;
}

/** Tokenise smb.conf text into sections (entries before any header go to "global"). */
function tokenize(text: string, warnings: string[]): RawSection[] {
  const sections: RawSection[] = [];
  let cur: RawSection = { name: 'global', line: 0, entries: [] };
  sections.push(cur);
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    // continuation: a trailing backslash joins the next line
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, '') + lines[++i]!.trimStart();
    }
    line = line.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      if (end < 0) {
        warnings.push(`line ${lineNo}: malformed section header ${JSON.stringify(line)}`);
        continue;
      }
      const name = line.slice(1, end).trim();
      if (name === '') {
        warnings.push(`line ${lineNo}: empty section name`);
        continue;
      }
      cur = { name, line: lineNo, entries: [] };
      sections.push(cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      warnings.push(`line ${lineNo}: expected "key = value", got ${JSON.stringify(line)}`);
      continue;
    }
    const rawKey = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    cur.entries.push({ key: canon(rawKey), rawKey, value, line: lineNo });
  }
  return sections;
}

type ShareDefaults = Omit<ShareConfig, 'name' | 'path' | 'ipc' | 'extra'>;

const SHARE_KEYS = new Set([
  'path', 'directory', 'readonly', 'writeable', 'writable', 'writeok', 'guestok', 'public', 'validusers',
  'browseable', 'browsable', 'comment', 'smbencrypt', 'serversmbencrypt', 'available',
]);

/**
 * Apply one share-level key. Returns false when the key is not a share key.
 */
function applyShareKey(
  target: Partial<ShareConfig> & { available?: boolean },
  key: string, value: string, where: string, warnings: string[],
): boolean {
  const bool = (): boolean | undefined => {
    const b = parseBool(value);
    if (b === undefined) warnings.push(`${where}: bad boolean ${JSON.stringify(value)}`);
    return b;
  };
  switch (key) {
    case 'path': case 'directory':
      target.path = value;
      return true;
    case 'readonly': {
      const b = bool();
      if (b !== undefined) target.readOnly = b;
      return true;
    }
    case 'writeable': case 'writable': case 'writeok': {
      const b = bool();
      if (b !== undefined) target.readOnly = !b;
      return true;
    }
    case 'guestok': case 'public': {
      const b = bool();
      if (b !== undefined) target.guestOk = b;
      return true;
    }
    case 'validusers':
      target.validUsers = splitList(value);
      return true;
    case 'invalidusers':
      target.invalidUsers = splitList(value);
      return true;
    case 'readlist':
      target.readList = splitList(value);
      return true;
    case 'writelist':
      target.writeList = splitList(value);
      return true;
    case 'adminusers':
      target.adminUsers = splitList(value);
      return true;
    case 'browseable': case 'browsable': {
      const b = bool();
      if (b !== undefined) target.browseable = b;
      return true;
    }
    case 'comment':
      target.comment = value;
      return true;
    case 'smbencrypt': case 'serversmbencrypt': {
      const e = parseEncrypt(value);
      if (e === undefined) warnings.push(`${where}: bad smb encrypt value ${JSON.stringify(value)}`);
      else target.encrypt = e;
      return true;
    }
    case 'available': {
      const b = bool();
      if (b !== undefined) target.available = b;
      return true;
    }
    default:
      return applyDfsKey(target, key, value, where, warnings);
  }
}

function defaultNetbiosName(): string {
  const h = os.hostname().split('.')[0] ?? 'SMBTS';
  return (h || 'SMBTS').toUpperCase().slice(0, 15);
}

/** The implicit IPC$ share. */
export function ipcShare(serverString: string): ShareConfig {
  return {
    name: 'IPC$', path: '', readOnly: true, guestOk: true, validUsers: [], browseable: false,
    comment: `IPC Service (${serverString})`, encrypt: 'default', ipc: true,
  };
}

const SHARE_NAME_FORBIDDEN = /["\\/[\]:|<>+=;,*?\x00-\x1f]/;

export interface ParseOptions {
  /** Resolve relative share paths / user db against this directory. */
  baseDir?: string;
}

/** Parse smb.conf text. Never throws for unknown keys; throws ConfigError only for unusable input. */
export function parseConfig(text: string, opts: ParseOptions = {}): ServerConfig {
  const warnings: string[] = [];
  const sections = tokenize(text, warnings);
  const cfg: ServerConfig = {
    port: DEFAULT_PORT,
    interfaces: [],
    bindInterfacesOnly: false,
    serverSigning: 'default',
    smbEncrypt: 'default',
    minProtocol: Dialect.SMB2_02,
    maxProtocol: Dialect.SMB3_11,
    netbiosName: defaultNetbiosName(),
    workgroup: 'WORKGROUP',
    serverString: 'smbts',
    mapToGuest: 'never',
    maxChannels: 32,
    limits: defaultLimits(),
    shares: [],
    warnings,
    extra: {},
    ...defaultAuthConfig(),
  };
  const authKeys: AuthKeyState = {};
  const shareDefaults: ShareDefaults = {
    readOnly: true, guestOk: false, validUsers: [], browseable: true, comment: '', encrypt: 'default',
  };
  const resolvePath = (p: string): string => (opts.baseDir && p && !nodePath.isAbsolute(p) ? nodePath.resolve(opts.baseDir, p) : p);

  // [global] sections first (Samba allows several; later wins), so their share defaults apply to all shares.
  for (const sec of sections) {
    if (sec.name.toLowerCase() !== 'global') continue;
    for (const e of sec.entries) {
      const where = `line ${e.line} (${e.rawKey})`;
      const v = e.value;
      switch (e.key) {
        case 'smbports': case 'port': {
          const n = Number(splitList(v)[0]);
          if (Number.isInteger(n) && n >= 0 && n <= 65535) cfg.port = n;
          else warnings.push(`${where}: bad port ${JSON.stringify(v)}`);
          break;
        }
        case 'interfaces':
          cfg.interfaces = parseInterfaces(v, warnings);
          break;
        case 'bindinterfacesonly': {
          const b = parseBool(v);
          if (b === undefined) warnings.push(`${where}: bad boolean ${JSON.stringify(v)}`);
          else cfg.bindInterfacesOnly = b;
          break;
        }
        case 'serversigning': {
          const s = parseSigning(v);
          if (s === undefined) warnings.push(`${where}: bad value ${JSON.stringify(v)}`);
          else cfg.serverSigning = s;
          break;
        }
        case 'smbencrypt': case 'serversmbencrypt': {
          const s = parseEncrypt(v);
          if (s === undefined) warnings.push(`${where}: bad value ${JSON.stringify(v)}`);
          else cfg.smbEncrypt = s;
          break;
        }
        case 'serverminprotocol': case 'minprotocol': case 'servermaxprotocol': case 'maxprotocol': case 'protocol': {
          const isMin = e.key.includes('min');
          if (v.trim().toLowerCase() === 'default') {
            if (isMin) cfg.minProtocol = Dialect.SMB2_02;
            else cfg.maxProtocol = Dialect.SMB3_11;
            break;
          }
          const d = parseDialect(v);
          if (!d) warnings.push(`${where}: unknown protocol ${JSON.stringify(v)}`);
          else {
            if (d.clamped) warnings.push(`${where}: ${v} is not supported (SMB2+ only); using SMB2_02`);
            if (isMin) cfg.minProtocol = d.dialect;
            else cfg.maxProtocol = d.dialect;
          }
          break;
        }
        case 'netbiosname':
          cfg.netbiosName = v.toUpperCase().slice(0, 15);
          if (v.length > 15) warnings.push(`${where}: netbios name truncated to 15 characters`);
          break;
        case 'workgroup':
          cfg.workgroup = v.toUpperCase();
          break;
        case 'serverstring':
          cfg.serverString = v;
          break;
        case 'smbpasswdfile': case 'userdb':
          cfg.userDb = resolvePath(v);
          break;
        case 'passdbbackend': {
          const m = /^smbpasswd(?::(.*))?$/i.exec(v.trim());
          if (m && m[1]) cfg.userDb = resolvePath(m[1].trim());
          else if (!m) warnings.push(`${where}: only "smbpasswd:<path>" is supported`);
          break;
        }
        case 'maptoguest': {
          const m = v.trim().toLowerCase();
          if (m === 'never') cfg.mapToGuest = 'never';
          else if (m === 'bad user' || m === 'baduser') cfg.mapToGuest = 'bad user';
          else warnings.push(`${where}: unsupported map to guest value ${JSON.stringify(v)}; using "never"`);
          break;
        }
        case 'maxchannels': {
          const n = Number(v);
          if (Number.isInteger(n) && n >= 1 && n <= 256) cfg.maxChannels = n;
          else warnings.push(`${where}: bad max channels ${JSON.stringify(v)}`);
          break;
        }
        case 'servermultichannelsupport': {
          const b = parseBool(v);
          if (b === undefined) warnings.push(`${where}: bad boolean ${JSON.stringify(v)}`);
          else if (!b) cfg.maxChannels = 1;
          break;
        }
        default:
          if (applyLimitKey(cfg.limits ??= defaultLimits(), e.key, v, where, warnings)) break;
          if (applyAuthKey(cfg, authKeys, e.key, v, where, warnings, resolvePath)) break;
          if (!applyShareKey(shareDefaults as Partial<ShareConfig>, e.key, v, where, warnings)) {
            cfg.extra[e.key] = v;
            if (!MODULE_KEYS.has(e.key) && !WORKER_KEYS.has(e.key) && !GC_KEYS.has(e.key)) warnings.push(`${where}: unknown parameter ignored`);
          } else if (e.key === 'path' || e.key === 'directory') {
            warnings.push(`${where}: "path" in [global] has no effect`);
          }
      }
    }
  }
  finishAuthConfig(cfg, authKeys, warnings);
  if (shareDefaults.adminUsers) cfg.adminUsers = shareDefaults.adminUsers;
  if (cfg.minProtocol > cfg.maxProtocol) {
    throw new ConfigError(`server min protocol (0x${cfg.minProtocol.toString(16)}) is above max protocol (0x${cfg.maxProtocol.toString(16)})`);
  }

  const byName = new Map<string, ShareConfig>();
  for (const sec of sections) {
    const lname = sec.name.toLowerCase();
    if (lname === 'global') continue;
    if (lname === 'homes' || lname === 'printers' || lname === 'print$') {
      warnings.push(`line ${sec.line}: [${sec.name}] is not supported; section ignored`);
      continue;
    }
    if (lname === 'ipc$') {
      warnings.push(`line ${sec.line}: [IPC$] is implicit; section ignored`);
      continue;
    }
    if (sec.name.length > 80 || SHARE_NAME_FORBIDDEN.test(sec.name)) {
      warnings.push(`line ${sec.line}: invalid share name ${JSON.stringify(sec.name)}; section ignored`);
      continue;
    }
    const share: ShareConfig & { available?: boolean } = {
      name: sec.name, path: '', ...shareDefaults, validUsers: [...shareDefaults.validUsers],
    };
    const extra: Record<string, string> = {};
    for (const e of sec.entries) {
      const where = `line ${e.line} (${e.rawKey}) in [${sec.name}]`;
      if (!applyShareKey(share, e.key, e.value, where, warnings)) {
        extra[e.key] = e.value;
        if (!MODULE_KEYS.has(e.key)) warnings.push(`${where}: unknown parameter ignored`);
      }
    }
    if (share.available === false) continue;
    delete share.available;
    if (!share.path && share.msdfs?.proxy) share.path = '/nonexistent-msdfs-proxy'; // never opened: dfs/ answers first
    if (!share.path) {
      warnings.push(`line ${sec.line}: share [${sec.name}] has no path; section ignored`);
      continue;
    }
    share.path = resolvePath(share.path);
    if (Object.keys(extra).length) share.extra = extra;
    if (byName.has(lname)) warnings.push(`line ${sec.line}: share [${sec.name}] defined twice; the later one wins`);
    byName.set(lname, share);
  }
  cfg.shares = [...byName.values(), ipcShare(cfg.serverString)];
  return cfg;
}

/** Read and parse a config file; relative paths are resolved against the file's directory. */
export function loadConfig(path: string): ServerConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseConfig(text, { baseDir: nodePath.dirname(nodePath.resolve(path)) });
}

/** A ready-to-run config: one writable share "share" at dir, port 4450, guest not allowed. */
export function defaultConfig(dir: string): ServerConfig {
  const cfg = parseConfig('');
  const share: ShareConfig = {
    name: 'share', path: nodePath.resolve(dir), readOnly: false, guestOk: false, validUsers: [], browseable: true,
    comment: '', encrypt: 'default',
  };
  cfg.shares = [share, ...cfg.shares];
  return cfg;
}

/** Case-insensitive share lookup (share names are case-insensitive in SMB). */
export function findShare(cfg: ServerConfig, name: string): ShareConfig | undefined {
  const l = name.toLowerCase();
  return cfg.shares.find((s) => s.name.toLowerCase() === l);
}
