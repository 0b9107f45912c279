/**
 * The optional native AEAD addon (native/aead, built by scripts/build-native.mjs at install time):
 * AES-GCM/CCM, GMAC and CMAC on node's own OpenSSL, writing into buffers the caller owns.
 *
 * node:crypto returns a fresh Buffer from every update(); for 8 MiB SMB2 messages those fresh
 * regions page-fault and cost more than the AES (measured 0.3 GiB/s for one 8 MiB update against
 * 3.4 GB/s for `openssl speed` on this CPU). When the addon is missing (no compiler, not Linux,
 * SMBTS_SKIP_NATIVE=1) or SMBTS_NO_NATIVE_CRYPTO=1, callers use their node:crypto paths.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An OpenSSL decryption context held by the addon (opaque). */
export type GcmStream = { readonly __gcmStream: unique symbol };

/** A streaming MAC context held by the addon (opaque). */
export type MacStream = { readonly __macStream: unique symbol };

export interface AeadBinding {
  /** Encrypts `parts` into dst[dstOffset..] (AES-128/256-GCM by key length); tag -> `tag`. */
  gcmSeal(key: Buffer, nonce: Buffer, aad: Buffer, parts: Buffer | Buffer[], dst: Buffer, dstOffset: number, tag: Buffer): void;
  /** gcmSeal on a libuv pool thread; `cb(null)` when done. The buffers must not change meanwhile. */
  gcmSealAsync(key: Buffer, nonce: Buffer, aad: Buffer, parts: Buffer | Buffer[], dst: Buffer, dstOffset: number, tag: Buffer, cb: (err: Error | null) => void): void;
  /** Decrypts `data` in place; false (and `data` zeroed) when the tag does not match. */
  gcmOpen(key: Buffer, nonce: Buffer, aad: Buffer, data: Buffer, tag: Buffer): boolean;
  /** Streaming GCM decryption in place: start, update with consecutive pieces, final (tag check). */
  gcmOpenStart(key: Buffer, nonce: Buffer, aad: Buffer): GcmStream;
  gcmOpenUpdate(ctx: GcmStream, data: Buffer): void;
  /** Verifies the tag and frees the context; false when it does not match. */
  gcmOpenFinal(ctx: GcmStream, tag: Buffer): boolean;
  ccmSeal(key: Buffer, nonce: Buffer, aad: Buffer, parts: Buffer | Buffer[], dst: Buffer, dstOffset: number, tag: Buffer): void;
  ccmOpen(key: Buffer, nonce: Buffer, aad: Buffer, data: Buffer, tag: Buffer): boolean;
  /** GCM tag over `parts` as additional data, no plaintext (SMB2 AES-GMAC signing). */
  gmac(key: Buffer, nonce: Buffer, parts: Buffer | Buffer[], tag: Buffer): void;
  /** Streaming MAC of a frame still arriving: "gmac" (12-byte nonce) or "cmac" (nonce ignored). */
  macStart(kind: 'gmac' | 'cmac', key: Buffer, nonce: Buffer): MacStream;
  macUpdate(ctx: MacStream, data: Buffer): void;
  /** Writes the 16-byte MAC and frees the context. */
  macFinal(ctx: MacStream, out: Buffer): void;
  /** AES-128-CMAC over `parts` (SMB2 AES-CMAC signing). */
  cmac(key: Buffer, parts: Buffer | Buffer[], mac: Buffer): void;
}

/** Parts per call the addon accepts (longer lists are joined first). */
export const NATIVE_MAX_PARTS = 64;

let loaded: { binding?: AeadBinding; reason?: string } | undefined;

function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const rel = join('native', 'aead', 'build', 'Release', 'aead.node');
  const out: string[] = [];
  for (let d = here, i = 0; i < 5; i++, d = dirname(d)) out.push(join(d, rel));
  return out;
}

function load(): { binding?: AeadBinding; reason?: string } {
  if (loaded) return loaded;
  if (process.env.SMBTS_NO_NATIVE_CRYPTO === '1') return (loaded = { reason: 'disabled by SMBTS_NO_NATIVE_CRYPTO=1' });
  const file = candidates().find((p) => existsSync(p));
  if (!file) return (loaded = { reason: 'native aead addon not built (native/aead; see scripts/build-native.mjs)' });
  try {
    const b = createRequire(import.meta.url)(file) as Partial<AeadBinding>;
    for (const k of ['gcmSeal', 'gcmSealAsync', 'gcmOpen', 'gcmOpenStart', 'gcmOpenUpdate', 'gcmOpenFinal', 'macStart', 'macUpdate', 'macFinal', 'ccmSeal', 'ccmOpen', 'gmac', 'cmac'] as const) {
      if (typeof b[k] !== 'function') return (loaded = { reason: `${file} is not the smbts aead addon` });
    }
    return (loaded = { binding: b as AeadBinding });
  } catch (e) {
    return (loaded = { reason: `cannot load ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
  }
}

/** The addon, or undefined when unavailable. */
export function aeadBinding(): AeadBinding | undefined {
  return load().binding;
}

/** Why the addon is unavailable (undefined when it is available). */
export function aeadUnavailableReason(): string | undefined {
  return load().reason;
}

/** @internal tests: use (or stop using) the addon regardless of the environment. */
export function setAeadForTests(b: AeadBinding | undefined): void {
  loaded = b ? { binding: b } : { reason: 'disabled by a test' };
}

/** @internal tests: forget the cached load result. */
export function resetAeadForTests(): void {
  loaded = undefined;
}
