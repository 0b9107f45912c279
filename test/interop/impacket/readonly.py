#!/usr/bin/env python3
"""Try to modify a read-only share / a READONLY file through every CREATE disposition x access
x option and every modifying request on what opens (impacket; issue 9 item 1).

Usage: readonly.py HOST PORT SHARE MODE CRED...
  MODE  share: SHARE is `read only = yes`; victim.txt and sub/ exist; nothing may change.
        file:  SHARE is writable; rofile.txt exists with FILE_ATTRIBUTE_READONLY; its data
               may not change (attributes, EAs, security, names may: Windows allows those).
  CRED  user:password ("" or ":" = null session).

Prints "OPEN <cred> <target> <disp> <access> <options> <status>" for every CREATE,
"MOD <cred> <target> <disp> <access> <op>" for every modifying request that SUCCEEDED, and
"DONE" at the end. The TypeScript test checks the statuses, that no MOD line appears, and the
bytes on disk.
"""
import os
import struct
import sys

from impacket.smbconnection import SMBConnection, SessionError as ConnError
from impacket.smb3 import SessionError as Smb3Error
from impacket import smb3structs as s3

host, port, share, mode = sys.argv[1:5]
creds = sys.argv[5:]
port = int(port)
SessionError = (ConnError, Smb3Error)

DISP = {'supersede': 0, 'open': 1, 'create': 2, 'open-if': 3, 'overwrite': 4, 'overwrite-if': 5}
ACCESS = {
    'read-data': 0x1, 'read-attr': 0x80, 'generic-read': 0x80000000, 'max-allowed': 0x02000000, 'none': 0,
    'write-data': 0x2, 'append': 0x4, 'write-attr': 0x100, 'delete': 0x10000, 'write-dac': 0x40000,
    'generic-write': 0x40000000, 'generic-all': 0x10000000,
}
OPTIONS = {'0': 0, 'doc': 0x1000}  # FILE_DELETE_ON_CLOSE
SHARE_ALL = 7
if mode == 'share':
    TARGETS = ['victim.txt', 'sub', 'newfile.txt', 'victim.txt:ads']
else:
    TARGETS = ['rofile.txt', 'rofile.txt:ads']


def code(e):
    c = e.getErrorCode() if hasattr(e, 'getErrorCode') else e.get_error_code()
    return '0x%08x' % (c & 0xffffffff)


def modifications(smb, tid, fid, tag):
    """Every request that changes a file; print the ones that succeed."""
    def attempt(op, fn):
        try:
            fn()
            print(f'MOD {tag} {op}', flush=True)
        except SessionError:
            pass
        except Exception as e:  # noqa: BLE001 - a protocol error is a refusal too
            print(f'NOTE {tag} {op} {type(e).__name__}', flush=True)

    attempt('write', lambda: smb.write(tid, fid, b'X', 0, 1))
    attempt('append', lambda: smb.write(tid, fid, b'X', 0xffffffffffffffff, 1))
    attempt('eof', lambda: smb.setInfo(tid, fid, struct.pack('<Q', 0), s3.SMB2_0_INFO_FILE, 20))
    attempt('allocation', lambda: smb.setInfo(tid, fid, struct.pack('<Q', 0), s3.SMB2_0_INFO_FILE, 19))
    attempt('zero-data', lambda: smb.ioctl(tid, fid, 0x980c8, s3.SMB2_0_IOCTL_IS_FSCTL, struct.pack('<QQ', 0, 1 << 20), 0, 0))

    def copychunk():
        key = smb.ioctl(tid, fid, 0x140078, s3.SMB2_0_IOCTL_IS_FSCTL, b'', 0, 32)[:24]
        chunk = struct.pack('<QQII', 4, 0, 4, 0)
        smb.ioctl(tid, fid, 0x1480f2, s3.SMB2_0_IOCTL_IS_FSCTL, key + struct.pack('<II', 1, 0) + chunk, 0, 12)
    attempt('copychunk', copychunk)
    if mode == 'share':
        attempt('set-sparse', lambda: smb.ioctl(tid, fid, 0x900c4, s3.SMB2_0_IOCTL_IS_FSCTL, b'\x01', 0, 0))
        attempt('basic', lambda: smb.setInfo(tid, fid, struct.pack('<QQQQII', 0, 0, 0, 0, 0x2, 0), s3.SMB2_0_INFO_FILE, 4))
        name = 'renamed.txt'.encode('utf-16-le')
        attempt('rename', lambda: smb.setInfo(tid, fid, struct.pack('<B7xQI', 1, 0, len(name)) + name, s3.SMB2_0_INFO_FILE, 10))
        # NULL DACL (self-relative, DACL_PRESENT): everyone full control.
        attempt('security', lambda: smb.setInfo(tid, fid, struct.pack('<BBHIIII', 1, 0, 0x8004, 0, 0, 0, 0), s3.SMB2_0_INFO_SECURITY, 0, 4))
        attempt('ea', lambda: smb.setInfo(tid, fid, struct.pack('<IBBH', 0, 0, 1, 1) + b'A\x00b', s3.SMB2_0_INFO_FILE, 15))
    # Last: delete disposition, then closing the handle deletes.
    attempt('delete', lambda: smb.setInfo(tid, fid, b'\x01', s3.SMB2_0_INFO_FILE, 13))


def run(cred):
    user, _, password = cred.partition(':')
    label = user or 'null'
    conn = SMBConnection(host, host, sess_port=port, timeout=20)
    conn.login(user, password, 'WORKGROUP')
    tid = conn.connectTree(share)
    smb = conn.getSMBServer()
    for target in TARGETS:
        for dname, disp in DISP.items():
            for aname, acc in ACCESS.items():
                for oname, opt in OPTIONS.items():
                    tag = f'{label} {target} {dname} {aname} {oname}'
                    try:
                        fid = smb.create(tid, target, acc, SHARE_ALL, opt, disp, 0)
                    except SessionError as e:
                        print(f'OPEN {tag} {code(e)}', flush=True)
                        continue
                    print(f'OPEN {tag} ok', flush=True)
                    if not os.environ.get('READONLY_OPENS_ONLY'):  # (to compare statuses with Samba)
                        modifications(smb, tid, fid, tag)
                    try:
                        smb.close(tid, fid)
                    except SessionError:
                        pass
    conn.logoff()


for c in creds:
    try:
        run(c)
    except SessionError as e:
        print(f'SESSION {c.partition(":")[0] or "null"} {code(e)}', flush=True)
print('DONE', flush=True)
