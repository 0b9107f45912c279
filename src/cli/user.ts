// smbts user add NAME | del NAME | list   [--users FILE]
// The password comes from SMBTS_PASSWORD or is asked on the terminal (not echoed).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { UserDb } from '../auth/userdb.js';
import { readHiddenLine } from './prompt.js';
import { defaultUsersFile, parseArgs, str, UsageError } from './serve-common.js';

export const USER_USAGE = `usage: smbts user add NAME | del NAME | list   [--users FILE]
  password for "add": from SMBTS_PASSWORD, else asked on the terminal`;

async function askPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    // Piped: read one line.
    const chunks: Buffer[] = [];
    for await (const c of stdin) {
      chunks.push(c as Buffer);
      if (Buffer.concat(chunks).includes(0x0a)) break;
    }
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  const value = await readHiddenLine(prompt);
  if (value === undefined) throw new UsageError('cancelled');
  return value;
}

export async function userCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['users', 'u']));
  if (args.options.has('help') || args.options.has('h')) {
    console.log(USER_USAGE);
    return 0;
  }
  const [action, name] = args.positional;
  const file = nodePath.resolve(str(args, 'users', 'u') ?? defaultUsersFile());
  const db = fs.existsSync(file) ? UserDb.load(file) : UserDb.empty();
  switch (action) {
    case 'list':
      for (const u of db.list()) console.log(u);
      return 0;
    case 'add': {
      if (!name) throw new UsageError(USER_USAGE);
      let password = process.env.SMBTS_PASSWORD;
      if (password === undefined) {
        password = await askPassword(`password for ${name}: `);
        if (process.stdin.isTTY) {
          const again = await askPassword('again: ');
          if (again !== password) throw new UsageError('passwords differ');
        }
      }
      if (!password) throw new UsageError('empty password');
      db.add(name, password);
      fs.mkdirSync(nodePath.dirname(file), { recursive: true, mode: 0o700 });
      db.save(file);
      console.log(`user ${name} saved in ${file} (a running server reads it at start)`);
      return 0;
    }
    case 'del': {
      if (!name) throw new UsageError(USER_USAGE);
      if (!db.del(name)) {
        console.error(`no user ${name} in ${file}`);
        return 1;
      }
      db.save(file);
      console.log(`user ${name} removed from ${file}`);
      return 0;
    }
    default:
      throw new UsageError(USER_USAGE);
  }
}
