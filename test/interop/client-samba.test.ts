// The smbts client against a real Samba smbd on loopback (see client-suite.ts for the matrix).
import { startSamba, missingTools } from './peers.js';
import { defineClientSuite } from './client-suite.js';

defineClientSuite('client against Samba', (extraGlobal) => startSamba({ extraGlobal }), missingTools(['smbd', 'smbpasswd']));
