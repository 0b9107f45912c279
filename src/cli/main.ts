// smbts command line: server subcommands here, client subcommands in client-commands.ts.
import { pathToFileURL } from 'node:url';
import { UsageError } from './serve-common.js';

const VERSION = '0.1.0';

const USAGE = `usage: smbts <command> [args]
server:
  serve [DIR] [--config smb.conf] [--port N] [--host ADDR] [--users FILE]
  user add NAME | del NAME | list [--users FILE]
  status [--users FILE] [--port N] [--json] | status --cluster --config smb.conf
  (smbts <command> --help for each)
  rdma-test serve|run ...              RDMA test protocol (echo/LBUF, docs/smbdirect.md)
client (smb://[user[:pass]@]host[:port]/share/path):
  ls get put cat mkdir rm mv stat dfs  (smbts <command> --help)
  version | help`;

const CLIENT_COMMANDS = new Set(['ls', 'get', 'put', 'cat', 'mkdir', 'rm', 'rmdir', 'mv', 'stat', 'dfs']);

async function runClient(cmd: string, args: string[]): Promise<number> {
  let mod: { runClientCommand?: (cmd: string, args: string[]) => Promise<number> };
  try {
    // Dynamic so the server CLI works while the client is still being written.
    mod = (await import('./client-commands.js')) as typeof mod;
  } catch (e) {
    console.error(`smbts ${cmd}: the client commands are not available in this build (${(e as Error).message})`);
    return 1;
  }
  if (typeof mod.runClientCommand !== 'function') {
    console.error(`smbts ${cmd}: the client commands are not available in this build`);
    return 1;
  }
  return mod.runClientCommand(cmd, args);
}

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      case 'version':
      case '--version':
      case '-V':
        console.log(`smbts ${VERSION}`);
        return 0;
      case 'serve':
        return await (await import('./serve.js')).serveCommand(rest);
      case 'user':
        return await (await import('./user.js')).userCommand(rest);
      case 'status':
        return await (await import('./status.js')).statusCommand(rest);
      case 'rdma-test':
        return await (await import('./rdma-test.js')).rdmaTestCommand(rest);
      default:
        if (CLIENT_COMMANDS.has(cmd)) return await runClient(cmd, rest);
        console.error(`smbts: unknown command "${cmd}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`smbts ${cmd}: ${e.message}`);
      return 2;
    }
    console.error(`smbts ${cmd}: ${(e as Error).message}`);
    return 1;
  }
}

// Run directly (node dist/src/cli/main.js ...) as well as through bin/smbts.js.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).then((rc) => {
    process.exitCode = rc;
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
