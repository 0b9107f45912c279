import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeader, encodeHeader, splitCompound, HEADER_SIZE } from './header.js';
import { Command, HeaderFlags } from './constants.js';
import { WireError } from './buf.js';

test('header round-trips in sync and async form', () => {
  const sync = encodeHeader({ command: Command.CREATE, messageId: 7n, treeId: 5, sessionId: 0x1122334455667788n, credits: 31, creditCharge: 1 });
  assert.equal(sync.length, HEADER_SIZE);
  assert.equal(sync.subarray(0, 4).toString('hex'), 'fe534d42');
  const h = decodeHeader(sync);
  assert.equal(h.command, Command.CREATE);
  assert.equal(h.messageId, 7n);
  assert.equal(h.treeId, 5);
  assert.equal(h.sessionId, 0x1122334455667788n);
  const asy = decodeHeader(encodeHeader({ command: Command.CHANGE_NOTIFY, flags: HeaderFlags.ASYNC_COMMAND | HeaderFlags.SERVER_TO_REDIR, asyncId: 99n, status: 0x103 }));
  assert.equal(asy.asyncId, 99n);
  assert.equal(asy.status, 0x103);
});

test('a captured NEGOTIATE request header decodes', () => {
  // smbclient -m SMB3 first SMB2 request header (captured on loopback).
  const hex = 'fe534d4240000000000000000000000000000000000000000000000000000000feff0000000000000000000000000000000000000000000000000000000000000';
  const h = decodeHeader(Buffer.from(hex.slice(0, 128), 'hex'));
  assert.equal(h.command, Command.NEGOTIATE);
  assert.equal(h.messageId, 0n);
});

test('malformed headers and compound chains are WireErrors', () => {
  assert.throws(() => decodeHeader(Buffer.alloc(10)), WireError);
  assert.throws(() => decodeHeader(Buffer.alloc(64)), WireError);
  const a = encodeHeader({ command: Command.ECHO, nextCommand: 72 });
  const bad = Buffer.concat([a, Buffer.alloc(4)]);
  assert.throws(() => splitCompound(bad), WireError);
  const good = Buffer.concat([a, Buffer.alloc(8), encodeHeader({ command: Command.ECHO })]);
  assert.equal(splitCompound(good).length, 2);
});
