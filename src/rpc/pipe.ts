/**
 * A named pipe endpoint on IPC$ speaking connection-oriented DCE/RPC (C706 ch. 12, MS-RPCE).
 *
 * Byte stream in (SMB2 WRITE / IOCTL FSCTL_PIPE_TRANSCEIVE input), PDUs out. Output is kept as a
 * queue of messages (one PDU each); `read()` never returns bytes from two messages, so the caller
 * can report STATUS_BUFFER_OVERFLOW when `messageRemaining` is non-zero after a read (message-mode
 * pipe semantics, MS-SMB2 3.3.5.12 / MS-FSCC 2.3.49).
 */
import { NdrError } from './ndr.js';
import {
  ContextResult, DEFAULT_MAX_FRAG, HEADER_SIZE, NDR20_SYNTAX, NULL_SYNTAX, NcaStatus, PType, PfcFlags,
  ProviderReason, RejectReason, decodeBind, decodeHeader, decodeRequest, encodeBindAck, encodeBindNak, encodeFault,
  encodeResponse, sameSyntax, type ContextResultEntry,
} from './pdu.js';
import type { RpcInterface, RpcServerInfo } from './iface.js';
import { srvsvc } from './srvsvc.js';
import { wkssvc } from './wkssvc.js';

export type { RpcServerInfo } from './iface.js';

const INTERFACES: Record<string, RpcInterface> = { srvsvc, wkssvc };

/** Maximum reassembled request stub size (bounded to protect memory). */
export const MAX_REQUEST_SIZE = 4 * 1024 * 1024;
/** Bound on buffered, unread output. Further calls are answered with a fault until it drains. */
export const MAX_PENDING_OUTPUT = 8 * 1024 * 1024;

function pipeKey(name: string): string {
  // accept "srvsvc", "\srvsvc", "\PIPE\srvsvc", any case
  return name.replace(/^[\\/]+/, '').replace(/^pipe[\\/]/i, '').toLowerCase();
}

/** True for the pipe names this server answers (as opened by SMB2 CREATE on IPC$, e.g. "srvsvc"). */
export function isKnownPipe(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(INTERFACES, pipeKey(name));
}

/** Names of all served pipes. */
export function knownPipes(): string[] {
  return Object.keys(INTERFACES);
}

let nextAssocGroup = 0x1234;

interface PendingCall {
  callId: number;
  contextId: number;
  opnum: number;
  parts: Buffer[];
  size: number;
}

export class RpcPipe {
  readonly name: string;
  private readonly iface: RpcInterface;
  private input: Buffer = Buffer.alloc(0);
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  /** context id -> bound */
  private readonly contexts = new Map<number, RpcInterface>();
  private assocGroupId = 0;
  private maxXmitFrag = DEFAULT_MAX_FRAG;
  private maxRecvFrag = DEFAULT_MAX_FRAG;
  private pending: PendingCall | undefined;

  constructor(name: string, private readonly info: RpcServerInfo) {
    const key = pipeKey(name);
    const iface = INTERFACES[key];
    if (!iface) throw new Error(`unknown pipe ${name}`);
    this.name = key;
    this.iface = iface;
  }

  /** Total bytes waiting to be read. */
  get pendingOutput(): number {
    return this.outBytes;
  }

  /** Bytes left in the message at the head of the output queue. */
  get messageRemaining(): number {
    return this.out[0]?.length ?? 0;
  }

  /** Feed bytes written by the client. Never throws: protocol errors become fault/nak PDUs. */
  write(data: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, data]) : Buffer.from(data);
    while (this.input.length >= HEADER_SIZE) {
      const fragLength = this.input.readUInt16LE(8);
      if (this.input[0] !== 5 || fragLength < HEADER_SIZE) {
        // Garbage: drop everything buffered and report a protocol error.
        this.input = Buffer.alloc(0);
        this.pending = undefined;
        this.emit(encodeFault(0, 0, NcaStatus.PROTO_ERROR));
        return;
      }
      if (this.input.length < fragLength) return;
      const pdu = this.input.subarray(0, fragLength);
      this.input = this.input.subarray(fragLength);
      this.handlePdu(pdu);
    }
  }

  /** Next pending output bytes, at most maxLength, never spanning two messages. */
  read(maxLength: number): Buffer | undefined {
    const head = this.out[0];
    if (!head || maxLength <= 0) return undefined;
    if (head.length <= maxLength) {
      this.out.shift();
      this.outBytes -= head.length;
      return head;
    }
    const part = head.subarray(0, maxLength);
    this.out[0] = head.subarray(maxLength);
    this.outBytes -= maxLength;
    return part;
  }

  /** FSCTL_PIPE_TRANSCEIVE: write then read. Returns an empty buffer if nothing was produced. */
  transceive(input: Buffer, maxOutput: number): Buffer {
    this.write(input);
    return this.read(maxOutput) ?? Buffer.alloc(0);
  }

  private emit(pdu: Buffer): void {
    this.out.push(pdu);
    this.outBytes += pdu.length;
  }

  private handlePdu(pdu: Buffer): void {
    let callId = 0;
    try {
      const h = decodeHeader(pdu);
      callId = h.callId;
      switch (h.ptype) {
        case PType.BIND:
        case PType.ALTER_CONTEXT:
          this.handleBind(pdu, h.ptype === PType.ALTER_CONTEXT);
          return;
        case PType.REQUEST:
          this.handleRequest(pdu);
          return;
        case PType.AUTH3:
        case PType.CO_CANCEL:
        case PType.ORPHANED:
          if (h.ptype === PType.ORPHANED && this.pending?.callId === h.callId) this.pending = undefined;
          return; // no response defined
        default:
          this.emit(encodeFault(callId, 0, NcaStatus.PROTO_ERROR));
      }
    } catch (e) {
      this.emit(encodeFault(callId, 0, e instanceof NdrError ? NcaStatus.PROTO_ERROR : NcaStatus.FAULT_OTHER));
    }
  }

  private handleBind(pdu: Buffer, alter: boolean): void {
    const b = decodeBind(pdu);
    if (!alter && b.header.authLength) {
      // Authenticated binds are not supported on these pipes (the SMB session already authenticates).
      this.emit(encodeBindNak(b.header.callId, RejectReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED));
      return;
    }
    if (b.header.rpcVersMinor > 1) {
      this.emit(encodeBindNak(b.header.callId, RejectReason.PROTOCOL_VERSION_NOT_SUPPORTED));
      return;
    }
    if (!alter) {
      // C706 12.6.4.3: max_xmit/max_recv are negotiated down to what both sides support.
      this.maxXmitFrag = Math.max(1432, Math.min(b.maxRecvFrag || DEFAULT_MAX_FRAG, DEFAULT_MAX_FRAG));
      this.maxRecvFrag = Math.max(1432, Math.min(b.maxXmitFrag || DEFAULT_MAX_FRAG, DEFAULT_MAX_FRAG));
      this.assocGroupId = b.assocGroupId || nextAssocGroup++;
    }
    const results: ContextResultEntry[] = b.contexts.map((c) => {
      const reject = (reason: number): ContextResultEntry => ({ result: ContextResult.PROVIDER_REJECTION, reason, transferSyntax: NULL_SYNTAX });
      if (c.abstractSyntax.uuid !== this.iface.syntax.uuid || c.abstractSyntax.versionMajor !== this.iface.syntax.versionMajor ||
          c.abstractSyntax.versionMinor > this.iface.syntax.versionMinor) {
        return reject(ProviderReason.ABSTRACT_SYNTAX_NOT_SUPPORTED);
      }
      // Only NDR20. NDR64 and bind-time feature negotiation (MS-RPCE 3.3.1.5.3) are declined, which
      // makes clients fall back to the NDR20 context they propose alongside.
      const ndr = c.transferSyntaxes.find((t) => sameSyntax(t, NDR20_SYNTAX));
      if (!ndr) {
        return reject(ProviderReason.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED);
      }
      this.contexts.set(c.contextId, this.iface);
      return { result: ContextResult.ACCEPTANCE, reason: 0, transferSyntax: NDR20_SYNTAX };
    });
    this.emit(encodeBindAck({
      callId: b.header.callId,
      maxXmitFrag: this.maxXmitFrag,
      maxRecvFrag: this.maxRecvFrag,
      assocGroupId: this.assocGroupId,
      // MS-RPCE 2.2.2.4 / C706: secondary address is the pipe path in bind_ack, empty in alter_context_resp
      secondaryAddress: alter ? '' : `\\PIPE\\${this.name}`,
      results,
      alter,
    }));
  }

  private handleRequest(pdu: Buffer): void {
    const req = decodeRequest(pdu);
    const h = req.header;
    if (h.flags & PfcFlags.FIRST_FRAG) {
      this.pending = { callId: h.callId, contextId: req.contextId, opnum: req.opnum, parts: [], size: 0 };
    } else if (!this.pending || this.pending.callId !== h.callId) {
      this.emit(encodeFault(h.callId, req.contextId, NcaStatus.PROTO_ERROR));
      this.pending = undefined;
      return;
    }
    const call = this.pending!;
    call.size += req.stub.length;
    if (call.size > MAX_REQUEST_SIZE) {
      this.pending = undefined;
      this.emit(encodeFault(h.callId, call.contextId, NcaStatus.FAULT_REMOTE_NO_MEMORY));
      return;
    }
    call.parts.push(Buffer.from(req.stub));
    if (!(h.flags & PfcFlags.LAST_FRAG)) return;
    this.pending = undefined;
    if (this.outBytes > MAX_PENDING_OUTPUT) {
      this.emit(encodeFault(call.callId, call.contextId, NcaStatus.FAULT_REMOTE_NO_MEMORY));
      return;
    }
    const iface = this.contexts.get(call.contextId);
    if (!iface) {
      this.emit(encodeFault(call.callId, call.contextId, NcaStatus.UNK_IF));
      return;
    }
    const stub = call.parts.length === 1 ? call.parts[0]! : Buffer.concat(call.parts);
    let result: Buffer | undefined;
    try {
      result = iface.call(call.opnum, stub, this.info);
    } catch (e) {
      this.emit(encodeFault(call.callId, call.contextId, e instanceof NdrError ? NcaStatus.FAULT_NDR : NcaStatus.FAULT_OTHER));
      return;
    }
    if (result === undefined) {
      this.emit(encodeFault(call.callId, call.contextId, NcaStatus.OP_RNG_ERROR));
      return;
    }
    for (const frag of encodeResponse({ callId: call.callId, contextId: call.contextId, stub: result, maxFrag: this.maxXmitFrag })) {
      this.emit(frag);
    }
  }
}
