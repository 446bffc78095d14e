/* A host application using Lace's C API: plan causal attention, load it on
 * the GPU (or the CPU emulator), run it, and show that errors come back as
 * messages. */
#include <lace/lace.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                         \
  do {                                                                      \
    if ((call) != LACE_OK) {                                                \
      fprintf(stderr, "%s failed: %s\n", #call, lace_last_error());         \
      return 1;                                                             \
    }                                                                       \
  } while (0)

static lace_tensor tensor(void *data, int64_t b, int64_t s, int64_t h,
                          int64_t d) {
  lace_tensor t = {data, {b, s, h, d}, {s * h * d, h * d, d, 1}};
  return t;
}

int main(void) {
  lace_compiler *compiler = NULL;
  lace_plan *plan = NULL;
  lace_runtime *runtime = NULL;
  lace_kernel *kernel = NULL;

  /* A bad parameter is reported with its diagnostic. */
  CHECK(lace_compiler_open(LACE_PATTERNS_DIR "/causal.lace", &compiler));
  lace_shape shape = {1, 2, 0, 100, 0};
  CHECK(lace_compiler_set_param(compiler, "no_such_param", "1"));
  if (lace_compiler_plan(compiler, &shape, LACE_DTYPE_F16, 64, &plan) !=
      LACE_ERROR) {
    fprintf(stderr, "expected an error for an unknown parameter\n");
    return 1;
  }
  printf("expected error: %.60s...\n", lace_last_error());
  lace_compiler_free(compiler);

  CHECK(lace_compiler_open(LACE_PATTERNS_DIR "/causal.lace", &compiler));
  CHECK(lace_compiler_plan(compiler, &shape, LACE_DTYPE_F16, 64, &plan));
  CHECK(lace_runtime_create(LACE_BACKEND_AUTO, 0, &runtime));
  CHECK(lace_runtime_load(runtime, plan, &kernel));
  if (strcmp(lace_runtime_backend(runtime), "emulator") != 0) {
    printf("a GPU: this example only feeds host memory to the emulator\n");
    return 0;
  }

  /* 16-byte aligned f16 buffers: 1.0 everywhere (0x3c00). */
  size_t n = 100 * 2 * 64;
  uint16_t *q = aligned_alloc(16, n * 2), *k = aligned_alloc(16, n * 2),
           *v = aligned_alloc(16, n * 2), *o = aligned_alloc(16, n * 2);
  float *lse = malloc(2 * 100 * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    q[i] = k[i] = v[i] = 0x3c00;
  lace_tensor tq = tensor(q, 1, 100, 2, 64), tk = tensor(k, 1, 100, 2, 64),
              tv = tensor(v, 1, 100, 2, 64), to = tensor(o, 1, 100, 2, 64);
  CHECK(lace_kernel_forward(kernel, &tq, &tk, &tv, &to, lse, NULL, 0.0f));

  /* Every score is 64 / 8 = 8: row i averages i + 1 ones (O = 1) and its
   * LSE is 8 + ln(i + 1). */
  for (int i = 0; i < 100; ++i) {
    float want = 8.0f + logf((float)(i + 1));
    if (o[i * 2 * 64] != 0x3c00 || fabsf(lse[i] - want) > 1e-3f) {
      fprintf(stderr, "row %d: o %#x, lse %f (want %f)\n", i,
              o[i * 2 * 64], lse[i], want);
      return 1;
    }
  }
  /* A wrong shape is an error with a message, not a crash. */
  lace_tensor wrong = tensor(q, 1, 99, 2, 64);
  if (lace_kernel_forward(kernel, &wrong, &tk, &tv, &to, lse, NULL, 0.0f) !=
      LACE_ERROR)
    return 1;
  printf("expected error: %s\n", lace_last_error());
  printf("causal attention through the C API (%s): ok\n",
         lace_runtime_backend(runtime));

  /* The backward with dO = 1: every score is equal, so dS = P (dP - D) = 0
   * (dQ = dK = 0) and dV of key j sums P = 1 / (i + 1) over rows i >= j. */
  lace_kernel *training = NULL;
  CHECK(lace_runtime_load_with_backward(runtime, plan, &training));
  uint16_t *dout = aligned_alloc(16, n * 2), *dq = aligned_alloc(16, n * 2),
           *dk = aligned_alloc(16, n * 2), *dv = aligned_alloc(16, n * 2);
  float *workspace =
      malloc((size_t)lace_kernel_backward_workspace(training) * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    dout[i] = 0x3c00;
  lace_tensor tdo = tensor(dout, 1, 100, 2, 64), tdq = tensor(dq, 1, 100, 2, 64),
              tdk = tensor(dk, 1, 100, 2, 64), tdv = tensor(dv, 1, 100, 2, 64);
  CHECK(lace_kernel_backward(training, &tq, &tk, &tv, &to, &tdo, lse, &tdq,
                             &tdk, &tdv, workspace, NULL, NULL, NULL, 0.0f));
  for (int j = 0; j < 100; ++j) {
    double want = 0;
    for (int i = j; i < 100; ++i)
      want += 1.0 / (i + 1);
    /* f16: 0x3c00 is 1.0; read the first element of key j, head 0. */
    uint16_t bits = dv[j * 2 * 64];
    int exponent = (bits >> 10) & 0x1f;
    double got = (1.0 + (bits & 0x3ff) / 1024.0) * pow(2.0, exponent - 15);
    if ((dq[j * 2 * 64] & 0x7fff) != 0 || (dk[j * 2 * 64] & 0x7fff) != 0 ||
        fabs(got - want) > 2e-3 * want) {
      fprintf(stderr, "key %d: dq %#x, dk %#x, dv %f (want %f)\n", j,
              dq[j * 2 * 64], dk[j * 2 * 64], got, want);
      return 1;
    }
  }
  printf("causal attention backward through the C API: ok\n");
  lace_kernel_free(training);
  free(dout); free(dq); free(dk); free(dv); free(workspace);

  lace_kernel_free(kernel);
  lace_runtime_free(runtime);
  lace_plan_free(plan);
  lace_compiler_free(compiler);
  free(q); free(k); free(v); free(o); free(lse);
  return 0;
}
