/*
 * smbts native helper: SMB3 AES-GCM/CCM and AES-CMAC without per-call allocations (N-API).
 *
 * node:crypto's update() returns a fresh Buffer for every call; for an 8 MiB SMB2 READ/WRITE that
 * is a new mmap'd region per message whose page faults cost more than the AES itself. These calls
 * encrypt into a buffer the caller owns (a pooled frame) and decrypt in place. The cipher code is
 * node's own OpenSSL (the EVP symbols the node binary exports); nothing else is linked.
 *
 *   gcmSeal(key, nonce, aad, parts[], dst, dstOffset, tag)  encrypts parts -> dst (AES-128/256-GCM by
 *                                                            key length), writes the 16-byte tag
 *   gcmSealAsync(key, nonce, aad, parts[], dst, dstOffset, tag, cb)  gcmSeal on a libuv pool thread;
 *                                                            cb(null) when done (cb(Error) on failure)
 *   gcmOpen(key, nonce, aad, data, tag) -> boolean           decrypts data in place, verifies the tag
 *   ccmSeal / ccmOpen                                        the same for AES-128/256-CCM (11-byte nonce)
 *   gcmOpenStart(key, nonce, aad) -> ctx                     streaming GCM decryption (a frame that is
 *   gcmOpenUpdate(ctx, data)                                 still arriving): decrypts data in place,
 *   gcmOpenFinal(ctx, tag) -> boolean                        verifies the tag and frees the context
 *   gmac(key, nonce, parts[], tag)                           GCM tag over parts as AAD (SMB2 GMAC signing)
 *   macStart(kind, key, nonce) -> ctx                        streaming signature of a frame still
 *   macUpdate(ctx, data)                                     arriving: kind "gmac" (nonce 12 bytes)
 *   macFinal(ctx, out16)                                     or "cmac" (nonce ignored)
 *   cmac(key, parts[], mac)                                  AES-128-CMAC over parts (SMB2 CMAC signing)
 *
 * Arguments are checked (lengths, types); a bad one throws TypeError/RangeError. A tag mismatch is
 * `false`, never an exception. On failure the plaintext area is zeroed (ccmOpen/gcmOpen).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#define MAX_PARTS 64

typedef struct {
  uint8_t *p;
  size_t n;
} span;

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static int get_buf(napi_env env, napi_value v, span *out) {
  bool is;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
    if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  }
  void *data = NULL;
  size_t len = 0;
  if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return 0;
  out->p = (uint8_t *)data;
  out->n = len;
  return 1;
}

/* An array of Buffers (at most MAX_PARTS) or a single Buffer. Returns the count, -1 on error. */
static int get_parts(napi_env env, napi_value v, span *parts, size_t *total) {
  bool arr;
  *total = 0;
  if (napi_is_array(env, v, &arr) != napi_ok) return -1;
  if (!arr) {
    if (!get_buf(env, v, &parts[0])) return -1;
    *total = parts[0].n;
    return 1;
  }
  uint32_t n;
  if (napi_get_array_length(env, v, &n) != napi_ok || n > MAX_PARTS) return -1;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || !get_buf(env, e, &parts[i])) return -1;
    *total += parts[i].n;
  }
  return (int)n;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static const EVP_CIPHER *gcm_for(size_t keylen) {
  return keylen == 16 ? EVP_aes_128_gcm() : keylen == 32 ? EVP_aes_256_gcm() : NULL;
}

static const EVP_CIPHER *ccm_for(size_t keylen) {
  return keylen == 16 ? EVP_aes_128_ccm() : keylen == 32 ? EVP_aes_256_ccm() : NULL;
}

static napi_value bool_value(napi_env env, int b) {
  napi_value r;
  napi_get_boolean(env, b != 0, &r);
  return r;
}

/* ---------------------------------------------------------------- GCM */

/* One seal (GCM or CCM) of parts into dst[off..] with the tag written to tag: the arguments as
 * parsed once, run on the calling thread (gcmSeal, ccmSeal) or on the libuv pool (gcmSealAsync). */
typedef struct {
  napi_async_work work;
  napi_ref keep; /* async: [key, nonce, aad, parts, dst, dstOffset, tag] stay alive */
  napi_ref cb;
  int ccm;
  const EVP_CIPHER *cipher;
  span key, nonce, aad, dst, tag, parts[MAX_PARTS];
  int np;
  size_t total;
  uint32_t off;
  int ok;
} seal_job;

/* Parses (key, nonce, aad, parts, dst, dstOffset, tag); returns NULL, or an error already thrown. */
static int parse_seal(napi_env env, napi_value *a, seal_job *j, const char *name) {
  char msg[96];
  if (!get_buf(env, a[0], &j->key) || !get_buf(env, a[1], &j->nonce) || !get_buf(env, a[2], &j->aad) ||
      !get_buf(env, a[4], &j->dst) || !get_u32(env, a[5], &j->off) || !get_buf(env, a[6], &j->tag)) {
    snprintf(msg, sizeof msg, "%s: bad argument", name);
    throw_type(env, msg);
    return 0;
  }
  j->np = get_parts(env, a[3], j->parts, &j->total);
  if (j->np < 0) {
    snprintf(msg, sizeof msg, "%s: parts must be a Buffer or an array of at most 64 Buffers", name);
    throw_type(env, msg);
    return 0;
  }
  j->cipher = j->ccm ? ccm_for(j->key.n) : gcm_for(j->key.n);
  const char *bad = NULL;
  if (!j->cipher) bad = "key must be 16 or 32 bytes";
  else if (j->nonce.n != (j->ccm ? 11u : 12u)) bad = j->ccm ? "nonce must be 11 bytes" : "nonce must be 12 bytes";
  else if (j->tag.n < 16) bad = "tag must be 16 bytes";
  else if (j->off > j->dst.n || j->dst.n - j->off < j->total || j->total > INT32_MAX) bad = "dst too small";
  if (bad) {
    snprintf(msg, sizeof msg, "%s: %s", name, bad);
    throw_range(env, msg);
    return 0;
  }
  return 1;
}

static int seal_run(seal_job *j) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  uint8_t *w = j->dst.p + j->off;
  int outl = 0;
  int ok = ctx != NULL;
  if (j->ccm) {
    /* CCM takes its plaintext in one update: the parts are gathered into dst, sealed there. */
    uint8_t *g = w;
    for (int i = 0; i < j->np; i++) {
      if (j->parts[i].n && j->parts[i].p != g) memmove(g, j->parts[i].p, j->parts[i].n);
      g += j->parts[i].n;
    }
    if (ok) ok = EVP_EncryptInit_ex(ctx, j->cipher, NULL, NULL, NULL) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, 11, NULL) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, 16, NULL) == 1;
    if (ok) ok = EVP_EncryptInit_ex(ctx, NULL, NULL, j->key.p, j->nonce.p) == 1;
    if (ok) ok = EVP_EncryptUpdate(ctx, NULL, &outl, NULL, (int)j->total) == 1;
    if (ok && j->aad.n) ok = EVP_EncryptUpdate(ctx, NULL, &outl, j->aad.p, (int)j->aad.n) == 1;
    if (ok) ok = EVP_EncryptUpdate(ctx, w, &outl, w, (int)j->total) == 1;
    if (ok) ok = EVP_EncryptFinal_ex(ctx, w + j->total, &outl) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_GET_TAG, 16, j->tag.p) == 1;
  } else {
    if (ok) ok = EVP_EncryptInit_ex(ctx, j->cipher, NULL, j->key.p, j->nonce.p) == 1;
    if (ok && j->aad.n) ok = EVP_EncryptUpdate(ctx, NULL, &outl, j->aad.p, (int)j->aad.n) == 1;
    for (int i = 0; ok && i < j->np; i++) {
      if (j->parts[i].n == 0) continue;
      ok = EVP_EncryptUpdate(ctx, w, &outl, j->parts[i].p, (int)j->parts[i].n) == 1;
      w += outl;
    }
    if (ok) ok = EVP_EncryptFinal_ex(ctx, w, &outl) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, j->tag.p) == 1;
  }
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

static napi_value seal_sync(napi_env env, napi_callback_info info, int ccm, const char *name) {
  size_t argc = 7;
  napi_value a[7];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 7) return throw_type(env, "seal(key, nonce, aad, parts, dst, dstOffset, tag)");
  seal_job j;
  memset(&j, 0, sizeof j);
  j.ccm = ccm;
  if (!parse_seal(env, a, &j, name)) return NULL;
  if (!seal_run(&j)) return throw_range(env, ccm ? "ccmSeal: OpenSSL error" : "gcmSeal: OpenSSL error");
  return NULL;
}

/* gcmSeal(key, nonce12, aad, parts, dst, dstOffset, tag16) */
static napi_value GcmSeal(napi_env env, napi_callback_info info) {
  return seal_sync(env, info, 0, "gcmSeal");
}

/* ccmSeal(key, nonce11, aad, parts, dst, dstOffset, tag16) */
static napi_value CcmSeal(napi_env env, napi_callback_info info) {
  return seal_sync(env, info, 1, "ccmSeal");
}

static void seal_execute(napi_env env, void *data) {
  seal_job *j = (seal_job *)data;
  j->ok = seal_run(j);
}

static void seal_complete(napi_env env, napi_status status, void *data) {
  seal_job *j = (seal_job *)data;
  napi_value cb, undef, arg;
  napi_get_undefined(env, &undef);
  if (status == napi_ok && j->ok) {
    napi_get_null(env, &arg);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "gcmSealAsync: OpenSSL error", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &arg);
  }
  if (napi_get_reference_value(env, j->cb, &cb) == napi_ok) napi_call_function(env, undef, cb, 1, &arg, NULL);
  napi_delete_reference(env, j->cb);
  napi_delete_reference(env, j->keep);
  napi_delete_async_work(env, j->work);
  free(j);
}

/* gcmSealAsync(key, nonce12, aad, parts, dst, dstOffset, tag16, cb): gcmSeal on the libuv pool */
static napi_value GcmSealAsync(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 8) return throw_type(env, "gcmSealAsync(key, nonce, aad, parts, dst, dstOffset, tag, cb)");
  napi_valuetype t;
  if (napi_typeof(env, a[7], &t) != napi_ok || t != napi_function) return throw_type(env, "gcmSealAsync: cb must be a function");
  seal_job *j = (seal_job *)calloc(1, sizeof(seal_job));
  if (!j) return throw_range(env, "gcmSealAsync: out of memory");
  if (!parse_seal(env, a, j, "gcmSealAsync")) {
    free(j);
    return NULL;
  }
  napi_value keep, resname;
  napi_create_array_with_length(env, 7, &keep);
  for (uint32_t i = 0; i < 7; i++) napi_set_element(env, keep, i, a[i]);
  napi_create_reference(env, keep, 1, &j->keep);
  napi_create_reference(env, a[7], 1, &j->cb);
  napi_create_string_utf8(env, "smbts.gcmSeal", NAPI_AUTO_LENGTH, &resname);
  if (napi_create_async_work(env, NULL, resname, seal_execute, seal_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    napi_delete_reference(env, j->keep);
    napi_delete_reference(env, j->cb);
    free(j);
    return throw_range(env, "gcmSealAsync: cannot queue work");
  }
  return NULL;
}

/* In-place open of data with key/nonce/aad/tag: GCM or CCM. false (and data zeroed) on a bad tag. */
static napi_value open_sync(napi_env env, napi_callback_info info, int ccm, const char *name) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  char msg[96];
  span key, nonce, aad, data, tag;
  if (argc < 5 || !get_buf(env, a[0], &key) || !get_buf(env, a[1], &nonce) || !get_buf(env, a[2], &aad) ||
      !get_buf(env, a[3], &data) || !get_buf(env, a[4], &tag)) {
    snprintf(msg, sizeof msg, "%s(key, nonce, aad, data, tag): bad argument", name);
    return throw_type(env, msg);
  }
  const EVP_CIPHER *c = ccm ? ccm_for(key.n) : gcm_for(key.n);
  const char *bad = NULL;
  if (!c) bad = "key must be 16 or 32 bytes";
  else if (nonce.n != (ccm ? 11u : 12u)) bad = ccm ? "nonce must be 11 bytes" : "nonce must be 12 bytes";
  else if (tag.n != 16) bad = "tag must be 16 bytes";
  else if (data.n > INT32_MAX) bad = "data too large";
  if (bad) {
    snprintf(msg, sizeof msg, "%s: %s", name, bad);
    return throw_range(env, msg);
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl = 0;
  int ok = ctx != NULL;
  if (ccm) {
    if (ok) ok = EVP_DecryptInit_ex(ctx, c, NULL, NULL, NULL) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, 11, NULL) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, 16, tag.p) == 1;
    if (ok) ok = EVP_DecryptInit_ex(ctx, NULL, NULL, key.p, nonce.p) == 1;
    if (ok) ok = EVP_DecryptUpdate(ctx, NULL, &outl, NULL, (int)data.n) == 1;
    if (ok && aad.n) ok = EVP_DecryptUpdate(ctx, NULL, &outl, aad.p, (int)aad.n) == 1;
    /* CCM verifies the tag inside this update (there is no separate final step) */
    if (ok) ok = EVP_DecryptUpdate(ctx, data.p, &outl, data.p, (int)data.n) == 1;
  } else {
    if (ok) ok = EVP_DecryptInit_ex(ctx, c, NULL, key.p, nonce.p) == 1;
    if (ok && aad.n) ok = EVP_DecryptUpdate(ctx, NULL, &outl, aad.p, (int)aad.n) == 1;
    if (ok && data.n) ok = EVP_DecryptUpdate(ctx, data.p, &outl, data.p, (int)data.n) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.p) == 1;
    if (ok) ok = EVP_DecryptFinal_ex(ctx, data.p + data.n, &outl) == 1;
  }
  EVP_CIPHER_CTX_free(ctx);
  if (!ok && data.n) memset(data.p, 0, data.n);
  return bool_value(env, ok);
}

/* gcmOpen(key, nonce12, aad, data, tag16) -> boolean; data is decrypted in place */
static napi_value GcmOpen(napi_env env, napi_callback_info info) {
  return open_sync(env, info, 0, "gcmOpen");
}

/* ccmOpen(key, nonce11, aad, data, tag16) -> boolean; in place */
static napi_value CcmOpen(napi_env env, napi_callback_info info) {
  return open_sync(env, info, 1, "ccmOpen");
}

/* ---------------------------------------------------------------- streaming GCM open */

/* Contexts handed to JS as Externals start with a tag, so one of the wrong kind is refused. */
#define GCM_STREAM_TAG 0x67636d73u /* "gcms" */
#define MAC_STREAM_TAG 0x6d616373u /* "macs" */

/* The context behind External `v` when it carries `tag`, else NULL. */
static void *get_tagged(napi_env env, napi_value v, uint32_t tag) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) return NULL;
  return *(uint32_t *)p == tag ? p : NULL;
}

typedef struct {
  uint32_t tag;
  EVP_CIPHER_CTX *ctx;
} gcm_stream;

static void gcm_stream_free(napi_env env, void *data, void *hint) {
  gcm_stream *st = (gcm_stream *)data;
  if (st->ctx) EVP_CIPHER_CTX_free(st->ctx);
  free(st);
}

/* gcmOpenStart(key, nonce12, aad) -> External */
static napi_value GcmOpenStart(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 3) return throw_type(env, "gcmOpenStart(key, nonce, aad)");
  span key, nonce, aad;
  if (!get_buf(env, a[0], &key) || !get_buf(env, a[1], &nonce) || !get_buf(env, a[2], &aad)) return throw_type(env, "gcmOpenStart: bad argument");
  const EVP_CIPHER *c = gcm_for(key.n);
  if (!c) return throw_range(env, "gcmOpenStart: key must be 16 or 32 bytes");
  if (nonce.n != 12) return throw_range(env, "gcmOpenStart: nonce must be 12 bytes");
  gcm_stream *st = (gcm_stream *)calloc(1, sizeof(gcm_stream));
  if (!st) return throw_range(env, "gcmOpenStart: out of memory");
  st->tag = GCM_STREAM_TAG;
  st->ctx = EVP_CIPHER_CTX_new();
  int outl = 0;
  int ok = st->ctx != NULL && EVP_DecryptInit_ex(st->ctx, c, NULL, key.p, nonce.p) == 1;
  if (ok && aad.n) ok = EVP_DecryptUpdate(st->ctx, NULL, &outl, aad.p, (int)aad.n) == 1;
  napi_value ext;
  if (!ok || napi_create_external(env, st, gcm_stream_free, NULL, &ext) != napi_ok) {
    gcm_stream_free(env, st, NULL);
    return throw_range(env, "gcmOpenStart: OpenSSL error");
  }
  return ext;
}

/* gcmOpenUpdate(ctx, data): decrypts data in place (pieces must be passed in order) */
static napi_value GcmOpenUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  gcm_stream *st = argc >= 2 ? (gcm_stream *)get_tagged(env, a[0], GCM_STREAM_TAG) : NULL;
  span data;
  if (!st || !get_buf(env, a[1], &data)) return throw_type(env, "gcmOpenUpdate(ctx, data)");
  if (!st->ctx) return throw_range(env, "gcmOpenUpdate: context already finished");
  if (data.n > INT32_MAX) return throw_range(env, "gcmOpenUpdate: data too large");
  int outl = 0;
  if (data.n && EVP_DecryptUpdate(st->ctx, data.p, &outl, data.p, (int)data.n) != 1) return throw_range(env, "gcmOpenUpdate: OpenSSL error");
  return NULL;
}

/* gcmOpenFinal(ctx, tag16) -> boolean; frees the context */
static napi_value GcmOpenFinal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  gcm_stream *st = argc >= 2 ? (gcm_stream *)get_tagged(env, a[0], GCM_STREAM_TAG) : NULL;
  span tag;
  if (!st || !get_buf(env, a[1], &tag)) return throw_type(env, "gcmOpenFinal(ctx, tag)");
  if (!st->ctx) return throw_range(env, "gcmOpenFinal: context already finished");
  if (tag.n != 16) return throw_range(env, "gcmOpenFinal: tag must be 16 bytes");
  uint8_t none[16];
  int outl = 0;
  int ok = EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.p) == 1 &&
           EVP_DecryptFinal_ex(st->ctx, none, &outl) == 1;
  EVP_CIPHER_CTX_free(st->ctx);
  st->ctx = NULL;
  return bool_value(env, ok);
}

/* gmac(key, nonce12, parts, tag16): AES-GCM with the message as AAD and no plaintext. */
static napi_value Gmac(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 4) return throw_type(env, "gmac(key, nonce, parts, tag)");
  span key, nonce, tag, parts[MAX_PARTS];
  size_t total;
  if (!get_buf(env, a[0], &key) || !get_buf(env, a[1], &nonce) || !get_buf(env, a[3], &tag)) return throw_type(env, "gmac: bad argument");
  int np = get_parts(env, a[2], parts, &total);
  if (np < 0) return throw_type(env, "gmac: parts must be a Buffer or an array of at most 64 Buffers");
  const EVP_CIPHER *c = gcm_for(key.n);
  if (!c) return throw_range(env, "gmac: key must be 16 or 32 bytes");
  if (nonce.n != 12) return throw_range(env, "gmac: nonce must be 12 bytes");
  if (tag.n < 16) return throw_range(env, "gmac: tag must be 16 bytes");
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int ok = ctx != NULL && EVP_EncryptInit_ex(ctx, c, NULL, key.p, nonce.p) == 1;
  int outl = 0;
  for (int i = 0; ok && i < np; i++) {
    if (parts[i].n == 0) continue;
    ok = EVP_EncryptUpdate(ctx, NULL, &outl, parts[i].p, (int)parts[i].n) == 1;
  }
  uint8_t none[16];
  if (ok) ok = EVP_EncryptFinal_ex(ctx, none, &outl) == 1;
  if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag.p) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return throw_range(env, "gmac: OpenSSL error");
  return NULL;
}

/* ---------------------------------------------------------------- CCM */

/* ---------------------------------------------------------------- streaming MACs */

typedef struct {
  uint32_t tag;
  EVP_CIPHER_CTX *gcm; /* gmac */
  EVP_MAC_CTX *cmac;   /* cmac */
} mac_stream;

static void mac_stream_free(napi_env env, void *data, void *hint) {
  mac_stream *st = (mac_stream *)data;
  if (st->gcm) EVP_CIPHER_CTX_free(st->gcm);
  if (st->cmac) EVP_MAC_CTX_free(st->cmac);
  free(st);
}

static EVP_MAC *cmac_alg(void) {
  static EVP_MAC *alg = NULL;
  if (!alg) alg = EVP_MAC_fetch(NULL, "CMAC", NULL);
  return alg;
}

static EVP_MAC_CTX *cmac_new(const span *key) {
  EVP_MAC *alg = cmac_alg();
  if (!alg) return NULL;
  EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(alg);
  OSSL_PARAM params[2];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
  params[1] = OSSL_PARAM_construct_end();
  if (ctx && EVP_MAC_init(ctx, key->p, key->n, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* macStart("gmac" | "cmac", key, nonce) -> External */
static napi_value MacStart(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 3) return throw_type(env, "macStart(kind, key, nonce)");
  char kind[8];
  size_t kl = 0;
  span key, nonce;
  if (napi_get_value_string_utf8(env, a[0], kind, sizeof kind, &kl) != napi_ok ||
      !get_buf(env, a[1], &key) || !get_buf(env, a[2], &nonce)) return throw_type(env, "macStart: bad argument");
  mac_stream *st = (mac_stream *)calloc(1, sizeof(mac_stream));
  if (!st) return throw_range(env, "macStart: out of memory");
  st->tag = MAC_STREAM_TAG;
  int ok;
  if (strcmp(kind, "gmac") == 0) {
    const EVP_CIPHER *c = gcm_for(key.n);
    if (!c || nonce.n != 12) {
      free(st);
      return throw_range(env, "macStart: gmac needs a 16 or 32-byte key and a 12-byte nonce");
    }
    st->gcm = EVP_CIPHER_CTX_new();
    ok = st->gcm != NULL && EVP_EncryptInit_ex(st->gcm, c, NULL, key.p, nonce.p) == 1;
  } else if (strcmp(kind, "cmac") == 0) {
    if (key.n != 16) {
      free(st);
      return throw_range(env, "macStart: cmac needs a 16-byte key");
    }
    st->cmac = cmac_new(&key);
    ok = st->cmac != NULL;
  } else {
    free(st);
    return throw_range(env, "macStart: kind must be gmac or cmac");
  }
  napi_value ext;
  if (!ok || napi_create_external(env, st, mac_stream_free, NULL, &ext) != napi_ok) {
    mac_stream_free(env, st, NULL);
    return throw_range(env, "macStart: OpenSSL error");
  }
  return ext;
}

/* macUpdate(ctx, data) */
static napi_value MacUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  mac_stream *st = argc >= 2 ? (mac_stream *)get_tagged(env, a[0], MAC_STREAM_TAG) : NULL;
  span data;
  if (!st || !get_buf(env, a[1], &data)) return throw_type(env, "macUpdate(ctx, data)");
  if (!st->gcm && !st->cmac) return throw_range(env, "macUpdate: context already finished");
  if (data.n > INT32_MAX) return throw_range(env, "macUpdate: data too large");
  int outl = 0;
  int ok = data.n == 0 || (st->gcm ? EVP_EncryptUpdate(st->gcm, NULL, &outl, data.p, (int)data.n) == 1
                                   : EVP_MAC_update(st->cmac, data.p, data.n) == 1);
  if (!ok) return throw_range(env, "macUpdate: OpenSSL error");
  return NULL;
}

/* macFinal(ctx, out16); frees the context */
static napi_value MacFinal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  mac_stream *st = argc >= 2 ? (mac_stream *)get_tagged(env, a[0], MAC_STREAM_TAG) : NULL;
  span out;
  if (!st || !get_buf(env, a[1], &out)) return throw_type(env, "macFinal(ctx, out)");
  if (!st->gcm && !st->cmac) return throw_range(env, "macFinal: context already finished");
  if (out.n < 16) return throw_range(env, "macFinal: out must be 16 bytes");
  int ok;
  if (st->gcm) {
    uint8_t none[16];
    int outl = 0;
    ok = EVP_EncryptFinal_ex(st->gcm, none, &outl) == 1 && EVP_CIPHER_CTX_ctrl(st->gcm, EVP_CTRL_GCM_GET_TAG, 16, out.p) == 1;
    EVP_CIPHER_CTX_free(st->gcm);
    st->gcm = NULL;
  } else {
    size_t outl = 0;
    ok = EVP_MAC_final(st->cmac, out.p, &outl, 16) == 1 && outl == 16;
    EVP_MAC_CTX_free(st->cmac);
    st->cmac = NULL;
  }
  if (!ok) return throw_range(env, "macFinal: OpenSSL error");
  return NULL;
}

/* ---------------------------------------------------------------- CMAC */

/* cmac(key16, parts, mac16) */
static napi_value Cmac(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 3) return throw_type(env, "cmac(key, parts, mac)");
  span key, mac, parts[MAX_PARTS];
  size_t total;
  if (!get_buf(env, a[0], &key) || !get_buf(env, a[2], &mac)) return throw_type(env, "cmac: bad argument");
  int np = get_parts(env, a[1], parts, &total);
  if (np < 0) return throw_type(env, "cmac: parts must be a Buffer or an array of at most 64 Buffers");
  if (key.n != 16) return throw_range(env, "cmac: key must be 16 bytes");
  if (mac.n < 16) return throw_range(env, "cmac: mac must be 16 bytes");
  EVP_MAC_CTX *ctx = cmac_new(&key);
  int ok = ctx != NULL;
  for (int i = 0; ok && i < np; i++) {
    if (parts[i].n) ok = EVP_MAC_update(ctx, parts[i].p, parts[i].n) == 1;
  }
  size_t outl = 0;
  if (ok) ok = EVP_MAC_final(ctx, mac.p, &outl, 16) == 1 && outl == 16;
  EVP_MAC_CTX_free(ctx);
  if (!ok) return throw_range(env, "cmac: OpenSSL error");
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "gcmSeal", NULL, GcmSeal, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gcmSealAsync", NULL, GcmSealAsync, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gcmOpen", NULL, GcmOpen, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gcmOpenStart", NULL, GcmOpenStart, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gcmOpenUpdate", NULL, GcmOpenUpdate, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gcmOpenFinal", NULL, GcmOpenFinal, NULL, NULL, NULL, napi_enumerable, NULL },
    { "macStart", NULL, MacStart, NULL, NULL, NULL, napi_enumerable, NULL },
    { "macUpdate", NULL, MacUpdate, NULL, NULL, NULL, napi_enumerable, NULL },
    { "macFinal", NULL, MacFinal, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gmac", NULL, Gmac, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ccmSeal", NULL, CcmSeal, NULL, NULL, NULL, napi_enumerable, NULL },
    { "ccmOpen", NULL, CcmOpen, NULL, NULL, NULL, napi_enumerable, NULL },
    { "cmac", NULL, Cmac, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
