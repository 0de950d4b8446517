/*
 * mlp_c.c — a small MLP forward pass through the chorus C API:
 *   probabilities = softmax(gelu(x @ w1 + b1) @ w2 + b2)
 * on a device chosen at run time (argv[1], else CHORUS_DEVICE, else "best"),
 * then the same on reference:0, and the largest difference between the two.
 *
 *   chorus_example_mlp_c opencl:0
 */
#include <chorus/chorus.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { BATCH = 8, IN = 64, HIDDEN = 128, OUT = 10 };

#define CHECK(call)                                                                     \
  do {                                                                                  \
    chorus_status s_ = (call);                                                          \
    if (s_ != CHORUS_OK) {                                                              \
      fprintf(stderr, "%s failed: %s: %s\n", #call, chorus_status_name(s_),             \
              chorus_last_error_message());                                             \
      exit(1);                                                                          \
    }                                                                                   \
  } while (0)

/* Deterministic inputs in [-scale, scale). */
static void fill_random(float* v, int n, float scale, unsigned seed) {
  for (int i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = scale * ((float)(seed >> 8) / 8388608.0f - 1.0f);
  }
}

static chorus_buffer upload(chorus_device dev, chorus_queue q, const float* data, int n) {
  chorus_buffer b;
  CHECK(chorus_buffer_create(dev, (uint64_t)n * sizeof(float), &b));
  CHECK(chorus_buffer_write(q, b, 0, data, (uint64_t)n * sizeof(float)));
  return b;
}

static chorus_tensor matrix(chorus_buffer b, int64_t rows, int64_t cols) {
  chorus_tensor t;
  int64_t shape[2] = {rows, cols};
  CHECK(chorus_tensor_contiguous(b, CHORUS_DTYPE_F32, 2, shape, &t));
  return t;
}

static chorus_tensor vector(chorus_buffer b, int64_t n) {
  chorus_tensor t;
  CHECK(chorus_tensor_contiguous(b, CHORUS_DTYPE_F32, 1, &n, &t));
  return t;
}

/* Runs the MLP on `name`, writing BATCH x OUT probabilities to probs. */
static void run_mlp(chorus_context ctx, const char* name, const float* x, const float* w1,
                    const float* b1, const float* w2, const float* b2, float* probs) {
  chorus_device dev;
  chorus_queue q;
  chorus_device_info info;
  CHECK(chorus_device_open(ctx, name, &dev));
  CHECK(chorus_device_info_get(dev, &info));
  CHECK(chorus_queue_create(dev, NULL, &q));

  chorus_buffer bx = upload(dev, q, x, BATCH * IN), bw1 = upload(dev, q, w1, IN * HIDDEN),
                bb1 = upload(dev, q, b1, HIDDEN), bw2 = upload(dev, q, w2, HIDDEN * OUT),
                bb2 = upload(dev, q, b2, OUT);
  chorus_buffer bh, blogits, bprobs;
  CHECK(chorus_buffer_create(dev, BATCH * HIDDEN * sizeof(float), &bh));
  CHECK(chorus_buffer_create(dev, BATCH * OUT * sizeof(float), &blogits));
  CHECK(chorus_buffer_create(dev, BATCH * OUT * sizeof(float), &bprobs));

  chorus_tensor tx = matrix(bx, BATCH, IN), tw1 = matrix(bw1, IN, HIDDEN), tb1 = vector(bb1, HIDDEN);
  chorus_tensor tw2 = matrix(bw2, HIDDEN, OUT), tb2 = vector(bb2, OUT);
  chorus_tensor th = matrix(bh, BATCH, HIDDEN), tlogits = matrix(blogits, BATCH, OUT);
  chorus_tensor tprobs = matrix(bprobs, BATCH, OUT);

  /* Layer 1: bias and gelu fused into the GEMM epilogue. */
  chorus_gemm_desc layer1 = {sizeof(chorus_gemm_desc), 0, 0, 1.0, 0.0, CHORUS_ACTIVATION_GELU_ERF};
  CHECK(chorus_gemm(q, &layer1, &tx, &tw1, &tb1, &th));
  chorus_gemm_desc layer2 = {sizeof(chorus_gemm_desc), 0, 0, 1.0, 0.0, CHORUS_ACTIVATION_NONE};
  CHECK(chorus_gemm(q, &layer2, &th, &tw2, &tb2, &tlogits));
  CHECK(chorus_softmax(q, &tlogits, -1, 0, &tprobs));
  CHECK(chorus_buffer_read(q, bprobs, 0, probs, BATCH * OUT * sizeof(float)));
  printf("ran on %s (%s)\n", info.name, info.description);

  chorus_buffer all[] = {bx, bw1, bb1, bw2, bb2, bh, blogits, bprobs};
  for (unsigned i = 0; i < sizeof all / sizeof all[0]; ++i) chorus_buffer_destroy(all[i]);
  chorus_queue_destroy(q);
  chorus_device_close(dev);
}

int main(int argc, char** argv) {
  const char* device = argc > 1 ? argv[1] : NULL; /* NULL: CHORUS_DEVICE or best */
  static float x[BATCH * IN], w1[IN * HIDDEN], b1[HIDDEN], w2[HIDDEN * OUT], b2[OUT];
  static float probs[BATCH * OUT], expected[BATCH * OUT];
  fill_random(x, BATCH * IN, 1.0f, 1);
  fill_random(w1, IN * HIDDEN, 0.125f, 2);
  fill_random(b1, HIDDEN, 0.1f, 3);
  fill_random(w2, HIDDEN * OUT, 0.125f, 4);
  fill_random(b2, OUT, 0.1f, 5);

  chorus_context ctx;
  CHECK(chorus_context_create(NULL, &ctx));
  run_mlp(ctx, device, x, w1, b1, w2, b2, probs);
  run_mlp(ctx, "reference:0", x, w1, b1, w2, b2, expected);
  chorus_context_destroy(ctx);

  double worst = 0.0;
  for (int i = 0; i < BATCH * OUT; ++i) {
    const double d = fabs((double)probs[i] - (double)expected[i]);
    if (!(d <= worst)) worst = d; /* NaN counts as worst */
  }
  printf("row 0 probabilities:");
  for (int j = 0; j < OUT; ++j) printf(" %.4f", probs[j]);
  printf("\nlargest difference from reference:0: %.3g\n", worst);
  /* f32 through two GEMMs of length <= 128: far below 1e-5 when correct. */
  if (!(worst <= 1e-5)) {
    fprintf(stderr, "MISMATCH against the reference\n");
    return 1;
  }
  return 0;
}
