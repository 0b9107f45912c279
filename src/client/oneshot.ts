// Path calls of the client that open, act and close in one compound (MS-SMB2 3.2.4.1.4): the
// CREATE, the requests on its handle (FileId 0xFF.., RELATED_OPERATIONS) and the CLOSE go out in
// one frame, so unlink, rmdir, a small writeFile and most readdirs cost one round trip, as with
// Windows and Linux cifs. Only a failed CREATE fails the related members after it (3.3.5.2.7.2):
// a failed SET_INFO or WRITE is still followed by its CLOSE.
import { Access, CreateDisposition, CreateOptions, Command, HeaderFlags } from '../wire/constants.js';
import { RELATED_FILE_ID } from '../wire/common.js';
import { decodeWriteResponse, encodeWriteRequest } from '../wire/write.js';
import { Status } from '../wire/status.js';
import type { SmbRequest, SmbResponse } from './connection.js';
import { SmbError, parse } from './errors.js';
import { closeRequest, createRequest, type CreateParams } from './file.js';
import { addEntries, deletePendingRequest, listBufferLength, queryDirectoryRequest, type DirEntry } from './info.js';
import type { Tree } from './tree.js';

const EMPTY = Buffer.alloc(0);

function related(r: SmbRequest): SmbRequest {
  r.flags = (r.flags ?? 0) | HeaderFlags.RELATED_OPERATIONS;
  return r;
}

/** The CLOSE that ends a chain (the CREATE's handle). */
const relatedClose = (): SmbRequest => closeRequest(RELATED_FILE_ID, false, true);

/** Throws the first member's failure, with `name` (the failed CREATE's status when it was that). */
function check(rs: SmbResponse[], name: string, allow = -1): void {
  for (const r of rs) {
    const st = r.header.status;
    if (st !== Status.SUCCESS && st !== allow) throw new SmbError(st, undefined, name);
  }
}

/**
 * Removes a file: CREATE(DELETE, FILE_DELETE_ON_CLOSE, FILE_NON_DIRECTORY_FILE) + CLOSE. Errors as
 * with an open and a SET_INFO disposition: a directory fails with FILE_IS_A_DIRECTORY, a read-only
 * file with CANNOT_DELETE (MS-FSA 2.1.5.1.2.1), an open without FILE_SHARE_DELETE with
 * SHARING_VIOLATION.
 */
export async function deleteFile(tree: Tree, rel: string, name: string): Promise<void> {
  const rs = await tree.compound([
    createRequest(rel, {
      access: Access.DELETE | Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.OPEN,
      options: CreateOptions.NON_DIRECTORY_FILE | CreateOptions.DELETE_ON_CLOSE,
    }),
    relatedClose(),
  ], { path: name }, false);
  check(rs, name);
}

/**
 * Removes an empty directory: CREATE(DELETE, FILE_DIRECTORY_FILE) + SET_INFO disposition + CLOSE.
 * Not FILE_DELETE_ON_CLOSE at the CREATE: servers accept that on a non-empty directory and then
 * leave it in place at the close without an error (smbts, Windows), where the SET_INFO answers
 * DIRECTORY_NOT_EMPTY.
 */
export async function deleteDirectory(tree: Tree, rel: string, name: string): Promise<void> {
  const rs = await tree.compound([
    createRequest(rel, { access: Access.DELETE | Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.OPEN, options: CreateOptions.DIRECTORY_FILE }),
    related(deletePendingRequest(RELATED_FILE_ID)),
    relatedClose(),
  ], { path: name }, false);
  check(rs, name);
}

/**
 * CREATE (+ one WRITE of all of `data` at 0) + CLOSE: the whole file in one round trip. Resolves
 * with the byte count the server wrote (a server may write less; the caller finishes the rest).
 */
export async function writeWhole(tree: Tree, rel: string, c: CreateParams, data: Buffer, name: string): Promise<number> {
  const reqs: SmbRequest[] = [createRequest(rel, c)];
  if (data.length > 0) {
    const head = encodeWriteRequest({
      offset: 0n, fileId: RELATED_FILE_ID, channel: 0, remainingBytes: 0, flags: 0, data: EMPTY, writeChannelInfo: EMPTY,
    }).subarray(0, 48);
    head.writeUInt32LE(data.length, 4); // Length (2.2.21); DataOffset already 0x70
    reqs.push(related({ command: Command.WRITE, body: [head, data], payloadSize: data.length }));
  }
  reqs.push(relatedClose());
  const rs = await tree.compound(reqs, { path: name }, false);
  check(rs, name);
  return data.length > 0 ? parse(() => decodeWriteResponse(rs[1]!.msg)).count : 0;
}

/**
 * A whole listing in one round trip when it fits in one answer: CREATE + QUERY_DIRECTORY
 * (restart) + QUERY_DIRECTORY + CLOSE. The second QUERY_DIRECTORY answering NO_MORE_FILES proves
 * the first held everything; undefined when it did not (the handle is closed by then: the caller
 * lists the usual way, from the start).
 */
export async function listOnce(tree: Tree, rel: string, name: string): Promise<DirEntry[] | undefined> {
  const outLen = listBufferLength({ tree });
  // Both answers' credits at once (3.2.4.1.5): not on a server that grants fewer.
  if (tree.session.channel().connection.maxPayloadByCredits < 2 * outLen + 2 * 65536) return undefined;
  const rs = await tree.compound([
    createRequest(rel, {
      access: Access.FILE_LIST_DIRECTORY | Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
      disposition: CreateDisposition.OPEN, options: CreateOptions.DIRECTORY_FILE,
    }),
    related(queryDirectoryRequest(RELATED_FILE_ID, true, outLen)),
    related(queryDirectoryRequest(RELATED_FILE_ID, false, outLen)),
    relatedClose(),
  ], { path: name }, false);
  check(rs, name, Status.NO_MORE_FILES);
  const out: DirEntry[] = [];
  if (rs[1]!.header.status === Status.NO_MORE_FILES || addEntries(rs[1]!, out) === 0) return out;
  if (rs[2]!.header.status === Status.NO_MORE_FILES || addEntries(rs[2]!, []) === 0) return out;
  return undefined;
}
