// Server address lists for node failover (failover.ts): parsing and the order reconnects try.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { candidates, parseServer } from './failover.js';
import { normalizeConnect } from './options.js';

describe('failover addresses', () => {
  it('parses host, host:port and IPv6 forms; refuses bad ones', () => {
    assert.deepEqual(parseServer('10.0.0.2', 445), { host: '10.0.0.2', port: 445 });
    assert.deepEqual(parseServer(' node2:4452 ', 445), { host: 'node2', port: 4452 });
    assert.deepEqual(parseServer('[fe80::1]:4451', 445), { host: 'fe80::1', port: 4451 });
    assert.deepEqual(parseServer('fe80::1', 445), { host: 'fe80::1', port: 445 });
    assert.throws(() => parseServer('a:b:c', 445), /bad server address/);
    assert.throws(() => parseServer('node:0', 445), /bad port/);
    assert.throws(() => parseServer('', 445), /no host/);
  });

  it('tries the current node first, then the others, without duplicates', async () => {
    const p = { host: '127.0.0.1', port: 1 };
    const list = [{ host: '127.0.0.1', port: 2 }, { host: '127.0.0.1', port: 1 }];
    assert.deepEqual(await candidates(p, list, { host: '127.0.0.1', port: 2 }), [{ host: '127.0.0.1', port: 2 }, p]);
    assert.deepEqual(await candidates(p, [], p), [p]);
    // A cluster name with one address per node: every address; the current one first.
    const name = { host: 'fs.example', port: 445 };
    const two = async (): Promise<string[]> => ['10.0.0.1', '10.0.0.2'];
    assert.deepEqual(await candidates(name, [], name, two), [name, { host: '10.0.0.1', port: 445 }, { host: '10.0.0.2', port: 445 }]);
    assert.deepEqual(await candidates(name, [], { host: '10.0.0.2', port: 445 }, two), [{ host: '10.0.0.2', port: 445 }, { host: '10.0.0.1', port: 445 }]);
    // One address, or no answer: the name alone (the connect resolves it and reports the error).
    assert.deepEqual(await candidates(name, [], name, async () => ['10.0.0.1']), [name]);
    assert.deepEqual(await candidates(name, [], name, async () => { throw new Error('ENOTFOUND'); }), [name]);
  });

  it('connect() validates the servers option', () => {
    assert.throws(() => normalizeConnect('smb://u@h/s', { servers: 'h2' as unknown as string[] }), /"servers" must be a string\[\]/);
    assert.throws(() => normalizeConnect('smb://u@h/s', { servers: ['h2:x:y'] }), /option "servers": bad server address/);
    assert.deepEqual(normalizeConnect('smb://u@h/s', { servers: ['h2:446'] }).options.servers, ['h2:446']);
  });
});
