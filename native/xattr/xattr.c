/*
 * smbts native helper: Linux extended attributes and file space calls for Node (N-API, no
 * dependencies).
 *
 * Mostly synchronous wrappers around the xattr syscalls: one call costs about what a sync
 * lstat() does, no thread-pool hop; callers should only use them on local filesystems. Bulk reads
 * (directory listings) go through lgetxattrBatch, which runs on the libuv pool.
 *
 *   fgetxattr(fd, name)            -> Buffer | undefined (undefined when the attribute is absent)
 *   fsetxattr(fd, name, value[, flags])
 *   fremovexattr(fd, name)         -> boolean (false when the attribute was absent)
 *   lgetxattr(path, name)          -> Buffer | undefined (does not follow a final symlink)
 *   lsetxattr(path, name, value[, flags])
 *   lremovexattr(path, name)       -> boolean
 *   lgetxattrBatch(paths, name)    -> Promise<Array<Buffer | null | string>> (on the libuv pool:
 *                                     value, null when absent, errno code string on failure)
 *   lgetxattrMany(joined, name)    -> Promise<Buffer> (the same, paths joined by "\0", packed
 *                                     answer; see LGetXattrMany)
 *   fallocate(fd, mode, offset, length)  fallocate(2) (mode: 1 KEEP_SIZE | 2 PUNCH_HOLE ...): what
 *                                     FSCTL_SET_ZERO_DATA uses to free a range (node has none)
 *   seekData(fd, offset, hole)     -> lseek(fd, offset, hole ? SEEK_HOLE : SEEK_DATA), or -1 when
 *                                     no data follows offset (ENXIO): FSCTL_QUERY_ALLOCATED_RANGES
 *   platform                       -> "linux" or "unsupported"
 *
 * Errors are thrown as Error objects with `code` (errno name, e.g. "ENOTSUP") and `errno`.
 * On platforms other than Linux every call throws code "ENOTSUP".
 */
#define NAPI_VERSION 8
#ifdef __linux__
#define _GNU_SOURCE /* fallocate, SEEK_DATA / SEEK_HOLE */
#endif
#include <node_api.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __linux__
#include <sys/types.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <unistd.h>
#define HAVE_XATTR 1
#else
#define HAVE_XATTR 0
#endif

#ifndef ENODATA
#define ENODATA 0x7fff /* never produced: only the Linux code path reports ENODATA */
#endif

#define NAME_MAX_BYTES 255
#define STACK_VALUE 256

static const char *errno_name(int e) {
  switch (e) {
    case ENODATA: return "ENODATA";
    case ENOTSUP: return "ENOTSUP";
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP: return "EOPNOTSUPP";
#endif
    case ERANGE: return "ERANGE";
    case E2BIG: return "E2BIG";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
#ifdef EDQUOT
    case EDQUOT: return "EDQUOT";
#endif
    case EROFS: return "EROFS";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EIO: return "EIO";
    case ENOMEM: return "ENOMEM";
    case EINTR: return "EINTR";
    case ENXIO: return "ENXIO";
    case ENOSYS: return "ENOSYS";
    case EFBIG: return "EFBIG";
    case ESPIPE: return "ESPIPE";
    default: return "EUNKNOWN";
  }
}

/* Throw an Error with .code and .errno; always returns NULL for convenience. */
static napi_value throw_errno(napi_env env, int e, const char *syscall) {
  char msg[160];
  napi_value code, message, err, num;
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(e));
  if (napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message) != napi_ok) return NULL;
  if (napi_create_error(env, code, message, &err) != napi_ok) return NULL;
  if (napi_create_int32(env, e, &num) == napi_ok) napi_set_named_property(env, err, "errno", num);
  napi_set_named_property(env, err, "code", code);
  napi_throw(env, err);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* Copy a JS string argument into buf (size bytes incl. NUL). Returns 0, or -1 after throwing. */
static int get_name(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) { throw_type(env, "name must be a string"); return -1; }
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) { throw_type(env, "bad name"); return -1; }
  if (len == 0 || len >= size) { throw_errno(env, ERANGE, "xattr name length"); return -1; }
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) { throw_type(env, "bad name"); return -1; }
  if (strlen(buf) != len) { throw_type(env, "name contains NUL"); return -1; }
  return 0;
}

/* Heap copy of a JS string path (caller frees), or NULL after throwing. */
static char *get_path(napi_env env, napi_value v) {
  size_t len = 0;
  napi_valuetype t;
  char *p;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) { throw_type(env, "path must be a string"); return NULL; }
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) { throw_type(env, "bad path"); return NULL; }
  if (len == 0) { throw_errno(env, ENOENT, "path"); return NULL; }
  p = malloc(len + 1);
  if (!p) { throw_errno(env, ENOMEM, "malloc"); return NULL; }
  if (napi_get_value_string_utf8(env, v, p, len + 1, &len) != napi_ok || strlen(p) != len) {
    free(p);
    throw_type(env, "bad path");
    return NULL;
  }
  return p;
}

static int get_fd(napi_env env, napi_value v, int *fd) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) { throw_type(env, "fd must be a number"); return -1; }
  if (napi_get_value_int32(env, v, fd) != napi_ok || *fd < 0) { throw_type(env, "fd must be a non-negative integer"); return -1; }
  return 0;
}

static int get_value(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_buf = false;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) { throw_type(env, "value must be a Buffer"); return -1; }
  if (napi_get_buffer_info(env, v, data, len) != napi_ok) { throw_type(env, "bad Buffer"); return -1; }
  return 0;
}

static int get_flags(napi_env env, size_t argc, napi_value *argv, size_t idx, int *flags) {
  napi_valuetype t;
  *flags = 0;
  if (argc <= idx) return 0;
  if (napi_typeof(env, argv[idx], &t) != napi_ok) return -1;
  if (t == napi_undefined) return 0;
  if (t != napi_number || napi_get_value_int32(env, argv[idx], flags) != napi_ok) { throw_type(env, "flags must be a number"); return -1; }
  return 0;
}

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value bool_value(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

#if HAVE_XATTR
/* One getxattr flavour: fd >= 0 uses fgetxattr, else lgetxattr(path). */
static ssize_t do_get(int fd, const char *path, const char *name, void *buf, size_t size) {
  return fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(path, name, buf, size);
}

static napi_value get_common(napi_env env, int fd, const char *path, const char *name) {
  char stackbuf[STACK_VALUE];
  napi_value out;
  void *copy;
  ssize_t n = do_get(fd, path, name, stackbuf, sizeof stackbuf);
  if (n >= 0) {
    if (napi_create_buffer_copy(env, (size_t)n, stackbuf, &copy, &out) != napi_ok) return NULL;
    return out;
  }
  if (errno == ENODATA) return undefined_value(env);
  if (errno != ERANGE) return throw_errno(env, errno, fd >= 0 ? "fgetxattr" : "lgetxattr");
  /* Larger than the stack buffer: ask for the size, then read (retry if it grew meanwhile). */
  for (int attempt = 0; attempt < 4; attempt++) {
    ssize_t want = do_get(fd, path, name, NULL, 0);
    char *heap;
    if (want < 0) {
      if (errno == ENODATA) return undefined_value(env);
      return throw_errno(env, errno, fd >= 0 ? "fgetxattr" : "lgetxattr");
    }
    heap = malloc(want > 0 ? (size_t)want : 1);
    if (!heap) return throw_errno(env, ENOMEM, "malloc");
    n = do_get(fd, path, name, heap, (size_t)want);
    if (n >= 0) {
      napi_status s = napi_create_buffer_copy(env, (size_t)n, heap, &copy, &out);
      free(heap);
      return s == napi_ok ? out : NULL;
    }
    free(heap);
    if (errno == ENODATA) return undefined_value(env);
    if (errno != ERANGE) return throw_errno(env, errno, fd >= 0 ? "fgetxattr" : "lgetxattr");
  }
  return throw_errno(env, ERANGE, fd >= 0 ? "fgetxattr" : "lgetxattr");
}
#endif

static napi_value FGetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int fd;
  char name[NAME_MAX_BYTES + 1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "fgetxattr(fd, name)");
  if (get_fd(env, argv[0], &fd) || get_name(env, argv[1], name, sizeof name)) return NULL;
#if HAVE_XATTR
  return get_common(env, fd, NULL, name);
#else
  return throw_errno(env, ENOTSUP, "fgetxattr");
#endif
}

static napi_value LGetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char name[NAME_MAX_BYTES + 1];
  char *path;
  napi_value r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "lgetxattr(path, name)");
  if (get_name(env, argv[1], name, sizeof name)) return NULL;
  path = get_path(env, argv[0]);
  if (!path) return NULL;
#if HAVE_XATTR
  r = get_common(env, -1, path, name);
#else
  r = throw_errno(env, ENOTSUP, "lgetxattr");
#endif
  free(path);
  return r;
}

static napi_value FSetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int fd, flags;
  char name[NAME_MAX_BYTES + 1];
  void *data;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return throw_type(env, "fsetxattr(fd, name, value[, flags])");
  if (get_fd(env, argv[0], &fd) || get_name(env, argv[1], name, sizeof name) ||
      get_value(env, argv[2], &data, &len) || get_flags(env, argc, argv, 3, &flags)) return NULL;
#if HAVE_XATTR
  if (fsetxattr(fd, name, len ? data : "", len, flags) != 0) return throw_errno(env, errno, "fsetxattr");
  return undefined_value(env);
#else
  (void)data; (void)len; (void)flags;
  return throw_errno(env, ENOTSUP, "fsetxattr");
#endif
}

static napi_value LSetXattr(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int flags, rc = 0, err = 0;
  char name[NAME_MAX_BYTES + 1];
  void *data;
  size_t len;
  char *path;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return throw_type(env, "lsetxattr(path, name, value[, flags])");
  if (get_name(env, argv[1], name, sizeof name) || get_value(env, argv[2], &data, &len) ||
      get_flags(env, argc, argv, 3, &flags)) return NULL;
  path = get_path(env, argv[0]);
  if (!path) return NULL;
#if HAVE_XATTR
  rc = lsetxattr(path, name, len ? data : "", len, flags);
  err = errno;
#else
  (void)data; (void)len; (void)flags;
  rc = -1;
  err = ENOTSUP;
#endif
  free(path);
  if (rc != 0) return throw_errno(env, err, "lsetxattr");
  return undefined_value(env);
}

static napi_value FRemoveXattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int fd;
  char name[NAME_MAX_BYTES + 1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "fremovexattr(fd, name)");
  if (get_fd(env, argv[0], &fd) || get_name(env, argv[1], name, sizeof name)) return NULL;
#if HAVE_XATTR
  if (fremovexattr(fd, name) != 0) {
    if (errno == ENODATA) return bool_value(env, false);
    return throw_errno(env, errno, "fremovexattr");
  }
  return bool_value(env, true);
#else
  return throw_errno(env, ENOTSUP, "fremovexattr");
#endif
}

static napi_value LRemoveXattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char name[NAME_MAX_BYTES + 1];
  char *path;
  int rc, err;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "lremovexattr(path, name)");
  if (get_name(env, argv[1], name, sizeof name)) return NULL;
  path = get_path(env, argv[0]);
  if (!path) return NULL;
#if HAVE_XATTR
  rc = lremovexattr(path, name);
  err = errno;
#else
  rc = -1;
  err = ENOTSUP;
#endif
  free(path);
  if (rc != 0) {
    if (err == ENODATA) return bool_value(env, false);
    return throw_errno(env, err, "lremovexattr");
  }
  return bool_value(env, true);
}

/*
 * lgetxattrBatch(paths, name) -> Promise<Array<Buffer | null | string>>
 * Reads one attribute of many files on a libuv pool thread (so a directory listing does not block
 * the event loop): Buffer = value, null = absent (ENODATA), string = errno code of a failure.
 */
#define BATCH_MAX 4096

typedef struct {
  char *path;
  unsigned char *val;
  size_t len;
  int err; /* 0 ok, ENODATA absent, else errno */
} batch_item;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char name[NAME_MAX_BYTES + 1];
  size_t n;
  batch_item *items;
} batch_job;

static void batch_free(batch_job *job) {
  if (!job) return;
  if (job->items) {
    for (size_t i = 0; i < job->n; i++) {
      free(job->items[i].path);
      free(job->items[i].val);
    }
    free(job->items);
  }
  free(job);
}

static void batch_execute(napi_env env, void *data) {
  batch_job *job = data;
  (void)env;
  for (size_t i = 0; i < job->n; i++) {
    batch_item *it = &job->items[i];
    if (it->err) continue;
#if HAVE_XATTR
    unsigned char buf[STACK_VALUE];
    ssize_t r = lgetxattr(it->path, job->name, buf, sizeof buf);
    if (r >= 0) {
      it->val = malloc(r > 0 ? (size_t)r : 1);
      if (!it->val) { it->err = ENOMEM; continue; }
      memcpy(it->val, buf, (size_t)r);
      it->len = (size_t)r;
      continue;
    }
    if (errno == ERANGE) {
      ssize_t want = lgetxattr(it->path, job->name, NULL, 0);
      if (want >= 0) {
        it->val = malloc(want > 0 ? (size_t)want : 1);
        if (!it->val) { it->err = ENOMEM; continue; }
        r = lgetxattr(it->path, job->name, it->val, (size_t)want);
        if (r >= 0) { it->len = (size_t)r; continue; }
        free(it->val);
        it->val = NULL;
      }
    }
    it->err = errno;
#else
    it->err = ENOTSUP;
#endif
  }
}

static void batch_complete(napi_env env, napi_status status, void *data) {
  batch_job *job = data;
  napi_value arr, v;
  if (status != napi_ok || napi_create_array_with_length(env, job->n, &arr) != napi_ok) {
    napi_value msg, err;
    napi_create_string_utf8(env, "lgetxattrBatch failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
    goto out;
  }
  for (size_t i = 0; i < job->n; i++) {
    batch_item *it = &job->items[i];
    void *copy;
    if (it->err == 0) {
      if (napi_create_buffer_copy(env, it->len, it->val ? (void *)it->val : (void *)"", &copy, &v) != napi_ok) napi_get_null(env, &v);
    } else if (it->err == ENODATA) {
      napi_get_null(env, &v);
    } else {
      napi_create_string_utf8(env, errno_name(it->err), NAPI_AUTO_LENGTH, &v);
    }
    napi_set_element(env, arr, (uint32_t)i, v);
  }
  napi_resolve_deferred(env, job->deferred, arr);
out:
  napi_delete_async_work(env, job->work);
  batch_free(job);
}

static napi_value LGetXattrBatch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], promise, resname;
  bool is_arr = false;
  uint32_t n = 0;
  batch_job *job;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "lgetxattrBatch(paths, name)");
  if (napi_is_array(env, argv[0], &is_arr) != napi_ok || !is_arr) return throw_type(env, "paths must be an array");
  if (napi_get_array_length(env, argv[0], &n) != napi_ok) return NULL;
  if (n > BATCH_MAX) return throw_errno(env, E2BIG, "lgetxattrBatch");
  job = calloc(1, sizeof *job);
  if (!job) return throw_errno(env, ENOMEM, "calloc");
  if (get_name(env, argv[1], job->name, sizeof job->name)) { batch_free(job); return NULL; }
  job->items = calloc(n ? n : 1, sizeof *job->items);
  if (!job->items) { batch_free(job); return throw_errno(env, ENOMEM, "calloc"); }
  job->n = n;
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, argv[0], i, &el) != napi_ok) { batch_free(job); return NULL; }
    job->items[i].path = get_path(env, el);
    if (!job->items[i].path) { batch_free(job); return NULL; }
  }
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) { batch_free(job); return NULL; }
  napi_create_string_utf8(env, "smbts.lgetxattrBatch", NAPI_AUTO_LENGTH, &resname);
  if (napi_create_async_work(env, NULL, resname, batch_execute, batch_complete, job, &job->work) != napi_ok) {
    /* the promise stays pending only if we cannot reject it: reject explicitly */
    napi_value msg, err;
    napi_create_string_utf8(env, "cannot queue lgetxattrBatch", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
    batch_free(job);
    return promise;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    napi_value msg, err;
    napi_delete_async_work(env, job->work);
    napi_create_string_utf8(env, "cannot queue lgetxattrBatch", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
    batch_free(job);
  }
  return promise;
}

/*
 * lgetxattrMany(joined, name) -> Promise<Buffer>
 * The same on the pool for paths joined with "\0" (one string, no per-path conversions), answered
 * as one Buffer: per path an int32 LE status, then the value when status >= 0. Status = value
 * length, -1 absent (ENODATA), -2 - errno on failure. Cheaper than lgetxattrBatch for listings.
 */
static napi_value LGetXattrMany(napi_env env, napi_callback_info info);

static void many_complete(napi_env env, napi_status status, void *data) {
  batch_job *job = data;
  napi_value out;
  size_t total = 0;
  unsigned char *p;
  if (status != napi_ok) goto fail;
  for (size_t i = 0; i < job->n; i++) total += 4 + (job->items[i].err == 0 ? job->items[i].len : 0);
  if (napi_create_buffer(env, total, (void **)&p, &out) != napi_ok) goto fail;
  for (size_t i = 0; i < job->n; i++) {
    batch_item *it = &job->items[i];
    int32_t st = it->err == 0 ? (int32_t)it->len : it->err == ENODATA ? -1 : -2 - it->err;
    uint32_t u = (uint32_t)st;
    p[0] = u & 0xff; p[1] = (u >> 8) & 0xff; p[2] = (u >> 16) & 0xff; p[3] = (u >> 24) & 0xff;
    p += 4;
    if (it->err == 0 && it->len) {
      memcpy(p, it->val, it->len);
      p += it->len;
    }
  }
  napi_resolve_deferred(env, job->deferred, out);
  goto done;
fail: {
    napi_value msg, err;
    napi_create_string_utf8(env, "lgetxattrMany failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
  }
done:
  napi_delete_async_work(env, job->work);
  batch_free(job);
}

static napi_value LGetXattrMany(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0, n = 0;
  napi_value argv[2], promise, resname;
  napi_valuetype t;
  char *all, *q;
  batch_job *job;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "lgetxattrMany(joined, name)");
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_string) return throw_type(env, "paths must be a string");
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) return NULL;
  all = malloc(len + 1);
  if (!all) return throw_errno(env, ENOMEM, "malloc");
  if (napi_get_value_string_utf8(env, argv[0], all, len + 1, &len) != napi_ok) { free(all); return NULL; }
  if (len > 0) {
    n = 1;
    for (size_t i = 0; i < len; i++) if (all[i] == '\0') n++;
  }
  if (n > BATCH_MAX) { free(all); return throw_errno(env, E2BIG, "lgetxattrMany"); }
  job = calloc(1, sizeof *job);
  if (!job) { free(all); return throw_errno(env, ENOMEM, "calloc"); }
  if (get_name(env, argv[1], job->name, sizeof job->name)) { free(all); batch_free(job); return NULL; }
  job->items = calloc(n ? n : 1, sizeof *job->items);
  if (!job->items) { free(all); batch_free(job); return throw_errno(env, ENOMEM, "calloc"); }
  job->n = n;
  q = all;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(q);
    job->items[i].path = malloc(l + 1);
    if (!job->items[i].path) { free(all); batch_free(job); return throw_errno(env, ENOMEM, "malloc"); }
    memcpy(job->items[i].path, q, l + 1);
    if (l == 0) job->items[i].err = ENOENT;
    q += l + 1;
  }
  free(all);
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) { batch_free(job); return NULL; }
  napi_create_string_utf8(env, "smbts.lgetxattrMany", NAPI_AUTO_LENGTH, &resname);
  if (napi_create_async_work(env, NULL, resname, batch_execute, many_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    napi_value msg, err;
    if (job->work) napi_delete_async_work(env, job->work);
    napi_create_string_utf8(env, "cannot queue lgetxattrMany", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, job->deferred, err);
    batch_free(job);
  }
  return promise;
}

static int get_i64(napi_env env, napi_value v, int64_t *out, const char *what) {
  if (napi_get_value_int64(env, v, out) != napi_ok || *out < 0) { throw_type(env, what); return -1; }
  return 0;
}

static napi_value FAllocate(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int fd;
  int32_t mode;
  int64_t off, len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 4) return throw_type(env, "fallocate(fd, mode, offset, length)");
  if (get_fd(env, argv[0], &fd)) return NULL;
  if (napi_get_value_int32(env, argv[1], &mode) != napi_ok) return throw_type(env, "fallocate: mode");
  if (get_i64(env, argv[2], &off, "fallocate: offset") || get_i64(env, argv[3], &len, "fallocate: length")) return NULL;
#if HAVE_XATTR
  if (fallocate(fd, mode, (off_t)off, (off_t)len) != 0) return throw_errno(env, errno, "fallocate");
  return undefined_value(env);
#else
  return throw_errno(env, ENOTSUP, "fallocate");
#endif
}

static napi_value SeekData(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int fd;
  int64_t off;
  bool hole = false;
  napi_value r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return throw_type(env, "seekData(fd, offset, hole)");
  if (get_fd(env, argv[0], &fd) || get_i64(env, argv[1], &off, "seekData: offset")) return NULL;
  if (napi_get_value_bool(env, argv[2], &hole) != napi_ok) return throw_type(env, "seekData: hole");
#if HAVE_XATTR && defined(SEEK_DATA)
  off_t pos = lseek(fd, (off_t)off, hole ? SEEK_HOLE : SEEK_DATA);
  if (pos < 0) {
    if (errno == ENXIO) pos = -1;
    else return throw_errno(env, errno, "lseek");
  }
  if (napi_create_int64(env, (int64_t)pos, &r) != napi_ok) return NULL;
  return r;
#else
  (void)r;
  return throw_errno(env, ENOTSUP, "lseek");
#endif
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[11];
  napi_value platform;
  memset(props, 0, sizeof props);
  props[0].utf8name = "fgetxattr"; props[0].method = FGetXattr; props[0].attributes = napi_enumerable;
  props[1].utf8name = "fsetxattr"; props[1].method = FSetXattr; props[1].attributes = napi_enumerable;
  props[2].utf8name = "fremovexattr"; props[2].method = FRemoveXattr; props[2].attributes = napi_enumerable;
  props[3].utf8name = "lgetxattr"; props[3].method = LGetXattr; props[3].attributes = napi_enumerable;
  props[4].utf8name = "lsetxattr"; props[4].method = LSetXattr; props[4].attributes = napi_enumerable;
  props[5].utf8name = "lremovexattr"; props[5].method = LRemoveXattr; props[5].attributes = napi_enumerable;
  if (napi_create_string_utf8(env, HAVE_XATTR ? "linux" : "unsupported", NAPI_AUTO_LENGTH, &platform) != napi_ok) return NULL;
  props[6].utf8name = "platform"; props[6].value = platform; props[6].attributes = napi_enumerable;
  props[7].utf8name = "lgetxattrBatch"; props[7].method = LGetXattrBatch; props[7].attributes = napi_enumerable;
  props[8].utf8name = "lgetxattrMany"; props[8].method = LGetXattrMany; props[8].attributes = napi_enumerable;
  props[9].utf8name = "fallocate"; props[9].method = FAllocate; props[9].attributes = napi_enumerable;
  props[10].utf8name = "seekData"; props[10].method = SeekData; props[10].attributes = napi_enumerable;
  if (napi_define_properties(env, exports, 11, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
