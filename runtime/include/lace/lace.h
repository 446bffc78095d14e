/*===- lace.h - The C API of Lace -------------------------------------------===
 *
 * Opaque handles and status codes, for FFI from other languages. Every
 * function that can fail returns LACE_OK or LACE_ERROR; after LACE_ERROR,
 * lace_last_error() gives the message (with details such as rendered
 * diagnostics on the following lines) for the calling thread, valid until
 * its next failing call.
 *
 *   lace_compiler *c;  lace_plan *p;  lace_runtime *r;  lace_kernel *k;
 *   lace_compiler_open("patterns/causal.lace", &c);
 *   lace_shape shape = {1, 8, 0, 4096, 0};
 *   lace_compiler_plan(c, &shape, LACE_DTYPE_BF16, 128, &p);
 *   lace_runtime_create(LACE_BACKEND_AUTO, 0, &r);
 *   lace_runtime_load(r, p, &k);
 *   lace_kernel_forward(k, &q, &kt, &v, &o, lse, stream, 0.0f);
 *
 * Training: lace_runtime_load_with_backward, then lace_kernel_backward.
 *
 * The compiler functions (lace_compiler_*) live in liblace (Lace::lace);
 * a runtime-only library (Lace::runtime) has the rest and loads plans from
 * kernel bundles.
 *
 *===----------------------------------------------------------------------===*/
#ifndef LACE_LACE_H
#define LACE_LACE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lace_status { LACE_OK = 0, LACE_ERROR = 1 } lace_status;
typedef enum lace_dtype { LACE_DTYPE_F16 = 0, LACE_DTYPE_BF16 = 1 } lace_dtype;
typedef enum lace_backend {
  LACE_BACKEND_AUTO = 0, /* $LACE_DEVICE, else CUDA if present, else emulator */
  LACE_BACKEND_CUDA = 1,
  LACE_BACKEND_EMULATOR = 2
} lace_backend;

typedef struct lace_compiler lace_compiler;
typedef struct lace_plan lace_plan;
typedef struct lace_runtime lace_runtime;
typedef struct lace_kernel lace_kernel;
typedef struct lace_documents lace_documents;

/* [batch, heads, kv_heads (0: heads), seq_q, seq_k (0: seq_q)] */
typedef struct lace_shape {
  int64_t batch, heads, kv_heads, seq_q, seq_k;
} lace_shape;

/* A [batch, seq, heads, head_dim] tensor, strides in elements. */
typedef struct lace_tensor {
  const void *data;
  int64_t shape[4];
  int64_t strides[4];
} lace_tensor;

/* The message of the calling thread's last failure ("" if none). */
const char *lace_last_error(void);

/* ---- Compiler (liblace) ---------------------------------------------- */
lace_status lace_compiler_open(const char *path, lace_compiler **out);
lace_status lace_compiler_open_source(const char *name, const char *text,
                                      lace_compiler **out);
/* Chooses the pattern to plan (default: the file's first). */
lace_status lace_compiler_select(lace_compiler *compiler, const char *pattern);
/* Sets a parameter of the selected pattern (checked by lace_compiler_plan). */
lace_status lace_compiler_set_param(lace_compiler *compiler, const char *name,
                                    const char *value);
lace_status lace_compiler_plan(const lace_compiler *compiler,
                               const lace_shape *shape, lace_dtype dtype,
                               int head_dim, lace_plan **out);
void lace_compiler_free(lace_compiler *compiler);

/* ---- Plans ------------------------------------------------------------- */
/* Fraction of dense attention's FLOPs the plan computes, in (0, 1]. */
double lace_plan_density(const lace_plan *plan);
void lace_plan_free(lace_plan *plan);

/* ---- Runtime ----------------------------------------------------------- */
lace_status lace_runtime_create(lace_backend backend, int device,
                                lace_runtime **out);
/* "cuda" or "emulator". */
const char *lace_runtime_backend(const lace_runtime *runtime);
/* Compiles (or finds in the kernel cache) the plan's kernel and uploads its
 * layout. The plan may be freed afterwards. */
lace_status lace_runtime_load(lace_runtime *runtime, const lace_plan *plan,
                              lace_kernel **out);
/* The same, also compiling the backward kernels (lace_kernel_backward). */
lace_status lace_runtime_load_with_backward(lace_runtime *runtime,
                                            const lace_plan *plan,
                                            lace_kernel **out);
void lace_runtime_free(lace_runtime *runtime);

/* O = attention(q, k, v) under the pattern; lse (may be NULL) receives the
 * contiguous [batch, heads, seq_q] log-sum-exp. scale 0: 1/sqrt(head_dim).
 * stream: a CUstream or NULL (ignored by the emulator). */
lace_status lace_kernel_forward(const lace_kernel *kernel, const lace_tensor *q,
                                const lace_tensor *k, const lace_tensor *v,
                                const lace_tensor *o, float *lse, void *stream,
                                float scale);
/* The same for patterns with `segment` (packed documents): int32 segment
 * ids per query token [seq_q] and per key token [seq_k] (k NULL: the q
 * ids), shared by every batch row; device memory for CUDA. */
lace_status
lace_kernel_forward_packed(const lace_kernel *kernel, const lace_tensor *q,
                           const lace_tensor *k, const lace_tensor *v,
                           const lace_tensor *o, float *lse,
                           const int32_t *q_segments, const int32_t *k_segments,
                           void *stream, float scale);
/* The exact layout of packed documents for a pattern with `segment`, built
 * on the host from int32 ids per query token (seq_q of them) and per key
 * token (k_ids NULL: the q ids); host memory. Build it once per packed batch
 * and pass it to every forward of that batch: only the tiles the ids make
 * live are computed. */
lace_status lace_kernel_documents(const lace_kernel *kernel,
                                  const int32_t *q_ids, int64_t q_count,
                                  const int32_t *k_ids, int64_t k_count,
                                  lace_documents **out);
/* The same from FlashAttention-style offsets: sequence s holds tokens
 * [cu[s], cu[s + 1]); count = sequences + 1 (cu_k NULL: as the queries). */
lace_status lace_kernel_varlen(const lace_kernel *kernel, const int64_t *cu_q,
                               const int64_t *cu_k, int64_t count,
                               lace_documents **out);
/* Host milliseconds the layout took, and its tiles over every head and
 * batch entry against the plan's all-partial superset. */
double lace_documents_build_ms(const lace_documents *documents);
int64_t lace_documents_computed_tiles(const lace_documents *documents);
int64_t lace_documents_superset_tiles(const lace_documents *documents);
/* lace_kernel_forward with that layout (made by this kernel). */
lace_status lace_kernel_forward_documents(
    const lace_kernel *kernel, const lace_tensor *q, const lace_tensor *k,
    const lace_tensor *v, const lace_tensor *o, float *lse,
    const lace_documents *documents, void *stream, float scale);
void lace_documents_free(lace_documents *documents);
/* Floats of the workspace lace_kernel_backward needs (batch * heads *
 * seq_q). */
int64_t lace_kernel_backward_workspace(const lace_kernel *kernel);
/* dq, dk, dv of the forward above for the upstream gradient dout (o's
 * shape): q, k, v, o and lse as the forward took and wrote them; dq, dk,
 * dv take q's, k's and v's shapes (dk, dv summed over a GQA group);
 * `workspace` holds lace_kernel_backward_workspace() floats. Deterministic:
 * no floating-point atomics, the same bits on every run. Segment ids as
 * for lace_kernel_forward_packed (NULL for patterns without `segment`).
 * Needs a kernel from lace_runtime_load_with_backward. */
lace_status lace_kernel_backward(
    const lace_kernel *kernel, const lace_tensor *q, const lace_tensor *k,
    const lace_tensor *v, const lace_tensor *o, const lace_tensor *dout,
    const float *lse, const lace_tensor *dq, const lace_tensor *dk,
    const lace_tensor *dv, float *workspace, const int32_t *q_segments,
    const int32_t *k_segments, void *stream, float scale);
/* lace_kernel_backward with the layout of the documents forward. */
lace_status lace_kernel_backward_documents(
    const lace_kernel *kernel, const lace_tensor *q, const lace_tensor *k,
    const lace_tensor *v, const lace_tensor *o, const lace_tensor *dout,
    const float *lse, const lace_tensor *dq, const lace_tensor *dk,
    const lace_tensor *dv, float *workspace, const lace_documents *documents,
    void *stream, float scale);
void lace_kernel_free(lace_kernel *kernel);

#ifdef __cplusplus
}
#endif

#endif /* LACE_LACE_H */
