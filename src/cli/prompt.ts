// Reading a secret on the terminal without echoing it (used by `smbts user add` and the client
// commands' password prompt).

/**
 * Writes `prompt` to stderr and reads one line from the terminal (stdin must be a TTY) in raw mode,
 * not echoed; backspace/DEL erases a character. Resolves to undefined when the user presses Ctrl-C.
 */
export function readHiddenLine(prompt: string): Promise<string | undefined> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let value = '';
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { done(); resolve(value); return; }
        if (ch === '\u0003') { done(); resolve(undefined); return; }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
