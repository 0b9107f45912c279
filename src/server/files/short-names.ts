// 8.3 names (MS-FSCC 2.1.5.2.1) for FileBothDirectoryInformation and FileAlternateNameInformation.
// Valid 8.3 names are reported as themselves (upper-cased); others get a stable hash-mangled name
// "XXXXXX~N.EXT" so the two views agree (smb2.dir.one compares them).
const VALID = /^[A-Za-z0-9!#$%&'()\-@^_`{}~]{1,8}(\.[A-Za-z0-9!#$%&'()\-@^_`{}~]{1,3})?$/;

export function shortName(name: string): string {
  if (name === '.' || name === '..') return '';
  if (VALID.test(name)) return name.toUpperCase();
  const dot = name.lastIndexOf('.');
  const base = (dot > 0 ? name.slice(0, dot) : name).toUpperCase().replace(/[^A-Z0-9]/g, '');
  const ext = (dot > 0 ? name.slice(dot + 1) : '').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 3);
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const tag = (h % 1296).toString(36).toUpperCase().padStart(2, '0');
  const stem = (base.slice(0, 4) || 'X') + tag;
  return ext ? `${stem}~1.${ext}` : `${stem}~1`;
}
