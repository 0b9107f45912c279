// Security modes the bench runs every transfer in, and how each client asks for them.

export type Mode = 'plain' | 'sign-cmac' | 'sign-gmac' | 'enc-gcm' | 'enc-ccm';

export const ALL_MODES: Mode[] = ['plain', 'sign-cmac', 'sign-gmac', 'enc-gcm', 'enc-ccm'];

export const MODE_LABEL: Record<Mode, string> = {
  plain: 'plain',
  'sign-cmac': 'signed AES-128-CMAC',
  'sign-gmac': 'signed AES-128-GMAC',
  'enc-gcm': 'encrypted AES-128-GCM',
  'enc-ccm': 'encrypted AES-128-CCM',
};

/** smbclient (Samba 4.15+) options for a mode. */
export function smbclientModeArgs(mode: Mode): string[] {
  switch (mode) {
    case 'plain':
      return ['--client-protection=off'];
    case 'sign-cmac':
      return ['--client-protection=sign', '--option=client smb3 signing algorithms=AES-128-CMAC'];
    case 'sign-gmac':
      return ['--client-protection=sign', '--option=client smb3 signing algorithms=AES-128-GMAC'];
    case 'enc-gcm':
      return ['--client-protection=encrypt', '--option=client smb3 encryption algorithms=AES-128-GCM'];
    case 'enc-ccm':
      return ['--client-protection=encrypt', '--option=client smb3 encryption algorithms=AES-128-CCM'];
  }
}

export function parseModes(v: string | undefined): Mode[] {
  if (!v) return ALL_MODES;
  const out: Mode[] = [];
  for (const m of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(ALL_MODES as string[]).includes(m)) throw new Error(`unknown mode ${m}; known: ${ALL_MODES.join(',')}`);
    out.push(m as Mode);
  }
  return out;
}
