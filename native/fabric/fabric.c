/*
 * smbts native helper: a libfabric connected endpoint (FI_EP_MSG) with messages and RMA (N-API).
 *
 * src/transport/rdma/libfabric.ts wraps this into the RdmaProvider interface. Each endpoint (and
 * each listener) owns a progress thread that waits on its completion and event queues and posts
 * what it finds to JavaScript through a thread-safe function, so nothing here blocks node's loop.
 *
 *   listen(host, port, prov, cb) -> lst            passive endpoint; cb(kind=CONNREQ, 0, 0, 0, 0, req)
 *   listenPort(lst) -> number                      the port bound (for port 0)
 *   accept(req, cb) -> ep                          endpoint for a connection request (not yet accepted)
 *   connect(host, port, prov, cb) -> ep            active endpoint (not yet connected)
 *   start(ep)                                      fi_accept / fi_connect (post receives first)
 *   regMr(ep, buf, access, key) -> [mr, key, base] register buf; access 1 = remote read, 2 = remote write
 *   deregMr(mr)
 *   recv(ep, buf, id) / send(ep, buf, id, imm)     imm >= 0 sends it as remote CQ data (fi_senddata)
 *   read(ep, buf, addr, key, id) / write(...)      RMA read into buf / write from buf
 *   close(ep) / closeListener(lst)
 *   info(ep) -> { provider, mrMode, maxMsg }
 *
 * Completion callbacks: cb(kind, id, len, err, imm) with kind SEND/RECV/READ/WRITE (err 0 = done,
 * else a positive FI_E* number), CONNECTED, SHUTDOWN, CMERROR. imm is -1 when the message carried
 * no remote CQ data. Buffers must stay alive until their completion (the JavaScript side holds them).
 * When the provider needs local registration (FI_MR_LOCAL, e.g. verbs), each operation registers
 * its buffer for its own lifetime.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <rdma/fabric.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_SEND = 1, K_RECV = 2, K_READ = 3, K_WRITE = 4, K_CONNECTED = 5, K_SHUTDOWN = 6, K_CMERROR = 7, K_CONNREQ = 8 };

typedef struct {
  int kind;
  uint64_t id;
  uint32_t len;
  int32_t err;
  int64_t imm;
  struct fi_info *req;
} event_t;

typedef struct {
  struct fi_context2 fctx; /* first: libfabric hands this pointer back */
  int kind;
  uint64_t id;
  struct fid_mr *lmr;
} op_t;

typedef struct {
  struct fi_info *info;
  struct fid_fabric *fabric;
  struct fid_domain *domain;
  struct fid_eq *eq;
  struct fid_cq *cq;
  struct fid_ep *ep;
  struct fid_pep *pep; /* listeners only */
  pthread_t thr;
  int thr_started;
  atomic_int stop;
  napi_threadsafe_function tsfn;
  int passive; /* accepted endpoint */
  int closed;
  uint64_t next_local_key;
} node_t;

typedef struct {
  struct fid_mr *mr;
  napi_ref buf;
} mr_t;

static napi_value throw_err(napi_env env, const char *what, int rc) {
  char msg[256];
  snprintf(msg, sizeof msg, "libfabric %s: %s", what, fi_strerror(rc < 0 ? -rc : rc));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void emit(node_t *n, event_t ev) {
  event_t *e = malloc(sizeof *e);
  if (!e) return;
  *e = ev;
  if (napi_call_threadsafe_function(n->tsfn, e, napi_tsfn_nonblocking) != napi_ok) free(e);
}

static void call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  event_t *e = data;
  if (env && cb) {
    napi_value argv[6], undef;
    napi_get_undefined(env, &undef);
    napi_create_int32(env, e->kind, &argv[0]);
    napi_create_double(env, (double)e->id, &argv[1]);
    napi_create_uint32(env, e->len, &argv[2]);
    napi_create_int32(env, e->err, &argv[3]);
    napi_create_double(env, (double)e->imm, &argv[4]);
    if (e->req) napi_create_external(env, e->req, NULL, NULL, &argv[5]);
    else argv[5] = undef;
    napi_call_function(env, undef, cb, 6, argv, NULL);
  } else if (e->req) {
    fi_freeinfo(e->req);
  }
  free(e);
}

static void drain_cq(node_t *n, int timeout_ms) {
  struct fi_cq_data_entry ents[16];
  ssize_t r = fi_cq_sread(n->cq, ents, 16, NULL, timeout_ms);
  if (r > 0) {
    for (ssize_t i = 0; i < r; i++) {
      op_t *op = ents[i].op_context;
      if (!op) continue;
      event_t ev = { op->kind, op->id, (uint32_t)ents[i].len, 0, -1, NULL };
      if (op->kind == K_RECV && (ents[i].flags & FI_REMOTE_CQ_DATA)) ev.imm = (int64_t)(ents[i].data & 0xffffffffu);
      if (op->lmr) fi_close(&op->lmr->fid);
      free(op);
      emit(n, ev);
    }
  } else if (r == -FI_EAVAIL) {
    struct fi_cq_err_entry ee;
    memset(&ee, 0, sizeof ee);
    if (fi_cq_readerr(n->cq, &ee, 0) > 0) {
      op_t *op = ee.op_context;
      if (op) {
        event_t ev = { op->kind, op->id, 0, ee.err ? ee.err : FI_EIO, -1, NULL };
        if (op->lmr) fi_close(&op->lmr->fid);
        free(op);
        emit(n, ev);
      }
    }
  }
}

static void drain_eq(node_t *n, int timeout_ms) {
  uint32_t event;
  struct fi_eq_cm_entry cm;
  memset(&cm, 0, sizeof cm);
  ssize_t r = timeout_ms ? fi_eq_sread(n->eq, &event, &cm, sizeof cm, timeout_ms, 0)
                         : fi_eq_read(n->eq, &event, &cm, sizeof cm, 0);
  if (r > 0) {
    event_t ev = { 0, 0, 0, 0, -1, NULL };
    if (event == FI_CONNREQ) { ev.kind = K_CONNREQ; ev.req = cm.info; }
    else if (event == FI_CONNECTED) ev.kind = K_CONNECTED;
    else if (event == FI_SHUTDOWN) ev.kind = K_SHUTDOWN;
    else { if (cm.info) fi_freeinfo(cm.info); return; }
    emit(n, ev);
  } else if (r == -FI_EAVAIL) {
    struct fi_eq_err_entry ee;
    memset(&ee, 0, sizeof ee);
    if (fi_eq_readerr(n->eq, &ee, 0) > 0) {
      event_t ev = { K_CMERROR, 0, 0, ee.err ? ee.err : FI_ECONNREFUSED, -1, NULL };
      emit(n, ev);
    }
  }
}

static void *progress(void *arg) {
  node_t *n = arg;
  while (!atomic_load(&n->stop)) {
    if (n->pep) { drain_eq(n, 50); continue; }
    /* short: the tcp provider progresses incoming RMA (no completion on this side) only here */
    drain_cq(n, 2);
    drain_eq(n, 0);
  }
  return NULL;
}

static struct fi_info *hints_for(const char *prov) {
  struct fi_info *h = fi_allocinfo();
  if (!h) return NULL;
  h->ep_attr->type = FI_EP_MSG;
  h->caps = FI_MSG | FI_RMA;
  h->mode = FI_CONTEXT | FI_CONTEXT2;
  h->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
  h->domain_attr->threading = FI_THREAD_SAFE;
  if (prov && *prov) h->fabric_attr->prov_name = strdup(prov);
  return h;
}

static int open_queues(node_t *n) {
  struct fi_eq_attr eqa;
  memset(&eqa, 0, sizeof eqa);
  eqa.wait_obj = FI_WAIT_UNSPEC;
  int rc = fi_eq_open(n->fabric, &eqa, &n->eq, NULL);
  if (rc || n->pep) return rc;
  struct fi_cq_attr cqa;
  memset(&cqa, 0, sizeof cqa);
  cqa.format = FI_CQ_FORMAT_DATA;
  cqa.wait_obj = FI_WAIT_UNSPEC;
  cqa.size = 1024;
  return fi_cq_open(n->domain, &cqa, &n->cq, NULL);
}

static void node_free(node_t *n) {
  if (n->thr_started) {
    atomic_store(&n->stop, 1);
    pthread_join(n->thr, NULL);
    n->thr_started = 0;
  }
  if (n->ep) fi_close(&n->ep->fid);
  if (n->pep) fi_close(&n->pep->fid);
  if (n->cq) fi_close(&n->cq->fid);
  if (n->eq) fi_close(&n->eq->fid);
  if (n->domain) fi_close(&n->domain->fid);
  if (n->fabric) fi_close(&n->fabric->fid);
  if (n->info) fi_freeinfo(n->info);
  n->ep = NULL; n->pep = NULL; n->cq = NULL; n->eq = NULL; n->domain = NULL; n->fabric = NULL; n->info = NULL;
}

static void cleanup_hook(void *arg) {
  node_t *n = arg;
  if (n->closed) return;
  n->closed = 1;
  node_free(n);
}

static int make_tsfn(napi_env env, napi_value cb, node_t *n) {
  napi_value name;
  napi_create_string_utf8(env, "smbts-fabric", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, cb, NULL, name, 0, 1, NULL, NULL, n, call_js, &n->tsfn) != napi_ok) return 0;
  /* like a socket, an open endpoint keeps the process alive until close(); at exit the cleanup
     hook stops the progress thread before the environment goes away */
  napi_add_env_cleanup_hook(env, cleanup_hook, n);
  return 1;
}

static node_t *get_node(napi_env env, napi_value v) {
  node_t *n = NULL;
  if (napi_get_value_external(env, v, (void **)&n) != napi_ok || !n || n->closed) {
    napi_throw_type_error(env, NULL, "libfabric: closed or invalid endpoint");
    return NULL;
  }
  return n;
}

static int get_str(napi_env env, napi_value v, char *out, size_t cap) {
  size_t len;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) { out[0] = 0; return t == napi_undefined || t == napi_null; }
  return napi_get_value_string_utf8(env, v, out, cap, &len) == napi_ok;
}

static int start_thread(node_t *n) {
  if (pthread_create(&n->thr, NULL, progress, n) != 0) return 0;
  n->thr_started = 1;
  return 1;
}

static napi_value Listen(napi_env env, napi_callback_info ci) {
  size_t argc = 4;
  napi_value a[4], out;
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  char host[256], port[16], prov[64];
  if (argc < 4 || !get_str(env, a[0], host, sizeof host) || !get_str(env, a[1], port, sizeof port) || !get_str(env, a[2], prov, sizeof prov))
    { napi_throw_type_error(env, NULL, "listen(host, port, provider, cb)"); return NULL; }
  node_t *n = calloc(1, sizeof *n);
  struct fi_info *h = hints_for(prov);
  int rc = fi_getinfo(FI_VERSION(1, 17), host, port, FI_SOURCE, h, &n->info);
  fi_freeinfo(h);
  if (!rc) rc = fi_fabric(n->info->fabric_attr, &n->fabric, NULL);
  if (!rc) rc = fi_passive_ep(n->fabric, n->info, &n->pep, NULL);
  if (!rc) rc = open_queues(n);
  if (!rc) rc = fi_pep_bind(n->pep, &n->eq->fid, 0);
  if (!rc) rc = fi_listen(n->pep);
  if (rc) { node_free(n); free(n); return throw_err(env, "listen", rc); }
  if (!make_tsfn(env, a[3], n) || !start_thread(n)) { node_free(n); free(n); napi_throw_error(env, NULL, "libfabric listen: thread"); return NULL; }
  napi_create_external(env, n, NULL, NULL, &out);
  return out;
}

static napi_value ListenPort(napi_env env, napi_callback_info ci) {
  size_t argc = 1;
  napi_value a[1], out;
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  node_t *n = get_node(env, a[0]);
  if (!n || !n->pep) return NULL;
  struct sockaddr_storage ss;
  size_t len = sizeof ss;
  int rc = fi_getname(&n->pep->fid, &ss, &len);
  if (rc) return throw_err(env, "getname", rc);
  int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  napi_create_int32(env, port, &out);
  return out;
}

/* Opens fabric, domain, queues and the endpoint for `info` (owned by n from here on). */
static int open_endpoint(node_t *n) {
  int rc = fi_fabric(n->info->fabric_attr, &n->fabric, NULL);
  if (!rc) rc = fi_domain(n->fabric, n->info, &n->domain, NULL);
  if (!rc) rc = open_queues(n);
  if (!rc) rc = fi_endpoint(n->domain, n->info, &n->ep, NULL);
  if (!rc) rc = fi_ep_bind(n->ep, &n->eq->fid, 0);
  if (!rc) rc = fi_ep_bind(n->ep, &n->cq->fid, FI_TRANSMIT | FI_RECV);
  if (!rc) rc = fi_enable(n->ep);
  n->next_local_key = 1ull << 32; /* above the 32-bit tokens handed out by JavaScript */
  return rc;
}

static napi_value finish_endpoint(napi_env env, node_t *n, napi_value cb, int rc, const char *what) {
  napi_value out;
  if (rc) { node_free(n); free(n); return throw_err(env, what, rc); }
  if (!make_tsfn(env, cb, n) || !start_thread(n)) { node_free(n); free(n); napi_throw_error(env, NULL, "libfabric: thread"); return NULL; }
  napi_create_external(env, n, NULL, NULL, &out);
  return out;
}

static napi_value Accept(napi_env env, napi_callback_info ci) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  struct fi_info *req = NULL;
  if (argc < 2 || napi_get_value_external(env, a[0], (void **)&req) != napi_ok || !req)
    { napi_throw_type_error(env, NULL, "accept(request, cb)"); return NULL; }
  node_t *n = calloc(1, sizeof *n);
  n->info = req; /* owned by the endpoint now */
  n->passive = 1;
  return finish_endpoint(env, n, a[1], open_endpoint(n), "accept");
}

static napi_value Reject(napi_env env, napi_callback_info ci) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  node_t *l = get_node(env, a[0]);
  struct fi_info *req = NULL;
  if (!l || napi_get_value_external(env, a[1], (void **)&req) != napi_ok || !req) return NULL;
  fi_reject(l->pep, req->handle, NULL, 0);
  fi_freeinfo(req);
  return NULL;
}

static napi_value Connect(napi_env env, napi_callback_info ci) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  char host[256], port[16], prov[64];
  if (argc < 4 || !get_str(env, a[0], host, sizeof host) || !get_str(env, a[1], port, sizeof port) || !get_str(env, a[2], prov, sizeof prov))
    { napi_throw_type_error(env, NULL, "connect(host, port, provider, cb)"); return NULL; }
  node_t *n = calloc(1, sizeof *n);
  struct fi_info *h = hints_for(prov);
  int rc = fi_getinfo(FI_VERSION(1, 17), host, port, 0, h, &n->info);
  fi_freeinfo(h);
  if (!rc) rc = open_endpoint(n);
  return finish_endpoint(env, n, a[3], rc, "connect");
}

static napi_value Start(napi_env env, napi_callback_info ci) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  node_t *n = get_node(env, a[0]);
  if (!n) return NULL;
  int rc = n->passive ? fi_accept(n->ep, NULL, 0) : fi_connect(n->ep, n->info->dest_addr, NULL, 0);
  if (rc) return throw_err(env, n->passive ? "accept" : "connect", rc);
  return NULL;
}

static napi_value Info(napi_env env, napi_callback_info ci) {
  size_t argc = 1;
  napi_value a[1], out, v;
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  node_t *n = get_node(env, a[0]);
  if (!n) return NULL;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, n->info->fabric_attr->prov_name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "provider", v);
  napi_create_uint32(env, (uint32_t)n->info->domain_attr->mr_mode, &v);
  napi_set_named_property(env, out, "mrMode", v);
  napi_create_double(env, (double)n->info->ep_attr->max_msg_size, &v);
  napi_set_named_property(env, out, "maxMsg", v);
  return out;
}

static int get_buf(napi_env env, napi_value v, void **p, size_t *len) {
  bool is = false;
  napi_is_buffer(env, v, &is);
  if (!is) return 0;
  return napi_get_buffer_info(env, v, p, len) == napi_ok;
}

static int get_u64(napi_env env, napi_value v, uint64_t *out) {
  bool lossless;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) return napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0) return 0;
  *out = (uint64_t)d;
  return 1;
}

static napi_value RegMr(napi_env env, napi_callback_info ci) {
  size_t argc = 4;
  napi_value a[4], out, v;
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  node_t *n = get_node(env, a[0]);
  if (!n) return NULL;
  void *p; size_t len; uint32_t access; uint64_t key;
  if (argc < 4 || !get_buf(env, a[1], &p, &len) || napi_get_value_uint32(env, a[2], &access) != napi_ok || !get_u64(env, a[3], &key))
    { napi_throw_type_error(env, NULL, "regMr(ep, buffer, access, key)"); return NULL; }
  uint64_t acc = 0;
  if (access & 1) acc |= FI_REMOTE_READ;
  if (access & 2) acc |= FI_REMOTE_WRITE;
  if (n->info->domain_attr->mr_mode & FI_MR_LOCAL) acc |= FI_READ | FI_WRITE | FI_SEND | FI_RECV;
  mr_t *m = calloc(1, sizeof *m);
  int rc = fi_mr_reg(n->domain, p, len, acc, 0, key, 0, &m->mr, NULL);
  if (rc) { free(m); return throw_err(env, "mr_reg", rc); }
  napi_create_reference(env, a[1], 1, &m->buf);
  uint64_t k = fi_mr_key(m->mr);
  uint64_t base = (n->info->domain_attr->mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)p : 0;
  napi_create_array_with_length(env, 3, &out);
  napi_create_external(env, m, NULL, NULL, &v); napi_set_element(env, out, 0, v);
  napi_create_bigint_uint64(env, k, &v); napi_set_element(env, out, 1, v);
  napi_create_bigint_uint64(env, base, &v); napi_set_element(env, out, 2, v);
  return out;
}

static napi_value DeregMr(napi_env env, napi_callback_info ci) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  mr_t *m = NULL;
  if (napi_get_value_external(env, a[0], (void **)&m) != napi_ok || !m || !m->mr) return NULL;
  fi_close(&m->mr->fid);
  m->mr = NULL;
  napi_delete_reference(env, m->buf);
  /* m itself stays (a second deregMr is a no-op); it is small */
  return NULL;
}

/* Common part of the data calls: endpoint, buffer, op with a local registration when needed. */
static op_t *prepare(napi_env env, napi_value *a, int kind, uint64_t id, node_t **pn, void **p, size_t *len, void **desc) {
  node_t *n = get_node(env, a[0]);
  if (!n) return NULL;
  if (!get_buf(env, a[1], p, len)) { napi_throw_type_error(env, NULL, "libfabric: buffer expected"); return NULL; }
  op_t *op = calloc(1, sizeof *op);
  op->kind = kind;
  op->id = id;
  *desc = NULL;
  if (n->info->domain_attr->mr_mode & FI_MR_LOCAL) {
    int rc = fi_mr_reg(n->domain, *p, *len ? *len : 1, FI_SEND | FI_RECV | FI_READ | FI_WRITE, 0, n->next_local_key++, 0, &op->lmr, NULL);
    if (rc) { free(op); throw_err(env, "mr_reg(local)", rc); return NULL; }
    *desc = fi_mr_desc(op->lmr);
  }
  *pn = n;
  return op;
}

static napi_value post_result(napi_env env, op_t *op, ssize_t rc, const char *what) {
  if (rc) {
    if (op->lmr) fi_close(&op->lmr->fid);
    free(op);
    return throw_err(env, what, (int)rc);
  }
  return NULL;
}

static napi_value Recv(napi_env env, napi_callback_info ci) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  uint64_t id; node_t *n; void *p, *desc; size_t len;
  if (argc < 3 || !get_u64(env, a[2], &id)) { napi_throw_type_error(env, NULL, "recv(ep, buffer, id)"); return NULL; }
  op_t *op = prepare(env, a, K_RECV, id, &n, &p, &len, &desc);
  if (!op) return NULL;
  return post_result(env, op, fi_recv(n->ep, p, len, desc, 0, op), "recv");
}

static napi_value Send(napi_env env, napi_callback_info ci) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  uint64_t id; int64_t imm; node_t *n; void *p, *desc; size_t len;
  if (argc < 4 || !get_u64(env, a[2], &id) || napi_get_value_int64(env, a[3], &imm) != napi_ok) { napi_throw_type_error(env, NULL, "send(ep, buffer, id, imm)"); return NULL; }
  op_t *op = prepare(env, a, K_SEND, id, &n, &p, &len, &desc);
  if (!op) return NULL;
  ssize_t rc = imm >= 0 ? fi_senddata(n->ep, p, len, desc, (uint64_t)imm, 0, op) : fi_send(n->ep, p, len, desc, 0, op);
  return post_result(env, op, rc, "send");
}

static napi_value rma(napi_env env, napi_callback_info ci, int kind) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  uint64_t addr, key, id; node_t *n; void *p, *desc; size_t len;
  if (argc < 5 || !get_u64(env, a[2], &addr) || !get_u64(env, a[3], &key) || !get_u64(env, a[4], &id))
    { napi_throw_type_error(env, NULL, "read/write(ep, buffer, addr, key, id)"); return NULL; }
  op_t *op = prepare(env, a, kind, id, &n, &p, &len, &desc);
  if (!op) return NULL;
  ssize_t rc = kind == K_READ ? fi_read(n->ep, p, len, desc, 0, addr, key, op) : fi_write(n->ep, p, len, desc, 0, addr, key, op);
  return post_result(env, op, rc, kind == K_READ ? "read" : "write");
}

static napi_value Read(napi_env env, napi_callback_info ci) { return rma(env, ci, K_READ); }
static napi_value Write(napi_env env, napi_callback_info ci) { return rma(env, ci, K_WRITE); }

static napi_value Close(napi_env env, napi_callback_info ci) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, ci, &argc, a, NULL, NULL);
  node_t *n = NULL;
  if (napi_get_value_external(env, a[0], (void **)&n) != napi_ok || !n || n->closed) return NULL;
  if (n->ep) fi_shutdown(n->ep, 0);
  n->closed = 1;
  node_free(n);
  napi_remove_env_cleanup_hook(env, cleanup_hook, n);
  napi_release_threadsafe_function(n->tsfn, napi_tsfn_release);
  /* n stays allocated: JavaScript may still hold the external; it is a few hundred bytes */
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "listen", NULL, Listen, NULL, NULL, NULL, napi_enumerable, NULL },
    { "listenPort", NULL, ListenPort, NULL, NULL, NULL, napi_enumerable, NULL },
    { "accept", NULL, Accept, NULL, NULL, NULL, napi_enumerable, NULL },
    { "reject", NULL, Reject, NULL, NULL, NULL, napi_enumerable, NULL },
    { "connect", NULL, Connect, NULL, NULL, NULL, napi_enumerable, NULL },
    { "start", NULL, Start, NULL, NULL, NULL, napi_enumerable, NULL },
    { "info", NULL, Info, NULL, NULL, NULL, napi_enumerable, NULL },
    { "regMr", NULL, RegMr, NULL, NULL, NULL, napi_enumerable, NULL },
    { "deregMr", NULL, DeregMr, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recv", NULL, Recv, NULL, NULL, NULL, napi_enumerable, NULL },
    { "send", NULL, Send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "read", NULL, Read, NULL, NULL, NULL, napi_enumerable, NULL },
    { "write", NULL, Write, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, Close, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
