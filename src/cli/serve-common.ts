// Shared by the server-side subcommands (serve, user, status): a tiny option parser
// (--name value / --name=value / -x value) and where the CLI keeps its files: the user database
// (smbpasswd format) and the admin sockets `smbts status` talks to. SMBTS_HOME overrides the
// directory (default ~/.smbts).
import * as os from 'node:os';
import * as nodePath from 'node:path';

export interface ParsedArgs {
  positional: string[];
  options: Map<string, string | true>;
}

export function parseArgs(argv: string[], withValue: ReadonlySet<string>): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) options.set(name, a.slice(eq + 1));
      else if (withValue.has(name)) {
        const v = argv[i + 1];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        options.set(name, v);
        i++;
      } else options.set(name, true);
    } else if (a.startsWith('-') && a.length > 1) {
      const name = a.slice(1);
      if (withValue.has(name)) {
        const v = argv[i + 1];
        if (v === undefined) throw new UsageError(`-${name} needs a value`);
        options.set(name, v);
        i++;
      } else options.set(name, true);
    } else {
      positional.push(a);
    }
  }
  return { positional, options };
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function str(p: ParsedArgs, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = p.options.get(n);
    if (typeof v === 'string') return v;
  }
  return undefined;
}

export function smbtsHome(): string {
  return process.env.SMBTS_HOME || nodePath.join(os.homedir(), '.smbts');
}

export function defaultUsersFile(): string {
  return nodePath.join(smbtsHome(), 'smbpasswd');
}

/** Unix socket of a running server's admin endpoint, next to its user database. */
export function adminSocketPath(usersFile: string, port: number): string {
  return nodePath.join(nodePath.dirname(nodePath.resolve(usersFile)), `smbts-${port}.sock`);
}
