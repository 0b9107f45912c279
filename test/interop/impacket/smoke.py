#!/usr/bin/env python3
"""impacket smoke test against an SMB server on loopback.

Usage: smoke.py HOST PORT USER PASS SHARE DIALECT   (DIALECT: auto | 2.1 | 3.0 | 3.1.1 | 3.1.1-fixed)

impacket 0.10's NTLM login() for SMB 3.1.1 starts the session's preauth integrity hash from zeros
instead of the connection's hash (NEGOTIATE request + response), which MS-SMB2 3.2.4.2.3 requires
(its kerberosLogin() does it, smb3.py line 747; login() does not), so every signing key it derives
is wrong and Samba and smbts alike refuse its first signed request. '3.1.1-fixed' applies that one
missing assignment before login to show the rest of its 3.1.1 path works.

Prints one line per step, "STEP <name> ok" or "STEP <name> fail <message>", and exits 0 only
when every step passed. The TypeScript test (server-impacket.test.ts) turns each line into a
subtest.
"""
import hashlib
import io
import os
import sys
import traceback

from impacket.smbconnection import SMBConnection, SessionError
from impacket import smb3structs
from impacket.nt_errors import STATUS_LOGON_FAILURE

host, port, user, password, share, dialect = sys.argv[1:7]
port = int(port)
DIALECTS = {
    'auto': None,
    '2.1': smb3structs.SMB2_DIALECT_21,
    '3.0': smb3structs.SMB2_DIALECT_30,
    '3.1.1': smb3structs.SMB2_DIALECT_311,
    '3.1.1-fixed': smb3structs.SMB2_DIALECT_311,
}
if dialect == '3.1.1-fixed':
    from impacket import smb3
    _login = smb3.SMB3.login

    def _login_with_preauth(self, *args, **kwargs):
        self._Session['PreauthIntegrityHashValue'] = self._Connection['PreauthIntegrityHashValue']
        return _login(self, *args, **kwargs)

    smb3.SMB3.login = _login_with_preauth
failed = 0


def step(name, fn):
    global failed
    try:
        fn()
        print(f'STEP {name} ok', flush=True)
        return True
    except Exception as e:  # noqa: BLE001 - report every failure as a step result
        failed += 1
        msg = f'{type(e).__name__}: {e}'.replace('\n', ' ')
        print(f'STEP {name} fail {msg}', flush=True)
        if os.environ.get('SMOKE_DEBUG'):
            traceback.print_exc()
        return False


def connect():
    return SMBConnection(host, host, sess_port=port, preferredDialect=DIALECTS[dialect], timeout=20)


conn = None
tag = 'imp_' + dialect.replace('.', '') + '_' + os.urandom(3).hex()
payload = os.urandom(300_000 + 7)


def s_login():
    global conn
    conn = connect()
    conn.login(user, password, 'WORKGROUP')


def s_dialect():
    d = conn.getDialect()
    want = DIALECTS[dialect]
    if want is not None and d != want:
        raise AssertionError(f'negotiated 0x{d:04x}, wanted 0x{want:04x}')


def s_list_shares():
    names = [s['shi1_netname'][:-1] for s in conn.listShares()]
    if share not in names:
        raise AssertionError(f'{share} not in {names}')


def s_mkdir():
    conn.createDirectory(share, tag)


def s_put():
    conn.putFile(share, f'{tag}\\data.bin', io.BytesIO(payload).read)


def s_get():
    out = io.BytesIO()
    conn.getFile(share, f'{tag}\\data.bin', out.write)
    got = out.getvalue()
    if hashlib.sha256(got).digest() != hashlib.sha256(payload).digest():
        raise AssertionError(f'content differs: {len(got)} bytes back, {len(payload)} sent')


def s_list_path():
    names = [f.get_longname() for f in conn.listPath(share, f'{tag}\\*')]
    if 'data.bin' not in names:
        raise AssertionError(f'data.bin not in {names}')


def s_rename():
    conn.rename(share, f'{tag}\\data.bin', f'{tag}\\renamed.bin')
    names = [f.get_longname() for f in conn.listPath(share, f'{tag}\\*')]
    if 'renamed.bin' not in names or 'data.bin' in names:
        raise AssertionError(f'after rename: {names}')


def s_delete_file():
    conn.deleteFile(share, f'{tag}\\renamed.bin')


def s_delete_dir():
    conn.deleteDirectory(share, tag)
    names = [f.get_longname() for f in conn.listPath(share, '*')]
    if tag in names:
        raise AssertionError(f'{tag} still listed')


def s_logoff():
    conn.logoff()
    conn.close()


def s_wrong_password():
    c = connect()
    try:
        c.login(user, password + 'x', 'WORKGROUP')
    except SessionError as e:
        if e.getErrorCode() != STATUS_LOGON_FAILURE:
            raise AssertionError(f'expected STATUS_LOGON_FAILURE, got 0x{e.getErrorCode():08x}')
        return
    finally:
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass
    raise AssertionError('login with a wrong password succeeded')


if step('login', s_login):
    step('dialect', s_dialect)
    step('listShares', s_list_shares)
    if step('createDirectory', s_mkdir):
        if step('putFile', s_put):
            step('getFile', s_get)
            step('listPath', s_list_path)
            if step('rename', s_rename):
                step('deleteFile', s_delete_file)
        step('deleteDirectory', s_delete_dir)
    step('logoff', s_logoff)
step('wrongPassword', s_wrong_password)
sys.exit(1 if failed else 0)
