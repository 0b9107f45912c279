// Server-side copy (MS-SMB2 3.2.4.20.1 / 3.3.5.15.6): FSCTL_SRV_REQUEST_RESUME_KEY on the source,
// then FSCTL_SRV_COPYCHUNK_WRITE on the target with up to 16 MiB of 1 MiB chunks per request
// (the defaults of 3.3.3: 256 chunks, 1 MiB each, 16 MiB in all). The data never crosses the
// network. A server that answers INVALID_PARAMETER reports its own limits in the
// SRV_COPYCHUNK_RESPONSE (2.2.32.1); we retry within them.
import { Command, Fsctl, IoctlFlags } from '../wire/constants.js';
import { decodeIoctlResponse, encodeIoctlRequest } from '../wire/ioctl.js';
import { decodeCopyChunkResponse, decodeResumeKeyResponse, encodeCopyChunkCopy, type CopyChunk } from '../wire/fsctl.js';
import { Status } from '../wire/status.js';
import { SmbError, checkAbort, parse } from './errors.js';
import { displayPath, type FileHandle } from './file.js';

/** Copies all of `src` (size `size`) into `dst` on the server; resolves with the bytes copied. */
export async function serverCopy(src: FileHandle, dst: FileHandle, size: number, signal?: AbortSignal): Promise<number> {
  const keyRes = await src.tree.request({
    command: Command.IOCTL,
    body: encodeIoctlRequest({
      ctlCode: Fsctl.SRV_REQUEST_RESUME_KEY, fileId: src.fileId, input: Buffer.alloc(0), maxInputResponse: 0,
      maxOutputResponse: 32, flags: IoctlFlags.IS_FSCTL,
    }),
  }, { path: displayPath(src.path) });
  const { resumeKey } = parse(() => decodeResumeKeyResponse(decodeIoctlResponse(keyRes.msg).output), 'SRV_REQUEST_RESUME_KEY');
  let maxChunks = 256;
  let maxChunk = 1024 * 1024;
  let maxTotal = 16 * 1024 * 1024;
  let off = 0;
  for (let shrink = 0; off < size;) {
    checkAbort(signal);
    const chunks: CopyChunk[] = [];
    let total = 0;
    while (off + total < size && chunks.length < maxChunks && total < maxTotal) {
      const length = Math.min(maxChunk, size - off - total, maxTotal - total);
      chunks.push({ sourceOffset: BigInt(off + total), targetOffset: BigInt(off + total), length });
      total += length;
    }
    const res = await dst.tree.request({
      command: Command.IOCTL,
      body: encodeIoctlRequest({
        ctlCode: Fsctl.SRV_COPYCHUNK_WRITE, fileId: dst.fileId, input: encodeCopyChunkCopy({ sourceKey: resumeKey, chunks }),
        maxInputResponse: 0, maxOutputResponse: 12, flags: IoctlFlags.IS_FSCTL,
      }),
    }, { path: displayPath(dst.path), allow: [Status.INVALID_PARAMETER] });
    const out = parse(() => decodeCopyChunkResponse(decodeIoctlResponse(res.msg).output), 'SRV_COPYCHUNK');
    if (res.header.status === Status.INVALID_PARAMETER) {
      // The answer holds the server's limits (chunks, bytes per chunk, bytes per request).
      if (++shrink > 2 || out.chunksWritten === 0 || out.chunkBytesWritten === 0 || out.totalBytesWritten === 0) {
        throw new SmbError(Status.INVALID_PARAMETER, 'server refused the server-side copy', displayPath(dst.path));
      }
      maxChunks = Math.min(maxChunks, out.chunksWritten);
      maxChunk = Math.min(maxChunk, out.chunkBytesWritten);
      maxTotal = Math.min(maxTotal, out.totalBytesWritten);
      continue;
    }
    if (out.totalBytesWritten === 0) throw new SmbError(Status.DISK_FULL, 'server copied nothing', displayPath(dst.path));
    off += out.totalBytesWritten;
  }
  dst.size = Math.max(dst.size, size);
  return size;
}
