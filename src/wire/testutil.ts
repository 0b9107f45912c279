// Test helpers for wire/ unit tests (not a test file itself).
import { encodeHeader } from './header.js';

/** Prefixes a body with a 64-byte SMB2 header so decoders see a whole message. */
export function msgOf(body: Buffer, command = 0): Buffer {
  return Buffer.concat([encodeHeader({ command }), body]);
}

/** Builds a buffer from hex fragments; whitespace and `|` separators are ignored. */
export function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/[\s|]/g, ''), 'hex');
}
