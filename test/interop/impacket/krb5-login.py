# impacket's Kerberos login (SMBConnection.kerberosLogin with the ccache in KRB5CCNAME) against
# smbts, then a directory listing and a small put/get. The ccache must already hold the cifs
# ticket (kvno), since impacket only talks to KDCs on port 88.
# usage: krb5-login.py HOSTNAME PORT USER REALM
import io
import sys

from impacket.smbconnection import SMBConnection

host, port, user, realm = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = SMBConnection(host, '127.0.0.1', sess_port=port)
conn.kerberosLogin(user, '', realm, useCache=True)
names = sorted(f.get_longname() for f in conn.listPath('share', '*'))
conn.putFile('share', 'impacket-krb5.txt', io.BytesIO(b'impacket kerberos').read)
out = io.BytesIO()
conn.getFile('share', 'impacket-krb5.txt', out.write)
assert out.getvalue() == b'impacket kerberos', out.getvalue()
print('LISTED', ' '.join(names))
print('OK signing=%s' % conn.isSigningRequired())
conn.logoff()
