// What stat() and readdir() hand back, shaped like node:fs Stats and Dirent: isFile()/isDirectory()
// are methods, times come as Date and as *Ms numbers, `name` is always the base name and `path`
// the share-relative path ('/a/b.txt').
import { FileAttributes } from '../wire/constants.js';
import { filetimeToMs } from '../wire/buf.js';

/** The FILE_*_INFORMATION fields a Stats is made of (MS-FSCC 2.4.29 / 2.4.10 / 2.2.14). */
export interface FileTimesAndSize {
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  endOfFile: bigint;
  allocationSize: bigint;
  fileAttributes: number;
}

/** '/a/b.txt' -> 'b.txt'; the share root '/' -> ''. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

export class Dirent {
  /** Entry name. */
  readonly name: string;
  /** Share-relative path of the directory listed ('/' for the root). */
  readonly parentPath: string;
  /** MS-FSCC 2.6 FILE_ATTRIBUTE_* bits. */
  readonly attributes: number;

  constructor(name: string, parentPath: string, attributes: number) {
    this.name = name;
    this.parentPath = parentPath;
    this.attributes = attributes;
  }

  /** Share-relative path of the entry. */
  get path(): string {
    return this.parentPath === '/' ? `/${this.name}` : `${this.parentPath}/${this.name}`;
  }

  isDirectory(): boolean { return (this.attributes & FileAttributes.DIRECTORY) !== 0; }
  isFile(): boolean { return !this.isDirectory(); }
  /** A reparse point (a symlink or junction the server shows as such). */
  isSymbolicLink(): boolean { return (this.attributes & FileAttributes.REPARSE_POINT) !== 0; }
}

export class Stats extends Dirent {
  readonly size: number;
  readonly allocationSize: number;
  readonly birthtimeMs: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;

  constructor(path: string, v: FileTimesAndSize) {
    const i = path.lastIndexOf('/');
    super(baseName(path), i > 0 ? path.slice(0, i) : '/', v.fileAttributes);
    this.size = Number(v.endOfFile);
    this.allocationSize = Number(v.allocationSize);
    this.birthtimeMs = filetimeToMs(v.creationTime);
    this.atimeMs = filetimeToMs(v.lastAccessTime);
    this.mtimeMs = filetimeToMs(v.lastWriteTime);
    this.ctimeMs = filetimeToMs(v.changeTime);
  }

  override get path(): string {
    return this.name === '' ? '/' : super.path;
  }

  get birthtime(): Date { return new Date(this.birthtimeMs); }
  get atime(): Date { return new Date(this.atimeMs); }
  get mtime(): Date { return new Date(this.mtimeMs); }
  get ctime(): Date { return new Date(this.ctimeMs); }
}
