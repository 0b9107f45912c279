#!/usr/bin/env python3
"""Give FILE on SHARE a DACL that denies Everyone everything (SET_INFO security, impacket).

Usage: deny-all.py HOST PORT USER PASS SHARE FILE   -> prints "ok" or the error.
"""
import struct
import sys

from impacket.smbconnection import SMBConnection
from impacket import smb3structs as s3

host, port, user, password, share, name = sys.argv[1:7]
everyone = struct.pack('<BB6sI', 1, 1, b'\x00' * 5 + b'\x01', 0)  # S-1-1-0
ace = struct.pack('<BBHI', 1, 0, 8 + len(everyone), 0x001f01ff) + everyone  # ACCESS_DENIED_ACE
acl = struct.pack('<BBHHH', 2, 0, 8 + len(ace), 1, 0) + ace
sd = struct.pack('<BBHIIII', 1, 0, 0x8004, 0, 0, 0, 20) + acl  # self-relative, DACL_PRESENT
conn = SMBConnection(host, host, sess_port=int(port), timeout=20)
conn.login(user, password, 'WORKGROUP')
tid = conn.connectTree(share)
smb = conn.getSMBServer()
fid = smb.create(tid, name, 0x00040000 | 0x00020000, 7, 0, 1, 0)  # WRITE_DAC | READ_CONTROL, FILE_OPEN
smb.setInfo(tid, fid, sd, s3.SMB2_0_INFO_SECURITY, 0, 4)  # DACL_SECURITY_INFORMATION
smb.close(tid, fid)
print('ok')
